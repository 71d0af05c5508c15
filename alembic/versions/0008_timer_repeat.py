"""a level's repeat pages are timers too: they count how many times the level has paged again

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 16:00:00
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('timers') as batch:
        batch.add_column(sa.Column('repeat', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('timers') as batch:
        batch.drop_column('repeat')
