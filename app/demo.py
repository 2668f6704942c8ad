"""`portal demo`: a demo business with customers in every state (ACTIVE with a license key,
ON_HOLD after a failed renewal, CANCELLED), its keys and links, for trying things out."""

from __future__ import annotations

from datetime import timedelta

from app.settings import Settings
from models import (
    Business,
    CancellationReason,
    Customer,
    Mode,
    Product,
    Subscription,
    TimeInterval,
)
from models.clock import now
from services.access.api_keys import create_api_key
from services.access.links import create_portal_link
from services.billing.charging import CardInput
from services.billing.dunning import update_payment_method
from services.billing.one_time import create_payment
from services.billing.products import create_product
from services.billing.renewals import renew_subscription
from services.billing.subscriptions import (
    cancel_subscription,
    create_subscription,
    update_subscription,
)
from services.businesses import create_business, portal_login_url
from services.customers import create_customer, find_customer_by_email
from services.payments.cards import RawCard
from services.scope import Scope

DEMO_NAME = "Acme Demo GmbH"
DEMO_CUSTOMERS = [
    ("ada@example.com", "Ada Lovelace", "+4915123456789", "en"),
    ("bruno@example.com", "Bruno Schmidt", "+4930123456", "de"),
    ("chloe@example.com", "Chloé Martin", None, "en"),
]


async def _products(scope: Scope) -> tuple[Product, Product]:
    plan = await Product.get_or_none(
        business_id=scope.business_id, mode=scope.mode, name="Pro plan"
    )
    if plan is None:
        plan = await create_product(
            scope,
            name="Pro plan",
            description="Everything, billed monthly.",
            price_amount=1500,
            currency="EUR",
            interval=TimeInterval.MONTH,
            interval_count=1,
            license_key_enabled=True,
            license_key_activations_limit=3,
        )
    ebook = await Product.get_or_none(business_id=scope.business_id, mode=scope.mode, name="E-book")
    if ebook is None:
        ebook = await create_product(
            scope,
            name="E-book",
            description="The handbook, as a PDF.",
            price_amount=900,
            currency="EUR",
            interval=None,
            interval_count=None,
        )
    return plan, ebook


async def _give_history(settings: Settings, scope: Scope, customer_id: str, which: int) -> None:
    """Ada: ACTIVE with a license key and a one-time purchase. Bruno: ON_HOLD after a failed
    renewal (his card declines every charge). Chloé: CANCELLED."""
    plan, ebook = await _products(scope)
    number = "4000000000000341" if which == 1 else "4242424242424242"
    good = CardInput(card=RawCard("4242424242424242", 12, 2034, "123"))
    created = await create_subscription(
        settings,
        scope,
        "demo",
        customer_id=customer_id,
        product_id=plan.id,
        card=good,
        idempotency_key=None,
    )
    subscription = created.subscription
    assert subscription is not None
    if which == 0:
        await create_payment(
            settings,
            scope,
            "demo",
            customer_id=customer_id,
            product_id=ebook.id,
            card=good,
            idempotency_key=None,
        )
    elif which == 1:
        customer_scope = Scope(scope.business_id, scope.mode, customer_id)
        declining = CardInput(card=RawCard(number, 12, 2034, "123"))
        await update_payment_method(
            settings,
            customer_scope,
            customer_id,
            subscription_id=subscription.id,
            card=declining,
            idempotency_key=None,
        )
        await update_subscription(
            scope, subscription.id, next_billing_date=now() - timedelta(minutes=1)
        )
        await renew_subscription(settings, await Subscription.get(id=subscription.id))
    else:
        await cancel_subscription(
            settings,
            Scope(scope.business_id, scope.mode, customer_id),
            subscription.id,
            at_period_end=False,
            reason=CancellationReason.TOO_EXPENSIVE,
            comment=None,
        )


async def seed_demo(settings: Settings) -> str:
    business = await Business.get_or_none(name=DEMO_NAME)
    if business is None:
        created = await create_business(DEMO_NAME, "support@acme.example", "en")
        business, test_key, live_key = created.business, created.test_api_key, created.live_api_key
    else:
        # Keys are stored hashed and cannot be shown again: issue fresh ones for this run.
        _, test_key = await create_api_key(business, Mode.TEST)
        _, live_key = await create_api_key(business, Mode.LIVE)
    scope = Scope(business.id, Mode.TEST)
    customers: list[Customer] = []
    for email, name, phone, locale in DEMO_CUSTOMERS:
        customer = await find_customer_by_email(scope, email)
        if customer is None:
            customer = await create_customer(scope, email=email, name=name, phone_number=phone)
            customer.locale = locale
            await customer.save(update_fields=["locale"])
            await _give_history(settings, scope, customer.id, len(customers))
        customers.append(customer)
    first = customers[0]
    magic = await create_portal_link(settings, scope, customer_id=first.id)
    on_hold = await create_portal_link(settings, scope, customer_id=customers[1].id)

    def login_url(mode: Mode) -> str:
        return portal_login_url(settings.public_url, business.id, mode)

    return "\n".join(
        [
            f"Demo business {business.name} ({business.id})",
            f"  test API key:  {test_key}",
            f"  live API key:  {live_key}",
            f"  static login (test): {login_url(Mode.TEST)}",
            f"  static login (live): {login_url(Mode.LIVE)}",
            f"  magic link for {first.email} (test, one use, 24 h): {magic.url}",
            f"  magic link for {customers[1].email} (ON_HOLD: update the card to pay): "
            f"{on_hold.url}",
            f"  GraphiQL: {settings.public_url}/graphql",
        ]
    )
