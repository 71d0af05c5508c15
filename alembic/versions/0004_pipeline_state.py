"""alert pipeline state: muted alerts without an incident, flapping history, links, incident merge time and alert total

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 18:30:00

Written by hand; batch mode so SQLite can change the nullability of a column.
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('alerts') as batch:
        batch.alter_column('incident_id', existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column('muted_by', sa.String(length=160), nullable=True))
        batch.add_column(sa.Column('changes', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('links', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('flapping', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.create_index('ix_alerts_service_fingerprint', ['service_id', 'fingerprint'])
    with op.batch_alter_table('incidents') as batch:
        batch.add_column(sa.Column('last_merge_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('alert_total', sa.Integer(), nullable=False, server_default='0'))
    op.execute("UPDATE incidents SET alert_total = "
               "(SELECT count(*) FROM alerts WHERE alerts.incident_id = incidents.id)")


def downgrade() -> None:
    op.execute("DELETE FROM alerts WHERE incident_id IS NULL")
    with op.batch_alter_table('incidents') as batch:
        batch.drop_column('alert_total')
        batch.drop_column('last_merge_at')
    with op.batch_alter_table('alerts') as batch:
        batch.drop_index('ix_alerts_service_fingerprint')
        batch.drop_column('flapping')
        batch.drop_column('links')
        batch.drop_column('changes')
        batch.drop_column('muted_by')
        batch.alter_column('incident_id', existing_type=sa.Integer(), nullable=False)
