"""License keys: each key with a copy button, its devices, and freeing a device."""

from __future__ import annotations

import html
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from app.portal.access import signed_in
from app.portal.core import Page, PageError, csrf_ok, error_box, execute
from app.portal.i18n import date
from app.portal.subscriptions import error_text
from app.portal.widgets import badge, done_notice

e = html.escape

FIELDS = (
    "me { licenseKeys(first: 50) { edges { node { id key status activationsLimit "
    "instancesCount expiresAt createdAt product { name } instances { id name createdAt } "
    "} } } }"
)
DEACTIVATE = """
mutation($input: DeactivateLicenseKeyInstanceInput!) {
  deactivateLicenseKeyInstance(input: $input) { instance { id } userErrors { code message } }
}"""


def _key_card(page: Page, key: dict[str, Any]) -> str:
    key_id = e(key["id"])
    limit = key["activationsLimit"]
    used = (
        page.t("activations_of", used=key["instancesCount"], limit=limit)
        if limit is not None
        else page.t("activations_unlimited", used=key["instancesCount"])
    )
    expires = date(key["expiresAt"], page.locale) if key["expiresAt"] else page.t("never_expires")
    rows = (
        f"<dt>{page.t('status')}</dt><dd>{badge(page, key['status'])}</dd>"
        f"<dt>{page.t('activations')}</dt><dd>{used}</dd>"
        f"<dt>{page.t('expires')}</dt><dd>{expires}</dd>"
    )
    copy = (
        f'<button type="button" class="secondary small copy" data-copy="key-{key_id}" '
        f'data-copied="{page.t("copied")}" hidden>{page.t("copy")}</button>'
        f'<span class="copy-status" role="status" aria-live="polite"></span>'
    )
    instances = ""
    for inst in key["instances"]:
        name = e(inst["name"])
        button = (
            f'<button type="submit" class="secondary small">{page.t("deactivate")}'
            f'<span class="visually-hidden"> {name}</span></button>'
        )
        action = f"/portal/license-keys/instances/{inst['id']}/deactivate"
        instances += (
            f'<li><span><strong>{name}</strong> <span class="muted">'
            f"{page.t('activated_on', date=html.unescape(date(inst['createdAt'], page.locale)))}"
            f"</span></span>{page.form(action, button, 'inline')}</li>"
        )
    devices = (
        f'<ul class="plain-list devices">{instances}</ul>'
        if instances
        else f'<p class="muted">{page.t("no_devices")}</p>'
    )
    return (
        f'<li class="card"><h2>{e(key["product"]["name"])}</h2>'
        f'<label for="key-{key_id}">{page.t("license_key")}</label>'
        f'<div class="row"><input id="key-{key_id}" class="key" value="{e(key["key"])}" '
        f'readonly spellcheck="false">{copy}</div><dl>{rows}</dl>'
        f"<h3>{page.t('devices')}</h3>{devices}</li>"
    )


async def license_keys(request: Request, status: int = 200, error: str = "") -> Response:
    result = await signed_in(request, "license_keys", FIELDS)
    if isinstance(result, Response):
        return result
    page, data = result
    page.script = True
    keys = [edge["node"] for edge in data["me"]["licenseKeys"]["edges"]]
    body = done_notice(page, "deactivated")
    if error:
        body += error_box(error_text(page, error))
    if not keys:
        return page.render(page.t("license_keys_title"), body + f"<p>{page.t('no_keys')}</p>")
    items = "".join(_key_card(page, key) for key in keys)
    body += f'<p>{page.t("license_keys_intro")}</p><ul class="card-list">{items}</ul>'
    return page.render(page.t("license_keys_title"), body, status)


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
