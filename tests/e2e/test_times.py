"""Deadlines and times as people read them: working days, the reader's zone, relative days."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.policy import default_policy
from playground.telegram.bot_api import FakeBotAPI
from tests.e2e.flows import CLIENT, asked, card_shows, open_ticket, opened, received
from tests.e2e.harness import DeskFactory, MovableClock, RunningDesk, press, test_policy

MSK = ZoneInfo("Europe/Moscow")


def set_clock(clock: MovableClock, moment: datetime) -> None:
    """Move the desk's clock to `moment` (timers stay real)."""
    clock.advance(moment - clock.now())


async def test_high_ticket_opened_monday_evening_is_due_in_three_working_days(
        fake_api: FakeBotAPI, make_desk: DeskFactory, clock: MovableClock) -> None:
    # The standard level works Mon-Fri 9-18 Moscow time; a High ticket: first response 2h,
    # resolution 3d. Opened on Monday 2026-12-14 at 19:00, its clock starts on Tuesday at 9.
    set_clock(clock, datetime(2026, 12, 14, 19, tzinfo=MSK))
    await make_desk(test_policy(default_policy(), staff_timezone="Europe/Moscow"))

    ticket = await opened(fake_api)

    card = await card_shows(fake_api, ticket, "Resolution due:")
    assert "First response due: tomorrow, Tue 15 Dec, 11:00 Moscow time" in card
    # three working days: Tue, Wed, Thu (not 72 working hours, eight days later)
    assert "Resolution due: Thu 17 Dec, 18:00 Moscow time" in card


# --- times as people read them (SPEC §11) ------------------------------------------------------

RU_CLIENT = 5301


async def russian_request(api: FakeBotAPI) -> dict[str, Any]:
    """Olga files a High request in Russian (contract C-100, standard level); return the
    acknowledgement."""
    if RU_CLIENT not in api.world.users:
        api.add_user(RU_CLIENT, "Ольга", username="olga", language_code="ru")
    api.user_sends(RU_CLIENT, "/new")
    question = await api.wait_for_bot_message(RU_CLIENT, contains="договор")
    if "C-100" in question["text"] and question.get("reply_markup"):
        press(api, RU_CLIENT, question, "C-100")
    else:
        api.user_sends(RU_CLIENT, "C-100")
    kinds = await asked(api, RU_CLIENT, "Какой это тип")
    press(api, RU_CLIENT, kinds, "Сбой")
    urgency = await asked(api, RU_CLIENT, "срочно")
    press(api, RU_CLIENT, urgency, "Высокий")
    await api.wait_for_bot_message(RU_CLIENT, contains="тему")
    api.user_sends(RU_CLIENT, "Не работает вход")
    prompt = await api.wait_for_bot_message(RU_CLIENT, contains="Опишите проблему")
    await received(api, api.user_sends(RU_CLIENT, "Ошибка 500"))
    press(api, RU_CLIENT, prompt, "Готово")
    summary = await api.wait_for_bot_message(RU_CLIENT, contains="Ваше обращение")
    press(api, RU_CLIENT, summary, "Подтвердить")
    ack: dict[str, Any] = await api.wait_for_bot_message(RU_CLIENT, contains="зарегистрировано")
    return ack


async def english_request(api: FakeBotAPI) -> dict[str, Any]:
    """Carol files a High request in English; return the acknowledgement."""
    number, _thread = await open_ticket(api, CLIENT)
    ack: dict[str, Any] = next(m for m in api.bot_messages(CLIENT)
                               if f"registered as #{number}" in m["text"])
    return ack


async def test_the_acknowledgement_reads_today_and_the_zone_by_its_name(
        fake_api: FakeBotAPI, desk: RunningDesk, clock: MovableClock) -> None:
    set_clock(clock, datetime(2026, 12, 15, 9, 30, tzinfo=MSK))  # a Tuesday, the office open

    ack = await english_request(fake_api)
    assert "First response by: today 11:30 Moscow time" in ack["text"]
    ack = await russian_request(fake_api)
    assert "Первый ответ до: сегодня 11:30 МСК" in ack["text"]


async def test_out_of_hours_the_client_reads_tomorrow_with_the_weekday_and_date(
        fake_api: FakeBotAPI, desk: RunningDesk, clock: MovableClock) -> None:
    set_clock(clock, datetime(2026, 12, 14, 19, tzinfo=MSK))  # Monday evening

    ack = await english_request(fake_api)
    assert "First response by: tomorrow, Tue 15 Dec, 11:00 Moscow time" in ack["text"]
    assert "we will start on it tomorrow, Tue 15 Dec, 09:00 Moscow time" in ack["text"]
    ack = await russian_request(fake_api)
    assert "Первый ответ до: завтра, вт 15 дек., 11:00 МСК" in ack["text"]


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_a_client_chooses_their_time_zone_and_reads_times_in_it(
        fake_api: FakeBotAPI, desk: RunningDesk, clock: MovableClock, language: str) -> None:
    set_clock(clock, datetime(2026, 12, 15, 9, 30, tzinfo=MSK))
    user = CLIENT if language == "en" else RU_CLIENT
    fake_api.add_user(user, "Carol" if language == "en" else "Ольга", language_code=language)

    fake_api.user_sends(user, "/timezone")
    shown = await fake_api.wait_for_bot_message(user, contains="/timezone Europe/Moscow")
    assert shown["text"].startswith(ZONE_NOW[language])
    fake_api.user_sends(user, "/timezone Mars")
    refused = await fake_api.wait_for_bot_message(user, contains="Mars")
    assert refused["text"].startswith(UNKNOWN_ZONE[language])
    fake_api.user_sends(user, "/timezone Екатеринбург")
    done = await fake_api.wait_for_bot_message(user, contains=DONE[language])
    assert done["text"] == DONE[language] + CHOSEN[language]

    ack = await (english_request(fake_api) if language == "en" else russian_request(fake_api))
    assert ACK_IN_ZONE[language] in ack["text"]


ZONE_NOW = {"en": "Times are shown to you in Moscow time: it is 09:30 there now.",
            "ru": "Время показывается вам по МСК: там сейчас 09:30."}
UNKNOWN_ZONE = {"en": "I do not know the time zone “Mars”.",
                "ru": "Не знаю часового пояса «Mars»."}
DONE = {"en": "Done: times are shown to you in ", "ru": "Готово: время показывается вам по "}
CHOSEN = {"en": "Yekaterinburg time now; it is 11:30 there.", "ru": "МСК+2; там сейчас 11:30."}
ACK_IN_ZONE = {"en": "First response by: today 13:30 Yekaterinburg time",
               "ru": "Первый ответ до: сегодня 13:30 МСК+2"}


async def test_the_staff_read_the_card_in_the_calendars_zone_by_default(
        fake_api: FakeBotAPI, make_desk: DeskFactory, clock: MovableClock) -> None:
    set_clock(clock, datetime(2026, 12, 15, 9, 30, tzinfo=MSK))
    await make_desk(test_policy(default_policy(), staff_language="ru"))

    ticket = await opened(fake_api)

    card = await card_shows(fake_api, ticket, "Срок первого ответа:")
    assert "Срок первого ответа: сегодня 11:30 МСК" in card
    assert "Срок решения: пт 18 дек., 09:30 МСК" in card
