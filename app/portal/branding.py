"""`/branding/{business_id}.css`: a business's accent colours as a stylesheet we serve, so pages
carry no inline style (the CSP allows styles from us only)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from app.portal.access import branding_for
from app.portal.core import COLOR


async def branding_stylesheet(request: Request) -> Response:
    branding = await branding_for(request, request.path_params["business_id"])
    css = ""
    if branding is not None:
        colours = {
            "--accent": branding["accentColor"],
            "--on-accent": branding["accentContrastColor"],
            "--link": branding["linkColor"],
        }
        # Checked on the way in; checked again here because this text becomes CSS.
        css = (
            ":root{"
            + "".join(
                f"{name}:{value};" for name, value in colours.items() if COLOR.fullmatch(value)
            )
            + "}\n"
        )
    return Response(css, media_type="text/css", status_code=200 if branding else 404)
