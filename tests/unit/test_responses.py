"""The answer types aiogram reads Telegram's answers with stay made."""

from __future__ import annotations

import gc
import weakref
from types import SimpleNamespace
from typing import Any

from aiogram.methods import Response

from bot.responses import KeepResponseTypes


async def test_an_answer_type_made_for_a_call_outlives_the_garbage_collector() -> None:
    # pydantic holds `Response[T]` weakly: unheld, a collection frees it and the next call
    # makes it again (milliseconds each time).
    returning = dict[str, frozenset[int]]  # a type no other test makes an answer of
    made = weakref.ref(Response[returning])
    gc.collect()
    assert made() is None

    async def make_request(bot: Any, method: Any) -> str:
        return "answered"

    method = SimpleNamespace(__returning__=returning)
    assert await KeepResponseTypes()(make_request, None, method) == "answered"  # type: ignore[arg-type]
    kept = weakref.ref(Response[returning])
    gc.collect()
    assert kept() is not None
