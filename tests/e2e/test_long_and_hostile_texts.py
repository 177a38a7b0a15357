"""Texts Telegram would refuse: too long, or full of markup; shown literally, never lost."""

from __future__ import annotations

from dataclasses import replace

from domain.policy import CannedAnswer, Text, default_policy
from playground.telegram.bot_api import FakeBotAPI
from tests.e2e.flows import open_ticket
from tests.fakes.plugin import ALICE_ID, STAFF_CHAT_ID

CLIENT = 6101


async def test_a_canned_answer_longer_than_a_message_arrives_in_parts(
        fake_api: FakeBotAPI, make_desk) -> None:  # type: ignore[no-untyped-def]
    manual = "\n\n".join(f"Step {n}: " + "press the button and wait. " * 20 for n in range(12))
    policy = replace(default_policy(), canned=(CannedAnswer("manual", Text.of(manual)),))
    await make_desk(policy)
    _, thread = await open_ticket(fake_api, CLIENT)
    fake_api.user_sends(ALICE_ID, "/canned manual", chat_id=STAFF_CHAT_ID, thread_id=thread)
    first = await fake_api.wait_for_bot_message(CLIENT, contains="Step 0:")
    last = await fake_api.wait_for_bot_message(CLIENT, contains="Step 11:")
    assert first["message_id"] < last["message_id"]
    received = [m["text"] for m in fake_api.bot_messages(CLIENT)
                if "Step" in m.get("text", "")]
    assert len(received) >= 2
    assert all(len(text) <= 4096 for text in received)
    assert "".join(received).count("press the button") == 12 * 20


async def test_markup_in_a_client_name_and_subject_is_shown_literally(
        fake_api: FakeBotAPI, make_desk) -> None:  # type: ignore[no-untyped-def]
    await make_desk()
    fake_api.add_user(CLIENT, "<b>Bob & Co</b>", username="bobco", language_code="en")
    number, thread = await open_ticket(fake_api, CLIENT, subject="<script>alert(1)</script>")
    card = await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains=f"#{number}",
                                               thread_id=thread)
    assert "<b>Bob & Co</b> (@bobco)" in card["text"]
    assert "<script>alert(1)</script>" in card["text"]
    topic = next(t for t in fake_api.topics(STAFF_CHAT_ID) if t["thread_id"] == thread)
    assert "<script>alert(1)</script>" in topic["name"]
