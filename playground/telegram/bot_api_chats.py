"""The chat, member, topic and miscellaneous methods of the fake Bot API.

:class:`BotMethods` adds them to the message methods and maps Bot API method names to both.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from playground.telegram.bot_api_methods import Files, Handler, MessageMethods, Params
from playground.telegram.bot_api_world import (
    ADMIN_STATUSES,
    DEFAULT_ICON_COLOR,
    TOPIC_ICON_COLORS,
    CallbackQueryRecord,
    ChatState,
    Topic,
    World,
    bad_request,
    snapshot,
)

CALLBACK_ANSWER_LIMIT = 200
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_ADMIN_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_pin_messages": True,
    "can_manage_topics": True,
    "can_send_welcome_messages": False,  # required by aiogram 3.31 (a newer Bot API than 10.1)
}


class BotMethods(MessageMethods):
    """Every Bot API method the fake implements on its world, by name in :attr:`table`."""

    def __init__(self, world: World, *, strict_html: bool = True) -> None:
        super().__init__(world, strict_html=strict_html)
        self.table: dict[str, Handler] = {
            "sendMessage": self.send_message,
            "sendPhoto": lambda p, f: self._send_media("photo", p, f),
            "sendDocument": lambda p, f: self._send_media("document", p, f),
            "sendVideo": lambda p, f: self._send_media("video", p, f),
            "sendVoice": lambda p, f: self._send_media("voice", p, f),
            "sendAudio": lambda p, f: self._send_media("audio", p, f),
            "sendAnimation": lambda p, f: self._send_media("animation", p, f),
            "sendSticker": lambda p, f: self._send_media("sticker", p, f),
            "sendVideoNote": lambda p, f: self._send_media("video_note", p, f),
            "sendMediaGroup": self.send_media_group,
            "copyMessage": self.copy_message,
            "copyMessages": lambda p, f: self._copy_many(p, forward=False),
            "forwardMessage": self.forward_message,
            "forwardMessages": lambda p, f: self._copy_many(p, forward=True),
            "editMessageText": self.edit_message_text,
            "editMessageCaption": self.edit_message_caption,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "editMessageMedia": self.edit_message_media,
            "deleteMessage": self.delete_message,
            "deleteMessages": self.delete_messages,
            "answerCallbackQuery": self.answer_callback_query,
            "createForumTopic": self.create_forum_topic,
            "editForumTopic": self.edit_forum_topic,
            "closeForumTopic": lambda p, f: self._set_topic_closed(p, closed=True),
            "reopenForumTopic": lambda p, f: self._set_topic_closed(p, closed=False),
            "deleteForumTopic": self.delete_forum_topic,
            "unpinAllForumTopicMessages": self.unpin_all_forum_topic_messages,
            "editGeneralForumTopic": self.edit_general_forum_topic,
            "getChat": self.get_chat,
            "getChatMember": self.get_chat_member,
            "getChatAdministrators": self.get_chat_administrators,
            "getChatMemberCount": self.get_chat_member_count,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "sendChatAction": self.send_chat_action,
            "pinChatMessage": self.pin_chat_message,
            "unpinChatMessage": self.unpin_chat_message,
            "unpinAllChatMessages": self.unpin_all_chat_messages,
            "getFile": self.get_file,
            "setMessageReaction": self.set_message_reaction,
        }

    # -- callback queries, commands, actions, reactions, files ----------------------------

    def answer_callback_query(self, params: Params, files: Files) -> bool:
        """answerCallbackQuery: each query can be answered once."""
        record: CallbackQueryRecord | None = self.world.callback_queries.get(
            params["callback_query_id"]
        )
        if record is None or record.answer is not None:
            raise bad_request(QUERY_TOO_OLD)
        if len(params.get("text") or "") > CALLBACK_ANSWER_LIMIT:
            raise bad_request("MESSAGE_TOO_LONG")
        record.answer = {
            key: params[key]
            for key in ("text", "show_alert", "url", "cache_time")
            if key in params
        }
        return True

    def set_my_commands(self, params: Params, files: Files) -> bool:
        """setMyCommands."""
        commands = params["commands"]
        if len(commands) > 100:
            raise bad_request("too many commands: at most 100 are allowed")
        for command in commands:
            if not _COMMAND_NAME.fullmatch(command["command"]):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(command["description"]) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.world.commands[self._scope_key(params)] = copy.deepcopy(commands)
        return True

    def get_my_commands(self, params: Params, files: Files) -> list[dict[str, Any]]:
        """getMyCommands: the list set for exactly this scope and language."""
        return copy.deepcopy(self.world.commands.get(self._scope_key(params), []))

    def delete_my_commands(self, params: Params, files: Files) -> bool:
        """deleteMyCommands."""
        self.world.commands.pop(self._scope_key(params), None)
        return True

    def _scope_key(self, params: Params) -> tuple[str, str]:
        scope = dict(params.get("scope") or {"type": "default"})
        if "chat_id" in scope:
            scope["chat_id"] = self.world.chat_state(scope["chat_id"]).id
        return json.dumps(scope, sort_keys=True), params.get("language_code") or ""

    def send_chat_action(self, params: Params, files: Files) -> bool:
        """sendChatAction."""
        self._target(params)
        if params["action"] not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def set_message_reaction(self, params: Params, files: Files) -> bool:
        """setMessageReaction."""
        chat = self.world.chat_state(params["chat_id"])
        if params["message_id"] not in chat.messages:
            raise bad_request("message to react not found")
        reactions = copy.deepcopy(params.get("reaction") or [])
        self.world.reactions[(chat.id, params["message_id"])] = reactions
        return True

    def get_file(self, params: Params, files: Files) -> dict[str, Any]:
        """getFile: a File with a ``file_path`` for downloading."""
        stored = self.world.files.get(params["file_id"])
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.path,
        }

    # -- pins ----------------------------------------------------------------------------

    def _check_pin_rights(self, chat: ChatState) -> None:
        if chat.private_user is None and not self.world.bot_is_admin(chat):
            raise bad_request("not enough rights to manage pinned messages in the chat")

    def pin_chat_message(self, params: Params, files: Files) -> bool:
        """pinChatMessage (in groups a ``pinned_message`` service message appears)."""
        chat = self.world.chat_state(params["chat_id"])
        self._check_pin_rights(chat)
        message = chat.messages.get(params["message_id"])
        if message is None:
            raise bad_request("message to pin not found")
        if params["message_id"] in chat.pinned:
            chat.pinned.remove(params["message_id"])
        chat.pinned.append(params["message_id"])
        if chat.private_user is None:
            self.world.post(
                chat,
                self.world.bot_user(),
                {},
                thread_id=message.get("message_thread_id"),
                extra={"pinned_message": snapshot(message)},
            )
        return True

    def unpin_chat_message(self, params: Params, files: Files) -> bool:
        """unpinChatMessage: the given message, or the most recently pinned one."""
        chat = self.world.chat_state(params["chat_id"])
        self._check_pin_rights(chat)
        message_id = params.get("message_id") or (chat.pinned[-1] if chat.pinned else None)
        if message_id is None or message_id not in chat.pinned:
            raise bad_request("message to unpin not found")
        chat.pinned.remove(message_id)
        return True

    def unpin_all_chat_messages(self, params: Params, files: Files) -> bool:
        """unpinAllChatMessages."""
        chat = self.world.chat_state(params["chat_id"])
        self._check_pin_rights(chat)
        chat.pinned.clear()
        return True

    # -- chats and members ---------------------------------------------------------------

    def get_chat(self, params: Params, files: Files) -> dict[str, Any]:
        """getChat: a minimal ChatFullInfo."""
        chat = self.world.chat_state(params["chat_id"])
        info = chat.as_chat()
        info.update(
            {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )
        if chat.pinned and chat.pinned[-1] in chat.messages:
            pinned = chat.messages[chat.pinned[-1]]
            info["pinned_message"] = snapshot(pinned)
        return info

    def chat_member(self, chat: ChatState, user_id: int) -> dict[str, Any]:
        """The ChatMember object of a person in a chat."""
        status = self.world.status(chat, user_id)
        member: dict[str, Any] = {
            "status": status,
            "user": copy.deepcopy(self.world.user(user_id)),
        }
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(_ADMIN_RIGHTS)
            member.update(chat.rights.get(user_id, {}))
            member["can_be_edited"] = False
        elif status == "kicked":
            member["until_date"] = 0
        return member

    def get_chat_member(self, params: Params, files: Files) -> dict[str, Any]:
        """getChatMember ("left" for people who are not in the chat)."""
        chat = self.world.chat_state(params["chat_id"])
        if params["user_id"] not in self.world.users and params["user_id"] != self.bot_id:
            raise bad_request("user not found")
        return self.chat_member(chat, params["user_id"])

    def get_chat_administrators(self, params: Params, files: Files) -> list[dict[str, Any]]:
        """getChatAdministrators: the creator and administrators, the bot included."""
        chat = self.world.chat_state(params["chat_id"])
        if chat.private_user is not None:
            raise bad_request("there are no administrators in the private chat")
        return [
            self.chat_member(chat, user_id)
            for user_id, status in chat.members.items()
            if status in ADMIN_STATUSES
        ]

    def get_chat_member_count(self, params: Params, files: Files) -> int:
        """getChatMemberCount."""
        chat = self.world.chat_state(params["chat_id"])
        if chat.private_user is not None:
            return 2
        return sum(status in ADMIN_STATUSES | {"member"} for status in chat.members.values())

    # -- forum topics --------------------------------------------------------------------

    def _forum(self, params: Params) -> ChatState:
        chat = self.world.chat_state(params["chat_id"])
        self._check_can_write(chat)
        if not chat.is_forum:
            raise bad_request("the chat is not a forum")
        if not self.world.bot_is_admin(chat):
            raise bad_request("not enough rights to manage topics in the chat")
        return chat

    def _topic(self, chat: ChatState, thread_id: int) -> Topic:
        topic = chat.live_topic(thread_id)
        if topic is None:
            raise bad_request("TOPIC_ID_INVALID")
        return topic

    def create_forum_topic(self, params: Params, files: Files) -> dict[str, Any]:
        """createForumTopic; the thread id is the id of the topic's service message."""
        chat = self._forum(params)
        member = self.chat_member(chat, self.bot_id)
        if member["status"] != "creator" and not member.get("can_manage_topics", False):
            raise bad_request("not enough rights to create a topic")
        name = params["name"]
        if not 1 <= len(name) <= 128:
            raise bad_request("TOPIC_NAME_INVALID" if name else "TOPIC_TITLE_EMPTY")
        color = params.get("icon_color", DEFAULT_ICON_COLOR)
        if color not in TOPIC_ICON_COLORS:
            raise bad_request("TOPIC_ICON_COLOR_INVALID")
        topic = self.world.create_topic(chat, name, color, params.get("icon_custom_emoji_id"))
        return topic.as_forum_topic()

    def edit_forum_topic(self, params: Params, files: Files) -> bool:
        """editForumTopic (posts ``forum_topic_edited``)."""
        chat = self._forum(params)
        topic = self._topic(chat, params["message_thread_id"])
        edited: dict[str, Any] = {}
        name = params.get("name")
        if name is not None and name != topic.name:
            if not 1 <= len(name) <= 128:
                raise bad_request("TOPIC_NAME_INVALID")
            edited["name"] = name
        emoji = params.get("icon_custom_emoji_id")
        if emoji is not None and emoji != (topic.icon_custom_emoji_id or ""):
            edited["icon_custom_emoji_id"] = emoji
        if not edited:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.name = edited.get("name", topic.name)
        if "icon_custom_emoji_id" in edited:
            topic.icon_custom_emoji_id = edited["icon_custom_emoji_id"] or None
        self._topic_service(chat, topic.message_thread_id, {"forum_topic_edited": edited})
        return True

    def _set_topic_closed(self, params: Params, *, closed: bool) -> bool:
        chat = self._forum(params)
        topic = self._topic(chat, params["message_thread_id"])
        if topic.is_closed == closed:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.is_closed = closed
        key = "forum_topic_closed" if closed else "forum_topic_reopened"
        self._topic_service(chat, topic.message_thread_id, {key: {}})
        return True

    def delete_forum_topic(self, params: Params, files: Files) -> bool:
        """deleteForumTopic: the topic and all its messages disappear."""
        chat = self._forum(params)
        topic = self._topic(chat, params["message_thread_id"])
        topic.is_deleted = True
        for message_id, message in list(chat.messages.items()):
            if message.get("message_thread_id") == topic.message_thread_id:
                self.world.delete_message(chat, message_id)
        return True

    def unpin_all_forum_topic_messages(self, params: Params, files: Files) -> bool:
        """unpinAllForumTopicMessages."""
        chat = self._forum(params)
        topic = self._topic(chat, params["message_thread_id"])
        chat.pinned = [
            message_id
            for message_id in chat.pinned
            if chat.messages.get(message_id, {}).get("message_thread_id")
            != topic.message_thread_id
        ]
        return True

    def edit_general_forum_topic(self, params: Params, files: Files) -> bool:
        """editGeneralForumTopic."""
        chat = self._forum(params)
        if params["name"] == chat.general_topic_name:
            raise bad_request("TOPIC_NOT_MODIFIED")
        chat.general_topic_name = params["name"]
        return True

    def _topic_service(self, chat: ChatState, thread_id: int, extra: dict[str, Any]) -> None:
        self.world.post(chat, self.world.bot_user(), {}, thread_id=thread_id, extra=extra)
