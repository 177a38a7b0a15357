"""The two-way relay between a client's chat and the ticket's topic in the staff group."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from playground.telegram.bot_api import FakeBotAPI
from tests.e2e.flows import asked, open_ticket, received, to_the_subject, topic_of
from tests.e2e.harness import DeskFactory, MovableClock, RunningDesk, press
from tests.fakes.plugin import ALICE_ID, BOB_ID, STAFF_CHAT_ID, make_bot

CLIENT = 5001
OTHER_CLIENT = 5002
OTHER_GROUP = -1001000000099
PLAIN_STAFF_GROUP = -1001000000002


async def client_with_ticket(api: FakeBotAPI) -> int:
    """Carol with ticket #1001; return its topic's thread id (description delivered)."""
    api.add_user(CLIENT, "Carol", username="carol", language_code="en")
    _, thread = await open_ticket(api, CLIENT)
    await api.wait_for_bot_message(STAFF_CHAT_ID, contains="error 500", thread_id=thread)
    return thread


async def client_with_two_tickets(api: FakeBotAPI) -> tuple[int, int]:
    """Carol with #1001 "Login fails" and #1002 "Printer offline"; return their threads."""
    api.add_user(CLIENT, "Carol", username="carol", language_code="en")
    _, login = await open_ticket(api, CLIENT, subject="Login fails")
    _, printer = await open_ticket(api, CLIENT, subject="Printer offline")
    return login, printer


async def delete_topic(api: FakeBotAPI, thread: int) -> None:
    """A staff member deletes a topic (with all its messages)."""
    staff_bot = make_bot(api)
    try:
        await staff_bot.delete_forum_topic(STAFF_CHAT_ID, thread)
    finally:
        await staff_bot.session.close()


def texts_in(api: FakeBotAPI, chat: int, thread: int | None = None) -> list[str]:
    """The texts and captions of a chat (or topic) as people see them."""
    return [message.get("text", message.get("caption", ""))
            for message in api.messages(chat, thread)]


def albums(messages: list[dict[str, Any]]) -> dict[str, int]:
    """media_group_id → how many of the messages carry it."""
    found: dict[str, int] = {}
    for message in messages:
        if "media_group_id" in message:
            found[message["media_group_id"]] = found.get(message["media_group_id"], 0) + 1
    return found


# --- agent → client ------------------------------------------------------------------------

async def test_agent_reply_reaches_the_client_with_formatting_and_the_agents_name(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    thread = await client_with_ticket(fake_api)
    fake_api.user_sends(ALICE_ID, "Please restart the server", chat_id=STAFF_CHAT_ID,
                        thread_id=thread,
                        entities=[{"type": "bold", "offset": 7, "length": 7}])

    reply = await fake_api.wait_for_bot_message(CLIENT, contains="restart")
    assert reply["text"] == "Alice Agent:\nPlease restart the server"
    formats = {(entity["type"], reply["text"][entity["offset"]:entity["offset"]
                                              + entity["length"]])
               for entity in reply.get("entities", [])}
    assert ("bold", "Alice Agent") in formats and ("bold", "restart") in formats


async def test_agent_photo_reaches_the_client_with_its_caption(fake_api: FakeBotAPI,
                                                              desk: RunningDesk) -> None:
    thread = await client_with_ticket(fake_api)
    fake_api.user_sends(ALICE_ID, photo=True, caption="Press this button",
                        chat_id=STAFF_CHAT_ID, thread_id=thread)
    copy = await fake_api.wait_for_bot_message(CLIENT, contains="Press this button")
    assert "photo" in copy and "Alice Agent" in copy["caption"]


async def test_agent_editing_a_relayed_message_edits_the_clients_copy(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    thread = await client_with_ticket(fake_api)
    sent = fake_api.user_sends(ALICE_ID, "Restart the servre", chat_id=STAFF_CHAT_ID,
                               thread_id=thread)
    copy = await fake_api.wait_for_bot_message(CLIENT, contains="servre")

    fake_api.user_edits(ALICE_ID, STAFF_CHAT_ID, sent["message_id"], text="Restart the server")
    edited = await fake_api.wait_for(
        lambda: (found := fake_api.message(CLIENT, copy["message_id"]))
        and "edit_date" in found and found)
    assert edited["text"] == "Alice Agent:\nRestart the server"


async def test_agent_edit_made_before_the_copy_was_delivered_still_reaches_the_client(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    thread = await client_with_ticket(fake_api)
    fake_api.fail_next("sendMessage", 429, retry_after=1, chat_id=CLIENT)  # the outbox lags
    sent = fake_api.user_sends(ALICE_ID, "Restart the servre", chat_id=STAFF_CHAT_ID,
                               thread_id=thread)
    await fake_api.wait_for_call("sendMessage", lambda call: call.error is not None)
    fake_api.user_edits(ALICE_ID, STAFF_CHAT_ID, sent["message_id"], text="Restart the server")

    copy = await fake_api.wait_for_bot_message(CLIENT, contains="Restart")
    await fake_api.wait_for(
        lambda: fake_api.message(CLIENT, copy["message_id"])["text"]
        == "Alice Agent:\nRestart the server")


async def test_agent_album_reaches_the_client_as_one_album(fake_api: FakeBotAPI,
                                                          desk: RunningDesk) -> None:
    thread = await client_with_ticket(fake_api)
    fake_api.user_sends_album(ALICE_ID, 10, caption="Screens of the fix",
                              chat_id=STAFF_CHAT_ID, thread_id=thread)

    photos = await fake_api.wait_for(
        lambda: len(found := [m for m in fake_api.bot_messages(CLIENT) if "photo" in m]) == 10
        and found)
    assert len(albums(photos)) == 1
    assert len(fake_api.sent("copyMessages")) == 1
    assert photos[0]["caption"] == "Screens of the fix"
    before = [m for m in fake_api.bot_messages(CLIENT)
              if m["message_id"] < photos[0]["message_id"]]
    assert before[-1]["text"] == "Alice Agent:"  # the name goes just before the album


async def test_agent_notes_with_the_prefix_or_note_command_do_not_reach_the_client(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    thread = await client_with_ticket(fake_api)
    fake_api.user_sends(ALICE_ID, "// the client is on the old version", chat_id=STAFF_CHAT_ID,
                        thread_id=thread)
    fake_api.user_sends(ALICE_ID, "/note ask Bob about the licence", chat_id=STAFF_CHAT_ID,
                        thread_id=thread)
    fake_api.user_sends(ALICE_ID, "Which version do you use?", chat_id=STAFF_CHAT_ID,
                        thread_id=thread)

    await fake_api.wait_for_bot_message(CLIENT, contains="Which version")
    client_sees = "\n".join(texts_in(fake_api, CLIENT))
    assert "old version" not in client_sees and "licence" not in client_sees


async def test_agent_reply_to_a_client_who_blocked_the_bot_is_reported_in_the_topic(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    thread = await client_with_ticket(fake_api)
    fake_api.block_bot(CLIENT)
    fake_api.user_sends(BOB_ID, "Did the restart help?", chat_id=STAFF_CHAT_ID,
                        thread_id=thread)

    notice = await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="Not delivered",
                                                 thread_id=thread)
    assert "blocked the bot" in notice["text"]


async def test_agent_media_of_every_kind_reaches_the_client(fake_api: FakeBotAPI,
                                                            desk: RunningDesk) -> None:
    thread = await client_with_ticket(fake_api)
    for media in ({"document": "fix.patch"}, {"voice": True}, {"video": True},
                  {"sticker": True}):
        fake_api.user_sends(BOB_ID, chat_id=STAFF_CHAT_ID, thread_id=thread, **media)

    for kind in ("document", "voice", "video", "sticker"):
        await fake_api.wait_for_bot_message(CLIENT, predicate=lambda m, kind=kind: kind in m)
    names = [m for m in fake_api.bot_messages(CLIENT) if m.get("text") == "Bob Agent:"]
    assert len(names) == 1  # a sticker has no caption: the name goes in a message before


async def test_agent_reply_with_no_room_for_the_name_gets_it_in_a_message_before(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    thread = await client_with_ticket(fake_api)
    fake_api.user_sends(BOB_ID, "x" * 4090, chat_id=STAFF_CHAT_ID, thread_id=thread)

    assert (await fake_api.wait_for_bot_message(CLIENT, contains="Bob"))["text"] == "Bob Agent:"
    copy = await fake_api.wait_for_bot_message(CLIENT, contains="xxxx")
    assert copy["text"] == "x" * 4090


async def test_telegram_error_on_an_agent_reply_is_reported_in_the_topic(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    thread = await client_with_ticket(fake_api)
    fake_api.fail_next("sendMessage", 400, "Bad Request: something odd", chat_id=CLIENT)
    fake_api.user_sends(BOB_ID, "Try again now", chat_id=STAFF_CHAT_ID, thread_id=thread)

    notice = await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="Not delivered",
                                                 thread_id=thread)
    assert "something odd" in notice["text"]


# --- client → staff ------------------------------------------------------------------------

async def test_client_follow_up_goes_into_the_tickets_topic(fake_api: FakeBotAPI,
                                                          desk: RunningDesk) -> None:
    thread = await client_with_ticket(fake_api)
    fake_api.user_sends(CLIENT, "It also fails on my phone")
    await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="on my phone", thread_id=thread)


async def test_client_album_arrives_in_the_topic_as_one_album(fake_api: FakeBotAPI,
                                                             desk: RunningDesk) -> None:
    thread = await client_with_ticket(fake_api)
    fake_api.user_sends_album(CLIENT, 10, caption="All the error screens")

    photos = await fake_api.wait_for(
        lambda: len(found := [m for m in fake_api.bot_messages(STAFF_CHAT_ID, thread)
                              if "photo" in m]) == 10 and found)
    assert len(albums(photos)) == 1
    assert len(fake_api.sent("copyMessages")) == 1


async def test_description_of_every_kind_arrives_in_the_topic_in_order(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    fake_api.add_user(CLIENT, "Carol", language_code="en")
    await to_the_subject(fake_api, CLIENT)
    fake_api.user_sends(CLIENT, "Broken screens")
    prompt = await fake_api.wait_for_bot_message(CLIENT, contains="press Done")
    fake_api.user_sends(CLIENT, "See the screens")
    fake_api.user_sends_album(CLIENT, 4)
    fake_api.user_sends(CLIENT, document="server.log")
    fake_api.user_sends(CLIENT, voice=True)
    fake_api.user_sends(CLIENT, video=True, caption="how it happens")
    await received(fake_api, fake_api.user_sends(CLIENT, "That is all"))
    press(fake_api, CLIENT, prompt, "Done")
    press(fake_api, CLIENT, await fake_api.wait_for_bot_message(CLIENT, contains="Your request"),
          "Confirm")

    thread = await topic_of(fake_api, 1001)
    await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="That is all", thread_id=thread)
    in_topic = fake_api.bot_messages(STAFF_CHAT_ID, thread)[1:]  # after the card
    kinds = [next(key for key in ("text", "photo", "document", "voice", "video") if key in m)
             for m in in_topic]
    assert kinds == ["text", "photo", "photo", "photo", "photo", "document", "voice", "video",
                     "text"]
    assert list(albums(in_topic).values()) == [4]
    assert in_topic[7]["caption"] == "how it happens"


async def test_client_edit_is_shown_to_the_staff(fake_api: FakeBotAPI,
                                                 desk: RunningDesk) -> None:
    thread = await client_with_ticket(fake_api)
    sent = fake_api.user_sends(CLIENT, "The server is SRV-01")
    copy = await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="SRV-01",
                                               thread_id=thread)

    fake_api.user_edits(CLIENT, CLIENT, sent["message_id"], text="The server is SRV-02")
    edited = await fake_api.wait_for(
        lambda: (found := fake_api.message(STAFF_CHAT_ID, copy["message_id"]))
        and "SRV-02" in found["text"] and found)
    assert "edited by the client" in edited["text"]


async def test_client_edit_made_before_the_copy_was_delivered_is_still_shown(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    thread = await client_with_ticket(fake_api)
    fake_api.fail_next("copyMessage", 429, retry_after=1, chat_id=STAFF_CHAT_ID)
    sent = fake_api.user_sends(CLIENT, "The server is SRV-01")
    await fake_api.wait_for_call("copyMessage", lambda call: call.error is not None)
    fake_api.user_edits(CLIENT, CLIENT, sent["message_id"], text="The server is SRV-02")

    copy = await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="SRV-0", thread_id=thread)
    await fake_api.wait_for(
        lambda: "SRV-02" in fake_api.message(STAFF_CHAT_ID, copy["message_id"])["text"])


async def test_client_with_two_open_tickets_is_asked_which(fake_api: FakeBotAPI,
                                                           desk: RunningDesk) -> None:
    _, printer = await client_with_two_tickets(fake_api)

    fake_api.user_sends(CLIENT, "Any news?")
    question = await fake_api.wait_for_bot_message(CLIENT, contains="Which request")
    labels = [b["text"] for row in question["reply_markup"]["inline_keyboard"] for b in row]
    assert sorted(labels) == ["#1001 · Login fails", "#1002 · Printer offline"]
    press(fake_api, CLIENT, question, "#1002")
    await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="Any news?", thread_id=printer)


async def test_client_with_two_open_tickets_picks_one_by_its_number(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    _, printer = await client_with_two_tickets(fake_api)

    fake_api.user_sends(CLIENT, "#1002 it prints blank pages now")
    await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="blank pages", thread_id=printer)
    assert not any("Which request" in text for text in texts_in(fake_api, CLIENT))


async def test_client_with_two_open_tickets_picks_one_by_replying_to_an_agents_message(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    _, printer = await client_with_two_tickets(fake_api)
    fake_api.user_sends(ALICE_ID, "Which printer model?", chat_id=STAFF_CHAT_ID,
                        thread_id=printer)
    fake_api.user_sends(ALICE_ID, "And which driver?", chat_id=STAFF_CHAT_ID, thread_id=printer)
    question = await fake_api.wait_for_bot_message(CLIENT, contains="printer model")
    await fake_api.wait_for_bot_message(CLIENT, contains="driver")

    fake_api.user_sends(CLIENT, "HP LaserJet 1020", reply_to=question["message_id"])
    await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="LaserJet", thread_id=printer)
    assert not any("Which request" in text for text in texts_in(fake_api, CLIENT))


async def test_client_with_two_open_tickets_picks_one_by_replying_to_its_acknowledgement(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    login, _ = await client_with_two_tickets(fake_api)
    ack = next(m for m in fake_api.bot_messages(CLIENT) if "registered as #1001" in m["text"])

    fake_api.user_sends(CLIENT, "It works on my phone", reply_to=ack["message_id"])
    await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="on my phone", thread_id=login)
    assert not any("Which request" in text for text in texts_in(fake_api, CLIENT))


async def test_client_album_with_two_open_tickets_is_asked_about_once(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    _, printer = await client_with_two_tickets(fake_api)

    fake_api.user_sends_album(CLIENT, 3)
    question = await fake_api.wait_for_bot_message(CLIENT, contains="Which request")
    press(fake_api, CLIENT, question, "#1002")
    photos = await fake_api.wait_for(
        lambda: len(found := [m for m in fake_api.bot_messages(STAFF_CHAT_ID, printer)
                              if "photo" in m]) == 3 and found)
    assert len(albums(photos)) == 1
    # asked once; the question, answered, now says where the album went
    await fake_api.wait_for(lambda: (fake_api.message(CLIENT, question["message_id"]) or {})
                            .get("text") == "Sent to #1002.", description="the answer shown")
    assert not any("Which request" in text for text in texts_in(fake_api, CLIENT))


async def test_client_writing_the_number_of_someone_elses_ticket_learns_nothing(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    thread = await client_with_ticket(fake_api)
    fake_api.add_user(OTHER_CLIENT, "Mallory", language_code="en")

    fake_api.user_sends(OTHER_CLIENT, "#1001 what is this about?")
    someone_elses = await fake_api.wait_for_bot_message(OTHER_CLIENT, contains="#1001")
    fake_api.user_sends(OTHER_CLIENT, "#9999 what is this about?")
    nonexistent = await fake_api.wait_for_bot_message(OTHER_CLIENT, contains="#9999")
    assert someone_elses["text"].replace("1001", "N") == nonexistent["text"].replace("9999", "N")
    fake_api.user_sends(OTHER_CLIENT, "/ticket 1001")
    by_command = await fake_api.wait_for_bot_message(OTHER_CLIENT, contains="1001")
    fake_api.user_sends(OTHER_CLIENT, "/ticket 9999")
    by_command_nonexistent = await fake_api.wait_for_bot_message(OTHER_CLIENT, contains="9999")
    assert (by_command["text"].replace("1001", "N")
            == by_command_nonexistent["text"].replace("9999", "N"))
    assert not any("what is this about" in text for text in texts_in(fake_api, STAFF_CHAT_ID,
                                                                      thread))


# --- the staff group -----------------------------------------------------------------------

async def test_deleted_topic_is_opened_again_for_the_next_client_message(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    old = await client_with_ticket(fake_api)
    await delete_topic(fake_api, old)

    fake_api.user_sends(CLIENT, "Still broken")
    new = await topic_of(fake_api, 1001)
    assert new != old
    assert fake_api.topic(STAFF_CHAT_ID, new)["name"] == "🟠 #1001 · ACME · Login fails"
    card = await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="#1001", thread_id=new)
    assert "Carol" in card["text"] and "reply_markup" in card
    await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="Still broken", thread_id=new)

    fake_api.user_sends(ALICE_ID, "Looking at it", chat_id=STAFF_CHAT_ID, thread_id=new)
    await fake_api.wait_for_bot_message(CLIENT, contains="Looking at it")


async def test_deleted_topic_is_opened_again_for_a_notice_to_the_staff(
        fake_api: FakeBotAPI, desk: RunningDesk, clock: MovableClock) -> None:
    fake_api.add_user(CLIENT, "Carol", language_code="en")
    _, old = await open_ticket(fake_api, CLIENT, contract="C-200")  # premium: 1 h, 24×7
    await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="error 500", thread_id=old)
    await delete_topic(fake_api, old)

    clock.advance(timedelta(minutes=50))  # past 80 % of the first response target
    new = await topic_of(fake_api, 1001)
    await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="SLA warning", thread_id=new)


async def test_messages_in_another_group_are_ignored(fake_api: FakeBotAPI,
                                                     desk: RunningDesk) -> None:
    thread = await client_with_ticket(fake_api)
    fake_api.add_group(OTHER_GROUP, "Chit-chat", is_forum=False, member_ids=[BOB_ID, CLIENT])
    for text in ("/start", "/new", "#1001 hello", "/take", "hello everyone"):
        fake_api.user_sends(BOB_ID, text, chat_id=OTHER_GROUP)
    fake_api.user_sends(CLIENT, "/help", chat_id=OTHER_GROUP)
    fake_api.user_sends(ALICE_ID, "Checking", chat_id=STAFF_CHAT_ID, thread_id=thread)

    await fake_api.wait_for_bot_message(CLIENT, contains="Checking")
    await fake_api.wait_updates_taken()
    assert fake_api.bot_messages(OTHER_GROUP) == []
    assert not any("hello" in text for text in texts_in(fake_api, CLIENT))
    assert not any("hello" in text for text in texts_in(fake_api, STAFF_CHAT_ID, thread))


async def file_ticket(api: FakeBotAPI, user: int, subject: str) -> None:
    """A whole intake with contract C-100, for a desk whose staff group has no topics
    (`flows.open_ticket` waits for a topic)."""
    api.user_sends(user, "/new")
    question = await api.wait_for_bot_message(user, contains="contract")
    if "Is this request about contract" in question["text"]:
        press(api, user, question, "Yes")
    else:
        api.user_sends(user, "C-100")
    press(api, user, await asked(api, user, "What kind"), "Failure")
    press(api, user, await asked(api, user, "How urgent"), "High")
    await api.wait_for_bot_message(user, contains="subject")
    api.user_sends(user, subject)
    prompt = await api.wait_for_bot_message(user, contains="press Done")
    await received(api, api.user_sends(user, f"Details of {subject}"))
    press(api, user, prompt, "Done")
    press(api, user, await api.wait_for_bot_message(user, contains="Your request"), "Confirm")
    await api.wait_for_bot_message(user, contains="registered as #")


async def test_staff_group_without_topics_gets_one_card_per_ticket_and_replies_to_it(
        fake_api: FakeBotAPI, make_desk: DeskFactory) -> None:
    fake_api.add_group(PLAIN_STAFF_GROUP, "Support (no topics)", is_forum=False,
                       member_ids=[BOB_ID], admin_ids=[ALICE_ID])
    await make_desk(staff_chat_id=PLAIN_STAFF_GROUP)
    fake_api.add_user(CLIENT, "Carol", language_code="en")
    await file_ticket(fake_api, CLIENT, subject="Login fails")
    await file_ticket(fake_api, CLIENT, subject="Printer offline")

    first = await fake_api.wait_for_bot_message(PLAIN_STAFF_GROUP, contains="#1001")
    second = await fake_api.wait_for_bot_message(PLAIN_STAFF_GROUP, contains="#1002")
    cards = [m for m in fake_api.bot_messages(PLAIN_STAFF_GROUP) if "reply_markup" in m]
    assert [card["message_id"] for card in cards] == [first["message_id"],
                                                      second["message_id"]]
    description = await fake_api.wait_for_bot_message(PLAIN_STAFF_GROUP,
                                                      contains="Details of Login fails")
    assert description["reply_to_message"]["message_id"] == first["message_id"]

    fake_api.user_sends(BOB_ID, "Which printer model?", chat_id=PLAIN_STAFF_GROUP,
                        reply_to=second["message_id"])
    fake_api.user_sends(BOB_ID, "And which driver?", chat_id=PLAIN_STAFF_GROUP,
                        reply_to=second["message_id"])
    question = await fake_api.wait_for_bot_message(CLIENT, contains="printer model")
    await fake_api.wait_for_bot_message(CLIENT, contains="driver")
    fake_api.user_sends(CLIENT, "HP LaserJet 1020", reply_to=question["message_id"])
    answer = await fake_api.wait_for_bot_message(PLAIN_STAFF_GROUP, contains="LaserJet")
    assert answer["reply_to_message"]["message_id"] == second["message_id"]
    assert fake_api.sent("createForumTopic") == []


async def test_a_reply_to_a_card_not_yet_on_record_still_reaches_the_client(
        fake_api: FakeBotAPI, make_desk: DeskFactory) -> None:
    """An agent quick enough answers the card before its message id is stored: the card's
    buttons name the ticket, so the answer is not lost."""
    fake_api.add_group(PLAIN_STAFF_GROUP, "Support (no topics)", is_forum=False,
                       member_ids=[BOB_ID], admin_ids=[ALICE_ID])
    desk = await make_desk(staff_chat_id=PLAIN_STAFF_GROUP)
    fake_api.add_user(CLIENT, "Carol", language_code="en")
    await file_ticket(fake_api, CLIENT, subject="Printer offline")
    card = await fake_api.wait_for_bot_message(PLAIN_STAFF_GROUP, contains="#1001")
    assert desk.app is not None
    # the moment before the card's id is stored (once the sender has recorded the card, which
    # it does just after Telegram answered: it runs in a thread of the database's)
    for _ in range(200):
        async with desk.app.uow_factory() as uow:
            try:
                await uow.topics.update(1001, card_message_id=None)
            except LookupError:
                await asyncio.sleep(0.01)
                continue
            await uow.commit()
            break

    fake_api.user_sends(BOB_ID, "Which printer model?", chat_id=PLAIN_STAFF_GROUP,
                        reply_to=card["message_id"])
    await fake_api.wait_for_bot_message(CLIENT, contains="printer model")
