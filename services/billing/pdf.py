"""Invoice PDFs: a plain-data description of one invoice, and a renderer. No database in here."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF, FontFace
from fpdf.enums import TableBordersLayout, XPos, YPos

from services.einvoice import add_pdfa_output_intent
from services.money import format_date, format_money, normalize_language

STATUSES = ("open", "paid", "void")


@dataclass(frozen=True)
class InvoiceLineDoc:
    description: str
    quantity: int
    unit_amount: int  # minor units of the invoice's currency
    amount: int
    period_start: datetime | None = None
    period_end: datetime | None = None
    tax_rate: str | None = None  # percent, e.g. "19" (None: issued without tax settings)


@dataclass(frozen=True)
class TaxRowDoc:
    """One line of the VAT breakdown: net, rate and tax of one category and rate."""

    category: str  # EN 16931: S, Z, E, AE, O
    rate: str
    net: int
    tax: int


@dataclass(frozen=True)
class InvoiceDoc:
    number: str
    status: str  # "open" | "paid" | "void"
    business_name: str
    business_email: str
    customer_name: str | None
    customer_email: str
    issued_at: datetime
    paid_at: datetime | None
    currency: str
    total: int
    amount_due: int
    lines: list[InvoiceLineDoc]
    locale: str
    test_mode: bool
    credit_note: bool = False
    corrects: tuple[str, datetime] | None = None  # the corrected invoice: number, issue date
    # The parties as the invoice recorded them; empty: only the names and emails above.
    seller_lines: tuple[str, ...] = ()
    buyer_lines: tuple[str, ...] = ()
    prices_include_tax: bool = False
    net_total: int | None = None  # None: issued without tax settings (no VAT shown)
    tax_total: int = 0
    breakdown: tuple[TaxRowDoc, ...] = ()
    notes: tuple[str, ...] = ()
    pdfa: bool = False  # with an sRGB output intent, as PDF/A (Factur-X) requires


_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Invoice",
        "number": "Invoice number",
        "issued": "Issue date",
        "paid_on": "Paid on",
        "status": "Status",
        "open": "Open",
        "paid": "Paid",
        "void": "Void",
        "from": "From",
        "to": "Bill to",
        "description": "Description",
        "period": "Period",
        "quantity": "Qty",
        "unit": "Unit price",
        "amount": "Amount",
        "total": "Total",
        "due": "Amount due",
        "test": "TEST MODE: this invoice was created in test mode; no real money was charged.",
        "questions": "Questions about this invoice? Write to {email}.",
        "credit_note": "Credit note",
        "credit_number": "Credit note number",
        "corrects": "Corrects invoice {number} of {date}",
        "refunded": "Refunded",
        "vat": "VAT",
        "net": "Net amount",
        "tax": "VAT {rate} %",
        "gross": "Total",
        "amount_net": "Amount (net)",
        "amount_gross": "Amount (gross)",
        "unit_net": "Unit price (net)",
        "unit_gross": "Unit price (gross)",
        "service_date": "Date of supply: the issue date.",
        "category_AE": "Reverse charge",
        "category_E": "Exempt",
        "category_O": "Not subject to VAT",
    },
    "de": {
        "title": "Rechnung",
        "number": "Rechnungsnummer",
        "issued": "Rechnungsdatum",
        "paid_on": "Bezahlt am",
        "status": "Status",
        "open": "Offen",
        "paid": "Bezahlt",
        "void": "Storniert",
        "from": "Rechnungssteller",
        "to": "Rechnungsempfänger",
        "description": "Beschreibung",
        "period": "Zeitraum",
        "quantity": "Menge",
        "unit": "Einzelpreis",
        "amount": "Betrag",
        "total": "Gesamtbetrag",
        "due": "Offener Betrag",
        "test": "TESTMODUS: Diese Rechnung wurde im Testmodus erstellt; es wurde kein echtes "
        "Geld abgebucht.",
        "questions": "Fragen zu dieser Rechnung? Schreiben Sie an {email}.",
        "credit_note": "Rechnungskorrektur",
        "credit_number": "Nummer der Rechnungskorrektur",
        "corrects": "Korrigiert die Rechnung {number} vom {date}",
        "refunded": "Erstattet",
        "vat": "USt.",
        "net": "Nettobetrag",
        "tax": "Umsatzsteuer {rate} %",
        "gross": "Gesamtbetrag",
        "amount_net": "Betrag (netto)",
        "amount_gross": "Betrag (brutto)",
        "unit_net": "Einzelpreis (netto)",
        "unit_gross": "Einzelpreis (brutto)",
        "service_date": "Leistungsdatum: Rechnungsdatum.",
        "category_AE": "Steuerschuldnerschaft des Leistungsempfängers",
        "category_E": "Steuerfrei",
        "category_O": "Nicht steuerbar",
    },
}

_STATUS_COLORS = {"open": (180, 83, 9), "paid": (21, 128, 61), "void": (185, 28, 28)}
_FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",  # Debian, Ubuntu (fonts-dejavu-core)
    "/usr/share/fonts/dejavu-sans-fonts",  # Fedora, RHEL
    "/usr/share/fonts/dejavu",  # Alpine
    "/usr/share/fonts/TTF",  # Arch
    "/usr/local/share/fonts",
    "/Library/Fonts",
)
# Outside latin-1, for the core-font fallback only.
_LATIN1_SUBSTITUTES = {"€": "EUR", "\u202f": "\xa0", "\u2013": "-", "\u2014": "-", "…": "..."}
_LATIN1_SUBSTITUTES |= dict.fromkeys("\u2018\u2019\u201a", "'")
_LATIN1_SUBSTITUTES |= dict.fromkeys("\u201c\u201d\u201e", '"')
_LATIN1_SUBSTITUTES |= dict(zip("ŁłĐđı", "LlDdi", strict=True)) | {"Œ": "OE", "œ": "oe"}
_WHITESPACE = re.compile(r"\s+")


@lru_cache(maxsize=1)
def unicode_font() -> tuple[Path, Path] | None:
    """DejaVu Sans (regular, bold) if the system has it; None means core Helvetica, latin-1."""
    for directory in map(Path, _FONT_DIRS):
        regular = directory / "DejaVuSans.ttf"
        if regular.is_file():
            bold = directory / "DejaVuSans-Bold.ttf"
            return regular, bold if bold.is_file() else regular
    return None


def to_latin1(text: str) -> str:
    """What the core fonts can show: accents kept, "€" as "EUR", other characters decomposed."""
    out: list[str] = []
    for char in text:
        if ord(char) < 256:
            out.append(char)
        elif char in _LATIN1_SUBSTITUTES:
            out.append(_LATIN1_SUBSTITUTES[char])
        else:
            base = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode("latin-1")
            out.append(base or "?")
    return "".join(out)


def _period(line: InvoiceLineDoc, locale: str) -> str:
    """Start and end on lines of their own, so neither date is ever broken."""
    days = [format_date(d, locale) for d in (line.period_start, line.period_end) if d is not None]
    return " \u2013\n".join(days)


def _rate(rate: str, lang: str) -> str:
    text = format(Decimal(rate).normalize(), "f")
    return text.replace(".", ",") if lang == "de" else text


def render_invoice_pdf(doc: InvoiceDoc) -> bytes:
    """One A4 invoice or credit note, in the doc's locale ("de" or "en"), with text that can be
    extracted. With tax settings it shows what § 14 UStG asks: both parties' full names and
    addresses, the seller's VAT ID or tax number, the date of supply, net per VAT rate, the
    rate, the tax and the notes (reverse charge, § 19 UStG, …)."""
    status = doc.status.lower()
    if status not in STATUSES:
        raise ValueError(f"unknown invoice status {doc.status!r}")
    lang = normalize_language(doc.locale)
    labels = _LABELS[lang]
    taxed = doc.net_total is not None

    def money(amount: int) -> str:
        return format_money(amount, doc.currency, lang)

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(auto=True, margin=20)
    font = unicode_font()
    clean_text: Callable[[str], str]
    if font is None:
        family, clean_text = "Helvetica", to_latin1
    else:
        family, clean_text = "DejaVu", str
        pdf.add_font(family, "", str(font[0]))
        pdf.add_font(family, "B", str(font[1]))
    if doc.pdfa:
        add_pdfa_output_intent(pdf)

    def t(value: str | None) -> str:
        return str(clean_text(_WHITESPACE.sub(" ", value or "").strip()))

    title = labels["credit_note"] if doc.credit_note else labels["title"]
    pdf.set_title(t(f"{title} {doc.number}"))
    pdf.set_author(t(doc.business_name))
    pdf.set_creator("customer-portal")
    pdf.set_lang(lang)
    issued = doc.issued_at if doc.issued_at.tzinfo else doc.issued_at.replace(tzinfo=UTC)
    pdf.set_creation_date(issued)
    pdf.add_page()
    width = pdf.epw

    if doc.test_mode:
        pdf.set_font(family, "B", 9)
        pdf.set_text_color(180, 83, 9)
        pdf.multi_cell(width, 5, t(labels["test"]), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(4)

    shown_status = labels["refunded"] if doc.credit_note else labels[status]
    pdf.set_text_color(17, 24, 39)
    pdf.set_font(family, "B", 22)
    pdf.cell(width * 0.65, 12, t(title))
    pdf.set_text_color(*_STATUS_COLORS[status])
    pdf.set_font(family, "B", 16)
    pdf.cell(width * 0.35, 12, t(shown_status), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(17, 24, 39)
    pdf.ln(4)

    number_label = labels["credit_number"] if doc.credit_note else labels["number"]
    facts = [(number_label, doc.number), (labels["issued"], format_date(doc.issued_at, lang))]
    if not doc.credit_note:
        if status == "paid" and doc.paid_at is not None:
            facts.append((labels["paid_on"], format_date(doc.paid_at, lang)))
        else:
            facts.append((labels["status"], labels[status]))
    for label, value in facts:
        pdf.set_font(family, "", 10)
        pdf.cell(55, 6, t(label))
        pdf.set_font(family, "B", 10)
        pdf.cell(width - 55, 6, t(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if doc.corrects is not None:
        pdf.set_font(family, "", 10)
        corrects = labels["corrects"].format(
            number=doc.corrects[0], date=format_date(doc.corrects[1], lang)
        )
        pdf.cell(width, 6, t(corrects), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)

    # Seller and customer side by side: one heading row, then one row per line of each block.
    seller = list(doc.seller_lines) or [doc.business_name, doc.business_email]
    buyer = list(doc.buyer_lines) or [
        name for name in (doc.customer_name, doc.customer_email) if name
    ]
    pdf.set_font(family, "B", 10)
    pdf.cell(width / 2, 6, t(labels["from"]))
    pdf.cell(width / 2, 6, t(labels["to"]), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(family, "", 10)
    for index in range(max(len(seller), len(buyer))):
        left = seller[index] if index < len(seller) else ""
        right = buyer[index] if index < len(buyer) else ""
        pdf.cell(width / 2, 5.5, t(left))
        pdf.cell(width / 2, 5.5, t(right), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(8)

    pdf.set_font(family, "", 9)
    heading = FontFace(emphasis="BOLD", fill_color=(243, 244, 246))
    gross = doc.prices_include_tax
    if taxed:
        widths: tuple[int, ...] = (50, 34, 12, 27, 16, 31)
        keys = ["description", "period", "quantity", "unit_gross" if gross else "unit_net"]
        keys += ["vat", "amount_gross" if gross else "amount_net"]
    else:
        widths = (56, 42, 16, 28, 28)
        keys = ["description", "period", "quantity", "unit", "amount"]
    with pdf.table(
        col_widths=widths,
        text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT")[: len(widths)],
        headings_style=heading,
        borders_layout=TableBordersLayout.HORIZONTAL_LINES,
        line_height=5.5,
        padding=1.5,
    ) as table:
        table.row([t(labels[k]) for k in keys])
        for line in doc.lines:
            cells = [
                t(line.description),
                clean_text(_period(line, lang)),
                str(line.quantity),
                t(money(line.unit_amount)),
            ]
            if taxed:
                cells.append(t(f"{_rate(line.tax_rate or '0', lang)} %"))
            cells.append(t(money(line.amount)))
            table.row(cells)
    pdf.ln(4)

    totals: list[tuple[str, int, str]] = []
    if taxed:
        assert doc.net_total is not None
        totals.append((labels["net"], doc.net_total, ""))
        for row in doc.breakdown:
            label = labels["tax"].format(rate=_rate(row.rate, lang))
            if row.category in ("AE", "E", "O"):
                label = f"{label} ({labels['category_' + row.category]})"
            totals.append((label, row.tax, ""))
        totals.append((labels["gross"], doc.total, "B"))
    else:
        totals.append((labels["total"], doc.total, ""))
    if not doc.credit_note:
        totals.append((labels["due"], doc.amount_due, "B"))
    for label, amount, style in totals:
        pdf.set_font(family, style, 11)
        pdf.cell(width - 40, 7, t(label), align="R")
        pdf.cell(40, 7, t(money(amount)), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)

    pdf.set_font(family, "", 9)
    notes = list(doc.notes)
    if taxed and not any(line.period_start for line in doc.lines):
        notes.append(labels["service_date"])
    for note in notes:
        pdf.multi_cell(width, 5, t(note), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.set_text_color(75, 85, 99)
    note = labels["questions"].format(email=doc.business_email)
    pdf.multi_cell(width, 5, t(note), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
