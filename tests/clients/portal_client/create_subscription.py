from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import InvoiceStatus, PaymentStatus, SubscriptionStatus


class CreateSubscription(BaseModel):
    create_subscription: "CreateSubscriptionCreateSubscription" = Field(
        alias="createSubscription"
    )


class CreateSubscriptionCreateSubscription(BaseModel):
    subscription: Optional["CreateSubscriptionCreateSubscriptionSubscription"]
    payment: Optional["CreateSubscriptionCreateSubscriptionPayment"]
    invoice: Optional["CreateSubscriptionCreateSubscriptionInvoice"]
    user_errors: list["CreateSubscriptionCreateSubscriptionUserErrors"] = Field(
        alias="userErrors"
    )


class CreateSubscriptionCreateSubscriptionSubscription(BaseModel):
    id: str
    status: SubscriptionStatus
    next_billing_date: Optional[datetime] = Field(alias="nextBillingDate")
    payment_method: Optional[
        "CreateSubscriptionCreateSubscriptionSubscriptionPaymentMethod"
    ] = Field(alias="paymentMethod")


class CreateSubscriptionCreateSubscriptionSubscriptionPaymentMethod(BaseModel):
    id: str
    last_4: str = Field(alias="last4")


class CreateSubscriptionCreateSubscriptionPayment(BaseModel):
    id: str
    status: PaymentStatus
    amount: "CreateSubscriptionCreateSubscriptionPaymentAmount"
    failure_code: Optional[str] = Field(alias="failureCode")


class CreateSubscriptionCreateSubscriptionPaymentAmount(BaseModel):
    amount: int
    currency: str


class CreateSubscriptionCreateSubscriptionInvoice(BaseModel):
    id: str
    number: str
    status: InvoiceStatus


class CreateSubscriptionCreateSubscriptionUserErrors(BaseModel):
    code: str
    field: Optional[list[str]]
    message: str


CreateSubscription.model_rebuild()
CreateSubscriptionCreateSubscription.model_rebuild()
CreateSubscriptionCreateSubscriptionSubscription.model_rebuild()
CreateSubscriptionCreateSubscriptionPayment.model_rebuild()
