"""The contract registry file: the spreadsheets operators really have, and every mistake named."""

from __future__ import annotations

from datetime import date

import pytest

from domain.contracts import (
    ContractFileInvalid,
    ContractRow,
    RowProblem,
    parse_contracts,
    spreadsheet_cell,
)

LEVELS = ("premium", "standard", "basic")


def problems_of(data: bytes) -> tuple[RowProblem, ...]:
    """The problems the parser reports for `data` (it must refuse the file)."""
    with pytest.raises(ContractFileInvalid) as caught:
        parse_contracts(data, LEVELS)
    return caught.value.problems


def test_comma_file_with_optional_columns_is_read_row_by_row() -> None:
    data = (
        b"number,customer,sla_level,valid_until,special_requests,license_key,manager\n"
        b"C-1,ACME,premium,2026-12-31,yes,LK-1,Ivanov\n"
        b"C-2,\"Globex, Inc\",Standard,,,,\n"
    )

    rows = parse_contracts(data, LEVELS)

    assert rows == [
        ContractRow("C-1", "ACME", "premium", date(2026, 12, 31), True, "LK-1", 2),
        ContractRow("C-2", "Globex, Inc", "standard", None, False, None, 3),
    ]


def test_only_the_required_columns_are_enough() -> None:
    rows = parse_contracts(b"Number , CUSTOMER,sla_level\nC-1,ACME,basic\n", LEVELS)

    assert rows == [ContractRow("C-1", "ACME", "basic", None, False, None, 2)]


def test_semicolon_file_with_bom_as_excel_saves_it() -> None:
    text = "number;customer;sla_level;special_requests\r\nC-1;ООО Ромашка;basic;да\r\n"

    rows = parse_contracts(b"\xef\xbb\xbf" + text.encode("utf-8"), LEVELS)

    assert rows == [ContractRow("C-1", "ООО Ромашка", "basic", None, True, None, 2)]


def test_windows_1251_file_is_understood() -> None:
    text = "number;customer;sla_level;special_requests\nД-7;ЗАО Вектор;standard;нет\n"

    rows = parse_contracts(text.encode("cp1251"), LEVELS)

    assert rows == [ContractRow("Д-7", "ЗАО Вектор", "standard", None, False, None, 2)]


def test_russian_excel_dates_are_read() -> None:
    data = (b"number;customer;sla_level;valid_until\n"
            b"C-1;ACME;premium;31.12.2026\nC-2;B;basic;1.2.2027\n")

    rows = parse_contracts(data, LEVELS)

    assert [row.valid_until for row in rows] == [date(2026, 12, 31), date(2027, 2, 1)]


@pytest.mark.parametrize(("cell", "expected"), [
    ("yes", True), ("YES", True), ("true", True), ("1", True), ("Да", True),
    ("no", False), ("false", False), ("0", False), ("нет", False), ("", False),
])
def test_special_requests_accepts_the_usual_spellings(cell: str, expected: bool) -> None:
    data = f"number,customer,sla_level,special_requests\nC-1,ACME,premium,{cell}\n"

    [row] = parse_contracts(data.encode(), LEVELS)

    assert row.special_requests is expected


def test_blank_lines_are_skipped_and_line_numbers_stay_physical() -> None:
    data = (b"number,customer,sla_level\n\nC-1,ACME,basic\n,,\n"
            b"\"C-2\",\"two\nlines\",basic\nC-3,X,gold\n")

    problems = problems_of(data)

    assert problems == (
        RowProblem(7, "unknown SLA level 'gold' (known: premium, standard, basic)"),
    )


def test_three_different_bad_rows_are_all_listed_with_their_lines() -> None:
    data = (
        b"number,customer,sla_level,valid_until,special_requests\n"
        b"C-1,ACME,premium,,\n"
        b"C-2,Globex,premium,2026-13-01,\n"
        b"C-3,Initech,gold,,\n"
        b",Umbrella,basic,,maybe\n"
    )

    error = pytest.raises(ContractFileInvalid, parse_contracts, data, LEVELS).value

    assert str(error).splitlines() == [
        "line 3: bad valid_until '2026-13-01': no such day",
        "line 4: unknown SLA level 'gold' (known: premium, standard, basic)",
        "line 5: empty number",
        "line 5: bad special_requests 'maybe': expected yes or no (also true/false, 1/0, да/нет)",
    ]


def test_a_date_in_another_format_is_refused() -> None:
    problems = problems_of(b"number,customer,sla_level,valid_until\nC-1,ACME,basic,12/31/2026\n")

    assert problems == (
        RowProblem(2, "bad valid_until '12/31/2026': expected YYYY-MM-DD or DD.MM.YYYY"),
    )


def test_duplicate_contract_number_names_both_lines() -> None:
    data = b"number,customer,sla_level\nC-1,ACME,basic\nC-2,B,basic\nc-1,ACME again,premium\n"

    assert problems_of(data) == (RowProblem(4, "contract number 'c-1' is also on line 2"),)


def test_duplicate_license_key_names_both_lines() -> None:
    data = (b"number,customer,sla_level,license_key\n"
            b"C-1,A,basic,LK-9\nC-2,B,basic,LK-9\nC-3,C,basic,\n")

    assert problems_of(data) == (RowProblem(3, "license key 'LK-9' is also on line 2"),)


def test_a_row_that_is_wrong_and_duplicated_gets_both_problems() -> None:
    data = b"number,customer,sla_level\nC-1,A,basic\nC-1,,basic\n"

    assert problems_of(data) == (
        RowProblem(3, "empty customer"),
        RowProblem(3, "contract number 'C-1' is also on line 2"),
    )


def test_missing_required_column_is_a_problem_of_the_header() -> None:
    problems = problems_of(b"number,client,sla\nC-1,ACME,basic\n")

    assert problems == (RowProblem(
        1, "missing columns customer, sla_level (the header must name number, customer, "
           "sla_level; found: number, client, sla)"),)


def test_unquoted_delimiter_in_a_value_is_caught() -> None:
    problems = problems_of(b"number,customer,sla_level\nC-1,Globex, Inc,basic\n")

    assert problems[0].line == 2
    assert "4 cells but the header has 3" in problems[0].reason


def test_empty_file_is_refused() -> None:
    assert problems_of(b"\n\n") == (
        RowProblem(1, "the file is empty: expected a header number,customer,sla_level"),
    )


def test_header_only_file_has_no_contracts() -> None:
    assert parse_contracts(b"number,customer,sla_level\n", LEVELS) == []


def test_formula_cells_are_refused_with_their_lines() -> None:
    data = (b"number,customer,sla_level,license_key\n"
            b"C-1,ACME,standard,\n"
            b"C-2,=cmd|' /C calc'!A0,standard,\n"
            b"C-3,@SUM(1+1),standard,\n"
            b"C-4,\"  +1+2\",standard,\n"
            b"C-5,Initech,standard,-2+3\n"
            b"C-6,\"\t=HYPERLINK(\"\"x\"\")\",standard,\n"
            b"C-7,Umbrella,standard,-\n"
            b"-8,Hooli,standard,\n")

    problems = problems_of(data)

    assert [problem.line for problem in problems] == [3, 4, 5, 6, 7, 9]
    assert "customer begins with '='" in problems[0].reason
    assert "license_key begins with '-'" in problems[3].reason
    assert "number begins with '-'" in problems[5].reason


def test_spreadsheet_cells_the_desk_writes_never_start_a_formula() -> None:
    assert [spreadsheet_cell(cell) for cell in ("=1+1", "+7", "-3", "@x", "\t=1", "ACME", "")
            ] == ["'=1+1", "'+7", "'-3", "'@x", "'\t=1", "ACME", ""]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "utf-8-sig"])
def test_a_unicode_file_with_its_bom_is_read(encoding: str) -> None:
    text = "number\tcustomer\tsla_level\nC-1;ООО Ромашка;standard\n".replace("\t", ";")
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data

    rows = parse_contracts(data, LEVELS)

    assert [(row.number, row.customer) for row in rows] == [("C-1", "ООО Ромашка")]


def test_utf16_without_a_bom_is_refused_naming_the_encoding() -> None:
    data = "number,customer,sla_level\nC-1,ACME,standard\n".encode("utf-16-le")

    (problem,) = problems_of(data)

    assert problem.line == 1 and "UTF-16" in problem.reason
