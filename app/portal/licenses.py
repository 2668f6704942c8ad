"""License keys: each key with a copy button, its devices, and freeing a device."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from app.portal.access import signed_in
from app.portal.core import Page, PageError, csrf_ok, execute
from app.portal.fields import done_of

FIELDS = (
    "me { licenseKeys(first: 50) { edges { node { id key status activationsLimit "
    "instancesCount expiresAt createdAt product { name } instances { id name createdAt } "
    "} } } }"
)
DEACTIVATE = """
mutation($input: DeactivateLicenseKeyInstanceInput!) {
  deactivateLicenseKeyInstance(input: $input) { instance { id } userErrors { code message } }
}"""


async def license_keys(request: Request, status: int = 200, error: str = "") -> Response:
    result = await signed_in(request, "license_keys", FIELDS)
    if isinstance(result, Response):
        return result
    page, data = result
    page.script = True
    return page.render(
        "license_keys.html",
        status,
        keys=[edge["node"] for edge in data["me"]["licenseKeys"]["edges"]],
        done=done_of(request, "deactivated"),
        error=error or None,
    )


async def deactivate_instance(request: Request) -> Response:
    form = await request.form()
    if not await csrf_ok(request, form):
        return await license_keys(request, 403, "bad_form")
    variables = {"input": {"instanceId": request.path_params["instance_id"]}}
    try:
        data = await execute(request, None, DEACTIVATE, variables)
    except PageError as error:
        if error.code == "UNAUTHENTICATED":
            return await license_keys(request, 401)
        raise
    errors = data["deactivateLicenseKeyInstance"]["userErrors"]
    if errors:
        return await license_keys(request, 409, str(errors[0]["code"]))
    return Page(request, "en").redirect("/portal/license-keys?done=deactivated")
