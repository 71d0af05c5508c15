"""incidents people edit by hand: a description, and which fields were edited (they stay as people set them)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 16:00:00
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('incidents') as batch:
        batch.add_column(sa.Column('description', sa.Text(), nullable=True))
        batch.add_column(sa.Column('edited', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('incidents') as batch:
        batch.drop_column('edited')
        batch.drop_column('description')
