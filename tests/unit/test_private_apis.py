"""Only public APIs of aiogram, aiosqlite and SQLAlchemy (STYLE.md, "Simple over clever").

A private attribute (`x._name`) of a library changes without notice in any release. The check
reads our modules' syntax, so it cannot know whose object `x` is: it refuses `x._name` on
anything but `self`/`cls`, a private name imported from one of the libraries, and, in a class
built on one of their classes, overriding or reading a private member of that class.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "handlers", "domain", "storage", "playground")
LIBRARIES = {"aiogram", "aiosqlite", "sqlalchemy"}

# Public despite the underscore: namedtuple's and SQLAlchemy's `Row`'s documented methods,
# named so that they cannot collide with a field or column called `fields`, `mapping`, ….
PUBLIC_WITH_UNDERSCORE = {"_asdict", "_fields", "_make", "_mapping", "_replace", "_t", "_tuple"}

# Files on their way out (issue #19, point 1): each is a known offender, to be removed, not
# to be imitated. The engineer who removes one takes it off this list.
STILL_TO_REMOVE: set[str] = set()


def is_private(name: str) -> bool:
    """`_name`, not `__name__` (dunders are the language's, not a library's secrets)."""
    return (name.startswith("_") and not name.endswith("__")
            and name not in PUBLIC_WITH_UNDERSCORE)


def library_imports(tree: ast.Module) -> dict[str, str]:
    """Each local name a module binds to something of the libraries, with its dotted path."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in LIBRARIES:
                    names[alias.asname or alias.name.split(".")[0]] = (
                        alias.name if alias.asname else alias.name.split(".")[0])
        elif (isinstance(node, ast.ImportFrom) and node.module and node.level == 0
              and node.module.split(".")[0] in LIBRARIES):
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def dotted(node: ast.expr) -> list[str] | None:
    """`a.b.c` as ["a", "b", "c"]; None for anything else."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        inner = dotted(node.value)
        return None if inner is None else [*inner, node.attr]
    return None


def resolve(path: str) -> object | None:
    """The library object at a dotted path (`aiosqlite.Connection`), or None."""
    parts = path.split(".")
    for split in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for part in parts[split:]:
                found = getattr(found, part)
        except AttributeError:
            return None
        return found
    return None


def private_uses(source: str) -> list[str]:
    """Where a module touches a private part of aiogram, aiosqlite or SQLAlchemy."""
    tree = ast.parse(source)
    imported = library_imports(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and is_private(node.attr) and not (
                isinstance(node.value, ast.Name) and node.value.id in {"self", "cls"}):
            found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and (
                node.module.split(".")[0] in LIBRARIES):
            found += [f"line {node.lineno}: import of {node.module}.{alias.name}"
                      for alias in node.names
                      if any(is_private(part) for part in [*node.module.split("."), alias.name])]
        elif isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import of {alias.name}" for alias in node.names
                      if alias.name.split(".")[0] in LIBRARIES
                      and any(is_private(part) for part in alias.name.split("."))]
    return found + private_members_of_library_bases(tree, imported)


def private_members_of_library_bases(tree: ast.Module, imported: dict[str, str]) -> list[str]:
    """In a class built on a library class (directly or through a class of the same module):
    a private method of the library's overridden, or a private member read that the library
    has or that the class never set itself (an inherited instance attribute)."""
    bases_of: dict[str, list[object]] = {}  # our class → the library classes under it
    own_of: dict[str, set[str]] = {}  # our class → the names it (or a class of ours) defines
    found = []
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        library: list[object] = []
        own = {item.name for item in node.body
               if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)}
        own |= {target.attr for target in ast.walk(node)
                if isinstance(target, ast.Attribute) and isinstance(target.ctx, ast.Store)
                and isinstance(target.value, ast.Name) and target.value.id == "self"}
        for base in node.bases:
            path = dotted(base)
            if path is None:
                continue
            if len(path) == 1 and path[0] in bases_of:
                library += bases_of[path[0]]
                own |= own_of[path[0]]
            elif path[0] in imported:
                resolved = resolve(".".join([imported[path[0]], *path[1:]]))
                if resolved is not None:
                    library.append(resolved)
        bases_of[node.name], own_of[node.name] = library, own
        if not library:
            continue
        found += [f"line {item.lineno}: overrides {item.name}" for item in node.body
                  if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                  and is_private(item.name)
                  and any(hasattr(base, item.name) for base in library)]
        found += [f"line {use.lineno}: self.{use.attr} of a library class"
                  for use in ast.walk(node)
                  if isinstance(use, ast.Attribute) and isinstance(use.ctx, ast.Load)
                  and isinstance(use.value, ast.Name) and use.value.id == "self"
                  and is_private(use.attr)
                  and (use.attr not in own or any(hasattr(base, use.attr) for base in library))]
    return found


def our_modules() -> list[str]:
    return sorted(str(path.relative_to(ROOT)) for package in PACKAGES
                  for path in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("module", our_modules())
def test_no_module_of_ours_touches_a_private_part_of_a_library(module: str) -> None:
    if module in STILL_TO_REMOVE:
        pytest.skip("on its way out (STILL_TO_REMOVE)")
    assert private_uses((ROOT / module).read_text(encoding="utf-8")) == []


def test_the_files_still_to_remove_exist() -> None:
    """A file removed is taken off the list (which must not become a place to hide one)."""
    assert all((ROOT / module).exists() for module in STILL_TO_REMOVE)


@pytest.mark.parametrize("snippet", [
    "router._parent_router = None",
    "handlers = dispatcher.update._handler.filters",
    "await super()._execute(fn)",
    "from aiogram.dispatcher.event.bases import _private_thing",
    "from aiosqlite._core import Connection",
    "import sqlalchemy._private",
    "import aiosqlite\n"
    "class Quick(aiosqlite.Connection):\n"
    "    async def _execute(self, fn):\n"
    "        return fn()\n",
    "import aiosqlite\n"
    "class Quick(aiosqlite.Connection):\n"
    "    def conn(self):\n"
    "        return self._conn\n",
    "from aiosqlite import Connection\n"
    "class Quick(Connection):\n"
    "    pass\n"
    "class Quicker(Quick):\n"
    "    async def _execute(self, fn):\n"
    "        return fn()\n",
])
def test_the_check_finds_a_private_use(snippet: str) -> None:
    assert private_uses(snippet) != []


@pytest.mark.parametrize("snippet", [
    "self._locks = {}\nself._locks.clear()",
    "row._mapping['id']",
    "from aiogram import BaseMiddleware\n"
    "class Counting(BaseMiddleware):\n"
    "    def __init__(self):\n"
    "        self._count = 0\n"
    "    async def __call__(self, handler, event, data):\n"
    "        self._count += 1\n"
    "        return await handler(event, data)\n",
    "class Plain:\n"
    "    def _helper(self):\n"
    "        return self._value\n",
])
def test_the_check_leaves_our_own_private_parts_alone(snippet: str) -> None:
    assert private_uses(snippet) == []
