"""The client's intake (SPEC §1): contract → type → priority → subject → description → summary."""

from __future__ import annotations

import secrets
from contextlib import suppress
from html import escape

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, ReactionTypeEmoji
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from domain.clients import Client, contract_example
from domain.desk import Desk, Draft, matching_faq
from domain.errors import ExpiredContract, UnknownContract
from domain.policy import Policy
from domain.text import has_visible_text, one_line
from handlers import client_state
from handlers import keyboards_client as kb
from handlers.callbacks import IntakeCb
from handlers.fallback import unless_stale
from handlers.filters import Command, OnLoop, PrivateChat
from handlers.intake_form import Form, form_of, keep
from handlers.ports import HandlerUnitOfWork
from handlers.sources import message_ref

RECEIVED = "👍"  # the reaction on a description part: received (an allowed reaction emoji)


DESCRIPTION_PARTS = 50
"""Messages a description keeps (an album is one): what a person describes, not a flood."""


class Intake(StatesGroup):
    """The steps of the intake."""

    contract = State()
    contract_confirm = State()
    request_type = State()
    priority = State()
    subject = State()
    description = State()
    faq = State()
    summary = State()


def rules() -> str:
    """The greeting and the two-line rules."""
    return "\n".join((
        _("👋 Hello! This is the technical support desk."),
        _("One problem per request; describe the steps to reproduce it."),
        _("Never send passwords in clear text."),
    ))


async def greet(message: Message) -> None:
    """The greeting with the New request button."""
    await message.answer(rules(), reply_markup=kb.start())


async def cancel(message: Message, state: FSMContext) -> None:
    """/cancel at any step ends the intake and keeps nothing."""
    had = await state.get_state()
    await state.clear()
    await message.answer(_("Cancelled.") if had else _("There is nothing to cancel."),
                         reply_markup=kb.start())


async def new_command(message: Message, state: FSMContext, client: Client, policy: Policy,
                      uow: HandlerUnitOfWork) -> None:
    """/new starts a request."""
    await begin(message, state, client, policy, await number_format(policy, uow))


async def new_button(query: CallbackQuery, state: FSMContext, client: Client, policy: Policy,
                     uow: HandlerUnitOfWork) -> None:
    """The New request button starts a request."""
    await query.answer()
    if isinstance(query.message, Message):
        await drop_buttons(query.message)
        await begin(query.message, state, client, policy, await number_format(policy, uow))


async def number_format(policy: Policy, uow: HandlerUnitOfWork) -> str:
    """How a contract number looks, for the prompt: the desk's example, else the shape of the
    registry's first number (no real number is shown), else nothing."""
    if policy.contract_example:
        return policy.contract_example
    number = await uow.contracts.example()
    return contract_example(number) if number else ""


async def begin(message: Message, state: FSMContext, client: Client, policy: Policy,
                example: str = "") -> None:
    """Start a fresh intake: confirm the remembered contract (one tap) or ask for one.

    Messages the client wrote before choosing a new request (after a request closed) are kept
    and become the start of the description.
    """
    before = await client_state.kept(state)
    await state.clear()
    form = Form(intake=secrets.token_hex(3), example=example, kept=before.messages,
                kept_text=before.text)
    await keep(state, form)
    if client.contract_number:
        await state.set_state(Intake.contract_confirm)
        await message.answer(_("Is this request about contract {number}?").format(
            number=escape(client.contract_number)),
            reply_markup=kb.contract_confirm(form.intake, client.contract_number))
        return
    await ask_contract(message, state, form)


async def drop_buttons(message: Message, text: str | None = None) -> None:
    """A prompt answered by a button: show the answer (when given) and take the buttons off."""
    if text is not None:
        await unless_stale(message.edit_text(text, reply_markup=None))
    elif message.reply_markup is not None:  # none left: nothing to take off
        await unless_stale(message.edit_reply_markup(reply_markup=None))


def answers_so_far(form: Form, policy: Policy, lang: str) -> list[str]:
    """The intake's answers given with buttons or checked so far, a line each."""
    lines = []
    if form.contract:
        lines.append(_("Contract: {number} · {customer}").format(
            number=escape(form.contract), customer=escape(form.customer or "—")))
    elif form.contract_answered:
        lines.append(_("Contract: none"))
    if form.type:
        lines.append(_("Type: {kind}").format(
            kind=escape(policy.request_type(form.type).title.get(lang))))
    if form.prio:
        prio = policy.priority(form.prio)
        lines.append(_("Priority: {priority}").format(
            priority=f"{prio.emoji} " + escape(prio.title.get(lang)))
            + (" ⚡ " + _("special request") if form.special else ""))
    return lines


async def ask_contract(message: Message, state: FSMContext, form: Form) -> None:
    """Ask for the contract number or license key."""
    await state.set_state(Intake.contract)
    example = form.example
    await message.answer(
        _("Send your support contract number (like {example}) or your product's license "
          "key.").format(example=escape(example)) if example else
        _("Send your support contract number or your product's license key."))


async def stale_without_intake(query: CallbackQuery) -> None:
    """A button of an intake that no longer runs."""
    await query.answer(_("This button belongs to a request that is finished or cancelled."),
                       show_alert=True)


async def _current(query: CallbackQuery, callback_data: IntakeCb,
                   state: FSMContext) -> Form | None:
    """The form of the intake the button belongs to; None (and the client told) when the
    button is from an older one."""
    form = await form_of(state)
    if callback_data.intake and callback_data.intake != form.intake:
        await query.answer(_("This button is from an older request; use the latest message."),
                           show_alert=True)
        return None
    await query.answer()
    return form


async def cancel_button(query: CallbackQuery, callback_data: IntakeCb,
                        state: FSMContext) -> None:
    """The Cancel button."""
    if await _current(query, callback_data, state) is None:
        return
    await state.clear()
    if isinstance(query.message, Message):
        await drop_buttons(query.message)
        await query.message.answer(_("Cancelled."), reply_markup=kb.start())


async def use_remembered(query: CallbackQuery, callback_data: IntakeCb, state: FSMContext,
                         client: Client, desk: Desk, uow: HandlerUnitOfWork) -> None:
    """The client confirms the contract they proved before."""
    form = await _current(query, callback_data, state)
    if form is None or not isinstance(query.message, Message):
        return
    await accept_contract(query.message, state, form, desk, uow, client,
                          client.contract_number or "", in_place=True)


async def other_contract(query: CallbackQuery, callback_data: IntakeCb,
                         state: FSMContext) -> None:
    """The client wants to give another contract."""
    form = await _current(query, callback_data, state)
    if form is not None and isinstance(query.message, Message):
        await drop_buttons(query.message)
        await ask_contract(query.message, state, form)


async def contract_given(message: Message, state: FSMContext, client: Client, desk: Desk,
                         uow: HandlerUnitOfWork) -> None:
    """Check a contract number or license key against the registry."""
    await accept_contract(message, state, await form_of(state), desk, uow, client,
                          message.text or "")


async def accept_contract(message: Message, state: FSMContext, form: Form, desk: Desk,
                          uow: HandlerUnitOfWork, client: Client, given: str,
                          in_place: bool = False) -> None:
    """Remember a valid contract and go on; explain an unknown or expired one."""
    intake = form.intake
    try:
        contract = await desk.contract_for(uow, given)
    except UnknownContract:
        await state.set_state(Intake.contract)
        example = form.example
        await message.answer(
            _("Contract “{number}” is not in our registry. Check the number (it looks like "
              "{example}) and send it again.").format(number=escape(given.strip()[:64]),
                                                      example=escape(example)) if example else
            _("Contract “{number}” is not in our registry. Check the number and send it "
              "again.").format(number=escape(given.strip()[:64])),
            reply_markup=kb.contract_retry(intake, desk.policy.allow_without_contract))
        return
    except ExpiredContract as expired:
        await state.set_state(Intake.contract)
        await message.answer(
            _("Contract {number} expired on {date}. Please renew it, or send another "
              "number.").format(number=escape(expired.number), date=expired.valid_until),
            reply_markup=kb.contract_retry(intake, desk.policy.allow_without_contract))
        return
    client.contract_number = contract.number
    await uow.clients.save(client)
    form.contract, form.customer = contract.number, contract.customer
    form.sla_level, form.special_allowed = contract.sla_level, contract.special_requests
    if form.special and not contract.special_requests:
        form.special = False  # edited to a contract that does not allow it
    await keep(state, form)
    await next_step(message, state, form, desk.policy, client, "contract", in_place=in_place)


async def without_contract(query: CallbackQuery, callback_data: IntakeCb, state: FSMContext,
                           client: Client, policy: Policy) -> None:
    """Go on without a contract, at the lowest SLA level (if the desk allows it)."""
    form = await _current(query, callback_data, state)
    if form is None or not isinstance(query.message, Message):
        return
    if not policy.allow_without_contract:
        await query.message.answer(_("This desk serves only clients with a contract."))
        return
    form.contract = form.customer = None
    form.sla_level, form.special_allowed, form.special = policy.lowest_sla_level.key, False, False
    await keep(state, form)
    await next_step(query.message, state, form, policy, client, "contract", in_place=True)


async def next_step(message: Message, state: FSMContext, form: Form, policy: Policy,
                    client: Client, finished: str, in_place: bool = False) -> None:
    """After a step: back to the summary when editing, else the following step.

    `in_place`: the step was answered with a button on `message`, which then shows the
    answers so far and carries the next question itself when that is a button question too.
    """
    if form.editing:
        form.editing = False
        await keep(state, form)
        if in_place:
            await drop_buttons(message, "\n".join(answers_so_far(form, policy, client.language)))
        await show_summary(message, state, form, policy, client)
        return
    order = ("contract", "type", "prio", "subject")
    following = order[order.index(finished) + 1] if finished in order[:-1] else "description"
    await ask(message, state, form, policy, client, following, in_place=in_place)


async def ask(message: Message, state: FSMContext, form: Form, policy: Policy,
              client: Client, step: str, in_place: bool = False) -> None:
    """Ask the question of one step (in `message` itself when `in_place` and it has buttons)."""
    intake = form.intake
    lang = client.language
    answered = answers_so_far(form, policy, lang)
    if step == "contract":
        if in_place:
            await drop_buttons(message)
        await ask_contract(message, state, form)
        return
    if step in ("type", "prio"):
        if step == "type":
            await state.set_state(Intake.request_type)
            lines = [_("What kind of request is it?")]
            markup = kb.request_types(policy, lang, intake)
        else:
            await state.set_state(Intake.priority)
            lines = [_("How urgent is it?")]
            lines += [f"{level.emoji} <b>{escape(level.title.get(lang))}</b> — "
                      f"{escape(level.description.get(lang))}" for level in policy.priorities]
            markup = kb.priorities(policy, lang, intake, form.special_allowed)
        text = "\n".join([*answered, "", *lines] if answered else lines)
        if in_place:
            with suppress(TelegramBadRequest):
                await message.edit_text(text, reply_markup=markup)
                return
        await message.answer(text, reply_markup=markup)
        return
    if in_place:
        await drop_buttons(message, "\n".join(answered) or None)
    if step == "subject":
        await state.set_state(Intake.subject)
        limit = policy.subject_max_length
        await message.answer(ngettext("Write the subject in one line (up to {limit} character).",
                                      "Write the subject in one line (up to {limit} characters).",
                                      limit).format(limit=limit))
        return
    kept = form.kept  # written after a request closed, before this one began
    form.parts, form.text, form.kept, form.kept_text = kept, form.kept_text, [], ""
    form.description_full = False
    answers = [] if form.faq_shown else matching_faq(policy, form.subject)
    form.faq_shown = form.faq_shown or bool(answers)
    await keep(state, form)
    await state.set_state(Intake.description)
    lines = []
    if kept:
        lines.append(ngettext("Already in the description: {count} message you wrote.",
                              "Already in the description: {count} messages you wrote.",
                              len(kept)).format(count=len(kept)))
    if answers:
        # Known answers first (SPEC §1): shown with the description prompt, no extra step.
        lines.append(_("Maybe one of these answers helps:"))
        lines += [f"• <a href=\"{escape(entry.url, quote=True)}\">"
                  f"{escape(entry.title.get(lang))}</a>" for entry in answers]
        lines.append(_("If one of them helps, press “Yes, this helped”. If not, describe the "
                       "problem: what you did, what happened, what you expected. Send as many "
                       "messages as you need — text, screenshots, files — then press Done."))
    else:
        lines.append(_("Describe the problem: what you did, what happened, what you expected. "
                       "Send as many messages as you need — text, screenshots, files — then "
                       "press Done."))
    await message.answer("\n".join(lines),
                         reply_markup=kb.description_done(intake, faq=bool(answers)))


async def type_chosen(query: CallbackQuery, callback_data: IntakeCb, state: FSMContext,
                      client: Client, policy: Policy) -> None:
    """A request type was picked."""
    form = await _current(query, callback_data, state)
    if form is None or not isinstance(query.message, Message):
        return
    if callback_data.value not in {kind.key for kind in policy.request_types}:
        return
    form.type = callback_data.value
    await keep(state, form)
    await next_step(query.message, state, form, policy, client, "type", in_place=True)


async def priority_chosen(query: CallbackQuery, callback_data: IntakeCb, state: FSMContext,
                          client: Client, policy: Policy) -> None:
    """A priority (or the special request) was picked."""
    form = await _current(query, callback_data, state)
    if form is None or not isinstance(query.message, Message):
        return
    if callback_data.action == "special":
        if not form.special_allowed:
            return
        form.prio, form.special = policy.priorities[0].key, True
    elif callback_data.value in {level.key for level in policy.priorities}:
        form.prio, form.special = callback_data.value, False
    else:
        return
    await keep(state, form)
    await next_step(query.message, state, form, policy, client, "prio", in_place=True)


async def subject_given(message: Message, state: FSMContext, client: Client,
                        policy: Policy) -> None:
    """The subject: one line, not too long."""
    subject = one_line(message.text or "")
    if not has_visible_text(subject) or subject.startswith("/"):
        await message.answer(_("Please write the subject as text."))
        return
    if "\n" in (message.text or "").strip() or len(subject) > policy.subject_max_length:
        limit = policy.subject_max_length
        await message.answer(ngettext(
            "The subject must be one line of at most {limit} character; the details go into "
            "the description.",
            "The subject must be one line of at most {limit} characters; the details go into "
            "the description.", limit).format(limit=limit))
        return
    form = await form_of(state)
    form.subject = subject
    await keep(state, form)
    await next_step(message, state, form, policy, client, "subject")


async def description_part(message: Message, state: FSMContext) -> None:
    """Collect one message of the description (albums are kept together); a 👍 on it says
    it was received, without a message of its own."""
    form = await form_of(state)
    parts = form.parts
    part = message_ref(message)
    if part.album and parts and parts[-1].album == part.album:
        parts[-1] = parts[-1].with_ids(parts[-1].ids + part.ids)
    elif len(parts) >= DESCRIPTION_PARTS:
        if not form.description_full:  # said once; never a silent drop
            form.description_full = True
            await keep(state, form)
            await message.answer(ngettext(
                "The description is full: it keeps the first {count} message. This one and "
                "any more were not added; press Done, and send them once the request is "
                "registered.",
                "The description is full: it keeps the first {count} messages. This one and "
                "any more were not added; press Done, and send them once the request is "
                "registered.", len(parts)).format(count=len(parts)),
                reply_markup=kb.description_done(form.intake))
        return
    else:
        parts.append(part)
    piece = message.text or message.caption or ""
    form.text = "\n".join(filter(None, (form.text, piece)))
    await keep(state, form)
    with suppress(TelegramBadRequest):  # a message that cannot take reactions: still kept
        await message.react([ReactionTypeEmoji(emoji=RECEIVED)])


async def description_done(query: CallbackQuery, callback_data: IntakeCb, state: FSMContext,
                           client: Client, policy: Policy) -> None:
    """Done with the description: the summary."""
    form = await _current(query, callback_data, state)
    if form is None or not isinstance(query.message, Message):
        return
    if not form.parts:
        await query.message.answer(_("Please describe the problem first (at least one "
                                     "message)."))
        return
    await drop_buttons(query.message)
    await show_summary(query.message, state, form, policy, client)


async def faq_solved(query: CallbackQuery, callback_data: IntakeCb, state: FSMContext,
                     client: Client, policy: Policy, uow: HandlerUnitOfWork, desk: Desk) -> None:
    """A known answer solved it: no ticket, counted as deflected."""
    form = await _current(query, callback_data, state)
    if form is None or not isinstance(query.message, Message):
        return
    answers = matching_faq(policy, form.subject)
    await uow.deflections.add(client.id, answers[0].url if answers else "", desk.clock.now())
    await state.clear()
    await drop_buttons(query.message)
    await query.message.answer(_("Glad it helped! Write any time you need us."),
                               reply_markup=kb.start())


async def back_to_summary(query: CallbackQuery, callback_data: IntakeCb,
                          state: FSMContext) -> None:
    """Nothing to change after all: the summary gets its buttons back."""
    form = await _current(query, callback_data, state)
    if form is not None and isinstance(query.message, Message):
        with suppress(TelegramBadRequest):
            await query.message.edit_reply_markup(reply_markup=kb.summary(form.intake))


async def to_summary(query: CallbackQuery, callback_data: IntakeCb, state: FSMContext,
                     client: Client, policy: Policy) -> None:
    """The known answers did not help (an intake from before they came with the prompt)."""
    form = await _current(query, callback_data, state)
    if form is None or not isinstance(query.message, Message) or not form.parts:
        return
    await drop_buttons(query.message)
    await show_summary(query.message, state, form, policy, client)


async def show_summary(message: Message, state: FSMContext, form: Form, policy: Policy,
                       client: Client) -> None:
    """The summary with Confirm / Edit / Cancel."""
    await state.set_state(Intake.summary)
    lang = client.language
    level = policy.sla_level(form.sla_level or "")
    prio = policy.priority(form.prio or "")
    description = form.text
    if len(description) > 1500:
        description = description[:1500] + "…"
    lines = [
        "<b>" + _("Your request") + "</b>",
        _("Contract: {number} · {customer}").format(number=escape(form.contract or "—"),
                                                    customer=escape(form.customer or "—")),
        _("SLA level: {level}").format(level=escape(level.title.get(lang))),
        _("Type: {kind}").format(
            kind=escape(policy.request_type(form.type or "").title.get(lang))),
        _("Priority: {priority}").format(priority=f"{prio.emoji} "
                                         + escape(prio.title.get(lang)))
        + (" ⚡ " + _("special request") if form.special else ""),
        _("Subject: {subject}").format(subject=escape(form.subject)),
        _("Description: {text}").format(text=escape(description) or "—"),
        ngettext("{count} message in the description", "{count} messages in the description",
                 len(form.parts)).format(count=len(form.parts)),
    ]
    await message.answer("\n".join(lines), reply_markup=kb.summary(form.intake))


async def edit(query: CallbackQuery, callback_data: IntakeCb, state: FSMContext) -> None:
    """Which field to edit."""
    form = await _current(query, callback_data, state)
    if form is not None and isinstance(query.message, Message):
        with suppress(TelegramBadRequest):  # the summary's buttons become the fields
            await query.message.edit_reply_markup(reply_markup=kb.edit_fields(form.intake))


async def edit_field(query: CallbackQuery, callback_data: IntakeCb, state: FSMContext,
                     client: Client, policy: Policy) -> None:
    """Go back to one step; afterwards the summary shows again."""
    form = await _current(query, callback_data, state)
    if form is None or not isinstance(query.message, Message):
        return
    if callback_data.value not in {"contract", "type", "prio", "subject", "description"}:
        return
    form.editing = callback_data.value != "description"
    await keep(state, form)
    await drop_buttons(query.message)
    await ask(query.message, state, form, policy, client, callback_data.value)


async def confirm(query: CallbackQuery, callback_data: IntakeCb, state: FSMContext,
                  client: Client, desk: Desk, uow: HandlerUnitOfWork) -> None:
    """Register the ticket; the acknowledgement goes out through the outbox."""
    form = await _current(query, callback_data, state)
    if form is None:
        return
    draft = Draft(sla_level=form.sla_level or "", request_type=form.type or "",
                  priority=form.prio or "", subject=form.subject,
                  contract_number=form.contract, customer=form.customer, special=form.special,
                  description=tuple(form.parts),
                  description_text=form.text)
    await desk.register(uow, client, draft)
    await state.clear()
    if isinstance(query.message, Message) and query.message.reply_markup is not None:
        await unless_stale(query.message.edit_reply_markup(reply_markup=None))


async def wrong_step(query: CallbackQuery, callback_data: IntakeCb, state: FSMContext) -> None:
    """A button of this intake, but not of the current step."""
    if await _current(query, callback_data, state) is None:
        return
    if isinstance(query.message, Message):
        await query.message.answer(_("That step is already done; please answer the latest "
                                     "question."))


async def button_expected(message: Message) -> None:
    """Free text where a button is expected gets a hint, never silence."""
    await message.answer(_("Please choose with the buttons above, or send /cancel to stop."))


async def unknown_command(message: Message) -> None:
    """A command nobody knows."""
    await message.answer(_("Unknown command. /help lists what I understand."))


async def text_expected(message: Message) -> None:
    """A photo or sticker where text is expected."""
    await message.answer(_("Please answer with text, or send /cancel to stop."))


def make_router() -> Router:
    """The intake, in the order aiogram tries the handlers (a fresh router for each
    dispatcher)."""
    router = Router(name="intake")
    router.message.filter(PrivateChat())
    router.callback_query.filter(PrivateChat())
    message, button = router.message.register, router.callback_query.register
    message(cancel, Command("cancel"))
    message(new_command, Command("new"))
    button(new_button, IntakeCb.filter(F.action == "new"))
    button(stale_without_intake, IntakeCb.filter(), StateFilter(None))
    button(cancel_button, IntakeCb.filter(F.action == "cancel"))
    button(use_remembered, IntakeCb.filter(F.action == "usecontract"),
           StateFilter(Intake.contract_confirm))
    button(other_contract, IntakeCb.filter(F.action == "othercontract"),
           StateFilter(Intake.contract_confirm))
    message(contract_given, StateFilter(Intake.contract), OnLoop(F.text))
    button(without_contract, IntakeCb.filter(F.action == "nocontract"),
           StateFilter(Intake.contract))
    button(type_chosen, IntakeCb.filter(F.action == "type"), StateFilter(Intake.request_type))
    button(priority_chosen, IntakeCb.filter(F.action.in_({"prio", "special"})),
           StateFilter(Intake.priority))
    message(subject_given, StateFilter(Intake.subject), OnLoop(F.text))
    message(description_part, StateFilter(Intake.description))
    button(description_done, IntakeCb.filter(F.action == "done"),
           StateFilter(Intake.description))
    button(faq_solved, IntakeCb.filter(F.action == "faqyes"),
           StateFilter(Intake.description, Intake.faq))
    button(back_to_summary, IntakeCb.filter(F.action == "summary"), StateFilter(Intake.summary))
    button(to_summary, IntakeCb.filter(F.action == "faqno"))
    button(edit, IntakeCb.filter(F.action == "edit"), StateFilter(Intake.summary))
    button(edit_field, IntakeCb.filter(F.action == "editf"), StateFilter(Intake.summary))
    button(confirm, IntakeCb.filter(F.action == "confirm"), StateFilter(Intake.summary))
    button(wrong_step, IntakeCb.filter())
    message(button_expected, StateFilter(Intake.contract_confirm, Intake.request_type,
                                         Intake.priority, Intake.faq, Intake.summary))
    message(unknown_command, StateFilter(None), OnLoop(F.text.startswith("/")))
    message(text_expected, StateFilter(Intake.contract, Intake.subject))
    return router
