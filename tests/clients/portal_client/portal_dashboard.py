from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import InvoiceStatus, PaymentStatus, SubscriptionStatus


class PortalDashboard(BaseModel):
    me: "PortalDashboardMe"


class PortalDashboardMe(BaseModel):
    id: str
    email: str
    subscriptions: "PortalDashboardMeSubscriptions"
    invoices: "PortalDashboardMeInvoices"
    payments: "PortalDashboardMePayments"
    payment_methods: list["PortalDashboardMePaymentMethods"] = Field(
        alias="paymentMethods"
    )


class PortalDashboardMeSubscriptions(BaseModel):
    edges: list["PortalDashboardMeSubscriptionsEdges"]


class PortalDashboardMeSubscriptionsEdges(BaseModel):
    node: "PortalDashboardMeSubscriptionsEdgesNode"


class PortalDashboardMeSubscriptionsEdgesNode(BaseModel):
    id: str
    status: SubscriptionStatus
    next_billing_date: Optional[datetime] = Field(alias="nextBillingDate")
    price: "PortalDashboardMeSubscriptionsEdgesNodePrice"
    product: "PortalDashboardMeSubscriptionsEdgesNodeProduct"
    payment_method: Optional["PortalDashboardMeSubscriptionsEdgesNodePaymentMethod"] = (
        Field(alias="paymentMethod")
    )
    outstanding_amount: "PortalDashboardMeSubscriptionsEdgesNodeOutstandingAmount" = (
        Field(alias="outstandingAmount")
    )


class PortalDashboardMeSubscriptionsEdgesNodePrice(BaseModel):
    amount: int
    currency: str
    formatted: str


class PortalDashboardMeSubscriptionsEdgesNodeProduct(BaseModel):
    id: str
    name: str
    price: "PortalDashboardMeSubscriptionsEdgesNodeProductPrice"


class PortalDashboardMeSubscriptionsEdgesNodeProductPrice(BaseModel):
    amount: int


class PortalDashboardMeSubscriptionsEdgesNodePaymentMethod(BaseModel):
    brand: str
    last_4: str = Field(alias="last4")


class PortalDashboardMeSubscriptionsEdgesNodeOutstandingAmount(BaseModel):
    amount: int


class PortalDashboardMeInvoices(BaseModel):
    edges: list["PortalDashboardMeInvoicesEdges"]


class PortalDashboardMeInvoicesEdges(BaseModel):
    node: "PortalDashboardMeInvoicesEdgesNode"


class PortalDashboardMeInvoicesEdgesNode(BaseModel):
    id: str
    number: str
    status: InvoiceStatus
    total: "PortalDashboardMeInvoicesEdgesNodeTotal"
    amount_due: "PortalDashboardMeInvoicesEdgesNodeAmountDue" = Field(alias="amountDue")
    subscription: Optional["PortalDashboardMeInvoicesEdgesNodeSubscription"]
    pdf_url: str = Field(alias="pdfUrl")


class PortalDashboardMeInvoicesEdgesNodeTotal(BaseModel):
    amount: int


class PortalDashboardMeInvoicesEdgesNodeAmountDue(BaseModel):
    amount: int


class PortalDashboardMeInvoicesEdgesNodeSubscription(BaseModel):
    id: str


class PortalDashboardMePayments(BaseModel):
    edges: list["PortalDashboardMePaymentsEdges"]


class PortalDashboardMePaymentsEdges(BaseModel):
    node: "PortalDashboardMePaymentsEdgesNode"


class PortalDashboardMePaymentsEdgesNode(BaseModel):
    id: str
    status: PaymentStatus
    amount: "PortalDashboardMePaymentsEdgesNodeAmount"
    invoice: Optional["PortalDashboardMePaymentsEdgesNodeInvoice"]
    payment_method: Optional["PortalDashboardMePaymentsEdgesNodePaymentMethod"] = Field(
        alias="paymentMethod"
    )


class PortalDashboardMePaymentsEdgesNodeAmount(BaseModel):
    amount: int


class PortalDashboardMePaymentsEdgesNodeInvoice(BaseModel):
    number: str


class PortalDashboardMePaymentsEdgesNodePaymentMethod(BaseModel):
    last_4: str = Field(alias="last4")


class PortalDashboardMePaymentMethods(BaseModel):
    id: str
    brand: str
    last_4: str = Field(alias="last4")


PortalDashboard.model_rebuild()
PortalDashboardMe.model_rebuild()
PortalDashboardMeSubscriptions.model_rebuild()
PortalDashboardMeSubscriptionsEdges.model_rebuild()
PortalDashboardMeSubscriptionsEdgesNode.model_rebuild()
PortalDashboardMeSubscriptionsEdgesNodeProduct.model_rebuild()
PortalDashboardMeInvoices.model_rebuild()
PortalDashboardMeInvoicesEdges.model_rebuild()
PortalDashboardMeInvoicesEdgesNode.model_rebuild()
PortalDashboardMePayments.model_rebuild()
PortalDashboardMePaymentsEdges.model_rebuild()
PortalDashboardMePaymentsEdgesNode.model_rebuild()
