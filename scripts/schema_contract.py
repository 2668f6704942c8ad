"""The API contract: what changed between the released schema and the code's, and whether the
changelog owns up to every breaking change.

`schema.released.graphql` is the schema of the last released version. graphql-core compares
it with the code's schema (`find_breaking_changes`, `find_dangerous_changes`, both schemas
built with `build_schema` from SDL). Every breaking change must be listed in the `[Unreleased]`
section of `CHANGELOG.md`, one line each:

    - BREAKING FIELD_REMOVED Customer.phone: read `phoneNumber` instead.

that is the change type (graphql-core's `BreakingChangeType` name), the schema coordinate, and
after the colon what clients must do. Dangerous changes (an enum value or an optional argument
added, a default changed, …) are reported, never refused.

    .venv/bin/python scripts/schema_contract.py      # or: make contract

prints the report and exits 1 when a breaking change is not listed (or the changelog is wrong).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from graphql import (
    BreakingChangeType,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
)

ROOT = Path(__file__).resolve().parents[1]
RELEASED_SCHEMA = ROOT / "schema.released.graphql"
CHANGELOG = ROOT / "CHANGELOG.md"
UNRELEASED = "Unreleased"

# How graphql-core 3.3 (pinned in pyproject.toml) names what a breaking change is about. The
# coordinate is the one of the GraphQL spec's schema coordinates (`Type`, `Type.field`,
# `Type.field(arg:)`, `Enum.VALUE`, `@directive`, `@directive(arg:)`); a union's lost member is
# written `Union.Member`, a type's lost interface `Type.Interface`.
_COORDINATES: dict[BreakingChangeType, tuple[str, str]] = {
    BreakingChangeType.TYPE_REMOVED: (r"^(?:Standard scalar )?(\w+) was removed", "{0}"),
    BreakingChangeType.TYPE_CHANGED_KIND: (r"^(\w+) changed from", "{0}"),
    BreakingChangeType.TYPE_REMOVED_FROM_UNION: (
        r"^(\w+) was removed from union type (\w+)\.",
        "{1}.{0}",
    ),
    BreakingChangeType.VALUE_REMOVED_FROM_ENUM: (r"^Enum value (\w+\.\w+) was removed", "{0}"),
    BreakingChangeType.REQUIRED_INPUT_FIELD_ADDED: (
        r"^A required field (\w+\.\w+) was added",
        "{0}",
    ),
    BreakingChangeType.IMPLEMENTED_INTERFACE_REMOVED: (
        r"^(\w+) no longer implements interface (\w+)\.",
        "{0}.{1}",
    ),
    BreakingChangeType.FIELD_REMOVED: (r"^Field (\w+\.\w+) was removed", "{0}"),
    BreakingChangeType.FIELD_CHANGED_KIND: (r"^Field (\w+\.\w+) changed type", "{0}"),
    BreakingChangeType.REQUIRED_ARG_ADDED: (
        r"^A required argument (\w+\.\w+\(\w+:\)) was added",
        "{0}",
    ),
    BreakingChangeType.ARG_REMOVED: (r"^Argument (\w+\.\w+\(\w+:\)) was removed", "{0}"),
    BreakingChangeType.ARG_CHANGED_KIND: (
        r"^Argument (\w+\.\w+\(\w+:\)) has changed type",
        "{0}",
    ),
    BreakingChangeType.DIRECTIVE_REMOVED: (r"^Directive (@\w+) was removed", "{0}"),
    BreakingChangeType.DIRECTIVE_ARG_REMOVED: (r"^Argument (@\w+\(\w+:\)) was removed", "{0}"),
    BreakingChangeType.REQUIRED_DIRECTIVE_ARG_ADDED: (
        r"^A required argument (@\w+\(\w+:\)) was added",
        "{0}",
    ),
    BreakingChangeType.DIRECTIVE_REPEATABLE_REMOVED: (
        r"^Repeatable flag was removed from (@\w+)",
        "{0}",
    ),
    BreakingChangeType.DIRECTIVE_LOCATION_REMOVED: (r"^\w+ was removed from (@\w+)", "{0}"),
}

_VERSION_HEADING = re.compile(r"^## \[(?P<version>[^\]]+)\]")
_BREAKING_LINE = re.compile(
    r"^- BREAKING (?P<type>[A-Z_]+) (?P<coordinate>\S+?):\s*(?P<instructions>.*)$"
)


class DangerousSchemaChange(UserWarning):
    """A change that can surprise a client without failing its queries (the contract test
    shows them as warnings; defined here, importable by name, so that pytest-xdist's workers
    can send them to the controller)."""


@dataclass(frozen=True)
class Change:
    type: str
    coordinate: str
    description: str

    def __str__(self) -> str:
        return f"{self.type} {self.coordinate}: {self.description}"


@dataclass(frozen=True)
class Allowance:
    """A `- BREAKING …` line of the changelog."""

    version: str
    type: str
    coordinate: str
    instructions: str
    line: int

    def allows(self, change: Change) -> bool:
        return (self.type, self.coordinate) == (change.type, change.coordinate)

    def __str__(self) -> str:
        return f"CHANGELOG.md:{self.line} [{self.version}] {self.type} {self.coordinate}"


@dataclass
class Changelog:
    allowances: list[Allowance] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def for_version(self, version: str) -> list[Allowance]:
        return [a for a in self.allowances if a.version == version]


def parse_changelog(text: str) -> Changelog:
    """The `- BREAKING TYPE coordinate: what clients must do` lines, by version."""
    changelog = Changelog()
    version: str | None = None
    in_example = False  # a fenced block shows the format; it lists nothing
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("```"):
            in_example = not in_example
        if in_example:
            continue
        heading = _VERSION_HEADING.match(line)
        if heading:
            version = heading["version"]
            continue
        if not line.startswith("- BREAKING"):
            continue
        entry = _BREAKING_LINE.match(line.rstrip())
        where = f"CHANGELOG.md:{number}"
        if entry is None:
            changelog.problems.append(
                f"{where}: write `- BREAKING <CHANGE_TYPE> <coordinate>: <what clients must do>`"
            )
            continue
        if version is None:
            changelog.problems.append(f"{where}: a BREAKING line outside a `## [version]` section")
            continue
        if entry["type"] not in BreakingChangeType.__members__:
            known = ", ".join(BreakingChangeType.__members__)
            changelog.problems.append(
                f"{where}: {entry['type']} is not a breaking change type (one of {known})"
            )
            continue
        if len(entry["instructions"].split()) < 3:
            changelog.problems.append(
                f"{where}: say what clients must do after the colon, in a sentence"
            )
            continue
        changelog.allowances.append(
            Allowance(version, entry["type"], entry["coordinate"], entry["instructions"], number)
        )
    return changelog


def coordinate_of(change_type: BreakingChangeType, description: str) -> str:
    """The schema coordinate a breaking change is about; the description itself when this
    graphql-core words it in a way we do not know (a changelog line may then quote it)."""
    pattern, template = _COORDINATES.get(change_type, ("(?!)", ""))
    found = re.match(pattern, description)
    return template.format(*found.groups()) if found else description


def _deprecation(schema: GraphQLSchema, coordinate: str) -> str | None:
    """The released deprecation reason of a field or an enum value, if it had one."""
    type_name, _, member = coordinate.partition(".")
    named = schema.get_type(type_name)
    if not member or named is None:
        return None
    if isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
        member_field = named.fields.get(member)
        return member_field.deprecation_reason if member_field else None
    if isinstance(named, GraphQLEnumType):
        value = named.values.get(member)
        return value.deprecation_reason if value else None
    return None


@dataclass
class ContractReport:
    breaking: list[Change]
    dangerous: list[Change]
    unlisted: list[Change]  # breaking, and not in the changelog's [Unreleased]
    stale: list[Allowance]  # in [Unreleased], but no such change happened
    problems: list[str]  # lines of the changelog we cannot read
    not_deprecated_first: list[Change]  # removed without a release that deprecated them

    @property
    def ok(self) -> bool:
        return not (self.unlisted or self.stale or self.problems)

    def render(self) -> str:
        lines: list[str] = []
        if not (self.breaking or self.dangerous):
            lines.append("The schema is compatible with schema.released.graphql.")
        for change in self.breaking:
            mark = "not in CHANGELOG.md" if change in self.unlisted else "listed"
            lines.append(f"breaking ({mark}): {change}")
        for change in self.not_deprecated_first:
            lines.append(
                f"  note: {change.coordinate} was not @deprecated in the released schema; "
                "deprecate first, remove in a later version"
            )
        lines.extend(f"dangerous: {change}" for change in self.dangerous)
        for allowance in self.stale:
            lines.append(
                f"stale: {allowance} is listed as breaking but the schema does not make that "
                "change (was a version cut without moving the entry?)"
            )
        lines.extend(f"changelog: {problem}" for problem in self.problems)
        if self.unlisted:
            lines.append(
                "Either restore what clients rely on (deprecate it with "
                "@deprecated(reason: …) and remove it in a later version), or list each change "
                "under `## [Unreleased]` in CHANGELOG.md as "
                "`- BREAKING <CHANGE_TYPE> <coordinate>: <what clients must do>`."
            )
        return "\n".join(lines)


def check_contract(released_sdl: str, current_sdl: str, changelog_text: str) -> ContractReport:
    released = build_schema(released_sdl)
    current = build_schema(current_sdl)
    breaking = [
        Change(c.type.name, coordinate_of(c.type, c.description), c.description)
        for c in find_breaking_changes(released, current)
    ]
    dangerous = [
        Change(c.type.name, "", c.description) for c in find_dangerous_changes(released, current)
    ]
    changelog = parse_changelog(changelog_text)
    allowed = changelog.for_version(UNRELEASED)
    unlisted = [c for c in breaking if not any(a.allows(c) for a in allowed)]
    stale = [a for a in allowed if not any(a.allows(c) for c in breaking)]
    removals = {
        BreakingChangeType.FIELD_REMOVED.name,
        BreakingChangeType.VALUE_REMOVED_FROM_ENUM.name,
    }
    not_deprecated_first = [
        c for c in breaking if c.type in removals and not _deprecation(released, c.coordinate)
    ]
    return ContractReport(
        breaking, dangerous, unlisted, stale, changelog.problems, not_deprecated_first
    )


def code_sdl() -> str:
    """The schema the code serves, printed as `make schema` prints schema.graphql."""
    from strawberry.printer import print_schema

    from schema import schema

    return print_schema(schema)


def check_code_against_release() -> ContractReport:
    return check_contract(RELEASED_SCHEMA.read_text(), code_sdl(), CHANGELOG.read_text())


def main() -> int:
    report = check_code_against_release()
    print(report.render())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
