"""Opaque, prefixed, globally unique identifiers (`cus_…`, `sub_…`)."""

from __future__ import annotations

import re
import secrets

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case

PREFIXES = {
    "business": "bus",
    "api_key": "key",
    "customer": "cus",
    "product": "pdt",
    "subscription": "sub",
    "payment_method": "pm",
    "payment": "pay",
    "invoice": "inv",
    "invoice_line": "inl",
    "license_key": "lic",
    "license_key_instance": "lki",
    "login_link": "lnk",
    "portal_session": "ses",
    "idempotency": "idk",
    "outbox": "msg",
    "webhook_endpoint": "whk",
    "webhook_event": "evt",
    "webhook_attempt": "wha",
    "webhook_delivery": "whd",
    "plan_family": "plf",
    "plan_change": "pch",
}


def new_id(prefix: str) -> str:
    """`prefix_` followed by 24 base32 characters: 120 random bits."""
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(24))


_WELL_FORMED = re.compile(rf"[a-z]{{2,3}}_[{_ALPHABET}]{{24}}")


def well_formed(object_id: str, prefix: str | None = None) -> bool:
    """Whether `object_id` has the form of one of ours (`cus_` and 24 base32 characters),
    optionally with this prefix. Ids of any other form name nothing: they are NOT_FOUND
    without a query (and an id of 40,000 characters never reaches a database)."""
    if len(object_id) > 28 or not _WELL_FORMED.fullmatch(object_id):
        return False
    return prefix is None or object_id.startswith(prefix + "_")


def prefix_of(object_id: str) -> str | None:
    head, sep, tail = object_id.partition("_")
    if not sep or not tail:
        return None
    return head
