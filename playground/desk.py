"""The playground's desk: its people, the staff group, the sample contracts and the policy."""

from __future__ import annotations

import logging
import pickle
import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from bot.policy_file import policy_from_toml
from bot.settings import Settings
from domain.clients import Contract
from domain.policy import Policy
from playground.clock import PlaygroundClock
from playground.telegram.bot_api import FakeBotAPI, RateLimits
from storage.engine import make_engine, make_sessionmaker, upgrade
from storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

TOKEN = "700000001:PlaygroundTokenNotForTelegram_0123456789"
BOT_USERNAME = "frontdesk_playground_bot"
BOT_NAME = "Frontdesk"
STAFF_CHAT_ID = -1001000000777
STAFF_TITLE = "Support staff"
SUPERVISOR_ID = 1003
FIRST_CLIENT_ID = 5001
FIRST_AGENT_ID = 1101
SNAPSHOT_FILE = "telegram.pickle"
DATABASE_FILE = "desk.sqlite3"


@dataclass(frozen=True)
class Person:
    """Someone the visitor can play."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language: str = "en"


STAFF = (
    Person(1001, "Alice", "Agent", "alice"),
    Person(1002, "Bob", "Agent", "bob"),
    Person(SUPERVISOR_ID, "Sam", "Supervisor", "sam"),
)
CLIENTS = (Person(FIRST_CLIENT_ID, "Carol", "Client", "carol"),)


def sample_contracts(today: date) -> list[Contract]:
    """An active standard contract, a premium one with special requests, an expired one."""
    return [
        Contract("C-100", "ACME", "standard", today + timedelta(days=365), False, "LIC-ACME-1"),
        Contract("C-200", "Globex", "premium", today + timedelta(days=365), True, None),
        Contract("C-300", "Initech", "standard", today - timedelta(days=30), False, None),
    ]


def sample_policy() -> Policy:
    """The playground's policy (`sample.toml`): short round-the-clock SLA targets, FAQ, canned."""
    text = resources.files("playground").joinpath("sample.toml").read_text(encoding="utf-8")
    return policy_from_toml(tomllib.loads(text), "playground/sample.toml")


def desk_settings(data: Path, api_url: str) -> Settings:
    """`frontdesk run`'s settings for the playground: the stand-in Telegram, SQLite in `data`."""
    return Settings(bot_token=TOKEN, staff_chat_id=STAFF_CHAT_ID,
                    database_url=f"sqlite+aiosqlite:///{data / DATABASE_FILE}",
                    telegram_api_url=api_url)


async def seed_database(database_url: str, policy: Policy, clock: PlaygroundClock) -> None:
    """Migrate the database and put the sample contracts in (again: they are upserted)."""
    engine = make_engine(database_url)
    try:
        await upgrade(engine, policy=policy)
        async with UnitOfWorkFactory(make_sessionmaker(engine))() as uow:
            now = clock.now()
            await uow.contracts.upsert_many(sample_contracts(now.date()), now)
            await uow.commit()
    finally:
        await engine.dispose()


def make_telegram(clock: PlaygroundClock) -> FakeBotAPI:
    """The stand-in Telegram with the staff forum (the bot an administrator) and a client."""
    api = FakeBotAPI(TOKEN, bot_username=BOT_USERNAME, bot_first_name=BOT_NAME,
                     clock=clock.timestamp)
    for person in (*STAFF, *CLIENTS):
        add_person(api, person)
    admins = [person.id for person in STAFF if person.id in {1001, SUPERVISOR_ID}]
    members = [person.id for person in STAFF if person.id not in admins]
    api.add_group(STAFF_CHAT_ID, STAFF_TITLE, is_forum=True, member_ids=members,
                  admin_ids=admins)
    api.set_privacy_mode(enabled=False)  # as the README's set-up asks: the bot reads the group
    # Telegram's flood limits answered as Telegram does (429, retry after), so that the page shows
    # the desk as paced as it is in production: 20 messages a minute into the staff group.
    api.set_rate_limits(RateLimits(mode="enforce"))
    return api


def add_person(api: FakeBotAPI, person: Person) -> dict[str, Any]:
    """Register a person with the stand-in Telegram."""
    return api.add_user(person.id, person.first_name, username=person.username,
                        language_code=person.language, last_name=person.last_name)


def save(api: FakeBotAPI, clock: PlaygroundClock, data: Path) -> None:
    """Keep the stand-in's chats and the clock's offset beside the desk's database."""
    state = {"world": api.world.export_state(), "offset": clock.offset}
    temporary = data / f"{SNAPSHOT_FILE}.tmp"
    temporary.write_bytes(pickle.dumps(state))
    temporary.replace(data / SNAPSHOT_FILE)


def restore(api: FakeBotAPI, clock: PlaygroundClock, data: Path) -> bool:
    """Put back what :func:`save` kept; False when there is nothing (or nothing readable)."""
    path = data / SNAPSHOT_FILE
    if not path.is_file():
        return False
    try:
        state = pickle.loads(path.read_bytes())  # our own file, written by save()
        api.world.restore_state(state["world"])
        clock.offset = state["offset"]
    except Exception as error:  # an older or damaged file: start the chats afresh
        log.warning("could not read %s (%s); the chats start empty", path, error)
        return False
    return True


def forget(data: Path) -> None:
    """`--fresh`: remove the playground's database and chats."""
    for name in (DATABASE_FILE, f"{DATABASE_FILE}-wal", f"{DATABASE_FILE}-shm", SNAPSHOT_FILE):
        (data / name).unlink(missing_ok=True)
