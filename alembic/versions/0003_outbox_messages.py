"""outbox rows for plain messages (shift reminders): no incident, a payload, a dedupe key

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 17:00:00

Written by hand; batch mode so SQLite can change the nullability of a column.
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox') as batch:
        batch.alter_column('incident_id', existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column('payload', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('dedupe_key', sa.String(length=255), nullable=True))
        batch.create_unique_constraint('uq_outbox_dedupe_key', ['dedupe_key'])


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE incident_id IS NULL")
    with op.batch_alter_table('outbox') as batch:
        batch.drop_constraint('uq_outbox_dedupe_key', type_='unique')
        batch.drop_column('dedupe_key')
        batch.drop_column('payload')
        batch.alter_column('incident_id', existing_type=sa.Integer(), nullable=False)
