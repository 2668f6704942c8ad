"""Production refuses settings that would put secrets at risk."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import Settings, SettingsError


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
    ],
)
def test_production_refuses_unsafe_settings(changes: dict[str, object], says: str) -> None:
    with pytest.raises(SettingsError, match=says):
        _production(**changes).check()
