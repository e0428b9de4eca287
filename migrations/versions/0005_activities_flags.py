"""activities with attendance, invitations, fair-play flags, organisation and privacy settings

Revision ID: 0005_activities_flags
Revises: 0004_unit_retired_on

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_activities_flags'
down_revision = '0004_unit_retired_on'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('activity_kind',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=40), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('monthly_for', sa.String(length=120), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_activity_kind'))
    )
    op.create_table('activity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('points_each', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['member.id'], name=op.f('fk_activity_created_by_member')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_activity_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity'))
    )
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activity_day'), ['day'], unique=False)
        batch_op.create_index(batch_op.f('ix_activity_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_activity_unit_id'), ['unit_id'], unique=False)

    op.create_table('fair_play_flag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by', sa.Integer(), nullable=True),
    sa.Column('review_note', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_fair_play_flag_member_id_member')),
    sa.ForeignKeyConstraint(['reviewed_by'], ['member.id'], name=op.f('fk_fair_play_flag_reviewed_by_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fair_play_flag')),
    sa.UniqueConstraint('member_id', 'kind', 'key', name=op.f('uq_fair_play_flag_member_id_kind_key'))
    )
    with op.batch_alter_table('fair_play_flag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fair_play_flag_day'), ['day'], unique=False)
        batch_op.create_index(batch_op.f('ix_fair_play_flag_member_id'), ['member_id'], unique=False)

    op.create_table('invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('link_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['member.id'], name=op.f('fk_invitation_created_by_member')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_invitation_member_id_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_invitation_code_hash')),
    sa.UniqueConstraint('link_hash', name=op.f('uq_invitation_link_hash'))
    )
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_member_id'), ['member_id'], unique=False)

    op.create_table('org_setting',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by'], ['member.id'], name=op.f('fk_org_setting_updated_by_member')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_org_setting'))
    )
    op.create_table('privacy_prefs',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('anonymous_on_boards', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_privacy_prefs_member_id_member')),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_privacy_prefs'))
    )
    op.create_table('token_write',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['member.id'], name=op.f('fk_token_write_actor_id_member')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_token_write_member_id_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_token_write'))
    )
    with op.batch_alter_table('token_write', schema=None) as batch_op:
        batch_op.create_index('ix_token_write_actor_at', ['actor_id', 'at'], unique=False)

    op.create_table('activity_attendance',
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('adjustment_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], name=op.f('fk_activity_attendance_activity_id_activity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['adjustment_id'], ['adjustment.id'], name=op.f('fk_activity_attendance_adjustment_id_adjustment')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_activity_attendance_member_id_member')),
    sa.PrimaryKeyConstraint('activity_id', 'member_id', name=op.f('pk_activity_attendance'))
    )
    with op.batch_alter_table('activity_attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activity_attendance_member_id'), ['member_id'], unique=False)



def downgrade():
    with op.batch_alter_table('activity_attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_attendance_member_id'))

    op.drop_table('activity_attendance')
    with op.batch_alter_table('token_write', schema=None) as batch_op:
        batch_op.drop_index('ix_token_write_actor_at')

    op.drop_table('token_write')
    op.drop_table('privacy_prefs')
    op.drop_table('org_setting')
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_member_id'))

    op.drop_table('invitation')
    with op.batch_alter_table('fair_play_flag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fair_play_flag_member_id'))
        batch_op.drop_index(batch_op.f('ix_fair_play_flag_day'))

    op.drop_table('fair_play_flag')
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_unit_id'))
        batch_op.drop_index(batch_op.f('ix_activity_kind'))
        batch_op.drop_index(batch_op.f('ix_activity_day'))

    op.drop_table('activity')
    op.drop_table('activity_kind')
