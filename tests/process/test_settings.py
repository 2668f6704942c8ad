"""Production refuses settings that would put secrets at risk."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from app.settings import Settings, SettingsError, settings_from_env


def _production(**changes: object) -> Settings:
    fields: dict[str, object] = {
        "database_url": "sqlite://:memory:",
        "public_url": "https://portal.example.com",
        "secret_key": "s" * 48,
        "env": "production",
        "smtp_url": "smtp://mail.example.com:25",
        "var_dir": Path("var"),
    }
    fields.update(changes)
    return Settings(**fields)  # type: ignore[arg-type]


def test_production_settings_are_accepted_when_complete() -> None:
    _production().check()


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"smtp_url": None}, "PORTAL_SMTP_URL"),
        ({"public_url": "http://portal.example.com"}, "https"),
        ({"secret_key": "short"}, "PORTAL_SECRET_KEY"),
        ({"secret_key_generated": True}, "PORTAL_SECRET_KEY"),
        ({"metrics_token": "too-short"}, "PORTAL_METRICS_TOKEN"),
    ],
)
def test_production_refuses_unsafe_settings(changes: dict[str, object], says: str) -> None:
    with pytest.raises(SettingsError, match=says):
        _production(**changes).check()


def test_the_readme_states_the_sign_in_link_lifetime_the_server_uses(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    stated = r"Sign-in links requested on the static page\s+are valid (\d+) minutes"
    match = re.search(stated, readme)
    assert match, "the README says how long sign-in links from the static page work"
    for name in [n for n in os.environ if n.startswith("PORTAL_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PORTAL_VAR_DIR", str(tmp_path))
    assert settings_from_env().login_link_ttl_seconds == int(match.group(1)) * 60
    monkeypatch.setenv("PORTAL_LOGIN_LINK_TTL_MINUTES", "30")
    assert settings_from_env().login_link_ttl_seconds == 30 * 60
