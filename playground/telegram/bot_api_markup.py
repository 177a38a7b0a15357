"""Entity parsing for the fake Bot API: HTML, MarkdownV2 and legacy Markdown, as Telegram does.

Each parser turns the text a bot sent into ``(plain_text, entities)`` with offsets and lengths
in UTF-16 code units, or raises :class:`EntityParseError` with Telegram's wording, which the
server reports as ``400 Bad Request: can't parse entities: ...``.
"""

from __future__ import annotations

import html
import re
from typing import Any

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_CHAR_REFERENCE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});")
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'", "nbsp": "\xa0"}
_TAG_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*")
_ATTRIBUTE = re.compile(r"""\s*([a-zA-Z-]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>"']+))?""")
_TG_USER = re.compile(r"tg://user\?id=(\d+)")
_MARKDOWN_V2_RESERVED = "_*[]()~`>#+-=|{}.!"
_COMMAND = re.compile(r"/[a-zA-Z0-9_]{1,32}(?:@[a-zA-Z0-9_]{3,32})?")


class EntityParseError(Exception):
    """The text cannot be parsed in the requested parse mode."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (the unit of entity offsets)."""
    return len(text.encode("utf-16-le")) // 2


def parse_text(
    text: str, parse_mode: str | None, *, strict_html: bool = True
) -> tuple[str, list[dict[str, Any]]]:
    """Parse ``text`` in ``parse_mode`` (None/"" means plain text) into text and entities."""
    mode = (parse_mode or "").lower()
    if not mode:
        return text, []
    if mode == "html":
        return parse_html(text, strict=strict_html)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown(text)
    raise EntityParseError(f'Unsupported parse_mode "{parse_mode}"')


def strip_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Trim surrounding whitespace like Telegram, keeping entities on the same characters."""
    stripped_left = text.lstrip()
    shift = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip()
    limit = utf16_len(result)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, limit)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return result, kept


def command_entities(text: str) -> list[dict[str, Any]]:
    """The ``bot_command`` entity a Telegram client adds to a text starting with a command."""
    match = _COMMAND.match(text)
    if not match:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}]


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _sorted(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entities, key=lambda entity: (entity["offset"], -entity["length"]))


# -- HTML ----------------------------------------------------------------------------------


def parse_html(source: str, *, strict: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram's HTML subset. ``strict`` also rejects a bare ``&`` or ``>``.

    Telegram itself tolerates a bare ``&`` or ``>``, but its documentation requires them to be
    escaped, and an unescaped one usually means user text went into HTML without escaping.
    """
    out: list[str] = []
    length = 0  # of the output so far, in UTF-16 units
    stack: list[tuple[str, int, dict[str, str]]] = []
    entities: list[dict[str, Any]] = []
    index = 0
    while index < len(source):
        char = source[index]
        if char == "&":
            match = _CHAR_REFERENCE.match(source, index)
            decoded = _decode_reference(match.group(1)) if match else None
            if match and decoded is not None:
                out.append(decoded)
                length += utf16_len(decoded)
                index = match.end()
                continue
            if strict:
                offset = _byte_offset(source, index)
                msg = f'Character "&" at byte offset {offset} must be escaped as "&amp;"'
                raise EntityParseError(msg)
        elif char == ">" and strict:
            offset = _byte_offset(source, index)
            raise EntityParseError(f'Character ">" at byte offset {offset} must be escaped')
        elif char == "<":
            if source.startswith("</", index):
                index = _html_end_tag(source, index, stack, length, entities)
            else:
                index = _html_start_tag(source, index, stack, length)
            continue
        out.append(char)
        length += utf16_len(char)
        index += 1
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return "".join(out), _sorted(entities)


def _decode_reference(name: str) -> str | None:
    if name.startswith(("#x", "#X")):
        code = int(name[2:], 16)
    elif name.startswith("#"):
        code = int(name[1:])
    else:
        return _HTML_NAMED.get(name)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def _html_start_tag(
    source: str, index: int, stack: list[tuple[str, int, dict[str, str]]], length: int
) -> int:
    offset = _byte_offset(source, index)
    name_match = _TAG_NAME.match(source, index + 1)
    name = name_match.group(0).lower() if name_match else ""
    if name not in _HTML_TAGS:
        raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {offset}')
    position = name_match.end() if name_match else index + 1
    attributes: dict[str, str] = {}
    while True:
        if position >= len(source):
            raise EntityParseError(f"Unclosed start tag at byte offset {offset}")
        if source[position] == ">":
            break
        if source[position].isspace():
            position += 1
            continue
        attribute = _ATTRIBUTE.match(source, position)
        if not attribute or attribute.end() == position:
            raise EntityParseError(f'Unclosed start tag "{name}" at byte offset {offset}')
        raw = attribute.group(2) or ""
        if raw[:1] in {'"', "'"}:
            raw = raw[1:-1]
        attributes[attribute.group(1).lower()] = html.unescape(raw)
        position = attribute.end()
    if name == "span" and attributes.get("class") != "tg-spoiler":
        msg = f'Tag "span" must have class "tg-spoiler" at byte offset {offset}'
        raise EntityParseError(msg)
    if name == "tg-emoji" and not attributes.get("emoji-id"):
        msg = f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {offset}'
        raise EntityParseError(msg)
    stack.append((name, length, attributes))
    return position + 1


def _html_end_tag(
    source: str,
    index: int,
    stack: list[tuple[str, int, dict[str, str]]],
    length: int,
    entities: list[dict[str, Any]],
) -> int:
    offset = _byte_offset(source, index)
    close = source.find(">", index)
    if close < 0:
        raise EntityParseError(f"Unclosed end tag at byte offset {offset}")
    name = source[index + 2 : close].strip().lower()
    if not stack:
        raise EntityParseError(f"Unexpected end tag at byte offset {offset}")
    open_name, start, attributes = stack.pop()
    if open_name != name:
        raise EntityParseError(
            f'Unmatched end tag at byte offset {offset}, expected "</{open_name}>", '
            f'found "</{name}>"'
        )
    entity = _html_entity(open_name, start, length - start, attributes, entities)
    if entity and entity["length"] > 0:
        entities.append(entity)
    return close + 1


def _html_entity(
    name: str,
    start: int,
    size: int,
    attributes: dict[str, str],
    entities: list[dict[str, Any]],
) -> dict[str, Any] | None:
    kind = _HTML_TAGS[name]
    entity: dict[str, Any] = {"type": kind, "offset": start, "length": size}
    if name == "a":
        href = attributes.get("href", "")
        user = _TG_USER.fullmatch(href)
        if user:
            return {**entity, "type": "text_mention", "user": {"id": int(user.group(1))}}
        return {**entity, "url": href} if href else None
    if name == "tg-emoji":
        entity["custom_emoji_id"] = attributes["emoji-id"]
    elif name == "blockquote" and "expandable" in attributes:
        entity["type"] = "expandable_blockquote"
    elif name == "pre":
        # <pre><code class="language-x">: the inner code entity becomes the pre's language.
        for inner in list(entities):
            same_span = inner["offset"] == start and inner["length"] == size
            if inner["type"] == "code" and same_span and inner.get("language"):
                entity["language"] = inner["language"]
                entities.remove(inner)
    elif name == "code":
        language = attributes.get("class", "")
        if language.startswith("language-"):
            entity["language"] = language[len("language-") :]
    return entity


# -- MarkdownV2 ----------------------------------------------------------------------------

_V2_MARKS = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough", "||": "spoiler"}


def parse_markdown_v2(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse MarkdownV2, including its rule that reserved characters must be escaped."""
    out: list[str] = []
    length = 0
    stack: list[tuple[str, int, int]] = []  # (mark, start in UTF-16, byte offset)
    entities: list[dict[str, Any]] = []
    index = 0
    at_line_start = True
    quote_start: int | None = None

    def emit(text: str) -> None:
        nonlocal length
        out.append(text)
        length += utf16_len(text)

    while index < len(source):
        char = source[index]
        if at_line_start:
            at_line_start = False
            if char == ">":
                if quote_start is None:
                    quote_start = length
                index += 1
                continue
            if quote_start is not None:
                _close_quote(entities, quote_start, length - 1)  # the newline stays outside
                quote_start = None
        if char == "\\" and index + 1 < len(source) and ord(source[index + 1]) <= 126:
            emit(source[index + 1])
            index += 2
            continue
        if char == "`":
            index = _v2_code(source, index, length, entities, emit)
            continue
        if char == "[":
            stack.append(("[", length, _byte_offset(source, index)))
            index += 1
            continue
        if char == "]":
            index = _v2_link_end(source, index, stack, length, entities)
            continue
        mark = source[index : index + 2] if source[index : index + 2] in _V2_MARKS else char
        if mark in _V2_MARKS:
            if stack and stack[-1][0] == mark:
                _, start, _ = stack.pop()
                if length > start:
                    size = length - start
                    entities.append({"type": _V2_MARKS[mark], "offset": start, "length": size})
            else:
                stack.append((mark, length, _byte_offset(source, index)))
            index += len(mark)
            continue
        if char in _MARKDOWN_V2_RESERVED:
            raise EntityParseError(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        emit(char)
        if char == "\n":
            at_line_start = True
        index += 1
    if stack:
        mark, _, offset = stack[-1]
        kind = "TextUrl" if mark == "[" else _V2_MARKS[mark].capitalize()
        raise EntityParseError(f"Can't find end of {kind} entity at byte offset {offset}")
    if quote_start is not None:
        _close_quote(entities, quote_start, length)
    return "".join(out), _sorted(entities)


def _close_quote(entities: list[dict[str, Any]], start: int, end: int) -> None:
    if end > start:
        entities.append({"type": "blockquote", "offset": start, "length": end - start})


def _v2_code(
    source: str, index: int, length: int, entities: list[dict[str, Any]], emit: Any
) -> int:
    offset = _byte_offset(source, index)
    fence = "```" if source.startswith("```", index) else "`"
    position = index + len(fence)
    language = ""
    if fence == "```":
        newline = source.find("\n", position)
        first_line = source[position:newline] if newline >= 0 else ""
        if newline >= 0 and first_line and " " not in first_line:
            language = first_line
            position = newline + 1
    body: list[str] = []
    while position < len(source):
        if source[position] == "\\" and position + 1 < len(source):
            body.append(source[position + 1])
            position += 2
            continue
        if source.startswith(fence, position):
            text = "".join(body)
            emit(text)
            entity: dict[str, Any] = {
                "type": "pre" if fence == "```" else "code",
                "offset": length,
                "length": utf16_len(text),
            }
            if language:
                entity["language"] = language
            if entity["length"]:
                entities.append(entity)
            return position + len(fence)
        body.append(source[position])
        position += 1
    kind = "Pre" if fence == "```" else "Code"
    raise EntityParseError(f"Can't find end of {kind} entity at byte offset {offset}")


def _v2_link_end(
    source: str,
    index: int,
    stack: list[tuple[str, int, int]],
    length: int,
    entities: list[dict[str, Any]],
) -> int:
    if not stack or stack[-1][0] != "[":
        raise EntityParseError(
            "Character ']' is reserved and must be escaped with the preceding '\\'"
        )
    _, start, offset = stack.pop()
    if not source.startswith("(", index + 1):
        raise EntityParseError(f"Can't find end of TextUrl entity at byte offset {offset}")
    close = source.find(")", index + 2)
    if close < 0:
        raise EntityParseError(f"Can't find end of TextUrl entity at byte offset {offset}")
    url = source[index + 2 : close].replace("\\)", ")").replace("\\\\", "\\")
    if length > start:
        user = _TG_USER.fullmatch(url)
        entity: dict[str, Any] = {"type": "text_link", "offset": start, "length": length - start}
        if user:
            entity = {**entity, "type": "text_mention", "user": {"id": int(user.group(1))}}
        else:
            entity["url"] = url
        entities.append(entity)
    return close + 1


# -- legacy Markdown -----------------------------------------------------------------------

_V1_MARKS = {"*": "bold", "_": "italic"}


def parse_markdown(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse legacy Markdown (``*bold*``, ``_italic_``, code, pre and ``[text](url)``)."""
    out: list[str] = []
    length = 0
    entities: list[dict[str, Any]] = []
    index = 0
    while index < len(source):
        char = source[index]
        offset = _byte_offset(source, index)
        if char == "\\" and index + 1 < len(source) and source[index + 1] in "_*`[":
            out.append(source[index + 1])
            length += 1
            index += 2
            continue
        if char in _V1_MARKS or char in {"`", "["}:
            fence = "```" if source.startswith("```", index) else char
            closer = "]" if char == "[" else fence
            end = source.find(closer, index + len(fence))
            if end < 0:
                raise EntityParseError(
                    f"Can't find end of the entity starting at byte offset {offset}"
                )
            inner = source[index + len(fence) : end]
            kind = {"```": "pre", "`": "code", "[": "text_link"}.get(fence) or _V1_MARKS[char]
            entity: dict[str, Any] = {"type": kind, "offset": length, "length": utf16_len(inner)}
            index = end + len(closer)
            if kind == "text_link":
                if not source.startswith("(", index) or source.find(")", index) < 0:
                    raise EntityParseError(
                        f"Can't find end of the entity starting at byte offset {offset}"
                    )
                url_end = source.find(")", index)
                entity["url"] = source[index + 1 : url_end]
                index = url_end + 1
            out.append(inner)
            length += entity["length"]
            if entity["length"]:
                entities.append(entity)
            continue
        out.append(char)
        length += utf16_len(char)
        index += 1
    return "".join(out), _sorted(entities)
