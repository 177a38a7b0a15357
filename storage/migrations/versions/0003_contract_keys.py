"""contract numbers matched as people type them

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 18:00:00.000000

Each contract keeps its number and license key as the registry matches them
(`domain.clients.contract_key`: case, spaces, dashes, a leading №/No. and Cyrillic letters that
look like Latin ones ignored), indexed, so that "c 100", "№ C-100" and «С-100» find C-100. The
contracts already stored get their keys here, with the same function.
"""
import sqlalchemy as sa
from alembic import op

from domain.clients import contract_key

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

CONTRACTS = sa.table(
    'contracts', sa.column('number', sa.String()), sa.column('license_key', sa.String()),
    sa.column('number_norm', sa.String()), sa.column('license_norm', sa.String()))


def upgrade() -> None:
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('number_norm', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('license_norm', sa.String(length=128), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.select(CONTRACTS.c.number, CONTRACTS.c.license_key)).all()
    if rows:
        connection.execute(
            CONTRACTS.update().where(CONTRACTS.c.number == sa.bindparam('old_number')),
            [{'old_number': number, 'number_norm': contract_key(number),
              'license_norm': contract_key(key) if key else None} for number, key in rows])
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.alter_column('number_norm', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index(batch_op.f('ix_contracts_number_norm'), ['number_norm'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_contracts_license_norm'), ['license_norm'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contracts_license_norm'))
        batch_op.drop_index(batch_op.f('ix_contracts_number_norm'))
        batch_op.drop_column('license_norm')
        batch_op.drop_column('number_norm')
