"""The hosted customer portal: static-link login, the landing page of a link, the overview,
subscriptions (cancel, undo, the payment method and paying what is owed), invoices, the
payment history, license keys, the profile, signing out. Live under `/…`, test mode under
`/test/…`."""

from __future__ import annotations

from starlette.routing import Route

from app.portal import (
    access,
    billing_details,
    home,
    invoices,
    licenses,
    pauses,
    payment,
    payment_history,
    plans,
    subscriptions,
)
from app.portal.branding import branding_stylesheet

BOTH = ["GET", "POST"]


def page_routes() -> list[Route]:
    routes = [Route("/branding/{business_id}.css", branding_stylesheet, methods=["GET"])]
    for prefix in ("", "/test"):
        sub = f"{prefix}/portal/subscriptions/{{subscription_id}}"
        routes += [
            Route(f"{prefix}/login/{{business_id}}", access.login_page, methods=BOTH),
            Route(f"{prefix}/session/{{token}}", access.session_page, methods=BOTH),
            Route(f"{prefix}/confirm-email/{{token}}", access.confirm_email_page, methods=BOTH),
            Route(f"{prefix}/portal", home.overview, methods=["GET"]),
            Route(f"{prefix}/portal/profile", home.profile, methods=BOTH),
            Route(f"{prefix}/portal/language", home.language, methods=["POST"]),
            Route(f"{prefix}/portal/sign-out", access.sign_out, methods=["POST"]),
            Route(f"{prefix}/portal/subscriptions", subscriptions.subscription_list),
            Route(sub, subscriptions.subscription_detail, methods=["GET"]),
            Route(f"{sub}/cancel", subscriptions.cancel, methods=["POST"]),
            Route(f"{sub}/undo-cancel", subscriptions.undo_cancel, methods=["POST"]),
            Route(f"{sub}/pause", pauses.pause, methods=["POST"]),
            Route(f"{sub}/resume", pauses.resume, methods=["POST"]),
            Route(f"{sub}/restart", pauses.restart, methods=BOTH),
            Route(f"{sub}/change-plan", plans.preview_page, methods=["GET"]),
            Route(f"{sub}/change-plan", plans.change_plan, methods=["POST"]),
            Route(f"{sub}/cancel-plan-change", plans.cancel_plan_change, methods=["POST"]),
            Route(f"{sub}/payment-method", payment.edit_payment_method, methods=BOTH),
            Route(f"{sub}/confirmation", payment.confirmation, methods=["GET"]),
            Route(f"{sub}/authenticate", payment.authenticate, methods=BOTH),
            Route(f"{prefix}/portal/invoices", invoices.invoice_list, methods=["GET"]),
            Route(f"{prefix}/portal/payments", payment_history.payment_history, methods=["GET"]),
            Route(
                f"{prefix}/portal/billing-details",
                billing_details.billing_details,
                methods=BOTH,
            ),
            Route(f"{prefix}/portal/license-keys", licenses.license_keys, methods=["GET"]),
            Route(
                f"{prefix}/portal/license-keys/instances/{{instance_id}}/deactivate",
                licenses.deactivate_instance,
                methods=["POST"],
            ),
        ]
    return routes


__all__ = ["page_routes"]
