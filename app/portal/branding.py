"""`/branding/{business_id}.css`: a business's accent colours as a stylesheet we serve, so pages
carry no inline style (the CSP allows styles from us only)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from app.portal.access import branding_for
from app.portal.core import COLOR
from services.business_settings import MIN_TEXT_CONTRAST, contrast_ratio

# The page's own background (portal.css --bg), the darkest one a link sits on. The branding's
# link colour reads on white; a light accent's shade may not read here (#FFEB3B gives #82781E:
# 5.0:1 on white, 4.1:1 on this grey), so the stylesheet darkens it until it does.
PAGE_BACKGROUND = "#F4F5F7"
DARKEST_TEXT = "#111418"


def link_on_page(color: str) -> str:
    """The colour itself when it reads as text on the page's background, else the closest
    darker shade that does: the merchant's hue, legible wherever a link is."""
    if contrast_ratio(color, PAGE_BACKGROUND) >= MIN_TEXT_CONTRAST:
        return color
    red, green, blue = (int(color[start : start + 2], 16) for start in (1, 3, 5))
    for step in range(1, 101):
        keep = 1 - step / 100
        shade = "#" + "".join(f"{round(channel * keep):02X}" for channel in (red, green, blue))
        if contrast_ratio(shade, PAGE_BACKGROUND) >= MIN_TEXT_CONTRAST:
            return shade
    return DARKEST_TEXT


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
        safe = {name: value for name, value in colours.items() if COLOR.fullmatch(value)}
        if "--link" in safe:
            safe["--link"] = link_on_page(safe["--link"])
        css = ":root{" + "".join(f"{name}:{value};" for name, value in safe.items()) + "}\n"
    return Response(css, media_type="text/css", status_code=200 if branding else 404)
