"""snoozed incidents: an acknowledged incident's wake time

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 13:00:00
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('incidents') as batch:
        batch.add_column(sa.Column('snoozed_until', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('incidents') as batch:
        batch.drop_column('snoozed_until')
