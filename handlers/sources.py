"""References to received messages, as the domain carries them to the outbox."""

from __future__ import annotations

from aiogram.types import Message

from domain.outgoing import MessageRef, MessageShape


def message_ref(message: Message) -> MessageRef:
    """A reference to a received message: chat, id, album, its HTML text, what it holds, and
    the message of the same chat it replies to (not a topic's first message, which every
    message in a topic answers)."""
    media = any((message.photo, message.document, message.video, message.audio,
                 message.animation, message.voice))
    replied = message.reply_to_message
    return MessageRef(
        chat=message.chat.id,
        ids=(message.message_id,),
        album=message.media_group_id,
        html=message.html_text if (message.text or message.caption) else "",
        shape=(MessageShape.TEXT if message.text else
               MessageShape.CAPTION if media else MessageShape.OTHER),
        reply_to=(None if replied is None or replied.forum_topic_created is not None
                  else replied.message_id),
    )
