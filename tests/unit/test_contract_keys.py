"""Contract numbers as people type them: the key the registry matches by."""

from __future__ import annotations

import pytest

from domain.clients import contract_example, contract_key
from domain.contracts import ContractFileInvalid, parse_contracts


@pytest.mark.parametrize("typed", ["C-100", "c-100", "C100", "C 100", "№ C-100", "№C-100",
                                   "No. C-100", "no c-100", "N° C–100", "С-100", "с_100",
                                   "  c — 100 "])
def test_the_ways_people_write_a_number_share_one_key(typed: str) -> None:
    assert contract_key(typed) == "C100"


def test_what_tells_numbers_apart_still_does() -> None:
    assert contract_key("C-100") != contract_key("C-1000")
    assert contract_key("12/2024") != contract_key("122024")
    assert contract_key("NO-123") == "NO123"  # "No" is a sign only before a dot or a space
    assert contract_key("ДОГ-15") == contract_key("дог 15")


def test_the_example_shows_the_shape_not_a_real_number() -> None:
    assert contract_example("C-100") == "C-123"
    assert contract_example("ДОГ-15/2024") == "ДОГ-12/3456"


def test_a_file_with_one_number_written_twice_is_refused() -> None:
    data = b"number,customer,sla_level\nC-100,ACME,standard\nc 100,ACME again,standard\n"
    with pytest.raises(ContractFileInvalid) as refused:
        parse_contracts(data, ["standard"])
    assert "line 3: contract number 'c 100' is also on line 2" in str(refused.value)
