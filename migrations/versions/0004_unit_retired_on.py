"""units: the date from which a unit is retired

Revision ID: 0004_unit_retired_on
Revises: 0003_reminders

"""
from alembic import op
import sqlalchemy as sa


revision = '0004_unit_retired_on'
down_revision = '0003_reminders'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retired_on', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_column('retired_on')
