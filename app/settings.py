"""Configuration, read from the environment in this one place."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


class SettingsError(RuntimeError):
    """The environment asks for something the server refuses to run with."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


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
    run_workers: bool = True
    templates_dir: Path | None = None
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

    @classmethod
    def from_env(cls) -> Settings:
        var_dir = Path(os.environ.get("PORTAL_VAR_DIR", "var"))
        env = os.environ.get("PORTAL_ENV", "development").strip().lower()
        if env not in {"development", "production"}:
            raise SettingsError("PORTAL_ENV must be 'development' or 'production'")
        secret, generated = _secret_key(var_dir)
        database_url = os.environ.get("PORTAL_DATABASE_URL") or f"sqlite://{var_dir}/portal.sqlite3"
        public_url = os.environ.get("PORTAL_PUBLIC_URL", DEFAULT_PUBLIC_URL).rstrip("/")
        settings = cls(
            database_url=database_url,
            public_url=public_url,
            secret_key=secret,
            env=env,
            smtp_url=os.environ.get("PORTAL_SMTP_URL") or None,
            mail_from=os.environ.get("PORTAL_MAIL_FROM", cls.mail_from),
            var_dir=var_dir,
            redis_url=os.environ.get("PORTAL_REDIS_URL") or None,
            webhook_allow_private=_bool(
                os.environ.get("PORTAL_WEBHOOK_ALLOW_PRIVATE"), default=env != "production"
            ),
            trusted_proxies=frozenset(
                p.strip()
                for p in os.environ.get("PORTAL_TRUSTED_PROXIES", "").split(",")
                if p.strip()
            ),
            rate_limit_login_email=os.environ.get("PORTAL_RATE_LIMIT_LOGIN_EMAIL", "5/hour"),
            rate_limit_login_ip=os.environ.get("PORTAL_RATE_LIMIT_LOGIN_IP", "30/hour"),
            rate_limit_license_ip=os.environ.get("PORTAL_RATE_LIMIT_LICENSE_IP", "60/minute"),
            rate_limit_license_key=os.environ.get("PORTAL_RATE_LIMIT_LICENSE_KEY", "60/minute"),
            secret_key_generated=generated,
            templates_dir=Path(os.environ["PORTAL_TEMPLATES_DIR"])
            if os.environ.get("PORTAL_TEMPLATES_DIR")
            else None,
        )
        settings.check()
        return settings

    def check(self) -> None:
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
