"""Small pieces several pages show: status badges, prices per interval, cards, notices."""

from __future__ import annotations

import html
from typing import Any

from app.portal.core import Page, notice_box
from app.portal.i18n import date, has_text, money

e = html.escape

SUBSCRIPTION_FIELDS = (
    "id status nextBillingDate cancelAtNextBillingDate cancelledAt createdAt interval "
    "intervalCount price { amount currency } outstandingAmount { amount currency } "
    "product { name description }"
)
CARD_FIELDS = "id brand last4 expMonth expYear"

BADGE_CLASS = {
    "ACTIVE": "ok",
    "PAID": "ok",
    "SUCCEEDED": "ok",
    "ON_HOLD": "warn",
    "OPEN": "warn",
    "PROCESSING": "warn",
    "FAILED": "bad",
    "DISABLED": "bad",
}


def badge(page: Page, status: str) -> str:
    css = BADGE_CLASS.get(status, "neutral")
    return f'<span class="badge {css}">{page.t("status_" + status)}</span>'


def subscription_badge(page: Page, sub: dict[str, Any]) -> str:
    if sub["status"] == "ACTIVE" and sub["cancelAtNextBillingDate"]:
        return f'<span class="badge warn">{page.t("status_ENDING")}</span>'
    return badge(page, sub["status"])


def price_per_interval(page: Page, sub: dict[str, Any]) -> str:
    count = int(sub.get("intervalCount") or 1)
    key = f"every_{sub['interval']}" + ("" if count == 1 else "_n")
    return page.t(key, price=_plain(money(sub["price"], page.locale)), count=count)


def _plain(escaped: str) -> str:
    """`t()` escapes its values; hand it the plain text of something already escaped."""
    return html.unescape(escaped)


def renewal_line(page: Page, sub: dict[str, Any]) -> str:
    """What happens next, in one sentence."""
    status = sub["status"]
    when = _plain(date(sub.get("nextBillingDate"), page.locale))
    if status == "ACTIVE" and sub["cancelAtNextBillingDate"]:
        return page.t("ends_on", date=when)
    if status == "ACTIVE":
        return page.t("renews_on", date=when)
    if status == "ON_HOLD":
        return page.t("on_hold_line", amount=_plain(money(sub["outstandingAmount"], page.locale)))
    if status == "CANCELLED":
        return page.t("cancelled_on", date=_plain(date(sub.get("cancelledAt"), page.locale)))
    return page.t("status_" + status)


BRANDS = {"visa": "Visa", "mastercard": "Mastercard", "amex": "American Express"}


def brand_name(brand: str | None) -> str:
    return BRANDS.get(brand or "", (brand or "").capitalize())


def card_label(page: Page, card: dict[str, Any] | None) -> str:
    if not card:
        return page.t("no_card")
    return page.t(
        "card_label",
        brand=brand_name(card["brand"]),
        last4=card["last4"],
        month=f"{int(card['expMonth']):02d}",
        year=card["expYear"],
    )


def done_notice(page: Page, *allowed: str) -> str:
    """A one-line confirmation after a redirect (`?done=saved`): only known words, never
    anything the URL says verbatim."""
    done = page.request.query_params.get("done")
    if done in allowed and has_text("en", "done_" + str(done)):
        return notice_box(page.t("done_" + str(done)))
    return ""


def on_hold_banner(page: Page, sub: dict[str, Any], *, link: bool = True) -> str:
    amount = _plain(money(sub["outstandingAmount"], page.locale))
    action = ""
    if link:
        href = page.url(f"/portal/subscriptions/{sub['id']}/payment-method")
        action = f'<p><a class="button" href="{href}">{page.t("fix_payment")}</a></p>'
    return (
        f'<section class="alert warn banner" aria-labelledby="hold-{e(sub["id"])}">'
        f'<h2 id="hold-{e(sub["id"])}">{page.t("on_hold_heading", product=sub["product"]["name"])}'
        f"</h2><p>{page.t('on_hold_body', amount=amount)}</p>{action}</section>"
    )


def definition_list(rows: list[tuple[str, str]]) -> str:
    """Rows of (label HTML, value HTML)."""
    return "<dl>" + "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in rows) + "</dl>"


def pdf_link(page: Page, invoice: dict[str, Any]) -> str:
    number = e(invoice["number"])
    href = f"/invoices/{e(invoice['id'])}.pdf?lang={page.locale}"
    return (
        f'<a class="download" href="{href}" download="{number}.pdf">{page.t("download_pdf")}'
        f'<span class="visually-hidden"> {number}</span></a>'
    )
