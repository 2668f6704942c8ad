"""localstripe (a Stripe API server for tests) on loopback only.

`localstripe` itself listens on every interface; this runs the same aiohttp application on
127.0.0.1 and the given port. Usage: python tests/gateway_stripe/localstripe_server.py PORT
"""

from __future__ import annotations

import sys

from aiohttp import web
from localstripe.server import app

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
