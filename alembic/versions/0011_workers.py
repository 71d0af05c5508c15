"""running dispatchers write a heartbeat; the leases of one that stopped are taken back without waiting them out

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 00:20:00
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'workers',
        sa.Column('identity', sa.String(32), primary_key=True),
        sa.Column('host', sa.String(255), nullable=False),
        sa.Column('pid', sa.Integer, nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('workers')
