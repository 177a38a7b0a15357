"""Spotting access data in a conversation, so the closing notice can say "change them"."""

from __future__ import annotations

import re

_PATTERNS = (
    # "password: hunter2", "пароль — 12345", "pwd=…", "login/pass …"
    re.compile(r"(?i)\b(password|passwd|pwd|pass|пароль|парол[ья]|логин|login)\b\s*[:=—–-]"
               r"\s*\S+"),
    re.compile(r"(?i)\b(password|пароль)\s+(is|это)\s+\S{4,}"),
    # credentials inside a URL: scheme://user:secret@host
    re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s:/@]+:[^\s@/]+@"),
    # API keys and tokens that look like keys
    re.compile(r"(?i)\b(api[_-]?key|token|secret|ключ)\b\s*[:=]\s*\S{8,}"),
)


def looks_like_credentials(text: str) -> bool:
    """Whether a message seems to carry a password, a key or other access data."""
    return any(pattern.search(text) for pattern in _PATTERNS)
