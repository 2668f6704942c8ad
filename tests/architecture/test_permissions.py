"""Who may call a root field is declared on the field: a merchant key, a portal session, or
either. The few public ones are listed here; a new root field without a declaration fails."""

from __future__ import annotations

from schema import schema
from schema.cost import types_of
from schema.permissions import MerchantKey, PortalSession, SignedIn

PUBLIC = {
    "Query.portalBranding",  # the static login page's look
    "Query.webhookEventTypes",  # a fixed list
    "Mutation.requestLoginLink",  # the static login page
    "Mutation.signIn",  # the link's token is the credential
    "Mutation.confirmEmailChange",  # likewise
    "Mutation.activateLicenseKey",  # the license key is the credential
    "Mutation.validateLicenseKey",
    "Mutation.deactivateLicenseKey",
}
AUDIENCES = {MerchantKey, PortalSession, SignedIn}


def test_every_root_field_declares_who_may_call_it() -> None:
    types = types_of(schema)
    undeclared, public_but_guarded = [], []
    for root in (types.query_type, types.mutation_type):
        assert root is not None
        for name in root.fields:
            coordinate = f"{root.name}.{name}"
            field = schema.get_field_for_type(field_name=name, type_name=root.name)
            assert field is not None
            audiences = set(field.permission_classes) & AUDIENCES
            if coordinate in PUBLIC:
                if audiences:
                    public_but_guarded.append(coordinate)
            elif len(audiences) != 1:
                undeclared.append(coordinate)
    assert undeclared == []
    assert public_but_guarded == []
