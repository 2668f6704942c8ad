"""Invoicing: who sells and who buys (as invoices must show them), invoice lines with their VAT,
refunds and credit notes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry.types import Info

import models
from resolvers import invoicing as resolve
from resolvers.context import Context
from schema.billing_types import Invoice, Money, Payment, money
from schema.errors import UserError, payload
from schema.permissions import CUSTOMER, MERCHANT

strawberry.enum(
    models.RefundStatus,
    description="SUCCEEDED: the money went back and a credit note was issued. FAILED: the "
    "gateway refused; the amount can be refunded again. PENDING: sent to the gateway, outcome "
    "not known yet; sent again until it answers.",
)
RefundStatus = models.RefundStatus


@strawberry.type(description="A postal address.")
class PostalAddress:
    line1: str | None = strawberry.field(description="Street and number.")
    line2: str | None = strawberry.field(description="More of the address, e.g. a floor.")
    postal_code: str | None = strawberry.field(description="As the country writes it.")
    city: str | None = strawberry.field(description="The city or town.")
    country: str | None = strawberry.field(description="ISO 3166-1 alpha-2, e.g. DE.")


@strawberry.input(description="A postal address; null or omitted fields are empty.")
class PostalAddressInput:
    line1: str | None = strawberry.field(
        default=None, description="Street and number, at most 200 characters."
    )
    line2: str | None = strawberry.field(default=None, description="At most 200 characters.")
    postal_code: str | None = strawberry.field(
        default=None, description="2 to 20 letters, digits, spaces or hyphens."
    )
    city: str | None = strawberry.field(default=None, description="At most 100 characters.")
    country: str | None = strawberry.field(default=None, description="ISO 3166-1 alpha-2, e.g. DE.")


@strawberry.type(
    description="Who sells, as the business's invoices say it (§ 14 UStG, Art. 226 of the EU "
    "VAT Directive). Until the country is set, invoices carry no VAT and no e-invoice."
)
class LegalDetails:
    legal_name: str | None = strawberry.field(
        description="The registered name, e.g. Beispiel GmbH."
    )
    address: PostalAddress = strawberry.field(description="The seller's postal address.")
    vat_id: str | None = strawberry.field(
        description="The EU VAT ID, compacted (e.g. DE123456789)."
    )
    tax_number: str | None = strawberry.field(description="E.g. the German Steuernummer.")
    registration: str | None = strawberry.field(description='E.g. "HRB 12345 B, AG Berlin".')
    phone: str | None = strawberry.field(
        description="The seller's phone number, as written on invoices."
    )
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
    name: str | None = strawberry.field(description="The buyer's name on invoices.")
    company: str | None = strawberry.field(description="The buyer's company, if any.")
    address: PostalAddress = strawberry.field(
        description="The buyer's address; without a country the buyer is taken as a consumer "
        "in the seller's country."
    )
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
    description: str = strawberry.field(description="What was sold, e.g. the product's name.")
    quantity: int = strawberry.field(description="How many units.")
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
    period_start: datetime | None = strawberry.field(
        description="Start of the period billed; null for a one-time purchase. ISO 8601, UTC."
    )
    period_end: datetime | None = strawberry.field(
        description="End of the period billed; null for a one-time purchase. ISO 8601, UTC."
    )


@strawberry.type(description="A refund of (part of) a payment.")
class Refund:
    id: strawberry.ID = strawberry.field(description="Its id (ref_…).")
    amount: Money = strawberry.field(description="What is given back.")
    status: RefundStatus = strawberry.field(description="Where it stands.")
    reason: str | None = strawberry.field(description="The merchant's reason, when given.")
    created_at: datetime = strawberry.field(description="ISO 8601, UTC.")
    payment_id: strawberry.ID = strawberry.field(description="The payment refunded (pay_…).")
    credit_note_id: strawberry.ID | None = strawberry.field(
        description="The credit note (inv_…) once it SUCCEEDED; null before."
    )

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


@strawberry.input(
    description="The business's legal details, as a whole: omitted fields are cleared. Once "
    "address.country (an EU country) is set, legalName, address.line1, postalCode and city, "
    "and a VAT ID or tax number are required."
)
class UpdateLegalDetailsInput:
    legal_name: str | None = strawberry.field(
        default=None, description="The registered name, at most 200 characters."
    )
    address: PostalAddressInput | None = strawberry.field(
        default=None, description="The seller's postal address."
    )
    vat_id: str | None = strawberry.field(
        default=None,
        description="An EU VAT ID of the business's country (format and check digits checked).",
    )
    tax_number: str | None = strawberry.field(
        default=None, description="E.g. the German Steuernummer, at most 40 characters."
    )
    registration: str | None = strawberry.field(
        default=None,
        description='The trade register entry, e.g. "HRB 12345 B, AG Berlin"; at most 200 '
        "characters.",
    )
    phone: str | None = strawberry.field(
        default=None, description="5 to 40 digits, spaces and + ( ) / -."
    )
    small_business: bool = strawberry.field(
        default=False,
        description="A small business under § 19 UStG: no VAT; only for a business in DE.",
    )
    prices_include_tax: bool = strawberry.field(
        default=False, description="Product prices are gross (VAT included) rather than net."
    )


@strawberry.type(description="The result of updateLegalDetails.")
class UpdateLegalDetailsPayload:
    legal_details: LegalDetails | None = strawberry.field(
        description="The details as they are now; null on failure."
    )
    user_errors: list[UserError] = strawberry.field(
        description="INVALID_INPUT (a field too long, malformed or missing; field names it), "
        "INVALID_VAT_ID."
    )


@strawberry.input(
    description="A customer's billing details, as a whole: omitted fields are cleared."
)
class BillingDetailsInput:
    name: str | None = strawberry.field(
        default=None, description="The buyer's name, at most 200 characters."
    )
    company: str | None = strawberry.field(
        default=None, description="The company, at most 200 characters; needed with a VAT ID."
    )
    address: PostalAddressInput | None = strawberry.field(
        default=None, description="The buyer's postal address."
    )
    vat_id: str | None = strawberry.field(
        default=None,
        description="An EU VAT ID (format and check digits checked); from another EU country "
        "than the seller's, invoices are reverse charge.",
    )


@strawberry.input(description="A customer's billing details, set by the merchant.")
class UpdateCustomerBillingDetailsInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer (cus_…).")
    billing_details: BillingDetailsInput = strawberry.field(description="The new details.")


@strawberry.input(description="The signed-in customer's own billing details.")
class UpdateBillingDetailsInput:
    billing_details: BillingDetailsInput = strawberry.field(description="The new details.")


@strawberry.type(description="The result of updateBillingDetails and updateCustomerBillingDetails.")
class UpdateBillingDetailsPayload:
    billing_details: BillingDetails | None = strawberry.field(
        description="The details as they are now; null on failure."
    )
    user_errors: list[UserError] = strawberry.field(
        description="NOT_FOUND (customer), INVALID_INPUT (a field too long or malformed, or a "
        "VAT ID without company), INVALID_VAT_ID."
    )


@strawberry.input(description="A refund of (part of) a successful payment.")
class RefundPaymentInput:
    payment_id: strawberry.ID = strawberry.field(description="The payment (pay_…).")
    amount: int | None = strawberry.field(
        default=None,
        description="In the currency's minor unit; omitted: everything not refunded yet.",
    )
    reason: str | None = strawberry.field(
        default=None, description="Why, at most 300 characters; kept with the refund."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="1 to 255 characters, kept 24 hours per business, mode and caller: the "
        "same key with the same input answers the first result again.",
    )


@strawberry.type(description="The result of refundPayment.")
class RefundPaymentPayload:
    refund: Refund | None = strawberry.field(
        description="The refund, also when it FAILED or is PENDING; null when none was made."
    )
    payment: Payment | None = strawberry.field(
        description="The payment, with its refundedAmount as it is now."
    )
    credit_note: Invoice | None = strawberry.field(
        description="The credit note issued for a SUCCEEDED refund; null otherwise."
    )
    user_errors: list[UserError] = strawberry.field(description="See refundPayment for the codes.")


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
        "are wrong; INVALID_INPUT for any other field at fault (named in field).",
    )
    async def update_legal_details(
        self,
        info: Info[Context, None],
        input: Annotated[
            UpdateLegalDetailsInput, strawberry.argument(description="The new details.")
        ],
    ) -> UpdateLegalDetailsPayload:
        return await payload(
            info,
            UpdateLegalDetailsPayload,
            lambda: resolve.update_legal_details(info.context, _legal_input(input)),
            legal_details=LegalDetails.of,
        )

    @strawberry.mutation(
        permission_classes=MERCHANT,
        description="Merchant: a customer's billing details, replaced as a whole; they apply to "
        "invoices issued from now on. userErrors: NOT_FOUND, INVALID_INPUT, INVALID_VAT_ID.",
    )
    async def update_customer_billing_details(
        self,
        info: Info[Context, None],
        input: Annotated[
            UpdateCustomerBillingDetailsInput,
            strawberry.argument(description="The customer and the new details."),
        ],
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
        description="Customer: their own billing details, replaced as a whole; they apply to "
        "invoices issued from now on. userErrors: INVALID_INPUT, INVALID_VAT_ID.",
    )
    async def update_billing_details(
        self,
        info: Info[Context, None],
        input: Annotated[
            UpdateBillingDetailsInput, strawberry.argument(description="The new details.")
        ],
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
        "is asked for; REFUND_FAILED when the gateway refuses. Also NOT_FOUND, INVALID_STATE "
        "(not a SUCCEEDED payment), INVALID_INPUT (amount not positive, reason too long), "
        "GATEWAY_UNAVAILABLE (the refund stays PENDING and is sent again), "
        "LIVE_PAYMENTS_NOT_CONFIGURED, INVALID_IDEMPOTENCY_KEY, IDEMPOTENCY_KEY_REUSED, "
        "IDEMPOTENCY_KEY_IN_USE.",
    )
    async def refund_payment(
        self,
        info: Info[Context, None],
        input: Annotated[
            RefundPaymentInput,
            strawberry.argument(description="The payment, and how much to refund."),
        ],
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
