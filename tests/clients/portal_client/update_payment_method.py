from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import InvoiceStatus, PaymentStatus, SubscriptionStatus


class UpdatePaymentMethod(BaseModel):
    update_payment_method: "UpdatePaymentMethodUpdatePaymentMethod" = Field(
        alias="updatePaymentMethod"
    )


class UpdatePaymentMethodUpdatePaymentMethod(BaseModel):
    subscription: Optional["UpdatePaymentMethodUpdatePaymentMethodSubscription"]
    payment: Optional["UpdatePaymentMethodUpdatePaymentMethodPayment"]
    invoice: Optional["UpdatePaymentMethodUpdatePaymentMethodInvoice"]
    user_errors: list["UpdatePaymentMethodUpdatePaymentMethodUserErrors"] = Field(
        alias="userErrors"
    )


class UpdatePaymentMethodUpdatePaymentMethodSubscription(BaseModel):
    id: str
    status: SubscriptionStatus
    next_billing_date: Optional[datetime] = Field(alias="nextBillingDate")
    payment_method: Optional[
        "UpdatePaymentMethodUpdatePaymentMethodSubscriptionPaymentMethod"
    ] = Field(alias="paymentMethod")
    outstanding_amount: "UpdatePaymentMethodUpdatePaymentMethodSubscriptionOutstandingAmount" = Field(
        alias="outstandingAmount"
    )


class UpdatePaymentMethodUpdatePaymentMethodSubscriptionPaymentMethod(BaseModel):
    id: str
    brand: str
    last_4: str = Field(alias="last4")


class UpdatePaymentMethodUpdatePaymentMethodSubscriptionOutstandingAmount(BaseModel):
    amount: int
    currency: str


class UpdatePaymentMethodUpdatePaymentMethodPayment(BaseModel):
    id: str
    status: PaymentStatus
    amount: "UpdatePaymentMethodUpdatePaymentMethodPaymentAmount"
    failure_code: Optional[str] = Field(alias="failureCode")
    failure_message: Optional[str] = Field(alias="failureMessage")


class UpdatePaymentMethodUpdatePaymentMethodPaymentAmount(BaseModel):
    amount: int
    currency: str


class UpdatePaymentMethodUpdatePaymentMethodInvoice(BaseModel):
    id: str
    number: str
    status: InvoiceStatus
    amount_due: "UpdatePaymentMethodUpdatePaymentMethodInvoiceAmountDue" = Field(
        alias="amountDue"
    )


class UpdatePaymentMethodUpdatePaymentMethodInvoiceAmountDue(BaseModel):
    amount: int


class UpdatePaymentMethodUpdatePaymentMethodUserErrors(BaseModel):
    code: str
    field: Optional[list[str]]
    message: str


UpdatePaymentMethod.model_rebuild()
UpdatePaymentMethodUpdatePaymentMethod.model_rebuild()
UpdatePaymentMethodUpdatePaymentMethodSubscription.model_rebuild()
UpdatePaymentMethodUpdatePaymentMethodPayment.model_rebuild()
UpdatePaymentMethodUpdatePaymentMethodInvoice.model_rebuild()
