"""What a client meets after a ticket is resolved or closed: coming back, reopening, the topic."""

from __future__ import annotations

from tests.e2e.flows import (
    CLIENT,
    answer_to,
    bot_says_in_topic,
    card_shows,
    opened,
    press_on_card,
    topic_closed,
)
from tests.e2e.harness import RunningDesk, press
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.plugin import STAFF_CHAT_ID


async def test_still_a_problem_on_a_resolved_ticket_leaves_its_open_topic_alone(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    ticket = await opened(fake_api)
    press_on_card(fake_api, ticket, "Resolved")
    question = await fake_api.wait_for_bot_message(CLIENT, contains="is resolved")

    await answer_to(fake_api, press(fake_api, CLIENT, question, "still a problem"))

    await card_shows(fake_api, ticket, "Status: Reopened")
    await bot_says_in_topic(fake_api, ticket, "is reopened")
    await topic_closed(fake_api, ticket, closed=False)
    # The topic was never closed: Telegram would refuse to reopen it (TOPIC_NOT_MODIFIED).
    assert [call for call in fake_api.calls if call.method == "reopenForumTopic"] == []

    press_on_card(fake_api, ticket, "Close")
    await topic_closed(fake_api, ticket)
    fake_api.user_sends(CLIENT, f"#{ticket.number} it is back")
    await bot_says_in_topic(fake_api, ticket, "it is back")
    await topic_closed(fake_api, ticket, closed=False)  # a closed topic is reopened
    assert [call.ok for call in fake_api.calls if call.method == "reopenForumTopic"] == [True]
    assert fake_api.topic(STAFF_CHAT_ID, ticket.thread)["closed"] is False
