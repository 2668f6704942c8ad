"""Times in a business's emails and pages are in its time zone: Europe/Berlin for a German
business unless it chose another, UTC otherwise; a merchant sets it with updateBusiness."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from conftest import Portal
from models import Business, LoginLink
from models.clock import clock
from services.businesses import NewBusiness
from support import (
    MailCatcher,
    create_customer,
    create_product,
    deliver_mail,
    session_for,
    subscribe,
    text_body,
)

ZONE = "{ business { timeZone } }"
SET_ZONE = """
mutation($zone: String) { updateBusiness(input: {timeZone: $zone}) {
  business { timeZone } userErrors { code field } } }"""


async def test_the_default_rule_and_the_merchant_s_choice(
    portal: Portal, acme: NewBusiness, globex: NewBusiness
) -> None:
    gql = portal.gql
    # Acme writes in English and has no legal address: UTC. Globex writes German: Berlin.
    assert (await gql(ZONE, token=acme.test_api_key))["business"] == {"timeZone": "UTC"}
    assert (await gql(ZONE, token=globex.test_api_key))["business"] == {"timeZone": "Europe/Berlin"}
    # A legal address in Germany makes a business German whatever its language.
    await Business.filter(id=acme.business.id).update(country="DE")
    assert (await gql(ZONE, token=acme.test_api_key))["business"] == {"timeZone": "Europe/Berlin"}

    chosen = await gql(SET_ZONE, {"zone": "America/New_York"}, token=acme.test_api_key)
    assert chosen["updateBusiness"] == {
        "business": {"timeZone": "America/New_York"},
        "userErrors": [],
    }
    for bad in ("Mars/Olympus", "europe/berlin", "../etc/passwd", "", "x" * 100):
        refused = (await gql(SET_ZONE, {"zone": bad}, token=acme.test_api_key))["updateBusiness"]
        assert refused == {
            "business": None,
            "userErrors": [{"code": "INVALID_TIME_ZONE", "field": ["timeZone"]}],
        }, bad
    assert (await Business.get(id=acme.business.id)).time_zone == "America/New_York"
    # null returns to the default rule.
    back = (await gql(SET_ZONE, {"zone": None}, token=acme.test_api_key))["updateBusiness"]
    assert back["business"] == {"timeZone": "Europe/Berlin"}


async def test_a_sign_in_mail_shows_the_expiry_in_the_business_s_zone(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    gql, key = portal.gql, acme.test_api_key
    await create_customer(gql, key, "zoned@example.com", "Zoned")
    await gql(SET_ZONE, {"zone": "America/New_York"}, token=key)
    clock.freeze(datetime(2027, 1, 15, 3, 30, tzinfo=UTC))  # 22:30 the evening before in NY
    request = (
        "mutation($i: RequestLoginLinkInput!) { requestLoginLink(input: $i)"
        " { userErrors { code } } }"
    )
    sent = {"businessId": acme.business.id, "email": "zoned@example.com", "mode": "TEST"}
    await gql(request, {"i": sent})
    assert await deliver_mail(portal.settings) == 1
    [mail] = smtp.to("zoned@example.com")
    link = await LoginLink.filter(customer__email="zoned@example.com").first()
    assert link is not None
    local = link.expires_at.astimezone(ZoneInfo("America/New_York"))
    assert local.day == 14 and local.tzname() == "EST"
    body = text_body(mail)
    assert f"Jan 14, 2027, {local:%-I:%M:%S}\u202fPM EST" in body, body
    assert "UTC" not in body


async def test_pages_show_the_business_s_calendar_days(portal: Portal, globex: NewBusiness) -> None:
    gql, key = portal.gql, globex.test_api_key
    customer_id = await create_customer(gql, key, "tag@example.com", "Tag")
    product_id = await create_product(gql, key, amount=1000)
    # 23:30 UTC on 31 March is 01:30 on 1 April in Berlin (summer time).
    clock.freeze(datetime(2027, 3, 31, 23, 30, tzinfo=UTC))
    subscription_id = (await subscribe(gql, key, customer_id, product_id))["subscription"]["id"]
    portal.http.cookies.set("portal_session", await session_for(gql, key, customer_id))
    page = await portal.http.get(f"/test/portal/subscriptions/{subscription_id}?lang=en")
    assert page.status_code == 200
    assert "Apr 1, 2027" in page.text
    assert "Mar 31, 2027" not in page.text

    await gql(SET_ZONE, {"zone": "UTC"}, token=key)
    page = await portal.http.get(f"/test/portal/subscriptions/{subscription_id}?lang=en")
    assert "Mar 31, 2027" in page.text
