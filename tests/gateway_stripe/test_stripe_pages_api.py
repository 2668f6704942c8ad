"""What the hosted pages of a Stripe business rely on, over HTTP (the browser journeys are in
tests/browser/test_stripe_pages.py): `startCardSetup` gives Stripe.js a SetupIntent to save the
card typed into its own fields; the payment method page loads Stripe.js, allows it in its CSP
and has no card number field; a card number posted to it anyway is never charged."""

from __future__ import annotations

import re

from conftest import Portal
from models import Customer, Payment, PaymentMethod, Subscription
from services.businesses import NewBusiness
from support import create_customer, create_product, portal_link, session_for

from .conftest import PUBLISHABLE_KEY, THREE_DS, VISA, StripeLab
from .operations import ADD_PAYMENT_METHOD, UPDATE_PAYMENT_METHOD, codes, create_subscription

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


async def _set_up_in_the_browser(stripe_lab: StripeLab, secret: str, number: str) -> str:
    """What Stripe.js's confirmCardSetup does with the publishable key for a card that needs
    3-D Secure, the customer completing it in the bank's window: the PaymentMethod's id."""
    intent = secret.split("_secret_")[0]
    url = f"{stripe_lab.url}/v1/setup_intents/{intent}/confirm"
    card = {"number": number, "exp_month": "12", "exp_year": "2034", "cvc": "123"}
    first = await stripe_lab.http.post(
        url,
        json={
            "key": PUBLISHABLE_KEY,
            "client_secret": secret,
            "payment_method_data": {"type": "card", "card": card},
        },
    )
    assert first.json()["status"] == "requires_action", first.text
    done = await stripe_lab.http.post(url, json={"key": PUBLISHABLE_KEY, "client_secret": secret})
    assert done.json()["status"] == "succeeded", done.text
    return str(done.json()["payment_method"])


async def test_a_card_set_up_in_the_browser_is_not_set_up_twice(
    shop: tuple[Portal, NewBusiness], stripe_lab: StripeLab
) -> None:
    """An ACTIVE subscription's new card, made by the page's SetupIntent with 3-D Secure: Stripe
    attaches a card when its SetupIntent succeeds, and then it is saved without asking the bank
    again. localstripe does not attach it (the test does, as Stripe would); without that the
    server sets the card up once more, the bank asks again, and the page says the card was not
    saved instead of claiming it was."""
    portal, acme = shop
    customer_id = await create_customer(portal.gql, acme.test_api_key, "ida@example.com")
    product = await create_product(portal.gql, acme.test_api_key, amount=1500)
    created = await create_subscription(
        portal, acme, customer_id, product, await stripe_lab.payment_method(VISA)
    )
    subscription_id = created["subscription"]["id"]
    session = await session_for(portal.gql, acme.test_api_key, customer_id)
    stripe_customer = (await Customer.get(id=customer_id)).gateway_customer

    # As on Stripe: set up in the browser, attached by Stripe, saved at once.
    secret = (await portal.gql(START, token=session))["startCardSetup"]["cardSetup"]
    method = await _set_up_in_the_browser(stripe_lab, secret["clientSecret"], THREE_DS)
    await stripe_lab._call(
        "POST", f"/v1/payment_methods/{method}/attach", customer=str(stripe_customer)
    )
    updated = (
        await portal.gql(
            UPDATE_PAYMENT_METHOD,
            {"input": {"subscriptionId": subscription_id, "gatewayPaymentMethodId": method}},
            token=session,
        )
    )["updatePaymentMethod"]
    assert updated["userErrors"] == [] and updated["nextAction"] is None
    assert updated["subscription"]["paymentMethod"]["last4"] == "3184"

    # As on localstripe: not attached, so set up again; the bank asks again. The page says so.
    secret = (await portal.gql(START, token=session))["startCardSetup"]["cardSetup"]
    method = await _set_up_in_the_browser(stripe_lab, secret["clientSecret"], THREE_DS)
    portal.http.cookies.clear()
    portal.http.cookies.set("portal_session", session)
    path = f"/test/portal/subscriptions/{subscription_id}/payment-method"
    token = CSRF.search((await portal.http.get(path)).text)
    assert token
    answer = await portal.http.post(
        path, data={"csrf": token.group(1), "method": "new", "gateway_payment_method": method}
    )
    assert answer.status_code == 402
    assert "it was not saved" in answer.text
    assert (await Subscription.get(id=subscription_id)).payment_method_id is not None
    assert await PaymentMethod.filter(customer_id=customer_id, gateway_token=method).count() == 0
