"""The peer for scripts/bench_peer.py: PostGraphile 4, set up as its documentation recommends for
production, asked for the same dashboard rows as our portal query, and the two answers reduced to
what both must agree on.

PostGraphile is installed at run time with npm into var/peer/ (git-ignored); nothing of it is
committed.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from dashboard_data import INVOICES_PAGE, PAYMENTS_PAGE, SUBSCRIPTIONS_PAGE

ROOT = Path(__file__).resolve().parent.parent
PEER_DIR = ROOT / "var" / "peer"
PEER_PACKAGE = "postgraphile@4"


class Missing(Exception):
    """A prerequisite is missing; the message says which and how to get it."""


class Failed(Exception):
    """The measurement cannot be trusted (answers differ, a server failed)."""


def install(npm: str) -> tuple[Path, str]:
    """PostGraphile 4 under var/peer/ (npm, on the first run): its executable and version."""
    executable = PEER_DIR / "node_modules" / ".bin" / "postgraphile"
    package = PEER_DIR / "node_modules" / "postgraphile" / "package.json"
    if not executable.exists():
        PEER_DIR.mkdir(parents=True, exist_ok=True)
        print(f"installing {PEER_PACKAGE} into {PEER_DIR} …", file=sys.stderr)
        result = subprocess.run(  # noqa: S603 (npm, found on PATH)
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(PEER_DIR), PEER_PACKAGE],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode != 0 or not executable.exists():
            raise Missing(f"npm could not install {PEER_PACKAGE}: {result.stderr.strip()[-2000:]}")
    version = str(orjson.loads(package.read_bytes())["version"])
    if not version.startswith("4."):
        raise Missing(f"{PEER_DIR} holds PostGraphile {version}, not 4: remove it and run again")
    return executable, version


# What PostGraphile needs in the database: a role of its own that may read the six tables (it
# runs with --no-ignore-rbac, so its schema holds what that role may read), and a subscription's
# open amount as a computed column, PostGraphile's way of adding a field to a table's type. The
# function is inlined into PostGraphile's statement as our subquery is into ours.
DATABASE_SETUP = """
CREATE FUNCTION subscription_outstanding_amount(s subscription) RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT COALESCE(SUM(o.amount_due), 0)::bigint FROM invoice o
  WHERE o.subscription_id = s.id AND o.status = 'open'
$$;
GRANT USAGE ON SCHEMA public TO "{role}";
GRANT SELECT ON customer, subscription, product, payment_method, invoice, payment TO "{role}";
GRANT EXECUTE ON FUNCTION subscription_outstanding_amount(subscription) TO "{role}";
"""

# The options of PostGraphile's "For Production" list (its CLI documentation) that bear on
# serving queries: no GraphiQL, no query log ("our default logging has performance issues").
# Left out: --subscriptions (websockets), the naming plugin, and --retry-on-init-fail, so that
# a failed start shows here instead of retrying forever.
OPTIONS = (
    "--schema public --disable-graphiql --disable-query-log --dynamic-json"
    " --no-setof-functions-contain-nulls --no-ignore-rbac --legacy-relations omit"
    " --extended-errors errcode --enable-query-batching"
)


def command(
    executable: Path, connection: str, port: int, pool_size: int, node: list[str] | None = None
) -> list[str]:
    """One node process (no --cluster-workers), listening on loopback. `node`: the node
    executable and flags of its own to run the CLI with (else its shebang runs it)."""
    start = [str(executable)] if node is None else [*node, str(executable.resolve())]
    return [
        *start,
        "--connection",
        connection,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *OPTIONS.split(),
        "--max-pool-size",
        str(pool_size),
    ]


# The same reads as the portal's dashboard query in PostGraphile's naming: the customer by its
# key, each list through its foreign key to the customer, filtered like ours on business and
# mode (the columns our indexes start with), newest first with the id as tie-break, the same
# page sizes. PostGraphile compiles it into one SQL statement that builds the JSON.
QUERY = f"""
query Dashboard($customer: String!, $business: String!, $mode: String!) {{
  customerById(id: $customer) {{
    id email
    subscriptionsByCustomerId(condition: {{businessId: $business, mode: $mode}},
        orderBy: [CREATED_AT_DESC, ID_DESC], first: {SUBSCRIPTIONS_PAGE}) {{
      nodes {{
        id status nextBillingDate priceAmount currency
        productByProductId {{ id name priceAmount }}
        paymentMethodByPaymentMethodId {{ brand last4 }}
        outstandingAmount
      }}
    }}
    invoicesByCustomerId(condition: {{businessId: $business, mode: $mode}},
        orderBy: [CREATED_AT_DESC, ID_DESC], first: {INVOICES_PAGE}) {{
      nodes {{ id number status totalAmount amountDue subscriptionId }}
    }}
    paymentsByCustomerId(condition: {{businessId: $business, mode: $mode}},
        orderBy: [CREATED_AT_DESC, ID_DESC], first: {PAYMENTS_PAGE}) {{
      nodes {{
        id status amount
        invoiceByInvoiceId {{ number }}
        paymentMethodByPaymentMethodId {{ last4 }}
      }}
    }}
    paymentMethodsByCustomerId(condition: {{businessId: $business, mode: $mode, removedAt: null}},
        orderBy: [CREATED_AT_DESC, ID_DESC]) {{
      nodes {{ id brand last4 }}
    }}
  }}
}}"""


def request_body(customer_id: str, business_id: str, mode: str) -> bytes:
    variables = {"customer": customer_id, "business": business_id, "mode": mode}
    return orjson.dumps({"query": QUERY, "variables": variables})


# The answers, reduced to what both must agree on: every id, number, status, date and amount
# in the order given. Money formatted for people and signed PDF links are ours alone
# (PostGraphile has neither); our answer is the larger one.


def _when(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _card(method: dict[str, str] | None) -> tuple[str, str] | None:
    return None if method is None else (method["brand"], method["last4"])


def _field(value: dict[str, Any] | None, name: str) -> Any:
    return None if value is None else value[name]


def ours_digest(body: bytes) -> dict[str, Any]:
    me = orjson.loads(body)["data"]["me"]
    return {
        "customer": (me["id"], me["email"]),
        "subscriptions": [
            (
                n["id"],
                n["status"],
                _when(n["nextBillingDate"]),
                n["price"]["amount"],
                n["price"]["currency"],
                n["product"]["id"],
                n["product"]["name"],
                n["product"]["price"]["amount"],
                _card(n["paymentMethod"]),
                n["outstandingAmount"]["amount"],
            )
            for n in (edge["node"] for edge in me["subscriptions"]["edges"])
        ],
        "invoices": [
            (
                n["id"],
                n["number"],
                n["status"],
                n["total"]["amount"],
                n["amountDue"]["amount"],
                _field(n["subscription"], "id"),
            )
            for n in (edge["node"] for edge in me["invoices"]["edges"])
        ],
        "payments": [
            (
                n["id"],
                n["status"],
                n["amount"]["amount"],
                _field(n["invoice"], "number"),
                _field(n["paymentMethod"], "last4"),
            )
            for n in (edge["node"] for edge in me["payments"]["edges"])
        ],
        "paymentMethods": [(m["id"], m["brand"], m["last4"]) for m in me["paymentMethods"]],
    }


def peer_digest(body: bytes) -> dict[str, Any]:
    """In our terms: statuses as our enums name them, amounts as numbers (PostGraphile sends
    bigint columns as strings)."""
    c = orjson.loads(body)["data"]["customerById"]
    return {
        "customer": (c["id"], c["email"]),
        "subscriptions": [
            (
                n["id"],
                n["status"].upper(),
                _when(n["nextBillingDate"]),
                int(n["priceAmount"]),
                n["currency"],
                n["productByProductId"]["id"],
                n["productByProductId"]["name"],
                int(n["productByProductId"]["priceAmount"]),
                _card(n["paymentMethodByPaymentMethodId"]),
                int(n["outstandingAmount"]),
            )
            for n in c["subscriptionsByCustomerId"]["nodes"]
        ],
        "invoices": [
            (
                n["id"],
                n["number"],
                n["status"].upper(),
                int(n["totalAmount"]),
                int(n["amountDue"]),
                n["subscriptionId"],
            )
            for n in c["invoicesByCustomerId"]["nodes"]
        ],
        "payments": [
            (
                n["id"],
                n["status"].upper(),
                int(n["amount"]),
                _field(n["invoiceByInvoiceId"], "number"),
                _field(n["paymentMethodByPaymentMethodId"], "last4"),
            )
            for n in c["paymentsByCustomerId"]["nodes"]
        ],
        "paymentMethods": [
            (m["id"], m["brand"], m["last4"]) for m in c["paymentMethodsByCustomerId"]["nodes"]
        ],
    }


def check_same_rows(size: str, ours: bytes, peer: bytes) -> None:
    mine, theirs = ours_digest(ours), peer_digest(peer)
    for key in mine:
        if mine[key] != theirs[key]:
            raise Failed(
                f"{size}: the answers differ in {key}:\n"
                f"ours {mine[key]!r:.1500}\npeer {theirs[key]!r:.1500}"
            )
