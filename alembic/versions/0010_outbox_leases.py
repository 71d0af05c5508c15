"""outbox rows remember which dispatcher leased them, so a restarted embedded process takes its own back at once

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 20:30:00
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(sa.Column('leased_by', sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox') as batch:
        batch.drop_column('leased_by')
