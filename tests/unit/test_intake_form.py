"""The intake's answers are one typed object, stored as one key of the conversation state."""

from __future__ import annotations

import json

from domain.outgoing import MessageRef
from handlers.intake_form import Form


def test_a_form_comes_back_as_it_was_stored() -> None:
    form = Form(intake="a1b2c3", contract="C-1", customer="ACME", sla_level="standard",
                type="incident", prio="high", subject="Login fails",
                parts=[MessageRef(chat=5, ids=(1, 2), album="77")], text="It fails")
    stored = json.loads(json.dumps(form.to_dict()))  # as Redis or the database keep it
    assert Form.from_dict(stored) == form


def test_the_contract_step_is_answered_with_or_without_a_contract() -> None:
    assert not Form().contract_answered
    assert Form(sla_level="basic").contract_answered  # without a contract, the lowest level
    assert Form(contract="C-1", sla_level="standard").contract_answered


def test_an_intake_begun_before_the_form_existed_goes_on() -> None:
    """Its answers were keys of their own in the conversation state; unknown keys are left."""
    legacy = {"intake": "a1b2c3", "contract": None, "sla_level": "basic", "subject": "Hi",
              "parts": [], "pending": [], "declining": 4}
    form = Form.from_dict(legacy)
    assert (form.intake, form.subject, form.contract_answered) == ("a1b2c3", "Hi", True)
