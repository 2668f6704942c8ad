"""The API breaks only on purpose: every breaking change between schema.released.graphql and the
code's schema is listed in CHANGELOG.md with what clients must do; dangerous ones are shown."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from graphql import (
    EnumTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    Visitor,
    parse,
    print_ast,
    visit,
)

from scripts.schema_contract import (
    DangerousSchemaChange,
    check_code_against_release,
    check_contract,
    code_sdl,
)


def test_the_code_keeps_the_released_contract() -> None:
    report = check_code_against_release()
    print(report.render())
    for change in report.dangerous:
        warnings.warn(str(change), DangerousSchemaChange, stacklevel=1)
    assert report.ok, report.render()


class _DropMember(Visitor):
    """Removes one field of an object type, or one value of an enum, from an SDL document."""

    def __init__(self, type_name: str, member: str) -> None:
        super().__init__()
        self.type_name, self.member = type_name, member

    def _without(self, node: Any, attribute: str) -> Any:
        members = getattr(node, attribute)
        kept = tuple(m for m in members if m.name.value != self.member)
        assert len(kept) == len(members) - 1, f"{self.type_name}.{self.member} not found"
        return type(node)(**{**{key: getattr(node, key) for key in node.keys}, attribute: kept})

    def enter_object_type_definition(self, node: ObjectTypeDefinitionNode, *_: Any) -> Any:
        if node.name.value == self.type_name:
            return self._without(node, "fields")
        return None

    def enter_enum_type_definition(self, node: EnumTypeDefinitionNode, *_: Any) -> Any:
        if node.name.value == self.type_name:
            return self._without(node, "values")
        return None


def without(sdl: str, coordinate: str) -> str:
    type_name, member = coordinate.split(".")
    return print_ast(visit(parse(sdl), _DropMember(type_name, member)))


CHANGELOG_HEAD = "# Changelog\n\n## [Unreleased]\n\n### Removed\n\n"
RELEASED_TAIL = "\n## [0.1.0] - 2026-12-01\n\n### Added\n\n- The first API.\n"


@pytest.fixture(scope="module")
def released() -> str:
    return code_sdl()


def test_a_removed_field_fails_the_check_until_the_changelog_lists_it(released: str) -> None:
    current = without(released, "Customer.phoneNumber")
    assert "phoneNumber: String\n  locale" not in current  # the field really is gone

    # Not in the changelog: the check fails, names the change and says how to fix it.
    report = check_contract(released, current, CHANGELOG_HEAD + RELEASED_TAIL)
    assert not report.ok
    assert [(c.type, c.coordinate) for c in report.unlisted] == [
        ("FIELD_REMOVED", "Customer.phoneNumber")
    ]
    rendered = report.render()
    assert "breaking (not in CHANGELOG.md): FIELD_REMOVED Customer.phoneNumber" in rendered
    assert "- BREAKING <CHANGE_TYPE> <coordinate>: <what clients must do>" in rendered
    assert "was not @deprecated in the released schema" in rendered

    # Listed under a released version only: that version is out, so it does not count.
    entry = "- BREAKING FIELD_REMOVED Customer.phoneNumber: read the phone from `Customer.phone`.\n"
    report = check_contract(released, current, CHANGELOG_HEAD + RELEASED_TAIL + entry)
    assert [c.coordinate for c in report.unlisted] == ["Customer.phoneNumber"]

    # Listed under [Unreleased] with what clients must do: the check passes.
    report = check_contract(released, current, CHANGELOG_HEAD + entry + RELEASED_TAIL)
    assert report.ok, report.render()
    assert "breaking (listed): FIELD_REMOVED Customer.phoneNumber" in report.render()


def test_the_changelog_must_say_what_clients_do_and_match_what_changed(released: str) -> None:
    current = without(released, "Customer.phoneNumber")
    terse = CHANGELOG_HEAD + "- BREAKING FIELD_REMOVED Customer.phoneNumber:\n" + RELEASED_TAIL
    report = check_contract(released, current, terse)
    assert not report.ok
    assert any("say what clients must do" in p for p in report.problems)

    unknown = CHANGELOG_HEAD + "- BREAKING FIELD_GONE Customer.phoneNumber: use phone.\n"
    assert any(
        "not a breaking change type" in p
        for p in check_contract(released, current, unknown).problems
    )

    # An entry for a change the schema does not make is stale (a version cut half-way).
    stale = CHANGELOG_HEAD + "- BREAKING FIELD_REMOVED Customer.email: ask for `login` now.\n"
    report = check_contract(released, released, stale)
    assert not report.ok
    assert [a.coordinate for a in report.stale] == ["Customer.email"]


def test_dangerous_changes_are_reported_not_refused(released: str) -> None:
    # Dropping a value from the *released* enum looks like the code adding it: dangerous only.
    older = without(released, "InvoiceStatus.VOID")
    report = check_contract(older, released, CHANGELOG_HEAD + RELEASED_TAIL)
    assert report.ok, report.render()
    assert [c.type for c in report.dangerous] == ["VALUE_ADDED_TO_ENUM"]
    assert "dangerous: VALUE_ADDED_TO_ENUM" in report.render()


@pytest.mark.parametrize(
    ("before", "after", "coordinate"),
    [
        ("type Query { a(x: Int): Int }", "type Query { a: Int }", "Query.a(x:)"),
        ("type Query { a: Int }", "type Query { a(x: Int!): Int }", "Query.a(x:)"),
        ("type Query { a: Int b: ID }", "type Query { a: [Int] b: ID }", "Query.a"),
        ("type Query { a: E } enum E { X Y }", "type Query { a: E } enum E { X }", "E.Y"),
        ("type Query { a: Int } type T { b: Int }", "type Query { a: Int }", "T"),
        (
            "type Query { a(i: I): Int } input I { x: Int }",
            "type Query { a(i: I): Int } input I { x: Int y: Int! }",
            "I.y",
        ),
        (
            "type Query { a: U } union U = A | B type A { x: Int } type B { x: Int }",
            "type Query { a: U } union U = A type A { x: Int } type B { x: Int }",
            "U.B",
        ),
        (
            "type Query { a: N } interface N { id: ID } type A implements N { id: ID }",
            "type Query { a: N } interface N { id: ID } type A { id: ID }",
            "A.N",
        ),
    ],
)
def test_each_kind_of_breaking_change_has_a_coordinate(
    before: str, after: str, coordinate: str
) -> None:
    report = check_contract(before, after, CHANGELOG_HEAD)
    assert [c.coordinate for c in report.breaking] == [coordinate], report.render()
