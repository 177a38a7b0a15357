"""the reports count a target met on the day it was met

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 19:00:00.000000

SLA compliance counts a target met on the day of the first answer or the final resolution
(never on a future due date), and a target missed on its due day: two covering indexes by the
moment a target was met, like those by the due times. Nothing stored changes.
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_first_responses_met',
                              ['first_answer_at', 'assignee_id', 'queue', 'first_response_due'],
                              unique=False)
        batch_op.create_index('ix_tickets_resolutions_met',
                              ['final_resolution_at', 'assignee_id', 'queue', 'status',
                               'resolution_due'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_resolutions_met')
        batch_op.drop_index('ix_tickets_first_responses_met')
