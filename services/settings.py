"""The server's configuration as a plain value. The edge (app/settings.py) reads it from the
environment once and hands it down; nothing below the edge reads the environment."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


class SettingsError(RuntimeError):
    """The configuration asks for something the server refuses to run with."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    public_url: str
    secret_key: str
    env: str = "development"
    smtp_url: str | None = None
    mail_from: str = "Customer Portal <portal@localhost>"
    var_dir: Path = Path("var")
    redis_url: str | None = None
    webhook_allow_private: bool = True
    webhook_endpoints_max: int = 16  # per business and mode
    trusted_proxies: frozenset[str] = frozenset()
    rate_limit_login_email: str = "5/hour"
    rate_limit_login_ip: str = "30/hour"
    rate_limit_license_ip: str = "60/minute"
    rate_limit_license_key: str = "60/minute"
    login_link_ttl_seconds: int = 15 * 60
    portal_link_ttl_seconds: int = 24 * 3600
    email_confirmation_ttl_seconds: int = 24 * 3600
    session_ttl_seconds: int = 12 * 3600
    max_body_bytes: int = 64 * 1024
    # The longest a request may run before it is cut off with 503 (None: no limit).
    request_timeout_seconds: float | None = 15.0
    # Whether this process runs the jobs (outbox, webhook deliveries, billing): `portal serve`
    # does by default; `portal serve --no-jobs` (PORTAL_RUN_JOBS=0) leaves them to `portal worker`.
    run_workers: bool = True
    # Mail goes out over this many SMTP sessions at once per process, in order per recipient.
    smtp_concurrency: int = 4
    # How long a worker holds a claimed job: longer than any one job may take (SMTP and webhook
    # timeouts are 10 and 15 s). A crashed worker's jobs are taken over after this.
    job_lease_seconds: float = 120.0
    # How often a worker looks for due jobs it was not told about (another process enqueued them).
    job_poll_seconds: float = 1.0
    # On SIGTERM: how long in-flight requests and jobs may take to finish before they are cut
    # off (a cut-off job's lease is released, so another worker takes it at once).
    shutdown_grace_seconds: float = 30.0
    # /metrics answers only a scrape that brings this as its bearer token; unset: no /metrics.
    metrics_token: str | None = None
    # Stripe's API (tests point it at localstripe) and Stripe.js, which the pages load.
    stripe_api_base: str = "https://api.stripe.com"
    stripe_js_url: str = "https://js.stripe.com/v3/"
    # A merchant's own templates for pages and emails, searched before ours.
    templates_dir: Path | None = None
    # /graphql executes only documents registered with registerTrustedDocuments.
    trusted_documents: bool = False
    secret_key_generated: bool = field(default=False, compare=False)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def outbox_dir(self) -> Path:
        return self.var_dir / "outbox"

    @property
    def secure_cookies(self) -> bool:
        return urlsplit(self.public_url).scheme == "https"

    @property
    def jwt_issuer(self) -> str:
        return self.public_url

    def check(self) -> None:
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError as exc:
                raise SettingsError(
                    f"PORTAL_TRUSTED_PROXIES: {proxy!r} is not an IP address or network"
                ) from exc
        if self.metrics_token is not None and len(self.metrics_token) < 16:
            raise SettingsError("PORTAL_METRICS_TOKEN must be at least 16 characters")
        if self.production:
            if self.secret_key_generated or len(self.secret_key) < 32:
                raise SettingsError(
                    "production needs PORTAL_SECRET_KEY set to at least 32 random characters"
                )
            if urlsplit(self.public_url).scheme != "https":
                raise SettingsError("production needs an https PORTAL_PUBLIC_URL")
            if not self.smtp_url:
                # The file transport logs links for development; sign-in links must not reach
                # a production log.
                raise SettingsError("production needs PORTAL_SMTP_URL")
