"""The gettext catalogs: every word of the templates is in the German and the English catalog,
translated, not fuzzy, with the same placeholders, and the compiled .mo files that the server
reads are up to date with the .po files in the repository (`make install` compiles them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from babel.support import Translations

ROOT = Path(__file__).resolve().parents[1]
# Each catalog: (its templates, its locale directory), extracted as babel.cfg says.
CATALOGS = {
    "portal": (ROOT / "app" / "templates", ROOT / "app" / "locale"),
    "mailers": (ROOT / "mailers" / "templates", ROOT / "mailers" / "locale"),
}
METHODS = [("**.html", "jinja2"), ("**.txt", "jinja2"), ("**.jinja", "jinja2")]
OPTIONS = {pattern: {"trimmed": "true", "silent": "false"} for pattern, _ in METHODS}
LANGUAGES = ("de", "en")


def _template_words(templates: Path) -> set[str | tuple[str, ...]]:
    found: set[str | tuple[str, ...]] = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        templates, METHODS, OPTIONS
    ):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


@pytest.mark.parametrize("domain", sorted(CATALOGS))
@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_translates_every_word_of_the_templates(domain: str, language: str) -> None:
    templates, locale_dir = CATALOGS[domain]
    po_file = locale_dir / language / "LC_MESSAGES" / f"{domain}.po"
    with po_file.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    assert not catalog.fuzzy, f"{po_file}: the catalog is marked fuzzy"
    entries = {(m.id if isinstance(m.id, str) else tuple(m.id)): m for m in catalog if m.id}
    missing = _template_words(templates) - set(entries)
    assert not missing, f"{po_file} lacks {sorted(map(str, missing))}: run `make messages`"
    for key, message in entries.items():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"{po_file}: {key!r} is not translated"
        assert "fuzzy" not in message.flags, f"{po_file}: {key!r} is fuzzy"
    problems = [(message.id, errors) for message, errors in catalog.check()]
    assert problems == [], problems

    compiled = po_file.with_suffix(".mo")
    assert compiled.is_file(), f"{compiled} is missing: run `make install`"
    with compiled.open("rb") as handle:
        translations = Translations(handle, domain=domain)
    for key, message in entries.items():
        if isinstance(key, tuple):
            assert translations.ngettext(key[0], key[1], 1) == message.string[0]
        else:
            assert translations.gettext(key) == message.string, (
                f"{compiled} is older than {po_file.name}: run `make install`"
            )
