"""ticket measures for the reports

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 10:00:00.000000

Each ticket keeps its measures (`domain.reports.measure`: the first-response and resolution
times, the first answer, the final resolution and close), so that a report sums them up in SQL
instead of replaying every history; the indexes of the moments a report counts by (created,
first response, final close, the two due times) become covering ones, holding the assignee,
the queue and the measure too; the status changes get an index by new status and time, and
the index of a ticket's events holds their kind, new status and time.

The tickets stored before are measured here from their stored status changes, batch by batch,
with the same domain function. Their calendars are those of the policy handed over in the
Alembic configuration's attributes as ``policy``, else of `domain.policy.default_policy()`:
a migration reads no configuration file, and the default calendars are the ones a desk
without its own SLA levels has measured by all along. A desk with calendars of its own may hand
its policy over, or live with the default ones for the tickets of before (1 million tickets:
about two minutes on SQLite and on PostgreSQL).

On PostgreSQL, the reports read the new covering indexes alone once the table's pages are
marked all-visible again: autovacuum does it within minutes of the migration, or run
``VACUUM ANALYZE``; until then a year's report reads the table too (twice as slow).
"""
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import context, op

from domain.calendar import BusinessCalendar
from domain.policy import Policy, default_policy
from domain.reports import StatusChange, TicketFacts, calendars_of, measure, microseconds

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

BATCH = 5_000  # tickets measured per round
_MEASURES = ('first_response_us', 'first_answer_at', 'final_resolution_at', 'resolution_us',
             'final_close_at')

TICKETS = sa.table(
    'tickets', sa.column('id', sa.Integer()), sa.column('number', sa.BigInteger()),
    sa.column('queue', sa.String()), sa.column('sla_level', sa.String()),
    sa.column('created_at', sa.DateTime()), sa.column('first_response_at', sa.DateTime()),
    sa.column('first_response_us', sa.BigInteger()),
    sa.column('first_answer_at', sa.DateTime()),
    sa.column('final_resolution_at', sa.DateTime()),
    sa.column('resolution_us', sa.BigInteger()), sa.column('final_close_at', sa.DateTime()))
EVENTS = sa.table(
    'ticket_events', sa.column('id', sa.Integer()), sa.column('ticket_id', sa.Integer()),
    sa.column('kind', sa.String()), sa.column('at', sa.DateTime()),
    sa.column('old', sa.String()), sa.column('new', sa.String()))


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_response_us', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('first_answer_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('final_resolution_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('resolution_us', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('final_close_at', sa.DateTime(), nullable=True))

    # measured before the indexes that hold the measures exist: no index to keep up meanwhile
    policy = context.config.attributes.get('policy') or default_policy()
    measure_stored_tickets(op.get_bind(), policy)

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_created_at')
        batch_op.drop_index('ix_tickets_first_response_due')
        batch_op.drop_index('ix_tickets_resolution_due')
        batch_op.create_index('ix_tickets_opened',
                              ['created_at', 'assignee_id', 'queue', 'number'], unique=False)
        batch_op.create_index('ix_tickets_first_responses',
                              ['first_response_at', 'assignee_id', 'queue', 'first_response_us'],
                              unique=False)
        batch_op.create_index('ix_tickets_final_closes',
                              ['final_close_at', 'assignee_id', 'queue', 'resolution_us'],
                              unique=False)
        batch_op.create_index('ix_tickets_first_response_targets',
                              ['first_response_due', 'assignee_id', 'queue', 'first_answer_at'],
                              unique=False)
        batch_op.create_index('ix_tickets_resolution_targets',
                              ['resolution_due', 'assignee_id', 'queue', 'status',
                               'final_resolution_at'], unique=False)

    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.drop_index('ix_ratings_at')
        batch_op.create_index('ix_ratings_given', ['at', 'agent_id', 'score', 'ticket_id'],
                              unique=False)

    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_events_ticket_id')
        batch_op.create_index('ix_ticket_events_ticket', ['ticket_id', 'kind', 'new', 'at'],
                              unique=False)
        batch_op.create_index('ix_ticket_events_new_kind_at', ['new', 'kind', 'at', 'ticket_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_events_new_kind_at')
        batch_op.drop_index('ix_ticket_events_ticket')
        batch_op.create_index(batch_op.f('ix_ticket_events_ticket_id'), ['ticket_id'],
                              unique=False)

    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.drop_index('ix_ratings_given')
        batch_op.create_index(batch_op.f('ix_ratings_at'), ['at'], unique=False)

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_resolution_targets')
        batch_op.drop_index('ix_tickets_first_response_targets')
        batch_op.drop_index('ix_tickets_final_closes')
        batch_op.drop_index('ix_tickets_first_responses')
        batch_op.drop_index('ix_tickets_opened')
        batch_op.create_index(batch_op.f('ix_tickets_resolution_due'), ['resolution_due'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_first_response_due'),
                              ['first_response_due'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_created_at'), ['created_at'], unique=False)
        batch_op.drop_column('final_close_at')
        batch_op.drop_column('resolution_us')
        batch_op.drop_column('final_resolution_at')
        batch_op.drop_column('first_answer_at')
        batch_op.drop_column('first_response_us')


def measure_stored_tickets(connection: sa.Connection, policy: Policy) -> None:
    """Measure every stored ticket from its status changes, `BATCH` tickets at a time."""
    calendar_for = calendars_of(policy)
    update = (sa.update(TICKETS).where(TICKETS.c.id == sa.bindparam('ticket'))
              .values({name: sa.bindparam(name) for name in _MEASURES}))
    for tickets in _batches(connection):
        found = [_measured(ticket, calendar_for) for ticket in tickets]
        measured = [values for values in found if values is not None]
        if measured:
            connection.execute(update, measured)


def _batches(connection: sa.Connection) -> Iterator[list[tuple[int, TicketFacts]]]:
    """The stored tickets with their status changes, by ranges of ids."""
    last = 0
    columns = (TICKETS.c.id, TICKETS.c.number, TICKETS.c.queue, TICKETS.c.sla_level,
               TICKETS.c.created_at, TICKETS.c.first_response_at)
    while True:
        rows = connection.execute(sa.select(*columns).where(TICKETS.c.id > last)
                                  .order_by(TICKETS.c.id).limit(BATCH)).all()
        if not rows:
            return
        changes: dict[int, list[StatusChange]] = {}
        for ticket_id, at, old, new in connection.execute(
                sa.select(EVENTS.c.ticket_id, EVENTS.c.at, EVENTS.c.old, EVENTS.c.new)
                .where(EVENTS.c.kind == 'status', EVENTS.c.ticket_id > last,
                       EVENTS.c.ticket_id <= rows[-1].id)
                .order_by(EVENTS.c.ticket_id, EVENTS.c.id)):
            changes.setdefault(ticket_id, []).append(StatusChange(_aware(at), old, new or ''))
        yield [(row.id, TicketFacts(row.number, row.queue, row.sla_level, None, None,
                                    _aware(row.created_at),
                                    row.first_response_at and _aware(row.first_response_at),
                                    changes=tuple(changes.get(row.id, ()))))
               for row in rows]
        last = rows[-1].id


def _measured(ticket: tuple[int, TicketFacts],
              calendar_for: Callable[[str], BusinessCalendar]) -> dict[str, Any] | None:
    """The new columns of one ticket (None when it has no measure yet)."""
    ticket_id, facts = ticket
    if not facts.changes and facts.first_response_at is None:
        return None
    measures = measure(facts, calendar_for(facts.sla_level))
    return {'ticket': ticket_id,
            'first_response_us': _us(measures.first_response),
            'first_answer_at': _naive(measures.first_answer_at),
            'final_resolution_at': _naive(measures.resolved_at),
            'resolution_us': _us(measures.resolution),
            'final_close_at': _naive(measures.final_close_at)}


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC)


def _naive(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC).replace(tzinfo=None)


def _us(duration: timedelta | None) -> int | None:
    return None if duration is None else microseconds(duration)
