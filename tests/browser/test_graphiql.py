"""GraphiQL in Chromium, served by us: a merchant types a query, puts their API key in the
headers pane and gets data, and nothing is fetched from anywhere but the portal (no CDN), with
no Content-Security-Policy violation on the way."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from .helpers import ARTIFACTS, Server, watch_console

QUERY = "query Mine { business { name } products(first: 5) { totalCount } }"


def test_a_query_with_the_key_in_the_headers_pane_returns_data(
    server: Server, browser: Any
) -> None:
    business = server.create_business("GraphiQL GmbH", "support@graphiql.example")
    context = browser.new_context()
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    csp_errors = watch_console(page)
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    try:
        page.goto(f"{server.url}/graphql")
        query_editor = page.locator(".graphiql-query-editor .CodeMirror").first
        query_editor.wait_for(timeout=15000)
        query_editor.click()
        page.keyboard.press("Control+A")
        page.keyboard.press("Delete")
        page.keyboard.insert_text(QUERY)

        page.get_by_role("button", name="Headers").click()
        headers_editor = page.locator(".graphiql-editor-tool .CodeMirror").last
        headers_editor.click()
        page.keyboard.press("Control+A")
        page.keyboard.press("Delete")
        page.keyboard.insert_text('{"Authorization": "Bearer ' + business["test_api_key"] + '"}')

        page.locator(".graphiql-execute-button").click()
        result = page.locator(".result-window")
        result.get_by_text('"GraphiQL GmbH"').wait_for(timeout=15000)
        assert '"totalCount": 0' in result.inner_text()
        page.screenshot(path=str(ARTIFACTS / "graphiql.png"))
    finally:
        context.close()

    portal = urlsplit(server.url).netloc
    elsewhere = [url for url in requested if urlsplit(url).scheme in {"http", "https", "ws", "wss"}
                 and urlsplit(url).netloc != portal]  # fmt: skip
    assert elsewhere == []
    assert any(url.endswith("/static/graphiql/graphiql.min.js") for url in requested)
    assert any(url.endswith("/graphql") for url in requested[1:])  # the query itself
    assert failed == []
    assert csp_errors == []
