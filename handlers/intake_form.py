"""What a client has answered so far in an intake: one typed object, kept in the conversation
state under one key (`form`), read and written here only."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from aiogram.fsm.context import FSMContext

from domain.outgoing import MessageRef

KEY = "form"


@dataclass
class Form:
    """The intake's answers (the step the client is at is the FSM state, `Intake.*`)."""

    intake: str = ""  # the id on this intake's buttons: a button of an older one is refused
    example: str = ""  # how a contract number looks, for the prompts
    # messages written after a request closed, before this intake began: the description's start
    kept: list[MessageRef] = field(default_factory=list)
    kept_text: str = ""
    contract: str | None = None
    customer: str | None = None
    sla_level: str | None = None  # set once the contract step is answered (None: not yet)
    special_allowed: bool = False  # the contract allows special requests
    type: str | None = None  # the request type's key
    prio: str | None = None  # the priority's key
    special: bool = False
    subject: str = ""
    parts: list[MessageRef] = field(default_factory=list)  # the description's messages
    text: str = ""  # the description's text, its messages' joined
    description_full: bool = False  # the client was told the description is full
    faq_shown: bool = False  # the known answers were offered once already
    editing: bool = False  # a step is being changed from the summary: back to it after

    @property
    def contract_answered(self) -> bool:
        """Whether the contract step is done (with a contract or without one)."""
        return self.sla_level is not None

    def to_dict(self) -> dict[str, Any]:
        """The form as the conversation state stores it (JSON-friendly)."""
        return {**asdict(self), "kept": [part.to_json() for part in self.kept],
                "parts": [part.to_json() for part in self.parts]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Form:
        """The form from what `to_dict` gave; what it does not know is left out."""
        known = {each.name: data[each.name] for each in fields(cls) if each.name in data}
        for name in ("kept", "parts"):
            known[name] = [MessageRef.from_json(part) for part in known.get(name, [])]
        return cls(**known)


async def form_of(state: FSMContext) -> Form:
    """The current intake's form (an empty one when no intake runs)."""
    data = await state.get_data()
    # an intake begun before the form existed kept its answers as keys of their own
    return Form.from_dict(data.get(KEY, data))


async def keep(state: FSMContext, form: Form) -> None:
    """Store the form (the rest of the conversation state is left as it is)."""
    await state.update_data({KEY: form.to_dict()})
