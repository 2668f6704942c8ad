"""`GET /invoices/{id}.pdf` and `GET /invoices/{id}.xml` (the EN 16931 e-invoice): for the
owning customer's session, the merchant's key, or a short-lived signed link."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.graphql import build_context
from models.ids import well_formed
from resolvers.billing import invoice_for_pdf, invoice_of_signed_link
from resolvers.invoicing import invoice_xml_for
from services.billing.documents import invoice_pdf
from services.billing.invoice_links import verify_pdf_signature, verify_signature
from services.errors import ServiceError


def _error(code: str, message: str, status: int) -> Response:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status)


async def invoice_pdf_endpoint(request: Request) -> Response:
    state = request.app.state
    invoice_id = request.path_params["invoice_id"]
    expires = request.query_params.get("expires")
    signature = request.query_params.get("signature")
    locale = request.query_params.get("lang")
    if expires is not None or signature is not None:
        if not verify_pdf_signature(state.settings, invoice_id, expires or "", signature or ""):
            return _error("LINK_EXPIRED", "This invoice link has expired. Ask for a new one.", 403)
        invoice = await invoice_of_signed_link(invoice_id)
        if invoice is None:
            return _error("NOT_FOUND", "No such invoice.", 404)
    elif not well_formed(invoice_id, "inv"):
        return _error("NOT_FOUND", "No such invoice.", 404)
    else:
        ctx = await build_context(state.settings, state.limiter, request, None, allow_cookie=True)
        if not ctx.is_signed_in:
            return _error(
                "UNAUTHENTICATED", "This needs a portal session or a merchant API key.", 401
            )
        try:
            invoice = await invoice_for_pdf(ctx, invoice_id)
        except ServiceError as error:
            status = 401 if error.code == "UNAUTHENTICATED" else 404
            return _error(error.code, error.message, status)
    body = await invoice_pdf(invoice, locale if locale in ("de", "en") else None)
    return Response(
        body,
        media_type="application/pdf",
        headers={
            "content-disposition": f'inline; filename="{invoice.number}.pdf"',
            "cache-control": "private, no-store",
        },
    )


async def invoice_xml_endpoint(request: Request) -> Response:
    state = request.app.state
    invoice_id = request.path_params["invoice_id"]
    expires = request.query_params.get("expires")
    signature = request.query_params.get("signature")
    try:
        if expires is not None or signature is not None:
            if not verify_signature(
                state.settings, invoice_id, expires or "", signature or "", "xml"
            ):
                return _error(
                    "LINK_EXPIRED", "This invoice link has expired. Ask for a new one.", 403
                )
            invoice, xml, profile = await invoice_xml_for(None, invoice_id)
        elif not well_formed(invoice_id, "inv"):
            return _error("NOT_FOUND", "No such invoice.", 404)
        else:
            ctx = await build_context(
                state.settings, state.limiter, request, None, allow_cookie=True
            )
            if not ctx.is_signed_in:
                return _error(
                    "UNAUTHENTICATED", "This needs a portal session or a merchant API key.", 401
                )
            invoice, xml, profile = await invoice_xml_for(ctx, invoice_id)
    except ServiceError as error:
        status = 401 if error.code == "UNAUTHENTICATED" else 404
        return _error(error.code, error.message, status)
    return Response(
        xml,
        media_type="application/xml",
        headers={
            "content-disposition": f'attachment; filename="{invoice.number}.xml"',
            "cache-control": "private, no-store",
            "x-einvoice-profile": profile.value,
        },
    )


def invoice_routes() -> list[Route]:
    return [
        Route("/invoices/{invoice_id}.pdf", invoice_pdf_endpoint, methods=["GET"]),
        Route("/invoices/{invoice_id}.xml", invoice_xml_endpoint, methods=["GET"]),
    ]
