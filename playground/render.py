"""Messages of the stand-in Telegram as the page shows them: HTML from text and entities."""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass, field
from typing import Any

_TAGS = {
    "bold": ("<b>", "</b>"),
    "italic": ("<i>", "</i>"),
    "underline": ("<u>", "</u>"),
    "strikethrough": ("<s>", "</s>"),
    "spoiler": ('<span class="spoiler">', "</span>"),
    "code": ("<code>", "</code>"),
    "pre": ("<pre>", "</pre>"),
    "blockquote": ("<blockquote>", "</blockquote>"),
    "expandable_blockquote": ("<blockquote>", "</blockquote>"),
    "bot_command": ('<span class="command">', "</span>"),
    "hashtag": ('<span class="hashtag">', "</span>"),
    "mention": ('<span class="mention">', "</span>"),
    "text_mention": ('<span class="mention">', "</span>"),
}
_SAFE_SCHEMES = ("http://", "https://", "tg://", "mailto:")
SERVICE_KEYS = ("forum_topic_created", "forum_topic_edited", "forum_topic_closed",
                "forum_topic_reopened", "pinned_message", "general_forum_topic_hidden",
                "general_forum_topic_unhidden")


def entities_to_html(text: str, entities: list[dict[str, Any]]) -> str:
    """Telegram's text with entities (UTF-16 offsets) as safe HTML."""
    units = text.encode("utf-16-le")
    size = len(units) // 2
    cuts = {0, size}
    for entity in entities:
        cuts.update((entity["offset"], min(size, entity["offset"] + entity["length"])))
    edges = sorted(cut for cut in cuts if 0 <= cut <= size)
    # Outer entities first, so that tags nest the way Telegram nests them.
    ordered = sorted(entities, key=lambda entity: (entity["offset"], -entity["length"]))
    pieces = []
    for start, end in zip(edges, edges[1:], strict=False):
        chunk = html.escape(units[start * 2:end * 2].decode("utf-16-le", errors="replace"))
        covering = [entity for entity in ordered
                    if entity["offset"] <= start and entity["offset"] + entity["length"] >= end]
        for entity in reversed(covering):
            chunk = _wrap(chunk, entity, units)
        pieces.append(chunk)
    return "".join(pieces)


def _wrap(chunk: str, entity: dict[str, Any], units: bytes) -> str:
    kind = entity["type"]
    if kind in {"text_link", "url", "email"}:
        if kind == "text_link":
            target = entity.get("url", "")
        else:
            start, end = entity["offset"], entity["offset"] + entity["length"]
            target = units[start * 2:end * 2].decode("utf-16-le", errors="replace")
            if kind == "email":
                target = f"mailto:{target}"
            elif "://" not in target:
                target = f"https://{target}"
        if not target.startswith(_SAFE_SCHEMES):
            return chunk
        href = html.escape(target, quote=True)
        return f'<a href="{href}" target="_blank" rel="noopener noreferrer">{chunk}</a>'
    opening, closing = _TAGS.get(kind, ("", ""))
    return f"{opening}{chunk}{closing}"


@dataclass
class MessageView:
    """One message as the page draws it."""

    id: int
    date: int
    sender_id: int
    sender: str
    is_bot: bool
    html: str = ""
    photo: str | None = None
    document: dict[str, Any] | None = None
    media: str | None = None
    edited: bool = False
    buttons: list[list[dict[str, str]]] = field(default_factory=list)
    reply_to: str | None = None
    reactions: list[str] = field(default_factory=list)
    service: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The JSON the page's script reads."""
        return asdict(self)


def message_view(message: dict[str, Any], reactions: list[dict[str, Any]]) -> MessageView:
    """A stored Bot API ``Message`` as the page shows it."""
    sender = message.get("from", {})
    name = " ".join(filter(None, (sender.get("first_name"), sender.get("last_name"))))
    view = MessageView(
        id=message["message_id"], date=message.get("date", 0), sender_id=sender.get("id", 0),
        sender=name, is_bot=bool(sender.get("is_bot")), edited="edit_date" in message,
        reactions=[reaction.get("emoji", "★") for reaction in reactions])
    service = next((key for key in SERVICE_KEYS if key in message), None)
    if service is not None:
        view.service = _service_text(service, message[service])
        return view
    if "text" in message:
        view.html = entities_to_html(message["text"], message.get("entities", []))
    elif "caption" in message:
        view.html = entities_to_html(message["caption"], message.get("caption_entities", []))
    if "photo" in message:
        view.photo = message["photo"][-1]["file_id"]  # the largest size
    elif "document" in message:
        document = message["document"]
        view.document = {"file_id": document["file_id"],
                         "name": document.get("file_name", "file"),
                         "size": document.get("file_size", 0)}
    else:
        view.media = next((kind for kind in ("video", "voice", "audio", "animation", "sticker",
                                             "video_note", "contact", "location", "poll")
                           if kind in message), None)
    markup = message.get("reply_markup", {}).get("inline_keyboard", [])
    view.buttons = [[_button(button) for button in row] for row in markup]
    replied = message.get("reply_to_message")
    if replied and not any(key in replied for key in SERVICE_KEYS):
        snippet = replied.get("text") or replied.get("caption") or ""
        view.reply_to = snippet[:80]
    return view


def _button(button: dict[str, Any]) -> dict[str, str]:
    found = {"text": button.get("text", "")}
    if "callback_data" in button:
        found["data"] = button["callback_data"]
    elif "url" in button and str(button["url"]).startswith(_SAFE_SCHEMES):
        found["url"] = button["url"]
    return found


def _service_text(kind: str, detail: Any) -> str:
    """The kind of service message; the page words it in the visitor's language."""
    if kind in {"forum_topic_created", "forum_topic_edited"} and isinstance(detail, dict):
        return f"{kind}:{detail.get('name', '')}"
    return kind
