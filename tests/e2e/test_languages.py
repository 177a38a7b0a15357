"""Clients read the bot in their language: Russian from Telegram's setting, or by /lang."""

from __future__ import annotations

from playground.telegram.bot_api import FakeBotAPI
from tests.e2e.flows import asked, received
from tests.e2e.harness import RunningDesk, press
from tests.fakes.plugin import STAFF_CHAT_ID

CLIENT = 6201


async def test_a_russian_speaking_client_goes_through_the_intake_in_russian(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    fake_api.add_user(CLIENT, "Ольга", username="olga", language_code="ru")
    fake_api.user_sends(CLIENT, "Здравствуйте")
    greeting = await fake_api.wait_for_bot_message(CLIENT, contains="Здравствуйте!")
    assert "Никогда не присылайте пароли" in greeting["text"]
    press(fake_api, CLIENT, greeting, "Новое обращение")
    await fake_api.wait_for_bot_message(CLIENT, contains="номер договора")
    fake_api.user_sends(CLIENT, "C-404")
    unknown = await fake_api.wait_for_bot_message(CLIENT, contains="нет в нашем реестре")
    assert "Продолжить без договора" in str(unknown["reply_markup"])
    fake_api.user_sends(CLIENT, "LIC-ACME-1")  # the license key works as well as the number
    kinds = await asked(fake_api, CLIENT, "Какой это тип запроса")
    press(fake_api, CLIENT, kinds, "Сбой")
    urgency = await asked(fake_api, CLIENT, "Насколько это срочно")
    assert "Работа остановлена" in urgency["text"]
    press(fake_api, CLIENT, urgency, "Критический")
    await fake_api.wait_for_bot_message(CLIENT, contains="Напишите тему")
    fake_api.user_sends(CLIENT, "Не работает вход")
    prompt = await fake_api.wait_for_bot_message(CLIENT, contains="Опишите проблему")
    await received(fake_api, fake_api.user_sends(CLIENT, "Ошибка 500 на странице входа"))
    press(fake_api, CLIENT, prompt, "Готово")
    summary = await fake_api.wait_for_bot_message(CLIENT, contains="Ваше обращение")
    assert "Уровень обслуживания: Стандарт" in summary["text"]
    press(fake_api, CLIENT, summary, "Подтвердить")
    ack = await fake_api.wait_for_bot_message(CLIENT, contains="зарегистрировано")
    assert "Первый ответ до:" in ack["text"] and "МСК" in ack["text"]
    # The staff group keeps its own language (English by default).
    card = await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="Client: Ольга")
    assert "Priority: Critical" in card["text"]


async def test_lang_switches_the_clients_language(fake_api: FakeBotAPI,
                                                 desk: RunningDesk) -> None:
    fake_api.add_user(CLIENT, "Olga", language_code="ru")
    fake_api.user_sends(CLIENT, "/lang")
    choice = await fake_api.wait_for_bot_message(CLIENT, contains="Выберите язык")
    press(fake_api, CLIENT, choice, "English")
    await fake_api.wait_for(lambda: "English ✅" in (fake_api.message(
        CLIENT, choice["message_id"]) or {}).get("text", ""))
    fake_api.user_sends(CLIENT, "/help")
    help_text = await fake_api.wait_for_bot_message(CLIENT, contains="/new")
    assert "a new request" in help_text["text"]


async def test_a_refusal_of_the_desk_is_said_in_the_clients_language(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    """TicketNotFound reaches the client router's error handler inside the update's language
    (and nothing else is said: no 'something went wrong')."""
    fake_api.add_user(CLIENT, "Ольга", language_code="ru")
    fake_api.user_sends(CLIENT, "/ticket 4242")
    refused = await fake_api.wait_for_bot_message(CLIENT, contains="#4242")
    assert refused["text"] == "У вас нет обращения #4242."
    fake_api.user_sends(CLIENT, "/help")  # answered after anything else the refusal brought
    await fake_api.wait_for_bot_message(CLIENT, contains="/new")
    assert [sent["text"] for sent in fake_api.bot_messages(CLIENT)][:-1] == [refused["text"]]
