"""`portal demo`: a demo business with customers, its keys and links, for trying things out."""

from __future__ import annotations

from app.settings import Settings
from models import Business, Mode
from services.access.api_keys import create_api_key
from services.access.links import create_portal_link
from services.businesses import create_business, portal_login_url
from services.customers import create_customer, find_customer_by_email
from services.scope import Scope

DEMO_NAME = "Acme Demo GmbH"
DEMO_CUSTOMERS = [
    ("ada@example.com", "Ada Lovelace", "+4915123456789", "en"),
    ("bruno@example.com", "Bruno Schmidt", "+4930123456", "de"),
    ("chloe@example.com", "Chloé Martin", None, "en"),
]


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
    first = None
    for email, name, phone, locale in DEMO_CUSTOMERS:
        customer = await find_customer_by_email(scope, email)
        if customer is None:
            customer = await create_customer(scope, email=email, name=name, phone_number=phone)
            customer.locale = locale
            await customer.save(update_fields=["locale"])
        first = first or customer
    assert first is not None
    magic = await create_portal_link(settings, scope, customer_id=first.id)

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
            f"  GraphiQL: {settings.public_url}/graphql",
        ]
    )
