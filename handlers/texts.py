"""Texts the bot writes, rendered in the reader's language and time zone (HTML, escaped)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _

from domain.clients import Client
from domain.policy import Policy
from domain.tickets import Status, Ticket, TicketEvent

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


def when(moment: datetime | None, timezone: str | None) -> str:
    """A moment in the reader's time zone, like `2026-11-23 10:00 (Europe/Moscow)`."""
    if moment is None:
        return "—"
    zone = ZoneInfo(timezone or "UTC")
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key})"


def topic_name(policy: Policy, ticket: Ticket, client_name: str) -> str:
    """The forum topic's name: priority or status mark, number, customer, subject."""
    if ticket.status in (Status.CLOSED, Status.DECLINED):
        mark = "✅" if ticket.status is Status.CLOSED else "⛔"
    elif ticket.status is Status.RESOLVED:
        mark = "☑️"
    else:
        mark = policy.priority(ticket.priority).emoji
    who = ticket.customer or client_name
    name = f"{mark} #{ticket.number} · {who} · {ticket.subject}"
    return name if len(name) <= TOPIC_NAME_LIMIT else name[: TOPIC_NAME_LIMIT - 1] + "…"


def card(policy: Policy, ticket: Ticket, client: Client, lang: str, now: datetime) -> str:
    """The ticket card posted at the top of its topic."""
    tz = policy.staff_timezone
    level = policy.sla_level(ticket.sla_level)
    priority = policy.priority(ticket.priority)
    client_line = escape(client.name) + (f" (@{escape(client.username)})"
                                         if client.username else "")
    lines = [
        f"{priority.emoji} <b>#{ticket.number}</b> · {escape(ticket.subject)}",
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
        _("Status: {status}").format(status=status_title(ticket.status)),
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


def _due(due: datetime | None, done: datetime | None, tz: str, now: datetime) -> str:
    if done is not None:
        return "✅ " + _("met") if due is None or done <= due else "❗ " + _("breached")
    if due is not None and due < now:
        return f"🔥 {when(due, tz)} — " + _("BREACHED")
    return when(due, tz)


def acknowledgement(policy: Policy, ticket: Ticket, lang: str, timezone: str | None,
                    opens_at: datetime | None) -> str:
    """What the client reads when the ticket is registered."""
    lines = [
        _("✅ Your request is registered as <b>#{number}</b>.").format(number=ticket.number),
        _("Priority: {priority}").format(
            priority=escape(policy.priority(ticket.priority).title.get(lang))),
        _("SLA level: {level}").format(
            level=escape(policy.sla_level(ticket.sla_level).title.get(lang))),
        _("First response by: {due}").format(due=when(ticket.first_response_due, timezone)),
    ]
    if opens_at is not None:
        lines.append(_("We are outside working hours now; work starts at {start}.").format(
            start=when(opens_at, timezone)))
    lines.append(_("Write here to add anything; we will answer in this chat."))
    return "\n".join(lines)


def history(events: list[TicketEvent], timezone: str) -> str:
    """A ticket's history, one event a line."""
    lines = [_("History:")]
    for event in events:
        change = ""
        if event.old or event.new:
            change = f": {escape(event.old or '—')} → {escape(event.new or '—')}"
        who = escape(event.actor.name or event.actor.kind)
        lines.append(f"• {when(event.at, timezone)} — {escape(event.kind)} — {who}{change}")
    return "\n".join(lines)


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


def mention_supervisors(policy: Policy) -> str:
    """Links that mention every supervisor (Telegram notifies them)."""
    label = _("supervisor")
    return " ".join(f'<a href="tg://user?id={user_id}">{label}</a>'
                    for user_id in policy.supervisors)


def topic_notice(template: str, ticket: Ticket, client: Client, data: dict[str, object],
                 timezone: str = "UTC") -> str:
    """A notice in the ticket's topic."""
    if template == "reopened":
        return "🔁 " + _("The client wrote again: ticket #{number} is reopened.").format(
            number=ticket.number)
    if template == "ask_supervisor":
        return "📣 " + _("The client asked for a supervisor.")
    if template == "problem_solved":
        return "🧩 " + _("Problem #{problem} is solved; the client was told.").format(
            problem=data.get("problem"))
    if template == "queue_offer":
        agents = data.get("agents") or []
        label = _("agent")
        links = " ".join(f'<a href="tg://user?id={int(agent)}">{label}</a>'
                         for agent in agents)  # type: ignore[union-attr]
        return "📥 " + _("New ticket in your queue — press Take.") + " " + links
    if template == "rated":
        line = "⭐ " + _("The client rated #{number}: {score}/5").format(
            number=ticket.number, score=data.get("score"))
        comment = str(data.get("comment") or "")
        return line + (f"\n💬 {escape(comment)}" if comment else "")
    if template == "sla_warning":
        due = (ticket.first_response_due if data.get("which") == "first_response"
               else ticket.resolution_due)
        return "⏰ " + _("SLA warning: the {which} of #{number} is due at {due}.").format(
            which=_which(data.get("which")), number=ticket.number, due=when(due, timezone))
    return escape(str(data.get("text", template)))


def general_notice(template: str, policy: Policy, ticket: Ticket, client: Client,
                   data: dict[str, object]) -> str:
    """A notice in the staff group's General topic."""
    who = escape(ticket.customer or client.name)
    mention = mention_supervisors(policy)
    if template == "special_request":
        return "⚡ " + _("Special request #{number} from {who}: {subject}").format(
            number=ticket.number, who=who, subject=escape(ticket.subject)) + " " + mention
    if template == "sla_breach":
        return "🔥 " + _("SLA breached: the {which} of #{number} ({who}: {subject}) is "
                         "overdue.").format(which=_which(data.get("which")),
                                            number=ticket.number, who=who,
                                            subject=escape(ticket.subject)) + " " + mention
    if template == "ask_supervisor":
        return "📣 " + _("The client of #{number} ({who}: {subject}) asks for a "
                        "supervisor.").format(number=ticket.number, who=who,
                                              subject=escape(ticket.subject)) + " " + mention
    if template == "unassigned":
        return "🙋 " + _("#{number} ({who}: {subject}) has had no assignee for too "
                         "long.").format(number=ticket.number, who=who,
                                         subject=escape(ticket.subject)) + " " + mention
    return escape(str(data.get("text", template)))


def numbers(values: Iterable[object]) -> str:
    """Ticket numbers as "#12, #15"."""
    return ", ".join(f"#{number}" for number in values)


def general_notice_without_ticket(template: str, data: dict[str, object]) -> str:
    """A notice in the staff group's General topic about no one ticket."""
    if template == "client_erased":
        lines = ["🧹 " + _("A client had their data erased at their request (/forget).")]
        if data.get("tickets"):
            lines.append(_("Their requests {numbers} keep their figures, without names or "
                           "texts.").format(numbers=numbers(data["tickets"])))  # type: ignore[arg-type]
        if data.get("open_tickets"):
            lines.append(_("Still open, and no longer answerable: {numbers} — please close "
                           "them.").format(numbers=numbers(data["open_tickets"])))  # type: ignore[arg-type]
        return "\n".join(lines)
    return escape(str(data.get("text", template)))


def client_notice(template: str, policy: Policy, ticket: Ticket, client: Client,
                  data: dict[str, object], opens_at: datetime | None) -> str:
    """A notice for the client about one of their tickets."""
    if template == "acknowledged":
        return acknowledgement(policy, ticket, client.language, client_timezone(policy, client,
                                                                                ticket), opens_at)
    number = ticket.number
    if template == "resolved":
        return "☑️ " + _("We believe request #{number} ({subject}) is resolved. Is it?").format(
            number=number, subject=escape(ticket.subject))
    if template == "closed":
        lines = [("✅ " + _("Request #{number} is closed: there was no answer for a while.")
                  if data.get("auto") else
                  "✅ " + _("Request #{number} is closed.")).format(number=number)]
        if data.get("credentials"):
            lines.append("🔐 " + _("Passwords or access data were shared in this conversation; "
                                  "please change them now."))
        lines.append(_("Please rate our work from 1 to 5:"))
        return "\n".join(lines)
    if template == "declined":
        reason = escape(str(data.get("reason") or "—"))
        return "⛔ " + _("Request #{number} was declined. Reason: {reason}").format(
            number=number, reason=reason)
    if template == "canned":
        answer = next((item for item in policy.canned if item.name == data.get("name")), None)
        body = answer.text.get(client.language) if answer else ""
        agent = str(data.get("agent") or "")
        header = f"<b>{escape(agent)}</b>:\n" if agent and policy.show_agent_name else ""
        return header + escape(body)
    if template == "problem_solved":
        return "🧩 " + _("Good news about request #{number} ({subject}): the cause was found "
                        "and fixed. Please check, and write here if it still happens.").format(
            number=number, subject=escape(ticket.subject))
    if template == "autoclose_reminder":
        return "⏳ " + _("We are waiting for your answer on request #{number} ({subject}). "
                        "Without one it will be closed in {days} days.").format(
            number=number, subject=escape(ticket.subject),
            days=max(1, policy.auto_close_after.days))
    return escape(str(data.get("text", template)))


def client_timezone(policy: Policy, client: Client, ticket: Ticket) -> str:
    """The zone to show a client times in: theirs, else their SLA calendar's, else the desk's."""
    if client.timezone:
        return client.timezone
    zone = policy.sla_level(ticket.sla_level).calendar.timezone
    return zone if zone != "UTC" else policy.staff_timezone
