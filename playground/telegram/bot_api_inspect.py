"""What tests read and wait on in the fake Bot API: calls, chats as people see them, waits.

:class:`Signals` wakes waiters after every change; :class:`Inspection` is a mixin of
:class:`playground.telegram.bot_api.FakeBotAPI` with the read-only views and the async waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from playground.telegram.bot_api_world import GENERAL, ApiError, ChatState, World, is_service
from playground.telegram.spec import UploadedFile

SEND_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendVideo",
        "sendVoice",
        "sendAudio",
        "sendAnimation",
        "sendSticker",
        "sendVideoNote",
        "sendMediaGroup",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
    }
)


@dataclass
class Call:
    """One Bot API call the bot made; ``at`` is ``time.monotonic()`` when it arrived."""

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile]
    at: float
    result: Any = None
    error: ApiError | None = None
    via: Literal["http", "webhook-reply"] = "http"
    dropped: bool = False

    @property
    def ok(self) -> bool:
        """Whether Telegram answered ``ok: true`` (and the answer reached the bot)."""
        return self.error is None and not self.dropped

    def __repr__(self) -> str:
        outcome = "ok" if self.ok else (self.error.description if self.error else "dropped")
        shown = {key: value for key, value in self.params.items() if key != "reply_markup"}
        text = json.dumps(shown, ensure_ascii=False, default=str)
        return f"<{self.method} {text[:120]} -> {outcome}>"


@dataclass(frozen=True)
class Violation:
    """A call that breaks the Bot API spec (or a bug of the fake itself)."""

    kind: str
    method: str
    description: str

    def __str__(self) -> str:
        return f"{self.method}: {self.kind}: {self.description}"


class Signals:
    """An asyncio event renewed on every change, for waiters that must not sleep."""

    _event: asyncio.Event

    def _changed(self) -> None:
        """Wake every waiter: something in the world changed."""
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def _next_change(self, timeout: float | None) -> None:
        """Wait for the next change, at most ``timeout`` seconds (None: no limit)."""
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

    async def next_change(self, timeout: float | None = None) -> None:
        """Wait for the next change of the world, at most ``timeout`` seconds."""
        await self._next_change(timeout)


class Inspection(Signals):
    """Read-only views of the world and async waits on it."""

    world: World
    calls: list[Call]
    violations: list[Violation]
    _returned_messages: set[tuple[int, int]]
    _returned_calls: set[int]
    _taken_update_id: int

    @property
    def bot_id(self) -> int:
        """The bot's user id (the number before the colon of the token)."""
        return int(self.world.bot["id"])

    def _chat(self, chat_id: int) -> ChatState:
        chat = self.world.chats.get(chat_id)
        if chat is None:
            raise ValueError(f"unknown chat {chat_id}: add the user or the group first")
        return chat

    # -- inspection ----------------------------------------------------------------------

    def messages(
        self, chat_id: int, thread_id: int | None = None, *, service: bool = False
    ) -> list[dict[str, Any]]:
        """Current messages of a chat (or topic), oldest first, as people see them.

        ``thread_id=None`` means the whole chat, :data:`GENERAL` only the General topic.
        Service messages (topic created, pinned, ...) only with ``service=True``.
        """
        chat = self._chat(chat_id)
        found = []
        for message in chat.messages.values():
            if thread_id is not None and message.get("message_thread_id", GENERAL) != thread_id:
                continue
            if is_service(message) and not service:
                continue
            found.append(copy.deepcopy(message))
        return found

    def bot_messages(self, chat_id: int, thread_id: int | None = None) -> list[dict[str, Any]]:
        """Current messages the bot sent to a chat (or topic), oldest first."""
        return [copy.deepcopy(message) for message in self._bot_messages(chat_id, thread_id)]

    def bot_message_count(self, chat_id: int, thread_id: int | None = None) -> int:
        """How many current messages the bot sent to a chat (or topic): for the predicates of
        `wait_for`, which run after every call — copying the messages there would keep this
        process (and so the fake's clock) busy while the bot sends."""
        return sum(1 for _ in self._bot_messages(chat_id, thread_id))

    def _bot_messages(self, chat_id: int, thread_id: int | None) -> Iterator[dict[str, Any]]:
        for message in self._chat(chat_id).messages.values():
            if thread_id is not None and message.get("message_thread_id", GENERAL) != thread_id:
                continue
            if not is_service(message) and message.get("from", {}).get("id") == self.bot_id:
                yield message

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """A current message, or None if it does not exist or was deleted."""
        found = self._chat(chat_id).messages.get(message_id)
        return copy.deepcopy(found) if found else None

    def deleted_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """Messages deleted from a chat (by the bot or with their topic), as they were."""
        return copy.deepcopy(list(self._chat(chat_id).deleted.values()))

    def topics(self, chat_id: int) -> list[dict[str, Any]]:
        """Topics of a forum: thread_id, name, icon_color, icon emoji, closed, deleted."""
        return [topic.as_dict() for topic in self._chat(chat_id).topics.values()]

    def topic(self, chat_id: int, thread_id: int) -> dict[str, Any]:
        """One topic of a forum (see :meth:`topics`)."""
        return self._chat(chat_id).topics[thread_id].as_dict()

    def pinned(self, chat_id: int) -> list[int]:
        """Ids of the pinned messages of a chat, the latest last."""
        return list(self._chat(chat_id).pinned)

    def reply_keyboard(self, chat_id: int) -> dict[str, Any] | None:
        """The reply keyboard the bot currently shows in a chat."""
        return copy.deepcopy(self._chat(chat_id).reply_keyboard)

    def reactions(self, chat_id: int, message_id: int) -> list[dict[str, Any]]:
        """The reactions the bot set on a message."""
        return copy.deepcopy(self.world.reactions.get((chat_id, message_id), []))

    def commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        """The command menu set for exactly this scope (default: ``{"type": "default"}``)."""
        params: dict[str, Any] = {"language_code": language_code}
        if scope is not None:
            params["scope"] = scope
        return self.methods.get_my_commands(params, {})

    def file_content(self, file_id: str) -> bytes:
        """The bytes of a file (uploaded by the bot, or made up for a person's file)."""
        return self.world.files[file_id].content

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates queued and not yet confirmed by the bot."""
        return copy.deepcopy(self.world.updates)

    def sent(self, method: str | None = None) -> list[Call]:
        """Successful calls of ``method``; without it, all successful message-creating calls."""
        return [
            call
            for call in self.calls
            if call.ok and (call.method == method if method else call.method in SEND_METHODS)
        ]

    # -- waiting ---------------------------------------------------------------------------

    async def _next_change(self, timeout: float | None) -> None:
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

    async def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 10.0, description: str = ""
    ) -> Any:
        """Wait until ``predicate()`` is truthy and return its value.

        The predicate is evaluated again after every call, update and change of the world.
        On timeout an AssertionError tells what was awaited and what the bot did meanwhile.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._event
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                what = description or getattr(predicate, "__name__", repr(predicate))
                raise AssertionError(self._timeout_report(what, timeout))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def wait_for_bot_message(
        self,
        chat_id: int,
        contains: str | None = None,
        thread_id: int | None = None,
        timeout: float = 10.0,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
    ) -> dict[str, Any]:
        """Wait for a bot message in a chat (or topic) and return it.

        Semantics: the oldest current bot message that no earlier ``wait_for_bot_message``
        returned and whose text or caption contains ``contains`` (and that satisfies
        ``predicate``). So two waits in a row return two different messages, and a message
        that was sent before the wait started is found too.
        """

        def find() -> dict[str, Any] | None:
            for message in self.bot_messages(chat_id, thread_id):
                key = (chat_id, message["message_id"])
                if key in self._returned_messages:
                    continue
                body = message.get("text", message.get("caption", ""))
                if contains is not None and contains not in body:
                    continue
                if predicate is not None and not predicate(message):
                    continue
                self._returned_messages.add(key)
                return message
            return None

        where = f"chat {chat_id}" + (f" thread {thread_id}" if thread_id is not None else "")
        wanted = f"a new bot message in {where}" + (
            f" containing {contains!r}" if contains else ""
        )
        message: dict[str, Any] = await self.wait_for(find, timeout, wanted)
        return message

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 10.0,
    ) -> Call:
        """Wait for a call of ``method`` (ok or not) that no earlier wait_for_call returned."""

        def find() -> Call | None:
            for index, call in enumerate(self.calls):
                if index in self._returned_calls or call.method.lower() != method.lower():
                    continue
                if predicate is not None and not predicate(call):
                    continue
                self._returned_calls.add(index)
                return call
            return None

        call: Call = await self.wait_for(find, timeout, f"a call of {method}")
        return call

    async def wait_updates_taken(self, timeout: float = 10.0) -> None:
        """Wait until the bot has received every queued update (by getUpdates or webhook)."""

        def taken() -> bool:
            return all(
                update["update_id"] <= self._taken_update_id for update in self.world.updates
            )

        await self.wait_for(taken, timeout, "the bot to take all queued updates")

    def _timeout_report(self, what: str, timeout: float) -> str:
        lines = [f"timed out after {timeout:g}s waiting for {what}", "last calls of the bot:"]
        lines += [f"  {call!r}" for call in self.calls[-12:]] or ["  (none)"]
        if self.world.updates:
            lines.append(f"updates not yet confirmed by the bot: {len(self.world.updates)}")
        if self.webhook and self.webhook.failures:
            lines.append(f"webhook delivery errors: {self.webhook.failures[-3:]}")
        if self.violations:
            lines.append("spec violations: " + "; ".join(map(str, self.violations)))
        return "\n".join(lines)
