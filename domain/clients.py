"""Clients and contracts as the desk's rules see them."""

from __future__ import annotations

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
