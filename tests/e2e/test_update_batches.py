"""Updates taken together: a getUpdates batch is handled in one transaction, yet each update
still counts alone — one that fails is undone alone, and what one changes, the next sees."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from domain.desk import Desk
from domain.policy import default_policy
from domain.tickets import Actor, Status
from playground.telegram.bot_api import FakeBotAPI
from storage.engine import make_engine, make_sessionmaker
from storage.uow import UnitOfWorkFactory
from tests.e2e.burst import seed_tickets
from tests.e2e.harness import MovableClock, RunningDesk
from tests.fakes.plugin import ALICE_ID, STAFF_CHAT_ID

ANN, BEN, CAT = 6001, 6002, 6003


def topic_texts(api: FakeBotAPI, thread: int) -> str:
    """Everything the staff can read in a topic, as one text."""
    return "\n".join(message.get("text", "") for message in api.messages(STAFF_CHAT_ID, thread))


def batch_sizes(api: FakeBotAPI) -> list[int]:
    """How many updates each getUpdates answer that had any carried."""
    return [len(call.result) for call in api.calls
            if call.method == "getUpdates" and call.ok and call.result]


async def statuses(database_url: str, *numbers: int, waiting: bool = False) -> list[Any]:
    """The tickets' statuses as stored (with `waiting`, first set to waiting for the client:
    a word from the client then puts them back to work)."""
    engine = make_engine(database_url)
    try:
        async with UnitOfWorkFactory(make_sessionmaker(engine))() as uow:
            tickets = [await uow.tickets.get(number) for number in numbers]
            if waiting:
                for ticket in tickets:
                    assert ticket is not None
                    ticket.move(Status.WAITING_CLIENT, Actor("agent", ALICE_ID, "Alice"),
                                ticket.created_at)
                    await uow.tickets.save(ticket)
                await uow.commit()
    finally:
        await engine.dispose()
    return [ticket.status if ticket else None for ticket in tickets]


async def _a_database_error(uow: Any) -> None:
    # the same update id twice: refused by the database (on PostgreSQL, the whole
    # transaction is then refused until it goes back to before the error)
    for _ in range(2):
        await uow.session.execute(text(
            "INSERT INTO processed_updates (update_id, at) VALUES (-7, '2026-01-01')"))


async def _a_bug(_uow: Any) -> None:
    raise RuntimeError("a bug in the relay")


@pytest.mark.parametrize("failure", [_a_bug, _a_database_error])
async def test_a_failing_update_in_a_batch_is_undone_alone(
        fake_api: FakeBotAPI, database_url: str, clock: MovableClock,
        monkeypatch: pytest.MonkeyPatch, failure: Any) -> None:
    ann, ben, cat = await seed_tickets(fake_api, database_url, default_policy(), clock,
                                       [ANN, BEN, CAT])
    relay = Desk.client_wrote

    async def failing_after_its_changes(self: Desk, uow: Any, *args: Any) -> Any:
        ticket = await relay(self, uow, *args)  # stored, and its copy put in the outbox ...
        if "boom" in args[-1]:  # the text the desk reads
            await failure(uow)  # ... and then it fails
        return ticket

    monkeypatch.setattr(Desk, "client_wrote", failing_after_its_changes)
    before = await statuses(database_url, ben.ticket, cat.ticket, waiting=True)
    fake_api.user_sends(ANN, "first from Ann")
    fake_api.user_sends(BEN, "boom from Ben")
    fake_api.user_sends(CAT, "only from Cat")
    fake_api.user_sends(ANN, "second from Ann")
    desk = await RunningDesk(fake_api, database_url, default_policy(), clock).start()
    try:
        await fake_api.wait_for_bot_message(BEN, contains="something went wrong")
        await fake_api.wait_for(lambda: "second from Ann" in topic_texts(fake_api, ann.thread)
                                and "only from Cat" in topic_texts(fake_api, cat.thread),
                                description="the others relayed")
    finally:
        await desk.stop()  # drains the outbox

    assert batch_sizes(fake_api)[0] == 4  # the four were one batch
    texts = topic_texts(fake_api, ann.thread)
    assert texts.index("first from Ann") < texts.index("second from Ann")
    assert "boom" not in topic_texts(fake_api, ben.thread)  # its outbox row was undone too
    after = await statuses(database_url, ben.ticket, cat.ticket)
    assert before == [Status.WAITING_CLIENT] * 2
    assert after == [Status.WAITING_CLIENT,  # Ben's ticket: the change undone
                     Status.IN_PROGRESS]  # Cat's: kept
    # told once: the failed update is done with, not handled again
    assert len([message for message in fake_api.bot_messages(BEN)
                if "something went wrong" in message.get("text", "")]) == 1


@pytest.mark.parametrize(("command", "answer", "shown"), [
    ("/ban", "no longer accepts", "is banned"),  # the client was read ahead, not banned
    # the open tickets were read ahead, with this one: closed, the message is kept and Ann
    # asked whether it reopens the request
    ("/close", "Reopen it with your message", None),
])
async def test_a_change_by_an_agent_is_seen_by_the_clients_next_message_in_the_batch(
        fake_api: FakeBotAPI, sqlite_url: str, clock: MovableClock, command: str,
        answer: str, shown: str | None) -> None:
    # When the batch began, Ann could write into her ticket; the agent's command comes first.
    (ann,) = await seed_tickets(fake_api, sqlite_url, default_policy(), clock, [ANN])
    fake_api.user_sends(ALICE_ID, command, chat_id=STAFF_CHAT_ID, thread_id=ann.thread)
    fake_api.user_sends(ANN, "one more thing")
    desk = await RunningDesk(fake_api, sqlite_url, default_policy(), clock).start()
    try:
        await fake_api.wait_for_bot_message(ANN, contains=answer)
    finally:
        await desk.stop()

    assert batch_sizes(fake_api)[0] == 2
    if shown is None:  # closing posts nothing: the topic is closed
        assert fake_api.topic(STAFF_CHAT_ID, ann.thread)["closed"]
    else:
        assert shown in topic_texts(fake_api, ann.thread)
    assert "one more thing" not in topic_texts(fake_api, ann.thread)
