"""What a client's conversation keeps outside the intake (the intake's own: `intake_form`):
typed objects, read and written here only, under the keys they have always had."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiogram.fsm.context import FSMContext

from domain.outgoing import MessageRef


@dataclass
class Kept:
    """Messages kept until the client says where they go (a request, or a new one)."""

    messages: list[MessageRef] = field(default_factory=list)
    text: str = ""  # what they say, joined: the rules read it


@dataclass
class AskedComment:
    """A low rating waiting for its comment."""

    ticket: int
    score: int
    question: int | None  # the message that asked (its "No comment" button goes after)


async def kept(state: FSMContext) -> Kept:
    """The messages kept so far (none: an empty Kept)."""
    data = await state.get_data()
    return Kept([MessageRef.from_json(part) for part in data.get("pending", [])],
                data.get("pending_text", ""))


async def keep(state: FSMContext, messages: Kept) -> None:
    """Store the messages kept (an empty Kept forgets them)."""
    await state.update_data(pending=[part.to_json() for part in messages.messages],
                            pending_text=messages.text)


async def asked_comment(state: FSMContext) -> AskedComment:
    """The rating whose comment was asked for."""
    data = await state.get_data()
    question = data.get("question")
    return AskedComment(int(data.get("rated", 0)), int(data.get("score", 0)),
                        None if question is None else int(question))


async def ask_comment(state: FSMContext, asked: AskedComment) -> None:
    """Remember the rating whose comment is asked for."""
    await state.update_data(rated=asked.ticket, score=asked.score, question=asked.question)
