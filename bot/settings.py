"""Deployment settings, read once from the environment into a frozen pydantic model.

Read at start, before anything talks to Telegram; every mistake becomes one `ConfigError` line
that names the variable and what was expected, and never shows a secret. The desk's policy
(`frontdesk.toml`) is read by `bot/policy_file.py`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///frontdesk.sqlite3"
DEFAULT_CONFIG_PATH = Path("frontdesk.toml")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]{30,}")
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_URL_PASSWORD = re.compile(r"(://[^:/@]*:)[^@/]*@")
SECRET_VARIABLES = ("BOT_TOKEN", "WEBHOOK_SECRET")  # never shown, wherever they turn up


class ConfigError(Exception):
    """One clear line naming the key or variable and what is expected."""


class Settings(BaseModel):
    """How this process is deployed: secrets, addresses and where the policy file is.

    Each field is read from the environment variable its validation alias names; the secrets are
    `SecretStr` and passwords inside URLs are masked, so a repr or a log line shows neither.
    """

    model_config = ConfigDict(frozen=True, validate_by_name=True, validate_by_alias=True)

    # The two variables every deployment needs come first: their mistakes are told first.
    bot_token: SecretStr = Field(
        validation_alias="BOT_TOKEN",
        description="the token @BotFather issued (like 123456:ABC-DEF...)")
    staff_chat_id: int = Field(
        validation_alias="STAFF_CHAT_ID",
        description="the id of the staff supergroup, like -1001234567890")
    webhook_url: str | None = Field(default=None, validation_alias="WEBHOOK_URL")
    webhook_secret: SecretStr | None = Field(default=None, validation_alias="WEBHOOK_SECRET")
    database_url: str = Field(default=DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")
    telegram_api_url: str | None = Field(default=None, validation_alias="TELEGRAM_API_URL")
    webhook_listen: str = Field(default="0.0.0.0", validation_alias="WEBHOOK_LISTEN")
    webhook_port: int = Field(default=8080, validation_alias="WEBHOOK_PORT")
    # /healthz, /readyz, /metrics in polling mode
    metrics_port: int | None = Field(default=None, validation_alias="METRICS_PORT")
    redis_url: str | None = Field(default=None, validation_alias="REDIS_URL")
    # Telegram's sending intervals multiplied by this
    telegram_rate_scale: float = Field(default=1.0, validation_alias="TELEGRAM_RATE_SCALE")
    config_path: Path = Field(default=DEFAULT_CONFIG_PATH, validation_alias="FRONTDESK_CONFIG")
    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")
    # FRONTDESK_CONFIG was set: a missing file is then an error
    config_explicit: bool = Field(default=False, repr=False)

    @property
    def uses_webhook(self) -> bool:
        """Whether updates come by webhook (else long polling)."""
        return self.webhook_url is not None

    def replaced(self, **changes: Any) -> Settings:
        """These settings with some fields changed, checked again.

        Built from `model_copy(update=…)`, then validated: model_copy alone would keep a
        plain string where a secret belongs.
        """
        return self.model_validate(dict(self.model_copy(update=changes)))

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            yield name, _mask_password(value) if name in ("database_url", "redis_url") else value

    @field_validator("bot_token")
    @classmethod
    def _token(cls, token: SecretStr) -> SecretStr:
        if not _TOKEN.fullmatch(token.get_secret_value()):
            raise ValueError("BOT_TOKEN is malformed: expected <digits>:<at least 30 letters, "
                             "digits, _ or ->")
        return token

    @field_validator("staff_chat_id", mode="before")
    @classmethod
    def _staff_chat(cls, value: Any) -> int:
        try:
            chat_id = int(value)
        except ValueError:
            raise ValueError(f"STAFF_CHAT_ID must be an integer chat id like -1001234567890, "
                             f"got {value!r}") from None
        if chat_id >= 0:
            # Group ids are negative; a positive one is a person, usually the operator's own id.
            raise ValueError(f"STAFF_CHAT_ID must be a group chat id (negative, like "
                             f"-1001234567890), got {chat_id} (a user id?)")
        return chat_id

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = _split_url("WEBHOOK_URL", value)
        host = parts.hostname or ""
        if not host or parts.scheme not in ("http", "https"):
            raise ValueError(f"WEBHOOK_URL must be an https URL like "
                             f"https://bot.example.com/telegram, got {value!r}")
        if parts.scheme == "http" and host not in _LOOPBACK_HOSTS and not host.startswith("127."):
            raise ValueError(f"WEBHOOK_URL must use https (Telegram calls only https webhooks; "
                             f"http is allowed for localhost only), got {value!r}")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None and not _WEBHOOK_SECRET.fullmatch(secret.get_secret_value()):
            raise ValueError("WEBHOOK_SECRET is malformed: expected 1-256 letters, digits, "
                             "_ or -")
        return secret

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return async_database_url(value)

    @field_validator("telegram_api_url")
    @classmethod
    def _telegram_api_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = _split_url("TELEGRAM_API_URL", value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"TELEGRAM_API_URL must be an http(s) URL like "
                             f"http://localhost:8081, got {value!r}")
        return value.rstrip("/")

    @field_validator("webhook_port", "metrics_port", mode="before")
    @classmethod
    def _port(cls, value: Any, info: ValidationInfo) -> int | None:
        if value is None:
            return None
        try:
            port = int(value)
        except ValueError:
            port = 0
        if not 1 <= port <= 65535:
            name = cls.model_fields[str(info.field_name)].validation_alias
            raise ValueError(f"{name} must be a TCP port number 1-65535, got {value!r}")
        return port

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and _split_url("REDIS_URL", value).scheme not in ("redis", "rediss"):
            raise ValueError(f"REDIS_URL must be redis://host:6379/0 or rediss://..., "
                             f"got scheme {urlsplit(value).scheme!r}")
        return value

    @field_validator("telegram_rate_scale", mode="before")
    @classmethod
    def _rate_scale(cls, value: Any) -> float:
        try:
            scale = float(value)
        except ValueError:
            scale = 0.0
        if not 0 < scale <= 100:  # also refuses nan and inf
            raise ValueError(f"TELEGRAM_RATE_SCALE must be a number above 0 (1 keeps "
                             f"Telegram's limits; 0.01 is for a test server that counts them "
                             f"100 times faster), got {value!r}")
        return scale

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, value: Any) -> str:
        level = str(value).upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {value!r}")
        return level

    @model_validator(mode="after")
    def _webhook_has_a_secret(self) -> Settings:
        if self.webhook_url is not None and self.webhook_secret is None:
            raise ValueError("WEBHOOK_SECRET is not set: it is required when WEBHOOK_URL is set "
                             "(1-256 letters, digits, _ or -)")
        return self


_VARIABLES = {str(field.validation_alias): field for field in Settings.model_fields.values()
              if field.validation_alias}  # the environment variable of each field


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Read and check the deployment settings from environment variables."""
    env = {name: value.strip() for name, value in environ.items() if value.strip()}
    variables = {name: env[name] for name in _VARIABLES if name in env}
    try:
        return Settings.model_validate(
            {**variables, "config_explicit": "FRONTDESK_CONFIG" in variables})
    except ValidationError as error:
        raise ConfigError(_redact(_one_line(error), env)) from None


def _one_line(error: ValidationError) -> str:
    """The first mistake pydantic found, as the line the operator reads."""
    first = error.errors()[0]
    if first["type"] == "missing":
        name = str(first["loc"][0])
        return f"{name} is not set: give {_VARIABLES[name].description}"
    cause = first.get("ctx", {}).get("error")
    return str(cause) if cause is not None else f"{first['loc'][0]}: {first['msg']}"


def async_database_url(value: str) -> str:
    """DATABASE_URL with the async driver SQLAlchemy needs (asyncpg or aiosqlite)."""
    scheme, sep, rest = value.partition("://")
    if not sep:
        raise ValueError("DATABASE_URL is malformed: expected postgresql://user:password@host/db"
                         " or sqlite:///path/to/file.sqlite3")
    scheme = scheme.lower()
    if scheme in ("postgresql", "postgres", "postgresql+asyncpg"):
        return f"postgresql+asyncpg://{rest}"
    if scheme in ("sqlite", "sqlite+aiosqlite"):
        return f"sqlite+aiosqlite://{rest}"
    raise ValueError(f"DATABASE_URL has unsupported scheme {scheme!r}: expected "
                     f"postgresql://user:password@host/db or sqlite:///path/to/file.sqlite3")


def _split_url(name: str, value: str) -> SplitResult:
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        raise ValueError(f"{name} is not a valid URL") from None
    return parts


def _mask_password(url: str | None) -> str | None:
    return None if url is None else _URL_PASSWORD.sub(r"\1***@", url)


def _redact(message: str, env: Mapping[str, str]) -> str:
    # Belt and braces: no message may carry a secret, whatever variable it was pasted into.
    for name in SECRET_VARIABLES:
        secret = env.get(name)
        if secret and len(secret) >= 8:
            message = message.replace(secret, "***")
    return message


def load_database_url(environ: Mapping[str, str]) -> str:
    """Just DATABASE_URL (for the commands that need no bot: `db`, `contracts`)."""
    value = (environ.get("DATABASE_URL") or "").strip() or DEFAULT_DATABASE_URL
    try:
        return async_database_url(value)
    except ValueError as error:
        raise ConfigError(_redact(str(error), environ)) from None


def load_config_path(environ: Mapping[str, str]) -> tuple[Path, bool]:
    """FRONTDESK_CONFIG (or the default), and whether it was named explicitly."""
    config = (environ.get("FRONTDESK_CONFIG") or "").strip()
    return (Path(config), True) if config else (DEFAULT_CONFIG_PATH, False)
