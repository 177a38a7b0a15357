"""Which way the arrows go: handlers → domain ← storage, and bot wires them (STYLE.md)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = {"domain", "storage", "handlers", "bot", "tests", "locales", "bench"}


def imports_of(package: str) -> dict[str, set[str]]:
    """Top-level modules each file of a package imports (at any depth of the file)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        if "versions" in path.parts:
            continue
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


def test_domain_uses_only_the_standard_library() -> None:
    for path, names in imports_of("domain").items():
        foreign = {name for name in names
                   if name not in sys.stdlib_module_names and name != "domain"}
        assert not foreign, f"{path} imports {sorted(foreign)}"


@pytest.mark.parametrize(("package", "forbidden"), [
    ("storage", {"handlers", "bot", "aiohttp"}),
    ("handlers", {"storage", "bot", "sqlalchemy"}),
    # SQL lives in storage: the application reaches the database through its repositories
    ("bot", {"sqlalchemy"}),
])
def test_no_arrow_runs_the_wrong_way(package: str, forbidden: set[str]) -> None:
    for path, names in imports_of(package).items():
        wrong = names & forbidden
        assert not wrong, f"{path} imports {sorted(wrong)}"
