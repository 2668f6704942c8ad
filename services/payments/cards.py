"""Card checks that happen before any gateway call. A card number never leaves this module
except inside the gateway call itself: errors and reprs never include it."""

from __future__ import annotations

from dataclasses import dataclass, field

from models.clock import now
from services.errors import ServiceError


class CardError(ServiceError):
    """A card was refused: by our checks or by the gateway. `code` is the decline code."""


@dataclass(frozen=True)
class RawCard:
    """A card as a client sent it, not yet checked (and never shown)."""

    number: str = field(repr=False)
    exp_month: int = field(repr=False)
    exp_year: int = field(repr=False)
    cvc: str = field(repr=False)


@dataclass(frozen=True)
class CardDetails:
    number: str = field(repr=False)
    exp_month: int
    exp_year: int
    cvc: str = field(repr=False)

    @property
    def last4(self) -> str:
        return self.number[-4:]


def luhn_valid(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def card_brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    two, four = int(number[:2]), int(number[:4])
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return "mastercard"
    if two in (34, 37):
        return "amex"
    if number.startswith(("6011", "65")) or 644 <= int(number[:3]) <= 649:
        return "discover"
    return "unknown"


def check_card(number: str, exp_month: int, exp_year: int, cvc: str) -> CardDetails:
    """Normalises and checks a card; raises CardError without echoing the number or CVC."""
    digits = "".join(ch for ch in number if ch not in " -")
    if not (digits.isascii() and digits.isdigit()) or not 12 <= len(digits) <= 19:
        raise CardError(
            "The card number is not valid.", code="INVALID_CARD_NUMBER", field=["card", "number"]
        )
    if not luhn_valid(digits):
        raise CardError(
            "The card number is not valid.", code="INVALID_CARD_NUMBER", field=["card", "number"]
        )
    if exp_year < 100:
        exp_year += 2000
    today = now()
    if not 1 <= exp_month <= 12:
        raise CardError(
            "The expiry month is not valid.", code="INVALID_EXPIRY", field=["card", "expMonth"]
        )
    if (exp_year, exp_month) < (today.year, today.month) or exp_year > today.year + 50:
        raise CardError("The card has expired.", code="EXPIRED_CARD", field=["card", "expYear"])
    cvc = cvc.strip()
    expected = 4 if card_brand(digits) == "amex" else 3
    if not (cvc.isascii() and cvc.isdigit()) or len(cvc) != expected:
        raise CardError(
            "The security code is not valid.", code="INCORRECT_CVC", field=["card", "cvc"]
        )
    return CardDetails(number=digits, exp_month=exp_month, exp_year=exp_year, cvc=cvc)
