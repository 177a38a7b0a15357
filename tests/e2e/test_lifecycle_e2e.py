"""The ticket's lifecycle as the client and the staff live it: resolve, confirm, rate, auto-close,
reopen, credentials, /my and /ticket, and asking the supervisor."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from domain.policy import default_policy
from playground.telegram.bot_api import FakeBotAPI
from playground.telegram.bot_api_world import GENERAL
from storage.models import RatingRow
from tests.e2e.flows import (
    CLIENT,
    OTHER_CLIENT,
    Opened,
    answer_to,
    bot_says_in_topic,
    card_of,
    card_shows,
    card_text,
    in_topic,
    open_ticket,
    opened,
    press_on_card,
    topic_closed,
    topic_of,
)
from tests.e2e.harness import DeskFactory, MovableClock, RunningDesk, press, test_policy
from tests.fakes.plugin import ALICE_ID, BOB_ID, STAFF_CHAT_ID

DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)


async def resolved_question(api: FakeBotAPI, ticket: Opened) -> dict[str, Any]:
    """An agent takes and resolves the ticket; return the question the client gets."""
    press_on_card(api, ticket, "Take")
    await card_shows(api, ticket, "Status: In progress")
    press_on_card(api, ticket, "Resolved")
    return await api.wait_for_bot_message(CLIENT, contains="Does everything work now?")


async def closed_and_rated_prompt(api: FakeBotAPI, ticket: Opened) -> dict[str, Any]:
    """Resolved, the client says yes; return the closing notice with the rating buttons."""
    question = await resolved_question(api, ticket)
    press(api, CLIENT, question, "Yes, solved")
    return await api.wait_for_bot_message(CLIENT, contains=f"#{ticket.number} is closed")


async def status_after_a_tick(desk: RunningDesk, ticket: Opened) -> str:
    """Fire whatever timer is due now, then read the ticket's status from the database."""
    assert desk.app is not None
    await desk.app.scheduler.tick()  # a due timer the running scheduler claimed is done too
    async with desk.app.uow_factory() as uow:
        found = await uow.tickets.get(ticket.number)
    assert found is not None
    return found.status.value


def labels(message: dict[str, Any]) -> list[str]:
    """The labels of a message's inline buttons."""
    return [button["text"] for row in message.get("reply_markup", {}).get("inline_keyboard", [])
            for button in row]


# --- resolved → confirmed, rating --------------------------------------------------------------


async def test_client_confirms_the_fix_the_ticket_closes_and_a_top_rating_is_shown(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    ticket = await opened(fake_api)
    question = await resolved_question(fake_api, ticket)
    assert "Login fails" in question["text"]
    assert labels(question) == ["👍 Yes, solved", "👎 No, still a problem"]

    answer = await answer_to(fake_api, press(fake_api, CLIENT, question, "Yes, solved"))

    assert answer["text"] == "Thank you!"
    notice = await fake_api.wait_for_bot_message(CLIENT, contains=f"#{ticket.number} is closed")
    assert "rate our work from 1 to 5" in notice["text"]
    assert "Passwords" not in notice["text"]
    assert [label.split()[0] for label in labels(notice)] == ["1", "2", "3", "4", "5"]
    await card_shows(fake_api, ticket, "Status: Closed")
    await topic_closed(fake_api, ticket)
    assert "reply_markup" not in (fake_api.message(CLIENT, question["message_id"]) or {})

    answer = await answer_to(fake_api, press(fake_api, CLIENT, notice, "5"))
    assert answer["text"] == "Thank you for the rating!"
    rated = await bot_says_in_topic(fake_api, ticket, "rated")
    assert rated["text"] == f"⭐ The client rated #{ticket.number}: 5/5"
    assert not [m for m in fake_api.bot_messages(CLIENT) if "What went wrong" in m["text"]]


async def test_low_rating_asks_for_a_comment_shown_in_the_topic_and_counted_for_the_assignee(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    ticket = await opened(fake_api)
    notice = await closed_and_rated_prompt(fake_api, ticket)

    press(fake_api, CLIENT, notice, "2")
    question = await fake_api.wait_for_bot_message(CLIENT, contains="What went wrong?")
    assert fake_api.message(CLIENT, notice["message_id"])["text"].endswith(
        "Your rating: ★★☆☆☆")  # the prompt shows the answer
    fake_api.user_sends(CLIENT, "Took <three> days & two calls")
    await fake_api.wait_for_bot_message(CLIENT, contains="take it into account")
    await fake_api.wait_for(lambda: "reply_markup" not in fake_api.message(
        CLIENT, question["message_id"]), description="the No comment button gone")

    comment = await bot_says_in_topic(fake_api, ticket, "💬")
    assert comment["text"] == (f"⭐ The client rated #{ticket.number}: 2/5\n"
                               "💬 Took <three> days & two calls")

    assert desk.app is not None
    async with desk.app.uow_factory() as uow:
        row = (await uow.session.execute(select(RatingRow))).scalar_one()
    assert (row.score, row.comment, row.agent_id) == (2, "Took <three> days & two calls",
                                                      ALICE_ID)
    assert fake_api.message(CLIENT, notice["message_id"]).get("reply_markup") is None
    await desk.stop()  # everything delivered: the rating was posted once, with its comment
    assert [m["text"] for m in fake_api.bot_messages(STAFF_CHAT_ID, ticket.thread)
            if "rated #" in m.get("text", "")] == [comment["text"]]


async def test_rating_comment_can_be_skipped_with_cancel(fake_api: FakeBotAPI,
                                                         desk: RunningDesk) -> None:
    ticket = await opened(fake_api)
    notice = await closed_and_rated_prompt(fake_api, ticket)
    press(fake_api, CLIENT, notice, "1")
    await fake_api.wait_for_bot_message(CLIENT, contains="What went wrong?")
    fake_api.user_sends(CLIENT, "/cancel")
    await fake_api.wait_for_bot_message(CLIENT, contains="no comment")
    fake_api.user_sends(CLIENT, "/my")
    listed = await fake_api.wait_for_bot_message(CLIENT, contains="Your requests")
    assert f"#{ticket.number} · Login fails — Completed" in listed["text"]
    rated = await bot_says_in_topic(fake_api, ticket, "rated #")
    assert rated["text"] == f"⭐ The client rated #{ticket.number}: 1/5"  # without a comment


async def test_client_says_still_a_problem_and_the_ticket_is_reopened(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    ticket = await opened(fake_api)
    question = await resolved_question(fake_api, ticket)

    answer = await answer_to(fake_api, press(fake_api, CLIENT, question, "still a problem"))

    assert answer["text"] == "We are on it again."
    await card_shows(fake_api, ticket, "Status: Reopened")
    await bot_says_in_topic(fake_api, ticket, f"ticket #{ticket.number} is reopened")
    await fake_api.wait_for(lambda: fake_api.topic(STAFF_CHAT_ID, ticket.thread)[
        "name"].startswith("🟠"), description="the topic named by its priority again")
    assert not fake_api.topic(STAFF_CHAT_ID, ticket.thread)["closed"]
    in_topic(fake_api, ticket, "Let me look again")
    await fake_api.wait_for_bot_message(CLIENT, contains="Let me look again")
    await card_shows(fake_api, ticket, "Status: In progress")


# --- the automatic moves -----------------------------------------------------------------------


async def test_first_agent_reply_starts_the_work_and_a_client_answer_ends_the_wait(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    ticket = await opened(fake_api)
    in_topic(fake_api, ticket, "Which browser do you use?", user=BOB_ID)
    await fake_api.wait_for_bot_message(CLIENT, contains="Which browser")
    await card_shows(fake_api, ticket, "Status: In progress", "First response due: ✅")

    press_on_card(fake_api, ticket, "Waiting for client")
    await card_shows(fake_api, ticket, "Status: Waiting for client")
    asked = await fake_api.wait_for_bot_message(CLIENT, contains="We need your answer")
    assert f"request #{ticket.number} (Login fails)" in asked["text"]  # the client is told
    fake_api.user_sends(CLIENT, "Firefox 140")
    await bot_says_in_topic(fake_api, ticket, "Firefox 140")
    await card_shows(fake_api, ticket, "Status: In progress")

    in_topic(fake_api, ticket, "/history")
    history = (await bot_says_in_topic(fake_api, ticket, "History:"))["text"]
    assert "Bob Agent took it" in history  # the first agent who answers has the ticket
    assert "Bob Agent gave the first response" in history
    assert "Alice Agent: waiting for the client" in history
    assert "Carol: back in progress" in history
    await card_shows(fake_api, ticket, "Assignee: Bob Agent")


async def test_waiting_ticket_gets_a_reminder_after_3_days_and_closes_after_6_across_restart(
        fake_api: FakeBotAPI, desk: RunningDesk, clock: MovableClock) -> None:
    ticket = await opened(fake_api)
    press_on_card(fake_api, ticket, "Waiting for client")
    await card_shows(fake_api, ticket, "Status: Waiting for client")

    clock.advance(3 * DAY + MINUTE)
    reminder = await fake_api.wait_for_bot_message(CLIENT, contains="waiting for your answer")
    assert f"request #{ticket.number} (Login fails)" in reminder["text"]
    assert "closed in 3 days" in reminder["text"]
    assert "Status: Waiting for client" in card_text(fake_api, ticket)

    await desk.restart()
    clock.advance(3 * DAY)

    notice = await fake_api.wait_for_bot_message(CLIENT, contains="there was no answer")
    assert f"Request #{ticket.number} is closed" in notice["text"]
    assert "rate our work" in notice["text"]
    await card_shows(fake_api, ticket, "Status: Closed")
    await topic_closed(fake_api, ticket)
    reminders = [m for m in fake_api.bot_messages(CLIENT)
                 if "waiting for your answer" in m["text"]]
    assert len(reminders) == 1


async def test_a_client_message_moves_the_auto_close_on(fake_api: FakeBotAPI,
                                                        desk: RunningDesk,
                                                        clock: MovableClock) -> None:
    ticket = await opened(fake_api)
    question = await resolved_question(fake_api, ticket)
    clock.advance(3 * DAY + MINUTE)
    await fake_api.wait_for_bot_message(CLIENT, contains="waiting for your answer")

    clock.advance(2 * DAY)
    fake_api.user_sends(CLIENT, "Still checking, give me a day")
    await bot_says_in_topic(fake_api, ticket, "Still checking")
    clock.advance(2 * DAY)  # 7 days after the resolve, 2 after the client wrote

    assert await status_after_a_tick(desk, ticket) == "resolved"
    clock.advance(4 * DAY + MINUTE)  # 3 days of quiet after the client wrote: reminder, then 6
    await fake_api.wait_for_bot_message(CLIENT, contains="waiting for your answer")
    clock.advance(3 * DAY)
    await fake_api.wait_for_bot_message(CLIENT, contains="there was no answer")
    await card_shows(fake_api, ticket, "Status: Closed")
    assert question["reply_markup"]  # the client never answered


# --- reopen -------------------------------------------------------------------------------------


async def test_client_writing_with_the_number_reopens_a_closed_ticket(
        fake_api: FakeBotAPI, desk: RunningDesk, clock: MovableClock) -> None:
    ticket = await opened(fake_api)
    press_on_card(fake_api, ticket, "Close")
    await topic_closed(fake_api, ticket)
    await fake_api.wait_for_bot_message(CLIENT, contains="is closed")
    clock.advance(6 * DAY)

    fake_api.user_sends(CLIENT, f"#{ticket.number} it fails again")

    await bot_says_in_topic(fake_api, ticket, f"ticket #{ticket.number} is reopened")
    copy = await bot_says_in_topic(fake_api, ticket, "it fails again")
    assert copy["text"] == f"#{ticket.number} it fails again"
    await topic_closed(fake_api, ticket, closed=False)
    await card_shows(fake_api, ticket, "Status: Reopened")
    await fake_api.wait_for(lambda: fake_api.topic(STAFF_CHAT_ID, ticket.thread)[
        "name"].startswith("🟠"), description="the topic named by its priority again")


async def test_client_replying_to_a_message_of_a_closed_ticket_reopens_it(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    ticket = await opened(fake_api)
    in_topic(fake_api, ticket, "Clear the cache, please")
    reply = await fake_api.wait_for_bot_message(CLIENT, contains="Clear the cache")
    press_on_card(fake_api, ticket, "Close")
    await topic_closed(fake_api, ticket)

    fake_api.user_sends(CLIENT, "Did not help", reply_to=reply["message_id"])

    await bot_says_in_topic(fake_api, ticket, "is reopened")
    await bot_says_in_topic(fake_api, ticket, "Did not help")
    await card_shows(fake_api, ticket, "Status: Reopened")


async def test_client_replying_to_the_closing_notice_reopens_the_ticket(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    ticket = await opened(fake_api)
    press_on_card(fake_api, ticket, "Close")
    notice = await fake_api.wait_for_bot_message(CLIENT, contains="is closed")

    fake_api.user_sends(CLIENT, "Wait, it is not fixed", reply_to=notice["message_id"])

    await bot_says_in_topic(fake_api, ticket, "is reopened")
    await bot_says_in_topic(fake_api, ticket, "it is not fixed")
    await topic_closed(fake_api, ticket, closed=False)


async def test_still_a_problem_after_the_auto_close_reopens_within_the_window(
        fake_api: FakeBotAPI, desk: RunningDesk, clock: MovableClock) -> None:
    ticket = await opened(fake_api)
    question = await resolved_question(fake_api, ticket)
    clock.advance(6 * DAY + MINUTE)
    await fake_api.wait_for_bot_message(CLIENT, contains="there was no answer")
    await topic_closed(fake_api, ticket)

    answer = await answer_to(fake_api, press(fake_api, CLIENT, question, "still a problem"))

    assert answer["text"] == "We are on it again."
    await card_shows(fake_api, ticket, "Status: Reopened")
    await bot_says_in_topic(fake_api, ticket, "is reopened")
    await topic_closed(fake_api, ticket, closed=False)


async def test_still_a_problem_long_after_the_auto_close_opens_a_new_ticket(
        fake_api: FakeBotAPI, desk: RunningDesk, clock: MovableClock) -> None:
    ticket = await opened(fake_api)
    question = await resolved_question(fake_api, ticket)
    clock.advance(6 * DAY + MINUTE)
    await fake_api.wait_for_bot_message(CLIENT, contains="there was no answer")
    clock.advance(8 * DAY)

    answer = await answer_to(fake_api, press(fake_api, CLIENT, question, "still a problem"))

    new = ticket.number + 1
    assert answer["text"] == (f"Request #{ticket.number} was closed too long ago, so request "
                              f"#{new} is opened for it.")
    await fake_api.wait_for_bot_message(CLIENT, contains=f"registered as #{new}")
    thread = await topic_of(fake_api, new)
    await fake_api.wait_for(lambda: f"Follows ticket #{ticket.number}" in (
        fake_api.bot_messages(STAFF_CHAT_ID, thread) or [{}])[0].get("text", ""),
        description="the new card to name the old ticket")
    await card_shows(fake_api, ticket, "Status: Closed")


async def test_outside_the_reopen_window_a_new_ticket_names_the_old_one(
        fake_api: FakeBotAPI, desk: RunningDesk, clock: MovableClock) -> None:
    ticket = await opened(fake_api)
    press_on_card(fake_api, ticket, "Close")
    await fake_api.wait_for_bot_message(CLIENT, contains="is closed")
    await topic_closed(fake_api, ticket)
    clock.advance(8 * DAY)

    fake_api.user_sends(CLIENT, f"#{ticket.number} the same again")

    told = await fake_api.wait_for_bot_message(CLIENT, contains="closed too long ago")
    new = ticket.number + 1
    assert told["text"] == (f"Request #{ticket.number} was closed too long ago, so this "
                            f"message opened request #{new}.")
    await fake_api.wait_for_bot_message(CLIENT, contains=f"registered as #{new}")
    topic = await fake_api.wait_for(lambda: next(
        (t for t in fake_api.topics(STAFF_CHAT_ID) if f"#{new} " in t["name"]), None))
    assert topic["name"] == f"🟠 #{new} · ACME · Login fails"
    card = await card_of(fake_api, topic["thread_id"])
    await fake_api.wait_for(lambda: f"Follows ticket #{ticket.number}" in (
        fake_api.message(STAFF_CHAT_ID, card["message_id"]) or {}).get("text", ""),
        description="the new card to name the old ticket")
    await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="the same again",
                                        thread_id=topic["thread_id"])
    assert fake_api.topic(STAFF_CHAT_ID, ticket.thread)["closed"]
    assert "Status: Closed" in card_text(fake_api, ticket)


# --- credentials --------------------------------------------------------------------------------


async def test_closing_notice_reminds_to_change_access_data_seen_in_the_conversation(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    follow_up = await opened(fake_api, subject="Follow-up")
    fake_api.user_sends(CLIENT, "You can log in as admin, password: Hunter2!")
    await bot_says_in_topic(fake_api, follow_up, "Hunter2")
    number, _ = await open_ticket(fake_api, CLIENT, subject="Description",
                                  description="Server is https://admin:s3cret@erp.example.com")
    description = Opened(number, await topic_of(fake_api, number), 0)
    agent_reply = await opened(fake_api, subject="Agent reply")
    in_topic(fake_api, agent_reply, "Your temporary password: Xy7-31qa, change it at login")
    await fake_api.wait_for_bot_message(CLIENT, contains="temporary password")
    plain = await opened(fake_api, subject="Plain")

    for ticket in (follow_up, description, agent_reply, plain):
        in_topic(fake_api, ticket, "/close")
        notice = await fake_api.wait_for_bot_message(CLIENT, contains=f"#{ticket.number} is "
                                                                      "closed")
        reminded = ("🔐 Passwords or access data were shared in this conversation; please "
                    "change them now.") in notice["text"]
        assert reminded is (ticket is not plain), notice["text"]


# --- the client's view -------------------------------------------------------------------------


async def test_my_lists_the_clients_tickets_and_ticket_shows_one_of_them(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    first = await opened(fake_api, subject="Login fails")
    second = await opened(fake_api, subject="Export <csv> broken")
    other = await opened(fake_api, OTHER_CLIENT, subject="Not Carol's", contract="C-200")
    press_on_card(fake_api, first, "Close")
    await card_shows(fake_api, first, "Status: Closed")

    fake_api.user_sends(CLIENT, "/my")
    listed = await fake_api.wait_for_bot_message(CLIENT, contains="Your requests")
    assert f"#{first.number} · Login fails — Completed" in listed["text"]
    assert f"#{second.number} · Export <csv> broken — Registered" in listed["text"]
    assert f"#{other.number}" not in listed["text"]

    fake_api.user_sends(CLIENT, f"/ticket {second.number}")
    shown = await fake_api.wait_for_bot_message(CLIENT, contains="Status:")
    assert shown["text"].splitlines() == [f"#{second.number} · Export <csv> broken",
                                          "Status: Registered", "Priority: High"]
    assert labels(shown) == []  # "Ask supervisor" only when it makes sense (SPEC §11)

    fake_api.user_sends(CLIENT, f"/ticket {other.number}")
    refused = await fake_api.wait_for_bot_message(CLIENT, contains="You have no request")
    assert refused["text"] == f"You have no request #{other.number}."
    fake_api.user_sends(CLIENT, "/ticket")
    await fake_api.wait_for_bot_message(CLIENT, contains="Usage: /ticket")

    fake_api.user_sends(OTHER_CLIENT, "/my")
    theirs = await fake_api.wait_for_bot_message(OTHER_CLIENT, contains="Your requests")
    assert f"#{first.number} " not in theirs["text"]


async def test_ask_supervisor_mentions_the_supervisors_in_general_once_a_day(
        fake_api: FakeBotAPI, make_desk: DeskFactory, clock: MovableClock) -> None:
    await make_desk(test_policy(default_policy(), supervisors=(ALICE_ID,)))
    ticket = await opened(fake_api)
    ack = next(m for m in fake_api.bot_messages(CLIENT) if "registered as" in m["text"])
    assert "reply_markup" not in ack  # not on the acknowledgement: nothing went wrong yet
    question = await resolved_question(fake_api, ticket)
    press(fake_api, CLIENT, question, "still a problem")
    await fake_api.wait_for(lambda: "You said: still a problem" in fake_api.message(
        CLIENT, question["message_id"])["text"], description="the answer shown")
    ack = fake_api.message(CLIENT, question["message_id"])  # now offers the supervisor

    answer = await answer_to(fake_api, press(fake_api, CLIENT, ack, "Ask supervisor"))

    assert answer["text"] == (f"The supervisor has been asked to look at request "
                              f"#{ticket.number}.")
    call = await fake_api.wait_for_bot_message(STAFF_CHAT_ID, thread_id=GENERAL,
                                               contains="asks for a supervisor")
    assert f"#{ticket.number} (ACME: Login fails)" in call["text"]
    assert call["text"].endswith("Supervisor: Alice Agent")  # named, not "supervisor"
    assert {e["user"]["id"] for e in call.get("entities", ())
            if e["type"] == "text_mention"} == {ALICE_ID}
    await bot_says_in_topic(fake_api, ticket, "The client asked for a supervisor.")

    again = await answer_to(fake_api, press(fake_api, CLIENT, ack, "Ask supervisor"))
    assert again["text"] == "The supervisor was already asked about this request today."
    clock.advance(DAY + MINUTE)
    later = await answer_to(fake_api, press(fake_api, CLIENT, ack, "Ask supervisor"))
    assert later["text"].startswith("The supervisor has been asked")

    press_on_card(fake_api, ticket, "Close")
    await card_shows(fake_api, ticket, "Status: Closed")
    closed = await answer_to(fake_api, press(fake_api, CLIENT, ack, "Ask supervisor"))
    assert closed["text"] == f"Request #{ticket.number} is closed."

    def asked() -> list[dict[str, object]]:
        return [m for m in fake_api.bot_messages(STAFF_CHAT_ID, GENERAL)
                if "asks for a supervisor" in str(m.get("text", ""))]

    await fake_api.wait_for(lambda: len(asked()) >= 2, description="the second call")
    assert len(asked()) == 2  # the same day's and the closed ticket's presses sent nothing


async def test_old_buttons_of_the_client_say_why_they_no_longer_work(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    ticket = await opened(fake_api)
    question = await resolved_question(fake_api, ticket)
    await card_shows(fake_api, ticket, "Status: Resolved")
    in_topic(fake_api, ticket, "/status in_progress")
    await card_shows(fake_api, ticket, "Status: In progress")

    answer = await answer_to(fake_api, press(fake_api, CLIENT, question, "Yes, solved"))
    assert answer["text"] == f"Request #{ticket.number} is no longer waiting for this answer."
    assert answer["show_alert"]

    press_on_card(fake_api, ticket, "Close")
    notice = await fake_api.wait_for_bot_message(CLIENT, contains="is closed")
    fake_api.user_sends(CLIENT, f"#{ticket.number} again")
    await card_shows(fake_api, ticket, "Status: Reopened")
    answer = await answer_to(fake_api, press(fake_api, CLIENT, notice, "4"))
    assert answer["text"] == "This rating button is no longer valid."


async def test_a_client_left_without_an_answer_is_offered_the_supervisor_once(
        fake_api: FakeBotAPI, desk: RunningDesk, clock: MovableClock) -> None:
    ticket = await opened(fake_api)
    clock.advance(DAY + MINUTE)  # the SLA warning and a whole day without an agent's answer

    offer = await fake_api.wait_for_bot_message(CLIENT, contains="taking longer than we planned")
    assert f"Request #{ticket.number} (Login fails)" in offer["text"]
    assert labels(offer) == ["📣 Ask supervisor"]
    await desk.stop()  # every timer that came due has fired
    assert len([m for m in fake_api.bot_messages(CLIENT)
                if "taking longer" in m.get("text", "")]) == 1
