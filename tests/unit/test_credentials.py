"""Which messages count as carrying access data."""

from __future__ import annotations

import pytest

from domain.credentials import looks_like_credentials


@pytest.mark.parametrize("text", [
    "login: admin password: hunter2",
    "Пароль: qwerty123",
    "пароль — 12345",
    "try postgres://app:s3cret@db.example.com/prod",
    "api_key = sk_live_abcdefgh1234",
    "the password is Tr0ub4dor",
])
def test_access_data_is_spotted(text: str) -> None:
    assert looks_like_credentials(text)


@pytest.mark.parametrize("text", [
    "I forgot my password, how do I reset it?",
    "Не могу войти, сбросьте пароль пожалуйста",
    "see https://docs.example.com/login",
    "the login page shows error 500",
])
def test_ordinary_talk_about_passwords_is_not(text: str) -> None:
    assert not looks_like_credentials(text)
