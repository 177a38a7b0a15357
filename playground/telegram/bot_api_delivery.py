"""Update delivery of the fake Bot API: getUpdates long polling and webhooks.

:class:`UpdateDelivery` is a mixin of :class:`playground.telegram.bot_api.FakeBotAPI`. Updates are
delivered in order; a webhook gets each update until it answers 2xx (with retries and
``getWebhookInfo`` errors), and a method in the webhook's answer is executed like Telegram does.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
from yarl import URL

from playground.telegram.bot_api_inspect import Call, Signals
from playground.telegram.bot_api_world import ApiError, World, bad_request
from playground.telegram.spec import UploadedFile

WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
    "the webhook first"
)
POLLING_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is "
    "running"
)
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


@dataclass
class WebhookState:
    """The webhook Telegram would deliver to, and its delivery errors."""

    url: str
    secret_token: str | None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None
    deliveries: int = 0
    failures: list[str] = field(default_factory=list)


class UpdateDelivery(Signals):
    """getMe, getUpdates, setWebhook, deleteWebhook, getWebhookInfo, logOut and close."""

    world: World
    webhook: WebhookState | None
    webhook_retry_delay: float
    long_polls_waiting: int
    _poll_generation: int
    _taken_update_id: int
    _closing: bool
    _client: aiohttp.ClientSession | None
    _webhook_task: asyncio.Task[None] | None

    async def _process(
        self,
        method: str,
        params: dict[str, Any],
        files: dict[str, UploadedFile],
        via: Literal["http", "webhook-reply"] = "http",
    ) -> tuple[int, dict[str, Any], Call]:
        raise NotImplementedError

    # -- methods that need the server ------------------------------------------------------

    async def _true(self, params: dict[str, Any]) -> bool:
        return True

    async def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return copy.deepcopy(self.world.bot)

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """getUpdates with confirmation by offset and long polling."""
        if self.webhook is not None:
            raise ApiError(409, WEBHOOK_CONFLICT)
        self._poll_generation += 1
        generation = self._poll_generation
        self._changed()  # an older long poll ends with 409, as on Telegram
        if params.get("allowed_updates") is not None:
            self.world.allowed_updates = list(params["allowed_updates"])
        offset = params.get("offset")
        if offset is not None and offset < 0:
            self.world.updates = self.world.updates[offset:]
        elif offset:
            self.world.confirm_updates(offset)
        limit = min(max(params.get("limit", 100), 1), 100)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(params.get("timeout", 0), 0)
        while True:
            if generation != self._poll_generation:
                raise ApiError(409, POLLING_CONFLICT)
            pending = self.world.updates[:limit]
            remaining = deadline - loop.time()
            if pending or remaining <= 0 or self._closing:
                if pending:
                    self._taken_update_id = max(self._taken_update_id, pending[-1]["update_id"])
                return copy.deepcopy(pending)
            self.long_polls_waiting += 1
            self._changed()
            try:
                await self._next_change(remaining)
            finally:
                self.long_polls_waiting -= 1

    async def _set_webhook(self, params: dict[str, Any]) -> bool:
        url = params["url"]
        if not url:
            return await self._delete_webhook(params)
        parsed = URL(url)
        if parsed.scheme not in {"http", "https"} or parsed.host not in _LOOPBACK:
            raise bad_request("bad webhook: the fake Bot API delivers only to loopback addresses")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self.world.updates.clear()
        if params.get("allowed_updates") is not None:
            self.world.allowed_updates = list(params["allowed_updates"])
        await self._stop_webhook_task()
        self.webhook = WebhookState(url, secret, params.get("max_connections", 40))
        self._poll_generation += 1
        self._webhook_task = asyncio.create_task(self._deliver_webhooks(self.webhook))
        return True

    async def _delete_webhook(self, params: dict[str, Any]) -> bool:
        await self._stop_webhook_task()
        self.webhook = None
        if params.get("drop_pending_updates"):
            self.world.updates.clear()
        return True

    async def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        hook = self.webhook
        info: dict[str, Any] = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.world.updates),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
            if self.world.allowed_updates:
                info["allowed_updates"] = list(self.world.allowed_updates)
        return info

    async def _stop_webhook_task(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _deliver_webhooks(self, hook: WebhookState) -> None:
        """POST pending updates one by one, in order, retrying each until it is accepted."""
        delay = self.webhook_retry_delay
        while not self._closing and self.webhook is hook:
            if not self.world.updates:
                await self._next_change(None)
                continue
            update = self.world.updates[0]
            error = await self._post_update(hook, update)
            if error is None:
                delay = self.webhook_retry_delay
                continue
            hook.last_error_date = self.world.now()
            hook.last_error_message = error
            hook.failures.append(error)
            self._changed()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    async def _post_update(self, hook: WebhookState, update: dict[str, Any]) -> str | None:
        """POST one update; return the error Telegram would report, or None when accepted."""
        if self._client is None:
            self._client = aiohttp.ClientSession()
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
        body = json.dumps(update, ensure_ascii=False)
        try:
            async with self._client.post(
                hook.url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=10)
            ) as response:
                if not 200 <= response.status < 300:
                    return f"Wrong response from the webhook: {response.status} {response.reason}"
                reply = await _read_webhook_reply(response)
        except (aiohttp.ClientError, TimeoutError) as error:
            return f"Connection failed: {type(error).__name__}"
        if update in self.world.updates:
            self.world.updates.remove(update)
        hook.deliveries += 1
        self._taken_update_id = max(self._taken_update_id, update["update_id"])
        self._changed()
        if reply is not None:
            # Telegram executes a method the bot returns in its webhook answer.
            method, params, files = reply
            await self._process(method, params, files, via="webhook-reply")
        return None


async def _read_webhook_reply(
    response: aiohttp.ClientResponse,
) -> tuple[str, dict[str, Any], dict[str, UploadedFile]] | None:
    """The method call in a webhook answer (JSON or multipart, as aiogram sends it), if any."""
    params: dict[str, Any] = {}
    files: dict[str, UploadedFile] = {}
    if response.content_type.startswith("multipart/"):
        reader = aiohttp.MultipartReader.from_response(response)
        while (part := await reader.next()) is not None:
            if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                continue
            if part.filename is not None:
                content = bytes(await part.read())
                content_type = part.headers.get(aiohttp.hdrs.CONTENT_TYPE)
                files[part.name] = UploadedFile(part.name, part.filename, content_type, content)
            else:
                params[part.name] = await part.text()
    else:
        raw = await response.read()
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError:
            return None
        if not isinstance(body, dict):
            return None
        params = body
    method = params.pop("method", None)
    return (method, params, files) if isinstance(method, str) else None
