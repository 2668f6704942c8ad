"""A merchant's templates (PORTAL_TEMPLATES_DIR) win over ours, for pages and for emails, and
stay autoescaped: the app started with a directory holding a login page and a sign-in email."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

import mailers
from app.settings import Settings
from conftest import Portal, make_portal
from services.businesses import NewBusiness
from support import MailCatcher, create_customer, deliver_mail, html_body, link_in, text_body

CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')

# A login page of the merchant's own: our frame and form, their words, one value of ours.
LOGIN_PAGE = """{% extends "base.html" %}
{% from "macros.html" import login_form with context %}
{% block title %}Welcome to {{ page.business_name }}{% endblock %}
{% block content %}
<p class="merchant-intro">Members sign in with the address they joined with.</p>
{{ login_form(business_id, email, invalid) }}
{% endblock %}
"""
# The sign-in email, changed in one block: it extends ours, named under default/.
LOGIN_EMAIL = """{% extends "default/emails/login_link.jinja" %}
{% block signature %}Your friends at {{ business }}{% endblock %}
"""


@pytest.fixture
async def merchant_portal(settings: Settings, tmp_path: Path) -> AsyncIterator[Portal]:
    templates = tmp_path / "merchant-templates"
    (templates / "emails").mkdir(parents=True)
    (templates / "login.html").write_text(LOGIN_PAGE)
    (templates / "emails" / "login_link.jinja").write_text(LOGIN_EMAIL)
    custom = replace(settings, templates_dir=templates)
    http, gql = await make_portal(custom)
    try:
        async with http:
            yield Portal(custom, http, gql)
    finally:
        mailers.use_templates_dir(None)  # emails are composed with the process's choice


async def test_a_merchants_login_page_and_email_win_over_ours(
    merchant_portal: Portal, acme: NewBusiness, smtp: MailCatcher
) -> None:
    portal = merchant_portal
    await portal.gql(
        "mutation($i: UpdateBusinessInput!) { updateBusiness(input: $i) { userErrors { code } } }",
        {"i": {"name": "Acme <b>Club</b>"}},
        token=acme.test_api_key,
    )
    await create_customer(portal.gql, acme.test_api_key, "ada@example.com", "Ada Lovelace")

    page = await portal.http.get(f"/test/login/{acme.business.id}")
    assert page.status_code == 200
    assert '<p class="merchant-intro">Members sign in with the address' in page.text
    assert "<h1>Welcome to Acme &lt;b&gt;Club&lt;/b&gt;</h1>" in page.text  # still escaped
    assert "Enter the email address you used for your purchase" not in page.text
    # Our frame around it: the header, the CSP, the form with its CSRF token.
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    csrf = CSRF_RE.search(page.text)
    assert csrf is not None

    sent = await portal.http.post(
        f"/test/login/{acme.business.id}", data={"email": "ada@example.com", "csrf": csrf[1]}
    )
    assert sent.status_code == 200 and "Check your email" in sent.text  # ours: not overridden
    assert await deliver_mail(portal.settings) == 1
    [mail] = smtp.to("ada@example.com")
    assert mail["Subject"] == "Your sign-in link for Acme <b>Club</b> customer portal"
    text = text_body(mail).replace("\r\n", "\n")
    assert text.endswith("Kind regards,\nYour friends at Acme <b>Club</b>\n")
    assert link_in(mail) in text
    assert "Your friends at Acme &lt;b&gt;Club&lt;/b&gt;</p>" in html_body(mail)


async def test_without_a_directory_our_templates_answer(portal: Portal, acme: NewBusiness) -> None:
    page = await portal.http.get(f"/test/login/{acme.business.id}")
    assert "Enter the email address you used for your purchase" in page.text
    assert "merchant-intro" not in page.text
