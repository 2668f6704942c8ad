"""Both ways into the portal, end to end through HTTP, with the email caught by a real SMTP
server and the link followed from the mail body."""

from __future__ import annotations

import re
from datetime import timedelta

from conftest import Portal
from models.clock import clock
from services.businesses import NewBusiness
from support import (
    SIGN_IN,
    MailCatcher,
    create_customer,
    deliver_mail,
    link_in,
    portal_link,
    token_of,
)

ME = "{ me { id email name phoneNumber } business { id name } }"
CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, html
    return match.group(1)


async def test_static_link_flow_from_login_page_to_portal(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    key = acme.test_api_key
    customer_id = await create_customer(portal.gql, key, "Ada@Example.com", "Ada Lovelace")
    business_id = acme.business.id

    page = await portal.http.get(f"/test/login/{business_id}")
    assert page.status_code == 200
    assert '<label for="email">' in page.text and 'type="email"' in page.text
    assert "<script" not in page.text  # works without JavaScript
    csrf = csrf_from(page.text)

    sent = await portal.http.post(
        f"/test/login/{business_id}", data={"email": "ada@example.com", "csrf": csrf}
    )
    assert sent.status_code == 200, sent.text
    assert await deliver_mail(portal.settings) == 1
    [mail] = smtp.to("Ada@Example.com")
    link = link_in(mail)
    assert link.startswith("http://portal.test/test/session/")

    # Opening the link (a mail scanner, or the customer) does not use it up.
    path = link.removeprefix("http://portal.test")
    for _ in range(2):
        landing = await portal.http.get(path)
        assert landing.status_code == 200
        assert landing.headers["referrer-policy"] == "no-referrer"
    signed_in = await portal.http.post(path, data={"csrf": csrf_from(landing.text)})
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/test/portal"
    cookie = signed_in.headers["set-cookie"]
    assert cookie.startswith("portal_session=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie

    home = await portal.http.get("/test/portal")
    assert home.status_code == 200
    assert "Ada@example.com" in home.text and "Ada Lovelace" in home.text

    # The cookie is a portal session the API accepts as a bearer token too.
    token = portal.http.cookies["portal_session"]
    portal.http.cookies.clear()
    data = await portal.gql(ME, token=token)
    assert data["me"]["id"] == customer_id
    assert data["business"]["id"] == business_id

    # The link worked once.
    landing = await portal.http.get(path)
    again = await portal.http.post(path, data={"csrf": csrf_from(landing.text)})
    assert again.status_code == 410
    assert "expired" in again.text


async def test_magic_link_flow_with_email(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    key = acme.test_api_key
    customer_id = await create_customer(portal.gql, key, "bruno@example.com", "Bruno")
    link = await portal_link(
        portal.gql, key, customer_id, sendEmail=True, returnUrl="https://acme.example/account"
    )
    assert await deliver_mail(portal.settings) == 1
    [mail] = smtp.to("bruno@example.com")
    assert link_in(mail) == link

    data = await portal.gql(SIGN_IN, {"input": {"token": token_of(link_in(mail))}})
    result = data["signIn"]
    assert result["userErrors"] == []
    assert result["customer"]["id"] == customer_id
    assert result["returnUrl"] == "https://acme.example/account"
    me = await portal.gql(ME, token=result["sessionToken"])
    assert me["me"]["email"] == "bruno@example.com"


async def test_link_works_once_and_not_after_24_hours(portal: Portal, acme: NewBusiness) -> None:
    key = acme.test_api_key
    customer_id = await create_customer(portal.gql, key, "cleo@example.com")
    clock.freeze()
    fresh = await portal_link(portal.gql, key, customer_id)
    stale = await portal_link(portal.gql, key, customer_id)

    clock.advance(timedelta(hours=23, minutes=59))
    ok = await portal.gql(SIGN_IN, {"input": {"token": token_of(fresh)}})
    assert ok["signIn"]["userErrors"] == []
    used = await portal.gql(SIGN_IN, {"input": {"token": token_of(fresh)}})
    assert [e["code"] for e in used["signIn"]["userErrors"]] == ["LINK_EXPIRED"]
    assert used["signIn"]["sessionToken"] is None

    clock.advance(timedelta(minutes=1, seconds=1))
    expired = await portal.gql(SIGN_IN, {"input": {"token": token_of(stale)}})
    assert [e["code"] for e in expired["signIn"]["userErrors"]] == ["LINK_EXPIRED"]


async def test_tampered_and_other_mode_tokens_are_expired_links(
    portal: Portal, acme: NewBusiness
) -> None:
    key = acme.test_api_key
    customer_id = await create_customer(portal.gql, key, "dora@example.com")
    link = await portal_link(portal.gql, key, customer_id)
    token = token_of(link)
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    for bad in (tampered, "", "x" * 500, "../../etc/passwd"):
        data = await portal.gql(SIGN_IN, {"input": {"token": bad}})
        assert [e["code"] for e in data["signIn"]["userErrors"]] == ["LINK_EXPIRED"], bad

    # A test-mode link opened on the live path does not sign in, and is not used up by trying.
    live = await portal.gql(SIGN_IN, {"input": {"token": token, "mode": "LIVE"}})
    assert [e["code"] for e in live["signIn"]["userErrors"]] == ["LINK_EXPIRED"]
    page = await portal.http.get(f"/session/{token}")
    post = await portal.http.post(f"/session/{token}", data={"csrf": csrf_from(page.text)})
    assert post.status_code == 410
    ok = await portal.gql(SIGN_IN, {"input": {"token": token, "mode": "TEST"}})
    assert ok["signIn"]["userErrors"] == []
