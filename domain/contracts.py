"""The contract registry file the operator imports: a CSV of contracts, checked row by row.

The file comes from a spreadsheet, often a Russian Excel: UTF-8 with or without BOM,
UTF-16 with its BOM (Excel's "Unicode text") or Windows-1251, `,` or `;` between cells, dates as
YYYY-MM-DD or DD.MM.YYYY. Every problem in the file is collected and reported with its physical
line number, so the operator fixes them all in one go; a file with any problem imports nothing.

A cell that a spreadsheet would run as a formula (it begins with `=`, `+`, `-` or `@`, after
any leading whitespace: OWASP's CSV injection) is a problem of its row: such a value would go
back into a spreadsheet with `frontdesk contracts list`. Every file the desk writes
neutralizes such cells (`spreadsheet_cell`).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

from domain.clients import contract_key
from domain.text import has_visible_text, one_line

REQUIRED_COLUMNS = ("number", "customer", "sla_level")
OPTIONAL_COLUMNS = ("valid_until", "special_requests", "license_key")

_TRUE = frozenset({"yes", "true", "1", "да", "y", "д"})
_FALSE = frozenset({"no", "false", "0", "нет", "n", "н", ""})
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_RU_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")


@dataclass(frozen=True)
class ContractRow:
    """One contract as the file states it; `line` is its physical line in the file."""

    number: str
    customer: str
    sla_level: str
    valid_until: date | None
    special_requests: bool
    license_key: str | None
    line: int


@dataclass(frozen=True)
class RowProblem:
    """Why one line of the file cannot be imported."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class ContractFileInvalid(Exception):
    """The contract file has problems; nothing in it may be imported."""

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        self.problems = tuple(sorted(problems, key=lambda problem: problem.line))
        super().__init__("\n".join(str(problem) for problem in self.problems))


def parse_contracts(data: bytes, sla_levels: Collection[str]) -> list[ContractRow]:
    """Read a contract CSV; raise `ContractFileInvalid` listing every problem found."""
    rows = _Rows(_decode(data))
    header_line, header = rows.header()
    problems: list[RowProblem] = []
    columns = _columns(header, header_line, problems)
    if problems:
        raise ContractFileInvalid(problems)
    levels = {level.casefold(): level for level in sla_levels}
    contracts: list[ContractRow] = []
    numbers = _Uniques("contract number")
    license_keys = _Uniques("license key")
    for line, cells in rows:
        row = _row(line, cells, columns, len(header), levels, problems)
        if row is not None:
            contracts.append(row)
        numbers.add(line, _cell(cells, columns, "number"), problems)
        license_keys.add(line, _cell(cells, columns, "license_key"), problems)
    if problems:
        raise ContractFileInvalid(problems)
    return contracts


def spreadsheet_cell(value: str) -> str:
    """A text cell of a file the desk writes, never run as a formula by a spreadsheet: one
    that begins like a formula gets a leading apostrophe (OWASP's advice)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _formula(cell: str) -> bool:
    """Whether a spreadsheet would run this (already trimmed) cell as a formula; a lone
    dash is the usual "nothing" of a spreadsheet, not a formula."""
    return cell.startswith(FORMULA_STARTS) and cell != "-"


_UNICODE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)


def _decode(data: bytes) -> str:
    # Excel saves "CSV UTF-8" with a BOM, "Unicode text" as UTF-16 with a BOM, and plain
    # "CSV" in the Windows code page (1251 for Russian); cp1251 decodes almost any bytes, so
    # it only gets a chance after UTF-8 fails.
    for bom, encoding in _UNICODE_BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                raise ContractFileInvalid([RowProblem(
                    1, f"the file starts as {encoding.upper()} (its byte-order mark) but is "
                       f"not valid {encoding.upper()} text")]) from None
    if b"\x00" in data[:200]:
        raise ContractFileInvalid([RowProblem(
            1, "the file looks like UTF-16 or UTF-32 without a byte-order mark; save it as "
               "CSV UTF-8")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1251")
    except UnicodeDecodeError:
        raise ContractFileInvalid(
            [RowProblem(1, "the file is neither UTF-8 nor Windows-1251 text")]
        ) from None


class _Rows:
    """The non-blank rows of the text, each with the physical line it starts on."""

    def __init__(self, text: str) -> None:
        first_line = next((line for line in text.splitlines() if line.strip()), "")
        delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
        self._reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        self._read_lines = 0

    def __iter__(self) -> _Rows:
        return self

    def __next__(self) -> tuple[int, list[str]]:
        while True:
            line = self._read_lines + 1
            try:
                cells = next(self._reader)
            except csv.Error as error:  # a NUL byte: not a text file at all
                raise ContractFileInvalid([RowProblem(line, f"unreadable CSV: {error}")]) from None
            self._read_lines = self._reader.line_num
            if any(cell.strip() for cell in cells):
                return line, [cell.strip() for cell in cells]

    def header(self) -> tuple[int, list[str]]:
        """The first non-blank row, names trimmed and lowercased."""
        try:
            line, cells = next(self)
        except StopIteration:
            raise ContractFileInvalid(
                [RowProblem(1, "the file is empty: expected a header number,customer,sla_level")]
            ) from None
        return line, [cell.lower() for cell in cells]


def _columns(header: list[str], line: int, problems: list[RowProblem]) -> dict[str, int]:
    """Where each known column is; problems for missing or repeated ones."""
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        if name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS:
            continue  # more columns are allowed and ignored
        if name in columns:
            problems.append(RowProblem(line, f"column {name!r} appears twice in the header"))
        columns[name] = index
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        problems.append(RowProblem(
            line, f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                  f"(the header must name number, customer, sla_level; found: "
                  f"{', '.join(header)})"
        ))
    return columns


def _row(line: int, cells: list[str], columns: dict[str, int], width: int,
         levels: dict[str, str], problems: list[RowProblem]) -> ContractRow | None:
    """One contract, or None after adding this line's problems."""
    found: list[str] = []

    def cell(name: str) -> str:
        return _cell(cells, columns, name)

    formulas = [name for name, index in columns.items()
                if index < len(cells) and _formula(cells[index])]
    if formulas:
        found.append(f"{', '.join(formulas)} begins with {cells[columns[formulas[0]]][0]!r}: "
                     f"a spreadsheet formula is not imported (CSV injection); remove it")
    if any(cells[width:]):
        found.append(f"{len(cells)} cells but the header has {width} "
                     f"(a value containing the delimiter must be in quotes)")
    number, customer = cell("number"), one_line(cell("customer"))
    if not number:
        found.append("empty number")
    if not has_visible_text(customer):
        found.append("empty customer")
    level = levels.get(cell("sla_level").casefold())
    if level is None:
        known = ", ".join(levels.values())
        found.append(f"unknown SLA level {cell('sla_level')!r} (known: {known})")
    valid_until = _date(cell("valid_until"), found)
    special = _flag(cell("special_requests"), found)
    problems.extend(RowProblem(line, reason) for reason in found)
    if found or level is None:
        return None
    return ContractRow(number, customer, level, valid_until, bool(special),
                       cell("license_key") or None, line)


def _date(text: str, found: list[str]) -> date | None:
    """An optional date, YYYY-MM-DD or DD.MM.YYYY."""
    if not text:
        return None
    if match := _ISO_DATE.fullmatch(text):
        year, month, day = match.groups()
    elif match := _RU_DATE.fullmatch(text):
        day, month, year = match.groups()
    else:
        found.append(f"bad valid_until {text!r}: expected YYYY-MM-DD or DD.MM.YYYY")
        return None
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        found.append(f"bad valid_until {text!r}: no such day")
        return None


def _flag(text: str, found: list[str]) -> bool | None:
    """A yes/no cell; empty means no."""
    value = text.casefold()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    found.append(f"bad special_requests {text!r}: expected yes or no "
                 f"(also true/false, 1/0, да/нет)")
    return None


def _cell(cells: list[str], columns: dict[str, int], name: str) -> str:
    """The row's value in column `name` ("" when the column or the cell is missing)."""
    index = columns.get(name)
    return cells[index] if index is not None and index < len(cells) else ""


class _Uniques:
    """Remembers where each value of a column was first seen, to name both lines of a repeat."""

    def __init__(self, what: str) -> None:
        self._what = what
        self._first_line: dict[str, int] = {}

    def add(self, line: int, value: str, problems: list[RowProblem]) -> None:
        """Note `value` on `line`; a problem if an earlier line has it as people type it
        (case, spaces, dashes and look-alike letters ignored: the registry matches so)."""
        if not value:
            return
        first = self._first_line.setdefault(contract_key(value), line)
        if first != line:
            problems.append(RowProblem(line, f"{self._what} {value!r} is also on line {first}"))
