"""Validation of Bot API calls and results against the machine-readable Bot API spec.

The spec (``bot-api-spec.json``, Bot API 10.1) lists every method with its parameters and
every type with its fields. :class:`BotApiSpec` checks an incoming call the way a strict
Telegram would: unknown parameters, missing required ones and values of the wrong type are
reported, and values that arrive as strings (multipart and urlencoded bodies) are coerced to
the types the spec names.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

SPEC_ENV = "BOT_API_SPEC"
SPEC_FILE_NAME = "bot-api-spec.json"

_ARRAY = "Array of "
_SCALARS = frozenset({"Integer", "String", "Boolean", "Float", "True", "InputFile"})
_DISCRIMINATOR = re.compile(r'(?:must be|always) "?([a-z_]+)')
_INTEGER = re.compile(r"-?\d+")
_TRUE = frozenset({"true", "True", "1"})
_FALSE = frozenset({"false", "False", "0"})

# Parameters that Telegram still accepts although the spec no longer lists them; aiogram sends
# some of them on its own (e.g. ``disable_web_page_preview`` from bot defaults).
DEPRECATED_PARAMETERS: dict[str, list[str]] = {
    "reply_to_message_id": ["Integer"],
    "allow_sending_without_reply": ["Boolean"],
    "disable_web_page_preview": ["Boolean"],
}


def resolve_spec_path() -> Path:
    """Find the spec: ``$BOT_API_SPEC``, the copy beside this file, then ``<repo>/../shared``."""
    env = os.environ.get(SPEC_ENV)
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    copy = here / SPEC_FILE_NAME
    if copy.is_file():
        return copy
    repo = here.parents[1]
    shared = repo.parent / "shared" / "telegram" / SPEC_FILE_NAME
    if shared.is_file():
        return shared
    msg = f"Bot API spec not found: set {SPEC_ENV}, or restore {copy}"
    raise FileNotFoundError(msg)


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    name: str
    filename: str | None
    content_type: str | None
    content: bytes


class SpecError(Exception):
    """A value does not match the spec; ``str()`` is the description without the prefix.

    ``kind`` is ``unknown_parameter``, ``missing_parameter`` or ``wrong_type``.
    """

    def __init__(self, message: str, kind: str = "wrong_type") -> None:
        super().__init__(message)
        self.kind = kind


class BotApiSpec:
    """The methods and types of one Bot API version, with validators."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.version: str = raw.get("version", "?")
        self.methods: dict[str, dict[str, Any]] = raw["methods"]
        self.types: dict[str, dict[str, Any]] = raw["types"]
        self._by_lower = {name.lower(): name for name in self.methods}
        self._discriminators = {
            name: found for name in self.types if (found := self._find_discriminator(name))
        }

    @classmethod
    def load(cls, path: Path | str | None = None) -> BotApiSpec:
        """Load (and cache) the spec from ``path`` or from :func:`resolve_spec_path`."""
        return _load(str(Path(path) if path else resolve_spec_path()))

    def canonical_method(self, name: str) -> str | None:
        """The method's spelling in the spec (Telegram matches method names case-insensitively)."""
        return self._by_lower.get(name.lower())

    def validate_call(
        self, method: str, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> dict[str, Any]:
        """Check and coerce the parameters of a call; raise :class:`SpecError` on a mismatch.

        Top-level values may be strings (form bodies) and are coerced; nested values must carry
        their JSON types. An uploaded part is accepted for an InputFile parameter of the same
        name, and ``attach://<part>`` strings must name an uploaded part.
        """
        fields = {field["name"]: field for field in self.methods[method].get("fields", [])}
        coerced: dict[str, Any] = {}
        for name, value in params.items():
            if value is None:
                continue
            field = fields.get(name)
            types = field["types"] if field else DEPRECATED_PARAMETERS.get(name)
            if types is None:
                raise SpecError(
                    f'unknown parameter "{name}" of method {method}', "unknown_parameter"
                )
            coerced[name] = self._check(value, types, name, files, lenient=True)
        for name, field in fields.items():
            if field["required"] and name not in coerced:
                msg = f'parameter "{name}" is required by method {method}'
                raise SpecError(msg, "missing_parameter")
        return coerced

    def check_result(self, method: str, result: Any) -> None:
        """Check a result the fake produced against the method's ``returns``."""
        returns = self.methods[method].get("returns") or []
        if returns:
            path = f"{method}() result"
            self._check(result, returns, path, {}, lenient=False, extra_ok=True)

    def check_object(self, value: Any, type_name: str, path: str = "value") -> None:
        """Check a JSON value against a spec type (no string coercion; extra fields allowed)."""
        self._check(value, [type_name], path, {}, lenient=False, extra_ok=True)

    # -- the checker -------------------------------------------------------------------------

    def _check(
        self,
        value: Any,
        types: list[str],
        path: str,
        files: dict[str, UploadedFile],
        *,
        lenient: bool,
        extra_ok: bool = False,
    ) -> Any:
        arrays = [t[len(_ARRAY) :] for t in types if t.startswith(_ARRAY)]
        others = [t for t in types if not t.startswith(_ARRAY)]
        if isinstance(value, UploadedFile):
            if "InputFile" in types:
                return value
            raise SpecError(f'"{path}" must be {_describe(types)}, got an uploaded file')
        if lenient and isinstance(value, str) and value[:1] in "[{":
            wants_json = arrays or any(t not in _SCALARS for t in others)
            if wants_json:
                try:
                    value = json.loads(value)
                except ValueError:
                    if "String" not in others:
                        raise SpecError(f'"{path}" is not valid JSON') from None
        if isinstance(value, list):
            if not arrays:
                raise SpecError(f'"{path}" must be {_describe(types)}, got an array')
            return [
                self._check(
                    item, arrays, f"{path}[{index}]", files, lenient=False, extra_ok=extra_ok
                )
                for index, item in enumerate(value)
            ]
        problems: list[str] = []
        for type_name in self._ranked(value, others):
            try:
                return self._check_one(
                    value, type_name, path, files, lenient=lenient, extra_ok=extra_ok
                )
            except SpecError as error:
                problems.append(str(error))
        if len(problems) == 1 or isinstance(value, dict):
            # The error of the best-fitting candidate tells most about what is wrong.
            raise SpecError(problems[0])
        got = type(value).__name__
        raise SpecError(f'"{path}" must be {_describe(types)}, got {got} {_short(value)}')

    def _ranked(self, value: Any, candidates: list[str]) -> list[str]:
        """Candidate types, the likeliest first (Integer before String for "123")."""
        if not isinstance(value, dict):
            return sorted(candidates, key=lambda t: t == "String")

        def fit(type_name: str) -> tuple[int, int]:
            discriminator = self._discriminators.get(type_name)
            if discriminator and value.get(discriminator[0]) == discriminator[1]:
                return (0, 0)
            spec_type = self.types.get(type_name, {})
            names = {field["name"] for field in spec_type.get("fields", [])}
            names.update(
                field["name"]
                for sub in spec_type.get("subtypes", [])
                for field in self.types.get(sub, {}).get("fields", [])
            )
            return (1, -len(names & value.keys()))

        return sorted(candidates, key=fit)

    def _check_one(
        self,
        value: Any,
        type_name: str,
        path: str,
        files: dict[str, UploadedFile],
        *,
        lenient: bool,
        extra_ok: bool,
    ) -> Any:
        if type_name in _SCALARS:
            return _check_scalar(value, type_name, path, files, lenient=lenient)
        spec_type = self.types.get(type_name)
        if spec_type is None:
            raise SpecError(f'"{path}": the spec does not define type {type_name}')
        if not isinstance(value, dict):
            got = type(value).__name__
            raise SpecError(f'"{path}" must be a {type_name} object, got {got} {_short(value)}')
        subtypes = spec_type.get("subtypes")
        if subtypes:
            chosen = self._discriminated(value, subtypes)
            candidates = [chosen] if chosen else subtypes
            return self._check(value, candidates, path, files, lenient=False, extra_ok=extra_ok)
        fields = {field["name"]: field for field in spec_type.get("fields", [])}
        if not fields:
            return value
        checked: dict[str, Any] = {}
        for name, item in value.items():
            if item is None:
                continue
            field = fields.get(name)
            if field is None:
                if extra_ok:  # a newer Bot API (or aiogram) may know more fields
                    checked[name] = item
                    continue
                raise SpecError(f'"{path}": {type_name} has no field "{name}"')
            item_path = f"{path}.{name}"
            checked[name] = self._check(
                item, field["types"], item_path, files, lenient=False, extra_ok=extra_ok
            )
        for name, field in fields.items():
            if field["required"] and name not in checked:
                raise SpecError(f'"{path}": {type_name} requires field "{name}"')
        discriminator = self._discriminator_of(type_name)
        if discriminator and checked.get(discriminator[0]) != discriminator[1]:
            key, expected = discriminator
            raise SpecError(f'"{path}.{key}" must be "{expected}" for {type_name}')
        return checked

    def _discriminated(self, value: dict[str, Any], subtypes: list[str]) -> str | None:
        for subtype in subtypes:
            discriminator = self._discriminator_of(subtype)
            if discriminator and value.get(discriminator[0]) == discriminator[1]:
                return subtype
        return None

    def _discriminator_of(self, type_name: str) -> tuple[str, str] | None:
        return self._discriminators.get(type_name)

    def _find_discriminator(self, type_name: str) -> tuple[str, str] | None:
        """The (field, value) that tells a subtype apart, e.g. ("type", "photo")."""
        for field in self.types[type_name].get("fields", []):
            if field["name"] in {"type", "status", "source"}:
                match = _DISCRIMINATOR.search(field.get("description", ""))
                if match:
                    return field["name"], match.group(1)
        return None


def _check_scalar(
    value: Any, type_name: str, path: str, files: dict[str, UploadedFile], *, lenient: bool
) -> Any:
    got = f"{type(value).__name__} {_short(value)}"
    if type_name == "Integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if lenient and isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
            return int(value)
        raise SpecError(f'"{path}" must be Integer, got {got}')
    if type_name == "Float":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        if lenient and isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise SpecError(f'"{path}" must be Float, got {got}')
    if type_name in {"Boolean", "True"}:
        if isinstance(value, bool):
            return value
        if lenient and isinstance(value, str) and value in _TRUE | _FALSE:
            return value in _TRUE
        raise SpecError(f'"{path}" must be Boolean, got {got}')
    if type_name == "InputFile":
        if isinstance(value, str) and value.startswith("attach://"):
            if value[len("attach://") :] in files:
                return value
            raise SpecError(f'"{path}" refers to a missing file part: {value}')
        raise SpecError(f'"{path}" must be InputFile, got {got}')
    # String
    if isinstance(value, str):
        in_media = path == "media" or path.endswith(".media")
        if in_media and value.startswith("attach://") and value[len("attach://") :] not in files:
            raise SpecError(f'"{path}" refers to a missing file part: {value}')
        return value
    if lenient and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise SpecError(f'"{path}" must be String, got {got}')


@lru_cache(maxsize=4)
def _load(path: str) -> BotApiSpec:
    with open(path, encoding="utf-8") as handle:
        return BotApiSpec(json.load(handle))


def _describe(types: list[str]) -> str:
    return " or ".join(types)


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= 60 else text[:57] + "..."
