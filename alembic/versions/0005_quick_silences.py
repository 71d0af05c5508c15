"""quick silences made from incident cards or the API: an incident's labels, for a preset time

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 19:00:00
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'quick_silences',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('service_id', sa.String(length=64), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=True),
        sa.Column('preset', sa.String(length=8), nullable=False),
        sa.Column('labels', sa.JSON(), nullable=False),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_quick_silences_ends_at', 'quick_silences', ['ends_at'])


def downgrade() -> None:
    op.drop_index('ix_quick_silences_ends_at', table_name='quick_silences')
    op.drop_table('quick_silences')
