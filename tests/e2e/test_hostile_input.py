"""Hostile and unlucky input: forged buttons and numbers that are not ours get a calm answer,
no traceback in the bot's log, and no call Telegram refuses."""

from __future__ import annotations

import pytest

from handlers import intake
from playground.telegram.bot_api import FakeBotAPI
from tests.e2e.flows import (
    CLIENT,
    Opened,
    bot_says_in_topic,
    card_of,
    card_shows,
    card_text,
    in_topic,
    open_ticket,
    opened,
    press_on_card,
    received,
    to_the_subject,
)
from tests.e2e.harness import press
from tests.e2e.hostile import answered, forged_press, refused_calls, tracebacks
from tests.fakes.plugin import ALICE_ID, BOB_ID, STAFF_CHAT_ID

HUGE = "99999999999999999999"

GARBAGE = [
    "", " ", ":", "::", "\n", "tk", "tk:", "tk:take", "tk:take:", "tk:take:1", "tk:take:1::",
    "tk:take:1:x:y", "tk:take:abc:", "tk:take:-1:", "tk:take:0:", f"tk:take:{HUGE}:",
    "tk:take:²:", "tk:take:١٢:", "tk:take:1.5:", "tk:take:1e3:", "tk:take:0x1f:",
    "tk:take:1_000:", "tk:nope:1:", "tk:setprio:1:nosuch", "tk:rate:1:abc", "tk:rate:1:99",
    "tk:rate:1:", "tk::1:", "TK:TAKE:1:", "tk:take:1\n", "in:", "in:confirm",
    "in:confirm::zzz:extra", "in:nope::", "lang:", "lang:xx", "lang:en:extra", "lang:EN",
    "forget:", "forget:maybe", "forget:1:2", "\x00\x01\x02", "\x7f" * 10, "🔥", "🔥" * 16,
    "tk:🔥:1:", "tk:take:🔥:", "a" * 64, "9" * 64, "tk:take:" + "9" * 56, "%s%s%n",
    "{}", "null", "undefined", "None", "true", "'; DROP TABLE tickets;--",
    "../../etc/passwd", "<b>x</b>", "tk:take:1:" + "x" * 54, "in:new::" + "z" * 56,
    "lang:" + "ru" * 29,
]


async def test_every_garbage_or_forged_press_is_answered_as_out_of_date(
        fake_api: FakeBotAPI, desk, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    ticket = await opened(fake_api)
    card = fake_api.message(STAFF_CHAT_ID, ticket.card_id)
    private = fake_api.bot_messages(CLIENT)[-1]
    assert card is not None and len(GARBAGE) >= 60
    presses = [(forged_press(fake_api, user, message, data), data)
               for data in GARBAGE
               for user, message in ((ALICE_ID, card), (CLIENT, private))]
    answers = {query_id: await answered(fake_api, query_id) for query_id, _ in presses}
    assert not [answer for answer in answers.values()
                if "went wrong" in answer.get("text", "")]
    unknown = {data: answers[query_id].get("text") for query_id, data in presses
               if not data.startswith(("tk:", "in:", "lang:"))}
    assert set(unknown.values()) <= {"This button is out of date."}, unknown
    assert tracebacks(caplog) == []
    assert refused_calls(fake_api) == [], [c.params for c in fake_api.calls if c.error]


@pytest.mark.parametrize("typed", [HUGE, "²", "١٢", "0", "-3", "1e3", "#" + HUGE, "12abc"])
async def test_a_number_that_is_not_ours_is_no_such_request(
        fake_api: FakeBotAPI, desk, caplog: pytest.LogCaptureFixture,  # type: ignore[no-untyped-def]
        typed: str) -> None:
    ticket: Opened = await opened(fake_api)
    fake_api.user_sends(CLIENT, f"/ticket {typed}")
    await fake_api.wait_for_bot_message(CLIENT, contains="You have no request #")
    in_topic(fake_api, ticket, f"/link {typed}")
    await bot_says_in_topic(fake_api, ticket, "There is no other ticket #")
    in_topic(fake_api, ticket, f"/find {typed}")
    await bot_says_in_topic(fake_api, ticket,
                            "Nothing found." if len(typed) > 1 else "Usage: /find")
    fake_api.user_sends(CLIENT, f"#{typed.lstrip('#')} is it fixed?")
    await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="is it fixed?",
                                        thread_id=ticket.thread)
    card = fake_api.message(STAFF_CHAT_ID, ticket.card_id)
    assert card is not None
    answer = await answered(fake_api, forged_press(fake_api, ALICE_ID, card,
                                                    f"tk:take:{typed}:"))
    assert answer["text"] == "This button is out of date."
    assert tracebacks(caplog) == []
    assert refused_calls(fake_api) == [], [c.params for c in fake_api.calls if c.error]


OVERRIDES = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u200e\u200f\u061c"


async def test_bidi_controls_in_a_name_or_subject_do_not_flip_the_desk_s_text(
        fake_api: FakeBotAPI, desk, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    fake_api.add_user(CLIENT, "Eve\u202e lived", username="eve", language_code="en")
    number, thread = await open_ticket(fake_api, CLIENT, subject="\u202eLogin \u2066fails")
    topic = fake_api.topic(STAFF_CHAT_ID, thread)
    assert topic["name"] == f"🟠 #{number} · ACME · Login fails"
    card = (await card_of(fake_api, thread))["text"]
    assert "Client: Eve lived (@eve)" in card
    assert f"#{number} · Login fails" in card
    assert not set(card) & set(OVERRIDES)
    hebrew = "שגיאה בכניסה"
    number, thread = await open_ticket(fake_api, CLIENT, subject=hebrew + "\u202c")
    topic = fake_api.topic(STAFF_CHAT_ID, thread)
    assert topic["name"] == f"🟠 #{number} · ACME · \u2068{hebrew}\u2069"
    assert tracebacks(caplog) == []


@pytest.mark.parametrize("subject", ["\u200b\u200c\u200d", "\u3164\u3164", "\u115f \u1160",
                                     "\uffa0", "\u202e\u2066\u200f", " \u2060 \ufeff "])
async def test_a_subject_that_shows_nothing_is_asked_again(
        fake_api: FakeBotAPI, desk, subject: str) -> None:  # type: ignore[no-untyped-def]
    fake_api.add_user(CLIENT, "Carol", username="carol", language_code="en")
    await to_the_subject(fake_api, CLIENT)
    fake_api.user_sends(CLIENT, subject)
    await fake_api.wait_for_bot_message(CLIENT, contains="Please write the subject as text.")
    fake_api.user_sends(CLIENT, "Login fails")
    await fake_api.wait_for_bot_message(CLIENT, contains="press Done")


def deleted(api: FakeBotAPI, message: dict[str, object]) -> dict[str, object]:
    """The person deletes a message (in their chat) or an agent does (in the group)."""
    chat = api.world.chat_state(message["chat"]["id"])  # type: ignore[index]
    api.world.delete_message(chat, int(message["message_id"]))  # type: ignore[call-overload]
    return message


async def test_a_language_chosen_on_a_deleted_message_sticks(
        fake_api: FakeBotAPI, desk, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    fake_api.add_user(CLIENT, "Carol", username="carol", language_code="en")
    fake_api.user_sends(CLIENT, "/lang")
    choice = deleted(fake_api, await fake_api.wait_for_bot_message(CLIENT, contains="language"))
    answer = await answered(fake_api, forged_press(fake_api, CLIENT, choice, "lang:ru"))
    assert answer.get("text") == "✅"
    fake_api.user_sends(CLIENT, "/help")
    await fake_api.wait_for_bot_message(CLIENT, contains="/new — новое обращение")
    assert tracebacks(caplog) == []


async def test_stale_priority_presses_say_what_happened_to_the_ticket(
        fake_api: FakeBotAPI, desk, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    ticket = await opened(fake_api)
    press_on_card(fake_api, ticket, "Priority")
    picker = await bot_says_in_topic(fake_api, ticket, "New priority for")
    first = press(fake_api, ALICE_ID, picker, "Critical")
    assert (await answered(fake_api, first))["text"] == (
        f"Priority of #{ticket.number} is now Critical.")
    await fake_api.wait_for(lambda: fake_api.message(STAFF_CHAT_ID, picker["message_id"])
                            is None, description="the priority picker to go")
    again = forged_press(fake_api, ALICE_ID, picker, f"tk:setprio:{ticket.number}:critical")
    assert (await answered(fake_api, again))["text"] == (
        f"#{ticket.number} already has priority Critical.")
    other = forged_press(fake_api, ALICE_ID, picker, f"tk:setprio:{ticket.number}:low")
    assert (await answered(fake_api, other))["text"] == (
        f"Priority of #{ticket.number} is now Low.")
    await card_shows(fake_api, ticket, "Priority: Low")
    assert tracebacks(caplog) == []


async def test_keep_my_data_and_a_rating_on_deleted_messages_are_calm(
        fake_api: FakeBotAPI, desk, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    ticket = await opened(fake_api)
    fake_api.user_sends(CLIENT, "/forget")
    ask = deleted(fake_api, await fake_api.wait_for_bot_message(CLIENT, contains="Erase"))
    keep = await answered(fake_api, forged_press(fake_api, CLIENT, ask, "forget:0"))
    assert "went wrong" not in keep.get("text", "")
    in_topic(fake_api, ticket, "/close")
    rate = await fake_api.wait_for_bot_message(CLIENT, contains="rate our work")
    assert (await answered(fake_api, press(fake_api, CLIENT, rate, "5"))).get("text") == (
        "Thank you for the rating!")
    await bot_says_in_topic(fake_api, ticket, "rated")
    deleted(fake_api, rate)
    again = await answered(fake_api, forged_press(fake_api, CLIENT, rate,
                                                  f"tk:rate:{ticket.number}:4"))
    assert again.get("text") == "Thank you for the rating!"
    assert tracebacks(caplog) == []


def leaves_the_staff(api: FakeBotAPI, user_id: int) -> None:
    """A person is removed from the staff group; Telegram tells the bot (chat_member)."""
    chat = api.world.chat_state(STAFF_CHAT_ID)
    old = api.world.status(chat, user_id)
    api.set_member_status(STAFF_CHAT_ID, user_id, "left")
    user = api.world.user(user_id)
    api.world.queue_update("chat_member", {
        "chat": chat.as_chat(), "from": api.world.user(ALICE_ID), "date": api.world.now(),
        "old_chat_member": {"status": old, "user": user},
        "new_chat_member": {"status": "left", "user": user}})
    api._changed()


async def test_an_agent_removed_from_the_staff_can_no_longer_act(
        fake_api: FakeBotAPI, desk, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    ticket = await opened(fake_api)
    in_topic(fake_api, ticket, "/history", user=BOB_ID)  # Bob is on the staff: he may
    await bot_says_in_topic(fake_api, ticket, "History:")
    leaves_the_staff(fake_api, BOB_ID)
    card = fake_api.message(STAFF_CHAT_ID, ticket.card_id)
    assert card is not None
    take = await answered(fake_api, forged_press(fake_api, BOB_ID, card,
                                                 f"tk:take:{ticket.number}:"))
    assert take["text"] == ("You are no longer on the staff of this desk, so this was not "
                            "done.")
    assert "Assignee: —" in card_text(fake_api, ticket)
    press_on_card(fake_api, ticket, "Take")  # Alice still is
    await card_shows(fake_api, ticket, "Assignee: Alice")
    polls = fake_api.sent("getUpdates")
    assert "chat_member" in polls[-1].params["allowed_updates"]
    assert tracebacks(caplog) == []


ANONYMOUS_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group",
                   "username": "GroupAnonymousBot"}


def posted_anonymously(api: FakeBotAPI, ticket: Opened, text: str,
                       channel: dict[str, object] | None = None) -> None:
    """An administrator who 'remains anonymous' (or posts as a channel) writes in the topic."""
    chat = api.world.chat_state(STAFF_CHAT_ID)
    sender_chat = channel or chat.as_chat()
    sender = ANONYMOUS_ADMIN if channel is None else {
        "id": 136817688, "is_bot": True, "first_name": "Channel", "username": "Channel_Bot"}
    content: dict[str, object] = {"text": text}
    if text.startswith("/"):
        content["entities"] = [{"type": "bot_command", "offset": 0,
                                "length": len(text.split(maxsplit=1)[0])}]
    extra: dict[str, object] = {"sender_chat": sender_chat}
    if channel is None:
        extra["author_signature"] = "Alice"
    message = api.world.post(chat, sender, content, thread_id=ticket.thread, extra=extra)
    api.world.queue_update("message", message)
    api._changed()


async def test_anonymous_or_channel_posts_in_a_topic_are_not_lost_nor_act_as_group(
        fake_api: FakeBotAPI, desk, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    ticket = await opened(fake_api)
    posted_anonymously(fake_api, ticket, "We are looking into it")
    await bot_says_in_topic(fake_api, ticket, "Not delivered to the client")
    channel = {"id": -1002000000002, "type": "channel", "title": "Desk news"}
    posted_anonymously(fake_api, ticket, "Hello from the channel", channel=channel)
    notes = await fake_api.wait_for(
        lambda: len([m for m in fake_api.bot_messages(STAFF_CHAT_ID, ticket.thread)
                     if "Not delivered to the client" in m.get("text", "")]) == 2,
        description="both posts answered")
    assert notes
    posted_anonymously(fake_api, ticket, "/take")
    await bot_says_in_topic(fake_api, ticket, "Commands need a person")
    assert "Assignee: —" in card_text(fake_api, ticket)
    assert not [m for m in fake_api.bot_messages(CLIENT) if "looking into" in m.get("text", "")
                or "from the channel" in m.get("text", "")]
    assert tracebacks(caplog) == []


async def describing(api: FakeBotAPI, user: int) -> dict[str, object]:
    """A client's intake up to the description; return the description prompt."""
    api.add_user(user, "Carol", username="carol", language_code="en")
    await to_the_subject(api, user)
    api.user_sends(user, "Screens go blank")
    return await api.wait_for_bot_message(user, contains="press Done")


async def test_thirty_screenshots_in_three_albums_are_one_description_not_a_flood(
        fake_api: FakeBotAPI, desk, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    prompt = await describing(fake_api, CLIENT)
    for album in range(3):
        items = fake_api.user_sends_album(CLIENT, 10, caption=f"album {album}")
        await received(fake_api, items[-1])
    press(fake_api, CLIENT, prompt, "Done")
    summary = await fake_api.wait_for_bot_message(CLIENT, contains="Your request")
    press(fake_api, CLIENT, summary, "Confirm")
    await fake_api.wait_for_bot_message(CLIENT, contains="registered as #")
    # afterwards, three more albums as follow-ups: relayed whole, no "too fast"
    for _album in range(3):
        fake_api.user_sends_album(CLIENT, 10)
    await fake_api.wait_for(
        lambda: sum(1 for m in fake_api.bot_messages(STAFF_CHAT_ID) if "photo" in m) == 60,
        description="60 photos in the topic")
    assert not [m for m in fake_api.bot_messages(CLIENT) if "too fast" in m.get("text", "")]
    assert tracebacks(caplog) == []


async def test_a_full_description_says_how_many_messages_it_kept(
        fake_api: FakeBotAPI, desk, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(intake, "DESCRIPTION_PARTS", 3)
    await describing(fake_api, CLIENT)
    for number in range(5):
        fake_api.user_sends(CLIENT, f"step {number}")
    told = await fake_api.wait_for_bot_message(CLIENT, contains="The description is full")
    assert "keeps the first 3 messages" in told["text"]
    fake_api.user_sends(CLIENT, "/cancel")
    await fake_api.wait_for_bot_message(CLIENT, contains="Cancelled.")
    assert sum("The description is full" in m.get("text", "")
               for m in fake_api.bot_messages(CLIENT)) == 1
