"""The customer edits their profile: name and phone at once, a new email only after the link
sent to it is followed, and a notice to the old address when it changes."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

import httpx

from conftest import Portal
from models import LinkPurpose, LoginLink
from models.clock import clock
from services.businesses import NewBusiness
from support import (
    MailCatcher,
    code_of,
    create_customer,
    deliver_mail,
    link_in,
    session_for,
    text_body,
    token_of,
)

ME = "{ me { id email name phoneNumber } }"
UPDATE_PROFILE = """
mutation($input: UpdateProfileInput!) {
  updateProfile(input: $input) {
    customer { id email name phoneNumber }
    emailConfirmationSent
    userErrors { code field message }
  }
}"""
CONFIRM = """
mutation($input: ConfirmEmailChangeInput!) {
  confirmEmailChange(input: $input) {
    customer { id email }
    userErrors { code field message }
  }
}"""
REQUEST_LOGIN_LINK = """
mutation($i: RequestLoginLinkInput!) { requestLoginLink(input: $i) { userErrors { code } } }"""
CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, html
    return match.group(1)


async def customer_session(
    portal: Portal, acme: NewBusiness, email: str, name: str = "Old Name"
) -> tuple[str, str]:
    customer_id = await create_customer(portal.gql, acme.test_api_key, email, name)
    token = await session_for(portal.gql, acme.test_api_key, customer_id)
    portal.http.cookies.clear()  # only the bearer token from here on
    return customer_id, token


async def update(portal: Portal, token: str, **fields: Any) -> dict[str, Any]:
    data = await portal.gql(UPDATE_PROFILE, {"input": fields}, token=token)
    return dict(data["updateProfile"])


async def me(portal: Portal, token: str) -> dict[str, Any]:
    return dict((await portal.gql(ME, token=token))["me"])


async def open_confirmation(portal: Portal, link: str) -> tuple[str, httpx.Response]:
    path = link.removeprefix(portal.settings.public_url)
    page = await portal.http.get(path)
    return path, page


async def test_name_and_phone_change_at_once(portal: Portal, acme: NewBusiness) -> None:
    customer_id, token = await customer_session(portal, acme, "nora@example.com")
    result = await update(portal, token, name="  Nora   Neu ", phoneNumber="+49 151 23456789")
    assert result["userErrors"] == []
    assert result["emailConfirmationSent"] is False
    expected = {
        "id": customer_id,
        "email": "nora@example.com",
        "name": "Nora Neu",
        "phoneNumber": "+4915123456789",
    }
    assert result["customer"] == expected
    assert await me(portal, token) == expected

    # The merchant sees the same.
    data = await portal.gql(
        "query($id: ID!) { customer(id: $id) { name phoneNumber } }",
        {"id": customer_id},
        token=acme.test_api_key,
    )
    assert data["customer"] == {"name": "Nora Neu", "phoneNumber": "+4915123456789"}

    # Only what is sent changes; null clears.
    result = await update(portal, token, phoneNumber=None)
    assert result["customer"]["phoneNumber"] is None
    assert result["customer"]["name"] == "Nora Neu"


async def test_invalid_phone_changes_nothing(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    _, token = await customer_session(portal, acme, "omar@example.com")
    await update(portal, token, phoneNumber="+4915123456789")
    before = await me(portal, token)
    for bad in ("0151 23456789", "+49 12", "call me", "+999999999999999"):
        result = await update(
            portal, token, name="New Name", phoneNumber=bad, email="omar.new@example.com"
        )
        assert result["customer"] is None
        assert result["emailConfirmationSent"] is False
        assert [(e["code"], e["field"]) for e in result["userErrors"]] == [
            ("INVALID_PHONE_NUMBER", ["phoneNumber"])
        ], bad
        assert "+4915123456789" in result["userErrors"][0]["message"]  # says how
    assert await me(portal, token) == before
    assert await deliver_mail(portal.settings) == 0
    assert smtp.messages == []


async def test_invalid_email_changes_nothing(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    _, token = await customer_session(portal, acme, "pia@example.com")
    before = await me(portal, token)
    for bad in ("pia@", "not an email", ""):
        result = await update(portal, token, name="Changed", email=bad)
        assert [e["code"] for e in result["userErrors"]] == ["INVALID_EMAIL"], bad
        assert result["emailConfirmationSent"] is False
    assert await me(portal, token) == before
    assert await deliver_mail(portal.settings) == 0


async def test_new_email_is_taken_only_after_confirmation(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    customer_id, token = await customer_session(portal, acme, "quinn@example.com", "Quinn")
    result = await update(portal, token, email="Quinn.New@Example.com", name="Quinn Q")
    assert result["userErrors"] == []
    assert result["emailConfirmationSent"] is True
    assert result["customer"]["email"] == "quinn@example.com"
    assert result["customer"]["name"] == "Quinn Q"  # the name changed at once
    assert (await me(portal, token))["email"] == "quinn@example.com"

    assert await deliver_mail(portal.settings) == 1
    assert smtp.to("quinn@example.com") == []  # nothing to the old address yet
    [mail] = smtp.to("Quinn.New@Example.com")
    assert "confirm your new email address" in str(mail["Subject"])
    link = link_in(mail)
    assert link.startswith("http://portal.test/test/confirm-email/")

    # Opening the link (a mail scanner, or the customer) only shows a button.
    path, page = await open_confirmation(portal, link)
    assert page.status_code == 200
    assert "Confirm email address" in page.text and "<form" in page.text
    path, page = await open_confirmation(portal, link)
    assert page.status_code == 200
    assert (await me(portal, token))["email"] == "quinn@example.com"

    # Without the form's csrf, nothing happens.
    refused = await portal.http.post(path, data={"csrf": "forged"})
    assert refused.status_code == 403
    assert (await me(portal, token))["email"] == "quinn@example.com"

    confirmed = await portal.http.post(path, data={"csrf": csrf_from(page.text)})
    assert confirmed.status_code == 200, confirmed.text
    assert "Email address changed" in confirmed.text
    assert "Quinn.New@example.com" in confirmed.text
    assert (await me(portal, token)) == {
        "id": customer_id,
        "email": "Quinn.New@example.com",
        "name": "Quinn Q",
        "phoneNumber": None,
    }

    # The old address hears about it.
    assert await deliver_mail(portal.settings) == 1
    [notice] = smtp.to("quinn@example.com")
    assert "has been changed" in str(notice["Subject"])
    assert "Quinn.New@example.com" in text_body(notice)
    assert "support@acme.example" in text_body(notice)
    assert len(smtp.messages) == 2

    # The link worked once.
    _, page = await open_confirmation(portal, link)
    again = await portal.http.post(path, data={"csrf": csrf_from(page.text)})
    assert again.status_code == 410
    data = await portal.gql(CONFIRM, {"input": {"token": token_of(link)}})
    assert [e["code"] for e in data["confirmEmailChange"]["userErrors"]] == ["LINK_EXPIRED"]
    assert await deliver_mail(portal.settings) == 0

    # The new address signs in from the login page from now on; the old one does not.
    for address in ("quinn@example.com", "quinn.new@example.com"):
        await portal.gql(
            REQUEST_LOGIN_LINK,
            {"i": {"businessId": acme.business.id, "email": address, "mode": "TEST"}},
        )
    assert await deliver_mail(portal.settings) == 1
    assert len(smtp.to("Quinn.New@example.com")) == 2


async def test_confirmation_link_expires_and_is_bound_to_its_mode(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    clock.freeze()
    customer_id, token = await customer_session(portal, acme, "rosa@example.com")
    assert (await update(portal, token, email="rosa.new@example.com"))["emailConfirmationSent"]
    assert await deliver_mail(portal.settings) == 1
    link = link_in(smtp.to("rosa.new@example.com")[0])

    # The live path does not confirm a test-mode change, and does not use the link up.
    live = await portal.gql(CONFIRM, {"input": {"token": token_of(link), "mode": "LIVE"}})
    assert [e["code"] for e in live["confirmEmailChange"]["userErrors"]] == ["LINK_EXPIRED"]
    pending = LoginLink.filter(purpose=LinkPurpose.CONFIRM_EMAIL, used_at__isnull=True)
    assert await pending.count() == 1

    clock.advance(timedelta(seconds=portal.settings.email_confirmation_ttl_seconds + 1))
    path, page = await open_confirmation(portal, link)
    expired = await portal.http.post(path, data={"csrf": csrf_from(page.text)})
    assert expired.status_code == 410
    data = await portal.gql(
        "query($id: ID!) { customer(id: $id) { email } }",
        {"id": customer_id},
        token=acme.test_api_key,
    )
    assert data["customer"]["email"] == "rosa@example.com"
    assert await deliver_mail(portal.settings) == 0


async def test_email_of_another_customer_cannot_be_confirmed(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    customer_id, token = await customer_session(portal, acme, "sam@example.com", "Sam")
    other_id = await create_customer(portal.gql, acme.test_api_key, "taken@example.com", "Tia")

    # Asking looks the same as for a free address: the portal does not reveal who is a customer.
    result = await update(portal, token, email="TAKEN@example.com")
    assert result["userErrors"] == []
    assert result["emailConfirmationSent"] is True
    assert await deliver_mail(portal.settings) == 1
    link = link_in(smtp.to("taken@example.com")[0])

    path, page = await open_confirmation(portal, link)
    refused = await portal.http.post(path, data={"csrf": csrf_from(page.text)})
    assert refused.status_code == 409
    assert "Another customer already uses this email address." in refused.text

    data = await portal.gql(CONFIRM, {"input": {"token": token_of(link)}})
    payload = data["confirmEmailChange"]
    assert payload["customer"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("EMAIL_TAKEN", ["email"])]

    # Nothing changed for either customer, and nobody was told of a change.
    assert (await me(portal, token))["email"] == "sam@example.com"
    other = await portal.gql(
        "query($id: ID!) { customer(id: $id) { email name } }",
        {"id": other_id},
        token=acme.test_api_key,
    )
    assert other["customer"] == {"email": "taken@example.com", "name": "Tia"}
    mine = await portal.gql(
        "query($id: ID!) { customer(id: $id) { email } }",
        {"id": customer_id},
        token=acme.test_api_key,
    )
    assert mine["customer"]["email"] == "sam@example.com"
    assert await deliver_mail(portal.settings) == 0
    assert smtp.to("sam@example.com") == []


async def test_same_address_in_another_case_sends_nothing(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    _, token = await customer_session(portal, acme, "uma@example.com")
    result = await update(portal, token, email="UMA@example.com")
    assert result["userErrors"] == []
    assert result["emailConfirmationSent"] is False
    assert await deliver_mail(portal.settings) == 0


async def test_only_a_customer_session_may_update_a_profile(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    customer_id = await create_customer(portal.gql, acme.test_api_key, "vic@example.com", "Vic")
    for token in (acme.test_api_key, acme.live_api_key, None):
        error = await portal.gql.error(
            UPDATE_PROFILE, {"input": {"name": "Hacked", "email": "x@example.com"}}, token=token
        )
        assert code_of(error) == "UNAUTHENTICATED", error
    data = await portal.gql(
        "query($id: ID!) { customer(id: $id) { name email } }",
        {"id": customer_id},
        token=acme.test_api_key,
    )
    assert data["customer"] == {"name": "Vic", "email": "vic@example.com"}
    assert await deliver_mail(portal.settings) == 0


async def test_customers_confirming_the_same_new_email_at_once(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    """One wins; every other one is told EMAIL_TAKEN (a unique-constraint race on PostgreSQL,
    not a server error), and the address changes once. Three rounds of eight at once: the race
    is a matter of timing, and each round is another chance for it."""
    for round_ in range(3):
        prize = f"prize{round_}@example.com"
        tokens = []
        for n in range(8):
            _, token = await customer_session(portal, acme, f"racer{round_}-{n}@example.com")
            assert (await update(portal, token, email=prize))["emailConfirmationSent"]
            tokens.append(token)
        await deliver_mail(portal.settings)
        links = [link_in(message) for message in smtp.to(prize)]
        assert len(links) == 8
        results = await asyncio.gather(
            *(portal.gql(CONFIRM, {"input": {"token": token_of(link)}}) for link in links)
        )
        payloads = [result["confirmEmailChange"] for result in results]
        winners = [p for p in payloads if not p["userErrors"]]
        assert len(winners) == 1 and winners[0]["customer"]["email"] == prize
        codes = [p["userErrors"][0]["code"] for p in payloads if p["userErrors"]]
        assert codes == ["EMAIL_TAKEN"] * 7
        emails = [(await me(portal, token))["email"] for token in tokens]
        assert emails.count(prize) == 1
