"""Clients and contracts as the desk's rules see them."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from domain.errors import ExpiredContract, UnknownContract


@dataclass
class Client:
    """A person who writes to the desk."""

    id: int
    name: str
    username: str | None = None
    language: str = "en"
    timezone: str | None = None
    contract_number: str | None = None
    banned: bool = False


@dataclass(frozen=True)
class Contract:
    """A support contract: who the customer is and what level of service they bought."""

    number: str
    customer: str
    sla_level: str
    valid_until: date | None = None
    special_requests: bool = False
    license_key: str | None = None

    def is_valid_on(self, day: date) -> bool:
        """Whether the contract is in force on `day` (valid through its last day)."""
        return self.valid_until is None or day <= self.valid_until


def check_contract(contract: Contract | None, today: date, given: str) -> Contract:
    """The contract a client may file under, or UnknownContract / ExpiredContract."""
    if contract is None:
        raise UnknownContract(given)
    if not contract.is_valid_on(today):
        raise ExpiredContract(contract.number, contract.valid_until)
    return contract


# Cyrillic capitals drawn like Latin ones: a number typed on a Russian keyboard (С-100)
_LOOK_ALIKES = str.maketrans("АВЕКМНОРСТУХІ", "ABEKMHOPCTYXI")
# a leading "No." the way people write it: №, N°, Nº, "No." or "No " (before NFKC turns № into No)
_NUMBER_SIGN = re.compile(r"^\s*(?:№|N[°º]|N[oо]\.|N[oо]\s+(?=\S))\s*", re.IGNORECASE)


def contract_key(typed: str) -> str:
    """A contract number or license key as the registry matches it (SPEC §1): case, spaces,
    dashes, a leading №/No. and Cyrillic letters that look like Latin ones do not matter."""
    text = unicodedata.normalize("NFKC", _NUMBER_SIGN.sub("", typed)).upper()
    text = text.translate(_LOOK_ALIKES)
    return "".join(char for char in text
                   if not (char.isspace() or char == "_" or unicodedata.category(char) == "Pd"))


def contract_example(number: str) -> str:
    """The shape of a contract number to show in a prompt without giving a real one away:
    its letters and separators kept, its digits counted 1, 2, 3… (`C-100` → `C-123`)."""
    digits = iter("1234567890" * 7)
    return "".join(next(digits) if char.isdigit() else char for char in number[:64])
