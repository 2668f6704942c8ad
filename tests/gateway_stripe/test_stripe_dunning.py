"""Renewals and cards with Stripe: an off-session renewal the bank wants authenticated puts the
subscription ON_HOLD and emails the customer, who authenticates it (or gives another card) from
the portal; cards are saved through SetupIntents, with 3-D Secure when the bank asks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import Portal
from models import Payment, PaymentMethod, PaymentStatus, Subscription, WebhookEvent
from services.businesses import NewBusiness
from support import (
    MailCatcher,
    create_customer,
    create_product,
    deliver_mail,
    link_in,
    session_for,
    text_body,
)

from .conftest import (
    DECLINED_ON_SAVE,
    THREE_DS,
    THREE_DS_ALWAYS,
    VISA,
    StripeLab,
)
from .operations import (
    ADD_PAYMENT_METHOD,
    PAYMENT,
    SUBSCRIPTION,
    UPDATE_PAYMENT_METHOD,
    codes,
    confirm_payment,
    create_subscription,
)


async def _active_subscription(
    portal: Portal, acme: NewBusiness, stripe_lab: StripeLab, email: str, number: str
) -> tuple[str, str]:
    """A customer and their ACTIVE subscription, paid with `number` (authenticated if asked)."""
    key = acme.test_api_key
    customer_id = await create_customer(portal.gql, key, email, "Ann")
    monthly = await create_product(portal.gql, key, amount=1500)
    created = await create_subscription(
        portal, acme, customer_id, monthly, await stripe_lab.payment_method(number)
    )
    if created["nextAction"]:
        await stripe_lab.authenticate(created["nextAction"]["clientSecret"])
        confirmed = await confirm_payment(portal, key, created["payment"]["id"])
        assert confirmed["subscription"]["status"] == "ACTIVE", confirmed
    else:
        assert created["subscription"]["status"] == "ACTIVE", created
    return customer_id, created["subscription"]["id"]


async def _renew_now(portal: Portal, acme: NewBusiness, subscription_id: str) -> dict[str, Any]:
    key = acme.test_api_key
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    moved = await portal.gql(
        "mutation($i: UpdateSubscriptionInput!) { updateSubscription(input: $i)"
        " { userErrors { code } } }",
        {"i": {"subscriptionId": subscription_id, "nextBillingDate": past}},
        token=key,
    )
    assert moved["updateSubscription"]["userErrors"] == []
    cycle = await portal.gql("mutation { runBillingCycle { renewedCount failedCount } }", token=key)
    return dict(cycle["runBillingCycle"])


async def _renewal_payment(subscription_id: str) -> Payment:
    return await Payment.filter(subscription_id=subscription_id).order_by("-created_at").first()


async def test_a_renewal_the_bank_wants_authenticated_is_completed_by_the_customer(
    shop: tuple[Portal, NewBusiness], stripe_lab: StripeLab, smtp: MailCatcher
) -> None:
    portal, acme = shop
    key = acme.test_api_key
    customer_id, subscription_id = await _active_subscription(
        portal, acme, stripe_lab, "ann@example.com", THREE_DS_ALWAYS
    )
    await deliver_mail(portal.settings)
    smtp.messages.clear()

    assert await _renew_now(portal, acme, subscription_id) == {
        "renewedCount": 0,
        "failedCount": 1,
    }
    renewal = await _renewal_payment(subscription_id)
    assert renewal.status == PaymentStatus.REQUIRES_ACTION and renewal.off_session
    state = (await portal.gql(SUBSCRIPTION, {"id": subscription_id}, token=key))["subscription"]
    assert state["status"] == "ON_HOLD"
    assert state["outstandingAmount"]["amount"] == 1500
    kinds = await WebhookEvent.filter(business_id=acme.business.id).values_list("type", flat=True)
    assert "subscription.on_hold" in kinds

    # The customer is asked by email to confirm the payment, with a link into the portal.
    await deliver_mail(portal.settings)
    [mail] = [m for m in smtp.messages if "ann@example.com" in m["To"]]
    assert "authenticat" in text_body(mail).lower() or "confirm" in text_body(mail).lower()
    assert link_in(mail)

    # In the portal: the waiting payment carries what Stripe.js needs.
    session = await session_for(portal.gql, key, customer_id)
    seen = (await portal.gql(PAYMENT, {"id": renewal.id}, token=session))["node"]
    assert seen["status"] == "REQUIRES_ACTION"
    action = seen["nextAction"]
    assert action["type"] == "AUTHENTICATE"
    await stripe_lab.authenticate(action["clientSecret"])
    confirmed = await confirm_payment(portal, session, renewal.id)
    assert confirmed["userErrors"] == []
    assert confirmed["payment"]["status"] == "SUCCEEDED"
    assert confirmed["subscription"]["status"] == "ACTIVE"
    state = (await portal.gql(SUBSCRIPTION, {"id": subscription_id}, token=key))["subscription"]
    assert state["outstandingAmount"]["amount"] == 0
    assert datetime.fromisoformat(state["nextBillingDate"]) > datetime.now(UTC) + timedelta(days=25)
    assert (await Subscription.get(id=subscription_id)).charging_payment_id is None


async def test_another_card_while_a_renewal_waits_for_authentication_replaces_it(
    shop: tuple[Portal, NewBusiness], stripe_lab: StripeLab
) -> None:
    portal, acme = shop
    customer_id, subscription_id = await _active_subscription(
        portal, acme, stripe_lab, "bo@example.com", THREE_DS_ALWAYS
    )
    await _renew_now(portal, acme, subscription_id)
    waiting = await _renewal_payment(subscription_id)
    assert waiting.status == PaymentStatus.REQUIRES_ACTION

    session = await session_for(portal.gql, acme.test_api_key, customer_id)
    updated = (
        await portal.gql(
            UPDATE_PAYMENT_METHOD,
            {
                "input": {
                    "subscriptionId": subscription_id,
                    "gatewayPaymentMethodId": await stripe_lab.payment_method(VISA),
                }
            },
            token=session,
        )
    )["updatePaymentMethod"]
    assert updated["userErrors"] == []
    assert updated["payment"]["status"] == "SUCCEEDED"
    assert updated["subscription"]["status"] == "ACTIVE"
    assert updated["subscription"]["paymentMethod"]["last4"] == "4242"
    assert updated["subscription"]["outstandingAmount"]["amount"] == 0

    # The payment that waited can never complete now: cancelled with Stripe, failed with us.
    replaced = await Payment.get(id=waiting.id)
    assert replaced.status == PaymentStatus.FAILED
    assert (await stripe_lab.intent(str(waiting.gateway_reference)))["status"] == "canceled"
    paid = await Payment.filter(subscription_id=subscription_id, status=PaymentStatus.SUCCEEDED)
    assert len(paid) == 2  # the first period and what was owed


async def test_a_new_card_that_needs_authentication_revives_the_subscription_once_confirmed(
    shop: tuple[Portal, NewBusiness], stripe_lab: StripeLab
) -> None:
    portal, acme = shop
    customer_id, subscription_id = await _active_subscription(
        portal, acme, stripe_lab, "cy@example.com", THREE_DS_ALWAYS
    )
    await _renew_now(portal, acme, subscription_id)
    session = await session_for(portal.gql, acme.test_api_key, customer_id)
    variables = {
        "input": {
            "subscriptionId": subscription_id,
            "gatewayPaymentMethodId": await stripe_lab.payment_method(THREE_DS),
            "idempotencyKey": "new-card-cy",
        }
    }
    started = (await portal.gql(UPDATE_PAYMENT_METHOD, variables, token=session))[
        "updatePaymentMethod"
    ]
    assert started["userErrors"] == []
    assert started["payment"]["status"] == "REQUIRES_ACTION"
    assert started["subscription"]["status"] == "ON_HOLD"
    assert started["nextAction"]["type"] == "AUTHENTICATE"
    # A double submit is the same attempt.
    again = (await portal.gql(UPDATE_PAYMENT_METHOD, variables, token=session))[
        "updatePaymentMethod"
    ]
    assert again["payment"]["id"] == started["payment"]["id"]
    assert again["nextAction"] == started["nextAction"]

    await stripe_lab.authenticate(started["nextAction"]["clientSecret"])
    confirmed = await confirm_payment(portal, session, started["payment"]["id"])
    assert confirmed["payment"]["status"] == "SUCCEEDED"
    assert confirmed["subscription"]["status"] == "ACTIVE"
    # The new card became the subscription's card once its payment succeeded.
    assert confirmed["subscription"]["paymentMethod"]["last4"] == "3184"


async def test_saving_a_card_through_a_setup_the_bank_wants_authenticated(
    shop: tuple[Portal, NewBusiness], stripe_lab: StripeLab
) -> None:
    portal, acme = shop
    customer_id = await create_customer(portal.gql, acme.test_api_key, "di@example.com")
    session = await session_for(portal.gql, acme.test_api_key, customer_id)

    async def add(pm: str) -> dict[str, Any]:
        data = await portal.gql(
            ADD_PAYMENT_METHOD, {"input": {"gatewayPaymentMethodId": pm}}, token=session
        )
        return dict(data["addPaymentMethod"])

    visa = await add(await stripe_lab.payment_method(VISA))
    assert visa["userErrors"] == [] and visa["nextAction"] is None
    assert visa["paymentMethod"]["last4"] == "4242"

    declined = await add(await stripe_lab.payment_method(DECLINED_ON_SAVE))
    assert codes(declined) == ["CARD_DECLINED"]
    assert declined["paymentMethod"] is None

    pm = await stripe_lab.payment_method(THREE_DS)
    pending = await add(pm)
    assert pending["userErrors"] == [] and pending["paymentMethod"] is None
    action = pending["nextAction"]
    assert action["type"] == "AUTHENTICATE" and action["clientSecret"].startswith("seti_")
    assert await PaymentMethod.filter(customer_id=customer_id).count() == 1

    await stripe_lab.finish_setup(action["clientSecret"])
    # The same call again, once the customer authenticated: the card is saved, once.
    saved = await add(pm)
    assert saved["userErrors"] == [] and saved["nextAction"] is None
    assert saved["paymentMethod"]["last4"] == "3184"
    assert (await add(pm))["paymentMethod"]["id"] == saved["paymentMethod"]["id"]
    assert await PaymentMethod.filter(customer_id=customer_id).count() == 2

    # A card number is refused for a Stripe business, here too.
    refused = await portal.gql(
        ADD_PAYMENT_METHOD,
        {
            "input": {
                "card": {"number": "4242424242424242", "expMonth": 12, "expYear": 34, "cvc": "1"}
            }
        },
        token=session,
    )
    assert codes(refused["addPaymentMethod"]) == ["CARD_DATA_NOT_ACCEPTED"]
