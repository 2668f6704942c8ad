from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import SubscriptionStatus


class SubscriptionState(BaseModel):
    subscription: "SubscriptionStateSubscription"


class SubscriptionStateSubscription(BaseModel):
    id: str
    status: SubscriptionStatus
    next_billing_date: Optional[datetime] = Field(alias="nextBillingDate")
    outstanding_amount: "SubscriptionStateSubscriptionOutstandingAmount" = Field(
        alias="outstandingAmount"
    )
    payment_method: Optional["SubscriptionStateSubscriptionPaymentMethod"] = Field(
        alias="paymentMethod"
    )


class SubscriptionStateSubscriptionOutstandingAmount(BaseModel):
    amount: int
    currency: str
    formatted: str


class SubscriptionStateSubscriptionPaymentMethod(BaseModel):
    brand: str
    last_4: str = Field(alias="last4")


SubscriptionState.model_rebuild()
SubscriptionStateSubscription.model_rebuild()
