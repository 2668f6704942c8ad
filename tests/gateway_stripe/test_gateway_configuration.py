"""A merchant connects Stripe: keys checked against the mode and against Stripe, secrets sealed
and never readable, and card numbers refused from then on."""

from __future__ import annotations

from conftest import Portal
from models import PaymentGatewayConfig
from services.businesses import NewBusiness
from support import GOOD_CARD, create_customer, create_product, session_for

from .conftest import (
    CONFIGURE,
    PUBLISHABLE_KEY,
    SECRET_KEY,
    WEBHOOK_SECRET,
    LocalStripe,
    StripeLab,
)
from .operations import CREATE_SUBSCRIPTION, codes

GATEWAY = "{ business { paymentGateway { provider publishableKey configuredAt } } }"


def _keys(**changes: str | None) -> dict[str, object]:
    keys = {
        "provider": "STRIPE",
        "secretKey": SECRET_KEY,
        "publishableKey": PUBLISHABLE_KEY,
        "webhookSecret": WEBHOOK_SECRET,
    }
    keys.update(changes)
    return {"input": {k: v for k, v in keys.items() if v is not None}}


async def test_keys_that_do_not_fit_the_mode_are_refused_and_nothing_is_saved(
    stripe_portal: tuple[Portal, str], stripe_lab: StripeLab, acme: NewBusiness
) -> None:
    portal, _ = stripe_portal
    gql = portal.gql
    cases = [
        (acme.test_api_key, _keys(secretKey="sk_live_portal4242"), "secretKey"),
        (acme.test_api_key, _keys(publishableKey="pk_live_portal4242"), "publishableKey"),
        (acme.test_api_key, _keys(secretKey="not-a-key"), "secretKey"),
        (acme.test_api_key, _keys(webhookSecret="secret"), "webhookSecret"),
        (acme.test_api_key, _keys(secretKey=None), "secretKey"),
        (acme.live_api_key, _keys(), "secretKey"),  # test keys for live mode
    ]
    for key, variables, field in cases:
        payload = (await gql(CONFIGURE, variables, token=key))["configurePaymentGateway"]
        assert codes(payload) == ["INVALID_GATEWAY_KEY"], (variables, payload)
        assert payload["userErrors"][0]["field"] == [field], payload
        assert payload["paymentGateway"] is None
    assert await PaymentGatewayConfig.all().count() == 0
    # Test mode still uses the simulator; live mode still has no gateway.
    test = await gql(GATEWAY, token=acme.test_api_key)
    assert test["business"]["paymentGateway"] == {
        "provider": "TEST",
        "publishableKey": None,
        "configuredAt": None,
    }
    live = await gql(GATEWAY, token=acme.live_api_key)
    assert live["business"]["paymentGateway"] is None


async def test_stripe_is_configured_with_secrets_sealed_and_never_readable(
    stripe_portal: tuple[Portal, str], stripe_lab: StripeLab, acme: NewBusiness
) -> None:
    portal, _ = stripe_portal
    payload = (await portal.gql(CONFIGURE, _keys(), token=acme.test_api_key))[
        "configurePaymentGateway"
    ]
    assert payload["userErrors"] == []
    assert payload["paymentGateway"]["provider"] == "STRIPE"
    assert payload["paymentGateway"]["publishableKey"] == PUBLISHABLE_KEY
    assert payload["paymentGateway"]["configuredAt"]

    [row] = await PaymentGatewayConfig.all()
    assert row.secret_key and SECRET_KEY not in row.secret_key
    assert row.webhook_secret and WEBHOOK_SECRET not in row.webhook_secret
    # The whole API answer holds neither secret.
    response = await portal.gql.raw(
        "{ business { paymentGateway { provider publishableKey configuredAt } } }",
        token=acme.test_api_key,
    )
    assert SECRET_KEY not in response.text and WEBHOOK_SECRET not in response.text

    # A customer sees the publishable key (Stripe.js needs it), and cannot configure anything.
    customer_id = await create_customer(portal.gql, acme.test_api_key, "ann@example.com")
    session = await session_for(portal.gql, acme.test_api_key, customer_id)
    seen = await portal.gql(GATEWAY, token=session)
    assert seen["business"]["paymentGateway"]["publishableKey"] == PUBLISHABLE_KEY
    error = await portal.gql.error(CONFIGURE, _keys(secretKey="sk_test_other"), token=session)
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await PaymentGatewayConfig.get(id=row.id)).secret_key == row.secret_key

    # Live mode is configured on its own, with live keys.
    live = await portal.gql(
        CONFIGURE,
        _keys(secretKey="sk_live_portal4242", publishableKey="pk_live_portal4242"),
        token=acme.live_api_key,
    )
    assert live["configurePaymentGateway"]["userErrors"] == []
    assert await PaymentGatewayConfig.all().count() == 2
    test = await portal.gql(GATEWAY, token=acme.test_api_key)
    assert test["business"]["paymentGateway"]["publishableKey"] == PUBLISHABLE_KEY


async def test_card_numbers_are_refused_once_stripe_takes_the_payments(
    shop: tuple[Portal, NewBusiness],
) -> None:
    portal, acme = shop
    key = acme.test_api_key
    customer_id = await create_customer(portal.gql, key, "ann@example.com")
    product_id = await create_product(portal.gql, key, amount=1500)
    response = await portal.gql.raw(
        CREATE_SUBSCRIPTION,
        {"input": {"customerId": customer_id, "productId": product_id, "card": GOOD_CARD}},
        token=key,
    )
    assert GOOD_CARD["number"] not in response.text
    payload = response.json()["data"]["createSubscription"]
    assert codes(payload) == ["CARD_DATA_NOT_ACCEPTED"]
    assert payload["subscription"] is None and payload["payment"] is None
    billing = await portal.gql(
        "query($id: ID!) { customer(id: $id) { subscriptions { totalCount }"
        " payments { totalCount } invoices { totalCount } } }",
        {"id": customer_id},
        token=key,
    )
    assert billing["customer"] == {
        "subscriptions": {"totalCount": 0},
        "payments": {"totalCount": 0},
        "invoices": {"totalCount": 0},
    }


async def test_a_key_stripe_cannot_be_asked_about_is_not_saved(
    stripe_portal: tuple[Portal, str],
    stripe_lab: StripeLab,
    localstripe: LocalStripe,
    acme: NewBusiness,
) -> None:
    portal, _ = stripe_portal
    localstripe.stop()
    try:
        payload = (await portal.gql(CONFIGURE, _keys(), token=acme.test_api_key))[
            "configurePaymentGateway"
        ]
    finally:
        localstripe.start()
    assert codes(payload) == ["GATEWAY_UNAVAILABLE"]
    assert await PaymentGatewayConfig.all().count() == 0
