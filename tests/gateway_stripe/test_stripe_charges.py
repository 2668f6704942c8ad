"""Charging through Stripe: a card from Stripe.js pays, a decline is a FAILED payment, a bank
that wants 3-D Secure gets the customer's browser what it needs, and the payment settles once
the customer authenticated; when Stripe cannot be reached, nothing is lost and nothing is
charged twice."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import timedelta

import pytest
from tortoise import Tortoise
from tortoise.models import Model

import models
from app.main import run_billing_scheduler
from conftest import Portal, make_portal
from models import (
    Customer,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from models.clock import clock
from services.billing.settlement import settle_payment, settle_stale_payments
from services.businesses import NewBusiness
from support import (
    MailCatcher,
    create_customer,
    create_product,
    deliver_mail,
    free_port,
    session_for,
)

from .conftest import (
    DECLINED_ON_CHARGE,
    PUBLISHABLE_KEY,
    SECRET_KEY,
    THREE_DS,
    VISA,
    WEBHOOK_SECRET,
    LocalStripe,
    StripeLab,
)
from .operations import (
    PAYMENT,
    codes,
    confirm_payment,
    create_payment,
    create_subscription,
)


async def test_a_card_from_stripe_js_pays_and_is_kept_for_the_next_charges(
    shop: tuple[Portal, NewBusiness], stripe_lab: StripeLab
) -> None:
    portal, acme = shop
    key = acme.test_api_key
    customer_id = await create_customer(portal.gql, key, "ann@example.com", "Ann")
    monthly = await create_product(portal.gql, key, amount=1500)
    once = await create_product(portal.gql, key, amount=4900, interval=None, name="Setup")

    created = await create_subscription(
        portal, acme, customer_id, monthly, await stripe_lab.payment_method(VISA)
    )
    assert created["userErrors"] == []
    assert created["nextAction"] is None
    assert created["subscription"]["status"] == "ACTIVE"
    assert created["payment"]["status"] == "SUCCEEDED"
    assert created["invoice"]["status"] == "PAID"
    card = created["subscription"]["paymentMethod"]
    assert card["brand"] == "visa" and card["last4"] == "4242"

    # What Stripe holds: one PaymentIntent for our payment, with its amount and our ids.
    payment = await Payment.get(id=created["payment"]["id"])
    assert payment.gateway_reference and payment.gateway_reference.startswith("pi_")
    intent = await stripe_lab.intent(payment.gateway_reference)
    assert intent["status"] == "succeeded"
    assert (intent["amount"], intent["currency"]) == (1500, "eur")
    assert intent["metadata"]["payment_id"] == payment.id
    customer = await Customer.get(id=customer_id)
    assert customer.gateway_customer and intent["customer"] == customer.gateway_customer

    # The kept card pays a one-time product, on the same Stripe customer.
    paid = await portal.gql(
        "mutation($i: CreatePaymentInput!) { createPayment(input: $i) {"
        " payment { id status cardLast4 } userErrors { code } } }",
        {"i": {"customerId": customer_id, "productId": once, "paymentMethodId": card["id"]}},
        token=key,
    )
    assert paid["createPayment"]["payment"]["status"] == "SUCCEEDED"
    second = await Payment.get(id=paid["createPayment"]["payment"]["id"])
    assert second.gateway_reference
    assert (await stripe_lab.intent(second.gateway_reference))["customer"] == intent["customer"]
    assert await PaymentMethod.filter(customer_id=customer_id).count() == 1


async def test_a_declined_card_is_a_failed_payment_and_is_not_kept(
    shop: tuple[Portal, NewBusiness], stripe_lab: StripeLab
) -> None:
    portal, acme = shop
    customer_id = await create_customer(portal.gql, acme.test_api_key, "bo@example.com")
    once = await create_product(portal.gql, acme.test_api_key, amount=4900, interval=None)
    failed = await create_payment(
        portal, acme, customer_id, once, await stripe_lab.payment_method(DECLINED_ON_CHARGE)
    )
    assert codes(failed) == ["CARD_DECLINED"]
    assert failed["payment"]["status"] == "FAILED"
    assert failed["payment"]["failureCode"] == "CARD_DECLINED"
    assert failed["invoice"]["status"] == "VOID"
    assert failed["nextAction"] is None
    assert await PaymentMethod.filter(customer_id=customer_id).count() == 0


async def test_three_d_secure_on_the_first_charge(
    shop: tuple[Portal, NewBusiness], stripe_lab: StripeLab, smtp: MailCatcher
) -> None:
    portal, acme = shop
    key = acme.test_api_key
    customer_id = await create_customer(portal.gql, key, "cy@example.com", "Cy")
    monthly = await create_product(portal.gql, key, amount=1500)
    pm = await stripe_lab.payment_method(THREE_DS)

    started = await create_subscription(
        portal, acme, customer_id, monthly, pm, idempotencyKey="first-charge-cy"
    )
    assert started["userErrors"] == []
    assert started["payment"]["status"] == "REQUIRES_ACTION"
    assert started["subscription"]["status"] == "PENDING"
    assert started["invoice"]["status"] == "OPEN"
    action = started["nextAction"]
    assert action["type"] == "AUTHENTICATE"
    assert action["publishableKey"] == PUBLISHABLE_KEY
    payment_id = started["payment"]["id"]
    payment = await Payment.get(id=payment_id)
    assert action["clientSecret"].startswith(f"{payment.gateway_reference}_secret_")

    # The same request again (a double submit) is the same payment, still waiting.
    again = await create_subscription(
        portal, acme, customer_id, monthly, pm, idempotencyKey="first-charge-cy"
    )
    assert again["payment"]["id"] == payment_id
    assert again["nextAction"] == action
    # The payment tells what the browser needs as well (asked of Stripe, never stored).
    seen = (await portal.gql(PAYMENT, {"id": payment_id}, token=key))["node"]
    assert seen["status"] == "REQUIRES_ACTION" and seen["nextAction"] == action
    assert action["clientSecret"] not in str(await Payment.filter(id=payment_id).values())

    await stripe_lab.authenticate(action["clientSecret"])
    confirmed = await confirm_payment(portal, key, payment_id)
    assert confirmed["userErrors"] == []
    assert confirmed["payment"]["status"] == "SUCCEEDED"
    assert confirmed["subscription"]["status"] == "ACTIVE"
    assert confirmed["subscription"]["paymentMethod"]["last4"] == "3184"
    assert confirmed["invoice"]["status"] == "PAID"
    assert confirmed["nextAction"] is None

    # Asked again: the same final state, nothing more happens.
    assert await confirm_payment(portal, key, payment_id) == confirmed
    await deliver_mail(portal.settings)
    receipts = [m for m in smtp.messages if "cy@example.com" in m["To"]]
    assert len(receipts) == 1, [m["Subject"] for m in receipts]
    assert await PaymentMethod.filter(customer_id=customer_id).count() == 1


async def test_failed_authentication_fails_the_payment_and_keeps_no_card(
    shop: tuple[Portal, NewBusiness], stripe_lab: StripeLab
) -> None:
    portal, acme = shop
    key = acme.test_api_key
    customer_id = await create_customer(portal.gql, key, "di@example.com")
    once = await create_product(portal.gql, key, amount=4900, interval=None)
    started = await create_payment(
        portal, acme, customer_id, once, await stripe_lab.payment_method(THREE_DS)
    )
    assert started["payment"]["status"] == "REQUIRES_ACTION"
    await stripe_lab.authenticate(started["nextAction"]["clientSecret"], success=False)

    # The customer's own session may confirm their payment.
    session = await session_for(portal.gql, key, customer_id)
    failed = await confirm_payment(portal, session, started["payment"]["id"])
    assert codes(failed) == ["AUTHENTICATION_FAILED"]
    assert failed["payment"]["status"] == "FAILED"
    assert failed["invoice"]["status"] == "VOID"
    assert await PaymentMethod.filter(customer_id=customer_id).count() == 0


async def test_confirm_payment_is_only_for_the_payment_s_own_customer_and_business(
    shop: tuple[Portal, NewBusiness], stripe_lab: StripeLab, globex: NewBusiness
) -> None:
    portal, acme = shop
    key = acme.test_api_key
    ann = await create_customer(portal.gql, key, "ann@example.com")
    bo = await create_customer(portal.gql, key, "bo@example.com")
    once = await create_product(portal.gql, key, amount=4900, interval=None)
    started = await create_payment(
        portal, acme, ann, once, await stripe_lab.payment_method(THREE_DS)
    )
    payment_id = started["payment"]["id"]
    await stripe_lab.authenticate(started["nextAction"]["clientSecret"])
    for token in (
        await session_for(portal.gql, key, bo),
        globex.test_api_key,
        acme.live_api_key,
    ):
        refused = await confirm_payment(portal, token, payment_id)
        assert codes(refused) == ["NOT_FOUND"], refused
        assert refused["payment"] is None
    assert (await Payment.get(id=payment_id)).status.value == "requires_action"


async def test_stripe_unreachable_leaves_the_payment_processing_and_it_settles_once_later(
    shop: tuple[Portal, NewBusiness], stripe_lab: StripeLab
) -> None:
    portal, acme = shop
    key = acme.test_api_key
    customer_id = await create_customer(portal.gql, key, "ed@example.com")
    once = await create_product(portal.gql, key, amount=4900, interval=None)
    pm = await stripe_lab.payment_method(VISA)

    # Stripe's address stops answering (nothing listens there).
    down = replace(portal.settings, stripe_api_base=f"http://127.0.0.1:{free_port()}")
    http, gql = await make_portal(down)
    async with http:
        response = await gql(
            "mutation($i: CreatePaymentInput!) { createPayment(input: $i) {"
            " payment { id status } invoice { status } userErrors { code message } } }",
            {
                "i": {
                    "customerId": customer_id,
                    "productId": once,
                    "gatewayPaymentMethodId": pm,
                    "idempotencyKey": "order-ed-1",
                }
            },
            token=key,
        )
    unavailable = response["createPayment"]
    assert codes(unavailable) == ["GATEWAY_UNAVAILABLE"]
    assert unavailable["payment"]["status"] == "PROCESSING"
    assert unavailable["invoice"]["status"] == "OPEN"
    payment_id = unavailable["payment"]["id"]

    # Stripe is back: the payment is settled (here by asking at once) and charged once.
    confirmed = await confirm_payment(portal, key, payment_id)
    assert confirmed["userErrors"] == []
    assert confirmed["payment"]["status"] == "SUCCEEDED"
    assert confirmed["invoice"]["status"] == "PAID"
    payment = await Payment.get(id=payment_id)
    assert payment.gateway_reference
    assert (await stripe_lab.intent(payment.gateway_reference))["status"] == "succeeded"
    # Settling it again asks Stripe about the same PaymentIntent, changes nothing and does not
    # count it as settled a second time.
    assert await settle_payment(portal.settings, payment) is False
    assert (await Payment.get(id=payment_id)).gateway_reference == payment.gateway_reference
    # The same request repeated with its idempotency key shows what became of it.
    repeated = await create_payment(
        portal, acme, customer_id, once, pm, idempotencyKey="order-ed-1"
    )
    assert (repeated["payment"]["id"], repeated["payment"]["status"]) == (payment_id, "SUCCEEDED")
    assert await Payment.filter(customer_id=customer_id).count() == 1


async def test_no_secret_key_webhook_secret_or_client_secret_is_stored_or_logged(
    shop: tuple[Portal, NewBusiness], stripe_lab: StripeLab, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    portal, acme = shop
    key = acme.test_api_key
    customer_id = await create_customer(portal.gql, key, "fay@example.com")
    monthly = await create_product(portal.gql, key, amount=1500)
    started = await create_subscription(
        portal, acme, customer_id, monthly, await stripe_lab.payment_method(THREE_DS)
    )
    client_secret = started["nextAction"]["clientSecret"]
    await stripe_lab.authenticate(client_secret)
    await confirm_payment(portal, key, started["payment"]["id"])

    secrets = [SECRET_KEY, WEBHOOK_SECRET, client_secret, client_secret.split("_secret_")[1]]
    connection = Tortoise.get_connection("default")
    tables = [
        getattr(models, name).describe()["table"]
        for name in models.__all__
        if isinstance(getattr(models, name), type) and issubclass(getattr(models, name), Model)
    ]
    assert "payment" in tables and "payment_gateway_config" in tables
    for table in tables:
        dump = repr(await connection.execute_query_dict(f"SELECT * FROM {table}"))  # noqa: S608
        for secret in secrets:
            assert secret not in dump, (table, secret)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert logged  # the requests were logged
    for secret in secrets:
        assert secret not in logged, secret


async def test_localstripe_stopped_answers_clearly_records_nothing_paid_and_works_once_back(
    shop: tuple[Portal, NewBusiness], stripe_lab: StripeLab, localstripe: LocalStripe
) -> None:
    portal, acme = shop
    key = acme.test_api_key
    customer_id = await create_customer(portal.gql, key, "gus@example.com")
    once = await create_product(portal.gql, key, amount=4900, interval=None)
    pm = await stripe_lab.payment_method(VISA)

    localstripe.stop()
    try:
        down = await create_payment(portal, acme, customer_id, once, pm, idempotencyKey="gus-1")
    finally:
        localstripe.start()
    assert codes(down) == ["GATEWAY_UNAVAILABLE"]
    assert "could not be reached" in down["userErrors"][0]["message"]
    assert down["payment"]["status"] == "PROCESSING"
    assert (
        await Payment.filter(customer_id=customer_id, status=PaymentStatus.SUCCEEDED).count() == 0
    )
    assert (await Invoice.get(id=down["invoice"]["id"])).status == InvoiceStatus.OPEN

    # Back, but localstripe forgot everything it held (a real Stripe would not): the payment
    # left PROCESSING is settled by asking Stripe, which no longer knows the card, so it fails
    # and nothing is paid; the same operation with a new card works.
    clock.advance(timedelta(minutes=11))
    assert await settle_stale_payments(portal.settings) == 1
    stuck = await Payment.get(id=down["payment"]["id"])
    assert stuck.status == PaymentStatus.FAILED
    await Customer.filter(id=customer_id).update(gateway_customer=None)  # gone with the restart
    again = await create_payment(
        portal, acme, customer_id, once, await stripe_lab.payment_method(VISA)
    )
    assert again["userErrors"] == []
    assert again["payment"]["status"] == "SUCCEEDED"
    assert (
        await Payment.filter(customer_id=customer_id, status=PaymentStatus.SUCCEEDED).count() == 1
    )


async def test_a_refund_goes_back_through_stripe_once(
    shop: tuple[Portal, NewBusiness], stripe_lab: StripeLab
) -> None:
    portal, acme = shop
    key = acme.test_api_key
    customer_id = await create_customer(portal.gql, key, "hal@example.com")
    once = await create_product(portal.gql, key, amount=4900, interval=None)
    paid = await create_payment(
        portal, acme, customer_id, once, await stripe_lab.payment_method(VISA)
    )
    payment = await Payment.get(id=paid["payment"]["id"])
    refund = (
        await portal.gql(
            "mutation($i: RefundPaymentInput!) { refundPayment(input: $i) {"
            " refund { id status amount { amount } } creditNote { number total { amount } }"
            " userErrors { code } } }",
            {"i": {"paymentId": payment.id, "amount": 1500, "idempotencyKey": "hal-refund"}},
            token=key,
        )
    )["refundPayment"]
    assert refund["userErrors"] == []
    assert refund["refund"]["status"] == "SUCCEEDED"
    assert refund["creditNote"] == {"number": "TEST-CN-000001", "total": {"amount": 1500}}
    row = await Refund.get(id=refund["refund"]["id"])
    assert row.gateway_reference and row.gateway_reference.startswith("re_")
    intent = await stripe_lab.intent(str(payment.gateway_reference))
    charges = intent["charges"]["data"]
    assert [charge["amount_refunded"] for charge in charges] == [1500]


async def test_a_refund_stripe_did_not_answer_is_sent_again_by_the_billing_scheduler(
    shop: tuple[Portal, NewBusiness], stripe_lab: StripeLab
) -> None:
    portal, acme = shop
    key = acme.test_api_key
    customer_id = await create_customer(portal.gql, key, "ida@example.com")
    once = await create_product(portal.gql, key, amount=4900, interval=None)
    paid = await create_payment(
        portal, acme, customer_id, once, await stripe_lab.payment_method(VISA)
    )
    payment_id = paid["payment"]["id"]
    refund_payment = (
        "mutation($i: RefundPaymentInput!) { refundPayment(input: $i) {"
        " refund { id status } creditNote { number } userErrors { code } } }"
    )
    variables = {"i": {"paymentId": payment_id, "amount": 2000, "idempotencyKey": "ida-refund"}}

    # Stripe's address stops answering while the merchant refunds: the refund stays PENDING,
    # its amount reserved, and no credit note is issued.
    down = replace(portal.settings, stripe_api_base=f"http://127.0.0.1:{free_port()}")
    http, gql = await make_portal(down)
    async with http:
        pending = (await gql(refund_payment, variables, token=key))["refundPayment"]
    assert codes(pending) == ["GATEWAY_UNAVAILABLE"]
    assert pending["refund"]["status"] == "PENDING"
    assert pending["creditNote"] is None
    assert (await Payment.get(id=payment_id)).refunded_amount == 2000

    # The server's billing scheduler (what `portal serve` runs each minute) sends it again with
    # the same key once it is old enough; Stripe refunds once and the credit note follows.
    clock.advance(timedelta(minutes=2))
    scheduler = asyncio.create_task(run_billing_scheduler(portal.settings, every_seconds=3600))
    try:
        for _ in range(200):
            refund = await Refund.get(id=pending["refund"]["id"])
            if refund.status != RefundStatus.PENDING:
                break
            await asyncio.sleep(0.05)
    finally:
        scheduler.cancel()
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.gateway_reference and refund.gateway_reference.startswith("re_")
    credit_notes = await Invoice.filter(customer_id=customer_id, kind=InvoiceKind.CREDIT_NOTE)
    assert [note.total_amount for note in credit_notes] == [2000]
    payment = await Payment.get(id=payment_id)
    intent = await stripe_lab.intent(str(payment.gateway_reference))
    assert [charge["amount_refunded"] for charge in intent["charges"]["data"]] == [2000]
