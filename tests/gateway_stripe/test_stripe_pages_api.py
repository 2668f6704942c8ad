"""What the hosted pages of a Stripe business rely on, over HTTP (the browser journeys are in
tests/browser/test_stripe_pages.py): `startCardSetup` gives Stripe.js a SetupIntent to save the
card typed into its own fields; the payment method page loads Stripe.js, allows it in its CSP
and has no card number field; a card number posted to it anyway is never charged."""

from __future__ import annotations

import re

from conftest import Portal
from models import Payment
from services.businesses import NewBusiness
from support import create_customer, create_product, portal_link, session_for

from .conftest import PUBLISHABLE_KEY, VISA, StripeLab
from .operations import ADD_PAYMENT_METHOD, codes, create_subscription

START = """
mutation { startCardSetup { cardSetup { clientSecret publishableKey } userErrors { code } } }
"""
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def test_start_card_setup_gives_stripe_js_a_setup_intent(
    shop: tuple[Portal, NewBusiness], stripe_lab: StripeLab, globex: NewBusiness
) -> None:
    portal, acme = shop
    customer_id = await create_customer(portal.gql, acme.test_api_key, "ed@example.com")
    session = await session_for(portal.gql, acme.test_api_key, customer_id)
    started = (await portal.gql(START, token=session))["startCardSetup"]
    assert started["userErrors"] == []
    setup = started["cardSetup"]
    assert setup["clientSecret"].startswith("seti_") and "_secret_" in setup["clientSecret"]
    assert setup["publishableKey"] == PUBLISHABLE_KEY

    # What Stripe.js's confirmCardSetup does with the card typed into its fields, with the
    # publishable key only; then the PaymentMethod id is all our API gets.
    intent = setup["clientSecret"].split("_secret_")[0]
    confirmed = await stripe_lab.http.post(
        f"{stripe_lab.url}/v1/setup_intents/{intent}/confirm",
        json={
            "key": PUBLISHABLE_KEY,
            "client_secret": setup["clientSecret"],
            "payment_method_data": {
                "type": "card",
                "card": {"number": VISA, "exp_month": "12", "exp_year": "2034", "cvc": "123"},
            },
        },
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "succeeded"
    method = confirmed.json()["payment_method"]
    saved = (
        await portal.gql(
            ADD_PAYMENT_METHOD, {"input": {"gatewayPaymentMethodId": method}}, token=session
        )
    )["addPaymentMethod"]
    assert saved["userErrors"] == [] and saved["paymentMethod"]["last4"] == "4242"

    # A business on the test simulator has no Stripe.js to give.
    other = await create_customer(portal.gql, globex.test_api_key, "fay@example.com")
    simulator = (
        await portal.gql(START, token=await session_for(portal.gql, globex.test_api_key, other))
    )["startCardSetup"]
    assert codes(simulator) == ["GATEWAY_NOT_CONFIGURED"] and simulator["cardSetup"] is None
    # And merchants' keys are not customers.
    refused = await portal.http.post(
        "/graphql",
        json={"query": START},
        headers={"Authorization": f"Bearer {acme.test_api_key}"},
    )
    assert "errors" in refused.json()


async def test_the_payment_method_page_loads_stripe_js_and_takes_no_card_number(
    shop: tuple[Portal, NewBusiness], stripe_lab: StripeLab
) -> None:
    portal, acme = shop
    customer_id = await create_customer(portal.gql, acme.test_api_key, "gus@example.com")
    product = await create_product(portal.gql, acme.test_api_key, amount=1500)
    created = await create_subscription(
        portal, acme, customer_id, product, await stripe_lab.payment_method(VISA)
    )
    subscription_id = created["subscription"]["id"]
    session = await session_for(portal.gql, acme.test_api_key, customer_id)
    portal.http.cookies.clear()
    portal.http.cookies.set("portal_session", session)
    path = f"/test/portal/subscriptions/{subscription_id}/payment-method"

    page = await portal.http.get(path)
    assert page.status_code == 200
    js = portal.settings.stripe_js_url
    assert f'<script src="{js}" defer></script>' in page.text
    assert 'name="number"' not in page.text and 'name="cvc"' not in page.text
    assert f'data-stripe-key="{PUBLISHABLE_KEY}"' in page.text
    policy = page.headers["content-security-policy"]
    assert f"script-src 'self' {stripe_lab.url};" in policy
    assert f"connect-src 'self' {stripe_lab.url};" in policy
    assert f"frame-src {stripe_lab.url};" in policy
    assert "'unsafe-inline'" not in policy

    # Without Stripe.js (no JavaScript) a new card cannot be sent: the page says why.
    token = CSRF.search(page.text)
    assert token
    payments_before = await Payment.filter(subscription_id=subscription_id).count()
    no_script = await portal.http.post(
        path,
        data={"csrf": token.group(1), "method": "new", "gateway_payment_method": "needs_script"},
    )
    assert no_script.status_code == 400
    assert "needs JavaScript" in no_script.text
    # A card number posted anyway goes nowhere: the API refuses it before anything happens.
    forged = await portal.http.post(
        path,
        data={
            "csrf": token.group(1),
            "method": "new",
            "number": VISA,
            "exp_month": "12",
            "exp_year": "2034",
            "cvc": "123",
        },
    )
    assert forged.status_code == 400
    assert VISA not in forged.text
    assert await Payment.filter(subscription_id=subscription_id).count() == payments_before

    # Pages that take no card keep the plain policy.
    other = await portal.http.get("/test/portal/profile")
    assert stripe_lab.url not in other.headers["content-security-policy"]


async def test_a_sign_in_link_opens_only_the_page_that_confirms_a_payment(
    stripe_portal: tuple[Portal, str], acme: NewBusiness
) -> None:
    """`next` on a sign-in link (what the email about a renewal to confirm carries) leads to the
    authenticate step once signed in; any other target is ignored: the overview, never another
    site or page."""
    portal, _ = stripe_portal
    customer_id = await create_customer(portal.gql, acme.test_api_key, "hal@example.com")
    good = "/portal/subscriptions/sub_abc123/authenticate?payment=pay_xyz789"
    for target, landing in [
        (good, f"/test{good}"),
        ("https://evil.example/portal", "/test/portal"),
        ("//evil.example/portal", "/test/portal"),
        ("/portal/profile", "/test/portal"),
        (good + "&x=1", "/test/portal"),
    ]:
        portal.http.cookies.clear()
        link = await portal_link(portal.gql, acme.test_api_key, customer_id)
        path = link.removeprefix(portal.settings.public_url)
        landing_page = await portal.http.get(path, params={"next": target})
        token = CSRF.search(landing_page.text)
        assert token, landing_page.text
        signed = await portal.http.post(
            path, data={"csrf": token.group(1), "next": target}, follow_redirects=False
        )
        assert signed.status_code == 303, target
        assert signed.headers["location"] == landing, target
