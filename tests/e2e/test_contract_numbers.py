"""Contract numbers as people type them (SPEC §1): the prompt shows the format, the match is
confirmed with the customer's name, and case, spaces, dashes, № and Cyrillic look-alikes do not
matter."""

from __future__ import annotations

import pytest

from playground.telegram.bot_api import FakeBotAPI
from tests.e2e.harness import RunningDesk

CLIENT = 5101

PROMPT = {"en": "Send your support contract number (like C-123)",
          "ru": "Отправьте номер договора на техподдержку (например, C-123)"}
MATCHED = {"en": "Contract: C-100 · ACME", "ru": "Договор: C-100 · ACME"}
NEXT = {"en": "What kind of request", "ru": "Какой это тип"}
UNKNOWN = {"en": "Contract “C-999” is not in our registry. Check the number (it looks like "
                 "C-123) and send it again.",
           "ru": "Договора «C-999» нет в нашем реестре. Проверьте номер (он выглядит так: "
                 "C-123) и отправьте его ещё раз."}


async def prompted(api: FakeBotAPI, language: str) -> None:
    """A new client starts a request and is asked for the contract, with its format."""
    api.add_user(CLIENT, "Erin", username="erin", language_code=language)
    api.user_sends(CLIENT, "/new")
    prompt = await api.wait_for_bot_message(CLIENT, contains=PROMPT[language][:20])
    assert prompt["text"].startswith(PROMPT[language]), prompt["text"]


@pytest.mark.parametrize("typed", ["c-100", "C100", "C 100", "№ C-100", "No. c100",
                                   "С-100",  # the С is Cyrillic: a Russian keyboard
                                   " c–100 "])
async def test_contract_number_typed_loosely_is_found_and_named(
        fake_api: FakeBotAPI, desk: RunningDesk, typed: str) -> None:
    await prompted(fake_api, "en")

    fake_api.user_sends(CLIENT, typed)

    question = await fake_api.wait_for_bot_message(CLIENT, contains=NEXT["en"])
    assert question["text"].startswith(MATCHED["en"] + "\n"), question["text"]


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_contract_prompt_shows_the_format_and_a_miss_says_it_again(
        fake_api: FakeBotAPI, desk: RunningDesk, language: str) -> None:
    await prompted(fake_api, language)

    fake_api.user_sends(CLIENT, "C-999")
    miss = await fake_api.wait_for_bot_message(CLIENT, contains="C-999")
    assert miss["text"] == UNKNOWN[language]

    fake_api.user_sends(CLIENT, "№ с 100")  # Cyrillic с, a space and a №
    question = await fake_api.wait_for_bot_message(CLIENT, contains=NEXT[language])
    assert question["text"].startswith(MATCHED[language] + "\n"), question["text"]


async def test_license_key_is_matched_as_typed_too(fake_api: FakeBotAPI,
                                                   desk: RunningDesk) -> None:
    await prompted(fake_api, "en")
    fake_api.user_sends(CLIENT, "lic acme 1")  # LIC-ACME-1 in the registry
    question = await fake_api.wait_for_bot_message(CLIENT, contains=NEXT["en"])
    assert question["text"].startswith(MATCHED["en"])
