"""Invoicing: who sells and who buys (as invoices must show them), invoice lines with their VAT,
refunds and credit notes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry
from strawberry.types import Info

import models
from resolvers import invoicing as resolve
from resolvers.context import Context
from schema.billing_types import Invoice, Money, Payment, money
from schema.errors import UserError, payload
from schema.permissions import CUSTOMER, MERCHANT

strawberry.enum(models.RefundStatus)
RefundStatus = models.RefundStatus


@strawberry.type(description="A postal address.")
class PostalAddress:
    line1: str | None
    line2: str | None
    postal_code: str | None
    city: str | None
    country: str | None = strawberry.field(description="ISO 3166-1 alpha-2, e.g. DE.")


@strawberry.input
class PostalAddressInput:
    line1: str | None = None
    line2: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = strawberry.field(default=None, description="ISO 3166-1 alpha-2, e.g. DE.")


@strawberry.type(
    description="Who sells, as the business's invoices say it (§ 14 UStG, Art. 226 of the EU "
    "VAT Directive). Until the country is set, invoices carry no VAT and no e-invoice."
)
class LegalDetails:
    legal_name: str | None
    address: PostalAddress
    vat_id: str | None
    tax_number: str | None = strawberry.field(description="E.g. the German Steuernummer.")
    registration: str | None = strawberry.field(description='E.g. "HRB 12345 B, AG Berlin".')
    phone: str | None
    small_business: bool = strawberry.field(
        description="A small business under § 19 UStG (Germany): no VAT, with the legal note."
    )
    prices_include_tax: bool = strawberry.field(
        description="Product prices are gross (VAT included) rather than net."
    )

    @classmethod
    def of(cls, row: models.Business) -> LegalDetails:
        return cls(
            legal_name=row.legal_name,
            address=PostalAddress(
                line1=row.address_line1,
                line2=row.address_line2,
                postal_code=row.postal_code,
                city=row.city,
                country=row.country,
            ),
            vat_id=row.vat_id,
            tax_number=row.tax_number,
            registration=row.registration,
            phone=row.phone,
            small_business=row.small_business,
            prices_include_tax=row.prices_include_tax,
        )


@strawberry.type(
    description="Who buys, as invoices show it. Edits apply to invoices issued afterwards."
)
class BillingDetails:
    name: str | None
    company: str | None
    address: PostalAddress
    vat_id: str | None = strawberry.field(
        description="An EU VAT ID (format and check digits checked); with one from another EU "
        "country than the seller's, invoices are reverse charge."
    )

    @classmethod
    def of(cls, row: models.Customer) -> BillingDetails:
        return cls(
            name=row.billing_name,
            company=row.company,
            address=PostalAddress(
                line1=row.address_line1,
                line2=row.address_line2,
                postal_code=row.postal_code,
                city=row.city,
                country=row.country,
            ),
            vat_id=row.vat_id,
        )


@strawberry.type(description="One line of an invoice.")
class InvoiceLine:
    description: str
    quantity: int
    unit_amount: Money = strawberry.field(
        description="As priced: gross when the invoice's prices include VAT, else net."
    )
    amount: Money = strawberry.field(description="quantity times unitAmount.")
    net_amount: Money | None = strawberry.field(description="null: issued without VAT.")
    tax_rate: Decimal | None = strawberry.field(description="Percent, e.g. 19.")
    tax_category: str | None = strawberry.field(
        description="EN 16931's VAT category: S standard, Z zero, E exempt, AE reverse charge, "
        "O not subject to VAT."
    )
    period_start: datetime | None
    period_end: datetime | None


@strawberry.type(description="A refund of (part of) a payment.")
class Refund:
    id: strawberry.ID
    amount: Money
    status: RefundStatus
    reason: str | None
    created_at: datetime
    payment_id: strawberry.ID
    credit_note_id: strawberry.ID | None

    @classmethod
    def of(cls, row: models.Refund, ctx: Context) -> Refund:
        return cls(
            id=strawberry.ID(row.id),
            amount=money(row.amount, row.currency, ctx),
            status=row.status,
            reason=row.reason,
            created_at=row.created_at,
            payment_id=strawberry.ID(row.payment_id),
            credit_note_id=strawberry.ID(row.credit_note_id) if row.credit_note_id else None,
        )

    @strawberry.field(description="The credit note that documents the refund.")
    async def credit_note(self, info: Info[Context, None]) -> Invoice | None:
        if self.credit_note_id is None:
            return None
        return Invoice.from_model(
            await resolve_invoice(info.context, str(self.credit_note_id)), info.context
        )


async def resolve_invoice(ctx: Context, invoice_id: str) -> models.Invoice:
    from resolvers.billing import invoice_for_pdf

    return await invoice_for_pdf(ctx, invoice_id)


def line_view(row: models.InvoiceLine, currency: str, ctx: Context) -> InvoiceLine:
    return InvoiceLine(
        description=row.description,
        quantity=row.quantity,
        unit_amount=money(row.unit_amount, currency, ctx),
        amount=money(row.amount, currency, ctx),
        net_amount=None if row.net_amount is None else money(row.net_amount, currency, ctx),
        tax_rate=None if row.tax_rate is None else Decimal(row.tax_rate),
        tax_category=row.tax_category,
        period_start=row.period_start,
        period_end=row.period_end,
    )


# Inputs and payloads


@strawberry.input
class UpdateLegalDetailsInput:
    legal_name: str | None = None
    address: PostalAddressInput | None = None
    vat_id: str | None = None
    tax_number: str | None = None
    registration: str | None = None
    phone: str | None = None
    small_business: bool = False
    prices_include_tax: bool = False


@strawberry.type
class UpdateLegalDetailsPayload:
    legal_details: LegalDetails | None
    user_errors: list[UserError]


@strawberry.input
class BillingDetailsInput:
    name: str | None = None
    company: str | None = None
    address: PostalAddressInput | None = None
    vat_id: str | None = None


@strawberry.input
class UpdateCustomerBillingDetailsInput:
    customer_id: strawberry.ID
    billing_details: BillingDetailsInput


@strawberry.input
class UpdateBillingDetailsInput:
    billing_details: BillingDetailsInput


@strawberry.type
class UpdateBillingDetailsPayload:
    billing_details: BillingDetails | None
    user_errors: list[UserError]


@strawberry.input
class RefundPaymentInput:
    payment_id: strawberry.ID
    amount: int | None = strawberry.field(
        default=None,
        description="In the currency's minor unit; omitted: everything not refunded yet.",
    )
    reason: str | None = None
    idempotency_key: str | None = None


@strawberry.type
class RefundPaymentPayload:
    refund: Refund | None
    payment: Payment | None
    credit_note: Invoice | None
    user_errors: list[UserError]


def _legal_input(input: UpdateLegalDetailsInput) -> resolve.LegalDetailsInput:
    address = input.address or PostalAddressInput()
    return resolve.LegalDetailsInput(
        legal_name=input.legal_name,
        address_line1=address.line1,
        address_line2=address.line2,
        postal_code=address.postal_code,
        city=address.city,
        country=address.country,
        vat_id=input.vat_id,
        tax_number=input.tax_number,
        registration=input.registration,
        phone=input.phone,
        small_business=input.small_business,
        prices_include_tax=input.prices_include_tax,
    )


def _billing_input(input: BillingDetailsInput) -> resolve.BillingDetailsInput:
    address = input.address or PostalAddressInput()
    return resolve.BillingDetailsInput(
        name=input.name,
        company=input.company,
        address_line1=address.line1,
        address_line2=address.line2,
        postal_code=address.postal_code,
        city=address.city,
        country=address.country,
        vat_id=input.vat_id,
    )


@strawberry.type
class InvoicingMutation:
    @strawberry.mutation(
        permission_classes=MERCHANT,
        description="Merchant: the business's legal details, replaced as a whole; they apply to "
        "invoices issued from now on. INVALID_VAT_ID for a VAT ID whose format or check digits "
        "are wrong.",
    )
    async def update_legal_details(
        self, info: Info[Context, None], input: UpdateLegalDetailsInput
    ) -> UpdateLegalDetailsPayload:
        return await payload(
            info,
            UpdateLegalDetailsPayload,
            lambda: resolve.update_legal_details(info.context, _legal_input(input)),
            legal_details=LegalDetails.of,
        )

    @strawberry.mutation(
        permission_classes=MERCHANT,
        description="Merchant: a customer's billing details, replaced as a whole.",
    )
    async def update_customer_billing_details(
        self, info: Info[Context, None], input: UpdateCustomerBillingDetailsInput
    ) -> UpdateBillingDetailsPayload:
        return await payload(
            info,
            UpdateBillingDetailsPayload,
            lambda: resolve.update_customer_billing_details(
                info.context, str(input.customer_id), _billing_input(input.billing_details)
            ),
            billing_details=BillingDetails.of,
        )

    @strawberry.mutation(
        permission_classes=CUSTOMER,
        description="Customer: their own billing details, replaced as a whole.",
    )
    async def update_billing_details(
        self, info: Info[Context, None], input: UpdateBillingDetailsInput
    ) -> UpdateBillingDetailsPayload:
        return await payload(
            info,
            UpdateBillingDetailsPayload,
            lambda: resolve.update_billing_details(
                info.context, _billing_input(input.billing_details)
            ),
            billing_details=BillingDetails.of,
        )

    @strawberry.mutation(
        permission_classes=MERCHANT,
        description="Merchant: gives (part of) a successful payment back through the gateway "
        "that took it and issues a credit note. REFUND_EXCEEDS_PAYMENT when more than is left "
        "is asked for; REFUND_FAILED when the gateway refuses.",
    )
    async def refund_payment(
        self, info: Info[Context, None], input: RefundPaymentInput
    ) -> RefundPaymentPayload:
        ctx = info.context
        return await payload(
            info,
            RefundPaymentPayload,
            lambda: resolve.refund_payment(
                ctx,
                payment_id=str(input.payment_id),
                amount=input.amount,
                reason=input.reason,
                idempotency_key=input.idempotency_key,
            ),
            refund=lambda outcome: Refund.of(outcome.refund, ctx),
            payment=lambda outcome: Payment.from_model(outcome.payment, ctx),
            credit_note=lambda outcome: (
                Invoice.from_model(outcome.credit_note, ctx) if outcome.credit_note else None
            ),
        )


__all__ = ["BillingDetails", "InvoiceLine", "InvoicingMutation", "LegalDetails", "Refund"]
