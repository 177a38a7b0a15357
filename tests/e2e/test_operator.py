"""The operator's first steps: finding the user ids that `supervisors` and queues' agents need."""

from __future__ import annotations

import pytest

from domain.policy import default_policy
from playground.telegram.bot_api import FakeBotAPI
from tests.e2e.harness import DeskFactory, test_policy
from tests.fakes.plugin import ALICE_ID, BOB_ID, STAFF_CHAT_ID

ANSWERS = {
    "en": ("Alice Agent's Telegram user id: {id}", "put their id in supervisors"),
    "ru": ("Alice Agent: id в Telegram — {id}", "впишите его id в supervisors"),
}


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_whoami_tells_an_agent_their_id_and_where_it_goes(
        fake_api: FakeBotAPI, make_desk: DeskFactory, language: str) -> None:
    await make_desk(test_policy(default_policy(), staff_language=language))
    said = fake_api.user_sends(ALICE_ID, "Hello", chat_id=STAFF_CHAT_ID)

    fake_api.user_sends(ALICE_ID, "/whoami", chat_id=STAFF_CHAT_ID)

    own, where = ANSWERS[language]
    answer = await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains=str(ALICE_ID))
    assert own.format(id=ALICE_ID) in answer["text"] and where in answer["text"]

    # Bob, setting up the desk, learns Alice's id by replying to her message.
    fake_api.user_sends(BOB_ID, "/id", chat_id=STAFF_CHAT_ID, reply_to=said["message_id"])
    await fake_api.wait_for(lambda: len(fake_api.bot_messages(STAFF_CHAT_ID)) >= 2,
                            description="the answer to Bob")
    about_alice = fake_api.bot_messages(STAFF_CHAT_ID)[-1]
    assert own.format(id=ALICE_ID) in about_alice["text"]
    assert str(BOB_ID) not in about_alice["text"]
