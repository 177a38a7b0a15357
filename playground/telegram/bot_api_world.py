"""The state the fake Bot API keeps: users, chats, topics, messages, files and updates.

Everything here is plain data and synchronous primitives; the Bot API methods live in
``bot_api_methods.py``, the things people do in ``bot_api_people.py`` and the HTTP server in
``bot_api.py``. Messages are stored as Bot API ``Message`` dicts, exactly as a client shows them.
"""

from __future__ import annotations

import copy
import itertools
import mimetypes
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

GENERAL = 0
"""Pass as ``thread_id`` to inspect only the General topic of a forum (no thread id)."""

GENERAL_THREAD_ID = 1
"""The thread id Telegram gives the General topic; sending with it means sending to General."""

DEFAULT_ICON_COLOR = 0x6FB9F0
TOPIC_ICON_COLORS = frozenset({0x6FB9F0, 0xFFD67E, 0xCB86DB, 0x8EEE98, 0xFF93B2, 0xFB6F5F})

MEDIA_KINDS = (
    "photo",
    "document",
    "video",
    "voice",
    "audio",
    "animation",
    "sticker",
    "video_note",
)
CONTENT_KEYS = (
    "text",
    "entities",
    "link_preview_options",
    *MEDIA_KINDS,
    "caption",
    "caption_entities",
    "show_caption_above_media",
    "has_media_spoiler",
    "contact",
    "location",
    "venue",
    "poll",
    "dice",
)
CAPTIONED_KINDS = ("photo", "document", "video", "voice", "audio", "animation")
ADMIN_STATUSES = frozenset({"creator", "administrator"})
PRESENT_STATUSES = frozenset({"creator", "administrator", "member", "restricted"})
MEMBER_STATUSES = frozenset({*PRESENT_STATUSES, "left", "kicked"})

_FILE_ID_PREFIX = {
    "photo": "AgACAgIAAxkBAA",
    "document": "BQACAgIAAxkBAA",
    "video": "BAACAgIAAxkBAA",
    "voice": "AwACAgIAAxkBAA",
    "audio": "CQACAgIAAxkBAA",
    "animation": "CgACAgIAAxkBAA",
    "sticker": "CAACAgIAAxkBAA",
    "video_note": "DQACAgIAAxkBAA",
}
_FILE_FOLDER = {
    "photo": "photos",
    "document": "documents",
    "video": "videos",
    "voice": "voice",
    "audio": "music",
    "animation": "animations",
    "sticker": "stickers",
    "video_note": "video_notes",
}


class ApiError(Exception):
    """An error answer of the Bot API (``ok: false``)."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        """The JSON body Telegram answers with."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(reason: str) -> ApiError:
    """``400 Bad Request: <reason>``."""
    return ApiError(400, f"Bad Request: {reason}")


@dataclass
class StoredFile:
    """A file the fake knows, with the Bot API object that describes it."""

    file_id: str
    file_unique_id: str
    kind: str
    obj: dict[str, Any]
    content: bytes
    path: str


@dataclass
class Topic:
    """A forum topic; its thread id is the id of the service message that created it."""

    chat_id: int
    message_thread_id: int
    name: str
    icon_color: int = DEFAULT_ICON_COLOR
    icon_custom_emoji_id: str | None = None
    is_closed: bool = False
    is_deleted: bool = False

    def as_forum_topic(self) -> dict[str, Any]:
        """The Bot API ``ForumTopic`` object."""
        topic: dict[str, Any] = {
            "message_thread_id": self.message_thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }
        if self.icon_custom_emoji_id:
            topic["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return topic

    def as_dict(self) -> dict[str, Any]:
        """A summary for tests: ForumTopic fields plus ``closed`` and ``deleted``."""
        return {
            **self.as_forum_topic(),
            "icon_custom_emoji_id": self.icon_custom_emoji_id,
            "thread_id": self.message_thread_id,
            "closed": self.is_closed,
            "deleted": self.is_deleted,
        }


@dataclass
class ChatState:
    """One chat: its Bot API ``Chat`` fields, members, topics and messages."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    is_forum: bool = False
    private_user: dict[str, Any] | None = None
    members: dict[int, str] = field(default_factory=dict)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    deleted: dict[int, dict[str, Any]] = field(default_factory=dict)
    last_message_id: int = 0
    topics: dict[int, Topic] = field(default_factory=dict)
    pinned: list[int] = field(default_factory=list)
    reply_keyboard: dict[str, Any] | None = None
    general_topic_name: str = "General"
    rights: dict[int, dict[str, bool]] = field(default_factory=dict)  # an admin's, changed

    def as_chat(self) -> dict[str, Any]:
        """The Bot API ``Chat`` object."""
        if self.private_user is not None:
            user = self.private_user
            chat = {"id": self.id, "type": "private", "first_name": user["first_name"]}
            for key in ("last_name", "username"):
                if user.get(key):
                    chat[key] = user[key]
            return chat
        chat = {"id": self.id, "type": self.type, "title": self.title or ""}
        if self.username:
            chat["username"] = self.username
        if self.is_forum:
            chat["is_forum"] = True
        return chat

    def live_topic(self, thread_id: int) -> Topic | None:
        """The topic with this thread id unless it does not exist or was deleted."""
        topic = self.topics.get(thread_id)
        return topic if topic and not topic.is_deleted else None


@dataclass
class CallbackQueryRecord:
    """A button press and the bot's answer to it."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answer: dict[str, Any] | None = None


def is_service(message: dict[str, Any]) -> bool:
    """Whether a message is a service message (no content a person wrote)."""
    return not any(key in message for key in CONTENT_KEYS)


def media_kind(message: dict[str, Any]) -> str | None:
    """The media key of a message (``animation`` wins over its compatibility ``document``)."""
    if "animation" in message:
        return "animation"
    return next((kind for kind in MEDIA_KINDS if kind in message), None)


def snapshot(message: dict[str, Any]) -> dict[str, Any]:
    """A copy of a message as it appears inside another (no nested ``reply_to_message``)."""
    copied = copy.deepcopy(message)
    copied.pop("reply_to_message", None)
    return copied


class World:
    """Users, chats, files, updates and the bot itself."""

    def __init__(
        self,
        bot_id: int,
        bot_username: str,
        bot_first_name: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.clock = clock
        self.bot: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.users: dict[int, dict[str, Any]] = {}
        self.chats: dict[int, ChatState] = {}
        self.blocked: set[int] = set()
        self.files: dict[str, StoredFile] = {}
        self.photo_sets: dict[str, list[dict[str, Any]]] = {}
        self.updates: list[dict[str, Any]] = []
        self.last_update_id = 100_000
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.reactions: dict[tuple[int, int], list[dict[str, Any]]] = {}
        self.topic_reply_quirk = True
        self.allowed_updates: list[str] | None = None
        self._counter = itertools.count(1)

    # -- saving -------------------------------------------------------------------------

    def export_state(self) -> dict[str, Any]:
        """A copy of everything the world holds (not its clock), for :meth:`restore_state`."""
        state = {key: value for key, value in vars(self).items()
                 if key not in {"clock", "_counter"}}
        state["next_number"] = self.next_number()
        return copy.deepcopy(state)

    def restore_state(self, state: dict[str, Any]) -> None:
        """Put back what :meth:`export_state` returned (the playground keeps its chats)."""
        state = copy.deepcopy(state)
        self._counter = itertools.count(state.pop("next_number"))
        vars(self).update(state)

    # -- time and ids --------------------------------------------------------------------

    def now(self) -> int:
        """The current Unix time, as Telegram puts it in ``date`` fields."""
        return int(self.clock())

    def next_number(self) -> int:
        """A fresh number for ids that only need to be unique."""
        return next(self._counter)

    def new_media_group_id(self) -> str:
        """A fresh ``media_group_id``."""
        return str(13_000_000_000_000_000 + self.next_number())

    # -- people and chats ----------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        first_name: str,
        username: str | None = None,
        language_code: str | None = "en",
        last_name: str | None = None,
    ) -> dict[str, Any]:
        """Register a person and their private chat with the bot; return the ``User``."""
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self.users[user_id] = user
        chat = self.chats.get(user_id)
        if chat is None:
            chat = ChatState(id=user_id, type="private", private_user=user)
            chat.members = {user_id: "member", self.bot["id"]: "member"}
            self.chats[user_id] = chat
        chat.private_user = user
        return copy.deepcopy(user)

    def add_group(
        self,
        chat_id: int,
        title: str,
        *,
        is_forum: bool = True,
        member_ids: list[int] | tuple[int, ...] = (),
        admin_ids: list[int] | tuple[int, ...] = (),
        creator_id: int | None = None,
        bot_status: str = "administrator",
        username: str | None = None,
    ) -> dict[str, Any]:
        """Create a supergroup (a forum by default) with members; return its ``Chat``."""
        chat = ChatState(
            id=chat_id, type="supergroup", title=title, is_forum=is_forum, username=username
        )
        # Message 1 of a supergroup is its creation; in a forum, thread 1 is the General topic.
        chat.last_message_id = 1
        for user_id in member_ids:
            chat.members[user_id] = "member"
        for user_id in admin_ids:
            chat.members[user_id] = "administrator"
        if creator_id is not None:
            chat.members[creator_id] = "creator"
        chat.members[self.bot["id"]] = bot_status
        for user_id in chat.members:
            if user_id != self.bot["id"] and user_id not in self.users:
                msg = f"add user {user_id} before putting them in group {chat_id}"
                raise ValueError(msg)
        self.chats[chat_id] = chat
        return chat.as_chat()

    def bot_user(self) -> dict[str, Any]:
        """The bot as it appears in messages and member lists (getMe adds capabilities)."""
        keys = ("id", "is_bot", "first_name", "username")
        return {key: self.bot[key] for key in keys}

    def user(self, user_id: int) -> dict[str, Any]:
        """The ``User`` of a registered person (the bot included)."""
        if user_id == self.bot["id"]:
            return self.bot_user()
        try:
            return self.users[user_id]
        except KeyError:
            raise ValueError(f"unknown user {user_id}: call add_user() first") from None

    def chat_state(self, chat_id: int | str) -> ChatState:
        """The chat for a Bot API ``chat_id`` (an id or ``@username``), or 400 chat not found."""
        if isinstance(chat_id, str):
            name = chat_id.removeprefix("@").lower()
            for chat in self.chats.values():
                if chat.username and chat.username.lower() == name:
                    return chat
            raise bad_request("chat not found")
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def status(self, chat: ChatState, user_id: int) -> str:
        """A person's status in a chat: creator/administrator/member/restricted/left/kicked."""
        if chat.private_user is not None:
            if user_id == self.bot["id"] and chat.id in self.blocked:
                return "kicked"
            return "member" if user_id in {chat.id, self.bot["id"]} else "left"
        return chat.members.get(user_id, "left")

    def bot_is_admin(self, chat: ChatState) -> bool:
        """Whether the bot administers a group."""
        return self.status(chat, self.bot["id"]) in ADMIN_STATUSES

    # -- messages ------------------------------------------------------------------------

    def post(
        self,
        chat: ChatState,
        sender: dict[str, Any],
        content: dict[str, Any],
        *,
        thread_id: int | None = None,
        reply_to: int | None = None,
        reply_markup: dict[str, Any] | None = None,
        media_group_id: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Store a new message in a chat and return it (the stored dict itself)."""
        chat.last_message_id += 1
        message: dict[str, Any] = {"message_id": chat.last_message_id}
        if thread_id is not None:
            message["message_thread_id"] = thread_id
        message["from"] = copy.deepcopy(sender)
        message["chat"] = chat.as_chat()
        message["date"] = self.now()
        if thread_id is not None and chat.is_forum:
            message["is_topic_message"] = True
        target = chat.messages.get(reply_to) if reply_to is not None else None
        if target is None and thread_id is not None and chat.is_forum and self.topic_reply_quirk:
            # Telegram makes a topic message without an explicit reply a reply to the
            # topic's creation message.
            target = chat.messages.get(thread_id)
        if target is not None:
            message["reply_to_message"] = snapshot(target)
        if media_group_id is not None:
            message["media_group_id"] = media_group_id
        message.update(copy.deepcopy(content))
        if extra:
            message.update(copy.deepcopy(extra))
        if reply_markup is not None:
            message["reply_markup"] = copy.deepcopy(reply_markup)
        chat.messages[message["message_id"]] = message
        return message

    def find_message(self, chat: ChatState, message_id: int) -> dict[str, Any] | None:
        """A current (not deleted) message of a chat."""
        return chat.messages.get(message_id)

    def delete_message(self, chat: ChatState, message_id: int) -> None:
        """Remove a message from a chat (it stays in ``chat.deleted``)."""
        message = chat.messages.pop(message_id, None)
        if message is not None:
            chat.deleted[message_id] = message
            if message_id in chat.pinned:
                chat.pinned.remove(message_id)

    def create_topic(
        self,
        chat: ChatState,
        name: str,
        icon_color: int = DEFAULT_ICON_COLOR,
        icon_custom_emoji_id: str | None = None,
        creator: dict[str, Any] | None = None,
    ) -> Topic:
        """Create a forum topic together with its ``forum_topic_created`` service message."""
        created: dict[str, Any] = {"name": name, "icon_color": icon_color}
        if icon_custom_emoji_id:
            created["icon_custom_emoji_id"] = icon_custom_emoji_id
        thread_id = chat.last_message_id + 1
        self.post(
            chat,
            creator or self.bot_user(),
            {},
            thread_id=thread_id,
            extra={"forum_topic_created": created},
        )
        topic = Topic(chat.id, thread_id, name, icon_color, icon_custom_emoji_id)
        chat.topics[thread_id] = topic
        return topic

    # -- files ---------------------------------------------------------------------------

    def new_file(
        self,
        kind: str,
        content: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> StoredFile:
        """Register a file and return it with its Bot API object (not for photos)."""
        number = self.next_number()
        file_id = f"{_FILE_ID_PREFIX.get(kind, 'BQAC')}{number:06d}{secrets.token_urlsafe(12)}"
        unique_id = f"AQAD{number:06d}{secrets.token_hex(3)}"
        obj: dict[str, Any] = {"file_id": file_id, "file_unique_id": unique_id}
        obj.update(attributes or {})
        if file_name and kind in {"document", "video", "audio", "animation"}:
            obj["file_name"] = file_name
        if kind in {"document", "video", "audio", "animation", "voice"}:
            guessed = mimetypes.guess_type(file_name or "")[0] if file_name else None
            obj["mime_type"] = mime_type or guessed or _DEFAULT_MIME[kind]
        obj["file_size"] = len(content)
        extension = (file_name or "").rpartition(".")[2] if file_name and "." in file_name else ""
        suffix = f".{extension}" if extension else _DEFAULT_EXTENSION.get(kind, "")
        path = f"{_FILE_FOLDER.get(kind, 'documents')}/file_{number}{suffix}"
        stored = StoredFile(file_id, unique_id, kind, obj, content, path)
        self.files[file_id] = stored
        return stored

    def new_photo(self, content: bytes) -> list[dict[str, Any]]:
        """Register a photo in three sizes and return its ``PhotoSize`` list."""
        sizes = []
        for width, height in ((90, 67), (320, 240), (1280, 960)):
            scaled = content[: max(1, len(content) * width // 1280)]
            stored = self.new_file("photo", scaled, attributes={"width": width, "height": height})
            sizes.append(stored.obj)
        for size in sizes:
            self.photo_sets[size["file_id"]] = sizes
        return copy.deepcopy(sizes)

    def file_by_path(self, path: str) -> StoredFile | None:
        """The file whose ``file_path`` is ``path``."""
        return next((stored for stored in self.files.values() if stored.path == path), None)

    # -- updates -------------------------------------------------------------------------

    def queue_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for the bot (unless ``allowed_updates`` excludes it); return it."""
        self.last_update_id += 1
        update = {"update_id": self.last_update_id, kind: copy.deepcopy(payload)}
        if self.allowed_updates:
            wanted = kind in self.allowed_updates
        else:
            wanted = kind not in _NOT_BY_DEFAULT
        if wanted:
            self.updates.append(update)
        return update

    def confirm_updates(self, offset: int) -> None:
        """Forget the updates with ``update_id < offset`` (getUpdates' confirmation)."""
        self.updates = [update for update in self.updates if update["update_id"] >= offset]


_NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_DEFAULT_MIME = {
    "document": "application/octet-stream",
    "video": "video/mp4",
    "audio": "audio/mpeg",
    "animation": "video/mp4",
    "voice": "audio/ogg",
}
_DEFAULT_EXTENSION = {
    "photo": ".jpg",
    "video": ".mp4",
    "voice": ".oga",
    "audio": ".mp3",
    "animation": ".mp4",
    "sticker": ".webp",
    "video_note": ".mp4",
}
