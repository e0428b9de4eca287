"""quarterly review: the leader's comment and the awards of its 兑现 step

Revision ID: 0002_quarterly_review
Revises: 0001_initial
Create Date: 2026-11-23 10:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002_quarterly_review'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('quarterly_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.String(length=7), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_quarterly_review_unit_id_unit')),
    sa.ForeignKeyConstraint(['updated_by'], ['member.id'], name=op.f('fk_quarterly_review_updated_by_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quarterly_review')),
    sa.UniqueConstraint('unit_id', 'quarter', name=op.f('uq_quarterly_review_unit_id_quarter'))
    )
    with op.batch_alter_table('quarterly_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quarterly_review_unit_id'), ['unit_id'], unique=False)

    op.create_table('review_award',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('adjustment_id', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['adjustment_id'], ['adjustment.id'], name=op.f('fk_review_award_adjustment_id_adjustment')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_review_award_member_id_member')),
    sa.ForeignKeyConstraint(['review_id'], ['quarterly_review.id'], name=op.f('fk_review_award_review_id_quarterly_review')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_award')),
    sa.UniqueConstraint('adjustment_id', name=op.f('uq_review_award_adjustment_id')),
    sa.UniqueConstraint('review_id', 'member_id', name=op.f('uq_review_award_review_id_member_id'))
    )
    with op.batch_alter_table('review_award', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_award_review_id'), ['review_id'], unique=False)


def downgrade():
    with op.batch_alter_table('review_award', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_award_review_id'))
    op.drop_table('review_award')
    with op.batch_alter_table('quarterly_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quarterly_review_unit_id'))
    op.drop_table('quarterly_review')
