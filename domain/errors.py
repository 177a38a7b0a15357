"""The desk's own exceptions; the handler layer turns each into a translated message."""

from __future__ import annotations


class DeskError(Exception):
    """Base of every refusal the rules make."""


class NotAllowed(DeskError):
    """The actor may not do this (not staff, not the ticket's client, banned …)."""


class TakenByAnother(NotAllowed):
    """The ticket is another agent's: it is handed over with `assign`, not taken."""


class IllegalTransition(DeskError):
    """The ticket's status cannot move this way."""

    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"{current} → {wanted}")
        self.current = current
        self.wanted = wanted


class TicketNotFound(DeskError):
    """No such ticket, or not one of this client's."""


class TicketClosed(DeskError):
    """The ticket is closed and cannot be changed this way."""


class UnknownContract(DeskError):
    """The contract number or license key is not in the registry."""


class ExpiredContract(DeskError):
    """The contract exists but its validity ended."""

    def __init__(self, number: str, valid_until: object) -> None:
        super().__init__(number)
        self.number = number
        self.valid_until = valid_until
