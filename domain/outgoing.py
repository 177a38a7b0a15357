"""What the desk wants said, decided by the rules and delivered later through the outbox.

The domain names *what* goes *where* (a notice to the client, a copy into the ticket's topic);
`bot/outbox.py` knows how to say it in Telegram. `source` is an opaque reference to a message
the handler layer received; the domain never looks inside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class Kind(StrEnum):
    """The kinds of delivery the outbox sender knows."""

    CARD = "card"                      # post or refresh the ticket's card (opens the topic first)
    COPY_TO_TOPIC = "copy_to_topic"    # a client's message (or album) copied into the topic
    COPY_TO_CLIENT = "copy_to_client"  # an agent's message (or album) copied to the client
    EDIT_IN_TOPIC = "edit_in_topic"    # a client's edit shown to the staff
    EDIT_AT_CLIENT = "edit_at_client"  # an agent's edit applied to the client's copy
    CLIENT_NOTICE = "client_notice"    # a text for the client, from a template
    TOPIC_NOTICE = "topic_notice"      # a text in the ticket's topic, from a template
    GENERAL_NOTICE = "general_notice"  # a text in the staff group's General topic
    TOPIC_STATE = "topic_state"        # rename / close / reopen the topic


_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class Outgoing:
    """One thing to deliver: a kind, the ticket and client it concerns, and its data."""

    kind: Kind
    ticket_number: int | None = None
    client_id: int | None = None
    template: str | None = None
    data: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)

    @property
    def lane(self) -> str:
        """The ordered lane it travels in: per client chat, per ticket topic, or General."""
        if self.kind in (Kind.COPY_TO_CLIENT, Kind.EDIT_AT_CLIENT, Kind.CLIENT_NOTICE):
            return f"client:{self.client_id}"
        if self.kind is Kind.GENERAL_NOTICE:
            return "general"
        return f"ticket:{self.ticket_number}"
