"""Forgetting a client (SPEC §9 privacy): what is personal, what stays for the figures.

The rule
--------
A client is forgotten at their own request (`/forget` in the chat, confirmed with a button) or
by the operator (`frontdesk client forget`). Forgetting erases what identifies the person and
what they wrote:

* the client: name, @username, Telegram account (so a later message starts a new, unknown
  client), remembered contract, time zone; ``forgotten_at`` records when;
* their tickets: subject (``—``) and description; the details of the tickets' events (the
  description, rating comments, reasons) and the client's name on them; rating comments;
  the pairs of Telegram messages (they hold the client's chat id); their conversation state;
  the message texts kept in delivered outbox rows.

It keeps what is anonymous and what the reports count: the tickets with their numbers,
queues, priorities, SLA levels, assignees, times and due times, every event's kind and time,
the rating scores and the deflection counts. The customer and contract on a ticket are the
customer company's, not the person's, and stay too.

Forgetting changes no ticket's status: an open ticket stays open for the agents to close (it
can no longer be answered), and the cards of the client's tickets are refreshed so that the
staff group no longer shows the name and subject. Forgetting twice is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.outgoing import Kind, Notice, Outgoing

ERASED_SUBJECT = "—"


@dataclass(frozen=True)
class Erasure:
    """What forgetting a client erased (or, before it runs, would erase)."""

    client_id: int
    tickets: tuple[int, ...]  # numbers of all the client's tickets
    open_tickets: tuple[int, ...]  # of them, those not closed or declined
    with_topics: tuple[int, ...] = ()  # of them, those with a topic in a staff group
    ticket_texts: int = 0  # tickets whose subject and description were erased
    event_texts: int = 0  # events whose details or client name were erased
    comments: int = 0  # rating comments erased
    links: int = 0  # message pairs forgotten
    states: int = 0  # conversation states dropped
    deliveries: int = 0  # delivered outbox rows whose texts were erased
    forgotten_before: datetime | None = None  # when the client was forgotten already, if so


def staff_notice(erasure: Erasure) -> Outgoing:
    """The staff group is told (without a name): which tickets lost their texts, which of
    them are still open and can no longer be answered."""
    return Outgoing(Kind.GENERAL_NOTICE, template=Notice.CLIENT_ERASED,
                    data={"tickets": list(erasure.tickets),
                          "open_tickets": list(erasure.open_tickets)})


def refreshed_cards(erasure: Erasure) -> list[Outgoing]:
    """The card refreshes that take the name and subject off the staff group's topics."""
    return [Outgoing(Kind.CARD, number, erasure.client_id) for number in erasure.with_topics]
