"""No N+1: the portal dashboard runs the same number of SQL statements for a customer with one
subscription as for one with fifty subscriptions and five hundred invoices. The statements are
counted where Tortoise logs each one it executes (logger `tortoise.db_client`, DEBUG)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import Portal
from models import (
    Invoice,
    InvoiceStatus,
    Mode,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Product,
    Subscription,
    SubscriptionStatus,
    TimeInterval,
)
from services.businesses import NewBusiness
from support import (
    DASHBOARD,
    create_customer,
    create_product,
    recorded_statements,
    session_for,
    subscribe,
)


async def load_dashboard(portal: Portal, token: str) -> tuple[dict[str, Any], list[str]]:
    with recorded_statements() as statements:
        response = await portal.gql.raw(DASHBOARD, token=token)
    body = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body["errors"]
    return dict(body["data"]["me"]), list(statements)


async def seed_history(
    business_id: str, mode: Mode, customer_id: str, *, subscriptions: int, invoices: int
) -> None:
    """Years of monthly billing for one customer, written in a few bulk INSERTs: products,
    three cards, the subscriptions (some cancelled, some on hold with an open invoice), their
    invoices spread over the months, and a payment for each invoice."""
    scope: dict[str, Any] = {"business_id": business_id, "mode": mode}
    products = [
        Product(
            **scope,
            name=f"Plan {n}",
            price_amount=900 + 500 * n,
            currency="EUR",
            is_recurring=True,
            interval=TimeInterval.MONTH,
            interval_count=1,
        )
        for n in range(5)
    ]
    await Product.bulk_create(products)
    cards = [
        PaymentMethod(
            **scope,
            customer_id=customer_id,
            gateway_token=f"tok_seed_{n}",
            brand="visa",
            last4=f"424{n}",
            exp_month=12,
            exp_year=2034,
        )
        for n in range(3)
    ]
    await PaymentMethod.bulk_create(cards)

    per_subscription = max(1, invoices // subscriptions)
    start = datetime.now(UTC) - timedelta(days=31 * per_subscription + 2)
    subs: list[Subscription] = []
    for n in range(subscriptions):
        product = products[n % len(products)]
        status = (
            SubscriptionStatus.CANCELLED
            if n % 5 == 4
            else SubscriptionStatus.ON_HOLD
            if n % 7 == 3
            else SubscriptionStatus.ACTIVE
        )
        created = start + timedelta(hours=n)
        subs.append(
            Subscription(
                **scope,
                customer_id=customer_id,
                product_id=product.id,
                payment_method_id=cards[n % len(cards)].id,
                status=status,
                price_amount=product.price_amount,
                currency="EUR",
                interval=TimeInterval.MONTH,
                current_period_start=created + timedelta(days=31 * (per_subscription - 1)),
                next_billing_date=created + timedelta(days=31 * per_subscription),
                created_at=created,
                updated_at=created,
            )
        )
    await Subscription.bulk_create(subs)

    bills: list[Invoice] = []
    payments: list[Payment] = []
    for n in range(invoices):
        sub = subs[n % subscriptions]
        period = n // subscriptions
        issued = sub.created_at + timedelta(days=31 * period)
        last = period == per_subscription - 1
        unpaid = last and sub.status == SubscriptionStatus.ON_HOLD
        invoice = Invoice(
            **scope,
            customer_id=customer_id,
            subscription_id=sub.id,
            number=f"TEST-INV-H{n + 1:06d}",
            status=InvoiceStatus.OPEN if unpaid else InvoiceStatus.PAID,
            currency="EUR",
            total_amount=sub.price_amount,
            amount_due=sub.price_amount if unpaid else 0,
            period_start=issued,
            period_end=issued + timedelta(days=31),
            issued_at=issued,
            paid_at=None if unpaid else issued,
            created_at=issued,
        )
        bills.append(invoice)
        payments.append(
            Payment(
                **scope,
                customer_id=customer_id,
                subscription_id=sub.id,
                invoice_id=invoice.id,
                payment_method_id=sub.payment_method_id,  # type: ignore[attr-defined]
                status=PaymentStatus.FAILED if unpaid else PaymentStatus.SUCCEEDED,
                amount=sub.price_amount,
                currency="EUR",
                card_brand="visa",
                card_last4="4242",
                failure_code="CARD_DECLINED" if unpaid else None,
                created_at=issued + timedelta(seconds=1),
                updated_at=issued + timedelta(seconds=1),
            )
        )
    await Invoice.bulk_create(bills, batch_size=250)
    await Payment.bulk_create(payments, batch_size=250)


async def test_dashboard_statement_count_does_not_grow_with_history(
    portal: Portal, acme: NewBusiness
) -> None:
    gql, key = portal.gql, acme.test_api_key

    small_id = await create_customer(gql, key, "small@example.com", "Small History")
    product_id = await create_product(gql, key, amount=1500, interval="MONTH")
    created = await subscribe(gql, key, small_id, product_id)
    assert created["userErrors"] == []

    big_id = await create_customer(gql, key, "big@example.com", "Long History")
    await seed_history(acme.business.id, Mode.TEST, big_id, subscriptions=50, invoices=500)

    small, small_statements = await load_dashboard(portal, await session_for(gql, key, small_id))
    big, big_statements = await load_dashboard(portal, await session_for(gql, key, big_id))

    # The pages are what the query asks for, with every related object filled in.
    assert len(small["subscriptions"]["edges"]) == 1
    assert len(small["invoices"]["edges"]) == len(small["payments"]["edges"]) == 1
    assert len(big["subscriptions"]["edges"]) == 20  # the default page
    assert len(big["invoices"]["edges"]) == len(big["payments"]["edges"]) == 100
    assert len(big["paymentMethods"]) == 3
    for me in (small, big):
        for edge in me["subscriptions"]["edges"]:
            node = edge["node"]
            assert node["product"]["name"] and node["paymentMethod"]["last4"]
            assert node["price"]["formatted"]
        for edge in me["invoices"]["edges"]:
            assert edge["node"]["subscription"]["id"].startswith("sub_")
        for edge in me["payments"]["edges"]:
            node = edge["node"]
            assert node["invoice"]["number"] and node["paymentMethod"]["last4"]
    assert any(e["node"]["outstandingAmount"]["amount"] > 0 for e in big["subscriptions"]["edges"])

    print(
        f"\ndashboard SQL statements: {len(small_statements)} for 1 subscription, "
        f"{len(big_statements)} for 50 subscriptions / 500 invoices"
    )
    listing = "\n".join(
        ["-- 1 subscription:", *small_statements, "-- 50 subscriptions:", *big_statements]
    )
    assert len(small_statements) == len(big_statements), listing
    # The session, the customer, and one statement per list, the related rows joined into it
    # (and a subscription's OPEN total as a subquery): as many as a hand-written endpoint needs.
    assert len(big_statements) == 6, listing
