"""What agents do with a ticket: the card's buttons, the staff commands, queues, guards, menus."""

from __future__ import annotations

from domain.policy import CannedAnswer, Queue, Text, default_policy
from playground.telegram.bot_api import FakeBotAPI
from playground.telegram.bot_api_world import GENERAL
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
    opened,
    press_on_card,
    topic_closed,
    topic_named,
    topic_of,
)
from tests.e2e.harness import DeskFactory, RunningDesk, press, test_policy
from tests.fakes.plugin import ALICE_ID, BOB_ID, STAFF_CHAT_ID

STRANGER = 7001


async def agent_known(api: FakeBotAPI, user: int) -> None:
    """The agent speaks in the group once (the bot learns their name and @username)."""
    api.user_sends(user, "/find nothing-like-this", chat_id=STAFF_CHAT_ID)
    await api.wait_for_bot_message(STAFF_CHAT_ID, thread_id=GENERAL, contains="Nothing found")


def topic_texts(api: FakeBotAPI, ticket: Opened) -> list[str]:
    """The texts and captions in the ticket's topic."""
    return [m.get("text", m.get("caption", "")) for m in api.messages(STAFF_CHAT_ID,
                                                                      ticket.thread)]


def card_edits(api: FakeBotAPI, ticket: Opened) -> int:
    """How many times the bot edited the card."""
    return sum(1 for call in api.sent("editMessageText")
               if call.params.get("message_id") == ticket.card_id
               and int(call.params.get("chat_id", 0)) == STAFF_CHAT_ID)


# --- the card -----------------------------------------------------------------------------


async def test_take_button_assigns_and_edits_the_same_card_in_place(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    ticket = await opened(fake_api)
    assert "Status: New" in card_text(fake_api, ticket)

    query = press_on_card(fake_api, ticket, "Take")

    assert (await answer_to(fake_api, query)).get("text") == "Taken."
    text = await card_shows(fake_api, ticket, "Status: In progress", "Assignee: Alice Agent")
    assert f"#{ticket.number}" in text
    assert card_edits(fake_api, ticket) >= 1
    card = fake_api.message(STAFF_CHAT_ID, ticket.card_id)
    assert card is not None
    labels = [button["text"] for row in card["reply_markup"]["inline_keyboard"]
              for button in row]
    assert not any("Take" in label for label in labels)  # taken: no Take any more
    # the two ways to finish told apart at a glance: one asks the client, one closes now
    assert "☑️ Resolved: ask the client" in labels and "🔒 Close now" in labels
    await desk.stop()  # everything delivered
    cards = [m for m in fake_api.bot_messages(STAFF_CHAT_ID) if "Status:" in m.get("text", "")]
    assert [card["message_id"] for card in cards] == [ticket.card_id]


async def test_priority_button_offers_the_levels_and_renames_the_topic(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    ticket = await opened(fake_api)
    assert fake_api.topic(STAFF_CHAT_ID, ticket.thread)["name"].startswith("🟠")

    press_on_card(fake_api, ticket, "Priority")
    picker = await bot_says_in_topic(fake_api, ticket, "New priority for")
    query = press(fake_api, ALICE_ID, picker, "Critical")

    assert (await answer_to(fake_api, query)).get("text") == (
        f"Priority of #{ticket.number} is now Critical.")
    await card_shows(fake_api, ticket, "Priority: Critical")
    topic = await topic_named(fake_api, ticket, "🔴")
    assert topic["name"] == f"🔴 #{ticket.number} · ACME · Login fails"
    await fake_api.wait_for(lambda: fake_api.message(STAFF_CHAT_ID, picker["message_id"])
                            is None, description="the priority picker to go")


async def test_status_buttons_move_the_ticket_and_the_card_and_topic_follow(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    ticket = await opened(fake_api)
    press_on_card(fake_api, ticket, "Take")
    await card_shows(fake_api, ticket, "Status: In progress")

    for label, shown in (("Waiting for client", "Status: Waiting for client"),
                         ("Third party", "Status: Waiting for third party"),
                         ("Second line", "Status: Second line")):
        query = press_on_card(fake_api, ticket, label)
        await answer_to(fake_api, query)
        await card_shows(fake_api, ticket, shown)

    press_on_card(fake_api, ticket, "Resolved")
    await card_shows(fake_api, ticket, "Status: Resolved")
    await topic_named(fake_api, ticket, "☑️")
    await fake_api.wait_for_bot_message(CLIENT, contains=f"#{ticket.number} (Login fails). "
                                                         "Does everything work now?")

    press_on_card(fake_api, ticket, "Close")
    await card_shows(fake_api, ticket, "Status: Closed")
    topic = await topic_named(fake_api, ticket, "✅")
    await topic_closed(fake_api, ticket)
    assert topic["name"] == f"✅ #{ticket.number} · ACME · Login fails"


async def test_second_line_status_shows_on_the_card_and_stops_nothing_for_the_client(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    ticket = await opened(fake_api)
    in_topic(fake_api, ticket, "/status second_line")
    await card_shows(fake_api, ticket, "Status: Second line")
    fake_api.user_sends(CLIENT, "Any news?")
    copy = await bot_says_in_topic(fake_api, ticket, "Any news?")
    assert copy["text"] == "Any news?"
    assert "Status: Second line" in card_text(fake_api, ticket)


# --- commands -----------------------------------------------------------------------------


async def test_take_priority_and_status_commands_do_what_the_buttons_do(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    ticket = await opened(fake_api)

    in_topic(fake_api, ticket, "/take", user=BOB_ID)
    await card_shows(fake_api, ticket, "Status: In progress", "Assignee: Bob Agent")
    in_topic(fake_api, ticket, "/priority low")
    await card_shows(fake_api, ticket, "Priority: Low")
    await topic_named(fake_api, ticket, "🟢")
    in_topic(fake_api, ticket, "/status waiting_client")
    await card_shows(fake_api, ticket, "Status: Waiting for client")

    in_topic(fake_api, ticket, "/priority")
    picker = await bot_says_in_topic(fake_api, ticket, "New priority for")
    labels = [b["text"] for row in picker["reply_markup"]["inline_keyboard"] for b in row]
    assert [label.split()[-1] for label in labels] == ["Critical", "High", "Normal", "Low"]
    in_topic(fake_api, ticket, "/status")
    usage = await bot_says_in_topic(fake_api, ticket, "Usage: /status")
    assert "waiting_client" in usage["text"] and "resolved" in usage["text"]

    in_topic(fake_api, ticket, "/close")
    await card_shows(fake_api, ticket, "Status: Closed")
    await fake_api.wait_for_bot_message(CLIENT, contains=f"#{ticket.number} is closed")


async def test_assign_by_username_and_by_reply(fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    ticket = await opened(fake_api)
    await agent_known(fake_api, ALICE_ID)
    in_topic(fake_api, ticket, "/assign @alice", user=BOB_ID)
    await card_shows(fake_api, ticket, "Assignee: Alice Agent", "Status: In progress")

    bob = fake_api.user_sends(BOB_ID, "// I can do it", chat_id=STAFF_CHAT_ID,
                              thread_id=ticket.thread)
    fake_api.user_sends(ALICE_ID, "/assign", chat_id=STAFF_CHAT_ID, reply_to=bob["message_id"])
    await card_shows(fake_api, ticket, "Assignee: Bob Agent")

    in_topic(fake_api, ticket, "/assign @nobody")
    await bot_says_in_topic(fake_api, ticket, "Usage: /assign @username")


async def test_decline_asks_for_a_reason_that_the_client_reads(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    ticket = await opened(fake_api)

    press_on_card(fake_api, ticket, "Decline")
    await bot_says_in_topic(fake_api, ticket, f"Why is #{ticket.number} declined?")
    assert "Status: New" in card_text(fake_api, ticket)
    in_topic(fake_api, ticket, "Not our <product> & out of scope")

    notice = await fake_api.wait_for_bot_message(CLIENT, contains="was declined")
    assert "Reason: Not our <product> & out of scope" in notice["text"]
    await card_shows(fake_api, ticket, "Status: Declined")
    await topic_named(fake_api, ticket, "⛔")
    await topic_closed(fake_api, ticket)


async def test_decline_command_with_a_reason_or_cancelled(fake_api: FakeBotAPI,
                                                          desk: RunningDesk) -> None:
    first = await opened(fake_api)
    in_topic(fake_api, first, "/decline")
    await bot_says_in_topic(fake_api, first, "declined?")
    in_topic(fake_api, first, "/cancel")
    await bot_says_in_topic(fake_api, first, "Not declined.")
    in_topic(fake_api, first, "Thanks, looking into it")  # an ordinary reply again
    await fake_api.wait_for_bot_message(CLIENT, contains="Thanks, looking into it")
    assert "Status: In progress" in await card_shows(fake_api, first, "In progress")

    in_topic(fake_api, first, "/decline Duplicate of another request")
    notice = await fake_api.wait_for_bot_message(CLIENT, contains="was declined")
    assert "Reason: Duplicate of another request" in notice["text"]
    await card_shows(fake_api, first, "Status: Declined")


async def test_reply_in_another_topic_while_a_reason_is_awaited_goes_to_its_client(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    first = await opened(fake_api)
    second = await opened(fake_api, OTHER_CLIENT, subject="Reports are slow", contract="C-200")
    press_on_card(fake_api, first, "Decline")
    await bot_says_in_topic(fake_api, first, "declined?")

    in_topic(fake_api, second, "Please restart the report server")

    await fake_api.wait_for_bot_message(OTHER_CLIENT, contains="restart the report server")
    assert "Status: New" in card_text(fake_api, first)
    in_topic(fake_api, first, "Out of scope")
    notice = await fake_api.wait_for_bot_message(CLIENT, contains="was declined")
    assert "Reason: Out of scope" in notice["text"]
    assert "Status: Declined" not in card_text(fake_api, second)


async def test_history_lists_every_change_with_who_and_from_to(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    ticket = await opened(fake_api)
    in_topic(fake_api, ticket, "/take")
    await card_shows(fake_api, ticket, "In progress")
    in_topic(fake_api, ticket, "/priority critical")
    await card_shows(fake_api, ticket, "Priority: Critical")
    in_topic(fake_api, ticket, "/status waiting_client", user=BOB_ID)
    await card_shows(fake_api, ticket, "Waiting for client")

    in_topic(fake_api, ticket, "/history")
    history = (await bot_says_in_topic(fake_api, ticket, "History:"))["text"]

    lines = [line.split(" — ", 1)[1] for line in history.splitlines()[1:]]
    assert lines == ["Carol opened the ticket", "Alice Agent took it",
                     "Alice Agent changed the priority: High → Critical",
                     "Bob Agent: waiting for the client"]  # prose, one line per change
    # the staff zone defaults to the calendars' zone: "today 14:05 Moscow time"
    assert all(" Moscow time — " in line for line in history.splitlines()[1:])


async def test_illegal_moves_are_refused_with_a_clear_answer(fake_api: FakeBotAPI,
                                                             desk: RunningDesk) -> None:
    ticket = await opened(fake_api)
    press_on_card(fake_api, ticket, "Close")
    await card_shows(fake_api, ticket, "Status: Closed")

    card = fake_api.message(STAFF_CHAT_ID, ticket.card_id)
    assert card is not None
    assert [button["text"] for row in card["reply_markup"]["inline_keyboard"]
            for button in row] == ["🔁 Reopen"]  # a closed ticket offers only what it can do
    for command in ("/status waiting_client", "/take", "/decline out of scope"):
        fake_api.user_sends(ALICE_ID, command, chat_id=STAFF_CHAT_ID,
                            thread_id=ticket.thread)  # an administrator may write in it
        await bot_says_in_topic(fake_api, ticket, "Not possible: the ticket is Closed.")
    assert "Status: Closed" in card_text(fake_api, ticket)
    assert "Assignee: —" in card_text(fake_api, ticket)


async def test_ticket_command_outside_a_ticket_topic_says_where_to_use_it(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    fake_api.user_sends(ALICE_ID, "/take", chat_id=STAFF_CHAT_ID)
    answer = await fake_api.wait_for_bot_message(STAFF_CHAT_ID, thread_id=GENERAL,
                                                 contains="inside a ticket's topic")
    assert answer["text"] == "Use this command inside a ticket's topic."


async def test_find_by_number_subject_customer_and_contract(fake_api: FakeBotAPI,
                                                            desk: RunningDesk) -> None:
    first = await opened(fake_api, subject="Login fails")
    second = await opened(fake_api, OTHER_CLIENT, subject="Printer <jam>", contract="C-200")

    for query, found, missing in (("login", first, second), ("Globex", second, first),
                                  ("C-100", first, second), (str(second.number), second, first)):
        fake_api.user_sends(ALICE_ID, f"/find {query}", chat_id=STAFF_CHAT_ID)
        answer = await fake_api.wait_for_bot_message(STAFF_CHAT_ID, thread_id=GENERAL)
        assert f"#{found.number} " in answer["text"], (query, answer["text"])
        assert f"#{missing.number} " not in answer["text"], (query, answer["text"])
    assert "Printer <jam>" in answer["text"] and "New" in answer["text"]

    fake_api.user_sends(ALICE_ID, "/find nothing-like-this", chat_id=STAFF_CHAT_ID)
    assert (await fake_api.wait_for_bot_message(STAFF_CHAT_ID, thread_id=GENERAL))[
        "text"] == "Nothing found."


async def test_canned_answer_from_the_config_reaches_the_client(
        fake_api: FakeBotAPI, make_desk: DeskFactory) -> None:
    docs = CannedAnswer("docs", Text.of("Please see https://docs.example.com/login <b>first</b>",
                                        "Смотрите https://docs.example.com/login"))
    await make_desk(test_policy(default_policy(), canned=(docs,)))
    ticket = await opened(fake_api)

    in_topic(fake_api, ticket, "/canned")
    listed = await bot_says_in_topic(fake_api, ticket, "Canned answers")
    assert listed["text"] == "Canned answers: docs"

    in_topic(fake_api, ticket, "/canned docs", user=BOB_ID)
    answer = await fake_api.wait_for_bot_message(CLIENT, contains="docs.example.com")
    assert answer["text"] == "Bob Agent:\nPlease see https://docs.example.com/login <b>first</b>"
    await card_shows(fake_api, ticket, "Status: In progress", "First response due: ✅")


async def test_queue_command_moves_the_ticket(fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    ticket = await opened(fake_api)
    assert "Queue: Support" in card_text(fake_api, ticket)
    in_topic(fake_api, ticket, "/queue")
    listed = await bot_says_in_topic(fake_api, ticket, "Queues:")
    assert listed["text"] == "Queues: support, development"
    in_topic(fake_api, ticket, "/queue development")
    await card_shows(fake_api, ticket, "Queue: Development")
    in_topic(fake_api, ticket, "/history")
    history = await bot_says_in_topic(fake_api, ticket, "History:")
    assert "Alice Agent moved it to the queue Development" in history["text"]


# --- second line and problems ----------------------------------------------------------------


async def test_bug_links_a_tracker_issue_shown_on_the_card(fake_api: FakeBotAPI,
                                                           desk: RunningDesk) -> None:
    ticket = await opened(fake_api)
    in_topic(fake_api, ticket, "/bug")
    await bot_says_in_topic(fake_api, ticket, "Usage: /bug")
    in_topic(fake_api, ticket, "/bug https://tracker.example.com/issue/4711?a=1&b=2")
    text = await card_shows(fake_api, ticket, "Bug tracker:")
    assert "Bug tracker: https://tracker.example.com/issue/4711?a=1&b=2" in text
    press_on_card(fake_api, ticket, "Second line")
    await card_shows(fake_api, ticket, "Status: Second line", "Bug tracker:")


async def test_resolving_a_problem_notifies_the_client_of_every_linked_ticket(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    problem = await opened(fake_api, CLIENT, subject="Everything is slow")
    first = await opened(fake_api, OTHER_CLIENT, subject="Reports are slow", contract="C-200")
    fake_api.add_user(5003, "Erin", username="erin", language_code="en")
    second = await opened(fake_api, 5003, subject="Search is slow")

    in_topic(fake_api, first, "/link 9999")
    await bot_says_in_topic(fake_api, first, "There is no other ticket #9999.")
    in_topic(fake_api, first, f"/link {first.number}")
    await bot_says_in_topic(fake_api, first, f"There is no other ticket #{first.number}.")
    for incident in (first, second):
        in_topic(fake_api, incident, f"/link #{problem.number}")
        await card_shows(fake_api, incident, f"Incident of problem #{problem.number}")
    in_topic(fake_api, problem, f"/link {first.number}")
    await bot_says_in_topic(fake_api, problem, "is itself an incident")

    press_on_card(fake_api, problem, "Resolved")

    for client, incident in ((OTHER_CLIENT, first), (5003, second)):
        news = await fake_api.wait_for_bot_message(client, contains="Good news")
        assert f"request #{incident.number}" in news["text"]
        await bot_says_in_topic(fake_api, incident, f"Problem #{problem.number} is solved")
    resolved = await fake_api.wait_for_bot_message(CLIENT, contains="Does everything work")
    assert f"#{problem.number}" in resolved["text"]
    assert not [m for m in fake_api.bot_messages(CLIENT) if "Good news" in m.get("text", "")]

    press(fake_api, CLIENT, resolved, "Yes")  # the problem closes: no second notice
    await fake_api.wait_for_bot_message(CLIENT, contains=f"#{problem.number} is closed")
    await desk.stop()
    for client in (OTHER_CLIENT, 5003):
        news = [m for m in fake_api.bot_messages(client) if "Good news" in m.get("text", "")]
        assert len(news) == 1


# --- other channels ---------------------------------------------------------------------------


async def test_open_registers_a_phone_request_for_a_contract(fake_api: FakeBotAPI,
                                                             desk: RunningDesk) -> None:
    fake_api.user_sends(ALICE_ID, "/open C-200 Printer <does> not print", chat_id=STAFF_CHAT_ID)
    reply = await fake_api.wait_for_bot_message(STAFF_CHAT_ID, thread_id=GENERAL,
                                                contains="Registered #")
    number = int(reply["text"].split("#")[1].split(";")[0])
    topic = await fake_api.wait_for(lambda: next(
        (t for t in fake_api.topics(STAFF_CHAT_ID) if f"#{number} " in t["name"]), None))
    assert topic["name"] == f"🟡 #{number} · Globex · Printer <does> not print"
    card = await card_of(fake_api, topic["thread_id"])
    ticket = Opened(number, topic["thread_id"], card["message_id"])
    text = await card_shows(fake_api, ticket, "Assignee: Alice Agent")
    assert "Contract: C-200 · Globex" in text and "Status: In progress" in text
    assert "SLA level: Premium" in text

    fake_api.user_sends(ALICE_ID, "/open C-999 Whatever", chat_id=STAFF_CHAT_ID)
    await fake_api.wait_for_bot_message(STAFF_CHAT_ID, thread_id=GENERAL,
                                        contains="is not in the registry")
    fake_api.user_sends(ALICE_ID, "/open C-300 Whatever", chat_id=STAFF_CHAT_ID)
    await fake_api.wait_for_bot_message(STAFF_CHAT_ID, thread_id=GENERAL, contains="expired")
    fake_api.user_sends(ALICE_ID, "/open", chat_id=STAFF_CHAT_ID)
    await fake_api.wait_for_bot_message(STAFF_CHAT_ID, thread_id=GENERAL,
                                        contains="Usage: /open")


async def test_open_solved_for_a_known_client_is_closed_at_once(fake_api: FakeBotAPI,
                                                                desk: RunningDesk) -> None:
    await opened(fake_api)  # Carol (@carol) has written to the bot
    fake_api.user_sends(BOB_ID, "/open solved @carol Password reset by phone",
                        chat_id=STAFF_CHAT_ID)
    reply = await fake_api.wait_for_bot_message(STAFF_CHAT_ID, thread_id=GENERAL,
                                                contains="solved on first contact")
    number = int(reply["text"].split("#")[1].split(" ")[0])
    closed = await fake_api.wait_for_bot_message(CLIENT, contains=f"#{number} is closed")
    assert "rate our work" in closed["text"]
    thread = await fake_api.wait_for(lambda: next(
        (t["thread_id"] for t in fake_api.topics(STAFF_CHAT_ID)
         if f"#{number} " in t["name"] and t["closed"]), None),
        description="the closed topic of the solved request")
    card = await card_of(fake_api, thread)
    assert "Status: Closed" in card["text"] and "Carol (@carol)" in card["text"]
    assert "Assignee: Bob Agent" in card["text"]

    fake_api.user_sends(BOB_ID, "/open @nobody Something", chat_id=STAFF_CHAT_ID)
    await fake_api.wait_for_bot_message(STAFF_CHAT_ID, thread_id=GENERAL,
                                        contains="No client @nobody")


# --- queues -----------------------------------------------------------------------------------


async def test_queue_with_agents_offers_new_tickets_to_them(fake_api: FakeBotAPI,
                                                            make_desk: DeskFactory) -> None:
    base = default_policy()
    support = Queue("support", Text.of("Support"), agents=(ALICE_ID, BOB_ID))
    await make_desk(test_policy(base, queues=(support,) + base.queues[1:]))
    ticket = await opened(fake_api)

    offer = await bot_says_in_topic(fake_api, ticket, "New ticket in your queue")
    mentioned = {entity["user"]["id"] for entity in offer.get("entities", ())
                 if entity["type"] == "text_mention"}
    assert mentioned == {ALICE_ID, BOB_ID}
    assert "Assignee: —" in card_text(fake_api, ticket)


async def test_queue_with_round_robin_assigns_its_agents_in_turn(
        fake_api: FakeBotAPI, make_desk: DeskFactory) -> None:
    base = default_policy()
    support = Queue("support", Text.of("Support"), agents=(ALICE_ID, BOB_ID), round_robin=True)
    await make_desk(test_policy(base, queues=(support,) + base.queues[1:]))
    await agent_known(fake_api, ALICE_ID)
    await agent_known(fake_api, BOB_ID)

    first = await opened(fake_api, CLIENT)
    second = await opened(fake_api, OTHER_CLIENT, contract="C-200")
    fake_api.add_user(5003, "Erin", language_code="en")
    third = await opened(fake_api, 5003)

    assert "Assignee: Alice Agent" in card_text(fake_api, first)
    assert "Assignee: Bob Agent" in card_text(fake_api, second)
    assert "Assignee: Alice Agent" in card_text(fake_api, third)
    assert not [m for m in fake_api.bot_messages(STAFF_CHAT_ID, first.thread)
                if "New ticket in your queue" in m.get("text", "")]

    # Bob's turn, but Alice took the call: the request she registers is hers.
    fake_api.user_sends(ALICE_ID, "/open C-100 Called about printing", chat_id=STAFF_CHAT_ID)
    await fake_api.wait_for_bot_message(STAFF_CHAT_ID, thread_id=GENERAL, contains="Registered")
    thread = await topic_of(fake_api, third.number + 1)
    card = await card_of(fake_api, thread)
    phoned = Opened(third.number + 1, thread, card["message_id"])
    await card_shows(fake_api, phoned, "Assignee: Alice Agent", "Status: In progress")


# --- guards -----------------------------------------------------------------------------------


async def test_button_pressed_by_someone_outside_the_staff_group_is_refused(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    ticket = await opened(fake_api)
    fake_api.add_user(STRANGER, "Mallory", username="mallory")
    edits = card_edits(fake_api, ticket)

    for label in ("Take", "Close", "Decline"):
        query = fake_api.user_presses(STRANGER, STAFF_CHAT_ID, ticket.card_id, button=label,
                                      force=True)
        answer = await answer_to(fake_api, query)
        assert answer["text"] == "Only the support staff can use these buttons."
        assert answer["show_alert"]
    fake_api.set_member_status(STAFF_CHAT_ID, BOB_ID, "left")
    query = fake_api.user_presses(BOB_ID, STAFF_CHAT_ID, ticket.card_id, button="Take",
                                  force=True)
    assert (await answer_to(fake_api, query))["text"] == (
        "Only the support staff can use these buttons.")

    assert "Status: New" in card_text(fake_api, ticket)
    assert "Assignee: —" in card_text(fake_api, ticket)
    assert card_edits(fake_api, ticket) == edits
    assert not fake_api.topic(STAFF_CHAT_ID, ticket.thread)["closed"]
    assert not [m for m in fake_api.bot_messages(CLIENT) if "closed" in m.get("text", "")]


async def test_banned_client_is_told_once_and_no_longer_relayed(fake_api: FakeBotAPI,
                                                                desk: RunningDesk) -> None:
    ticket = await opened(fake_api)
    in_topic(fake_api, ticket, "/ban")
    await bot_says_in_topic(fake_api, ticket, "is banned")

    fake_api.user_sends(CLIENT, "spam one")
    told = await fake_api.wait_for_bot_message(CLIENT, contains="no longer accepts")
    fake_api.user_sends(CLIENT, "spam two")
    fake_api.user_sends(CLIENT, "/my")
    await fake_api.wait_updates_taken()
    await desk.stop()  # finishes the updates taken and drains the outbox

    assert not [text for text in topic_texts(fake_api, ticket) if "spam" in text]
    later = [m for m in fake_api.bot_messages(CLIENT) if m["message_id"] > told["message_id"]]
    assert later == []

    await desk.start()
    in_topic(fake_api, ticket, "/unban")
    await bot_says_in_topic(fake_api, ticket, "is unbanned")
    fake_api.user_sends(CLIENT, "back again")
    await bot_says_in_topic(fake_api, ticket, "back again")


async def test_flood_limit_passes_on_the_first_messages_and_says_so_once(
        fake_api: FakeBotAPI, make_desk: DeskFactory) -> None:
    desk = await make_desk(test_policy(default_policy(), flood_limit=5))
    fake_api.add_user(CLIENT, "Carol", username="carol", language_code="en")
    fake_api.user_sends(CLIENT, "/start")  # the first message of the window
    await fake_api.wait_for_bot_message(CLIENT, contains="Hello")
    fake_api.user_sends(ALICE_ID, "/open @carol Called about the login", chat_id=STAFF_CHAT_ID)
    await fake_api.wait_for_bot_message(CLIENT, contains="registered as #")

    for index in range(8):
        fake_api.user_sends(CLIENT, f"message {index}")
    notice = await fake_api.wait_for_bot_message(CLIENT, contains="too fast")
    assert "wait a minute" in notice["text"]
    await fake_api.wait_updates_taken()
    await desk.stop()

    thread = fake_api.topics(STAFF_CHAT_ID)[0]["thread_id"]
    relayed = "\n".join(m.get("text", "") for m in fake_api.messages(STAFF_CHAT_ID, thread))
    assert [f"message {i}" in relayed for i in range(8)] == [True] * 4 + [False] * 4
    warnings = [m for m in fake_api.bot_messages(CLIENT) if "too fast" in m.get("text", "")]
    assert len(warnings) == 1


async def test_card_button_acts_on_the_current_state_or_says_why_not(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    ticket = await opened(fake_api)
    press_on_card(fake_api, ticket, "Priority")
    picker = await bot_says_in_topic(fake_api, ticket, "New priority for")
    press_on_card(fake_api, ticket, "Close")
    await card_shows(fake_api, ticket, "Status: Closed")

    query = press(fake_api, ALICE_ID, picker, "Critical")  # a picker from before the close
    answer = await answer_to(fake_api, query)
    assert answer["text"] == "Not possible: the ticket is Closed."
    assert "Priority: High" in card_text(fake_api, ticket)


async def test_take_of_a_ticket_someone_else_took_says_who_has_it(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    ticket = await opened(fake_api)
    await answer_to(fake_api, press_on_card(fake_api, ticket, "Take", user=ALICE_ID))
    await card_shows(fake_api, ticket, "Assignee: Alice Agent")

    assert "Take" not in str(fake_api.message(STAFF_CHAT_ID, ticket.card_id)["reply_markup"])
    in_topic(fake_api, ticket, "/take", user=BOB_ID)

    answer = await bot_says_in_topic(fake_api, ticket, "Already taken")
    assert answer["text"] == "Already taken by Alice Agent; use /assign to hand it over."
    assert "Assignee: Alice Agent" in card_text(fake_api, ticket)


# --- command menus ----------------------------------------------------------------------------


async def test_command_menus_are_registered_for_private_chats_and_the_staff_group(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    private = {"type": "all_private_chats"}
    staff_scope = {"type": "chat", "chat_id": STAFF_CHAT_ID}
    staff = await fake_api.wait_for(lambda: fake_api.commands(staff_scope))  # set the last
    english = fake_api.commands(private)
    russian = fake_api.commands(private, "ru")

    names = [command["command"] for command in english]
    assert names == ["new", "my", "ticket", "cancel", "lang", "timezone", "forget", "help"]
    assert [command["command"] for command in russian] == names
    assert english[0]["description"] != russian[0]["description"]
    assert all(any("\u0400" <= ch <= "\u04ff" for ch in c["description"]) for c in russian)
    staff_names = {command["command"] for command in staff}
    assert staff_names >= {"take", "assign", "priority", "status", "close", "decline", "note",
                           "bug", "link", "stats", "sla", "find", "canned", "open", "queue",
                           "ban", "unban", "history", "whoami"}


async def test_staff_menu_is_in_the_staff_groups_language(fake_api: FakeBotAPI,
                                                          make_desk: DeskFactory) -> None:
    await make_desk(test_policy(default_policy(), staff_language="ru"))
    scope = {"type": "chat", "chat_id": STAFF_CHAT_ID}
    staff = await fake_api.wait_for(lambda: fake_api.commands(scope))
    take = next(command for command in staff if command["command"] == "take")
    assert any("\u0400" <= ch <= "\u04ff" for ch in take["description"]), take
