"""What a business lets its customers do in the portal (per mode), and the one check every
customer action goes through: `require_customer_may`.

Until the merchant changes a setting, DEFAULTS apply; they are the portal's behaviour before the
settings existed: customers may cancel (now or at period end), replace cards, edit their profile
(and billing details) and see invoices, and may hold several subscriptions to one product; the
newer actions (pause, plan changes, restarting an ended subscription) are off until allowed.
Merchant API keys are never limited by these settings."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from enum import StrEnum
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import CustomerCancellation, Mode, PortalSettings, Subscription, SubscriptionStatus
from models.clock import now
from services.errors import ServiceError
from services.events import record_event
from services.scope import Scope


class CustomerAction(StrEnum):
    """What a customer may be refused in the portal."""

    CANCEL_NOW = "cancel_now"
    CANCEL_AT_PERIOD_END = "cancel_at_period_end"
    PAUSE = "pause"
    CHANGE_PLAN = "change_plan"
    UPDATE_PAYMENT_METHOD = "update_payment_method"
    EDIT_PROFILE = "edit_profile"
    VIEW_INVOICES = "view_invoices"
    RESTART = "restart"


@dataclass(frozen=True)
class PortalSettingsValues:
    customer_cancellation: CustomerCancellation = CustomerCancellation.NOW
    customer_pause: bool = False
    customer_change_plan: bool = False
    customer_update_payment_methods: bool = True
    customer_edit_profile: bool = True
    customer_view_invoices: bool = True
    customer_restart: bool = False
    multiple_subscriptions_per_product: bool = True

    def allows(self, action: CustomerAction) -> bool:
        cancellation = self.customer_cancellation
        match action:
            case CustomerAction.CANCEL_NOW:
                return cancellation == CustomerCancellation.NOW
            case CustomerAction.CANCEL_AT_PERIOD_END:
                return cancellation != CustomerCancellation.NOT_ALLOWED
            case CustomerAction.PAUSE:
                return self.customer_pause
            case CustomerAction.CHANGE_PLAN:
                return self.customer_change_plan
            case CustomerAction.UPDATE_PAYMENT_METHOD:
                return self.customer_update_payment_methods
            case CustomerAction.EDIT_PROFILE:
                return self.customer_edit_profile
            case CustomerAction.VIEW_INVOICES:
                return self.customer_view_invoices
            case CustomerAction.RESTART:
                return self.customer_restart


DEFAULTS = PortalSettingsValues()
SWITCHES = tuple(f.name for f in fields(PortalSettingsValues))

_REFUSALS = {
    CustomerAction.CANCEL_NOW: "This business does not let customers cancel at once here.",
    CustomerAction.CANCEL_AT_PERIOD_END: "This business does not let customers cancel here.",
    CustomerAction.PAUSE: "This business does not let customers pause subscriptions.",
    CustomerAction.CHANGE_PLAN: "This business does not let customers change plans.",
    CustomerAction.UPDATE_PAYMENT_METHOD: "This business does not let customers change cards.",
    CustomerAction.EDIT_PROFILE: "This business does not let customers edit their details.",
    CustomerAction.VIEW_INVOICES: "This business does not show invoices in the portal.",
    CustomerAction.RESTART: "This business does not let customers restart subscriptions.",
}


class NotAllowedByBusiness(ServiceError):
    code = "NOT_ALLOWED_BY_BUSINESS"


def _values_of(row: PortalSettings | None) -> PortalSettingsValues:
    if row is None:
        return DEFAULTS
    return PortalSettingsValues(**{name: getattr(row, name) for name in SWITCHES})


async def portal_settings(business_id: str, mode: Mode) -> PortalSettingsValues:
    row = await PortalSettings.get_or_none(business_id=business_id, mode=mode)
    return _values_of(row)


async def require_customer_may(business_id: str, mode: Mode, action: CustomerAction) -> None:
    """Raises NOT_ALLOWED_BY_BUSINESS when the business's settings refuse the action. Call it
    before changing anything, for customer callers only."""
    values = await portal_settings(business_id, mode)
    if not values.allows(action):
        raise NotAllowedByBusiness(_REFUSALS[action])


async def require_customer_may_in(scope: Scope, action: CustomerAction) -> None:
    """The check for a caller's scope: only a customer's (portal session's) is limited."""
    if scope.customer_id is not None:
        await require_customer_may(scope.business_id, scope.mode, action)


async def require_may_hold_another(scope: Scope, customer_id: str, product_id: str) -> None:
    """When the business allows one subscription per product: refuses a customer who has a
    running one (PENDING, ACTIVE, ON_HOLD or PAUSED) to this product."""
    values = await portal_settings(scope.business_id, scope.mode)
    if values.multiple_subscriptions_per_product:
        return
    running = await Subscription.filter(
        business_id=scope.business_id,
        mode=scope.mode,
        customer_id=customer_id,
        product_id=product_id,
        status__in=[
            SubscriptionStatus.PENDING,
            SubscriptionStatus.ACTIVE,
            SubscriptionStatus.ON_HOLD,
            SubscriptionStatus.PAUSED,
        ],
    ).exists()
    if running:
        raise NotAllowedByBusiness(
            "This business allows one subscription per product, and one is running.",
            field=["subscriptionId"],
        )


async def update_portal_settings(scope: Scope, changes: dict[str, Any]) -> PortalSettingsValues:
    """Every given switch changes at once; omitted ones stay. A `portal_settings.updated`
    webhook event is recorded when something changed."""
    unknown = set(changes) - set(SWITCHES)
    if unknown:
        raise ServiceError(f"Unknown settings: {', '.join(sorted(unknown))}.")
    for name, value in changes.items():
        if value is None:
            raise ServiceError(
                "A setting cannot be null; leave it out to keep it.",
                code="INVALID_INPUT",
                field=[_camel(name)],
            )
    for attempt in range(2):
        try:
            async with in_transaction():
                row = await PortalSettings.get_or_none(
                    business_id=scope.business_id, mode=scope.mode
                )
                before = _values_of(row)
                after = replace(before, **changes)
                if after == before:
                    return before
                if row is None:
                    await PortalSettings.create(
                        business_id=scope.business_id,
                        mode=scope.mode,
                        updated_at=now(),
                        **{name: getattr(after, name) for name in SWITCHES},
                    )
                else:
                    await PortalSettings.filter(id=row.id).update(updated_at=now(), **changes)
                await record_event(
                    scope.business_id, scope.mode, "portal_settings.updated", settings_data(after)
                )
                return after
        except IntegrityError:
            if attempt:  # two first changes at once: the second one updates the first's row
                raise
    raise AssertionError("unreachable")


def settings_data(values: PortalSettingsValues) -> dict[str, Any]:
    data: dict[str, Any] = {name: getattr(values, name) for name in SWITCHES}
    data["customer_cancellation"] = values.customer_cancellation.value
    return data


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
