"""outbox rows know their destination's rate-limit key, so waiting posts can be folded into one digest

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 13:30:00
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(sa.Column('destination_key', sa.String(length=40), nullable=True))
    op.create_index('ix_outbox_destination', 'outbox', ['destination_key', 'status'])


def downgrade() -> None:
    op.drop_index('ix_outbox_destination', table_name='outbox')
    with op.batch_alter_table('outbox') as batch:
        batch.drop_column('destination_key')
