"""GraphiQL at GET /graphql (development only), served entirely by us: the page below, and
GraphiQL, React and ReactDOM from app/static/graphiql (versions and licenses in its README).
Strawberry's own page loads them from a CDN, which an offline machine cannot reach and our
Content-Security-Policy (scripts, styles and connections only from 'self') would refuse."""

from __future__ import annotations

from starlette.responses import HTMLResponse, Response

# GraphiQL's stylesheet carries its fonts and icons as data: URLs; the rest is 'self' only.
GRAPHIQL_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)

ASSETS = "/static/graphiql"

PAGE = f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <link rel="icon" href="data:,">
    <title>GraphiQL · Customer Portal</title>
    <link rel="stylesheet" href="{ASSETS}/graphiql.min.css">
    <link rel="stylesheet" href="{ASSETS}/page.css">
  </head>
  <body>
    <div id="graphiql">Loading…</div>
    <script src="{ASSETS}/react.production.min.js"></script>
    <script src="{ASSETS}/react-dom.production.min.js"></script>
    <script src="{ASSETS}/graphiql.min.js"></script>
    <script src="{ASSETS}/start.js"></script>
  </body>
</html>
"""


def graphiql_page() -> Response:
    return HTMLResponse(
        PAGE,
        headers={
            "content-security-policy": GRAPHIQL_CSP,
            "x-frame-options": "DENY",
            "cache-control": "no-store",
        },
    )
