"""Invoice PDFs: a plain-data description of one invoice, and a renderer. No database in here."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF, FontFace
from fpdf.enums import TableBordersLayout, XPos, YPos

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


def render_invoice_pdf(doc: InvoiceDoc) -> bytes:
    """One A4 invoice, in the doc's locale ("de" or "en"), with text that can be extracted."""
    status = doc.status.lower()
    if status not in STATUSES:
        raise ValueError(f"unknown invoice status {doc.status!r}")
    lang = normalize_language(doc.locale)
    labels = _LABELS[lang]

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

    def t(value: str | None) -> str:
        return str(clean_text(_WHITESPACE.sub(" ", value or "").strip()))

    pdf.set_title(t(f"{labels['title']} {doc.number}"))
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

    pdf.set_text_color(17, 24, 39)
    pdf.set_font(family, "B", 22)
    pdf.cell(width / 2, 12, t(labels["title"]))
    pdf.set_text_color(*_STATUS_COLORS[status])
    pdf.set_font(family, "B", 16)
    pdf.cell(width / 2, 12, t(labels[status]), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(17, 24, 39)
    pdf.ln(4)

    facts = [(labels["number"], doc.number), (labels["issued"], format_date(doc.issued_at, lang))]
    if status == "paid" and doc.paid_at is not None:
        facts.append((labels["paid_on"], format_date(doc.paid_at, lang)))
    else:
        facts.append((labels["status"], labels[status]))
    for label, value in facts:
        pdf.set_font(family, "", 10)
        pdf.cell(45, 6, t(label))
        pdf.set_font(family, "B", 10)
        pdf.cell(width - 45, 6, t(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)

    # Seller and customer side by side: one heading row, then one row per line of each block.
    seller = [doc.business_name, doc.business_email]
    buyer = [name for name in (doc.customer_name, doc.customer_email) if name]
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
    with pdf.table(
        col_widths=(56, 42, 16, 28, 28),
        text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=heading,
        borders_layout=TableBordersLayout.HORIZONTAL_LINES,
        line_height=5.5,
        padding=1.5,
    ) as table:
        table.row([t(labels[k]) for k in ("description", "period", "quantity", "unit", "amount")])
        for line in doc.lines:
            table.row(
                [
                    t(line.description),
                    clean_text(_period(line, lang)),
                    str(line.quantity),
                    t(money(line.unit_amount)),
                    t(money(line.amount)),
                ]
            )
    pdf.ln(4)

    for key, amount, style in (("total", doc.total, ""), ("due", doc.amount_due, "B")):
        pdf.set_font(family, style, 11)
        pdf.cell(width - 40, 7, t(labels[key]), align="R")
        pdf.cell(40, 7, t(money(amount)), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(10)

    pdf.set_font(family, "", 9)
    pdf.set_text_color(75, 85, 99)
    note = labels["questions"].format(email=doc.business_email)
    pdf.multi_cell(width, 5, t(note), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
