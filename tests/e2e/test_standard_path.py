"""The standard path as a person walks it, from /start to the rating, in English and Russian.

It counts what the client does and what the bot says from /start to the acknowledgement (SPEC
§11: as few steps as it can), follows the ticket through the staff group, and writes both
sides as a transcript (to the folder FRONTDESK_TRANSCRIPTS names, when it is set) — the
closing note of issue 16 quotes them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from domain.policy import FaqEntry, Text, default_policy
from playground.telegram.bot_api import FakeBotAPI
from tests.e2e.flows import (
    Person,
    card_of,
    newest_question,
    received,
    to_the_description,
    topic_of,
)
from tests.e2e.harness import DeskFactory, test_policy
from tests.fakes.plugin import ALICE_ID, STAFF_CHAT_ID

CLIENT = 5001
FAQ = FaqEntry(Text.of("What to do when you cannot log in",
                       "Что делать, если не получается войти"),
               "https://docs.example.com/login", ("login", "войти"))

# What each language's person types; the bot's words are asserted where the person reads them.
SAYS = {
    "en": {"subject": "Login fails", "steps": "I press Login and get error 500",
           "photo": "the screen", "reply": "Please clear the browser cache and try again.",
           "note": "// probably the cache after the update", "comment": "Took too long"},
    "ru": {"subject": "Не могу войти в систему", "steps": "Нажимаю «Войти» — ошибка 500",
           "photo": "экран", "reply": "Очистите, пожалуйста, кэш браузера и попробуйте снова.",
           "note": "// видимо, кэш после обновления", "comment": "Слишком долго"},
}
SEES = {
    "en": {"taken": "is on your request #1001", "rating": "Your rating: ★★☆☆☆",
           "solved": "You said: solved", "history_take": "Alice Agent took it",
           "history_rated": "rated it 2/5: Took too long"},
    "ru": {"taken": "работает над вашим обращением #1001", "rating": "Ваша оценка: ★★☆☆☆",
           "solved": "Ваш ответ: всё работает", "history_take": "Взята в работу — Alice Agent",
           "history_rated": "Оценка 2/5: Слишком долго"},
}


def transcript(api: FakeBotAPI, chat_id: int, thread_id: int | None = None) -> str:
    """A chat (or topic) as a person reads it: who said what, buttons, reactions, service."""
    lines = []
    for message in api.messages(chat_id, thread_id, service=True):
        sender = message.get("from", {})
        who = "Bot" if sender.get("id") == api.bot_id else sender.get("first_name", "?")
        body = message.get("text") or message.get("caption") or ""
        if "photo" in message:
            body = "[photo] " + body
        service = [key for key in ("forum_topic_created", "forum_topic_edited",
                                   "forum_topic_closed", "forum_topic_reopened",
                                   "pinned_message") if key in message]
        if service:
            detail = message[service[0]].get("name", "") if isinstance(
                message[service[0]], dict) else ""
            lines.append(f"  · service: {service[0]} {detail}".rstrip())
            continue
        lines.append(f"{who}: " + body.replace("\n", "\n    "))
        buttons = [button["text"] for row in message.get("reply_markup", {}).get(
            "inline_keyboard", []) for button in row]
        if buttons:
            lines.append("    " + " ".join(f"[{label}]" for label in buttons))
        reactions = [reaction["emoji"] for reaction in
                     api.reactions(chat_id, message["message_id"])]
        if reactions:
            lines.append(f"    (the bot reacted {' '.join(reactions)})")
    return "\n".join(lines)


def service_messages(api: FakeBotAPI, thread_id: int) -> int:
    """Telegram's service messages in a topic (created, renamed, closed, reopened)."""
    return sum(1 for message in api.messages(STAFF_CHAT_ID, thread_id, service=True)
               if not (message.get("text") or message.get("caption") or "photo" in message))


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_standard_path_from_start_to_the_rating(fake_api: FakeBotAPI,
                                                      make_desk: DeskFactory,
                                                      lang: str) -> None:
    await make_desk(test_policy(default_policy(), faq=(FAQ,), staff_language=lang))
    api, says, sees = fake_api, SAYS[lang], SEES[lang]
    api.add_user(CLIENT, "Carol", username="carol", language_code=lang)
    carol = Person(api, CLIENT)

    # --- the intake: /start to the acknowledgement -----------------------------------------
    prompt = await to_the_description(api, carol, says["subject"])
    assert FAQ.title.get(lang) in prompt["text"]  # the known answers come with the prompt
    carol.sends(says["steps"])
    await received(api, carol.sends(photo=True, caption=says["photo"]))
    carol.taps(prompt, "done")
    carol.taps(await newest_question(api, CLIENT, "confirm"), "confirm")
    await api.wait_for_bot_message(CLIENT, contains="#1001")

    assert (carol.actions, len(api.bot_messages(CLIENT))) == (10, 7)  # were 11 and 11

    # --- the staff side: take, answer, note, resolve --------------------------------------
    thread = await topic_of(api, 1001)
    card = await card_of(api, thread)
    alice = Person(api, ALICE_ID)
    alice.taps(card, "take")
    await api.wait_for_bot_message(CLIENT, contains=sees["taken"])
    reply = alice.sends(says["reply"], chat_id=STAFF_CHAT_ID, thread_id=thread)
    await api.wait_for_bot_message(CLIENT, contains=says["reply"])
    await received(api, reply)  # the agent sees the answer arrived
    await received(api, alice.sends(says["note"], chat_id=STAFF_CHAT_ID, thread_id=thread))
    card = await card_of(api, thread)
    assert all("take:" not in button["callback_data"]  # taken: no Take any more
               for row in card["reply_markup"]["inline_keyboard"] for button in row)
    alice.taps(card, "resolved")

    # --- the client confirms and rates ------------------------------------------------------
    carol.taps(await newest_question(api, CLIENT, "solved"), "solved")
    rating = await newest_question(api, CLIENT, "rate")
    carol.taps(rating, "rate", "2")
    await api.wait_for(lambda: "reply_markup" not in api.message(CLIENT, rating["message_id"]))
    assert sees["rating"] in api.message(CLIENT, rating["message_id"])["text"]
    await api.wait_for(lambda: api.bot_messages(CLIENT)[-1]["message_id"] > rating["message_id"])
    carol.sends(says["comment"])
    rated = await api.wait_for_bot_message(STAFF_CHAT_ID, thread_id=thread, contains="2/5")
    assert says["comment"] in rated["text"]

    alice.sends("/history", chat_id=STAFF_CHAT_ID, thread_id=thread)
    story = await api.wait_for_bot_message(STAFF_CHAT_ID, thread_id=thread,
                                           contains=sees["history_rated"])
    assert sees["history_take"] in story["text"]
    assert "in_progress" not in story["text"] and "→" not in story["text"]
    assert sum(says["comment"] in message.get("text", "")  # the rating once, and /history
               for message in api.bot_messages(STAFF_CHAT_ID, thread)) == 2

    # A whole life leaves four service messages in the topic: created, renamed when resolved
    # and when closed (what the name shows changed), closed; taking, answering and rating it
    # rename nothing.
    assert [call.params["name"].split()[0] for call in api.sent("editForumTopic")] == [
        "☑️", "✅"]
    assert service_messages(api, thread) == 4

    folder = os.environ.get("FRONTDESK_TRANSCRIPTS")
    if folder:
        text = (f"# Standard path ({lang})\n\n## Client chat\n\n{transcript(api, CLIENT)}\n\n"
                f"## Topic\n\n{transcript(api, STAFF_CHAT_ID, thread)}\n\n"
                f"Telegram's service messages in the topic: {service_messages(api, thread)}; "
                f"the bot's messages there: {len(api.bot_messages(STAFF_CHAT_ID, thread))}\n")
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"standard-path-{lang}.md").write_text(text, encoding="utf-8")
