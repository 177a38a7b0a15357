"""The message methods of the fake Bot API: send, copy, forward, edit and delete.

Each method takes the parameters already checked and coerced by the spec validator and
returns the result Telegram would return, or raises :class:`ApiError` with Telegram's
description. Methods that need the server itself (updates, webhook) live in ``bot_api.py``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from playground.telegram.bot_api_markup import EntityParseError, parse_text, strip_text
from playground.telegram.bot_api_world import (
    CAPTIONED_KINDS,
    CONTENT_KEYS,
    GENERAL_THREAD_ID,
    MEDIA_KINDS,
    ApiError,
    ChatState,
    World,
    bad_request,
    is_service,
    media_kind,
)
from playground.telegram.spec import UploadedFile

Params = dict[str, Any]
Files = dict[str, UploadedFile]
Handler = Callable[[Params, Files], Any]

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
WRONG_FILE = "wrong file identifier/HTTP URL specified"
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_MEDIA_DEFAULTS: dict[str, dict[str, Any]] = {
    "video": {"width": 1280, "height": 720, "duration": 5},
    "animation": {"width": 480, "height": 270, "duration": 3},
    "voice": {"duration": 3},
    "audio": {"duration": 180},
    "video_note": {"length": 240, "duration": 5},
    "sticker": {
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    },
}
_MEDIA_PARAMS = {
    "video": ("width", "height", "duration"),
    "animation": ("width", "height", "duration"),
    "voice": ("duration",),
    "audio": ("duration", "performer", "title"),
    "video_note": ("length", "duration"),
    "sticker": ("emoji",),
}


class MessageMethods:
    """Telegram's behaviour for the methods that create, change and remove messages."""

    def __init__(self, world: World, *, strict_html: bool = True) -> None:
        self.world = world
        self.strict_html = strict_html

    @property
    def bot_id(self) -> int:
        """The bot's user id."""
        return int(self.world.bot["id"])

    # -- checks shared by the senders ----------------------------------------------------

    def _target(self, params: Params) -> tuple[ChatState, int | None]:
        """The chat and topic a message goes to, after Telegram's checks."""
        chat = self.world.chat_state(params["chat_id"])
        self._check_can_write(chat)
        return chat, self._thread(chat, params.get("message_thread_id"))

    def _check_can_write(self, chat: ChatState) -> None:
        if chat.private_user is not None:
            if chat.id in self.world.blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            return
        status = self.world.status(chat, self.bot_id)
        if status == "kicked":
            raise ApiError(403, f"Forbidden: bot was kicked from the {chat.type} chat")
        if status == "left":
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")

    def _thread(self, chat: ChatState, thread_id: int | None) -> int | None:
        if not thread_id:
            return None
        if chat.is_forum:
            if thread_id == GENERAL_THREAD_ID:
                return None
            topic = chat.live_topic(thread_id)
            if topic is None:
                raise bad_request("message thread not found")
            if topic.is_closed and not self.world.bot_is_admin(chat):
                raise bad_request("TOPIC_CLOSED")
            return thread_id
        if chat.private_user is None and thread_id in chat.messages:
            return thread_id  # a reply thread of an ordinary supergroup
        raise bad_request("message thread not found")

    def _formatted(
        self,
        text: str,
        parse_mode: str | None,
        entities: list[dict[str, Any]] | None,
        *,
        limit: int,
        too_long: str,
        empty: str | None = None,
    ) -> tuple[str, list[dict[str, Any]]]:
        """Parse a text or caption as Telegram does and apply its length limit."""
        if entities is not None:
            plain, found = text, copy.deepcopy(entities)
        else:
            try:
                plain, found = parse_text(text, parse_mode, strict_html=self.strict_html)
            except EntityParseError as error:
                raise bad_request(f"can't parse entities: {error}") from None
        plain, found = strip_text(plain, self._resolve_mentions(found))
        if not plain and empty:
            raise bad_request(empty)
        if len(plain) > limit:
            raise bad_request(too_long)
        return plain, found

    def _resolve_mentions(self, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Fill in the User of text mentions; a mention of an unknown user is dropped."""
        resolved = []
        for entity in entities:
            if entity["type"] != "text_mention":
                resolved.append(entity)
                continue
            user = self.world.users.get(entity.get("user", {}).get("id"))
            if user is not None:
                resolved.append({**entity, "user": copy.deepcopy(user)})
        return resolved

    def _caption(self, source: Params) -> dict[str, Any]:
        if source.get("caption") is None:
            return {}
        caption, entities = self._formatted(
            source["caption"],
            source.get("parse_mode"),
            source.get("caption_entities"),
            limit=CAPTION_LIMIT,
            too_long="message caption is too long",
        )
        content: dict[str, Any] = {}
        if caption:
            content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
        if source.get("show_caption_above_media"):
            content["show_caption_above_media"] = True
        return content

    def _inline_markup(self, markup: dict[str, Any] | None) -> dict[str, Any] | None:
        """The inline keyboard to store on the message, after Telegram's button checks."""
        if not markup or "inline_keyboard" not in markup:
            return None
        for row in markup["inline_keyboard"]:
            for button in row:
                self._check_button(button)
        if not any(markup["inline_keyboard"]):
            return None
        return copy.deepcopy(markup)

    @staticmethod
    def _check_button(button: dict[str, Any]) -> None:
        if not button.get("text"):
            raise bad_request("BUTTON_TEXT_INVALID")
        data = button.get("callback_data")
        if data is not None and not 1 <= len(data.encode("utf-8")) <= 64:
            raise bad_request("BUTTON_DATA_INVALID")
        if not any(action in button for action in _BUTTON_ACTIONS):
            raise bad_request(
                "can't parse inline keyboard button: Text buttons are unallowed in the inline "
                "keyboard"
            )
        url = button.get("url")
        if url is not None and not url.startswith(("http://", "https://", "tg://")):
            raise bad_request("BUTTON_URL_INVALID")

    def _apply_reply_keyboard(self, chat: ChatState, markup: dict[str, Any] | None) -> None:
        if not markup:
            return
        if "keyboard" in markup:
            chat.reply_keyboard = copy.deepcopy(markup)
        elif markup.get("remove_keyboard"):
            chat.reply_keyboard = None

    def _reply(
        self, chat: ChatState, params: Params, thread_id: int | None
    ) -> tuple[int | None, int | None]:
        """The message replied to and the thread the reply goes to."""
        reply = params.get("reply_parameters") or {}
        message_id = reply.get("message_id", params.get("reply_to_message_id"))
        if message_id is None:
            return None, thread_id
        allow = reply.get(
            "allow_sending_without_reply", params.get("allow_sending_without_reply", False)
        )
        other_chat = reply.get("chat_id")
        if other_chat is not None and self.world.chat_state(other_chat).id != chat.id:
            raise bad_request("the fake Bot API does not model replies to other chats")
        target = chat.messages.get(message_id)
        if target is None:
            if allow:
                return None, thread_id
            raise bad_request("message to be replied not found")
        if chat.is_forum and thread_id is None and target.get("message_thread_id"):
            thread_id = target["message_thread_id"]
        return message_id, thread_id

    def _deliver(
        self,
        chat: ChatState,
        thread_id: int | None,
        params: Params,
        content: dict[str, Any],
        *,
        media_group_id: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Post a bot message after the checks every sender shares."""
        markup = self._inline_markup(params.get("reply_markup"))
        reply_to, thread_id = self._reply(chat, params, thread_id)
        extra = dict(extra or {})
        if params.get("protect_content"):
            extra["has_protected_content"] = True
        message = self.world.post(
            chat,
            self.world.bot_user(),
            content,
            thread_id=thread_id,
            reply_to=reply_to,
            reply_markup=markup,
            media_group_id=media_group_id,
            extra=extra,
        )
        self._apply_reply_keyboard(chat, params.get("reply_markup"))
        return message

    # -- files ---------------------------------------------------------------------------

    def _input_media(
        self, kind: str, value: str | UploadedFile, files: Files, params: Params
    ) -> dict[str, Any]:
        """The message content for a file given as an upload, a URL or a file_id."""
        upload: UploadedFile | None = None
        if isinstance(value, UploadedFile):
            upload = value
        elif value.startswith("attach://"):
            upload = files.get(value[len("attach://") :])
            if upload is None:
                raise bad_request(WRONG_FILE)
        elif value.startswith(("http://", "https://")):
            name = value.rstrip("/").rpartition("/")[2] or None
            upload = UploadedFile(kind, name, None, f"downloaded from {value}".encode())
        if upload is None:
            return self._existing_media(kind, str(value))
        if kind == "photo":
            return {"photo": self.world.new_photo(upload.content)}
        attributes = dict(_MEDIA_DEFAULTS.get(kind, {}))
        attributes.update(
            {key: params[key] for key in _MEDIA_PARAMS.get(kind, ()) if key in params}
        )
        content_type = upload.content_type
        if content_type in {None, "application/octet-stream"}:
            content_type = None
        stored = self.world.new_file(
            kind,
            upload.content,
            file_name=upload.filename,
            mime_type=content_type,
            attributes=attributes,
        )
        return self._with_document(kind, stored.obj)

    def _existing_media(self, kind: str, file_id: str) -> dict[str, Any]:
        if file_id in self.world.photo_sets:
            if kind != "photo":
                raise bad_request(f"can't use file of type Photo as {kind.title()}")
            return {"photo": copy.deepcopy(self.world.photo_sets[file_id])}
        stored = self.world.files.get(file_id)
        if stored is None:
            raise bad_request(WRONG_FILE)
        if stored.kind != kind:
            raise bad_request(f"can't use file of type {stored.kind.title()} as {kind.title()}")
        return self._with_document(kind, stored.obj)

    @staticmethod
    def _with_document(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        content = {kind: copy.deepcopy(obj)}
        if kind == "animation":
            # Telegram sets "document" too on animations, for backward compatibility.
            keys = ("file_id", "file_unique_id", "file_name", "mime_type", "file_size")
            content["document"] = {key: obj[key] for key in keys if key in obj}
        return content

    # -- sending -------------------------------------------------------------------------

    def send_message(self, params: Params, files: Files) -> dict[str, Any]:
        """sendMessage."""
        chat, thread_id = self._target(params)
        text, entities = self._formatted(
            params["text"],
            params.get("parse_mode"),
            params.get("entities"),
            limit=TEXT_LIMIT,
            too_long="message is too long",
            empty="message text is empty",
        )
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        if params.get("link_preview_options"):
            content["link_preview_options"] = params["link_preview_options"]
        return self._deliver(chat, thread_id, params, content)

    def _send_media(self, kind: str, params: Params, files: Files) -> dict[str, Any]:
        chat, thread_id = self._target(params)
        caption = self._caption(params) if kind in CAPTIONED_KINDS else {}
        content = self._input_media(kind, params[kind], files, params)
        content.update(caption)
        if params.get("has_spoiler"):
            content["has_media_spoiler"] = True
        return self._deliver(chat, thread_id, params, content)

    def send_media_group(self, params: Params, files: Files) -> list[dict[str, Any]]:
        """sendMediaGroup: 2-10 items, one message each, sharing a media_group_id."""
        chat, thread_id = self._target(params)
        items = params["media"]
        if not 2 <= len(items) <= 10:
            raise bad_request("wrong number of media in the album: 2-10 items are allowed")
        kinds = {item["type"] for item in items}
        if len(kinds) > 1 and kinds & {"document", "audio"}:
            raise bad_request("documents and audio can't be mixed with other media in an album")
        contents = []
        for item in items:
            caption = self._caption(item)
            content = self._input_media(item["type"], item["media"], files, item)
            content.update(caption)
            if item.get("has_spoiler"):
                content["has_media_spoiler"] = True
            contents.append(content)
        group_id = self.world.new_media_group_id()
        return [
            self._deliver(chat, thread_id, params, content, media_group_id=group_id)
            for content in contents
        ]

    def copy_message(self, params: Params, files: Files) -> dict[str, Any]:
        """copyMessage: the same content, no link to the original; returns a MessageId."""
        chat, thread_id = self._target(params)
        original = self._source(params["from_chat_id"], params["message_id"], "copy")
        content = self._copied_content(original, params)
        message = self._deliver(chat, thread_id, params, content)
        return {"message_id": message["message_id"]}

    def forward_message(self, params: Params, files: Files) -> dict[str, Any]:
        """forwardMessage: the same content with a ``forward_origin``."""
        chat, thread_id = self._target(params)
        original = self._source(params["from_chat_id"], params["message_id"], "forward")
        content = {key: original[key] for key in CONTENT_KEYS if key in original}
        extra = {"forward_origin": self._origin(original)}
        return self._deliver(chat, thread_id, params, content, extra=extra)

    def _copy_many(self, params: Params, *, forward: bool) -> list[dict[str, Any]]:
        """copyMessages/forwardMessages: albums stay albums under a new media_group_id."""
        chat, thread_id = self._target(params)
        source = self.world.chat_state(params["from_chat_id"])
        ids = params["message_ids"]
        if not 1 <= len(ids) <= 100:
            raise bad_request("message_ids must contain 1-100 identifiers")
        if any(later <= earlier for earlier, later in zip(ids, ids[1:], strict=False)):
            raise bad_request("message identifiers must be specified in strictly increasing order")
        originals = [
            message
            for message_id in ids
            if (message := source.messages.get(message_id)) is not None and not is_service(message)
        ]
        if not originals:
            raise bad_request(f"message to {'forward' if forward else 'copy'} not found")
        groups: dict[str, str] = {}
        result = []
        for original in originals:
            group_id = None
            if original.get("media_group_id"):
                group_id = groups.setdefault(
                    original["media_group_id"], self.world.new_media_group_id()
                )
            if forward:
                content = {key: original[key] for key in CONTENT_KEYS if key in original}
                extra = {"forward_origin": self._origin(original)}
            else:
                remove = {"caption": None} if params.get("remove_caption") else {}
                content = self._copied_content(original, remove)
                extra = {}
            message = self._deliver(
                chat, thread_id, params, content, media_group_id=group_id, extra=extra
            )
            result.append({"message_id": message["message_id"]})
        return result

    def _source(self, chat_id: int | str, message_id: int, verb: str) -> dict[str, Any]:
        source = self.world.chat_state(chat_id)
        original = source.messages.get(message_id)
        if original is None:
            raise bad_request(f"message to {verb} not found")
        if is_service(original):
            raise bad_request(f"message can't be {'copied' if verb == 'copy' else 'forwarded'}")
        return original

    def _copied_content(self, original: dict[str, Any], params: Params) -> dict[str, Any]:
        content = {key: copy.deepcopy(original[key]) for key in CONTENT_KEYS if key in original}
        if "caption" in params and media_kind(original) in CAPTIONED_KINDS:
            for key in ("caption", "caption_entities", "show_caption_above_media"):
                content.pop(key, None)
            content.update(self._caption(params))
        return content

    def _origin(self, original: dict[str, Any]) -> dict[str, Any]:
        if "forward_origin" in original:
            return copy.deepcopy(original["forward_origin"])
        return {"type": "user", "date": original["date"], "sender_user": original["from"]}

    # -- editing and deleting ------------------------------------------------------------

    def _editable(self, params: Params) -> tuple[ChatState, dict[str, Any]]:
        if params.get("inline_message_id"):
            raise bad_request("the fake Bot API does not model inline messages")
        if params.get("chat_id") is None or params.get("message_id") is None:
            raise bad_request("message identifier is not specified")
        chat = self.world.chat_state(params["chat_id"])
        message = chat.messages.get(params["message_id"])
        if message is None:
            raise bad_request("message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id or is_service(message):
            raise bad_request("message can't be edited")
        return chat, message

    def _apply_edit(
        self, message: dict[str, Any], changes: dict[str, Any], markup: dict[str, Any] | None
    ) -> dict[str, Any]:
        """Apply an edit, or fail with "message is not modified" when nothing changes."""
        current = {key: message.get(key) for key in changes}
        if current == changes and message.get("reply_markup") == markup:
            raise bad_request(NOT_MODIFIED)
        for key, value in changes.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = copy.deepcopy(value)
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        message["edit_date"] = self.world.now()
        return message

    def edit_message_text(self, params: Params, files: Files) -> dict[str, Any]:
        """editMessageText (a missing reply_markup removes the inline keyboard)."""
        _, message = self._editable(params)
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        text, entities = self._formatted(
            params["text"],
            params.get("parse_mode"),
            params.get("entities"),
            limit=TEXT_LIMIT,
            too_long="message is too long",
            empty="message text is empty",
        )
        markup = self._inline_markup(params.get("reply_markup"))
        return self._apply_edit(message, {"text": text, "entities": entities or None}, markup)

    def edit_message_caption(self, params: Params, files: Files) -> dict[str, Any]:
        """editMessageCaption (a missing caption removes it)."""
        _, message = self._editable(params)
        if media_kind(message) not in CAPTIONED_KINDS:
            raise bad_request("there is no caption in the message to edit")
        caption = self._caption(params)
        changes = {
            "caption": caption.get("caption"),
            "caption_entities": caption.get("caption_entities"),
        }
        markup = self._inline_markup(params.get("reply_markup"))
        return self._apply_edit(message, changes, markup)

    def edit_message_reply_markup(self, params: Params, files: Files) -> dict[str, Any]:
        """editMessageReplyMarkup (no reply_markup removes the keyboard)."""
        _, message = self._editable(params)
        return self._apply_edit(message, {}, self._inline_markup(params.get("reply_markup")))

    def edit_message_media(self, params: Params, files: Files) -> dict[str, Any]:
        """editMessageMedia: new media and caption for a media message."""
        _, message = self._editable(params)
        if media_kind(message) is None:
            raise bad_request("there is no media in the message to edit")
        media = params["media"]
        content = self._input_media(media["type"], media["media"], files, media)
        content.update(self._caption(media))
        changes: dict[str, Any] = dict.fromkeys(
            (*MEDIA_KINDS, "caption", "caption_entities", "show_caption_above_media")
        )
        changes.update(content)
        markup = self._inline_markup(params.get("reply_markup"))
        return self._apply_edit(message, changes, markup)

    def delete_message(self, params: Params, files: Files) -> bool:
        """deleteMessage."""
        chat = self.world.chat_state(params["chat_id"])
        message = chat.messages.get(params["message_id"])
        if message is None:
            raise bad_request("message to delete not found")
        self._check_deletable(chat, message)
        self.world.delete_message(chat, params["message_id"])
        return True

    def delete_messages(self, params: Params, files: Files) -> bool:
        """deleteMessages: messages that are missing or can't be deleted are skipped."""
        chat = self.world.chat_state(params["chat_id"])
        for message_id in params["message_ids"]:
            message = chat.messages.get(message_id)
            if message is None:
                continue
            try:
                self._check_deletable(chat, message)
            except ApiError:
                continue
            self.world.delete_message(chat, message_id)
        return True

    def _check_deletable(self, chat: ChatState, message: dict[str, Any]) -> None:
        if "forum_topic_created" in message:
            raise bad_request("message can't be deleted")
        own = message.get("from", {}).get("id") == self.bot_id
        if not own and chat.private_user is None and not self.world.bot_is_admin(chat):
            raise bad_request("message can't be deleted")
