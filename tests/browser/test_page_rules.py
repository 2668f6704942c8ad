"""The rules every hosted page keeps, checked through HTTP without a browser (fast, on SQLite
and PostgreSQL): values escaped, CSRF on every form, no inline script or style, the CSP and the
Referrer-Policy, branding settings checked on the way in, the language chosen in the right
order, and a customer seeing only their own things."""

from __future__ import annotations

import re

import httpx
import pytest

from app.portal.branding import PAGE_BACKGROUND, link_on_page
from conftest import Portal
from services.business_settings import (
    MIN_TEXT_CONTRAST,
    contrast_ratio,
    readable_on_white,
    readable_text_on,
)
from services.businesses import NewBusiness
from support import create_customer, create_product, session_for, subscribe

CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')
UPDATE_BUSINESS = """
mutation($i: UpdateBusinessInput!) {
  updateBusiness(input: $i) {
    business { name locale branding { logoUrl accentColor accentContrastColor linkColor } }
    userErrors { code field }
  }
}"""
EVIL = '<script>alert("x")</script>'
ESCAPED_EVIL = re.compile(r"&lt;script&gt;alert\((&quot;|&#34;)x(&quot;|&#34;)\)&lt;/script&gt;")


async def _signed_in(portal: Portal, acme: NewBusiness, email: str, name: str = "Ada") -> dict:
    key = acme.test_api_key
    customer_id = await create_customer(portal.gql, key, email, name)
    product_id = await create_product(
        portal.gql, key, name=f"Pro {EVIL}", licenseKeyEnabled=True, licenseKeyActivationsLimit=2
    )
    created = await subscribe(portal.gql, key, customer_id, product_id)
    token = await session_for(portal.gql, key, customer_id)
    portal.http.cookies.set("portal_session", token)
    return {
        "customer": customer_id,
        "subscription": created["subscription"]["id"],
        "invoice": created["invoice"]["id"],
        "token": token,
    }


def _check_page(response: httpx.Response) -> None:
    html = response.text
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe" not in csp
    assert response.headers["referrer-policy"] == "no-referrer"
    assert EVIL not in html and "<script>" not in html
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None, "inline script"
    assert " style=" not in html and "<style" not in html
    forms = re.findall(r'<form method="post"[^>]*>(.*?)</form>', html, re.S)
    assert len(forms) == html.count('<form method="post"')
    for form in forms:
        assert 'name="csrf"' in form, form
    for input_id in re.findall(r'<(?:input|select|textarea) id="([^"]+)"', html):
        assert f'<label for="{input_id}"' in html, input_id
    assert re.search(r'<input (?![^>]*\bid=)(?![^>]*type="hidden")', html) is None


async def test_every_page_escapes_protects_and_frames(portal: Portal, acme: NewBusiness) -> None:
    await portal.gql(UPDATE_BUSINESS, {"i": {"name": f"Acme {EVIL}"}}, token=acme.test_api_key)
    ids = await _signed_in(portal, acme, "esc@example.com", name=EVIL)
    sub = f"/test/portal/subscriptions/{ids['subscription']}"
    for path in (
        "/test/portal",
        "/test/portal/subscriptions",
        sub,
        f"{sub}/payment-method",
        "/test/portal/invoices",
        "/test/portal/license-keys",
        "/test/portal/profile",
        f"/test/login/{acme.business.id}",
        "/test/session/some-token",
        "/test/confirm-email/some-token",
    ):
        response = await portal.http.get(path)
        assert response.status_code == 200, (path, response.text)
        _check_page(response)
    overview = await portal.http.get("/test/portal")
    # The customer's name is shown as text: escaped (a quote as &quot; or &#34;, both HTML).
    assert ESCAPED_EVIL.search(overview.text)
    detail = await portal.http.get(sub)
    assert "Pro &lt;script&gt;" in detail.text


async def test_forms_without_the_csrf_token_change_nothing(
    portal: Portal, acme: NewBusiness
) -> None:
    ids = await _signed_in(portal, acme, "csrf-pages@example.com")
    sub = f"/test/portal/subscriptions/{ids['subscription']}"
    await portal.http.get("/test/portal")  # the CSRF cookie is set; the forms lack the token
    forged = {"csrf": "forged", "when": "now", "reason": "OTHER", "name": "Mallory"}
    for path in (f"{sub}/cancel", f"{sub}/undo-cancel", f"{sub}/payment-method",
                 "/test/portal/profile", "/test/portal/sign-out",
                 "/test/portal/license-keys/instances/lki_x/deactivate"):  # fmt: skip
        response = await portal.http.post(path, data={**forged, "method": "new"})
        assert response.status_code == 403, path
        assert "The form has expired" in response.text
    language = await portal.http.post(
        "/test/portal/language", data={"lang": "de", "next": "/test/portal"}
    )
    assert language.status_code == 303 and "portal_lang" not in language.headers.get(
        "set-cookie", ""
    )
    me = await portal.gql("{ me { name locale subscriptions { edges { node { status } } } } }",
                          token=ids["token"])  # fmt: skip
    assert me["me"]["name"] == "Ada" and me["me"]["locale"] is None
    assert me["me"]["subscriptions"]["edges"][0]["node"]["status"] == "ACTIVE"


async def test_branding_is_checked_on_the_way_in_and_served_by_us(
    portal: Portal, acme: NewBusiness
) -> None:
    key = acme.test_api_key
    for field, value, code in (
        ("accentColor", "red", "INVALID_COLOR"),
        ("logoUrl", "http://cdn.example/logo.png", "INVALID_URL"),
        ("logoUrl", "javascript:alert(1)", "INVALID_URL"),
        ("logoUrl", 'https://cdn.example/a".png', "INVALID_URL"),
        ("logoUrl", "https://user:pw@cdn.example/a.png", "INVALID_URL"),
        ("logoUrl", "https://cdn.example;script-src *", "INVALID_URL"),
        ("locale", "fr", "INVALID_LOCALE"),
        ("name", " ", "INVALID_NAME"),
    ):
        data = await portal.gql(UPDATE_BUSINESS, {"i": {field: value}}, token=key)
        assert [e["code"] for e in data["updateBusiness"]["userErrors"]] == [code], value

    data = await portal.gql(
        UPDATE_BUSINESS,
        {"i": {"accentColor": "#ffeb3b", "logoUrl": "https://cdn.example/logo.png"}},
        token=key,
    )
    branding = data["updateBusiness"]["business"]["branding"]
    assert branding["accentColor"] == "#FFEB3B"
    assert branding["accentContrastColor"] == "#111418"  # dark text on the light yellow
    assert contrast_ratio(branding["linkColor"], "#FFFFFF") >= MIN_TEXT_CONTRAST

    login = await portal.http.get(f"/test/login/{acme.business.id}")
    assert "img-src 'self' https://cdn.example;" in login.headers["content-security-policy"]
    assert 'src="https://cdn.example/logo.png"' in login.text
    assert 'referrerpolicy="no-referrer"' in login.text
    css = await portal.http.get(f"/branding/{acme.business.id}.css")
    assert css.headers["content-type"].startswith("text/css")
    assert "--accent:#FFEB3B;" in css.text and "--on-accent:#111418;" in css.text
    link = re.search(r"--link:(#[0-9A-F]{6});", css.text)
    assert link and contrast_ratio(link[1], PAGE_BACKGROUND) >= MIN_TEXT_CONTRAST
    # Pages without the logo allow images from us only.
    landing = await portal.http.get("/test/session/x")
    assert "img-src 'self';" in landing.headers["content-security-policy"]
    # Unknown businesses: no branding, nothing to tell apart.
    unknown = await portal.gql(
        '{ portalBranding(businessId: "bus_unknown") { name } }'
    )  # fmt: skip
    assert unknown["portalBranding"] is None
    assert (await portal.http.get("/branding/bus_unknown.css")).status_code == 404

    # A customer cannot change the business.
    ids = await _signed_in(portal, acme, "brand@example.com")
    error = await portal.gql.error(UPDATE_BUSINESS, {"i": {"name": "Mine"}}, token=ids["token"])
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("accent", ["#FFFFFF", "#FFEB3B", "#00FF00", "#3B4CCA", "#000000"])
def test_any_accent_colour_gives_readable_text(accent: str) -> None:
    assert contrast_ratio(readable_text_on(accent), accent) >= MIN_TEXT_CONTRAST
    assert contrast_ratio(readable_on_white(accent), "#FFFFFF") >= MIN_TEXT_CONTRAST
    # Links also sit on the page's grey background, outside the white cards.
    link = link_on_page(readable_on_white(accent))
    assert contrast_ratio(link, PAGE_BACKGROUND) >= MIN_TEXT_CONTRAST


async def test_language_switch_then_saved_choice_then_browser(
    portal: Portal, acme: NewBusiness
) -> None:
    german = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
    login = await portal.http.get(f"/test/login/{acme.business.id}", headers=german)
    assert 'lang="de"' in login.text and "Anmeldelink senden" in login.text
    switched = await portal.http.get(f"/test/login/{acme.business.id}?lang=en", headers=german)
    assert "Email me a sign-in link" in switched.text
    assert "portal_lang=en" in switched.headers["set-cookie"]
    portal.http.cookies.delete("portal_lang")

    ids = await _signed_in(portal, acme, "lang@example.com")
    overview = await portal.http.get("/test/portal", headers=german)
    assert "Ihr Kundenportal" in overview.text
    csrf = CSRF_RE.search(overview.text)
    assert csrf
    saved = await portal.http.post(
        "/test/portal/language",
        data={"csrf": csrf[1], "lang": "en", "next": "/test/portal/invoices"},
        headers=german,
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/test/portal/invoices"
    me = await portal.gql("{ me { locale } }", token=ids["token"])
    assert me["me"]["locale"] == "en"
    portal.http.cookies.delete("portal_lang")
    again = await portal.http.get("/test/portal", headers=german)
    assert "Your customer portal" in again.text  # the saved choice beats the browser

    away = await portal.http.post(
        "/test/portal/language", data={"csrf": csrf[1], "lang": "de", "next": "//evil.example/"}
    )
    assert away.headers["location"] == "/test/portal"


async def test_pages_show_only_the_customers_own_things_in_its_mode(
    portal: Portal, acme: NewBusiness
) -> None:
    other = await _signed_in(portal, acme, "other@example.com")
    await _signed_in(portal, acme, "me@example.com")
    theirs = await portal.http.get(f"/test/portal/subscriptions/{other['subscription']}")
    assert theirs.status_code == 404
    edit = await portal.http.get(
        f"/test/portal/subscriptions/{other['subscription']}/payment-method"
    )
    assert edit.status_code == 404
    live = await portal.http.get("/portal/invoices")
    assert live.status_code == 303 and live.headers["location"] == "/test/portal/invoices"
    portal.http.cookies.clear()
    ended = await portal.http.get("/test/portal/subscriptions")
    assert ended.status_code == 401 and "Please sign in again" in ended.text
