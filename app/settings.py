"""Configuration, read from the environment in this one place: the edge of the server."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from services.settings import Settings, SettingsError

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _seconds(value: str | None, default: float) -> float | None:
    """A positive number of seconds; 0 or "off" turns the limit off."""
    if value is None or not value.strip():
        return default
    if value.strip().lower() in {"0", "off", "none"}:
        return None
    try:
        seconds = float(value)
    except ValueError as exc:
        raise SettingsError(f"not a number of seconds: {value!r}") from exc
    if seconds <= 0:
        return None
    return seconds


def _positive_int(value: str | None, default: int) -> int:
    if value is None or not value.strip():
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise SettingsError(f"not a whole number: {value!r}") from exc
    if number < 1:
        raise SettingsError(f"must be at least 1: {value!r}")
    return number


def _secret_key(var_dir: Path) -> tuple[str, bool]:
    """The configured secret, or one generated once and kept under var/ (development only)."""
    configured = os.environ.get("PORTAL_SECRET_KEY")
    if configured:
        return configured, False
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip(), True
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Created with 0600 so the generated key is not world-readable.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key, True


def settings_from_env() -> Settings:
    """The settings, from PORTAL_* environment variables (see the README's table)."""
    var_dir = Path(os.environ.get("PORTAL_VAR_DIR", "var"))
    env = os.environ.get("PORTAL_ENV", "development").strip().lower()
    if env not in {"development", "production"}:
        raise SettingsError("PORTAL_ENV must be 'development' or 'production'")
    secret, generated = _secret_key(var_dir)
    database_url = os.environ.get("PORTAL_DATABASE_URL") or f"sqlite://{var_dir}/portal.sqlite3"
    public_url = os.environ.get("PORTAL_PUBLIC_URL", DEFAULT_PUBLIC_URL).rstrip("/")
    settings = Settings(
        database_url=database_url,
        public_url=public_url,
        secret_key=secret,
        env=env,
        smtp_url=os.environ.get("PORTAL_SMTP_URL") or None,
        mail_from=os.environ.get("PORTAL_MAIL_FROM", Settings.mail_from),
        var_dir=var_dir,
        redis_url=os.environ.get("PORTAL_REDIS_URL") or None,
        webhook_allow_private=_bool(
            os.environ.get("PORTAL_WEBHOOK_ALLOW_PRIVATE"), default=env != "production"
        ),
        webhook_endpoints_max=_positive_int(
            os.environ.get("PORTAL_WEBHOOK_ENDPOINTS_MAX"), default=16
        ),
        trusted_proxies=frozenset(
            p.strip() for p in os.environ.get("PORTAL_TRUSTED_PROXIES", "").split(",") if p.strip()
        ),
        login_link_ttl_seconds=60
        * _positive_int(os.environ.get("PORTAL_LOGIN_LINK_TTL_MINUTES"), default=15),
        rate_limit_login_email=os.environ.get("PORTAL_RATE_LIMIT_LOGIN_EMAIL", "5/hour"),
        rate_limit_login_ip=os.environ.get("PORTAL_RATE_LIMIT_LOGIN_IP", "30/hour"),
        rate_limit_license_ip=os.environ.get("PORTAL_RATE_LIMIT_LICENSE_IP", "60/minute"),
        rate_limit_license_key=os.environ.get("PORTAL_RATE_LIMIT_LICENSE_KEY", "60/minute"),
        request_timeout_seconds=_seconds(
            os.environ.get("PORTAL_REQUEST_TIMEOUT_SECONDS"), default=15.0
        ),
        run_workers=_bool(os.environ.get("PORTAL_RUN_JOBS"), default=True),
        smtp_concurrency=_positive_int(os.environ.get("PORTAL_SMTP_CONCURRENCY"), default=4),
        job_lease_seconds=_seconds(os.environ.get("PORTAL_JOB_LEASE_SECONDS"), default=120.0)
        or 120.0,
        job_poll_seconds=_seconds(os.environ.get("PORTAL_JOB_POLL_SECONDS"), default=1.0) or 1.0,
        shutdown_grace_seconds=_seconds(
            os.environ.get("PORTAL_SHUTDOWN_GRACE_SECONDS"), default=30.0
        )
        or 30.0,
        stripe_api_base=os.environ.get("PORTAL_STRIPE_API_BASE", Settings.stripe_api_base).rstrip(
            "/"
        ),
        stripe_js_url=os.environ.get("PORTAL_STRIPE_JS_URL", Settings.stripe_js_url),
        templates_dir=Path(os.environ["PORTAL_TEMPLATES_DIR"])
        if os.environ.get("PORTAL_TEMPLATES_DIR")
        else None,
        metrics_token=os.environ.get("PORTAL_METRICS_TOKEN") or None,
        trusted_documents=_bool(os.environ.get("PORTAL_TRUSTED_DOCUMENTS"), default=False),
        secret_key_generated=generated,
    )
    settings.check()
    return settings


__all__ = ["Settings", "SettingsError", "settings_from_env"]
