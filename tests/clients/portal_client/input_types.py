from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import Mode, TaxCategory, TimeInterval


class CardInput(BaseModel):
    """Test mode only: live mode takes a processor's token instead."""

    number: str
    exp_month: int = Field(alias="expMonth")
    exp_year: int = Field(alias="expYear")
    cvc: str


class CreateCustomerInput(BaseModel):
    email: str
    name: Optional[str] = None
    phone_number: Optional[str] = Field(alias="phoneNumber", default=None)
    "E.164."


class CreateCustomerPortalSessionInput(BaseModel):
    customer_id: str = Field(alias="customerId")
    send_email: bool = Field(alias="sendEmail", default=False)
    "Also email the link to the customer."
    return_url: Optional[str] = Field(alias="returnUrl", default=None)
    "Where the portal's 'back' link goes."


class CreateProductInput(BaseModel):
    name: str
    price: "MoneyInput"
    description: Optional[str] = None
    interval: Optional[TimeInterval] = None
    "Set for a subscription product; omit for a one-time product."
    interval_count: Optional[int] = Field(alias="intervalCount", default=None)
    license_key_enabled: bool = Field(alias="licenseKeyEnabled", default=False)
    license_key_activations_limit: Optional[int] = Field(
        alias="licenseKeyActivationsLimit", default=None
    )
    license_key_duration_days: Optional[int] = Field(
        alias="licenseKeyDurationDays", default=None
    )
    tax_category: TaxCategory = Field(alias="taxCategory", default=TaxCategory.STANDARD)
    "For the VAT on its invoices (once the business has legal details)."


class CreateSubscriptionInput(BaseModel):
    customer_id: str = Field(alias="customerId")
    product_id: str = Field(alias="productId")
    payment_method_id: Optional[str] = Field(alias="paymentMethodId", default=None)
    card: Optional["CardInput"] = None
    gateway_payment_method_id: Optional[str] = Field(
        alias="gatewayPaymentMethodId", default=None
    )
    "A Stripe PaymentMethod (pm_…) made by Stripe.js with the business's publishable key; for a business whose gateway is Stripe, instead of card."
    idempotency_key: Optional[str] = Field(alias="idempotencyKey", default=None)


class MoneyInput(BaseModel):
    amount: int
    "In the currency's minor unit."
    currency: str
    "ISO 4217, e.g. EUR."


class SignInInput(BaseModel):
    token: str
    "The token from a portal or sign-in link."
    mode: Optional[Mode] = None
    "When given, the link must belong to this mode."


class UpdatePaymentMethodInput(BaseModel):
    subscription_id: str = Field(alias="subscriptionId")
    payment_method_id: Optional[str] = Field(alias="paymentMethodId", default=None)
    "A saved card; or give `card`."
    card: Optional["CardInput"] = None
    gateway_payment_method_id: Optional[str] = Field(
        alias="gatewayPaymentMethodId", default=None
    )
    "A Stripe PaymentMethod (pm_…) made by Stripe.js with the business's publishable key; for a business whose gateway is Stripe, instead of card."
    idempotency_key: Optional[str] = Field(alias="idempotencyKey", default=None)


class UpdateSubscriptionInput(BaseModel):
    subscription_id: str = Field(alias="subscriptionId")
    next_billing_date: Optional[datetime] = Field(alias="nextBillingDate", default=None)
    "Test mode may move it into the past to force a renewal."
    cancel_at_next_billing_date: Optional[bool] = Field(
        alias="cancelAtNextBillingDate", default=None
    )


CreateProductInput.model_rebuild()
CreateSubscriptionInput.model_rebuild()
UpdatePaymentMethodInput.model_rebuild()
