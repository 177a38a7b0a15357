"""The intake's steps one by one: contracts, editing, restarts, hints, stale buttons, FAQ."""

from __future__ import annotations

from typing import Any

from domain.policy import FaqEntry, Text, default_policy
from playground.telegram.bot_api import FakeBotAPI
from tests.e2e.flows import asked, received
from tests.e2e.harness import DeskFactory, RunningDesk, press, test_policy
from tests.fakes.plugin import STAFF_CHAT_ID

CLIENT = 5001


def new_client(api: FakeBotAPI) -> None:
    """Carol, an English-speaking client."""
    api.add_user(CLIENT, "Carol", username="carol", language_code="en")


async def new_request(api: FakeBotAPI) -> dict[str, Any]:
    """/new; return the contract question."""
    api.user_sends(CLIENT, "/new")
    return await api.wait_for_bot_message(CLIENT, contains="contract")


async def type_and_urgency(api: FakeBotAPI, urgency: str = "High") -> dict[str, Any]:
    """Answer the type (Failure) and urgency questions; return the urgency question."""
    kinds = await asked(api, CLIENT, "What kind of request")
    press(api, CLIENT, kinds, "Failure")
    question = await asked(api, CLIENT, "How urgent")
    press(api, CLIENT, question, urgency)
    await api.wait_for_bot_message(CLIENT, contains="subject")
    return question


async def describe(api: FakeBotAPI, subject: str = "Login fails",
                   text: str = "The login page says error 500") -> None:
    """Give the subject and a one-message description, then press Done."""
    api.user_sends(CLIENT, subject)
    prompt = await api.wait_for_bot_message(CLIENT, contains="press Done")
    await received(api, api.user_sends(CLIENT, text))
    press(api, CLIENT, prompt, "Done")


async def up_to_type(api: FakeBotAPI, contract: str = "C-100") -> dict[str, Any]:
    """/new and a contract; return the request type question."""
    await new_request(api)
    api.user_sends(CLIENT, contract)
    return await asked(api, CLIENT, "What kind of request")


async def up_to_subject(api: FakeBotAPI) -> None:
    """/new, a contract, the type and the priority: the bot now asks for the subject."""
    await new_request(api)
    api.user_sends(CLIENT, "C-100")
    await type_and_urgency(api)


async def up_to_description(api: FakeBotAPI, subject: str = "Login fails") -> dict[str, Any]:
    """The steps up to the description; return its prompt (with the Done button)."""
    await up_to_subject(api)
    api.user_sends(CLIENT, subject)
    return await api.wait_for_bot_message(CLIENT, contains="press Done")


async def up_to_summary(api: FakeBotAPI) -> dict[str, Any]:
    """A whole intake up to the summary; return it."""
    await up_to_subject(api)
    await describe(api)
    return await api.wait_for_bot_message(CLIENT, contains="Your request")


async def edit_fields(api: FakeBotAPI, summary: dict[str, Any]) -> dict[str, Any]:
    """After Edit: the summary itself offers the fields to change, in place of its buttons."""

    def offered() -> dict[str, Any] | None:
        current = api.message(CLIENT, summary["message_id"])
        labels = [button["text"] for row in (current or {}).get("reply_markup", {}).get(
            "inline_keyboard", []) for button in row]
        return current if any("Edit subject" in label for label in labels) else None

    fields: dict[str, Any] = await api.wait_for(offered, description="the fields to edit")
    return fields


async def alert_for(api: FakeBotAPI, query_id: str) -> dict[str, Any]:
    """The bot's answer to a button press."""
    answer: dict[str, Any] = await api.wait_for(lambda: api.callback_answer(query_id))
    return answer


async def test_first_message_of_a_new_client_gets_the_greeting(fake_api: FakeBotAPI,
                                                               desk: RunningDesk) -> None:
    new_client(fake_api)
    fake_api.user_sends(CLIENT, "Hello, my login fails")
    greeting = await fake_api.wait_for_bot_message(CLIENT, contains="Never send passwords")
    assert "One problem per request" in greeting["text"]
    press(fake_api, CLIENT, greeting, "New request")
    await fake_api.wait_for_bot_message(CLIENT, contains="contract number")


async def test_priority_can_be_changed_from_the_summary(fake_api: FakeBotAPI,
                                                        desk: RunningDesk) -> None:
    new_client(fake_api)
    summary = await up_to_summary(fake_api)
    assert "High" in summary["text"]
    press(fake_api, CLIENT, summary, "Edit")
    fields = await edit_fields(fake_api, summary)
    press(fake_api, CLIENT, fields, "priority")
    urgency = await asked(fake_api, CLIENT, "How urgent")
    press(fake_api, CLIENT, urgency, "Critical")

    edited = await fake_api.wait_for_bot_message(CLIENT, contains="Your request")
    assert "Critical" in edited["text"] and "High" not in edited["text"]
    assert "Login fails" in edited["text"] and "error 500" in edited["text"]
    press(fake_api, CLIENT, edited, "Confirm")
    ack = await fake_api.wait_for_bot_message(CLIENT, contains="registered as #1001")
    assert "Critical" in ack["text"]


async def test_subject_and_description_can_be_rewritten_from_the_summary(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    new_client(fake_api)
    summary = await up_to_summary(fake_api)
    press(fake_api, CLIENT, summary, "Edit")
    fields = await edit_fields(fake_api, summary)
    press(fake_api, CLIENT, fields, "subject")
    await fake_api.wait_for_bot_message(CLIENT, contains="Write the subject")
    fake_api.user_sends(CLIENT, "Login fails on Mondays")
    summary = await fake_api.wait_for_bot_message(CLIENT, contains="Your request")
    assert "Subject: Login fails on Mondays" in summary["text"]

    press(fake_api, CLIENT, summary, "Edit")
    fields = await edit_fields(fake_api, summary)
    press(fake_api, CLIENT, fields, "description")
    prompt = await fake_api.wait_for_bot_message(CLIENT, contains="press Done")
    await received(fake_api, fake_api.user_sends(CLIENT, "Only after the weekly update"))
    press(fake_api, CLIENT, prompt, "Done")
    summary = await fake_api.wait_for_bot_message(CLIENT, contains="Your request")
    assert "Only after the weekly update" in summary["text"]
    assert "error 500" not in summary["text"]  # the old description is replaced


async def test_unknown_contract_is_said_and_another_try_is_allowed(fake_api: FakeBotAPI,
                                                                   desk: RunningDesk) -> None:
    new_client(fake_api)
    await new_request(fake_api)
    fake_api.user_sends(CLIENT, "C-999")
    refusal = await fake_api.wait_for_bot_message(CLIENT, contains="C-999")
    assert "not in our registry" in refusal["text"]

    fake_api.user_sends(CLIENT, "C-100")
    await asked(fake_api, CLIENT, "What kind of request")


async def test_license_key_is_accepted_instead_of_the_contract_number(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    new_client(fake_api)
    prompt = await new_request(fake_api)
    assert "license key" in prompt["text"]
    fake_api.user_sends(CLIENT, "LIC-ACME-1")
    await asked(fake_api, CLIENT, "What kind of request")


async def test_expired_contract_is_named_as_expired_and_another_try_is_allowed(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    new_client(fake_api)
    await new_request(fake_api)
    fake_api.user_sends(CLIENT, "C-300")
    refusal = await fake_api.wait_for_bot_message(CLIENT, contains="C-300")
    assert "expired on 2020-12-31" in refusal["text"]
    assert "not in our registry" not in refusal["text"]

    fake_api.user_sends(CLIENT, "C-100")
    await asked(fake_api, CLIENT, "What kind of request")


async def test_continuing_without_contract_gives_the_basic_sla_level(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    new_client(fake_api)
    await new_request(fake_api)
    fake_api.user_sends(CLIENT, "no idea")
    refusal = await fake_api.wait_for_bot_message(CLIENT, contains="not in our registry")
    press(fake_api, CLIENT, refusal, "Continue without contract")
    await type_and_urgency(fake_api, "Normal")
    await describe(fake_api, "Printer offline", "It says offline since Monday")

    summary = await fake_api.wait_for_bot_message(CLIENT, contains="Your request")
    assert "SLA level: Basic" in summary["text"]
    press(fake_api, CLIENT, summary, "Confirm")
    ack = await fake_api.wait_for_bot_message(CLIENT, contains="registered as #1001")
    assert "SLA level: Basic" in ack["text"]


async def test_expired_contract_can_also_continue_without_contract(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    new_client(fake_api)
    await new_request(fake_api)
    fake_api.user_sends(CLIENT, "C-300")
    refusal = await fake_api.wait_for_bot_message(CLIENT, contains="expired")
    press(fake_api, CLIENT, refusal, "Continue without contract")
    await asked(fake_api, CLIENT, "What kind of request")


async def test_restart_during_the_description_keeps_what_was_entered(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    new_client(fake_api)
    prompt = await up_to_description(fake_api)
    fake_api.user_sends(CLIENT, "Step one: open the login page")
    await received(fake_api, fake_api.user_sends(CLIENT, photo=True, caption="the error"))

    await desk.restart()

    await received(fake_api, fake_api.user_sends(CLIENT, "Step two: it shows error 500"))
    press(fake_api, CLIENT, prompt, "Done")
    summary = await fake_api.wait_for_bot_message(CLIENT, contains="Your request")
    for part in ("Login fails", "C-100", "High", "Step one", "the error", "Step two"):
        assert part in summary["text"], part
    assert "3 messages in the description" in summary["text"]
    press(fake_api, CLIENT, summary, "Confirm")
    await fake_api.wait_for_bot_message(CLIENT, contains="registered as #1001")


async def test_messages_sent_in_quick_succession_are_taken_in_order(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    new_client(fake_api)
    await up_to_subject(fake_api)
    fake_api.user_sends(CLIENT, "Login fails")  # without waiting for the next question
    steps = [fake_api.user_sends(CLIENT, f"Step {step}") for step in range(1, 6)]
    prompt = await fake_api.wait_for_bot_message(CLIENT, contains="press Done")
    for step in steps:
        await received(fake_api, step)
    press(fake_api, CLIENT, prompt, "Done")

    summary = await fake_api.wait_for_bot_message(CLIENT, contains="Your request")
    assert "Subject: Login fails" in summary["text"]
    assert "Step 1\nStep 2\nStep 3\nStep 4\nStep 5" in summary["text"]


async def test_remembered_contract_is_only_confirmed_on_the_second_request(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    new_client(fake_api)
    first = await new_request(fake_api)
    assert "Send your support contract number" in first["text"]
    assert "reply_markup" not in first
    fake_api.user_sends(CLIENT, "C-100")
    kinds = await asked(fake_api, CLIENT, "What kind of request")
    press(fake_api, CLIENT, kinds, "Cancel")
    await fake_api.wait_for_bot_message(CLIENT, contains="Cancelled")

    second = await new_request(fake_api)
    assert "Is this request about contract C-100?" in second["text"]
    press(fake_api, CLIENT, second, "Yes, contract C-100")
    await asked(fake_api, CLIENT, "What kind of request")


async def test_another_contract_can_be_given_instead_of_the_remembered_one(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    new_client(fake_api)
    await up_to_type(fake_api)
    second = await new_request(fake_api)
    press(fake_api, CLIENT, second, "Another contract")
    await fake_api.wait_for_bot_message(CLIENT, contains="Send your support contract number")
    fake_api.user_sends(CLIENT, "C-200")
    await type_and_urgency(fake_api, "Special request")  # offered: C-200 allows it
    await describe(fake_api, "Everything is down", "No one can work")
    summary = await fake_api.wait_for_bot_message(CLIENT, contains="Your request")
    assert "Globex" in summary["text"] and "special request" in summary["text"]


async def test_special_request_is_not_offered_without_a_contract_that_allows_it(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    new_client(fake_api)
    await new_request(fake_api)
    fake_api.user_sends(CLIENT, "C-100")
    urgency = await type_and_urgency(fake_api)
    labels = [button["text"] for row in urgency["reply_markup"]["inline_keyboard"]
              for button in row]
    assert not any("Special" in label for label in labels)


async def test_changing_to_a_contract_without_special_requests_drops_the_special_request(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    new_client(fake_api)
    await new_request(fake_api)
    fake_api.user_sends(CLIENT, "C-200")
    await type_and_urgency(fake_api, "Special request")
    await describe(fake_api, "Everything is down", "No one can work")
    summary = await fake_api.wait_for_bot_message(CLIENT, contains="Your request")
    assert "special request" in summary["text"]

    press(fake_api, CLIENT, summary, "Edit")
    fields = await edit_fields(fake_api, summary)
    press(fake_api, CLIENT, fields, "contract")
    await fake_api.wait_for_bot_message(CLIENT, contains="Send your support contract number")
    fake_api.user_sends(CLIENT, "C-100")
    edited = await fake_api.wait_for_bot_message(CLIENT, contains="Your request")
    assert "ACME" in edited["text"] and "special request" not in edited["text"]


async def test_free_text_where_a_button_is_expected_gets_a_hint(fake_api: FakeBotAPI,
                                                               desk: RunningDesk) -> None:
    new_client(fake_api)
    kinds = await up_to_type(fake_api)
    fake_api.user_sends(CLIENT, "a bug, I think")
    await fake_api.wait_for_bot_message(CLIENT, contains="choose with the buttons")

    press(fake_api, CLIENT, kinds, "Failure")
    await asked(fake_api, CLIENT, "How urgent")


async def test_photo_where_text_is_expected_gets_a_hint(fake_api: FakeBotAPI,
                                                        desk: RunningDesk) -> None:
    new_client(fake_api)
    await up_to_subject(fake_api)
    fake_api.user_sends(CLIENT, photo=True)
    await fake_api.wait_for_bot_message(CLIENT, contains="answer with text")


async def test_subject_of_several_lines_or_too_long_is_refused(fake_api: FakeBotAPI,
                                                   desk: RunningDesk) -> None:
    new_client(fake_api)
    await up_to_subject(fake_api)
    fake_api.user_sends(CLIENT, "Login fails\nand also the printer")
    await fake_api.wait_for_bot_message(CLIENT, contains="one line")
    fake_api.user_sends(CLIENT, "x" * 300)
    await fake_api.wait_for_bot_message(CLIENT, contains="one line")
    fake_api.user_sends(CLIENT, "Login fails")
    await fake_api.wait_for_bot_message(CLIENT, contains="press Done")


async def test_done_without_a_description_asks_for_one(fake_api: FakeBotAPI,
                                                       desk: RunningDesk) -> None:
    new_client(fake_api)
    prompt = await up_to_description(fake_api)
    press(fake_api, CLIENT, prompt, "Done")
    await fake_api.wait_for_bot_message(CLIENT, contains="describe the problem first")


async def test_button_of_an_older_intake_gets_an_alert(fake_api: FakeBotAPI,
                                                      desk: RunningDesk) -> None:
    new_client(fake_api)
    old_kinds = await up_to_type(fake_api)
    await new_request(fake_api)  # a second intake replaces the first

    answer = await alert_for(fake_api, press(fake_api, CLIENT, old_kinds, "Failure"))
    assert answer["show_alert"] is True
    assert "older request" in answer["text"]


async def test_button_of_a_cancelled_intake_gets_an_alert(fake_api: FakeBotAPI,
                                                          desk: RunningDesk) -> None:
    new_client(fake_api)
    kinds = await up_to_type(fake_api)
    fake_api.user_sends(CLIENT, "/cancel")
    await fake_api.wait_for_bot_message(CLIENT, contains="Cancelled")

    answer = await alert_for(fake_api, press(fake_api, CLIENT, kinds, "Failure"))
    assert answer["show_alert"] is True
    assert "finished or cancelled" in answer["text"]


async def test_cancel_at_a_step_ends_the_intake_without_a_ticket(fake_api: FakeBotAPI,
                                                                 desk: RunningDesk) -> None:
    new_client(fake_api)
    await up_to_subject(fake_api)
    fake_api.user_sends(CLIENT, "/cancel")
    cancelled = await fake_api.wait_for_bot_message(CLIENT, contains="Cancelled")
    assert "New request" in cancelled["reply_markup"]["inline_keyboard"][0][0]["text"]

    fake_api.user_sends(CLIENT, "Login fails")  # no longer a subject: just a greeting
    await fake_api.wait_for_bot_message(CLIENT, contains="Never send passwords")
    assert fake_api.topics(STAFF_CHAT_ID) == []


async def test_cancel_from_the_summary_registers_nothing(fake_api: FakeBotAPI,
                                                         desk: RunningDesk) -> None:
    new_client(fake_api)
    summary = await up_to_summary(fake_api)
    press(fake_api, CLIENT, summary, "Cancel")
    await fake_api.wait_for_bot_message(CLIENT, contains="Cancelled")
    fake_api.user_sends(CLIENT, "/my")
    await fake_api.wait_for_bot_message(CLIENT, contains="no requests yet")


FAQ_POLICY = test_policy(default_policy(), faq=(
    FaqEntry(Text.of("Reset your password"), "https://docs.example.com/reset", ("password",)),))


async def faq_offer(api: FakeBotAPI) -> dict[str, Any]:
    """An intake whose subject matches the FAQ, up to the known answers."""
    new_client(api)
    await up_to_subject(api)
    api.user_sends(CLIENT, "Forgot my password")
    return await api.wait_for_bot_message(CLIENT, contains="Maybe one of these answers")


async def test_faq_answer_matching_the_subject_comes_with_the_description_prompt(
        fake_api: FakeBotAPI, make_desk: DeskFactory) -> None:
    await make_desk(FAQ_POLICY)
    offer = await faq_offer(fake_api)
    assert "Reset your password" in offer["text"]
    assert "press Done" in offer["text"]  # one message: the answers and the next step
    links = [entity["url"] for entity in offer.get("entities", [])
             if entity["type"] == "text_link"]
    assert links == ["https://docs.example.com/reset"]


async def test_faq_answer_that_solves_it_ends_the_intake_without_a_ticket(
        fake_api: FakeBotAPI, make_desk: DeskFactory) -> None:
    await make_desk(FAQ_POLICY)
    offer = await faq_offer(fake_api)
    press(fake_api, CLIENT, offer, "Yes")
    await fake_api.wait_for_bot_message(CLIENT, contains="Glad it helped")
    assert "reply_markup" not in fake_api.message(CLIENT, offer["message_id"])
    fake_api.user_sends(CLIENT, "/my")
    await fake_api.wait_for_bot_message(CLIENT, contains="no requests yet")
    assert fake_api.topics(STAFF_CHAT_ID) == []


async def test_faq_answer_that_does_not_help_goes_on_with_the_description(
        fake_api: FakeBotAPI, make_desk: DeskFactory) -> None:
    await make_desk(FAQ_POLICY)
    offer = await faq_offer(fake_api)
    await received(fake_api, fake_api.user_sends(CLIENT, "I cannot log in since yesterday"))
    press(fake_api, CLIENT, offer, "Done")
    summary = await fake_api.wait_for_bot_message(CLIENT, contains="Your request")
    press(fake_api, CLIENT, summary, "Confirm")
    await fake_api.wait_for_bot_message(CLIENT, contains="registered as #1001")


async def test_subject_without_matching_keywords_goes_straight_to_the_summary(
        fake_api: FakeBotAPI, make_desk: DeskFactory) -> None:
    await make_desk(FAQ_POLICY)
    new_client(fake_api)
    await up_to_summary(fake_api)
    assert not any("Maybe one of these" in message.get("text", "")
                   for message in fake_api.bot_messages(CLIENT))
