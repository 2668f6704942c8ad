from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import Mode, TaxCategory, TimeInterval


class CardInput(BaseModel):
    """Test mode only: live mode takes a processor's token instead."""

    number: str
    "12 to 19 digits (spaces and hyphens are ignored), passing the Luhn check. Never stored, logged or echoed."
    exp_month: int = Field(alias="expMonth")
    "Expiry month, 1 to 12."
    exp_year: int = Field(alias="expYear")
    "Expiry year: four digits, or two for 20xx."
    cvc: str
    "3 digits (4 for American Express). Never stored or logged."


class CreateCustomerInput(BaseModel):
    """A new customer."""

    email: str
    "Unique among the business's customers of this mode (case-insensitive)."
    name: Optional[str] = None
    "At most 200 characters."
    phone_number: Optional[str] = Field(alias="phoneNumber", default=None)
    "E.164."


class CreateCustomerPortalSessionInput(BaseModel):
    """A one-time portal link for a customer."""

    customer_id: str = Field(alias="customerId")
    "The customer (cus_…)."
    send_email: bool = Field(alias="sendEmail", default=False)
    "Also email the link to the customer."
    return_url: Optional[str] = Field(alias="returnUrl", default=None)
    "Where the portal's 'back' link goes: an absolute http(s) URL, at most 2000 characters."


class CreateProductInput(BaseModel):
    """A new product, one-time or recurring."""

    name: str
    "At most 200 characters, not empty."
    price: "MoneyInput"
    "Per purchase, or per billing period: a positive amount."
    description: Optional[str] = None
    "Free text; cut at 5000 characters."
    interval: Optional[TimeInterval] = None
    "Set for a subscription product; omit for a one-time product."
    interval_count: Optional[int] = Field(alias="intervalCount", default=None)
    "Periods of interval per billing period, 1 to 365; omitted: 1. Only with interval."
    license_key_enabled: bool = Field(alias="licenseKeyEnabled", default=False)
    "Each purchase issues a license key."
    license_key_activations_limit: Optional[int] = Field(
        alias="licenseKeyActivationsLimit", default=None
    )
    "Devices per issued key, 1 to 100000; omitted: unlimited. Kept only with licenseKeyEnabled."
    license_key_duration_days: Optional[int] = Field(
        alias="licenseKeyDurationDays", default=None
    )
    "Days an issued key is valid, 1 to 100000; omitted: no end of its own."
    tax_category: TaxCategory = Field(alias="taxCategory", default=TaxCategory.STANDARD)
    "For the VAT on its invoices (once the business has legal details)."


class CreateSubscriptionInput(BaseModel):
    """A new subscription. Give exactly one of paymentMethodId, card and gatewayPaymentMethodId."""

    customer_id: str = Field(alias="customerId")
    "The customer (cus_…)."
    product_id: str = Field(alias="productId")
    "A recurring product (pdt_…)."
    payment_method_id: Optional[str] = Field(alias="paymentMethodId", default=None)
    "One of the customer's saved cards (pm_…)."
    card: Optional["CardInput"] = None
    "A new card (the test simulator only); saved for renewals when the charge succeeds."
    gateway_payment_method_id: Optional[str] = Field(
        alias="gatewayPaymentMethodId", default=None
    )
    "A Stripe PaymentMethod (pm_…) made by Stripe.js with the business's publishable key; for a business whose gateway is Stripe, instead of card."
    idempotency_key: Optional[str] = Field(alias="idempotencyKey", default=None)
    "1 to 255 characters, kept 24 hours per business, mode and caller: the same key with the same input answers the first result again; with other input, IDEMPOTENCY_KEY_REUSED."


class MoneyInput(BaseModel):
    """An amount of money."""

    amount: int
    "In the currency's minor unit."
    currency: str
    "ISO 4217, e.g. EUR."


class SignInInput(BaseModel):
    """The token of a portal or sign-in link, to exchange once."""

    token: str
    "The token from a portal or sign-in link."
    mode: Optional[Mode] = None
    "When given, the link must belong to this mode."


class UpdatePaymentMethodInput(BaseModel):
    """A subscription's new card. Give exactly one of paymentMethodId, card and gatewayPaymentMethodId."""

    subscription_id: str = Field(alias="subscriptionId")
    "The customer's subscription (sub_…), ACTIVE or ON_HOLD."
    payment_method_id: Optional[str] = Field(alias="paymentMethodId", default=None)
    "A saved card; or give `card`."
    card: Optional["CardInput"] = None
    "A new card (the test simulator only): the subscription's card once its payment succeeds, or at once when nothing is owed."
    gateway_payment_method_id: Optional[str] = Field(
        alias="gatewayPaymentMethodId", default=None
    )
    "A Stripe PaymentMethod (pm_…) made by Stripe.js with the business's publishable key; for a business whose gateway is Stripe, instead of card."
    idempotency_key: Optional[str] = Field(alias="idempotencyKey", default=None)
    "1 to 255 characters, kept 24 hours per business, mode and caller: the same key with the same input answers the first result again; with other input, IDEMPOTENCY_KEY_REUSED."


class UpdateSubscriptionInput(BaseModel):
    """Changes to a subscription; omitted fields stay as they are."""

    subscription_id: str = Field(alias="subscriptionId")
    "The subscription (sub_…)."
    next_billing_date: Optional[datetime] = Field(alias="nextBillingDate", default=None)
    "Test mode may move it into the past to force a renewal."
    cancel_at_next_billing_date: Optional[bool] = Field(
        alias="cancelAtNextBillingDate", default=None
    )
    "true: end at nextBillingDate instead of renewing (ACTIVE only); false: renew again."


CreateProductInput.model_rebuild()
CreateSubscriptionInput.model_rebuild()
UpdatePaymentMethodInput.model_rebuild()
