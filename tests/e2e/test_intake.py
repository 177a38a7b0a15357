"""The client's intake end to end: from hello to a registered ticket with its topic."""

from __future__ import annotations

from playground.telegram.bot_api import FakeBotAPI
from tests.e2e.flows import asked, open_ticket, received
from tests.e2e.harness import RunningDesk, press
from tests.fakes.plugin import STAFF_CHAT_ID

CLIENT = 5001


async def test_full_intake_registers_a_ticket_with_topic_card_and_acknowledgement(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    fake_api.add_user(CLIENT, "Carol", username="carol", language_code="en")
    fake_api.user_sends(CLIENT, "/start")
    greeting = await fake_api.wait_for_bot_message(CLIENT, contains="Never send passwords")
    press(fake_api, CLIENT, greeting, "New request")
    await fake_api.wait_for_bot_message(CLIENT, contains="contract number")
    fake_api.user_sends(CLIENT, "C-100")
    kinds = await asked(fake_api, CLIENT, "What kind of request")
    press(fake_api, CLIENT, kinds, "Failure")
    urgency = await asked(fake_api, CLIENT, "How urgent")
    assert "Business stopped" in urgency["text"]
    press(fake_api, CLIENT, urgency, "High")
    await fake_api.wait_for_bot_message(CLIENT, contains="subject")
    fake_api.user_sends(CLIENT, "Login fails")
    prompt = await fake_api.wait_for_bot_message(CLIENT, contains="Describe the problem")
    fake_api.user_sends(CLIENT, "I press Login and get <error 500> & nothing else")
    await received(fake_api, fake_api.user_sends(CLIENT, photo=True, caption="the screen"))
    press(fake_api, CLIENT, prompt, "Done")
    summary = await fake_api.wait_for_bot_message(CLIENT, contains="Your request")
    assert "ACME" in summary["text"] and "Login fails" in summary["text"]
    assert "&lt;error 500&gt;" not in summary["text"]  # shown literally, not as markup
    assert "<error 500> & nothing else" in summary["text"]
    press(fake_api, CLIENT, summary, "Confirm")

    ack = await fake_api.wait_for_bot_message(CLIENT, contains="registered as #1001")
    assert "High" in ack["text"] and "Standard" in ack["text"]
    assert "First response by" in ack["text"]

    topics = await fake_api.wait_for(lambda: fake_api.topics(STAFF_CHAT_ID))
    assert topics[0]["name"] == "🟠 #1001 · ACME · Login fails"
    thread = topics[0]["thread_id"]
    card = await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="#1001", thread_id=thread)
    assert "Carol (@carol)" in card["text"] and "C-100" in card["text"]
    labels = [b["text"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
    for word in ("Take", "Priority", "Waiting for client", "Third party", "Resolved",
                 "Second line", "Close", "Decline"):
        assert any(word in label for label in labels), word
    text_copy = await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="error 500",
                                                    thread_id=thread)
    assert text_copy["text"] == "I press Login and get <error 500> & nothing else"
    photo_copy = await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="the screen",
                                                     thread_id=thread)
    assert "photo" in photo_copy


async def test_each_request_gets_the_next_number_and_a_topic_of_its_own(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    fake_api.add_user(CLIENT, "Carol", username="carol", language_code="en")
    first = await open_ticket(fake_api, CLIENT, subject="Login fails")
    second = await open_ticket(fake_api, CLIENT, subject="Export broken")  # remembered contract
    other = await open_ticket(fake_api, 5002, subject="Reports slow", contract="C-200")

    assert [number for number, _ in (first, second, other)] == [1001, 1002, 1003]
    assert len({thread for _, thread in (first, second, other)}) == 3
    names = sorted(topic["name"] for topic in fake_api.topics(STAFF_CHAT_ID))
    assert names == ["🟠 #1001 · ACME · Login fails", "🟠 #1002 · ACME · Export broken",
                     "🟠 #1003 · Globex · Reports slow"]
