"""License keys: issued with purchases, activated on devices by the customer's software.

A subscription's key follows its subscription: it stays ACTIVE while the subscription is ACTIVE
or ON_HOLD (a failed renewal is a grace period in which the customer can fix the card), and
counts as EXPIRED once the subscription is CANCELLED, EXPIRED or FAILED. A merchant can disable
any key, change its activation limit and its expiry."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

import mailers
from models import (
    Business,
    Customer,
    LicenseKey,
    LicenseKeyInstance,
    LicenseKeyStatus,
    Mode,
    Product,
    Subscription,
    SubscriptionStatus,
)
from models.clock import now
from models.ids import well_formed
from services.billing.columns import shown
from services.billing.related_rows import LICENSE_KEYS, JoinedPageQuery, Reader
from services.customer_mail import email_customer
from services.errors import NotFound, ServiceError
from services.events import record_event
from services.outbox import notify_worker
from services.pagination import OrmPageQuery, Page, keyset_page
from services.scope import Scope
from services.sql import Row
from services.validation import clean_name

if TYPE_CHECKING:
    from services.settings import Settings

_KEY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to copy by hand
ENDED = (SubscriptionStatus.CANCELLED, SubscriptionStatus.EXPIRED, SubscriptionStatus.FAILED)


def new_license_key(mode: Mode) -> str:
    """Five groups of five: 125 random bits. Test keys say so, so they are never mistaken."""
    groups = ["".join(secrets.choice(_KEY_ALPHABET) for _ in range(5)) for _ in range(5)]
    return ("TEST-" if mode == Mode.TEST else "") + "-".join(groups)


def status_of(
    disabled: bool,
    expires_at: datetime | None,
    subscription_status: SubscriptionStatus | None,
    paid_until: datetime | None = None,
) -> LicenseKeyStatus:
    """`paid_until`: the subscription's next billing date. A PAUSED subscription's keys stay
    ACTIVE until then and are DISABLED (suspended) from then until it resumes."""
    if disabled:
        return LicenseKeyStatus.DISABLED
    if subscription_status == SubscriptionStatus.PAUSED and (
        paid_until is None or paid_until <= now()
    ):
        return LicenseKeyStatus.DISABLED
    if expires_at is not None and expires_at <= now():
        return LicenseKeyStatus.EXPIRED
    if subscription_status in ENDED:
        return LicenseKeyStatus.EXPIRED
    return LicenseKeyStatus.ACTIVE


async def subscription_statuses(keys: list[LicenseKey]) -> dict[str, SubscriptionStatus]:
    ids = {k.subscription_id for k in keys if k.subscription_id}
    if not ids:
        return {}
    rows = await Subscription.filter(id__in=ids).values("id", "status")
    return {row["id"]: SubscriptionStatus(row["status"]) for row in rows}


async def issue_license_key(
    product: Product,
    *,
    customer_id: str,
    subscription_id: str | None = None,
    payment_id: str | None = None,
) -> LicenseKey | None:
    """Inside the transaction that records the purchase. None if the product has no keys."""
    if not product.license_key_enabled:
        return None
    expires_at = None
    if product.license_key_duration_days:
        expires_at = now() + timedelta(days=product.license_key_duration_days)
    key = await LicenseKey.create(
        business_id=product.business_id,
        mode=product.mode,
        customer_id=customer_id,
        product=product,
        subscription_id=subscription_id,
        payment_id=payment_id,
        key=new_license_key(product.mode),
        activations_limit=product.license_key_activations_limit,
        expires_at=expires_at,
    )
    await record_event(
        key.business_id,
        key.mode,
        "license_key.created",
        {
            "id": key.id,
            "key": key.key,
            "customer_id": customer_id,
            "product_id": product.id,
            "subscription_id": subscription_id,
            "payment_id": payment_id,
            "activations_limit": key.activations_limit,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return key


# The merchant and the customer, within their scope


async def rotate_license_key(settings: Settings, scope: Scope, key_id: str) -> LicenseKey:
    """A new key value for the same license: the old value stops validating at once, the
    activated devices (instances) stay with the license and so with the new value. The
    customer is emailed the new key; the webhook event `license_key.rotated` carries it.
    Status, limit and expiry stay as they are. Two rotations at the same moment: the second
    one's conditional update finds the old value gone and it answers INVALID_STATE."""
    async with in_transaction():
        key = await get_license_key(scope, key_id)
        old_value = key.key
        new_value = new_license_key(key.mode)
        won = await LicenseKey.filter(id=key.id, key=old_value).update(key=new_value)
        if won != 1:
            raise ServiceError(
                "The key was changed at the same moment; try again.",
                code="INVALID_STATE",
                field=["licenseKeyId"],
                retryable=True,
            )
        await key.refresh_from_db()
        customer = await Customer.get(id=key.customer_id)
        business = await Business.get(id=key.business_id)
        product = await Product.get(id=key.product_id)
        await record_event(
            key.business_id,
            key.mode,
            "license_key.rotated",
            {
                "id": key.id,
                "key": key.key,
                "customer_id": key.customer_id,
                "product_id": key.product_id,
                "subscription_id": key.subscription_id,
                "instances_count": key.instances_count,
            },
        )
        await email_customer(
            settings,
            customer,
            business,
            mailers.license_key_rotated,
            topic="license_key_rotated",
            product_name=product.name,
            license_key=key.key,
        )
    notify_worker()
    return key


async def get_license_key(scope: Scope, key_id: str) -> LicenseKey:
    key = (
        await LicenseKey.get_or_none(id=key_id, **scope.filters())
        if well_formed(key_id, "lic")
        else None
    )
    if key is None:
        raise NotFound("license key", field=["licenseKeyId"])
    return key


async def list_license_keys(
    scope: Scope,
    first: int | None,
    after: str | None,
    *,
    customer_id: str | None = None,
    product_id: str | None = None,
    status: LicenseKeyStatus | None = None,
    reader: Reader | None = None,
) -> Page[Row]:
    """Newest first. A customer's keys (nothing else asked) are read by the statement the
    billing lists use, so that many customers' keys are one statement with a `reader`."""
    if customer_id is not None and product_id is None and status is None:
        where = scope.customer_filters(customer_id)
        joined = JoinedPageQuery(LICENSE_KEYS, where, (), reader) if where is not None else None
        return await keyset_page(joined, first, after)
    query = LicenseKey.filter(**scope.filters())
    if customer_id is not None:
        query = query.filter(customer_id=customer_id)
    if product_id is not None:
        query = query.filter(product_id=product_id)
    if status is not None:
        query = query.filter(_status_filter(status))
    return await keyset_page(OrmPageQuery(query, LICENSE_KEY_COLUMNS), first, after)


# What a license key's view shows and needs (its status follows its subscription).
LICENSE_KEY_COLUMNS = shown(LicenseKey)


def _status_filter(status: LicenseKeyStatus) -> Q:
    at = now()
    ended = Q(subscription__status__in=list(ENDED))
    expired = Q(expires_at__lte=at) | ended
    suspended = Q(subscription__status=SubscriptionStatus.PAUSED) & (
        Q(subscription__next_billing_date__isnull=True) | Q(subscription__next_billing_date__lte=at)
    )
    if status == LicenseKeyStatus.DISABLED:
        return Q(disabled=True) | (Q(subscription_id__isnull=False) & suspended)
    not_disabled = Q(disabled=False) & (Q(subscription_id__isnull=True) | ~suspended)
    if status == LicenseKeyStatus.EXPIRED:
        return not_disabled & expired
    return not_disabled & ~Q(expires_at__lte=at) & (Q(subscription_id__isnull=True) | ~ended)


async def update_license_key(
    scope: Scope,
    key_id: str,
    *,
    activations_limit: object = None,
    disabled: bool | None = None,
    expires_at: object = None,
    clear: frozenset[str] = frozenset(),
) -> LicenseKey:
    key = await get_license_key(scope, key_id)
    changes: dict[str, object] = {}
    if "activations_limit" in clear:
        changes["activations_limit"] = None
    elif activations_limit is not None:
        if not isinstance(activations_limit, int) or not 1 <= activations_limit <= 100_000:
            raise ServiceError(
                "activationsLimit must be between 1 and 100000.",
                code="INVALID_LICENSE_SETTINGS",
                field=["activationsLimit"],
            )
        changes["activations_limit"] = activations_limit
    if disabled is not None:
        changes["disabled"] = disabled
    if "expires_at" in clear:
        changes["expires_at"] = None
    elif expires_at is not None:
        if not isinstance(expires_at, datetime) or expires_at.tzinfo is None:
            raise ServiceError(
                "expiresAt needs a time zone.", code="BAD_USER_INPUT", field=["expiresAt"]
            )
        changes["expires_at"] = expires_at
    if changes:
        await LicenseKey.filter(id=key.id).update(**changes)
        await key.refresh_from_db()
    return key


async def list_instances(key_ids: list[str]) -> dict[str, list[LicenseKeyInstance]]:
    rows = await LicenseKeyInstance.filter(license_key_id__in=key_ids).order_by("created_at", "id")
    grouped: dict[str, list[LicenseKeyInstance]] = {k: [] for k in key_ids}
    for row in rows:
        grouped[row.license_key_id].append(row)
    return grouped


async def deactivate_instance_of_customer(scope: Scope, instance_id: str) -> LicenseKeyInstance:
    instance = await LicenseKeyInstance.get_or_none(
        id=instance_id,
        license_key__business_id=scope.business_id,
        license_key__mode=scope.mode,
        license_key__customer_id=scope.customer_id,
    )
    if instance is None:
        raise NotFound("license key instance", field=["instanceId"])
    await _remove_instance(instance)
    return instance


# Public: the key is the credential


def _unknown_key() -> ServiceError:
    return ServiceError("No such license key.", code="NOT_FOUND", field=["key"])


async def _key_by_value(value: str) -> LicenseKey:
    value = value.strip().upper()
    if not value or len(value) > 64:
        raise _unknown_key()
    key = await LicenseKey.get_or_none(key=value)
    if key is None:
        raise _unknown_key()
    return key


async def _current_status(key: LicenseKey) -> LicenseKeyStatus:
    subscription = (
        await Subscription.get_or_none(id=key.subscription_id) if key.subscription_id else None
    )
    return status_of(
        key.disabled,
        key.expires_at,
        subscription.status if subscription else None,
        subscription.next_billing_date if subscription else None,
    )


def _inactive() -> ServiceError:
    return ServiceError(
        "This license key is disabled or has expired.", code="LICENSE_KEY_INACTIVE", field=["key"]
    )


@dataclass(frozen=True)
class Validation:
    valid: bool
    key: LicenseKey | None


async def activate_license_key(value: str, name: str) -> LicenseKeyInstance:
    key = await _key_by_value(value)
    if await _current_status(key) != LicenseKeyStatus.ACTIVE:
        raise _inactive()
    name = clean_name(name or "", field=["name"]) or "Unnamed device"
    async with in_transaction():
        # A conditional update counts the activation: of concurrent activations, only as many
        # as the limit allows win, on SQLite and on PostgreSQL alike. It also says again that
        # the key is on and not past its expiry, so a key the merchant disables or expires
        # while this runs is not activated either.
        at = now()
        counted = LicenseKey.filter(id=key.id, disabled=False).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=at)
        )
        if key.activations_limit is not None:
            counted = counted.filter(instances_count__lt=F("activations_limit"))
        won = await counted.update(instances_count=F("instances_count") + 1)
        if won != 1:
            await key.refresh_from_db()
            if status_of(key.disabled, key.expires_at, None) != LicenseKeyStatus.ACTIVE:
                raise _inactive()
            raise ServiceError(
                "This license key has reached its activation limit.",
                code="ACTIVATION_LIMIT_REACHED",
                field=["key"],
            )
        return await LicenseKeyInstance.create(license_key=key, name=name)


async def validate_license_key(value: str, instance_id: str | None) -> Validation:
    try:
        key = await _key_by_value(value)
    except ServiceError:
        return Validation(False, None)
    if await _current_status(key) != LicenseKeyStatus.ACTIVE:
        return Validation(False, key)
    if instance_id is not None:
        exists = await LicenseKeyInstance.filter(id=instance_id, license_key_id=key.id).exists()
        if not exists:
            return Validation(False, key)
    return Validation(True, key)


async def deactivate_license_key(value: str, instance_id: str) -> LicenseKeyInstance:
    key = await _key_by_value(value)
    instance = await LicenseKeyInstance.get_or_none(id=instance_id, license_key_id=key.id)
    if instance is None:
        raise NotFound("license key instance", field=["instanceId"])
    await _remove_instance(instance)
    return instance


async def _remove_instance(instance: LicenseKeyInstance) -> None:
    """Removes the instance and frees its activation, once: of concurrent removals only the
    one whose DELETE removed the row succeeds; the others find it gone (NOT_FOUND)."""
    async with in_transaction():
        removed = await LicenseKeyInstance.filter(id=instance.id).delete()
        if not removed:
            raise NotFound("license key instance", field=["instanceId"])
        await LicenseKey.filter(id=instance.license_key_id, instances_count__gt=0).update(
            instances_count=F("instances_count") - 1
        )
