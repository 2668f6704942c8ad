"""The layers point one way: app -> schema -> resolvers -> services -> models, and services ->
mailers (through the outbox). A module imports only from its own layer and the layers below
it; this test reads every import of the product's code (those under TYPE_CHECKING too)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# What each layer may import of ours, besides itself.
ALLOWED = {
    "app": {"schema", "resolvers", "services", "models", "mailers"},
    "schema": {"resolvers", "models"},
    "resolvers": {"services", "models"},
    "services": {"models", "mailers"},
    "mailers": set(),
    "models": set(),
}


def imports_of(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def test_imports_point_down_the_layers() -> None:
    wrong = []
    for layer, allowed in ALLOWED.items():
        for path in sorted((ROOT / layer).rglob("*.py")):
            for line, module in imports_of(path):
                top = module.split(".")[0]
                if top in ALLOWED and top != layer and top not in allowed:
                    wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert wrong == []


def test_the_check_sees_a_wrong_import(tmp_path: Path) -> None:
    module = tmp_path / "example.py"
    module.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import app.main\n")
    assert imports_of(module) == [(1, "typing"), (3, "app.main")]
