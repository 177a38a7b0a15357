"""The log: plain lines or, with LOG_FORMAT=json, one JSON object per line; never a secret.

Each line carries the update being handled and the ticket being delivered or timed, when
known (context variables, set where an update or an outbox item or a timer is taken up).
Whatever a library writes passes the same formatter: the token, the webhook secret and the
passwords inside URLs are replaced by *** in every line, tracebacks included.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime

from bot.settings import SECRET_VARIABLES, ConfigError

UPDATE_ID: ContextVar[int | None] = ContextVar("update_id", default=None)
TICKET: ContextVar[int | None] = ContextVar("ticket", default=None)

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@/\s]+@")


class _Context(logging.Filter):
    """Puts the update and ticket of the moment on the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.update_id = UPDATE_ID.get()
        record.ticket = TICKET.get()
        return True


class _Redacting(logging.Formatter):
    """A formatter whose every line has the secrets replaced."""

    def __init__(self, secrets: list[str], fmt: str | None = None) -> None:
        super().__init__(fmt)
        self.secrets = secrets

    def redact(self, text: str) -> str:
        """The text without secrets."""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return _URL_PASSWORD.sub(r"\1***@", text)

    def format(self, record: logging.LogRecord) -> str:
        """The line, redacted."""
        return self.redact(super().format(record))


class _Json(_Redacting):
    """One JSON object per line: time, level, logger, message, update_id, ticket, error."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON object on one line, redacted."""
        line = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(
                    timespec="milliseconds"),
                "level": record.levelname, "logger": record.name,
                "message": record.getMessage()}
        for key in ("update_id", "ticket"):
            if getattr(record, key, None) is not None:
                line[key] = getattr(record, key)
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return self.redact(json.dumps(line, ensure_ascii=False, default=str))


def configure(environ: Mapping[str, str]) -> None:
    """Set up the root logger from LOG_LEVEL and LOG_FORMAT (ConfigError if LOG_FORMAT is
    neither text nor json); the secrets are taken from the environment."""
    level = environ.get("LOG_LEVEL", "INFO").strip().upper()
    form = environ.get("LOG_FORMAT", "text").strip().lower() or "text"
    if form not in FORMATS:
        raise ConfigError(f"LOG_FORMAT must be text or json, got {form!r}")
    secrets = [value.strip() for name in SECRET_VARIABLES
               if len(value := environ.get(name, "")) >= 8]
    handler = logging.StreamHandler()
    handler.addFilter(_Context())
    handler.setFormatter(_Json(secrets) if form == "json" else _Redacting(secrets, TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level if level in logging.getLevelNamesMapping() else "INFO")
