"""The playground's web page: the clients' chats and the staff group, live in a browser.

The page is drawn on the server (its frame and texts) and filled by one small script, which
reads ``/api/state`` whenever the server says over a WebSocket that something changed; every
tab of the page does the same, so two tabs show the same desk.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import mimetypes
import string
import time
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import WSMsgType, web

from bot.i18n import DeskI18n
from domain.policy import LANGUAGES, Policy
from playground import desk
from playground.clock import PlaygroundClock
from playground.render import message_view
from playground.telegram.bot_api import GENERAL, FakeBotAPI
from playground.telegram.bot_api_markup import utf16_len
from playground.words import words

log = logging.getLogger(__name__)

TEXT_LIMIT = 4096  # Telegram's limits for what a person sends
CAPTION_LIMIT = 1024
UPLOAD_LIMIT = 20 * 1024**2
JUMPS = {10: timedelta(minutes=10), 60: timedelta(hours=1), 1440: timedelta(days=1)}
SAVE_EVERY = 5.0  # seconds between two saves of the chats while things change
_PICTURES = {b"\x89PNG": "image/png", b"\xff\xd8": "image/jpeg", b"GIF8": "image/gif"}


class Refused(Exception):
    """What the visitor did is not possible; the text is shown on the page."""


@dataclass
class Playground:
    """The running playground: the stand-in Telegram, the clock, the open pages."""

    api: FakeBotAPI
    clock: PlaygroundClock
    policy: Policy
    i18n: DeskI18n
    data: Path
    sockets: set[web.WebSocketResponse] = field(default_factory=set)
    _seen_calls: int = 0
    _bot_calls: int = 0
    _fingerprint: tuple[Any, ...] = ()
    _saved_at: float = 0.0

    # -- what the page shows -------------------------------------------------------------

    def staff_ids(self) -> list[int]:
        """The people in the staff group (agents and supervisors), in the order they came."""
        chat = self.api.world.chats[desk.STAFF_CHAT_ID]
        return sorted(user_id for user_id, status in chat.members.items()
                      if user_id != self.api.bot_id
                      and status in {"creator", "administrator", "member"})

    def state(self, client_id: int | None, thread_id: int | None, language: str) -> dict[str, Any]:
        """Everything the page draws: people, chats, topics, the open chat and topic."""
        said = words(self.i18n, language)
        world = self.api.world
        staff = set(self.staff_ids())
        clients = []
        for user_id, user in world.users.items():
            if user_id in staff:
                continue
            messages = world.chats[user_id].messages
            last = messages[max(messages)] if messages else None
            clients.append({"id": user_id, "name": _name(user),
                            "language": user.get("language_code", "en"),
                            "blocked": user_id in world.blocked,
                            "last": _snippet(last, said), "date": last["date"] if last else 0})
        clients.sort(key=lambda client: (-client["date"], client["id"]))
        people = [{"id": user_id, "name": _name(world.users[user_id]),
                   "role": said["supervisor"] if user_id in self.policy.supervisors
                   else said["agent"]} for user_id in self.staff_ids()]
        topics = [{"thread_id": GENERAL, "name": said["general"], "color": 0x8E9EAD,
                   "closed": False, **self._last_of(GENERAL, said)}]
        listed = [topic for topic in self.api.topics(desk.STAFF_CHAT_ID) if not topic["deleted"]]
        listed.sort(key=lambda topic: -topic["thread_id"])
        topics += [{"thread_id": topic["thread_id"], "name": topic["name"],
                    "color": topic["icon_color"], "closed": topic["closed"],
                    **self._last_of(topic["thread_id"], said)} for topic in listed]
        found: dict[str, Any] = {
            "clock": self.clock.now().isoformat(),
            "ahead": int(self.clock.offset.total_seconds()),
            "clients": clients, "people": people, "topics": topics,
        }
        if client_id in world.users and client_id not in staff:
            found["client"] = {"id": client_id,
                               "messages": self._views(client_id, None, said)}
        if thread_id is not None and any(topic["thread_id"] == thread_id for topic in topics):
            found["topic"] = {"thread_id": thread_id,
                              "messages": self._views(desk.STAFF_CHAT_ID, thread_id, said)}
        return found

    def _views(self, chat_id: int, thread_id: int | None, said: dict[str, str]) -> list[Any]:
        views = []
        for message in self.api.messages(chat_id, thread_id, service=True):
            view = message_view(message, self.api.reactions(chat_id, message["message_id"]))
            if view.service is not None:
                kind, _, name = view.service.partition(":")
                text = said.get(_SERVICE_WORDS.get(kind, ""), "")
                view.service = f"{text}: {name}" if name and text else text
                if not text:
                    continue
            views.append(view.as_json())
        return views

    def _last_of(self, thread_id: int, said: dict[str, str]) -> dict[str, Any]:
        messages = self.api.messages(desk.STAFF_CHAT_ID, thread_id)
        last = messages[-1] if messages else None
        return {"last": _snippet(last, said), "date": last["date"] if last else 0}

    # -- what the visitor does -----------------------------------------------------------

    def send(self, sender_id: int, chat_id: int, thread_id: int | None, text: str,
             upload: tuple[str, str, bytes] | None) -> None:
        """A person writes (with a photo or a file); Telegram's limits apply."""
        self._check_sender(sender_id, chat_id)
        if upload is None and not text.strip():
            raise Refused("")
        if upload is None and utf16_len(text) > TEXT_LIMIT:
            raise Refused("too_long")
        if upload is not None and utf16_len(text) > CAPTION_LIMIT:
            raise Refused("caption_too_long")
        thread = None if thread_id in {None, GENERAL} else thread_id
        target = None if chat_id == sender_id else chat_id
        if upload is None:
            self.api.user_sends(sender_id, text, chat_id=target, thread_id=thread)
            return
        name, content_type, content = upload
        if content_type in {"image/png", "image/jpeg", "image/gif", "image/webp"}:
            self.api.user_sends(sender_id, chat_id=target, thread_id=thread, photo=content,
                                caption=text or None)
        else:
            self.api.user_sends(sender_id, chat_id=target, thread_id=thread, document=name,
                                document_content=content, caption=text or None)

    def edit(self, sender_id: int, chat_id: int, message_id: int, text: str) -> None:
        """A person edits their message (its text, or the caption of a photo or file)."""
        self._check_sender(sender_id, chat_id)
        message = self.api.message(chat_id, message_id)
        if message is None or not text.strip():
            raise Refused("")
        if "text" in message:
            if utf16_len(text) > TEXT_LIMIT:
                raise Refused("too_long")
            self.api.user_edits(sender_id, chat_id, message_id, text)
        else:
            if utf16_len(text) > CAPTION_LIMIT:
                raise Refused("caption_too_long")
            self.api.user_edits(sender_id, chat_id, message_id, caption=text)

    async def press(self, user_id: int, chat_id: int, message_id: int,
                    data: str) -> dict[str, Any] | None:
        """A person presses an inline button; the bot's answer (a toast or an alert)."""
        self._check_sender(user_id, chat_id)
        query_id = self.api.user_presses(user_id, chat_id, message_id, data)
        queries = self.api.world.callback_queries
        with contextlib.suppress(AssertionError):  # no answer within the wait: no toast
            await self.api.wait_for(lambda: queries[query_id].answer is not None, timeout=5)
        return self.api.callback_answer(query_id)

    def add_client(self, name: str, language: str) -> int:
        """A new person who will write to the bot."""
        staff = set(self.staff_ids())
        taken = [user_id for user_id in self.api.world.users if user_id not in staff]
        user_id = max([desk.FIRST_CLIENT_ID - 1, *taken]) + 1
        first, _, last = _clean_name(name).partition(" ")
        desk.add_person(self.api, desk.Person(user_id, first, last or None, None,
                                              language if language in LANGUAGES else "en"))
        return user_id

    def add_agent(self, name: str) -> int:
        """A new member of the staff group."""
        user_id = max([desk.FIRST_AGENT_ID - 1, *self.api.world.users]) + 1
        first, _, last = _clean_name(name).partition(" ")
        desk.add_person(self.api, desk.Person(user_id, first, last or None))
        self.api.set_member_status(desk.STAFF_CHAT_ID, user_id, "member")
        return user_id

    def _check_sender(self, sender_id: int, chat_id: int) -> None:
        if sender_id not in self.api.world.users:
            raise Refused("")
        if chat_id == desk.STAFF_CHAT_ID:
            if sender_id not in self.staff_ids():
                raise Refused("")
        elif chat_id != sender_id:
            raise Refused("")

    # -- live updates --------------------------------------------------------------------

    async def watch(self) -> None:
        """Tell every open page when the desk changed; keep the chats saved meanwhile."""
        while True:
            await self.api.next_change(timeout=1.0)
            await asyncio.sleep(0.05)  # a burst of the bot's calls makes one refresh
            if self._changed_since_last_look():
                await self.broadcast()
                if time.monotonic() - self._saved_at > SAVE_EVERY:
                    self.save()

    def _changed_since_last_look(self) -> bool:
        calls = self.api.calls
        for call in calls[self._seen_calls:]:
            if call.method != "getUpdates":
                self._bot_calls += 1
        self._seen_calls = len(calls)
        for violation in self.api.take_violations():
            log.warning("the bot broke the Bot API spec: %s", violation)
        world = self.api.world
        fingerprint = (self._bot_calls, world.last_update_id, len(world.users),
                       frozenset(world.blocked), self.clock.offset)
        if fingerprint == self._fingerprint:
            return False
        self._fingerprint = fingerprint
        return True

    async def broadcast(self) -> None:
        """Ask every open page to read the state again."""
        for socket in list(self.sockets):
            try:
                await socket.send_str('{"type": "changed"}')
            except (ConnectionError, RuntimeError):
                self.sockets.discard(socket)

    def save(self) -> None:
        """Keep the chats and the clock in the data folder."""
        desk.save(self.api, self.clock, self.data)
        self._saved_at = time.monotonic()


_SERVICE_WORDS = {
    "forum_topic_created": "topic_created",
    "forum_topic_edited": "topic_edited",
    "forum_topic_closed": "topic_closed",
    "forum_topic_reopened": "topic_reopened",
    "pinned_message": "pinned",
}
PLAYGROUND: web.AppKey[Playground] = web.AppKey("playground", Playground)


def make_web_app(playground: Playground) -> web.Application:
    """The page, its script and styles, the state, the actions and the live socket."""
    app = web.Application(client_max_size=UPLOAD_LIMIT + 1024**2)
    app[PLAYGROUND] = playground
    static = resources.files("playground").joinpath("static")
    app.router.add_get("/", page)
    app.router.add_static("/static", Path(str(static)))
    app.router.add_get("/files/{file_id}", file)
    app.router.add_get("/ws", live)
    app.router.add_get("/api/state", state)
    app.router.add_post("/api/send", send)
    app.router.add_post("/api/edit", edit)
    app.router.add_post("/api/press", press)
    app.router.add_post("/api/block", block)
    app.router.add_post("/api/clock", jump)
    app.router.add_post("/api/clients", add_client)
    app.router.add_post("/api/agents", add_agent)
    return app


def _language(request: web.Request) -> str:
    wanted = request.query.get("lang") or request.cookies.get("lang")
    if wanted in LANGUAGES:
        return wanted
    accepted = request.headers.get("Accept-Language", "")
    return "ru" if accepted.lower().startswith("ru") else "en"


async def page(request: web.Request) -> web.Response:
    """The page, in the visitor's language (`?lang=ru`, remembered in a cookie)."""
    playground = request.app[PLAYGROUND]
    language = _language(request)
    said = words(playground.i18n, language)
    template = resources.files("playground").joinpath("page.html").read_text(encoding="utf-8")
    escaped = {key: _escape(value) for key, value in said.items()}
    boot = {"lang": language, "words": said, "staffChat": desk.STAFF_CHAT_ID,
            "supervisors": list(playground.policy.supervisors),
            "notePrefix": playground.policy.note_prefix}
    body = string.Template(template).safe_substitute(
        escaped, lang=language, other_lang="ru" if language == "en" else "en",
        boot=json.dumps(boot, ensure_ascii=False).replace("<", "\\u003c"))
    response = web.Response(text=body, content_type="text/html")
    if request.query.get("lang") in LANGUAGES:
        response.set_cookie("lang", language, max_age=365 * 86400, samesite="Lax")
    return response


async def state(request: web.Request) -> web.Response:
    """The desk as the page draws it."""
    playground = request.app[PLAYGROUND]
    found = playground.state(_int(request.query.get("client")),
                             _int(request.query.get("topic")), _language(request))
    return web.json_response(found, dumps=_dumps)


async def file(request: web.Request) -> web.Response:
    """A photo or file of a chat."""
    stored = request.app[PLAYGROUND].api.world.files.get(request.match_info["file_id"])
    if stored is None:
        raise web.HTTPNotFound()
    kind = next((value for head, value in _PICTURES.items() if stored.content.startswith(head)),
                None)
    headers = {}
    if kind is None:
        name = stored.obj.get("file_name", "file")
        kind = stored.obj.get("mime_type") or mimetypes.guess_type(name)[0]
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name, safe='')}"
    return web.Response(body=stored.content, content_type=kind or "application/octet-stream",
                        headers=headers)


async def live(request: web.Request) -> web.WebSocketResponse:
    """A page listens here for "changed"."""
    playground = request.app[PLAYGROUND]
    socket = web.WebSocketResponse(heartbeat=20)
    await socket.prepare(request)
    playground.sockets.add(socket)
    try:
        async for message in socket:
            if message.type == WSMsgType.ERROR:
                break
    finally:
        playground.sockets.discard(socket)
    return socket


async def send(request: web.Request) -> web.Response:
    """A client or a member of the staff writes (multipart: with a photo or a file)."""
    fields, upload = await _form(request)
    return await _act(request, lambda playground: playground.send(
        _int(fields.get("as")) or 0, _int(fields.get("chat")) or 0, _int(fields.get("thread")),
        fields.get("text", ""), upload))


async def edit(request: web.Request) -> web.Response:
    """A person edits their message."""
    fields = await request.json()
    return await _act(request, lambda playground: playground.edit(
        int(fields["as"]), int(fields["chat"]), int(fields["message"]), str(fields["text"])))


async def press(request: web.Request) -> web.Response:
    """A person presses an inline button; the answer comes back for a toast."""
    fields = await request.json()
    playground = request.app[PLAYGROUND]
    try:
        answer = await playground.press(int(fields["as"]), int(fields["chat"]),
                                        int(fields["message"]), str(fields["data"]))
    except (Refused, ValueError, KeyError) as error:
        return _refusal(playground, request, error)
    return web.json_response({"ok": True, "answer": answer}, dumps=_dumps)


async def block(request: web.Request) -> web.Response:
    """A client blocks (or unblocks) the bot."""
    fields = await request.json()

    def toggle(playground: Playground) -> None:
        client = int(fields["client"])
        if client in playground.staff_ids() or client not in playground.api.world.users:
            raise Refused("")
        if fields.get("blocked"):
            playground.api.block_bot(client)
        else:
            playground.api.unblock_bot(client)

    return await _act(request, toggle)


async def jump(request: web.Request) -> web.Response:
    """Move the desk's clock ahead by 10 minutes, an hour or a day."""
    fields = await request.json()
    playground = request.app[PLAYGROUND]
    delta = JUMPS.get(_int(str(fields.get("minutes"))) or 0)
    if delta is None:
        return web.json_response({"ok": False, "error": ""}, status=400)
    playground.clock.advance(delta)
    log.info("the desk's clock jumped %s ahead (now %s)", delta, playground.clock.now())
    await playground.broadcast()
    return web.json_response({"ok": True})


async def add_client(request: web.Request) -> web.Response:
    """A new client (a name and a language)."""
    fields = await request.json()
    playground = request.app[PLAYGROUND]
    user_id = playground.add_client(str(fields.get("name", "")), str(fields.get("language")))
    return web.json_response({"ok": True, "id": user_id})


async def add_agent(request: web.Request) -> web.Response:
    """A new agent in the staff group."""
    fields = await request.json()
    user_id = request.app[PLAYGROUND].add_agent(str(fields.get("name", "")))
    return web.json_response({"ok": True, "id": user_id})


async def _act(request: web.Request, action: Any) -> web.Response:
    playground = request.app[PLAYGROUND]
    try:
        action(playground)
    except (Refused, ValueError, KeyError) as error:
        return _refusal(playground, request, error)
    return web.json_response({"ok": True})


_TELEGRAMS_WORDS = {  # what Telegram itself answers, shown after our sentence
    "too_long": "400 Bad Request: message is too long",
    "caption_too_long": "400 Bad Request: message caption is too long",
}


def _refusal(playground: Playground, request: web.Request, error: Exception) -> web.Response:
    said = words(playground.i18n, _language(request))
    if isinstance(error, Refused):
        key = str(error)
        text = said.get(key, "")
        if key in _TELEGRAMS_WORDS:
            text = f"{text} ({_TELEGRAMS_WORDS[key]})"
    else:
        text = str(error)
    return web.json_response({"ok": False, "error": text}, status=400, dumps=_dumps)


async def _form(request: web.Request) -> tuple[dict[str, str], tuple[str, str, bytes] | None]:
    fields: dict[str, str] = {}
    upload = None
    post = await request.post()
    for name, value in post.items():
        if isinstance(value, web.FileField):
            content = value.file.read()
            if content:
                kind = value.content_type or mimetypes.guess_type(value.filename)[0] or ""
                upload = (value.filename or "file", kind, content)
        else:
            fields[name] = str(value)
    return fields, upload


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in {None, ""} else None
    except ValueError:
        return None


def _name(user: dict[str, Any]) -> str:
    return " ".join(filter(None, (user.get("first_name"), user.get("last_name"))))


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())[:64]
    return cleaned or "Client"


def _snippet(message: dict[str, Any] | None, said: dict[str, str]) -> str:
    if message is None:
        return ""
    text = message.get("text") or message.get("caption")
    if text:
        return text[:80]
    if "photo" in message:
        return said["photo"]
    if "document" in message:
        return said["file"]
    return ""


def _escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
