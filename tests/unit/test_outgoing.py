"""Outbox items: written and read back in one place, rows stored before still read."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from domain.outgoing import Kind, MessageRef, MessageShape, Notice, Outgoing

AT = datetime(2026, 10, 5, 9, 30, tzinfo=UTC)
PHOTO = MessageRef(chat=1001, ids=(7, 8), album="a1", html="<b>look</b>",
                   shape=MessageShape.CAPTION)


def test_an_item_reads_back_as_it_was_written() -> None:
    items = [
        Outgoing(Kind.COPY_TO_TOPIC, 12, 3, message=PHOTO),
        Outgoing(Kind.COPY_TO_CLIENT, 12, 3, data={"agent": "Alice"}, message=PHOTO),
        Outgoing(Kind.CLIENT_NOTICE, 12, 3, Notice.CLOSED, {"auto": True, "credentials": False}),
        Outgoing(Kind.GENERAL_NOTICE, template=Notice.CLIENT_ERASED, data={"tickets": [1, 2]}),
        Outgoing(Kind.CARD, 12, 3),
    ]
    for item in items:
        assert Outgoing.from_json(item.to_json(AT)) == Outgoing(
            item.kind, item.ticket_number, item.client_id, item.template, item.data,
            item.message, at=AT)


def test_the_stored_shape_is_the_one_rows_already_have() -> None:
    stored = json.loads(Outgoing(Kind.COPY_TO_TOPIC, 12, 3, message=PHOTO).to_json(AT))

    assert stored == {"kind": "copy_to_topic", "ticket": 12, "client": 3, "template": None,
                      "data": {"source": {"reply_to": None, "chat": 1001, "ids": [7, 8],
                                          "album": "a1", "html": "<b>look</b>",
                                          "kind": "caption"}},
                      "at": "2026-10-05T09:30:00+00:00"}


def test_an_agents_edit_stored_before_keeps_the_agents_name() -> None:
    old = json.dumps({"kind": "edit_at_client", "ticket": 12, "client": 3, "template": None,
                      "data": {"source": {"chat": -100, "ids": [70], "album": None,
                                          "html": "fixed", "kind": "text", "agent": "Bob"}},
                      "at": AT.isoformat()})

    item = Outgoing.from_json(old)

    assert item.message == MessageRef(-100, (70,), None, "fixed", MessageShape.TEXT)
    assert item.data == {"agent": "Bob"}
    assert item.template is None and item.at == AT


def test_a_delivered_row_whose_texts_were_erased_has_no_message() -> None:
    erased = json.dumps({"kind": "copy_to_topic", "ticket": 12, "client": 3, "template": None,
                         "data": {}, "at": AT.isoformat()})

    assert Outgoing.from_json(erased).message is None
