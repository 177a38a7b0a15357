"""The fake Bot API acts like Telegram for a real aiogram Bot and checks calls against the spec."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiogram import Bot, Dispatcher, F
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from playground.telegram import spec as fakes_spec
from playground.telegram.bot_api import GENERAL, FakeBotAPI, RateLimits
from playground.telegram.spec import SPEC_ENV, BotApiSpec, resolve_spec_path
from tests.fakes.plugin import (
    ALICE_ID,
    BOB_ID,
    BOT_ID,
    STAFF_CHAT_ID,
    TOKEN,
    make_bot,
    violations_report,
)

CLIENT_ID = 5001


@pytest.fixture
def client(fake_api: FakeBotAPI) -> int:
    """A client who has started the bot."""
    fake_api.add_user(CLIENT_ID, "Carol", username="carol", language_code="en")
    return CLIENT_ID


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP client for calls aiogram would not make."""
    async with aiohttp.ClientSession() as session:
        yield session


async def raw_call(
    http: aiohttp.ClientSession, api: FakeBotAPI, method: str, **kwargs: Any
) -> tuple[int, dict[str, Any]]:
    """POST to the fake API without aiogram; return the status and the JSON answer."""
    async with http.post(f"{api.base_url}/bot{api.token}/{method}", **kwargs) as response:
        return response.status, await response.json()


def button(text: str, data: str) -> InlineKeyboardMarkup:
    """A one-button inline keyboard."""
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=text, callback_data=data)]]
    )


# -- spec validation ----------------------------------------------------------------------


def test_spec_is_found_from_a_clean_clone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the environment variable the copy shipped in playground/telegram is used."""
    monkeypatch.delenv(SPEC_ENV, raising=False)
    path = resolve_spec_path()

    assert path == Path(fakes_spec.__file__).resolve().parent / "bot-api-spec.json"
    assert path.with_suffix(".LICENSE").is_file()
    assert BotApiSpec.load(path).version == "Bot API 10.1"


def test_spec_path_can_be_overridden(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """BOT_API_SPEC wins over the copies."""
    monkeypatch.setenv(SPEC_ENV, str(tmp_path / "spec.json"))
    assert resolve_spec_path() == tmp_path / "spec.json"


async def test_send_message_lands_in_the_private_chat(
    fake_api: FakeBotAPI, fake_bot: Bot, client: int
) -> None:
    """The message is stored as the client sees it and returned to the bot."""
    sent = await fake_bot.send_message(client, "<b>Hello</b>, Carol &amp; co", parse_mode="HTML")

    [seen] = fake_api.bot_messages(client)
    assert seen["text"] == "Hello, Carol & co"
    assert seen["entities"] == [{"type": "bold", "offset": 0, "length": 5}]
    assert seen["from"]["id"] == BOT_ID
    assert seen["chat"] == {
        "id": client,
        "type": "private",
        "first_name": "Carol",
        "username": "carol",
    }
    assert sent.message_id == seen["message_id"]
    assert [call.method for call in fake_api.sent()] == ["sendMessage"]


async def test_unknown_parameter_is_a_400_and_a_violation(
    fake_api: FakeBotAPI, http: aiohttp.ClientSession, client: int
) -> None:
    """A parameter the spec does not list is refused and recorded."""
    status, body = await raw_call(
        http, fake_api, "sendMessage", json={"chat_id": client, "text": "hi", "colour": "red"}
    )

    assert status == 400
    assert body["ok"] is False
    assert body["description"].startswith('Bad Request: unknown parameter "colour"')
    [violation] = fake_api.take_violations()
    assert (violation.kind, violation.method) == ("unknown_parameter", "sendMessage")
    assert fake_api.messages(client) == []


async def test_wrong_types_are_400_and_violations(
    fake_api: FakeBotAPI, http: aiohttp.ClientSession, client: int
) -> None:
    """chat_id as an object, a thread id that is no integer, a bad nested button field."""
    status_json, _ = await raw_call(
        http, fake_api, "sendMessage", json={"chat_id": {"id": client}, "text": "hi"}
    )
    form = aiohttp.FormData({"chat_id": str(client), "text": "hi", "message_thread_id": "abc"})
    status_form, body_form = await raw_call(http, fake_api, "sendMessage", data=form)
    markup = json.dumps({"inline_keyboard": [[{"text": "Yes", "callback_data": 5}]]})
    status_nested, body_nested = await raw_call(
        http,
        fake_api,
        "sendMessage",
        data={"chat_id": str(client), "text": "hi", "reply_markup": markup},
    )

    assert (status_json, status_form, status_nested) == (400, 400, 400)
    assert "message_thread_id" in body_form["description"]
    assert "inline_keyboard[0][0].callback_data" in body_nested["description"]
    kinds = [violation.kind for violation in fake_api.take_violations()]
    assert kinds == ["wrong_type", "wrong_type", "wrong_type"]


async def test_missing_parameter_and_unknown_method(
    fake_api: FakeBotAPI, http: aiohttp.ClientSession, client: int
) -> None:
    """A missing required parameter is a 400; an unknown method is Telegram's 404."""
    status_missing, body_missing = await raw_call(
        http, fake_api, "sendMessage", json={"chat_id": client}
    )
    status_unknown, body_unknown = await raw_call(http, fake_api, "sendTelepathy", json={})

    assert status_missing == 400
    assert "text" in body_missing["description"]
    assert (status_unknown, body_unknown) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    assert "sendTelepathy: unknown_method" in violations_report(fake_api)
    kinds = [violation.kind for violation in fake_api.take_violations()]
    assert kinds == ["missing_parameter", "unknown_method"]


async def test_form_values_are_coerced(
    fake_api: FakeBotAPI, http: aiohttp.ClientSession, client: int
) -> None:
    """Urlencoded strings become integers, booleans and objects as the spec says."""
    markup = json.dumps({"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}]]})
    status, body = await raw_call(
        http,
        fake_api,
        "sendMessage",
        data={
            "chat_id": str(client),
            "text": "hi",
            "disable_notification": "true",
            "reply_markup": markup,
        },
    )

    assert status == 200
    assert body["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "yes"
    call = fake_api.sent("sendMessage")[0]
    assert call.params["chat_id"] == client
    assert call.params["disable_notification"] is True


async def test_aiogram_defaults_pass_the_validation(fake_api: FakeBotAPI, client: int) -> None:
    """A bot with the usual defaults (HTML, no link previews) sends only accepted parameters."""
    bot = make_bot(
        fake_api, default=DefaultBotProperties(parse_mode="HTML", link_preview_is_disabled=True)
    )
    try:
        await bot.send_message(client, 'See <a href="https://example.com">the docs</a>')
    finally:
        await bot.session.close()

    [seen] = fake_api.bot_messages(client)
    assert seen["entities"][0] == {
        "type": "text_link",
        "offset": 4,
        "length": 8,
        "url": "https://example.com",
    }
    assert fake_api.violations == []


# -- updates ------------------------------------------------------------------------------


async def test_long_poll_returns_an_update_injected_during_the_wait(
    fake_api: FakeBotAPI, fake_bot: Bot, client: int
) -> None:
    """getUpdates with a timeout waits and returns as soon as the client writes."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    poll = asyncio.create_task(fake_bot.get_updates(timeout=5))
    await fake_api.wait_for(lambda: fake_api.long_polls_waiting, description="a long poll")

    sent = fake_api.user_sends(client, "/start")
    updates = await poll

    assert loop.time() - started < 4
    [update] = updates
    assert update.message is not None
    assert update.message.text == "/start"
    assert update.message.message_id == sent["message_id"]
    assert update.message.entities is not None
    assert update.message.entities[0].type == "bot_command"
    assert await fake_bot.get_updates(offset=update.update_id + 1) == []


async def test_aiogram_polling_end_to_end(
    fake_api: FakeBotAPI, fake_bot: Bot, client: int
) -> None:
    """A Dispatcher polls the fake, handles a message and a button press."""
    dispatcher = Dispatcher()

    @dispatcher.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"You said: {message.text}", reply_markup=button("Done", "done"))

    @dispatcher.callback_query(F.data == "done")
    async def done(query: CallbackQuery) -> None:
        await query.answer("Thanks!")

    polling = asyncio.create_task(
        dispatcher.start_polling(fake_bot, handle_signals=False, close_bot_session=False)
    )
    try:
        fake_api.user_sends(client, "my printer is on fire")
        reply = await fake_api.wait_for_bot_message(client, contains="You said")
        query_id = fake_api.user_presses(client, client, reply["message_id"], button="Done")
        await fake_api.wait_for(lambda: fake_api.callback_answer(query_id))
    finally:
        await dispatcher.stop_polling()
        await polling

    assert reply["text"] == "You said: my printer is on fire"
    assert fake_api.callback_answer(query_id) == {"text": "Thanks!"}


async def test_webhook_delivery_with_secret_retries_and_conflict(
    fake_api: FakeBotAPI, fake_bot: Bot, client: int
) -> None:
    """Updates are POSTed with the secret header, retried after a failure; polling is a 409."""
    received: list[tuple[str | None, dict[str, Any]]] = []
    answers = [500, 200]

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(status=answers.pop(0) if answers else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        await fake_bot.set_webhook(f"http://{host}:{port}/hook", secret_token="s3cret")
        fake_api.user_sends(client, "hello")
        await fake_api.wait_for(lambda: len(received) == 2, description="two webhook POSTs")
        await fake_api.wait_updates_taken()
        with pytest.raises(TelegramConflictError):
            await fake_bot.get_updates()
        info = await fake_bot.get_webhook_info()
        await fake_bot.delete_webhook()
    finally:
        await runner.cleanup()

    assert [secret for secret, _ in received] == ["s3cret", "s3cret"]
    assert received[0][1] == received[1][1]
    assert received[1][1]["message"]["text"] == "hello"
    assert info.pending_update_count == 0
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"


async def test_aiogram_webhook_with_an_answer_in_the_response(
    fake_api: FakeBotAPI, fake_bot: Bot, client: int
) -> None:
    """aiogram's webhook handler gets updates; a method it returns in the answer is executed."""
    dispatcher = Dispatcher()

    @dispatcher.message(F.text)
    async def echo(message: Message) -> Any:
        return message.answer(f"Echo: {message.text}")

    app = web.Application()
    handler = SimpleRequestHandler(
        dispatcher, fake_bot, handle_in_background=False, secret_token="s3cret"
    )
    handler.register(app, path="/webhook")
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        await fake_bot.set_webhook(f"http://{host}:{port}/webhook", secret_token="s3cret")
        fake_api.user_sends(client, "ping")
        reply = await fake_api.wait_for_bot_message(client, contains="Echo")
    finally:
        await runner.cleanup()

    assert reply["text"] == "Echo: ping"
    [call] = fake_api.sent("sendMessage")
    assert call.via == "webhook-reply"


# -- Telegram's errors --------------------------------------------------------------------


async def test_blocked_user_gives_forbidden(
    fake_api: FakeBotAPI, fake_bot: Bot, client: int
) -> None:
    """After the client blocks the bot, sends fail with 403 and the bot learns it."""
    fake_api.block_bot(client)

    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await fake_bot.send_message(client, "are you there?")
    [update] = fake_api.pending_updates()
    assert update["my_chat_member"]["new_chat_member"]["status"] == "kicked"


async def test_fail_next_429_gives_retry_after(
    fake_api: FakeBotAPI, fake_bot: Bot, client: int
) -> None:
    """An injected flood error carries retry_after; the next call goes through."""
    fake_api.fail_next("sendMessage", 429, retry_after=7)

    with pytest.raises(TelegramRetryAfter) as caught:
        await fake_bot.send_message(client, "one")
    await fake_bot.send_message(client, "two")

    assert caught.value.retry_after == 7
    assert "Too Many Requests: retry after 7" in caught.value.message
    assert [message["text"] for message in fake_api.bot_messages(client)] == ["two"]


async def test_fault_for_one_chat_only(fake_api: FakeBotAPI, fake_bot: Bot, client: int) -> None:
    """A fault limited to a chat leaves other chats alone."""
    fake_api.fail_next("sendMessage", 403, chat_id=client)

    await fake_bot.send_message(STAFF_CHAT_ID, "staff first")
    with pytest.raises(TelegramForbiddenError):
        await fake_bot.send_message(client, "client")


async def test_network_faults(fake_api: FakeBotAPI, fake_bot: Bot, client: int) -> None:
    """A dropped connection, a 502 page, a 5xx period; a drop after processing still sends."""
    fake_api.drop_connection_next("sendMessage")
    with pytest.raises(TelegramNetworkError):
        await fake_bot.send_message(client, "lost")

    fake_api.drop_connection_next("sendMessage", after_processing=True)
    with pytest.raises(TelegramNetworkError):
        await fake_bot.send_message(client, "sent but unanswered")

    fake_api.set_server_error(500)
    with pytest.raises(TelegramServerError):
        await fake_bot.send_message(client, "down")
    fake_api.set_server_error(None)

    fake_api.drop_connection_next("getMe", mode="502")
    with pytest.raises(Exception, match="Failed to decode"):
        await fake_bot.get_me()

    assert [message["text"] for message in fake_api.bot_messages(client)] == [
        "sent but unanswered"
    ]


async def test_deleted_topic_gives_message_thread_not_found(
    fake_api: FakeBotAPI, fake_bot: Bot
) -> None:
    """Sending into a deleted (or never created) topic fails; its messages are gone."""
    topic = await fake_bot.create_forum_topic(STAFF_CHAT_ID, "Ticket #1 · Printer")
    thread = topic.message_thread_id
    await fake_bot.send_message(STAFF_CHAT_ID, "card", message_thread_id=thread)
    assert [m["text"] for m in fake_api.messages(STAFF_CHAT_ID, thread)] == ["card"]

    await fake_bot.delete_forum_topic(STAFF_CHAT_ID, thread)

    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await fake_bot.send_message(STAFF_CHAT_ID, "late", message_thread_id=thread)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await fake_bot.send_message(STAFF_CHAT_ID, "never", message_thread_id=9999)
    assert fake_api.messages(STAFF_CHAT_ID, thread) == []
    assert fake_api.topic(STAFF_CHAT_ID, thread)["deleted"] is True


async def test_topics_and_the_general_topic(fake_api: FakeBotAPI, fake_bot: Bot) -> None:
    """Topic messages carry the thread id; General has none; closing posts a service message."""
    topic = await fake_bot.create_forum_topic(STAFF_CHAT_ID, "Ticket #2")
    thread = topic.message_thread_id
    agent = fake_api.user_sends(ALICE_ID, "on it", chat_id=STAFF_CHAT_ID, thread_id=thread)
    await fake_bot.send_message(STAFF_CHAT_ID, "Escalation!")
    await fake_bot.close_forum_topic(STAFF_CHAT_ID, thread)

    assert agent["message_thread_id"] == thread
    assert agent["is_topic_message"] is True
    assert agent["reply_to_message"]["forum_topic_created"]["name"] == "Ticket #2"
    assert [m["text"] for m in fake_api.messages(STAFF_CHAT_ID, GENERAL)] == ["Escalation!"]
    assert fake_api.topic(STAFF_CHAT_ID, thread)["closed"] is True
    service = fake_api.messages(STAFF_CHAT_ID, thread, service=True)
    assert "forum_topic_closed" in service[-1]
    with pytest.raises(ValueError, match="closed"):
        fake_api.user_sends(BOB_ID, "can I?", chat_id=STAFF_CHAT_ID, thread_id=thread)


async def test_too_long_text_and_caption(fake_api: FakeBotAPI, fake_bot: Bot, client: int) -> None:
    """Limits count the text after entity parsing: 4096 for texts, 1024 for captions."""
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await fake_bot.send_message(client, "x" * 4097)
    await fake_bot.send_message(client, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    photo = BufferedInputFile(b"\xff\xd8jpeg", "photo.jpg")
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await fake_bot.send_photo(client, photo, caption="y" * 1025)

    [long_one] = fake_api.bot_messages(client)
    assert len(long_one["text"]) == 4096


async def test_html_must_be_valid(fake_api: FakeBotAPI, fake_bot: Bot, client: int) -> None:
    """Unclosed, unknown tags and unescaped characters are Telegram's "can't parse entities"."""
    for text in ("<b>unclosed", "<marquee>hi</marquee>", "a < b", "Tom & Jerry"):
        with pytest.raises(TelegramBadRequest, match="can't parse entities"):
            await fake_bot.send_message(client, text, parse_mode="HTML")
    assert fake_api.bot_messages(client) == []


async def test_button_data_and_edit_errors(
    fake_api: FakeBotAPI, fake_bot: Bot, client: int
) -> None:
    """BUTTON_DATA_INVALID, message is not modified, message to edit not found."""
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await fake_bot.send_message(client, "pick", reply_markup=button("Yes", "y" * 65))
    sent = await fake_bot.send_message(client, "pick", reply_markup=button("Yes", "yes"))

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await fake_bot.edit_message_text(
            "pick", chat_id=client, message_id=sent.message_id, reply_markup=button("Yes", "yes")
        )
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await fake_bot.edit_message_text("x", chat_id=client, message_id=999)
    await fake_bot.edit_message_text("picked", chat_id=client, message_id=sent.message_id)

    edited = fake_api.message(client, sent.message_id)
    assert edited is not None
    assert edited["text"] == "picked"
    assert "reply_markup" not in edited  # an edit without reply_markup removes the keyboard
    assert "edit_date" in edited


async def test_chat_errors_and_members(fake_api: FakeBotAPI, fake_bot: Bot, client: int) -> None:
    """Unknown chat, member statuses and the administrators list."""
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await fake_bot.send_message(424242, "anyone?")

    alice = await fake_bot.get_chat_member(STAFF_CHAT_ID, ALICE_ID)
    bob = await fake_bot.get_chat_member(STAFF_CHAT_ID, BOB_ID)
    stranger = await fake_bot.get_chat_member(STAFF_CHAT_ID, client)
    admins = await fake_bot.get_chat_administrators(STAFF_CHAT_ID)

    assert (alice.status, bob.status, stranger.status) == ("administrator", "member", "left")
    assert {admin.user.id for admin in admins} == {ALICE_ID, BOT_ID}


# -- copies, albums, files ----------------------------------------------------------------


async def test_copy_messages_keeps_album_grouping(
    fake_api: FakeBotAPI, fake_bot: Bot, client: int
) -> None:
    """An album copied with copyMessages stays an album; one copied item is a lone photo."""
    album = fake_api.user_sends_album(client, 3, caption="the broken part")
    topic = await fake_bot.create_forum_topic(STAFF_CHAT_ID, "Ticket #3")
    ids = [message["message_id"] for message in album]

    copied = await fake_bot.copy_messages(
        STAFF_CHAT_ID, client, ids, message_thread_id=topic.message_thread_id
    )
    single = await fake_bot.copy_message(STAFF_CHAT_ID, client, ids[1])

    copies = [fake_api.message(STAFF_CHAT_ID, item.message_id) for item in copied]
    groups = {copy_["media_group_id"] for copy_ in copies if copy_}
    assert len(copies) == 3
    assert len(groups) == 1
    assert groups != {album[0]["media_group_id"]}
    assert copies[0] is not None
    assert copies[0]["caption"] == "the broken part"
    assert copies[0]["photo"] == album[0]["photo"]
    assert copies[0]["message_thread_id"] == topic.message_thread_id
    lone = fake_api.message(STAFF_CHAT_ID, single.message_id)
    assert lone is not None
    assert "media_group_id" not in lone
    assert "photo" in lone


async def test_uploads_file_ids_and_downloads(
    fake_api: FakeBotAPI, fake_bot: Bot, client: int
) -> None:
    """An uploaded document gets a file_id that can be re-sent and downloaded."""
    sent = await fake_bot.send_document(
        client, BufferedInputFile(b"%PDF-1.7 report", "report.pdf"), caption="your report"
    )
    assert sent.document is not None
    again = await fake_bot.send_document(
        STAFF_CHAT_ID, sent.document.file_id, reply_parameters=None
    )
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await fake_bot.send_document(client, "no-such-file-id")
    downloaded = await fake_bot.download(sent.document.file_id)

    assert again.document is not None
    assert again.document.file_unique_id == sent.document.file_unique_id
    assert sent.document.file_name == "report.pdf"
    assert sent.document.mime_type == "application/pdf"
    assert downloaded is not None
    assert downloaded.read() == b"%PDF-1.7 report"


async def test_replies_in_a_forum_follow_the_topic(fake_api: FakeBotAPI, fake_bot: Bot) -> None:
    """A reply to a topic message lands in that topic."""
    topic = await fake_bot.create_forum_topic(STAFF_CHAT_ID, "Ticket #4")
    note = fake_api.user_sends(
        ALICE_ID, "internal", chat_id=STAFF_CHAT_ID, thread_id=topic.message_thread_id
    )

    reply = await fake_bot.send_message(
        STAFF_CHAT_ID, "noted", reply_parameters=ReplyParameters(message_id=note["message_id"])
    )

    assert reply.message_thread_id == topic.message_thread_id
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.message_id == note["message_id"]


# -- flood limits and waits ---------------------------------------------------------------


async def test_rate_limit_counting(fake_api: FakeBotAPI, fake_bot: Bot, client: int) -> None:
    """Two messages to one private chat within a (scaled) second are recorded."""
    fake_api.set_rate_limits(RateLimits(scale=10.0, mode="count"))

    await fake_bot.send_message(client, "one")
    await fake_bot.send_message(client, "two")
    await fake_bot.send_message(STAFF_CHAT_ID, "staff is not throttled per second")

    [violation] = fake_api.limit_violations
    assert (violation.kind, violation.chat_id, violation.method) == (
        "private_per_second",
        client,
        "sendMessage",
    )
    assert violation.window_seconds == 10.0


async def test_rate_limit_enforcing(fake_api: FakeBotAPI, fake_bot: Bot, client: int) -> None:
    """In "enforce" mode the second message in a second gets Telegram's 429."""
    fake_api.set_rate_limits(RateLimits(mode="enforce"))

    await fake_bot.send_message(client, "one")
    with pytest.raises(TelegramRetryAfter) as caught:
        await fake_bot.send_message(client, "two")

    assert caught.value.retry_after == 1
    assert len(fake_api.bot_messages(client)) == 1


async def test_waits_return_new_messages_and_explain_timeouts(
    fake_api: FakeBotAPI, fake_bot: Bot, client: int
) -> None:
    """Each wait returns a message no earlier wait returned; a timeout says what was awaited."""
    await fake_bot.send_message(client, "Ticket #1 created")
    await fake_bot.send_message(client, "Ticket #1: an agent replied")

    first = await fake_api.wait_for_bot_message(client, contains="Ticket #1")
    second = await fake_api.wait_for_bot_message(client, contains="Ticket #1")
    call = await fake_api.wait_for_call("sendMessage", lambda c: "replied" in c.params["text"])
    with pytest.raises(AssertionError, match="containing 'Ticket #1'") as caught:
        await fake_api.wait_for_bot_message(client, contains="Ticket #1", timeout=0.05)

    assert first["text"] == "Ticket #1 created"
    assert second["text"] == "Ticket #1: an agent replied"
    assert call.ok
    assert "sendMessage" in str(caught.value)


async def test_wrong_token_is_unauthorized(fake_api: FakeBotAPI) -> None:
    """A bot with another token gets 401 and the test learns it."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake_api.base_url))
    bot = Bot(TOKEN.replace("AAFake", "AAOther"), session=session)
    try:
        with pytest.raises(Exception, match="Unauthorized"):
            await bot.get_me()
    finally:
        await bot.session.close()
    assert [violation.kind for violation in fake_api.take_violations()] == ["unauthorized"]
