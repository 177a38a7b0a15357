"""SQLAlchemy models: the tables behind the desk (links to Telegram live here, not in domain)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend (SQLite keeps no zone; we store naive UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The declarative base with stable constraint names (for migrations)."""

    metadata = MetaData(naming_convention=NAMING)


class ClientRow(Base):
    """A person who writes to the bot in private."""

    __tablename__ = "clients"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    name: Mapped[str] = mapped_column(String(256), default="")
    username: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="en")
    language_chosen: Mapped[bool] = mapped_column(Boolean, default=False)
    timezone: Mapped[str | None] = mapped_column(String(64))
    contract_number: Mapped[str | None] = mapped_column(String(64))
    banned: Mapped[bool] = mapped_column(Boolean, default=False)
    ban_notified: Mapped[bool] = mapped_column(Boolean, default=False)
    forgotten_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ContractRow(Base):
    """A support contract from the operator's registry."""

    __tablename__ = "contracts"
    number: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer: Mapped[str] = mapped_column(String(256))
    sla_level: Mapped[str] = mapped_column(String(32))
    valid_until: Mapped[date | None] = mapped_column(Date)
    special_requests: Mapped[bool] = mapped_column(Boolean, default=False)
    license_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # the number and the license key as the registry matches them (`domain.clients.contract_key`)
    number_norm: Mapped[str] = mapped_column(String(64), index=True)
    license_norm: Mapped[str | None] = mapped_column(String(128), index=True)


class CounterRow(Base):
    """Named sequences that only grow (ticket numbers are never reused)."""

    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class TicketRow(Base):
    """A registered request."""

    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger, unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    subject: Mapped[str] = mapped_column(String(512))
    request_type: Mapped[str] = mapped_column(String(32))
    queue: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(32))
    sla_level: Mapped[str] = mapped_column(String(32))
    contract_number: Mapped[str | None] = mapped_column(String(64))
    customer: Mapped[str | None] = mapped_column(String(256))
    special: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(32), index=True)
    assignee_id: Mapped[int | None] = mapped_column(BigInteger)
    assignee_name: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_response_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    paused_business_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    last_client_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopened_from: Mapped[int | None] = mapped_column(BigInteger)
    bug_ref: Mapped[str | None] = mapped_column(String(512))
    problem_number: Mapped[int | None] = mapped_column(BigInteger, index=True)
    credentials_seen: Mapped[bool] = mapped_column(Boolean, default=False)
    supervisor_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    description: Mapped[str] = mapped_column(Text, default="")
    # the ticket's measures (`domain.reports.measure`), taken by TicketRepository whenever a
    # status change or the first response is stored; the reports sum them up
    first_response_us: Mapped[int | None] = mapped_column(BigInteger)  # business microseconds
    first_answer_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    final_resolution_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_us: Mapped[int | None] = mapped_column(BigInteger)
    final_close_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    __table_args__ = (
        Index("ix_tickets_closed_created", "closed_at", "created_at"),
        # the reports sum up the tickets of each moment by day, agent and queue from these
        # alone, without reading the table (storage/report_queries.py)
        Index("ix_tickets_opened", "created_at", "assignee_id", "queue", "number"),
        Index("ix_tickets_first_responses", "first_response_at", "assignee_id", "queue",
              "first_response_us"),
        Index("ix_tickets_final_closes", "final_close_at", "assignee_id", "queue",
              "resolution_us"),
        Index("ix_tickets_first_response_targets", "first_response_due", "assignee_id",
              "queue", "first_answer_at"),
        Index("ix_tickets_resolution_targets", "resolution_due", "assignee_id", "queue",
              "status", "final_resolution_at"),
        # a target met counts on the day it was met
        Index("ix_tickets_first_responses_met", "first_answer_at", "assignee_id", "queue",
              "first_response_due"),
        Index("ix_tickets_resolutions_met", "final_resolution_at", "assignee_id", "queue",
              "status", "resolution_due"),
    )


class EventRow(Base):
    """One entry of a ticket's history."""

    __tablename__ = "ticket_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_ref: Mapped[int | None] = mapped_column(BigInteger)
    actor_name: Mapped[str] = mapped_column(String(256), default="")
    old: Mapped[str | None] = mapped_column(String(256))
    new: Mapped[str | None] = mapped_column(String(256))
    detail: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (
        # a ticket's history, or its events of a kind: its status changes, its closes
        Index("ix_ticket_events_ticket", "ticket_id", "kind", "new", "at"),
        # the reports count a period's closes, declines and reopens (report_queries.py)
        Index("ix_ticket_events_new_kind_at", "new", "kind", "at", "ticket_id"),
    )


class RatingRow(Base):
    """The client's satisfaction rating of a closed ticket."""

    __tablename__ = "ratings"
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    agent_id: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # the reports sum a period's ratings from it alone (storage/report_queries.py)
    __table_args__ = (Index("ix_ratings_given", "at", "agent_id", "score", "ticket_id"),)


class TopicRow(Base):
    """Where a ticket lives in the staff group: its forum topic (or card thread) and card."""

    __tablename__ = "ticket_topics"
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    card_message_id: Mapped[int | None] = mapped_column(BigInteger)
    title: Mapped[str | None] = mapped_column(String(256))
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    __table_args__ = (Index("ix_ticket_topics_chat_thread", "chat_id", "thread_id"),)


class MessageLinkRow(Base):
    """A pair of messages, one in the client's chat and one in the staff group."""

    __tablename__ = "message_links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    direction: Mapped[str] = mapped_column(String(8))  # "in" client→staff, "out" staff→client
    client_chat_id: Mapped[int] = mapped_column(BigInteger)
    client_message_id: Mapped[int] = mapped_column(BigInteger)
    staff_chat_id: Mapped[int] = mapped_column(BigInteger)
    staff_message_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    __table_args__ = (
        Index("ix_message_links_client", "client_chat_id", "client_message_id"),
        Index("ix_message_links_staff", "staff_chat_id", "staff_message_id"),
    )


class OutboxRow(Base):
    """A message the bot must send; written with the change that causes it."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lane: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    __table_args__ = (Index("ix_outbox_state_lane", "state", "lane", "id"),)


class TimerRow(Base):
    """A due time the scheduler must act on once (SLA warning, breach, auto-close …)."""

    __tablename__ = "timers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    kind: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    __table_args__ = (
        Index("ix_timers_pending", "done_at", "due_at"),
        UniqueConstraint("ticket_id", "kind", name="uq_timers_ticket_kind"),
    )


class FsmRow(Base):
    """aiogram conversation state kept in the database (survives restarts)."""

    __tablename__ = "fsm_states"
    key: Mapped[str] = mapped_column(String(256), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(256))
    data: Mapped[str] = mapped_column(Text, default="{}")


class ProcessedUpdateRow(Base):
    """Update ids already handled, so a re-sent update is processed once."""

    __tablename__ = "processed_updates"
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class LeaseRow(Base):
    """A named lease: which process runs the scheduler, until when."""

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeflectionRow(Base):
    """An intake that ended because a known answer (FAQ) solved the problem."""

    __tablename__ = "deflections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    faq_url: Mapped[str] = mapped_column(String(512))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AgentRow(Base):
    """A member of a staff group the bot has seen (for names, @mentions and assignment)."""

    __tablename__ = "agents"
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(256))
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
