"""Money formatting, invoice PDFs and the billing emails: pure functions, no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from io import BytesIO
from typing import Any

import pytest
from pypdf import PdfReader

import services.billing.pdf as pdf_module
from mailers import (
    EmailMessage,
    payment_receipt,
    subscription_cancelled,
    subscription_on_hold,
    subscription_reactivated,
)
from services.billing.pdf import InvoiceDoc, InvoiceLineDoc, render_invoice_pdf, to_latin1
from services.errors import ServiceError
from services.money import (
    check_currency,
    format_date,
    format_money,
    minor_unit_digits,
    normalize_language,
)

NBSP = "\xa0"
ISSUED = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
LINK = "https://portal.example.test/session/tok123?next=%2F&x=1"


def plain(text: str) -> str:
    """No-break spaces as spaces, so extracted PDF text and babel output compare simply."""
    return text.replace(NBSP, " ").replace("\u202f", " ")


# --- money -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("currency", "digits"), [("EUR", 2), ("JPY", 0), ("KWD", 3), ("usd", 2)])
def test_minor_unit_digits(currency: str, digits: int) -> None:
    assert minor_unit_digits(currency) == digits


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "expected"),
    [
        (1234, "EUR", "de", f"12,34{NBSP}€"),
        (1234, "EUR", "en", "€12.34"),
        (1234, "eur", "de-DE", f"12,34{NBSP}€"),
        (1234, "EUR", "de_AT", f"12,34{NBSP}€"),
        (1234, "EUR", "fr", "€12.34"),
        (5, "EUR", "en", "€0.05"),
        (0, "EUR", "de", f"0,00{NBSP}€"),
        (123456, "USD", "en", "$1,234.56"),
        (123456, "USD", "de", f"1.234,56{NBSP}$"),
        (500, "JPY", "en", "¥500"),
        (500, "JPY", "de", f"500{NBSP}¥"),
    ],
)
def test_format_money(amount: int, currency: str, locale: str, expected: str) -> None:
    assert format_money(amount, currency, locale) == expected


def test_format_money_three_digit_currency() -> None:
    assert "1.234" in format_money(1234, "KWD", "en")
    assert "KWD" in format_money(1234, "KWD", "en")
    assert "1,234" in format_money(1234, "KWD", "de")
    assert "0.005" in format_money(5, "KWD", "en")


def test_format_money_is_exact_for_large_amounts() -> None:
    # 2**53 + 1 cents: a float would round it.
    assert format_money(2**53 + 1, "EUR", "en") == "€90,071,992,547,409.93"


def test_format_money_default_locale_is_english() -> None:
    assert format_money(1234, "EUR") == "€12.34"


@pytest.mark.parametrize("amount", [12.34, "1234", True])
def test_format_money_takes_only_integer_minor_units(amount: Any) -> None:
    with pytest.raises(TypeError):
        format_money(amount, "EUR", "en")


@pytest.mark.parametrize(("code", "expected"), [("EUR", "EUR"), ("eur", "EUR"), (" jpy ", "JPY")])
def test_check_currency_accepts_iso_codes(code: str, expected: str) -> None:
    assert check_currency(code) == expected


@pytest.mark.parametrize("code", ["XYZ", "", "EURO", "E1R", "DEM", "XXX", "€"])
def test_check_currency_rejects_unknown_codes(code: str) -> None:
    with pytest.raises(ServiceError) as info:
        check_currency(code)
    assert info.value.code == "INVALID_CURRENCY"
    assert info.value.field == ["price", "currency"]
    assert info.value.message


def test_format_date() -> None:
    day = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert format_date(day, "de") == "25.11.2026"
    assert format_date(day, "de-DE") == "25.11.2026"
    assert format_date(day, "en") == "Nov 25, 2026"
    assert format_date(day, "en-US") == "Nov 25, 2026"


def test_format_date_is_the_utc_day() -> None:
    # 00:30 in UTC+2 is still the 25th in UTC; naive datetimes are UTC already.
    berlin_summer = timezone(timedelta(hours=2))
    assert format_date(datetime(2026, 11, 26, 0, 30, tzinfo=berlin_summer), "de") == "25.11.2026"
    assert format_date(datetime(2026, 11, 25, 23, 59), "en") == "Nov 25, 2026"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("de", "de"), ("DE-de", "de"), ("de_CH", "de"), ("en-GB", "en"), ("", "en"), (None, "en")],
)
def test_normalize_language(locale: str | None, expected: str) -> None:
    assert normalize_language(locale) == expected


# --- invoice PDF -------------------------------------------------------------------------------


def make_doc(**overrides: Any) -> InvoiceDoc:
    fields: dict[str, Any] = {
        "number": "ACME-2026-0042",
        "status": "paid",
        "business_name": "Acme Kaffeerösterei",
        "business_email": "billing@acme.test",
        "customer_name": "Chloé Dupont-Łukasz",
        "customer_email": "chloe@example.test",
        "issued_at": ISSUED,
        "paid_at": ISSUED + timedelta(minutes=1),
        "currency": "EUR",
        "total": 123456,
        "amount_due": 0,
        "lines": [
            InvoiceLineDoc(
                description="Café subscription \u2013 Premium",
                quantity=1,
                unit_amount=123456,
                amount=123456,
                period_start=ISSUED,
                period_end=datetime(2026, 12, 25, 9, 30, tzinfo=UTC),
            )
        ],
        "locale": "en",
        "test_mode": False,
    }
    fields.update(overrides)
    return InvoiceDoc(**fields)


def pdf_text(data: bytes) -> str:
    reader = PdfReader(BytesIO(data))
    assert len(reader.pages) == 1
    return plain(reader.pages[0].extract_text())


needs_unicode_font = pytest.mark.skipif(
    pdf_module.unicode_font() is None, reason="no DejaVu Sans on this machine"
)


@needs_unicode_font
def test_paid_invoice_pdf_in_english() -> None:
    data = render_invoice_pdf(make_doc())
    assert data.startswith(b"%PDF-")
    page = PdfReader(BytesIO(data)).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    text = pdf_text(data)
    for expected in [
        "Invoice",
        "ACME-2026-0042",
        "Chloé Dupont-Łukasz",
        "chloe@example.test",
        "Acme Kaffeerösterei",
        "billing@acme.test",
        "Paid",
        "Paid on",
        "Nov 25, 2026",
        "Dec 25, 2026",
        "Café subscription \u2013 Premium",
        "€1,234.56",
        "€0.00",
        "Total",
        "Amount due",
    ]:
        assert expected in text, expected
    assert "TEST MODE" not in text
    assert "Open" not in text


@needs_unicode_font
def test_paid_invoice_pdf_in_german() -> None:
    text = pdf_text(render_invoice_pdf(make_doc(locale="de-DE")))
    for expected in [
        "Rechnung",
        "Rechnungsnummer",
        "ACME-2026-0042",
        "Chloé Dupont-Łukasz",
        "Bezahlt",
        "Bezahlt am",
        "25.11.2026",
        "Beschreibung",
        "Zeitraum",
        "Einzelpreis",
        "Gesamtbetrag",
        "Offener Betrag",
        plain(format_money(123456, "EUR", "de")),
        "0,00 €",
        "Rechnungsempfänger",
    ]:
        assert expected in text, expected
    assert "Invoice" not in text


@needs_unicode_font
def test_open_invoice_pdf() -> None:
    doc = make_doc(status="open", paid_at=None, amount_due=123456, locale="de")
    text = pdf_text(render_invoice_pdf(doc))
    assert "Offen" in text
    assert "Bezahlt" not in text
    assert text.count("1.234,56 €") == 4  # unit price, line amount, total, amount due

    text = pdf_text(render_invoice_pdf(replace(doc, locale="en")))
    assert "Open" in text
    assert "Paid" not in text
    assert "€1,234.56" in text


@needs_unicode_font
def test_void_invoice_pdf() -> None:
    doc = make_doc(status="void", paid_at=None, amount_due=0)
    assert "Void" in pdf_text(render_invoice_pdf(doc))
    assert "Storniert" in pdf_text(render_invoice_pdf(replace(doc, locale="de")))


@needs_unicode_font
def test_test_mode_note() -> None:
    assert "TEST MODE" in pdf_text(render_invoice_pdf(make_doc(test_mode=True)))
    german = pdf_text(render_invoice_pdf(make_doc(test_mode=True, locale="de")))
    assert "TESTMODUS" in german


@needs_unicode_font
def test_pdf_with_other_currencies_many_lines_and_no_customer_name() -> None:
    lines = [InvoiceLineDoc(f"Seat {n}", n, 500, 500 * n, None, None) for n in range(1, 41)]
    doc = make_doc(currency="JPY", lines=lines, total=410_000, customer_name=None)
    reader = PdfReader(BytesIO(render_invoice_pdf(doc)))
    assert len(reader.pages) >= 2  # the table breaks onto a second page
    text = plain("".join(page.extract_text() for page in reader.pages))
    assert "¥410,000" in text
    assert "Seat 40" in text
    assert "chloe@example.test" in text


def test_pdf_falls_back_to_core_font(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_module, "unicode_font", lambda: None)
    text = pdf_text(render_invoice_pdf(make_doc(locale="de")))
    assert "ACME-2026-0042" in text
    assert "Chloé Dupont-Lukasz" in text  # "é" is latin-1, "Ł" is not
    assert "1.234,56 EUR" in text
    assert "Café subscription - Premium" in text
    assert "Bezahlt" in text


def test_to_latin1() -> None:
    assert to_latin1("Chloé “Łódź” \u2013 12,34\xa0€") == 'Chloé "Lódz" - 12,34\xa0EUR'
    assert to_latin1("山") == "?"


def test_pdf_rejects_unknown_status() -> None:
    with pytest.raises(ValueError, match="status"):
        render_invoice_pdf(make_doc(status="refunded"))


# --- billing emails ----------------------------------------------------------------------------

COMMON: dict[str, Any] = {
    "to": "ada@example.test",
    "customer_name": "Ada <Lovelace>",
    "business_name": "Acme & <Co>",
    "support_email": "help@acme.test",
    "from_addr": "Acme <billing@acme.test>",
}
AMOUNT_EN = "€12.34"
AMOUNT_DE = f"12,34{NBSP}€"


def receipt(locale: str) -> EmailMessage:
    return payment_receipt(
        **COMMON,
        amount=AMOUNT_DE if locale.startswith("de") else AMOUNT_EN,
        description="Pro <Plan> & more",
        invoice_number="ACME-0007",
        paid_at=ISSUED,
        locale=locale,
    )


def on_hold(locale: str, link: str = LINK) -> EmailMessage:
    return subscription_on_hold(
        **COMMON,
        product_name="Pro <Plan>",
        amount_due=AMOUNT_DE if locale == "de" else AMOUNT_EN,
        link=link,
        expires_at=datetime(2026, 11, 26, 9, 30, tzinfo=UTC),
        locale=locale,
    )


def reactivated(locale: str) -> EmailMessage:
    return subscription_reactivated(
        **COMMON,
        product_name="Pro <Plan>",
        next_billing_date=datetime(2026, 12, 25, 9, 30, tzinfo=UTC),
        locale=locale,
    )


def cancelled(locale: str, ends_at: datetime | None) -> EmailMessage:
    return subscription_cancelled(
        **COMMON, product_name="Pro <Plan>", ends_at=ends_at, locale=locale
    )


def assert_escaped(message: EmailMessage) -> None:
    assert "<Lovelace>" not in message.html
    assert "<Co>" not in message.html
    assert "<Plan>" not in message.html
    assert "Ada &lt;Lovelace&gt;" in message.html
    assert "Acme &amp; &lt;Co&gt;" in message.html
    assert "Ada <Lovelace>" in message.text
    assert message.reply_to == "help@acme.test"
    assert message.to == "ada@example.test"
    # The configured address, shown as the business (its name quoted as RFC 5322 needs).
    assert message.from_addr == '"Acme & <Co>" <billing@acme.test>'
    assert "\n" not in message.subject


def test_payment_receipt_english() -> None:
    message = receipt("en")
    assert message.subject == "Receipt for your payment to Acme & <Co>"
    for part in (message.text, message.html):
        assert AMOUNT_EN in part
        assert "ACME-0007" in part
        assert "Nov 25, 2026" in part
    assert "Pro <Plan> & more" in message.text
    assert "Pro &lt;Plan&gt; &amp; more" in message.html
    assert_escaped(message)


def test_payment_receipt_german() -> None:
    message = receipt("de-DE")
    assert message.subject == "Beleg für Ihre Zahlung an Acme & <Co>"
    for part in (message.text, message.html):
        assert AMOUNT_DE in part
        assert "Rechnungsnummer: ACME-0007" in part
        assert "25.11.2026" in part
        assert "Guten Tag" in part
    assert "Freundliche Grüße" in message.text
    assert_escaped(message)


def test_subscription_on_hold_both_languages() -> None:
    english = on_hold("en")
    assert "on hold" in english.subject
    assert "Pro <Plan>" in english.subject
    assert AMOUNT_EN in english.text
    assert LINK in english.text
    assert "Nov 26, 2026" in english.text
    assert "update your card" in english.text
    assert LINK.replace("&", "&amp;") in english.html
    assert_escaped(english)

    german = on_hold("de")
    assert "pausiert" in german.subject
    assert AMOUNT_DE in german.text
    assert AMOUNT_DE in german.html
    assert LINK in german.text
    assert "26.11.2026" in german.text
    assert "Karte aktualisieren und bezahlen" in german.html
    assert_escaped(german)


def test_subscription_on_hold_rejects_non_http_links() -> None:
    with pytest.raises(ValueError, match="http"):
        on_hold("en", link="javascript:alert(1)")


def test_subscription_reactivated_both_languages() -> None:
    english = reactivated("en")
    assert english.subject == "Your subscription to Pro <Plan> is active again"
    assert "Dec 25, 2026" in english.text
    assert "Dec 25, 2026" in english.html
    assert_escaped(english)

    german = reactivated("de")
    assert german.subject == "Ihr Abonnement Pro <Plan> ist wieder aktiv"
    assert "25.12.2026" in german.text
    assert "wieder aktiv" in german.html
    assert_escaped(german)


def test_subscription_cancelled_now_and_at_period_end() -> None:
    ends = datetime(2026, 12, 25, 9, 30, tzinfo=UTC)

    now_en = cancelled("en", None)
    assert "immediate effect" in now_en.text
    assert "Dec 25, 2026" not in now_en.text
    assert_escaped(now_en)

    end_en = cancelled("en", ends)
    assert "until Dec 25, 2026" in end_en.text
    assert "undo the cancellation" in end_en.html
    assert_escaped(end_en)

    now_de = cancelled("de", None)
    assert now_de.subject == "Ihr Abonnement Pro <Plan> wurde gekündigt"
    assert "sofortiger Wirkung" in now_de.text
    assert_escaped(now_de)

    end_de = cancelled("de", ends)
    assert "bis zum 25.12.2026" in end_de.text
    assert "bis zum 25.12.2026" in end_de.html
    assert_escaped(end_de)


def test_billing_emails_without_a_name_greet_plainly() -> None:
    message = subscription_reactivated(
        **{**COMMON, "customer_name": None},
        product_name="Pro",
        next_billing_date=ISSUED,
        locale="en",
    )
    assert message.text.startswith("Hello,\n")
