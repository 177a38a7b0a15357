"""What people do in the fake Telegram: set-up of users and groups, and the updates they cause.

:class:`PeopleActions` is a mixin of :class:`playground.telegram.bot_api.FakeBotAPI`; every action
stores the resulting message (as a Telegram client shows it), queues the update the bot
receives, and wakes the waiters.
"""

from __future__ import annotations

import copy
import secrets
from typing import Any

from playground.telegram.bot_api_inspect import Inspection
from playground.telegram.bot_api_markup import command_entities
from playground.telegram.bot_api_world import (
    ADMIN_STATUSES,
    GENERAL_THREAD_ID,
    PRESENT_STATUSES,
    CallbackQueryRecord,
    ChatState,
)

_SETTABLE_STATUSES = frozenset({"creator", "administrator", "member", "left", "kicked"})


class PeopleActions(Inspection):
    """Users, groups and the things people do: send, edit, press buttons, block the bot."""

    # -- set-up --------------------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        first_name: str,
        username: str | None = None,
        language_code: str | None = "en",
        last_name: str | None = None,
    ) -> dict[str, Any]:
        """Register a person (and their private chat with the bot); return their ``User``."""
        user = self.world.add_user(user_id, first_name, username, language_code, last_name)
        self._changed()
        return user

    def add_group(
        self,
        chat_id: int,
        title: str,
        is_forum: bool = True,
        member_ids: list[int] | tuple[int, ...] = (),
        admin_ids: list[int] | tuple[int, ...] = (),
        *,
        creator_id: int | None = None,
        bot_status: str = "administrator",
        username: str | None = None,
    ) -> dict[str, Any]:
        """Create a supergroup (a forum unless ``is_forum=False``); return its ``Chat``.

        The people must have been added with :meth:`add_user`. The bot is an administrator
        with every right unless ``bot_status`` says otherwise.
        """
        chat = self.world.add_group(
            chat_id,
            title,
            is_forum=is_forum,
            member_ids=member_ids,
            admin_ids=admin_ids,
            creator_id=creator_id,
            bot_status=bot_status,
            username=username,
        )
        self._changed()
        return chat

    def set_member_status(self, chat_id: int, user_id: int, status: str = "member") -> None:
        """Put a person in a group with a status (creator/administrator/member/left/kicked)."""
        if status not in _SETTABLE_STATUSES:
            raise ValueError(f"unsupported status {status!r}")
        chat = self._chat(chat_id)
        self.world.user(user_id)
        chat.members[user_id] = status
        self._changed()

    def set_admin_rights(self, chat_id: int, user_id: int, **rights: bool) -> None:
        """Change an administrator's rights in a group (``can_manage_topics=False``, …)."""
        chat = self._chat(chat_id)
        chat.rights.setdefault(user_id, {}).update(rights)
        self._changed()

    def set_privacy_mode(self, enabled: bool) -> None:
        """The bot's privacy mode as @BotFather sets it (getMe's can_read_all_group_messages)."""
        self.world.bot["can_read_all_group_messages"] = not enabled
        self._changed()

    def create_topic(self, chat_id: int, name: str, *, by_user: int | None = None) -> int:
        """Create a forum topic as a person would (no update is sent); return its thread id."""
        chat = self._chat(chat_id)
        if not chat.is_forum:
            raise ValueError(f"chat {chat_id} is not a forum")
        creator = self.world.user(by_user) if by_user is not None else None
        topic = self.world.create_topic(chat, name, creator=creator)
        self._changed()
        return topic.message_thread_id

    def block_bot(self, user_id: int) -> None:
        """The person blocks the bot: sends fail with 403 and a my_chat_member update comes."""
        self._set_blocked(user_id, blocked=True)

    def unblock_bot(self, user_id: int) -> None:
        """The person unblocks the bot (a my_chat_member update comes)."""
        self._set_blocked(user_id, blocked=False)

    def _set_blocked(self, user_id: int, *, blocked: bool) -> None:
        user = self.world.user(user_id)
        if (user_id in self.world.blocked) == blocked:
            return
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        if blocked:
            self.world.blocked.add(user_id)
        else:
            self.world.blocked.discard(user_id)
        bot = self.world.bot_user()
        old_member: dict[str, Any] = {"status": old, "user": bot}
        new_member: dict[str, Any] = {"status": new, "user": bot}
        for member in (old_member, new_member):
            if member["status"] == "kicked":
                member["until_date"] = 0
        self.world.queue_update(
            "my_chat_member",
            {
                "chat": self.world.chats[user_id].as_chat(),
                "from": user,
                "date": self.world.now(),
                "old_chat_member": old_member,
                "new_chat_member": new_member,
            },
        )
        self._changed()

    # -- messages ------------------------------------------------------------------------

    def user_sends(
        self,
        user_id: int,
        text: str | None = None,
        *,
        chat_id: int | None = None,
        thread_id: int | None = None,
        reply_to: int | None = None,
        photo: bool | bytes = False,
        document: str | bool | None = None,
        document_content: bytes | None = None,
        caption: str | None = None,
        media_group_id: str | None = None,
        entities: list[dict[str, Any]] | None = None,
        sticker: bool = False,
        voice: bool = False,
        video: bool = False,
    ) -> dict[str, Any]:
        """A person sends a message; return it as stored (a ``message`` update is queued).

        ``chat_id`` defaults to the person's private chat with the bot. With media, ``text``
        serves as the caption unless ``caption`` is given. ``document`` is a file name (or
        True), ``document_content`` its bytes. Texts starting with ``/`` get a ``bot_command``
        entity like in a real client. In a forum, a reply to a topic message lands in that topic.
        """
        user = self.world.user(user_id)
        chat = self._chat(chat_id if chat_id is not None else user_id)
        thread = self._sending_thread(chat, user_id, thread_id)
        if chat.private_user is not None and user_id in self.world.blocked:
            # A client unblocks the bot before it lets the person write to it.
            self.unblock_bot(user_id)
        content = self._content(
            text, caption, entities, photo, document, sticker=sticker, voice=voice, video=video,
            document_content=document_content,
        )
        if reply_to is not None:
            target = chat.messages.get(reply_to)
            if target is None:
                raise ValueError(f"message {reply_to} is not in chat {chat.id}")
            if chat.is_forum and thread is None and target.get("message_thread_id"):
                thread = target["message_thread_id"]
        message = self.world.post(
            chat, user, content, thread_id=thread, reply_to=reply_to, media_group_id=media_group_id
        )
        self.world.queue_update("message", message)
        self._changed()
        return copy.deepcopy(message)

    def user_sends_album(
        self,
        user_id: int,
        n_photos: int,
        caption: str | None = None,
        chat_id: int | None = None,
        thread_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """A person sends an album of photos: one message and one update per photo."""
        if not 2 <= n_photos <= 10:
            raise ValueError("an album has 2-10 items")
        group_id = self.world.new_media_group_id()
        return [
            self.user_sends(
                user_id,
                chat_id=chat_id,
                thread_id=thread_id,
                photo=True,
                caption=caption if index == 0 else None,
                media_group_id=group_id,
            )
            for index in range(n_photos)
        ]

    def user_edits(
        self,
        user_id: int,
        chat_id: int,
        message_id: int,
        text: str | None = None,
        *,
        caption: str | None = None,
    ) -> dict[str, Any]:
        """A person edits their message; an ``edited_message`` update is queued."""
        chat = self._chat(chat_id)
        message = chat.messages.get(message_id)
        if message is None or message.get("from", {}).get("id") != user_id:
            raise ValueError(f"user {user_id} has no message {message_id} in chat {chat_id}")
        if text is not None:
            if "text" not in message:
                raise ValueError("that message has no text; edit its caption")
            message["text"] = text
            message.pop("entities", None)
            if found := command_entities(text):
                message["entities"] = found
        if caption is not None:
            message["caption"] = caption
            message.pop("caption_entities", None)
        message["edit_date"] = self.world.now()
        self.world.queue_update("edited_message", message)
        self._changed()
        return copy.deepcopy(message)

    def user_presses(
        self,
        user_id: int,
        chat_id: int,
        message_id: int,
        callback_data: str | None = None,
        *,
        button: str | None = None,
        force: bool = False,
    ) -> str:
        """A person presses an inline button; return the callback query id.

        Name the button by its ``callback_data`` or by a part of its label (``button=``).
        The button must be on the message as it currently is. Only members of a group can
        press buttons in it; ``force=True`` lets anyone press (a card forwarded elsewhere, a
        client that kept the message after leaving the group).
        """
        user = self.world.user(user_id)
        chat = self._chat(chat_id)
        message = chat.messages.get(message_id)
        if message is None:
            raise ValueError(f"no message {message_id} in chat {chat_id}")
        if (not force and chat.private_user is None
                and self.world.status(chat, user_id) not in PRESENT_STATUSES):
            raise ValueError(f"user {user_id} is not in chat {chat_id}")
        data = self._button_data(message, callback_data, button)
        query_id = str(secrets.randbelow(9 * 10**18) + 10**18)
        query = {
            "id": query_id,
            "from": user,
            "message": message,
            "chat_instance": str(abs(hash(("chat", chat.id))) % 10**19),
            "data": data,
        }
        self.world.callback_queries[query_id] = CallbackQueryRecord(
            query_id, user_id, chat.id, message_id, data
        )
        self.world.queue_update("callback_query", query)
        self._changed()
        return query_id

    def callback_answer(self, query_id: str) -> dict[str, Any] | None:
        """The bot's answerCallbackQuery for a press (text, show_alert, ...), or None."""
        record = self.world.callback_queries.get(query_id)
        if record is None:
            raise ValueError(f"unknown callback query {query_id}")
        return copy.deepcopy(record.answer)

    # -- helpers -------------------------------------------------------------------------

    def _sending_thread(self, chat: ChatState, user_id: int, thread_id: int | None) -> int | None:
        if chat.private_user is not None:
            if chat.id != user_id:
                raise ValueError(f"user {user_id} cannot write in the private chat {chat.id}")
            if thread_id is not None:
                raise ValueError("private chats have no topics here")
            return None
        status = self.world.status(chat, user_id)
        if status not in PRESENT_STATUSES:
            raise ValueError(f"user {user_id} is not a member of chat {chat.id} ({status})")
        if thread_id is None or thread_id == GENERAL_THREAD_ID:
            return None
        topic = chat.live_topic(thread_id)
        if chat.is_forum and topic is None:
            raise ValueError(f"no topic {thread_id} in chat {chat.id} (deleted or never created)")
        if topic is not None and topic.is_closed and status not in ADMIN_STATUSES:
            raise ValueError(f"topic {thread_id} is closed; only administrators can write in it")
        return thread_id

    def _content(
        self,
        text: str | None,
        caption: str | None,
        entities: list[dict[str, Any]] | None,
        photo: bool | bytes,
        document: str | bool | None,
        *,
        sticker: bool,
        voice: bool,
        video: bool,
        document_content: bytes | None = None,
    ) -> dict[str, Any]:
        world = self.world
        content: dict[str, Any] = {}
        if photo:
            data = photo if isinstance(photo, bytes) else b"\xff\xd8fake-jpeg" + bytes(64)
            content["photo"] = world.new_photo(data)
        if document:
            name = document if isinstance(document, str) else "document.pdf"
            data = document_content
            if data is None:
                data = f"fake file {name}".encode()
            stored = world.new_file("document", data, file_name=name)
            content["document"] = stored.obj
        if video:
            stored = world.new_file(
                "video",
                b"fake video",
                file_name="video.mp4",
                attributes={"width": 1280, "height": 720, "duration": 5},
            )
            content["video"] = stored.obj
        if voice:
            content["voice"] = world.new_file("voice", b"OggS", attributes={"duration": 3}).obj
        if sticker:
            content["sticker"] = world.new_file(
                "sticker",
                b"RIFF-webp",
                attributes={
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                    "emoji": "👍",
                },
            ).obj
        if content:
            caption = caption if caption is not None else text
            if caption and not sticker:
                content["caption"] = caption
            return copy.deepcopy(content)
        if not text:
            raise ValueError("a message needs text or media")
        content["text"] = text
        found = entities if entities is not None else command_entities(text)
        if found:
            content["entities"] = copy.deepcopy(found)
        return content

    @staticmethod
    def _button_data(message: dict[str, Any], callback_data: str | None, label: str | None) -> str:
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        buttons = [button for row in rows for button in row if "callback_data" in button]
        for button in buttons:
            if callback_data is not None and button["callback_data"] == callback_data:
                return callback_data
            if label is not None and label.lower() in button["text"].lower():
                return str(button["callback_data"])
        shown = [(button["text"], button["callback_data"]) for button in buttons]
        wanted = callback_data if callback_data is not None else f"label containing {label!r}"
        msg = f"no button {wanted!r} on message {message['message_id']}; buttons: {shown}"
        raise ValueError(msg)
