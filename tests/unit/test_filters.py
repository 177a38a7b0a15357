"""Every handler and filter of the desk runs on the event loop.

aiogram runs a synchronous callable (a bare `F.text`, a plain `def` handler) in a worker
thread; on the relay's path that hop cost more than the check itself, several times per
update. A filter written `F.text` by habit would bring it back: this test names it.
"""

from __future__ import annotations

import pytest
from aiogram import Bot, F, Router, filters
from aiogram.dispatcher.event.handler import CallableObject
from aiogram.filters.command import CommandException
from aiogram.types import Chat, Message, User

from handlers import client, intake, other_channels, privacy, reports, sla, staff
from handlers.filters import Command, CommandStart, OnLoop, PrivateChat

ROUTERS = tuple(module.make_router() for module in (
    privacy, client, intake, other_channels, sla, reports, staff))


def on_a_thread(router: Router) -> list[str]:
    """The callables of a router (its handlers and their filters) that aiogram would run in
    a worker thread. (A router's own filters, `router.message.filter(PrivateChat())`, are our
    filter classes, awaitable by their making; aiogram keeps them where only its private
    attributes reach.)"""
    found = []
    for name, observer in router.observers.items():
        callables: list[CallableObject] = []
        for handler in observer.handlers:
            callables += [handler, *handler.filters]
        found += [f"{router.name}.{name}: {item.callback!r}"
                  for item in callables if not item.awaitable]
    return found


def test_no_handler_or_filter_of_the_desk_runs_on_a_thread() -> None:
    assert [found for router in ROUTERS for found in on_a_thread(router)] == []


def test_the_check_finds_a_bare_magic_filter() -> None:
    router = Router(name="habit")

    @router.message(F.text)
    async def handler(message: Message) -> None:
        pass

    assert len(on_a_thread(router)) == 1


def _message(text: str | None, chat_type: str = "private") -> Message:
    return Message.model_validate({
        "message_id": 1, "date": 0, "text": text,
        "chat": Chat(id=5, type=chat_type).model_dump(),
        "from": User(id=5, is_bot=False, first_name="A").model_dump()})


async def test_on_loop_gives_what_the_magic_filter_gives() -> None:
    not_a_command = OnLoop(~F.text.startswith("/"))
    assert await not_a_command(_message("hello")) is True
    assert await not_a_command(_message("/start")) is False
    assert await not_a_command(_message(None)) is True  # a photo: no text, not a command
    assert await OnLoop(F.text)(_message(None)) is False


async def test_private_chat() -> None:
    assert await PrivateChat()(_message("hi")) is True
    assert await PrivateChat()(_message("hi", chat_type="supergroup")) is False


@pytest.mark.parametrize("text", ["/help", "/help me please", "  /help", "/helpx", "/start",
                                  "/start abc", "help", "hello /help", "", None, "/", "!help"])
async def test_the_desks_command_filters_answer_as_aiograms(text: str | None) -> None:
    bot = Bot("42:TEST")
    message = _message(text)
    for ours, theirs in ((Command("help"), filters.Command("help")),
                         (CommandStart(), filters.CommandStart())):
        mine, aiograms = await ours(message, bot), await theirs(message, bot)
        assert mine == aiograms, (text, mine, aiograms)


async def test_a_text_that_is_no_command_is_refused_without_being_parsed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = []

    async def parse_command(self: filters.Command, text: str, bot: Bot) -> None:
        parsed.append(text)
        raise CommandException("not a command")

    monkeypatch.setattr(filters.Command, "parse_command", parse_command)
    assert await Command("help")(_message("a client's long message"), Bot("42:TEST")) is False
    assert parsed == []  # aiogram's own filter parses it, and raises, to say no
