"""services/payment_updates on its own, on SQLite (in-process) and PostgreSQL (LISTEN/NOTIFY on
a connection of its own): a watcher gets the payment as it is, then its settlement as soon as
the settling transaction commits (well before its own poll), and then it ends; a payment
outside the watcher's scope is NOT_FOUND like a missing one. The websocket tests in
tests/gateway_stripe/test_live_payment_status.py show the same through GraphQL and processes."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from models import Mode, Payment, PaymentStatus
from models.clock import clock
from services import payment_updates
from services.billing.renewals import renew_due_subscriptions
from services.billing.settlement import settle_stale_payments
from services.businesses import NewBusiness
from services.customers import create_customer
from services.errors import NotFound
from services.payments.gateway import TestGateway
from services.scope import Scope
from services.settings import Settings
from tests.services.test_billing_flows import make_due, subscribed


async def _interrupted(*args: Any, **kwargs: Any) -> Any:
    raise asyncio.CancelledError  # the process stops between the gateway and the record


async def test_a_watcher_sees_the_settlement_as_soon_as_it_commits(
    settings: Settings, acme: NewBusiness, globex: NewBusiness, monkeypatch: pytest.MonkeyPatch
) -> None:
    kind = payment_updates.configure(settings)
    assert kind == ("postgresql" if settings.database_url.startswith("postgres") else "in-process")
    scope = Scope(acme.business.id, Mode.TEST)
    subscription_id = await subscribed(settings, scope, "gil@example.com")
    await make_due(scope, subscription_id)
    monkeypatch.setattr(TestGateway, "charge", _interrupted)
    with pytest.raises(asyncio.CancelledError):
        await renew_due_subscriptions(settings, scope)
    monkeypatch.undo()
    [stuck] = await Payment.filter(subscription_id=subscription_id, status=PaymentStatus.PROCESSING)

    try:
        # A poll far away: only the announcement can bring the change in time.
        watcher = payment_updates.watch(scope, stuck.id, poll_seconds=60)
        first = await anext(watcher)
        assert first.status == PaymentStatus.PROCESSING
        assert payment_updates.watchers() == 1

        clock.advance(timedelta(minutes=11))
        assert await settle_stale_payments(settings) == 1
        async with asyncio.timeout(5):
            settled = await anext(watcher)
            assert settled.status == PaymentStatus.SUCCEEDED
            with pytest.raises(StopAsyncIteration):
                await anext(watcher)
        assert payment_updates.watchers() == 0

        # Someone else's payment, another customer's, and one that does not exist: alike.
        other = await create_customer(scope, email="hal@example.com")
        for outsider, payment_id in (
            (Scope(globex.business.id, Mode.TEST), stuck.id),
            (Scope(acme.business.id, Mode.LIVE), stuck.id),
            (Scope(acme.business.id, Mode.TEST, other.id), stuck.id),
            (scope, "pay_doesnotexist000000"),
        ):
            with pytest.raises(NotFound):
                await anext(payment_updates.watch(outsider, payment_id))
    finally:
        await payment_updates.close()
