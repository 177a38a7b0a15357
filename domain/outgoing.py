"""What the desk wants said, decided by the rules and delivered later through the outbox.

The domain names *what* goes *where* (a notice to the client, a copy into the ticket's topic);
`bot/delivery.py` knows how to say it in Telegram. A `MessageRef` points at a message the
handlers received; the domain only carries it to the outbox and never looks inside.
`Outgoing.to_json` and `Outgoing.from_json` are the one place an item is written to and read
from the outbox.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
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


class Notice(StrEnum):
    """The templates of the desk's own texts (`handlers/texts.py` words each one)."""

    ACKNOWLEDGED = "acknowledged"              # to the client: the request is registered
    TAKEN = "taken"                            # to the client: who is on it
    WAITING_CLIENT = "waiting_client"          # to the client: the desk waits for an answer
    RESOLVED = "resolved"                      # to the client: solved? (with buttons)
    CLOSED = "closed"                          # to the client
    DECLINED = "declined"                      # to the client, with the reason
    CANNED = "canned"                          # to the client: a prepared answer
    PROBLEM_SOLVED = "problem_solved"          # to the client and the topic of an incident
    AUTOCLOSE_REMINDER = "autoclose_reminder"  # to the client: it closes soon
    SUPERVISOR_OFFER = "supervisor_offer"      # to the client: "Ask supervisor" button
    REOPENED = "reopened"                      # in the topic
    RATED = "rated"                            # in the topic
    QUEUE_OFFER = "queue_offer"                # in the topic: the queue's agents called
    SLA_WARNING = "sla_warning"                # in the topic
    ASK_SUPERVISOR = "ask_supervisor"          # in the topic and the staff group
    SPECIAL_REQUEST = "special_request"        # in the staff group (pinned)
    SLA_BREACH = "sla_breach"                  # in the staff group
    UNASSIGNED = "unassigned"                  # in the staff group
    CLIENT_ERASED = "client_erased"            # in the staff group, about no one ticket


class MessageShape(StrEnum):
    """What a received message holds, as far as copying and editing it go."""

    TEXT = "text"        # a text (edited as a text)
    CAPTION = "caption"  # a photo, document, video, audio, animation or voice (its caption)
    OTHER = "other"      # a sticker, a location, ...: copied as it is


@dataclass(frozen=True)
class MessageRef:
    """A message the handlers received (an album's parts together): where it is, its text as
    HTML and the message of its chat it replies to, as the outbox needs them to copy, edit,
    link and answer it."""

    chat: int
    ids: tuple[int, ...]
    album: str | None = None
    html: str = ""
    shape: MessageShape = MessageShape.OTHER
    reply_to: int | None = None

    def with_ids(self, ids: tuple[int, ...]) -> MessageRef:
        """The same message with other parts (an album's, sorted)."""
        return replace(self, ids=ids)

    def to_json(self) -> dict[str, Any]:
        """As JSON values (the outbox row, the conversation state)."""
        return {"reply_to": self.reply_to, "chat": self.chat, "ids": list(self.ids),
                "album": self.album, "html": self.html, "kind": self.shape.value}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> MessageRef:
        """Read back what `to_json` wrote."""
        return cls(chat=value["chat"], ids=tuple(value["ids"]), album=value.get("album"),
                   html=value.get("html") or "", shape=MessageShape(value.get("kind", "other")),
                   reply_to=value.get("reply_to"))


_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class Outgoing:
    """One thing to deliver: a kind, the ticket and client it concerns, the notice's template
    and its values (`data`, JSON values), or the message to copy or edit."""

    kind: Kind
    ticket_number: int | None = None
    client_id: int | None = None
    template: Notice | None = None
    data: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    message: MessageRef | None = None
    at: datetime | None = None  # when the outbox recorded it (read back from the outbox)

    @property
    def lane(self) -> str:
        """The ordered lane it travels in: per client chat, per ticket topic, or General."""
        if self.kind in (Kind.COPY_TO_CLIENT, Kind.EDIT_AT_CLIENT, Kind.CLIENT_NOTICE):
            return f"client:{self.client_id}"
        if self.kind is Kind.GENERAL_NOTICE:
            return "general"
        return f"ticket:{self.ticket_number}"

    def to_json(self, at: datetime) -> str:
        """The item as the outbox stores it, recorded `at`."""
        data = dict(self.data)
        if self.message is not None:
            data["source"] = self.message.to_json()
        return json.dumps({"kind": self.kind.value, "ticket": self.ticket_number,
                           "client": self.client_id, "template": self.template, "data": data,
                           "at": at.isoformat()}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Outgoing:
        """Read back what `to_json` wrote (also rows written before: an agent's edit carried
        the agent's name in its message)."""
        stored = json.loads(text)
        data = dict(stored.get("data") or {})
        source = data.pop("source", None)
        if source and "agent" in source:
            data.setdefault("agent", source["agent"])
        return cls(
            kind=Kind(stored["kind"]),
            ticket_number=stored.get("ticket"),
            client_id=stored.get("client"),
            template=Notice(stored["template"]) if stored.get("template") else None,
            data=MappingProxyType(data),
            message=MessageRef.from_json(source) if source else None,
            at=datetime.fromisoformat(stored["at"]) if stored.get("at") else None,
        )
