"""Stripe's webhooks for one business: verified with the business's webhook signing secret (of
the mode the event belongs to), each event handled once, and the payments they are about
settled through the same step three as everything else. Events about objects the business does
not own are acknowledged and ignored."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import stripe
from tortoise.exceptions import IntegrityError

from models import Business, GatewayEvent, Mode, Payment
from models.ids import well_formed
from services.billing.charging import OPEN_STATUSES, note_reference
from services.billing.settlement import settle_payment
from services.outbox import notify_worker
from services.payments.gateway_config import stripe_gateway_of, webhook_secret_for

if TYPE_CHECKING:
    from services.settings import Settings

logger = logging.getLogger("portal.stripe")


@dataclass(frozen=True)
class WebhookAnswer:
    status: int
    message: str


BAD_SIGNATURE = WebhookAnswer(400, "The signature does not verify.")


async def _verified(
    settings: Settings, business_id: str, payload: bytes, signature: str
) -> tuple[Any, Mode] | None:
    """The event and its mode, when one of the business's webhook secrets signed it."""
    for mode in (Mode.TEST, Mode.LIVE):
        secret = await webhook_secret_for(settings, business_id, mode)
        if secret is None:
            continue
        try:
            return stripe.Webhook.construct_event(payload, signature, secret), mode
        except (ValueError, stripe.SignatureVerificationError):
            continue
    return None


async def handle_stripe_webhook(
    settings: Settings, business_id: str, payload: bytes, signature: str | None
) -> WebhookAnswer:
    if not signature or not well_formed(business_id, "bus"):
        return BAD_SIGNATURE
    if not await Business.exists(id=business_id):
        return BAD_SIGNATURE
    verified = await _verified(settings, business_id, payload, signature)
    if verified is None:
        return BAD_SIGNATURE
    event, mode = verified
    if await GatewayEvent.exists(id=event.id):
        return WebhookAnswer(200, "Already handled.")
    if str(event.type).startswith("payment_intent."):
        await _payment_intent(settings, business_id, mode, event.data.object)
    # The same event delivered twice at once is handled by both: settling happens once.
    with contextlib.suppress(IntegrityError):
        await GatewayEvent.create(id=event.id, business_id=business_id, mode=mode, type=event.type)
    return WebhookAnswer(200, "Handled.")


async def _payment_intent(settings: Settings, business_id: str, mode: Mode, intent: Any) -> None:
    metadata = intent.metadata or {}
    payment_id = metadata.get("payment_id") if hasattr(metadata, "get") else None
    payment = None
    if isinstance(payment_id, str) and well_formed(payment_id, "pay"):
        payment = await Payment.get_or_none(id=payment_id, business_id=business_id, mode=mode)
    if payment is None:
        payment = await Payment.get_or_none(
            gateway_reference=str(intent.id), business_id=business_id, mode=mode
        )
    if payment is None:
        logger.info("Stripe event about %s, which is none of this business's payments", intent.id)
        return
    if payment.gateway_reference is None:
        await Payment.filter(id=payment.id, gateway_reference__isnull=True).update(
            gateway_reference=str(intent.id)
        )
        payment.gateway_reference = str(intent.id)
    elif payment.gateway_reference != intent.id:
        return  # a charge that was replaced by another attempt
    if payment.status not in OPEN_STATUSES:
        return  # settled already
    gateway = await stripe_gateway_of(settings, business_id, mode)
    # The charge's current state, asked of Stripe: events may arrive out of order.
    result = await gateway.outcome(
        await payment.customer,
        payment,
        None,  # by reference, which is known now
    )
    await note_reference(payment, result)
    await settle_payment(settings, payment, result, gateway)
    notify_worker()
