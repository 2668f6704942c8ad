"""The emails as templates: a merchant's template replaces ours and is still escaped, the text
and HTML parts of a message say the same, and mailers stand on their own (no services)."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import mailers
from services.money import format_date

LINK = "https://portal.example.test/session/abc123?next=%2F&x=1"
EXPIRES = datetime(2030, 3, 4, 15, 30, tzinfo=UTC)
CUSTOMER = {
    "to": "ada@example.test",
    "customer_name": "Ada <Lovelace>",
    "business_name": "Acme & Co",
    "support_email": "help@acme.test",
    "from_addr": "portal@acme.test",
}


def every_message(locale: str) -> Iterator[mailers.EmailMessage]:
    link = {"link": LINK, "expires_at": EXPIRES}
    yield mailers.login_link(**CUSTOMER, **link, locale=locale)
    yield mailers.portal_invitation(**CUSTOMER, **link, locale=locale)
    yield mailers.email_change_confirmation(**CUSTOMER, **link, locale=locale)
    yield mailers.email_changed_notice(**CUSTOMER, new_email="new@example.test", locale=locale)
    yield mailers.payment_receipt(
        **CUSTOMER, amount="€15.00", description="Pro plan", invoice_number="INV-000001",
        paid_at=EXPIRES, locale=locale,
    )  # fmt: skip
    yield mailers.subscription_on_hold(
        **CUSTOMER, product_name="Pro plan", amount_due="€15.00", **link, locale=locale
    )
    yield mailers.subscription_reactivated(
        **CUSTOMER, product_name="Pro plan", next_billing_date=EXPIRES, locale=locale
    )
    for ends_at in (None, EXPIRES):
        yield mailers.subscription_cancelled(
            **CUSTOMER, product_name="Pro plan", ends_at=ends_at, locale=locale
        )
    for paid_until, pauses_at, resume_at in ((EXPIRES, None, None), (None, EXPIRES, EXPIRES)):
        yield mailers.subscription_paused(
            **CUSTOMER, product_name="Pro plan", paid_until=paid_until, pauses_at=pauses_at,
            resume_at=resume_at, locale=locale,
        )  # fmt: skip
    yield mailers.subscription_resumed(
        **CUSTOMER, product_name="Pro plan", next_billing_date=EXPIRES, locale=locale
    )
    yield mailers.license_key_rotated(
        **CUSTOMER, product_name="Editor <Pro>", license_key="TEST-ABCDE-FGHJK-LMNPQ-RSTUV-WXYZ2",
        locale=locale,
    )  # fmt: skip
    for reason in ("failing", "gone"):
        yield mailers.webhook_endpoint_disabled(
            to="help@acme.test", business_name="Acme & Co", url="https://hooks.example/x?a=1&b=2",
            reason=reason, failing_since=EXPIRES, from_addr="portal@acme.test", locale=locale,
        )  # fmt: skip


def _visible_text(markup: str) -> str:
    body = markup.split("<body", 1)[1]
    spaced = re.sub(r"<(?:br|/p)>", " ", body)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", spaced)).split())


@pytest.mark.parametrize("locale", ["en", "de"])
def test_text_and_html_parts_say_the_same(locale: str) -> None:
    """One template gives both parts: every paragraph of the text is in the HTML, in order."""
    for message in every_message(locale):
        visible = _visible_text(message.html)
        position = 0
        for paragraph in message.text.split("\n\n"):
            words = " ".join(paragraph.split())
            found = visible.find(words, position)
            assert found >= 0, (message.subject, words, visible)
            position = found + len(words)
        assert "&lt;Lovelace&gt;" in message.html or "Ada" not in message.text
        assert f'lang="{locale}"' in message.html


def test_a_merchants_template_replaces_ours_and_is_still_escaped(tmp_path: Path) -> None:
    emails = tmp_path / "emails"
    emails.mkdir()
    (emails / "login_link.jinja").write_text(
        "{% extends layout %}\n"
        "{% set subject %}Your key to {{ business }}{% endset %}\n"
        "{% block content %}\n"
        "{% call paragraph() %}Welcome back, {{ name }}. Here is your way in:{% endcall %}\n"
        "{{ action('Come in') }}\n"
        "{% endblock %}\n"
    )
    # A template can also extend ours by its name under default/ and change one block.
    (emails / "portal_invitation.jinja").write_text(
        '{% extends "default/emails/portal_invitation.jinja" %}\n'
        "{% block signature %}The {{ business }} team{% endblock %}\n"
    )
    mailers.use_templates_dir(tmp_path)
    try:
        message = mailers.login_link(**CUSTOMER, link=LINK, expires_at=EXPIRES, locale="en")
        invitation = mailers.portal_invitation(
            **CUSTOMER, link=LINK, expires_at=EXPIRES, locale="de"
        )
    finally:
        mailers.use_templates_dir(None)
    assert message.subject == "Your key to Acme & Co"
    assert "Welcome back, Ada <Lovelace>. Here is your way in:" in message.text
    assert LINK in message.text
    assert "Welcome back, Ada &lt;Lovelace&gt;." in message.html
    assert "Come in</a>" in message.html and LINK.replace("&", "&amp;") in message.html
    assert "<Lovelace>" not in message.html
    assert invitation.subject == "Acme & Co lädt Sie zu Ihrem Kundenportal ein"
    assert invitation.text.endswith("Freundliche Grüße\nThe Acme & Co team\n")

    ours = mailers.login_link(**CUSTOMER, link=LINK, expires_at=EXPIRES, locale="en")
    assert ours.subject == "Your sign-in link for Acme & Co customer portal"


def test_dates_read_as_the_rest_of_the_portal_writes_them() -> None:
    for locale in ("en", "de"):
        receipt = mailers.payment_receipt(
            **CUSTOMER, amount="€15.00", description="Pro plan", invoice_number="INV-000001",
            paid_at=EXPIRES, locale=locale,
        )  # fmt: skip
        assert format_date(EXPIRES, locale) in receipt.text


def test_mailers_stand_on_their_own() -> None:
    """Mailers sit below the services (which hand them emails through the outbox): importing
    them loads nothing of services, models or app."""
    code = (
        "import sys, mailers; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'services', 'models', 'app'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def test_pause_and_resume_emails_in_both_languages() -> None:
    paused = {"product_name": "Pro plan", "paid_until": EXPIRES, "pauses_at": None}
    english = mailers.subscription_paused(**CUSTOMER, **paused, resume_at=None, locale="en")
    german = mailers.subscription_paused(**CUSTOMER, **paused, resume_at=EXPIRES, locale="de")
    assert english.subject == "Your subscription to Pro plan is paused"
    assert "You keep access until" in english.text and "resume it at any time" in english.text
    assert german.subject == "Ihr Abonnement für Pro plan ruht"
    assert "automatisch fortgesetzt" in german.text
    resumed = mailers.subscription_resumed(
        **CUSTOMER, product_name="Pro plan", next_billing_date=EXPIRES, locale="de"
    )
    assert resumed.subject == "Ihr Abonnement für Pro plan läuft wieder"
    assert "04.03.2030" in resumed.text or "4. März 2030" in resumed.text
