"""`requestLoginLink` and the static login page: the same answer whether or not an email belongs
to a customer, an email only when it does, and rate limits per email and per client."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import httpx

from conftest import Portal, make_portal
from models.clock import clock
from services.businesses import NewBusiness
from support import (
    GraphQLClient,
    MailCatcher,
    code_of,
    create_customer,
    deliver_mail,
    link_in,
    recorded_statements,
    token_of,
)

REQUEST = """
mutation($input: RequestLoginLinkInput!) {
  requestLoginLink(input: $input) { userErrors { code field message } }
}"""
CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')
# Headers that depend on the answer (not on the date or the connection).
HEADERS_THAT_MATTER = ("content-type", "content-length", "set-cookie", "cache-control")


def unique_email(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.com"


def fingerprint(response: httpx.Response) -> tuple[int, dict[str, str | None], bytes]:
    headers = {name: response.headers.get(name) for name in HEADERS_THAT_MATTER}
    return response.status_code, headers, response.content


async def request_link(
    gql: GraphQLClient, business_id: str, email: str, mode: str = "TEST"
) -> httpx.Response:
    variables = {"input": {"businessId": business_id, "email": email, "mode": mode}}
    return await gql.raw(REQUEST, variables)


async def login_page_csrf(http: httpx.AsyncClient, business_id: str) -> str:
    page = await http.get(f"/test/login/{business_id}")
    assert page.status_code == 200
    match = CSRF_RE.search(page.text)
    assert match, page.text
    return match.group(1)


async def test_answer_is_identical_for_known_and_unknown_emails_and_businesses(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    await create_customer(portal.gql, acme.test_api_key, "known@example.com", "Known")
    known = await request_link(portal.gql, acme.business.id, "known@example.com")
    unknown = await request_link(portal.gql, acme.business.id, "stranger@example.com")
    no_business = await request_link(portal.gql, "bus_doesnotexist0000000000", "known@example.com")
    garbage_business = await request_link(portal.gql, "x" * 300, "known@example.com")

    assert known.status_code == 200
    assert known.json() == {"data": {"requestLoginLink": {"userErrors": []}}}
    assert "set-cookie" not in known.headers
    for other in (unknown, no_business, garbage_business):
        assert fingerprint(other) == fingerprint(known)

    # Only the known address gets a mail, and it is a sign-in link for the test portal.
    assert await deliver_mail(portal.settings) == 1
    assert len(smtp.messages) == 1
    [mail] = smtp.to("known@example.com")
    assert link_in(mail).startswith("http://portal.test/test/session/")
    assert await deliver_mail(portal.settings) == 0


async def test_email_is_matched_case_insensitively(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    await create_customer(portal.gql, acme.test_api_key, "Mixed.Case@Example.com")
    response = await request_link(portal.gql, acme.business.id, "  mixed.case@EXAMPLE.com ")
    assert response.json() == {"data": {"requestLoginLink": {"userErrors": []}}}
    assert await deliver_mail(portal.settings) == 1
    assert len(smtp.to("Mixed.Case@Example.com")) == 1


async def test_login_page_answers_the_same_for_known_and_unknown(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    await create_customer(portal.gql, acme.test_api_key, "page@example.com")
    business_id = acme.business.id
    csrf = await login_page_csrf(portal.http, business_id)

    async def submit(path_business: str, email: str) -> httpx.Response:
        return await portal.http.post(
            f"/test/login/{path_business}", data={"email": email, "csrf": csrf}
        )

    known = await submit(business_id, "page@example.com")
    unknown = await submit(business_id, "nobody@example.com")
    no_business = await submit("bus_doesnotexist0000000000", "page@example.com")

    assert known.status_code == 200
    assert "page@example.com" in known.text and "Check your email" in known.text
    # A business's static page shows its branding (its id is 120 random bits: only someone who
    # was given the link knows it); an unknown business gets the same answer without it.
    assert no_business.status_code == known.status_code
    assert no_business.headers["content-type"] == known.headers["content-type"]
    assert "Check your email" in no_business.text and "page@example.com" in no_business.text
    assert "Acme GmbH" in known.text and "Acme GmbH" not in no_business.text
    # Known and unknown addresses: apart from the address typed in, byte for byte the same.
    as_if_known = unknown.content.replace(b"nobody@example.com", b"page@example.com")
    assert unknown.status_code == known.status_code
    assert unknown.headers["content-type"] == known.headers["content-type"]
    assert as_if_known == known.content

    assert await deliver_mail(portal.settings) == 1
    assert len(smtp.messages) == 1 and len(smtp.to("page@example.com")) == 1


async def test_login_page_without_csrf_sends_nothing(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    await create_customer(portal.gql, acme.test_api_key, "csrf@example.com")
    await login_page_csrf(portal.http, acme.business.id)
    for form in ({"email": "csrf@example.com"}, {"email": "csrf@example.com", "csrf": "forged"}):
        response = await portal.http.post(f"/test/login/{acme.business.id}", data=form)
        assert response.status_code == 403
        assert "The form has expired" in response.text
    assert await deliver_mail(portal.settings) == 0
    assert smtp.messages == []


async def test_malformed_email_is_invalid_and_sends_nothing(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    await create_customer(portal.gql, acme.test_api_key, "real@example.com")
    for bad in ("not-an-email", "real@", "@example.com", "", "real@example..com", "a b@c.de"):
        response = await request_link(portal.gql, acme.business.id, bad)
        body = response.json()
        assert "errors" not in body, body
        errors = body["data"]["requestLoginLink"]["userErrors"]
        assert [(e["code"], e["field"]) for e in errors] == [("INVALID_EMAIL", ["email"])], bad
        assert errors[0]["message"]

    # The page shows the error next to the field, keeps what was typed, and sends nothing.
    csrf = await login_page_csrf(portal.http, acme.business.id)
    page = await portal.http.post(
        f"/test/login/{acme.business.id}", data={"email": "real@", "csrf": csrf}
    )
    assert page.status_code == 400
    assert "Please enter a valid email address." in page.text
    assert 'value="real@"' in page.text and 'aria-invalid="true"' in page.text

    assert await deliver_mail(portal.settings) == 0
    assert smtp.messages == []


async def test_rate_limit_per_email_for_known_and_unknown_alike(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    await create_customer(portal.gql, acme.test_api_key, "busy@example.com")
    business_id = acme.business.id
    # Differently written, the same address: one bucket.
    spellings = ["busy@example.com", "BUSY@example.com", " Busy@Example.COM"]
    for email in ("busy@example.com", "ghost@example.com"):
        for attempt in range(5):
            variant = spellings[attempt % 3] if email.startswith("busy") else email
            response = await request_link(portal.gql, business_id, variant)
            assert response.json() == {"data": {"requestLoginLink": {"userErrors": []}}}
        limited = await portal.gql.error(
            REQUEST, {"input": {"businessId": business_id, "email": email.upper(), "mode": "TEST"}}
        )
        assert code_of(limited) == "RATE_LIMITED", limited
        assert "data" not in limited or limited.get("data") is None

    # Five emails went out for the known address, none for the sixth request.
    assert await deliver_mail(portal.settings) == 5
    assert len(smtp.to("busy@example.com")) == 5
    assert len(smtp.messages) == 5

    # Another address is not affected.
    other = await request_link(portal.gql, business_id, "fresh@example.com")
    assert other.json() == {"data": {"requestLoginLink": {"userErrors": []}}}


async def test_rate_limit_per_client_ip(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    await create_customer(portal.gql, acme.test_api_key, "ip1@example.com")
    http, gql = await make_portal(portal.with_settings(rate_limit_login_ip="3/hour"))
    async with http:
        for index in range(3):
            response = await request_link(gql, acme.business.id, f"ip{index + 1}@example.com")
            assert response.json() == {"data": {"requestLoginLink": {"userErrors": []}}}
        limited = await gql.error(
            REQUEST,
            {"input": {"businessId": acme.business.id, "email": "ip4@example.com", "mode": "TEST"}},
        )
        assert code_of(limited) == "RATE_LIMITED"
        # A spoofed X-Forwarded-For from an untrusted peer does not open a new bucket.
        spoofed = await http.post(
            "/graphql",
            json={
                "query": REQUEST,
                "variables": {
                    "input": {
                        "businessId": acme.business.id,
                        "email": "ip1@example.com",
                        "mode": "TEST",
                    }
                },
            },
            headers={"X-Forwarded-For": "198.51.100.99"},
        )
        assert spoofed.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        # The login page tells people to wait, with 429.
        csrf = await login_page_csrf(http, acme.business.id)
        page = await http.post(
            f"/test/login/{acme.business.id}", data={"email": "ip1@example.com", "csrf": csrf}
        )
        assert page.status_code == 429
        assert "Too many requests" in page.text
        assert "Check your email" not in page.text
    # Only the one request before the limit that named a customer produced a mail.
    assert await deliver_mail(portal.settings) == 1
    assert len(smtp.to("ip1@example.com")) == 1 and len(smtp.messages) == 1


async def test_ip_limit_behind_a_trusted_proxy_counts_the_forwarded_client(
    portal: Portal, acme: NewBusiness
) -> None:
    settings = portal.with_settings(
        rate_limit_login_ip="2/hour", trusted_proxies=frozenset({"203.0.113.7"})
    )
    http, _ = await make_portal(settings)

    async def from_client(ip: str, email: str) -> httpx.Response:
        variables = {"input": {"businessId": acme.business.id, "email": email, "mode": "TEST"}}
        return await http.post(
            "/graphql",
            json={"query": REQUEST, "variables": variables},
            headers={"X-Forwarded-For": f"{ip}, 203.0.113.7"},
        )

    async with http:
        for index in range(2):
            ok = await from_client("198.51.100.1", f"a{index}@example.com")
            assert ok.json() == {"data": {"requestLoginLink": {"userErrors": []}}}
        blocked = await from_client("198.51.100.1", "a9@example.com")
        assert blocked.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        other = await from_client("198.51.100.2", "b@example.com")
        assert other.json() == {"data": {"requestLoginLink": {"userErrors": []}}}


async def test_login_page_shows_429_when_the_email_is_limited(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    await create_customer(portal.gql, acme.test_api_key, "page-limit@example.com")
    csrf = await login_page_csrf(portal.http, acme.business.id)
    path = f"/test/login/{acme.business.id}"
    for _ in range(5):
        ok = await portal.http.post(path, data={"email": "page-limit@example.com", "csrf": csrf})
        assert ok.status_code == 200
    limited = await portal.http.post(path, data={"email": "page-limit@example.com", "csrf": csrf})
    assert limited.status_code == 429
    assert "Too many requests. Please wait a while and try again." in limited.text
    assert limited.headers["content-type"].startswith("text/html")
    assert await deliver_mail(portal.settings) == 5


async def test_limits_are_shared_through_redis(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    email = unique_email("shared")
    await create_customer(portal.gql, acme.test_api_key, email)
    # A generous IP limit: the IP bucket in Redis outlives this test run.
    settings = portal.with_settings(
        redis_url="redis://127.0.0.1:6379", rate_limit_login_ip="100000/hour"
    )
    first_http, first = await make_portal(settings)
    second_http, second = await make_portal(settings)
    async with first_http, second_http:
        for attempt in range(5):
            gql = first if attempt % 2 == 0 else second
            response = await request_link(gql, acme.business.id, email)
            assert response.json() == {"data": {"requestLoginLink": {"userErrors": []}}}
        for gql in (first, second):
            limited = await gql.error(
                REQUEST, {"input": {"businessId": acme.business.id, "email": email, "mode": "TEST"}}
            )
            assert code_of(limited) == "RATE_LIMITED"
    assert await deliver_mail(portal.settings) == 5
    assert len(smtp.to(email)) == 5


async def test_the_other_mode_gets_no_email(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    await create_customer(portal.gql, acme.test_api_key, "testonly@example.com")
    test_mode = await request_link(portal.gql, acme.business.id, "testonly@example.com", "TEST")
    live_mode = await request_link(portal.gql, acme.business.id, "testonly@example.com", "LIVE")
    assert fingerprint(live_mode) == fingerprint(test_mode)
    # The mode defaults to LIVE when the caller leaves it out.
    default = await portal.gql.raw(
        REQUEST, {"input": {"businessId": acme.business.id, "email": "testonly@example.com"}}
    )
    assert fingerprint(default) == fingerprint(test_mode)
    # And the live login page.
    page = await portal.http.get(f"/login/{acme.business.id}")
    csrf = CSRF_RE.search(page.text)
    assert csrf
    live_page = await portal.http.post(
        f"/login/{acme.business.id}", data={"email": "testonly@example.com", "csrf": csrf[1]}
    )
    assert live_page.status_code == 200 and "Check your email" in live_page.text

    assert await deliver_mail(portal.settings) == 1
    [mail] = smtp.messages
    assert "/test/session/" in link_in(mail)


async def test_known_and_unknown_emails_cost_the_request_the_same_work(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    """Timing must not tell customers' emails apart: the request does the same statements for a
    known address, an unknown one and an unknown business (the lookup and the mail happen in
    the worker, after the answer)."""
    await create_customer(portal.gql, acme.test_api_key, "timed@example.com", "Known")
    runs = {}
    for name, business_id, email in (
        ("known", acme.business.id, "timed@example.com"),
        ("unknown", acme.business.id, "nobody-timed@example.com"),
        ("no business", "bus_doesnotexist0000000000", "timed@example.com"),
    ):
        with recorded_statements() as statements:
            response = await request_link(portal.gql, business_id, email)
        assert response.json()["data"]["requestLoginLink"]["userErrors"] == []
        # the same statements, values aside
        runs[name] = [statement.split(":")[0] for statement in statements]
    assert runs["known"] == runs["unknown"] == runs["no business"]
    assert len(runs["known"]) == 1 and runs["known"][0].startswith("INSERT")
    assert not any("customer" in statement for statement in runs["known"])
    # The worker answers the known address only.
    assert await deliver_mail(portal.settings) == 1
    [mail] = smtp.to("timed@example.com")
    assert "/test/session/" in link_in(mail)
    assert len(smtp.messages) == 1


async def test_a_sign_in_link_from_the_static_page_works_for_15_minutes(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    clock.freeze()
    await create_customer(portal.gql, acme.test_api_key, "quick@example.com", "Quick")
    sign_in = "mutation($t: String!) { signIn(input: {token: $t}) { userErrors { code } } }"
    outcomes = []
    for wait in (timedelta(minutes=14, seconds=59), timedelta(minutes=15, seconds=1)):
        smtp.messages.clear()
        await request_link(portal.gql, acme.business.id, "quick@example.com")
        await deliver_mail(portal.settings)
        token = token_of(link_in(smtp.to("quick@example.com")[0]))
        clock.advance(wait)
        data = await portal.gql(sign_in, {"t": token})
        outcomes.append([e["code"] for e in data["signIn"]["userErrors"]])
    assert outcomes == [[], ["LINK_EXPIRED"]]


async def test_the_mail_comes_from_the_business_and_says_it_was_sent_by_a_program(
    portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    """Received over SMTP: the sender is shown as the business (the configured address with
    the business's name, encoded where it must be), replies go to its support address, and
    `Auto-Submitted: auto-generated` keeps vacation auto-replies away (RFC 3834)."""
    from email.headerregistry import Address

    from models import Business

    await create_customer(portal.gql, acme.test_api_key, "from@example.com", "From")
    await Business.filter(id=acme.business.id).update(name='Müller & Söhne, "Die Besten" GmbH')
    await request_link(portal.gql, acme.business.id, "from@example.com")
    assert await deliver_mail(portal.settings) == 1
    [mail] = smtp.to("from@example.com")
    [sender] = mail["From"].addresses
    assert sender == Address('Müller & Söhne, "Die Besten" GmbH', addr_spec="portal@localhost")
    assert mail["Reply-To"] == "support@acme.example"
    assert mail["Auto-Submitted"] == "auto-generated"
