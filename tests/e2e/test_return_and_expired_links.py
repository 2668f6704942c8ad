"""The way back to the merchant (returnUrl, the business's default) and the way back in after a
used or expired link, on a device that never saw the portal: through HTTP, with the new link
caught by a real SMTP server and followed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx

from conftest import Portal, make_portal
from models.clock import clock
from services.businesses import NewBusiness
from support import (
    CREATE_PORTAL_SESSION,
    MailCatcher,
    create_customer,
    deliver_mail,
    link_in,
    portal_link,
    token_of,
)

CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')
BACK_RE = re.compile(r'<p class="back-link"><a href="([^"]*)"[^>]*>([^<]*)</a>')
SIGN_IN = """
mutation($input: SignInInput!) {
  signIn(input: $input) { sessionToken businessId returnUrl userErrors { code } }
}"""
UPDATE_BUSINESS = """
mutation($input: UpdateBusinessInput!) {
  updateBusiness(input: $input) {
    business { portalReturnUrl returnUrl } userErrors { code field }
  }
}"""
BUSINESS = "{ business { portalReturnUrl returnUrl } }"


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, html
    return match.group(1)


async def open_link(http: httpx.AsyncClient, link: str) -> httpx.Response:
    """What a browser does with a link from an email: GET the landing page, press the button."""
    path = link.removeprefix("http://portal.test")
    landing = await http.get(path)
    assert landing.status_code == 200
    return await http.post(path, data={"csrf": csrf_from(landing.text)})


def back_link(html: str) -> tuple[str, str] | None:
    found = BACK_RE.search(html)
    return (found.group(1).replace("&amp;", "&"), found.group(2)) if found else None


async def test_return_url_shows_back_link_on_every_page(portal: Portal, acme: NewBusiness) -> None:
    key = acme.test_api_key
    customer_id = await create_customer(portal.gql, key, "ada@example.com", "Ada")
    link = await portal_link(
        portal.gql, key, customer_id, returnUrl="https://app.acme.example/account?tab=billing&x=1"
    )
    signed_in = await open_link(portal.http, link)
    assert signed_in.status_code == 303
    for path in (
        "/test/portal",
        "/test/portal/subscriptions",
        "/test/portal/invoices",
        "/test/portal/payments",
        "/test/portal/license-keys",
        "/test/portal/profile",
        "/test/portal/billing-details",
    ):
        page = await portal.http.get(path)
        assert page.status_code == 200, path
        assert back_link(page.text) == (
            "https://app.acme.example/account?tab=billing&x=1",
            "Back to Acme GmbH",
        ), path
    german = await portal.http.get("/test/portal?lang=de")
    assert back_link(german.text) == (
        "https://app.acme.example/account?tab=billing&x=1",
        "Zurück zu Acme GmbH",
    )
    # The API tells a portal frontend the same.
    token = portal.http.cookies["portal_session"]
    data = await portal.gql(BUSINESS, token=token)
    assert data["business"] == {
        "portalReturnUrl": None,
        "returnUrl": "https://app.acme.example/account?tab=billing&x=1",
    }


async def test_business_default_return_url(portal: Portal, acme: NewBusiness) -> None:
    key = acme.test_api_key
    customer_id = await create_customer(portal.gql, key, "bo@example.com", "Bo")

    # Without any return URL there is no back link.
    await open_link(portal.http, await portal_link(portal.gql, key, customer_id))
    assert back_link((await portal.http.get("/test/portal")).text) is None

    changed = await portal.gql(
        UPDATE_BUSINESS, {"input": {"portalReturnUrl": "https://acme.example/app"}}, token=key
    )
    assert changed["updateBusiness"] == {
        "business": {
            "portalReturnUrl": "https://acme.example/app",
            "returnUrl": "https://acme.example/app",
        },
        "userErrors": [],
    }
    # The running session now shows the default; a link's own returnUrl wins over it.
    assert back_link((await portal.http.get("/test/portal")).text) == (
        "https://acme.example/app",
        "Back to Acme GmbH",
    )
    own = await portal_link(portal.gql, key, customer_id, returnUrl="http://localhost:3000/back")
    async with make_portal_client(portal) as other:
        await open_link(other, own)
        assert back_link((await other.get("/test/portal")).text) == (
            "http://localhost:3000/back",
            "Back to Acme GmbH",
        )

    # Cleared with null: no link again.
    cleared = await portal.gql(UPDATE_BUSINESS, {"input": {"portalReturnUrl": None}}, token=key)
    assert cleared["updateBusiness"]["business"]["portalReturnUrl"] is None
    assert back_link((await portal.http.get("/test/portal")).text) is None


BAD_URLS = [
    "javascript:alert(1)",
    "/account",
    "//evil.example/",
    "http://acme.example/",  # http only for localhost
    "http://localhost.evil.example/",
    "ftp://acme.example/",
    "https://",
    "https://user:pass@acme.example/",
    "https://acme.example/a b",
    "https://acme.example/\\evil",
    "https://acme.example:99999/",
    "https://acme.example/" + "a" * 2000,
    "data:text/html,<script>alert(1)</script>",
]


async def test_unsafe_return_urls_are_refused_and_nothing_changes(
    portal: Portal, acme: NewBusiness
) -> None:
    key = acme.test_api_key
    customer_id = await create_customer(portal.gql, key, "cy@example.com")
    await portal.gql(
        UPDATE_BUSINESS, {"input": {"portalReturnUrl": "https://acme.example/ok"}}, token=key
    )
    for bad in BAD_URLS:
        data = await portal.gql(
            CREATE_PORTAL_SESSION, {"input": {"customerId": customer_id, "returnUrl": bad}}, key
        )
        payload = data["createCustomerPortalSession"]
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
            ("INVALID_URL", ["returnUrl"])
        ], bad
        assert payload["portalSession"] is None
        changed = await portal.gql(
            UPDATE_BUSINESS, {"input": {"portalReturnUrl": bad, "name": "Changed"}}, token=key
        )
        assert changed["updateBusiness"]["business"] is None, bad
        assert [(e["code"], e["field"]) for e in changed["updateBusiness"]["userErrors"]] == [
            ("INVALID_URL", ["portalReturnUrl"])
        ], bad
    after = await portal.gql("{ business { name portalReturnUrl } }", token=key)
    assert after["business"] == {"name": "Acme GmbH", "portalReturnUrl": "https://acme.example/ok"}

    # No other input reaches the link: a page's query string is not a return URL.
    await open_link(portal.http, await portal_link(portal.gql, key, customer_id))
    page = await portal.http.get(
        "/test/portal", params={"returnUrl": "https://evil.example/", "next": "//evil.example"}
    )
    assert "evil.example" not in page.text
    assert back_link(page.text) == ("https://acme.example/ok", "Back to Acme GmbH")

    # A customer's session cannot set the default.
    token = portal.http.cookies["portal_session"]
    refused = await portal.gql.error(
        UPDATE_BUSINESS, {"input": {"portalReturnUrl": "https://evil.example/"}}, token=token
    )
    assert refused["extensions"]["code"] == "UNAUTHENTICATED"  # needs a merchant key
    after = await portal.gql("{ business { portalReturnUrl } }", token=key)
    assert after["business"]["portalReturnUrl"] == "https://acme.example/ok"


@asynccontextmanager
async def make_portal_client(portal: Portal) -> AsyncIterator[httpx.AsyncClient]:
    """A second browser on the same app: a device that never saw the portal."""
    http, _ = await make_portal(portal.settings)
    async with http:
        yield http


async def test_expired_link_on_a_new_device_sends_a_new_link_that_works(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    key = acme.test_api_key
    customer_id = await create_customer(portal.gql, key, "dee@example.com", "Dee")
    clock.freeze()
    link = await portal_link(portal.gql, key, customer_id)
    clock.advance(timedelta(hours=25))

    # signIn names the link's business, and only that.
    data = await portal.gql(SIGN_IN, {"input": {"token": token_of(link)}})
    assert data["signIn"] == {
        "sessionToken": None,
        "businessId": acme.business.id,
        "returnUrl": None,
        "userErrors": [{"code": "LINK_EXPIRED"}],
    }

    async with make_portal_client(portal) as device:
        assert "portal_business" not in device.cookies
        expired = await open_link(device, link)
        assert expired.status_code == 410
        assert "Acme GmbH" in expired.text
        assert f'action="/test/login/{acme.business.id}"' in expired.text
        sent = await device.post(
            f"/test/login/{acme.business.id}",
            data={"email": "dee@example.com", "csrf": csrf_from(expired.text)},
        )
        assert sent.status_code == 200
        assert await deliver_mail(portal.settings) == 1
        [mail] = smtp.to("dee@example.com")
        fresh = link_in(mail)
        assert fresh.startswith("http://portal.test/test/session/")
        signed_in = await open_link(device, fresh)
        assert signed_in.status_code == 303
        home = await device.get("/test/portal")
        assert home.status_code == 200 and "dee@example.com" in home.text


async def test_used_link_offers_a_new_one_without_telling_whether_an_email_exists(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    key = acme.test_api_key
    customer_id = await create_customer(portal.gql, key, "eve@example.com")
    link = await portal_link(portal.gql, key, customer_id)
    await open_link(portal.http, link)  # used on one device

    async with make_portal_client(portal) as device:
        used = await open_link(device, link)
        assert used.status_code == 410
        assert f'action="/test/login/{acme.business.id}"' in used.text
        csrf = csrf_from(used.text)
        known = await device.post(
            f"/test/login/{acme.business.id}", data={"email": "eve@example.com", "csrf": csrf}
        )
        unknown = await device.post(
            f"/test/login/{acme.business.id}", data={"email": "nobody@example.com", "csrf": csrf}
        )
        assert known.status_code == unknown.status_code == 200
        assert known.text.replace("eve@example.com", "X") == unknown.text.replace(
            "nobody@example.com", "X"
        )
    assert await deliver_mail(portal.settings) == 1
    assert len(smtp.to("eve@example.com")) == 1 and smtp.to("nobody@example.com") == []


async def test_unknown_tokens_name_no_business(portal: Portal, acme: NewBusiness) -> None:
    key = acme.test_api_key
    customer_id = await create_customer(portal.gql, key, "fay@example.com")
    token = token_of(await portal_link(portal.gql, key, customer_id))
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    for bad in (tampered, "", "x" * 500):
        data = await portal.gql(SIGN_IN, {"input": {"token": bad}})
        assert data["signIn"]["businessId"] is None, bad
    # A token of the other mode names nothing either (and is not used up).
    data = await portal.gql(SIGN_IN, {"input": {"token": token, "mode": "LIVE"}})
    assert data["signIn"]["businessId"] is None
    async with make_portal_client(portal) as device:
        page = await device.get(f"/test/session/{tampered}")
        post = await device.post(f"/test/session/{tampered}", data={"csrf": csrf_from(page.text)})
        assert post.status_code == 410
        assert "/login/" not in post.text and "Acme" not in post.text
    ok = await portal.gql(SIGN_IN, {"input": {"token": token}})
    assert ok["signIn"]["businessId"] == acme.business.id and ok["signIn"]["userErrors"] == []
