"""A fake Telegram Bot API server for end-to-end tests of the real bot.

The bot talks to it over HTTP exactly as to Telegram (``POST {base}/bot{token}/{method}``),
e.g. ``Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(server.base_url)))``.
Every call is validated against the Bot API spec; people (tests) act through
:class:`~playground.telegram.bot_api_people.PeopleActions`; tests read the chats as users see them
wait on state changes instead of sleeping.

Modules: ``spec.py`` (validation), ``bot_api_world.py`` (state), ``bot_api_methods.py`` and
``bot_api_chats.py`` (Telegram's semantics of the methods), ``bot_api_delivery.py`` (getUpdates
and webhooks), ``bot_api_people.py`` (what people do), ``bot_api_inspect.py`` (views and waits),
``bot_api_markup.py`` (entity parsing), ``bot_api_limits.py`` (flood limits) and this one (the
HTTP front, validation of every call, fault injection).
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

import aiohttp
from aiohttp import web

from playground.telegram.bot_api_chats import BotMethods
from playground.telegram.bot_api_delivery import POLLING_CONFLICT, UpdateDelivery, WebhookState
from playground.telegram.bot_api_inspect import SEND_METHODS, Call, Violation
from playground.telegram.bot_api_limits import LimitViolation, RateLimiter, RateLimits
from playground.telegram.bot_api_people import PeopleActions
from playground.telegram.bot_api_world import (
    GENERAL,
    GENERAL_THREAD_ID,
    ApiError,
    World,
    bad_request,
)
from playground.telegram.spec import BotApiSpec, SpecError, UploadedFile

__all__ = [
    "DEFAULT_BOT_USERNAME",
    "DEFAULT_TOKEN",
    "GENERAL",
    "GENERAL_THREAD_ID",
    "ApiError",
    "Call",
    "FakeBotAPI",
    "LimitViolation",
    "RateLimits",
    "Violation",
    "WebhookState",
]

DEFAULT_TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijklmno"
DEFAULT_BOT_USERNAME = "frontdesk_test_bot"
DEFAULT_BOT_NAME = "Frontdesk Test Bot"

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: injected failure",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: POLLING_CONFLICT,
    500: "Internal Server Error",
    502: "Bad Gateway",
}


@dataclass
class _Fault:
    method: str
    error_code: int
    description: str
    retry_after: int | None
    times: int
    chat_id: int | str | None


@dataclass
class _Drop:
    method: str
    times: int
    after: bool
    mode: Literal["close", "502"]


class FakeBotAPI(UpdateDelivery, PeopleActions):
    """The fake Bot API server: a world of chats, an HTTP front and helpers for tests."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        spec: BotApiSpec | Path | str | None = None,
        *,
        bot_username: str = DEFAULT_BOT_USERNAME,
        bot_first_name: str = DEFAULT_BOT_NAME,
        clock: Callable[[], float] = time.time,
        strict_html: bool = True,
        check_results: bool = True,
        webhook_retry_delay: float = 0.05,
    ) -> None:
        self.token = token
        self.spec = spec if isinstance(spec, BotApiSpec) else BotApiSpec.load(spec)
        self.world = World(int(token.split(":", 1)[0]), bot_username, bot_first_name, clock)
        self.methods = BotMethods(self.world, strict_html=strict_html)
        self.check_results = check_results
        self.webhook_retry_delay = webhook_retry_delay
        self.calls: list[Call] = []
        self.violations: list[Violation] = []
        self.webhook: WebhookState | None = None
        self.rate_limiter: RateLimiter | None = None
        self._faults: list[_Fault] = []
        self._drops: list[_Drop] = []
        self._latency: dict[str | None, float] = {}
        self._server_error: ApiError | None = None
        self._event = asyncio.Event()
        self._poll_generation = 0
        self.long_polls_waiting = 0  # getUpdates calls now waiting for an update
        self._taken_update_id = 0
        self._returned_messages: set[tuple[int, int]] = set()
        self._returned_calls: set[int] = set()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self.base_url = ""
        self._server_methods: dict[str, Callable[[dict[str, Any]], Awaitable[Any]]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "logOut": self._true,
            "close": self._true,
        }

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def bot(self) -> dict[str, Any]:
        """The bot's ``User`` object."""
        return copy.deepcopy(self.world.bot)

    async def start(self, port: int = 0) -> str:
        """Listen on 127.0.0.1 on ``port`` (a free one by default); return (and set)
        ``base_url``."""
        app = web.Application(client_max_size=64 * 1024**2)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_http)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self.base_url

    async def stop(self) -> None:
        """End long polls, stop webhook delivery and close the server."""
        self._closing = True
        self._changed()
        await self._stop_webhook_task()
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotAPI:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- fault injection and limits --------------------------------------------------------

    def fail_next(
        self,
        method: str,
        error_code: int = 400,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` ("*" for any) fail with this error.

        With ``chat_id`` only calls for that chat fail. A 429 gets ``retry_after`` (default 1)
        and Telegram's description "Too Many Requests: retry after N".
        """
        if error_code == 429:
            retry_after = retry_after or 1
            description = description or f"Too Many Requests: retry after {retry_after}"
        description = description or _DEFAULT_DESCRIPTIONS.get(error_code, "Injected failure")
        name = self._method_name(method)
        fault = _Fault(name, error_code, description, retry_after, times, chat_id)
        self._faults.append(fault)

    def clear_faults(self) -> None:
        """Forget the failures :meth:`fail_next` still had to inject."""
        self._faults.clear()

    def drop_connection_next(
        self,
        method: str,
        times: int = 1,
        *,
        after_processing: bool = False,
        mode: Literal["close", "502"] = "close",
    ) -> None:
        """Lose the next ``times`` calls of ``method`` ("*" for any) on the network.

        ``mode="close"`` closes the connection without an answer (aiogram raises
        TelegramNetworkError); ``"502"`` answers with nginx's HTML "502 Bad Gateway". With
        ``after_processing`` the call takes effect first, so the bot cannot know it did.
        """
        self._drops.append(_Drop(self._method_name(method), times, after_processing, mode))

    def set_latency(self, seconds: float, method: str | None = None) -> None:
        """Delay every call (or calls of ``method``) by ``seconds`` before handling it."""
        self._latency[self._method_name(method) if method else None] = seconds

    def _method_name(self, method: str) -> str:
        """The spec's spelling of a method name ("*" stays); a typo is a ValueError."""
        if method == "*":
            return method
        name = self.spec.canonical_method(method)
        if name is None:
            raise ValueError(f"{method!r} is not a Bot API method")
        return name

    def set_server_error(
        self, error_code: int | None = 500, description: str | None = None
    ) -> None:
        """Answer every call with a 5xx error until called with ``None``."""
        if error_code is None:
            self._server_error = None
            return
        text = description or _DEFAULT_DESCRIPTIONS.get(error_code, "Internal Server Error")
        self._server_error = ApiError(error_code, text)

    def set_rate_limits(self, limits: RateLimits | None) -> None:
        """Count or enforce flood limits (``None`` turns them off, the default)."""
        self.rate_limiter = RateLimiter(limits) if limits is not None else None

    @property
    def limit_violations(self) -> list[LimitViolation]:
        """Sends over a flood limit, in "count" mode."""
        return list(self.rate_limiter.violations) if self.rate_limiter else []

    def take_violations(self) -> list[Violation]:
        """Return the spec violations so far and forget them (for tests that provoke them)."""
        taken, self.violations = self.violations, []
        return taken

    # -- HTTP ----------------------------------------------------------------------------

    async def _handle_http(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            self._violate("unauthorized", method, "the bot used a wrong token")
            return _json(401, ApiError(401, "Unauthorized").payload())
        try:
            params, files = await _read_request(request)
        except ValueError as error:
            self._violate("bad_body", method, str(error))
            return _json(400, bad_request(str(error)).payload())
        method = self.spec.canonical_method(method) or method
        drop = self._take_drop(method)
        if drop is not None and not drop.after:
            self.calls.append(
                Call(method, params, files, time.monotonic(), via="http", dropped=True)
            )
            self._changed()
            return _dropped(request, drop)
        status, body, call = await self._process(method, params, files)
        if drop is not None:
            call.dropped = True
            return _dropped(request, drop)
        return _json(status, body)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        stored = self.world.file_by_path(request.match_info["path"])
        if request.match_info["token"] != self.token or stored is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=stored.content, content_type="application/octet-stream")

    async def _process(
        self,
        method: str,
        params: dict[str, Any],
        files: dict[str, UploadedFile],
        via: Literal["http", "webhook-reply"] = "http",
    ) -> tuple[int, dict[str, Any], Call]:
        """Handle one call; record it; return the HTTP status, the JSON body and the call."""
        call = Call(method, params, files, time.monotonic(), via=via)
        try:
            call.result = await self._execute(call)
        except ApiError as error:
            call.error = error
        self.calls.append(call)
        self._changed()
        if call.error is not None:
            return call.error.code, call.error.payload(), call
        return 200, {"ok": True, "result": call.result}, call

    async def _execute(self, call: Call) -> Any:
        method = self.spec.canonical_method(call.method)
        if method is None:
            self._violate("unknown_method", call.method, "no such method in the Bot API")
            raise ApiError(404, "Not Found")
        call.method = method
        fields = {field["name"] for field in self.spec.methods[method].get("fields", [])}
        params = dict(call.params)
        for name, upload in call.files.items():
            if name in fields:
                params.setdefault(name, upload)
        try:
            call.params = self.spec.validate_call(method, params, call.files)
        except SpecError as error:
            self._violate(error.kind, method, str(error))
            raise bad_request(str(error)) from None
        delay = self._latency.get(method, self._latency.get(None, 0.0))
        if delay:
            await asyncio.sleep(delay)
        if self._server_error is not None:
            raise self._server_error
        self._raise_fault(method, call.params)
        sends = self._sends(method, call.params)
        if sends and self.rate_limiter and self.rate_limiter.limits.mode == "enforce":
            chat_id, private, count = sends
            retry = self.rate_limiter.retry_after(chat_id, private=private, count=count)
            if retry is not None:
                raise ApiError(429, f"Too Many Requests: retry after {retry}", retry)
        result = copy.deepcopy(await self._dispatch(method, call.params, call.files))
        if self.check_results:
            try:
                self.spec.check_result(method, result)
            except SpecError as error:
                self._violate("fake_bad_result", method, f"the fake answered wrongly: {error}")
        if sends and self.rate_limiter:
            chat_id, private, count = sends
            if isinstance(result, list):
                count = len(result)
            self.rate_limiter.record(chat_id, method, private=private, count=count)
        return result

    async def _dispatch(
        self, method: str, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> Any:
        server_method = self._server_methods.get(method)
        handler = self.methods.table.get(method)
        try:
            if server_method is not None:
                return await server_method(params)
            if handler is not None:
                return handler(params, files)
        except ApiError:
            raise
        except Exception as error:  # a bug of the fake must fail the test loudly
            self._violate("fake_error", method, traceback.format_exc())
            raise ApiError(500, f"Internal Server Error: fake Bot API bug: {error!r}") from error
        self._violate("unimplemented", method, "the fake Bot API does not implement it yet")
        raise bad_request(f"method {method} is not implemented by the fake Bot API")

    def _violate(self, kind: str, method: str, description: str) -> None:
        self.violations.append(Violation(kind, method, description))

    def _raise_fault(self, method: str, params: dict[str, Any]) -> None:
        for fault in self._faults:
            if fault.method not in {"*", method}:
                continue
            if fault.chat_id is not None and params.get("chat_id") != fault.chat_id:
                continue
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)
            raise ApiError(fault.error_code, fault.description, fault.retry_after)

    def _take_drop(self, method: str) -> _Drop | None:
        for drop in self._drops:
            if drop.method in {"*", method}:
                drop.times -= 1
                if drop.times <= 0:
                    self._drops.remove(drop)
                return drop
        return None

    def _sends(self, method: str, params: dict[str, Any]) -> tuple[int, bool, int] | None:
        """(chat id, is private, number of messages) for a call that creates messages."""
        if method not in SEND_METHODS:
            return None
        try:
            chat = self.world.chat_state(params["chat_id"])
        except ApiError:
            return None
        count = len(params.get("media") or params.get("message_ids") or [None])
        return chat.id, chat.private_user is not None, count


def _json(status: int, body: dict[str, Any]) -> web.Response:
    return web.json_response(body, status=status, dumps=partial(json.dumps, ensure_ascii=False))


def _dropped(request: web.Request, drop: _Drop) -> web.Response:
    if drop.mode == "502":
        page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
        return web.Response(status=502, text=page, content_type="text/html")
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=500)


async def _read_request(request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Parameters and uploaded files of a request (query, JSON, urlencoded or multipart)."""
    params: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if not request.body_exists:
        return params, files
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise ValueError("the JSON body can't be parsed") from None
        if not isinstance(body, dict):
            raise ValueError("the JSON body must be an object")
        params.update(body)
    elif request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                continue
            if part.filename is not None:
                content_type = part.headers.get(aiohttp.hdrs.CONTENT_TYPE)
                data = await part.read()
                files[part.name] = UploadedFile(
                    part.name, part.filename, content_type, bytes(data)
                )
            else:
                params[part.name] = await part.text()
    else:
        form = await request.post()
        for name, value in form.items():
            if isinstance(value, web.FileField):
                data = value.file.read()
                files[name] = UploadedFile(name, value.filename, value.content_type, data)
            else:
                params[name] = value
    return params, files
