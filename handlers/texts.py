"""Texts the bot writes, rendered in the reader's language and time zone (HTML, escaped)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from html import escape
from typing import Any

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from domain.clients import Client
from domain.desk import STILL_A_PROBLEM
from domain.outgoing import Notice
from domain.policy import Policy, calendars_zone
from domain.text import isolated
from domain.tickets import Status, Ticket, TicketEvent
from handlers.times import shown

TOPIC_NAME_LIMIT = 128


def status_title(status: Status) -> str:
    """A status as people read it."""
    titles = {
        Status.NEW: _("New"),
        Status.IN_PROGRESS: _("In progress"),
        Status.WAITING_CLIENT: _("Waiting for client"),
        Status.WAITING_THIRD_PARTY: _("Waiting for third party"),
        Status.SECOND_LINE: _("Second line"),
        Status.RESOLVED: _("Resolved"),
        Status.CLOSED: _("Closed"),
        Status.DECLINED: _("Declined"),
        Status.REOPENED: _("Reopened"),
    }
    return titles[status]


def request_status(status: Status) -> str:
    """A status as the client reads it, of their request (not the staff's ticket: in Russian
    the two nouns differ in gender, and the client's words are their own)."""
    titles = {
        Status.NEW: _("Registered"),
        Status.IN_PROGRESS: _("We are working on it"),
        Status.WAITING_CLIENT: _("Waiting for your answer"),
        Status.WAITING_THIRD_PARTY: _("Waiting for a third party"),
        Status.SECOND_LINE: _("With our specialists"),
        Status.RESOLVED: _("Solved, waiting for your confirmation"),
        Status.CLOSED: _("Completed"),
        Status.DECLINED: _("Rejected"),
        Status.REOPENED: _("Reopened, we are on it"),
    }
    return titles[status]


def when(moment: datetime | None, timezone: str, now: datetime) -> str:
    """A moment in the reader's time zone, as people read it: "tomorrow, Tue 8 Dec, 11:00
    Moscow time" (`handlers.times`)."""
    return shown(moment, timezone, now)


def topic_name(policy: Policy, ticket: Ticket, client_name: str) -> str:
    """The forum topic's name: priority or status mark, number, customer, subject."""
    if ticket.status in (Status.CLOSED, Status.DECLINED):
        mark = "✅" if ticket.status is Status.CLOSED else "⛔"
    elif ticket.status is Status.RESOLVED:
        mark = "☑️"
    else:
        mark = policy.priority(ticket.priority).emoji
    who = isolated(ticket.customer or client_name)
    name = f"{mark} #{ticket.number} · {who} · {isolated(ticket.subject)}"
    return name if len(name) <= TOPIC_NAME_LIMIT else name[: TOPIC_NAME_LIMIT - 1] + "…"


def card(policy: Policy, ticket: Ticket, client: Client, lang: str, now: datetime) -> str:
    """The ticket card posted at the top of its topic."""
    tz = policy.staff_timezone
    level = policy.sla_level(ticket.sla_level)
    priority = policy.priority(ticket.priority)
    client_line = escape(isolated(client.name)) + (f" (@{escape(client.username)})"
                                         if client.username else "")
    lines = [
        f"{priority.emoji} <b>#{ticket.number}</b> · {escape(isolated(ticket.subject))}",
        "",
        _("Client: {who}").format(who=client_line),
        _("Contract: {number} · {customer}").format(
            number=escape(ticket.contract_number or "—"), customer=escape(ticket.customer or "—")),
        _("SLA level: {level}").format(level=escape(level.title.get(lang))),
        _("Type: {kind}").format(
            kind=escape(policy.request_type(ticket.request_type).title.get(lang))),
        _("Queue: {queue}").format(queue=escape(policy.queue(ticket.queue).title.get(lang))),
        _("Priority: {priority}").format(priority=escape(priority.title.get(lang)))
        + (" ⚡ " + _("special request") if ticket.special else ""),
        _("Status: {status}").format(status=status_title(ticket.status))
        + _status_hint(ticket.status),
        _("Assignee: {agent}").format(agent=escape(ticket.assignee_name or "—")),
        _("First response due: {due}").format(due=_due(ticket.first_response_due,
                                                         ticket.first_response_at, tz, now)),
        _("Resolution due: {due}").format(due=_due(ticket.resolution_due,
                                                   ticket.resolved_at, tz, now)),
    ]
    if ticket.reopened_from:
        lines.append(_("Follows ticket #{number}").format(number=ticket.reopened_from))
    if ticket.bug_ref:
        lines.append(_("Bug tracker: {ref}").format(ref=escape(ticket.bug_ref)))
    if ticket.problem_number:
        lines.append(_("Incident of problem #{number}").format(number=ticket.problem_number))
    return "\n".join(lines)


def _status_hint(status: Status) -> str:
    """What a status means for the agent, after it on the card (the waits told apart)."""
    if status is Status.RESOLVED:
        return " · " + _("waiting for the client to confirm")
    if status in (Status.WAITING_CLIENT, Status.WAITING_THIRD_PARTY):
        return " · ⏸ " + _("SLA clock stopped")
    return ""


def _due(due: datetime | None, done: datetime | None, tz: str, now: datetime) -> str:
    if done is not None:
        return "✅ " + _("met") if due is None or done <= due else "❗ " + _("breached")
    if due is not None and due < now:
        return f"🔥 {when(due, tz, now)} — " + _("BREACHED")
    return when(due, tz, now)


def acknowledgement(policy: Policy, ticket: Ticket, lang: str, timezone: str,
                    opens_at: datetime | None, now: datetime) -> str:
    """What the client reads when the ticket is registered."""
    lines = [
        _("✅ Your request is registered as <b>#{number}</b>.").format(number=ticket.number),
        _("Priority: {priority}").format(
            priority=escape(policy.priority(ticket.priority).title.get(lang))),
        _("SLA level: {level}").format(
            level=escape(policy.sla_level(ticket.sla_level).title.get(lang))),
        _("First response by: {due}").format(due=when(ticket.first_response_due, timezone, now)),
    ]
    if opens_at is not None:
        lines.append(_("It is outside our working hours now; we will start on it {start}.").format(
            start=when(opens_at, timezone, now)))
    lines.append(_("Write here to add anything; we will answer in this chat."))
    return "\n".join(lines)


def history(events: list[TicketEvent], policy: Policy, now: datetime) -> str:
    """A ticket's history as prose in the staff's language, one change a line."""
    taken = {(event.actor, event.at) for event in events if event.kind == "assigned"}
    lines = [_("History:")]
    lines += [f"• {when(event.at, policy.staff_timezone, now)} — {history_line(event, policy)}"
              for event in events if not _said_already(event, taken)]
    return "\n".join(lines)


def _said_already(event: TicketEvent, taken: set[tuple[object, datetime]]) -> bool:
    """Whether another line says it: the agent who took the ticket started the work."""
    return (event.kind == "status" and event.new == Status.IN_PROGRESS
            and event.old in (Status.NEW, Status.REOPENED) and (event.actor, event.at) in taken)


def history_line(event: TicketEvent, policy: Policy) -> str:
    """One change of a ticket, as a sentence ("Bob took it", "rated 2/5: Took too long")."""
    who = escape(event.actor.name) if event.actor.kind != "system" else _("the desk")
    detail = escape(event.detail or "")
    kind = event.kind
    if kind == "opened":
        return _("{who} opened the ticket").format(who=who)
    if kind == "status":
        return _status_line(event, who, detail)
    if kind == "assigned":
        agent = escape(event.new or event.detail or "")
        if event.actor.kind == "system":
            return _("assigned to {agent} by the queue").format(agent=agent)
        if event.actor.name == agent:
            return _("{who} took it").format(who=who)
        return _("{who} assigned it to {agent}").format(who=who, agent=agent)
    if kind == "first_response":
        return _("{who} gave the first response").format(who=who)
    if kind == "priority":
        return _("{who} changed the priority: {old} → {new}").format(
            who=who, old=_priority_title(policy, event.old), new=_priority_title(policy,
                                                                                  event.new))
    if kind == "rated":
        score, _sep, comment = (event.detail or "").partition(": ")
        if comment:
            return _("{who} rated it {score}/5: {comment}").format(
                who=who, score=escape(score), comment=escape(comment))
        return _("{who} rated it {score}/5").format(who=who, score=escape(score))
    if kind == "supervisor":
        return _("{who} asked for a supervisor").format(who=who)
    if kind == "supervisor_offered":
        return _("the client was offered to ask a supervisor")
    if kind == "sla_warning":
        return _("SLA warning: the {which} is due soon").format(which=_which(event.detail))
    if kind == "breach":
        return _("SLA breached: the {which} is overdue").format(which=_which(event.detail))
    if kind == "bug":
        return _("{who} linked bug {ref}").format(who=who, ref=detail)
    if kind == "problem":
        return _("{who} linked it to problem {number}").format(who=who, number=detail)
    if kind == "queue":
        try:
            queue = escape(policy.queue(event.detail or "").title.get(policy.staff_language))
        except KeyError:
            queue = detail
        return _("{who} moved it to the queue {queue}").format(who=who, queue=queue)
    if kind == "channel":
        return _("{who} registered it from a phone call or an e-mail").format(who=who)
    return f"{escape(kind)} — {who}"


def _status_line(event: TicketEvent, who: str, detail: str) -> str:
    new = event.new or ""
    if new == Status.IN_PROGRESS:
        return _("{who}: back in progress").format(who=who) if event.old not in (
            Status.NEW, Status.REOPENED) else _("{who} started work on it").format(who=who)
    if new == Status.WAITING_CLIENT:
        return _("{who}: waiting for the client").format(who=who)
    if new == Status.WAITING_THIRD_PARTY:
        return _("{who}: waiting for a third party").format(who=who)
    if new == Status.SECOND_LINE:
        return _("{who} passed it to the second line").format(who=who)
    if new == Status.RESOLVED:
        return _("{who} marked it resolved").format(who=who)
    if new == Status.CLOSED:
        if event.detail == "auto":
            return _("closed automatically: the client did not answer")
        if event.detail == "confirmed":
            return _("{who} confirmed the fix: closed").format(who=who)
        if detail:
            return _("{who} closed it: {reason}").format(who=who, reason=detail)
        return _("{who} closed it").format(who=who)
    if new == Status.DECLINED:
        if detail:
            return _("{who} declined it: {reason}").format(who=who, reason=detail)
        return _("{who} declined it").format(who=who)
    if new == Status.REOPENED:
        if event.detail == STILL_A_PROBLEM:
            return _("{who} said it is still a problem: reopened").format(who=who)
        return _("{who} reopened it").format(who=who)
    return f"{who}: {escape(event.old or '—')} → {escape(new)}"


def _priority_title(policy: Policy, key: str | None) -> str:
    try:
        return escape(policy.priority(key or "").title.get(policy.staff_language))
    except KeyError:
        return escape(key or "—")


def reason_blocked() -> str:
    """Why a message did not reach the client: they blocked the bot."""
    return _("the client has blocked the bot")


def reason_too_long() -> str:
    """Why a message did not reach the client: too long."""
    return _("the message is too long for Telegram")


def delivery_failed(reason: str) -> str:
    """The staff's notice of a message that could not be delivered."""
    return _("Not delivered to the client: {reason}.").format(reason=reason)


def edited_mark() -> str:
    """Marks a relayed message the client edited."""
    return _("edited by the client:")


def _which(which: object) -> str:
    return _("first response") if which == "first_response" else _("resolution")


def mention_supervisors(policy: Policy, names: Mapping[int, str] | None = None) -> str:
    """Every supervisor mentioned by name, as a link (Telegram notifies them)."""
    if not policy.supervisors:
        return ""
    links = ", ".join(
        f'<a href="tg://user?id={user_id}">{escape((names or {}).get(user_id) or str(user_id))}'
        f'</a>' for user_id in policy.supervisors)
    return ngettext("Supervisor: {names}", "Supervisors: {names}",
                    len(policy.supervisors)).format(names=links)


def topic_notice(template: Notice, ticket: Ticket, client: Client, data: Mapping[str, Any],
                 timezone: str, now: datetime) -> str:
    """A notice in the ticket's topic."""
    if template is Notice.REOPENED:
        if data.get("by") == "agent":
            return "🔁 " + _("{agent} reopened ticket #{number}.").format(
                agent=escape(str(data.get("name") or "")), number=ticket.number)
        if data.get("detail") == STILL_A_PROBLEM:
            return "🔁 " + _("The client says the problem is still there: ticket #{number} "
                            "is reopened.").format(number=ticket.number)
        return "🔁 " + _("The client wrote again: ticket #{number} is reopened.").format(
            number=ticket.number)
    if template is Notice.ASK_SUPERVISOR:
        return "📣 " + _("The client asked for a supervisor.")
    if template is Notice.PROBLEM_SOLVED:
        return "🧩 " + _("Problem #{problem} is solved; the client was told.").format(
            problem=data.get("problem"))
    if template is Notice.QUEUE_OFFER:
        agents = data.get("agents") or []
        label = _("agent")
        links = " ".join(f'<a href="tg://user?id={int(agent)}">{label}</a>'
                         for agent in agents)
        return "📥 " + _("New ticket in your queue — press Take.") + " " + links
    if template is Notice.RATED:
        line = "⭐ " + _("The client rated #{number}: {score}/5").format(
            number=ticket.number, score=data.get("score"))
        comment = str(data.get("comment") or "")
        return line + (f"\n💬 {escape(comment)}" if comment else "")
    if template is Notice.SLA_WARNING:
        due = (ticket.first_response_due if data.get("which") == "first_response"
               else ticket.resolution_due)
        return "⏰ " + _("SLA warning: the {which} of #{number} is due at {due}.").format(
            which=_which(data.get("which")), number=ticket.number, due=when(due, timezone, now))
    return escape(str(data.get("text", template)))


def general_notice(template: Notice, policy: Policy, ticket: Ticket, client: Client,
                   data: Mapping[str, Any], names: Mapping[int, str] | None = None) -> str:
    """A notice in the staff group's General topic (`names`: the supervisors' names)."""
    who = escape(isolated(ticket.customer or client.name))
    subject = escape(isolated(ticket.subject))
    mention = "\n" + mention_supervisors(policy, names) if policy.supervisors else ""
    if template is Notice.SPECIAL_REQUEST:
        return "⚡ " + _("Special request #{number} from {who}: {subject}").format(
            number=ticket.number, who=who, subject=subject) + mention
    if template is Notice.SLA_BREACH:
        return "🔥 " + _("SLA breached: the {which} of #{number} ({who}: {subject}) is "
                         "overdue.").format(which=_which(data.get("which")),
                                            number=ticket.number, who=who,
                                            subject=subject) + mention
    if template is Notice.ASK_SUPERVISOR:
        return "📣 " + _("The client of #{number} ({who}: {subject}) asks for a "
                        "supervisor.").format(number=ticket.number, who=who,
                                              subject=subject) + mention
    if template is Notice.UNASSIGNED:
        return "🙋 " + _("#{number} ({who}: {subject}) has had no assignee for too "
                         "long.").format(number=ticket.number, who=who,
                                         subject=subject) + mention
    return escape(str(data.get("text", template)))


def numbers(values: Iterable[object]) -> str:
    """Ticket numbers as "#12, #15"."""
    return ", ".join(f"#{number}" for number in values)


def general_notice_without_ticket(template: Notice, data: Mapping[str, Any]) -> str:
    """A notice in the staff group's General topic about no one ticket."""
    if template is Notice.CLIENT_ERASED:
        lines = ["🧹 " + _("A client had their data erased at their request (/forget).")]
        if data.get("tickets"):
            lines.append(_("Their requests {numbers} keep their figures, without names or "
                           "texts.").format(numbers=numbers(data["tickets"])))
        if data.get("open_tickets"):
            lines.append(_("Still open, and no longer answerable: {numbers} — please close "
                           "them.").format(numbers=numbers(data["open_tickets"])))
        return "\n".join(lines)
    return escape(str(data.get("text", template)))


def client_notice(template: Notice, policy: Policy, ticket: Ticket, client: Client,
                  data: Mapping[str, Any], opens_at: datetime | None, now: datetime) -> str:
    """A notice for the client about one of their tickets."""
    if template is Notice.ACKNOWLEDGED:
        return acknowledgement(policy, ticket, client.language,
                               client_timezone(policy, client, ticket), opens_at, now)
    number = ticket.number
    if template is Notice.TAKEN:
        agent = str(data.get("agent") or "")
        if agent and policy.show_agent_name:
            return "👤 " + _("{agent} is on your request #{number} ({subject}).").format(
                agent=escape(agent), number=number, subject=escape(isolated(ticket.subject)))
        return "👤 " + _("A support agent is on your request #{number} ({subject}).").format(
            number=number, subject=escape(isolated(ticket.subject)))
    if template is Notice.WAITING_CLIENT:
        return "💬 " + _("We need your answer to go on with request #{number} ({subject}). "
                        "Please reply in this chat.").format(number=number,
                                                            subject=escape(isolated(ticket.subject)))
    if template is Notice.SUPERVISOR_OFFER:
        return "⏰ " + _("Request #{number} ({subject}) is taking longer than we planned. If "
                        "it cannot wait, you can ask a supervisor to look at it.").format(
            number=number, subject=escape(isolated(ticket.subject)))
    if template is Notice.RESOLVED:
        return "☑️ " + _("We have solved request #{number} ({subject}). Does everything work "
                        "now?").format(
            number=number, subject=escape(isolated(ticket.subject)))
    if template is Notice.CLOSED:
        lines = [("✅ " + _("Request #{number} is closed: there was no answer for a while.")
                  if data.get("auto") else
                  "✅ " + _("Request #{number} is closed.")).format(number=number)]
        if data.get("credentials"):
            lines.append("🔐 " + _("Passwords or access data were shared in this conversation; "
                                  "please change them now."))
        days = max(policy.reopen_window.days, 1)
        lines.append(ngettext(
            "If the problem comes back within {days} day, reply to this message or just write "
            "here: the request reopens.",
            "If the problem comes back within {days} days, reply to this message or just write "
            "here: the request reopens.", days).format(days=days))
        lines.append(_("Please rate our work from 1 to 5:"))
        return "\n".join(lines)
    if template is Notice.DECLINED:
        reason = escape(str(data.get("reason") or "—"))
        return "⛔ " + _("Request #{number} was declined. Reason: {reason}").format(
            number=number, reason=reason)
    if template is Notice.CANNED:
        answer = next((item for item in policy.canned if item.name == data.get("name")), None)
        body = answer.text.get(client.language) if answer else ""
        agent = str(data.get("agent") or "")
        header = f"<b>{escape(agent)}</b>:\n" if agent and policy.show_agent_name else ""
        return header + escape(body)
    if template is Notice.PROBLEM_SOLVED:
        return "🧩 " + _("Good news about request #{number} ({subject}): the cause was found "
                        "and fixed. Please check, and write here if it still happens.").format(
            number=number, subject=escape(isolated(ticket.subject)))
    if template is Notice.AUTOCLOSE_REMINDER:
        days = max(1, policy.auto_close_after.days)
        return "⏳ " + ngettext(
            "We are waiting for your answer on request #{number} ({subject}). Without one it "
            "will be closed in {days} day.",
            "We are waiting for your answer on request #{number} ({subject}). Without one it "
            "will be closed in {days} days.", days).format(
            number=number, subject=escape(isolated(ticket.subject)), days=days)
    return escape(str(data.get("text", template)))


def client_timezone(policy: Policy, client: Client, ticket: Ticket | None = None) -> str:
    """The zone to show a client times in: the one they chose (/timezone), else their SLA
    calendar's, else the zone of the desk's calendars."""
    if client.timezone:
        return client.timezone
    zone = policy.sla_level(ticket.sla_level).calendar.timezone if ticket else "UTC"
    return zone if zone != "UTC" else calendars_zone(policy.sla_levels)
