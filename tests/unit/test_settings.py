"""Settings from the environment and the policy from frontdesk.toml: defaults and clear errors."""

from __future__ import annotations

import tomllib
from datetime import date, time, timedelta
from pathlib import Path
from types import MappingProxyType

import pytest

from bot.policy_file import load_policy, policy_from_toml
from bot.settings import DEFAULT_CONFIG_PATH, ConfigError, Settings, load_settings
from domain.durations import Span
from domain.policy import (
    CalendarSpec,
    CannedAnswer,
    FaqEntry,
    Policy,
    PriorityLevel,
    Queue,
    RequestType,
    SlaLevel,
    SlaTarget,
    Text,
    default_policy,
)

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"
SECRET = "s3cret-webhook_TOKEN"
REPO = Path(__file__).resolve().parents[2]


def env(**overrides: str) -> dict[str, str]:
    """A minimal valid environment with `overrides` applied."""
    return {"BOT_TOKEN": TOKEN, "STAFF_CHAT_ID": "-1001234567890", **overrides}


def settings_error(environ: dict[str, str]) -> str:
    """The message of the ConfigError `load_settings` raises for `environ`."""
    with pytest.raises(ConfigError) as caught:
        load_settings(environ)
    return str(caught.value)


def policy_error(toml: str) -> str:
    """The message of the ConfigError raised for the policy `toml`."""
    with pytest.raises(ConfigError) as caught:
        policy_from_toml(tomllib.loads(toml))
    return str(caught.value)


# --------------------------------------------------------------------------- environment


def test_minimal_environment_gets_the_defaults() -> None:
    settings = load_settings(env())

    assert settings == Settings(bot_token=TOKEN, staff_chat_id=-1001234567890)
    assert settings.database_url == "sqlite+aiosqlite:///frontdesk.sqlite3"
    assert settings.telegram_api_url is None
    assert settings.webhook_url is None
    assert settings.uses_webhook is False
    assert (settings.webhook_listen, settings.webhook_port) == ("0.0.0.0", 8080)
    assert settings.redis_url is None
    assert settings.config_path == DEFAULT_CONFIG_PATH == Path("frontdesk.toml")
    assert settings.config_explicit is False
    assert settings.log_level == "INFO"


def test_every_variable_is_read() -> None:
    settings = load_settings(env(
        DATABASE_URL="postgresql+asyncpg://desk:pw@db/desk",
        TELEGRAM_API_URL="http://localhost:8081/",
        WEBHOOK_URL="https://bot.example.com/telegram",
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT="9000",
        REDIS_URL="redis://redis:6379/0",
        FRONTDESK_CONFIG="/etc/frontdesk/desk.toml",
        LOG_LEVEL="debug",
    ))

    assert settings.telegram_api_url == "http://localhost:8081"
    assert settings.webhook_url == "https://bot.example.com/telegram"
    assert settings.webhook_secret is not None
    assert settings.webhook_secret.get_secret_value() == SECRET
    assert settings.uses_webhook is True
    assert (settings.webhook_listen, settings.webhook_port) == ("127.0.0.1", 9000)
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.config_path == Path("/etc/frontdesk/desk.toml")
    assert settings.config_explicit is True
    assert settings.log_level == "DEBUG"


def test_empty_variables_count_as_unset() -> None:
    settings = load_settings(env(DATABASE_URL="", WEBHOOK_URL=" ", FRONTDESK_CONFIG=""))

    assert settings.database_url == "sqlite+aiosqlite:///frontdesk.sqlite3"
    assert settings.webhook_url is None
    assert settings.config_explicit is False


@pytest.mark.parametrize(("given", "expected"), [
    ("postgresql://desk:pw@db:5432/desk", "postgresql+asyncpg://desk:pw@db:5432/desk"),
    ("postgres://desk:pw@db/desk", "postgresql+asyncpg://desk:pw@db/desk"),
    ("postgresql+asyncpg://db/desk", "postgresql+asyncpg://db/desk"),
    ("sqlite:///data/desk.sqlite3", "sqlite+aiosqlite:///data/desk.sqlite3"),
    ("sqlite:////var/lib/desk.sqlite3", "sqlite+aiosqlite:////var/lib/desk.sqlite3"),
    ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
])
def test_database_url_is_normalised_to_the_async_driver(given: str, expected: str) -> None:
    assert load_settings(env(DATABASE_URL=given)).database_url == expected


def test_unsupported_database_names_the_scheme_but_not_the_password() -> None:
    message = settings_error(env(DATABASE_URL="mysql://root:hunter2@db/desk"))

    assert message.startswith("DATABASE_URL has unsupported scheme 'mysql'")
    assert "hunter2" not in message


def test_missing_token_says_where_to_get_one() -> None:
    message = settings_error({"STAFF_CHAT_ID": "-100123"})

    assert message == ("BOT_TOKEN is not set: give the token @BotFather issued "
                       "(like 123456:ABC-DEF...)")


@pytest.mark.parametrize("token", ["123456", "abc:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq",
                                   "123456:short", TOKEN + "!"])
def test_malformed_token_is_refused_without_showing_it(token: str) -> None:
    message = settings_error(env(BOT_TOKEN=token))

    assert message == ("BOT_TOKEN is malformed: expected <digits>:<at least 30 letters, "
                       "digits, _ or ->")
    assert token not in message


def test_token_with_surrounding_whitespace_is_trimmed() -> None:
    assert load_settings(env(BOT_TOKEN=f"  {TOKEN}\n")).bot_token.get_secret_value() == TOKEN


def test_staff_chat_id_is_required() -> None:
    message = settings_error({"BOT_TOKEN": TOKEN})

    assert message.startswith("STAFF_CHAT_ID is not set")
    assert TOKEN not in message


def test_staff_chat_id_must_be_an_integer() -> None:
    assert settings_error(env(STAFF_CHAT_ID="abc")) == (
        "STAFF_CHAT_ID must be an integer chat id like -1001234567890, got 'abc'"
    )


def test_staff_chat_id_must_be_a_group_not_a_person() -> None:
    assert settings_error(env(STAFF_CHAT_ID="123456")).startswith(
        "STAFF_CHAT_ID must be a group chat id"
    )


@pytest.mark.parametrize(("name", "value", "start"), [
    ("TELEGRAM_API_URL", "ftp://api", "TELEGRAM_API_URL must be an http(s) URL"),
    ("TELEGRAM_API_URL", "localhost:8081", "TELEGRAM_API_URL must be an http(s) URL"),
    ("WEBHOOK_URL", "http://bot.example.com/hook", "WEBHOOK_URL must use https"),
    ("WEBHOOK_URL", "bot.example.com/hook", "WEBHOOK_URL must be an https URL"),
    ("WEBHOOK_PORT", "http", "WEBHOOK_PORT must be a TCP port number 1-65535, got 'http'"),
    ("WEBHOOK_PORT", "70000", "WEBHOOK_PORT must be a TCP port number"),
    ("REDIS_URL", "http://redis:6379", "REDIS_URL must be redis://"),
    ("LOG_LEVEL", "loud", "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
])
def test_bad_variable_is_named(name: str, value: str, start: str) -> None:
    environ = env(**{name: value})
    if name == "WEBHOOK_URL":
        environ["WEBHOOK_SECRET"] = SECRET

    assert settings_error(environ).startswith(start)


def test_plain_http_webhook_is_allowed_on_loopback_for_tests() -> None:
    settings = load_settings(env(WEBHOOK_URL="http://127.0.0.1:8443/hook",
                                 WEBHOOK_SECRET=SECRET))

    assert settings.webhook_url == "http://127.0.0.1:8443/hook"


def test_webhook_needs_a_secret() -> None:
    message = settings_error(env(WEBHOOK_URL="https://bot.example.com/hook"))

    assert message.startswith("WEBHOOK_SECRET is not set: it is required when WEBHOOK_URL is set")


@pytest.mark.parametrize("secret", ["has space", "ключ-секрет-длинный", "x" * 257])
def test_malformed_webhook_secret_is_refused_without_showing_it(secret: str) -> None:
    message = settings_error(env(WEBHOOK_URL="https://bot.example.com/hook",
                                 WEBHOOK_SECRET=secret))

    assert message.startswith("WEBHOOK_SECRET is malformed: expected 1-256 letters")
    assert secret not in message


def test_token_pasted_into_another_variable_is_not_echoed() -> None:
    message = settings_error(env(TELEGRAM_API_URL=TOKEN))

    assert message.startswith("TELEGRAM_API_URL must be an http(s) URL")
    assert TOKEN not in message


def test_repr_hides_the_token_the_secret_and_passwords() -> None:
    settings = load_settings(env(
        WEBHOOK_URL="https://bot.example.com/hook", WEBHOOK_SECRET=SECRET,
        DATABASE_URL="postgresql://desk:hunter2@db/desk",
        REDIS_URL="redis://:redispass@redis:6379/0",
    ))

    for shown in (repr(settings), str(settings)):
        assert TOKEN not in shown
        assert SECRET not in shown
        assert "hunter2" not in shown
        assert "redispass" not in shown
        assert "postgresql+asyncpg://desk:***@db/desk" in shown
        assert "staff_chat_id=-1001234567890" in shown


def test_replaced_settings_are_checked_and_keep_secrets_hidden() -> None:
    settings = load_settings(env()).replaced(webhook_url="https://bot.example.com/hook",
                                             webhook_secret=SECRET, webhook_port=9000)

    assert settings.webhook_secret is not None
    assert settings.webhook_secret.get_secret_value() == SECRET
    assert (settings.uses_webhook, settings.webhook_port) == (True, 9000)
    assert SECRET not in repr(settings) and TOKEN not in repr(settings)
    with pytest.raises(ValueError, match="WEBHOOK_PORT must be a TCP port number"):
        settings.replaced(webhook_port=0)


# --------------------------------------------------------------------------- policy file


def test_empty_file_is_the_default_policy(tmp_path: Path) -> None:
    path = tmp_path / "frontdesk.toml"
    path.write_text("")

    assert load_policy(path) == default_policy()


def test_example_file_is_valid_and_spells_out_the_defaults() -> None:
    assert load_policy(REPO / "frontdesk.example.toml") == default_policy()


def test_missing_default_file_means_the_defaults(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    assert load_policy(DEFAULT_CONFIG_PATH) == default_policy()


def test_missing_named_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "desk.toml"

    with pytest.raises(ConfigError, match=r"desk\.toml: the policy file does not exist"):
        load_policy(path, explicit=True)
    with pytest.raises(ConfigError, match="does not exist"):
        load_policy(path)  # a path other than the default counts as named


def test_invalid_toml_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "frontdesk.toml"
    path.write_text('[desk]\nnote_prefix = "//"\nflood_limit = \n')

    with pytest.raises(ConfigError) as caught:
        load_policy(path)

    assert str(caught.value) == f"{path}:3: invalid TOML: Invalid value (at line 3, column 15)"


def test_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "frontdesk.toml"
    path.write_bytes('[desk]\nnote_prefix = "Примечание"\n'.encode("cp1251"))

    with pytest.raises(ConfigError, match="not UTF-8"):
        load_policy(path)


@pytest.mark.parametrize(("toml", "message"), [
    ('[desk]\nnote_prefx = "#"',
     "frontdesk.toml: [desk] unknown key 'note_prefx' (did you mean 'note_prefix'?)"),
    ("[desks]\n", "frontdesk.toml: unknown top-level key 'desks' (did you mean 'desk'?)"),
    ("[desk]\nauto_close_after = 3",
     "frontdesk.toml: desk.auto_close_after: expected a duration like 45s, 30m, 4h, 2d, got 3"),
    ('[desk]\nreopen_window = "a week"',
     "frontdesk.toml: desk.reopen_window: expected a duration like 45s, 30m, 4h, 2d, "
     "got 'a week'"),
    ('[desk]\nunassigned_after = "0m"',
     "frontdesk.toml: desk.unassigned_after: expected a duration above zero, got '0m'"),
    ('[desk]\nallow_without_contract = "yes"',
     "frontdesk.toml: desk.allow_without_contract: expected true or false, got 'yes'"),
    ('[desk]\nnote_prefix = " "',
     "frontdesk.toml: desk.note_prefix: expected a non-empty prefix like \"//\", got ' '"),
    ('[desk]\ndefault_language = "de"',
     "frontdesk.toml: desk.default_language: expected one of en, ru, got 'de'"),
    ('[desk]\nstaff_timezone = "Moscow"',
     "frontdesk.toml: desk.staff_timezone: unknown time zone 'Moscow'"),
    ("[desk]\nescalation_warn_at = 1",
     "frontdesk.toml: desk.escalation_warn_at: expected a share between 0 and 1 like 0.8, "
     "got 1"),
    ("[desk]\nflood_limit = 0",
     "frontdesk.toml: desk.flood_limit: expected a whole number above 0, got 0"),
    ('[desk]\nsupervisors = ["@boss"]',
     "frontdesk.toml: desk.supervisors: expected a list of Telegram user ids like "
     "[1001, 1002], got ['@boss']"),
])
def test_bad_desk_setting_is_named_with_its_full_key(toml: str, message: str) -> None:
    assert policy_error(toml) == message


def test_unknown_time_zone_in_a_calendar_names_the_full_path() -> None:
    toml = STANDARD_LEVEL.replace('"Europe/Moscow"', '"Mars/Olympus"')

    assert policy_error(toml) == (
        "frontdesk.toml: sla.levels.standard.calendar.timezone: unknown time zone 'Mars/Olympus'"
    )


def test_priority_without_a_target_in_a_default_level_is_named() -> None:
    toml = '[[priorities]]\nkey = "urgent"\n'

    assert policy_error(toml).startswith(
        "frontdesk.toml: priority 'urgent' has no SLA target in level 'premium'"
    )


def test_priority_without_a_target_in_a_configured_level_is_named() -> None:
    toml = STANDARD_LEVEL.replace('low = { first_response = "8h", resolution = "10d" }\n', "")

    assert policy_error(toml).startswith(
        "frontdesk.toml: priority 'low' has no SLA target in level 'standard'"
    )


BAD_POLICIES = [
    ('[[request_types]]\nkey = "bug"\nqueue = "suport"\n[[queues]]\nkey = "support"\n',
     "frontdesk.toml: request_types[1].queue: request type 'bug' names unknown queue 'suport' "
     "(known: support)"),
    ('[[request_types]]\nkey = "bug"\nqueue = "support"\ntitel = "Bug"\n',
     "frontdesk.toml: [request_types[1]] unknown key 'titel' (did you mean 'title'?)"),
    ('[[request_types]]\nkey = "Bug"\nqueue = "support"\n',
     "frontdesk.toml: request_types[1].key: expected a key of lowercase letters, digits, _ or - "
     "(at most 32), got 'Bug'"),
    ('[[request_types]]\ntitle = "Bug"\nqueue = "support"\n',
     "frontdesk.toml: request_types[1]: key is required"),
    ('[[queues]]\nkey = "support"\n[[queues]]\nkey = "support"\n',
     "frontdesk.toml: queues: key 'support' is used twice"),
    ('[[queues]]\nkey = "support"\n',
     "frontdesk.toml: request_types[4].queue: request type 'change' names unknown queue "
     "'development' (known: support)"),
    ('[[queues]]\nkey = "support"\nround_robin = true\n',
     "frontdesk.toml: queues[1].round_robin: true needs the queue's agents to take turns: "
     "list them in agents = [...]"),
    ('[[priorities]]\nkey = "high"\n[[priorities]]\nkey = "high"\n',
     "frontdesk.toml: priorities: key 'high' is used twice"),
    ('[[priorities]]\nkey = "special"\n',
     "frontdesk.toml: priorities[1].key: 'special' is reserved for special requests "
     "(sla targets); choose another key"),
    ('[[priorities]]\nkey = "high"\ntitle = { en = "High", de = "Hoch" }\n',
     "frontdesk.toml: priorities[1].title: unknown language 'de' (expected en, ru)"),
    ('[[priorities]]\nkey = "high"\ntitle = { en = "" }\n',
     "frontdesk.toml: priorities[1].title.en: expected a non-empty string, got ''"),
    ("priorities = []\n", "frontdesk.toml: priorities: expected at least one entry"),
    ('[[faq]]\ntitle = "Reset"\nurl = "docs/reset"\nkeywords = ["reset"]\n',
     "frontdesk.toml: faq[1].url: expected an http(s) link, got 'docs/reset'"),
    ('[[faq]]\ntitle = "Reset"\nurl = "https://docs/reset"\nkeywords = []\n',
     "frontdesk.toml: faq[1].keywords: expected at least one keyword"),
    ("[canned]\ndocs = 5\n",
     "frontdesk.toml: canned.docs: expected a string or { en = \"...\", ru = \"...\" }, got 5"),
    ("[sla.levels]\n", "frontdesk.toml: sla.levels: expected at least one level"),
    ("[sla]\nlevel = 1\n", "frontdesk.toml: [sla] unknown key 'level' (did you mean 'levels'?)"),
]


@pytest.mark.parametrize(("toml", "message"), BAD_POLICIES)
def test_bad_list_entry_is_named(toml: str, message: str) -> None:
    assert policy_error(toml) == message


STANDARD_LEVEL = """
[sla.levels.standard.calendar]
timezone = "Europe/Moscow"
hours = { mon = "09:00-18:00" }
[sla.levels.standard.targets]
critical = { first_response = "1h", resolution = "1d" }
high = { first_response = "2h", resolution = "3d" }
normal = { first_response = "4h", resolution = "5d" }
low = { first_response = "8h", resolution = "10d" }
"""


@pytest.mark.parametrize(("old", "new", "message"), [
    ('mon = "09:00-18:00"', 'mon = "18:00-09:00"',
     "frontdesk.toml: sla.levels.standard.calendar.hours.mon: opening must come before "
     "closing, got '18:00-09:00'"),
    ('mon = "09:00-18:00"', 'mon = "9-18"',
     "frontdesk.toml: sla.levels.standard.calendar.hours.mon: expected hours like "
     "\"09:00-18:00\", got '9-18'"),
    ('mon = "09:00-18:00"', 'mon = "09:00-25:00"',
     "frontdesk.toml: sla.levels.standard.calendar.hours.mon: expected hours like "
     "\"09:00-18:00\", got '09:00-25:00'"),
    ('mon = "09:00-18:00"', 'monday = "09:00-18:00"',
     "frontdesk.toml: [sla.levels.standard.calendar.hours] unknown key 'monday' "
     "(did you mean 'mon'?)"),
    ('timezone = "Europe/Moscow"', 'timezone = "Europe/Moscow"\nholidays = ["2026-02-30"]',
     "frontdesk.toml: sla.levels.standard.calendar.holidays: expected a date like 2026-01-01, "
     "got '2026-02-30'"),
    ('timezone = "Europe/Moscow"', 'timezone = "Europe/Moscow"\nholidays = ["01.01.2026"]',
     "frontdesk.toml: sla.levels.standard.calendar.holidays: expected a date like 2026-01-01, "
     "got '01.01.2026'"),
    ('timezone = "Europe/Moscow"',
     'timezone = "Europe/Moscow"\nshort_days = { x = "09:00-17:00" }',
     "frontdesk.toml: sla.levels.standard.calendar.short_days: expected a date like "
     "2026-01-01, got 'x'"),
    ('hours = { mon = "09:00-18:00" }', "hours = {}",
     "frontdesk.toml: sla.levels.standard.calendar.hours: expected at least one working day "
     "like { mon = \"09:00-18:00\" } (or calendar = \"24x7\")"),
    ('hours = { mon = "09:00-18:00" }', "",
     "frontdesk.toml: sla.levels.standard.calendar: hours is required"),
    ('critical = { first_response = "1h", resolution = "1d" }',
     'critical = { first_response = "2d", resolution = "1d" }',
     "frontdesk.toml: sla.levels.standard.targets.critical: first_response must not be longer "
     "than resolution"),
    ('critical = { first_response = "1h", resolution = "1d" }',
     'critical = { first_respons = "1h", resolution = "1d" }',
     "frontdesk.toml: [sla.levels.standard.targets.critical] unknown key 'first_respons' "
     "(did you mean 'first_response'?)"),
    ('critical = { first_response = "1h", resolution = "1d" }',
     'critical = { first_response = "1h", resolution = "1d" }\nurgent = "1h"',
     "frontdesk.toml: [sla.levels.standard.targets] unknown key 'urgent' "
     "(known: critical, high, normal, low, special)"),
])
def test_bad_calendar_or_target_is_named_with_its_full_key(old: str, new: str,
                                                           message: str) -> None:
    assert old in STANDARD_LEVEL
    assert policy_error(STANDARD_LEVEL.replace(old, new)) == message


CUSTOM = """
[desk]
allow_without_contract = false
note_prefix = "!!"
default_language = "ru"
staff_language = "ru"
staff_timezone = "Asia/Yekaterinburg"
supervisors = [1001, 1002]
show_agent_name = false
auto_close_after = "2d"
reopen_window = "14d"
escalation_warn_at = 0.75
unassigned_after = "1h"
flood_limit = 10
flood_window = "30s"
subject_max_length = 80

[[request_types]]
key = "incident"
title = { en = "Incident", ru = "Инцидент" }
queue = "l1"

[[request_types]]
key = "feature"
title = "Feature"
queue = "dev"

[[priorities]]
key = "p1"
title = { en = "Urgent", ru = "Срочный" }
description = { en = "Down", ru = "Не работает" }
emoji = "🔥"

[[priorities]]
key = "p2"
title = "Normal"

[[priorities]]
key = "p3"
title = "Low"
description = "Whenever"

[sla.levels.gold]
title = { en = "Gold", ru = "Золото" }
calendar = "24x7"

[sla.levels.gold.targets]
p1 = { first_response = "10m", resolution = "2h" }
p2 = { first_response = "1h", resolution = "1d" }
p3 = { first_response = "4h", resolution = "1w" }
special = { first_response = "5m", resolution = "1h" }

[sla.levels.office]

[sla.levels.office.calendar]
timezone = "Europe/Moscow"
hours = { mon = "09:00-18:00", fri = "10:00-16:30" }
holidays = ["2026-01-01", 2026-01-02]
short_days = { "2026-12-30" = "09:00-17:00" }

[sla.levels.office.targets]
p1 = { first_response = "1h", resolution = "1d" }
p2 = { first_response = "4h", resolution = "3d" }
p3 = { first_response = "1d", resolution = "10d" }

[[queues]]
key = "l1"
title = { en = "First line", ru = "Первая линия" }
agents = [2001, 2002]
round_robin = true

[[queues]]
key = "dev"
staff_chat_id = -1001000000002

[[faq]]
title = { en = "How to reset a password", ru = "Как сбросить пароль" }
url = "https://docs.example.com/reset"
keywords = ["password", "пароль", "reset"]

[canned]
docs = { en = "See the docs", ru = "См. документацию" }
hello = "Hello!"
"""


def test_custom_file_builds_the_policy_it_describes(tmp_path: Path) -> None:
    path = tmp_path / "desk.toml"
    path.write_text(CUSTOM, encoding="utf-8")

    policy = load_policy(path, explicit=True)

    targets = {
        "gold": {"p1": ("10m", "2h"), "p2": ("1h", "1d"), "p3": ("4h", "1w")},
        "office": {"p1": ("1h", "1d"), "p2": ("4h", "3d"), "p3": ("1d", "10d")},
    }
    def target(first: str, resolution: str) -> SlaTarget:
        def span(text: str) -> Span:  # days and weeks stay whole: working days, not 24 h
            count, unit = int(text[:-1]), text[-1]
            if unit in "dw":
                return Span(days=count) if unit == "d" else Span(weeks=count)
            return Span(time=timedelta(minutes=count * (60 if unit == "h" else 1)))
        return SlaTarget(span(first), span(resolution))

    def level_targets(key: str) -> MappingProxyType[str, SlaTarget]:
        return MappingProxyType({p: target(*t) for p, t in targets[key].items()})

    assert policy == Policy(
        request_types=(
            RequestType("incident", Text.of("Incident", "Инцидент"), "l1"),
            RequestType("feature", Text.of("Feature"), "dev"),
        ),
        priorities=(
            PriorityLevel("p1", Text.of("Urgent", "Срочный"), Text.of("Down", "Не работает"),
                          "🔥", 0),
            PriorityLevel("p2", Text.of("Normal"), Text.of(""), "", 1),
            PriorityLevel("p3", Text.of("Low"), Text.of("Whenever"), "", 2),
        ),
        sla_levels=(
            SlaLevel("gold", Text.of("Gold", "Золото"), 0, CalendarSpec(),
                     level_targets("gold"), special=target("5m", "1h")),
            SlaLevel("office", Text.of("office"), 1,
                     CalendarSpec(
                         timezone="Europe/Moscow", always_open=False,
                         hours=MappingProxyType({0: (time(9), time(18)),
                                                 4: (time(10), time(16, 30))}),
                         holidays=frozenset({date(2026, 1, 1), date(2026, 1, 2)}),
                         short_days=MappingProxyType({date(2026, 12, 30): (time(9), time(17))}),
                     ),
                     level_targets("office")),
        ),
        queues=(
            Queue("l1", Text.of("First line", "Первая линия"), (2001, 2002), True),
            Queue("dev", Text.of("dev"), (), False, -1001000000002),
        ),
        faq=(FaqEntry(Text.of("How to reset a password", "Как сбросить пароль"),
                      "https://docs.example.com/reset", ("password", "пароль", "reset")),),
        canned=(CannedAnswer("docs", Text.of("See the docs", "См. документацию")),
                CannedAnswer("hello", Text.of("Hello!"))),
        allow_without_contract=False,
        auto_close_after=timedelta(days=2),
        reopen_window=timedelta(days=14),
        note_prefix="!!",
        default_language="ru",
        staff_language="ru",
        staff_timezone="Asia/Yekaterinburg",
        supervisors=(1001, 1002),
        show_agent_name=False,
        warn_at=0.75,
        unassigned_after=timedelta(hours=1),
        flood_limit=10,
        flood_window=timedelta(seconds=30),
        subject_max_length=80,
    )
    assert policy.lowest_sla_level.key == "office"


@pytest.mark.parametrize(("span", "expected"), [
    ("18:00-24:00", (time(18), time(0))),
    ("00:00-24:00", (time(0), time(0))),
    ("20:00-00:00", (time(20), time(0))),
    ("08:30 - 17:15", (time(8, 30), time(17, 15))),
])
def test_working_hours_may_end_at_midnight(span: str, expected: tuple[time, time]) -> None:
    toml = STANDARD_LEVEL.replace('mon = "09:00-18:00"', f'mon = "{span}"')

    calendar = policy_from_toml(tomllib.loads(toml)).sla_level("standard").calendar

    assert calendar.hours == {0: expected}


def test_request_types_alone_derive_their_queues() -> None:
    policy = policy_from_toml(tomllib.loads(
        '[[request_types]]\nkey = "bug"\nqueue = "support"\n'
        '[[request_types]]\nkey = "sales"\nqueue = "sales"\n'
    ))

    assert policy.queues == (Queue("support", Text.of("Support", "Поддержка")),
                             Queue("sales", Text.of("sales")))


def test_fewer_priorities_keep_the_default_levels_for_those_priorities() -> None:
    policy = policy_from_toml(tomllib.loads('[[priorities]]\nkey = "high"\n'
                                            '[[priorities]]\nkey = "low"\n'))

    assert [level.key for level in policy.sla_levels] == ["premium", "standard", "basic"]
    assert all(list(level.targets) == ["high", "low"] for level in policy.sla_levels)
    assert policy.sla_level("basic").target_for("low") == SlaTarget(Span(days=1),
                                                                   Span(days=20))
