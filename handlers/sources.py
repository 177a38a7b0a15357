"""Opaque references to received messages, as the domain carries them to the outbox."""

from __future__ import annotations

from typing import Any

from aiogram.types import Message


def source_of(message: Message) -> dict[str, Any]:
    """A reference to a received message: chat, ids, album, its HTML text, whether captioned,
    and the message of the same chat it replies to (not a topic's first message, which every
    message in a topic answers)."""
    media = any((message.photo, message.document, message.video, message.audio,
                 message.animation, message.voice))
    replied = message.reply_to_message
    return {
        "reply_to": None if replied is None or replied.forum_topic_created is not None
        else replied.message_id,
        "chat": message.chat.id,
        "ids": [message.message_id],
        "album": message.media_group_id,
        "html": message.html_text if (message.text or message.caption) else "",
        "kind": "text" if message.text else ("caption" if media else "other"),
    }
