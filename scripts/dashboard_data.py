"""The portal dashboard and the billing history it is measured on, written once.

Used by `scripts/bench_dashboard.py` (GraphQL against the raw floor), `scripts/bench_peer.py`
(our server against PostGraphile over HTTP) and `tests/e2e/test_query_count.py` (the statement
count), so that the benchmarks time the query and the rows that the test counts.

It lives with the scripts rather than under tests/ because the scripts run as plain files from a
checkout, without pytest and the test helpers (tests/support.py starts SMTP servers and imports
the app); the test imports it as `scripts.dashboard_data` (pytest puts the repository root on
the path), the scripts as `dashboard_data` (Python puts the script's directory on the path).
It writes through the models and services, never the GraphQL API, so that seeding hundreds of
rows takes a few bulk INSERTs.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from models import (
    Invoice,
    InvoiceCounter,
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
from services.customers import create_customer
from services.scope import Scope

# What a portal frontend asks for on its first page. The subscriptions' default page is 20.
DASHBOARD = """
{ me { id email
  subscriptions { edges { node {
    id status nextBillingDate price { amount currency formatted }
    product { id name price { amount } } paymentMethod { brand last4 }
    outstandingAmount { amount } } } }
  invoices(first: 100) { edges { node {
    id number status total { amount } amountDue { amount } subscription { id } pdfUrl } } }
  payments(first: 100) { edges { node {
    id status amount { amount } invoice { number } paymentMethod { last4 } } } }
  paymentMethods { id brand last4 }
} }"""

SUBSCRIPTIONS_PAGE = 20  # the dashboard's page sizes, as the query above asks
INVOICES_PAGE = PAYMENTS_PAGE = 100

SIGN_IN = (
    "mutation($t: String!) { signIn(input: {token: $t}) { sessionToken userErrors { code } } }"
)


async def seed_products(scope: Scope) -> list[Product]:
    """Five monthly plans, 9 € to 29 €."""
    products = [
        Product(
            business_id=scope.business_id,
            mode=scope.mode,
            name=f"Plan {n}",
            description=f"Everything in plan {n}",
            price_amount=900 + 500 * n,
            currency="EUR",
            is_recurring=True,
            interval=TimeInterval.MONTH,
            interval_count=1,
        )
        for n in range(5)
    ]
    await Product.bulk_create(products)
    return products


async def seed_customer(
    scope: Scope,
    label: str,
    *,
    subscriptions: int,
    invoices: int,
    products: Sequence[Product] | None = None,
) -> str:
    """A new customer `{label}@example.com` with a billing history (see `seed_history`)."""
    customer = await create_customer(scope, email=f"{label}@example.com", name=f"Customer {label}")
    await seed_history(
        scope, str(customer.id), subscriptions=subscriptions, invoices=invoices, products=products
    )
    return str(customer.id)


async def seed_history(
    scope: Scope,
    customer_id: str,
    *,
    subscriptions: int,
    invoices: int,
    products: Sequence[Product] | None = None,
) -> None:
    """Months of billing for one customer, in a few bulk INSERTs: three cards; `subscriptions`
    subscriptions on the products (every fifth cancelled; the others at 3, 10, 17, … ON_HOLD
    with their last invoice OPEN and its payment FAILED), `invoices` monthly invoices spread over
    them, each with a payment. Invoice numbers continue the business's gapless counter.

    Every subscription's current period has begun and its next renewal is still ahead (one day
    away and more), so a server that runs its billing worker renews nothing while it is being
    measured. `products` defaults to five new ones (`seed_products`)."""
    if subscriptions < 1 or invoices < 0:
        raise ValueError("at least one subscription, and no negative number of invoices")
    if products is None:
        products = await seed_products(scope)
    common: dict[str, Any] = {
        "business_id": scope.business_id,
        "mode": scope.mode,
        "customer_id": customer_id,
    }
    cards = [
        PaymentMethod(
            **common,
            gateway_token=f"tok_seed_{uuid.uuid4().hex}",
            brand=("visa", "mastercard", "amex")[n],
            last4=f"{4242 + n:04d}",
            exp_month=1 + n,
            exp_year=2030 + n,
        )
        for n in range(3)
    ]
    await PaymentMethod.bulk_create(cards)

    periods = max(1, -(-invoices // subscriptions))  # the most invoices one subscription has
    start = datetime.now(UTC) - timedelta(days=31 * periods - 1)
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
        created = start + timedelta(minutes=n)
        subs.append(
            Subscription(
                **common,
                product_id=product.id,
                payment_method_id=cards[n % len(cards)].id,
                status=status,
                price_amount=product.price_amount,
                currency=product.currency,
                interval=TimeInterval.MONTH,
                current_period_start=created + timedelta(days=31 * (periods - 1)),
                next_billing_date=None
                if status == SubscriptionStatus.CANCELLED
                else created + timedelta(days=31 * periods),
                cancelled_at=created if status == SubscriptionStatus.CANCELLED else None,
                created_at=created,
                updated_at=created,
            )
        )
    await Subscription.bulk_create(subs)

    counter = await InvoiceCounter.get(business_id=scope.business_id, mode=scope.mode)
    number = counter.last_number
    prefix = "TEST-" if scope.mode == Mode.TEST else ""
    bills: list[Invoice] = []
    payments: list[Payment] = []
    for n in range(invoices):
        sub = subs[n % subscriptions]
        period = n // subscriptions
        issued = sub.created_at + timedelta(days=31 * period)
        last_period = (invoices - 1 - n % subscriptions) // subscriptions
        unpaid = period == last_period and sub.status == SubscriptionStatus.ON_HOLD
        number += 1
        invoice = Invoice(
            **common,
            subscription_id=sub.id,
            number=f"{prefix}INV-{number:06d}",
            status=InvoiceStatus.OPEN if unpaid else InvoiceStatus.PAID,
            currency=sub.currency,
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
                **common,
                subscription_id=sub.id,
                invoice_id=invoice.id,
                payment_method_id=sub.payment_method_id,  # type: ignore[attr-defined]
                status=PaymentStatus.FAILED if unpaid else PaymentStatus.SUCCEEDED,
                amount=sub.price_amount,
                currency=sub.currency,
                card_brand="visa",
                card_last4="4242",
                failure_code="INSUFFICIENT_FUNDS" if unpaid else None,
                failure_message="Your card has insufficient funds." if unpaid else None,
                gateway_reference=f"ch_{uuid.uuid4().hex}",
                created_at=issued + timedelta(seconds=1),
                updated_at=issued + timedelta(seconds=1),
            )
        )
    await Invoice.bulk_create(bills, batch_size=250)
    await Payment.bulk_create(payments, batch_size=250)
    await InvoiceCounter.filter(id=counter.id).update(last_number=number)
