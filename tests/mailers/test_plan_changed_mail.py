"""The plan change email, in each of its three states, in German and English."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import mailers

SUBJECTS = {
    ("applied", "en"): "Your plan is now Pro",
    ("applied", "de"): "Ihr Tarif ist jetzt Pro",
    ("scheduled", "en"): "Your plan changes to Pro on Feb 1, 2027",
    ("scheduled", "de"): "Ihr Tarif wechselt am 01.02.2027 zu Pro",
    ("cancelled", "en"): "You keep your plan Basic",
    ("cancelled", "de"): "Sie behalten Ihren Tarif Basic",
}


@pytest.mark.parametrize(("state", "locale"), list(SUBJECTS))
def test_plan_changed_mail(state: str, locale: str) -> None:
    message = mailers.plan_changed(
        to="max@example.com",
        customer_name="Max",
        business_name="Acme",
        support_email="support@acme.example",
        state=state,
        old_product_name="Basic",
        new_product_name="Pro",
        effective_at=datetime(2027, 2, 1, tzinfo=UTC),
        price="€29.75" if locale == "en" else "29,75 €",
        from_addr="noreply@acme.example",
        locale=locale,
    )
    assert message.subject == SUBJECTS[(state, locale)]
    assert "Acme" in message.text and "Basic" in message.text
    if state != "cancelled":
        assert "29" in message.text  # the new plan's price


def test_an_unknown_state_is_refused() -> None:
    with pytest.raises(ValueError):
        mailers.plan_changed(
            to="max@example.com",
            customer_name="Max",
            business_name="Acme",
            support_email="support@acme.example",
            state="maybe",
            old_product_name="Basic",
            new_product_name="Pro",
            effective_at=datetime(2027, 2, 1, tzinfo=UTC),
            price="€1",
            from_addr="noreply@acme.example",
            locale="en",
        )
