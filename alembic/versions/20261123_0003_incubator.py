"""incubator

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-23 04:29:36.130215
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = '0003'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('graduation_policies',
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('min_legal_status', sa.Enum('unregistered', 'filed', 'registered', name='legalstatus', native_enum=False, length=16), nullable=False),
    sa.Column('min_capacity_score', core.db.Fixed(precision=5, scale=2), nullable=False),
    sa.Column('require_completed_project', sa.Boolean(), nullable=False),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_graduation_policies_centre_id_centres')),
    sa.PrimaryKeyConstraint('centre_id', name=op.f('pk_graduation_policies'))
    )
    op.create_table('organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('social_group', 'social_service', 'foundation', 'community_group', name='organisationkind', native_enum=False, length=32), nullable=False),
    sa.Column('legal_status', sa.Enum('unregistered', 'filed', 'registered', name='legalstatus', native_enum=False, length=16), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=True),
    sa.Column('service_fields', sa.JSON(), nullable=False),
    sa.Column('community', sa.String(length=100), nullable=False),
    sa.Column('street', sa.String(length=100), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('contact_name', sa.String(length=100), nullable=False),
    sa.Column('contact_phone', sa.String(length=32), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=False),
    sa.Column('founded_on', sa.Date(), nullable=True),
    sa.Column('staff_count', sa.Integer(), nullable=False),
    sa.Column('volunteer_count', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('verified_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('verified_by', sa.Integer(), nullable=True),
    sa.Column('barred_until', sa.Date(), nullable=True),
    sa.Column('bar_reason', sa.String(length=500), nullable=True),
    sa.Column('incubation_state', sa.Enum('applied', 'assessed', 'admitted', 'incubating', 'graduated', 'exited', name='staystate', native_enum=False, length=16), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("legal_status <> 'registered' OR uscc IS NOT NULL", name=op.f('ck_organisations_registered_has_uscc')),
    sa.CheckConstraint('staff_count >= 0 AND volunteer_count >= 0', name=op.f('ck_organisations_counts_not_negative')),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_organisations_centre_id_centres')),
    sa.ForeignKeyConstraint(['verified_by'], ['users.id'], name=op.f('fk_organisations_verified_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
    sa.UniqueConstraint('centre_id', 'uscc', name=op.f('uq_organisations_centre_id_uscc'))
    )
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisations_centre_id'), ['centre_id'], unique=False)
        batch_op.create_index('ix_organisations_centre_name', ['centre_id', 'name'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisations_incubation_state'), ['incubation_state'], unique=False)

    op.create_table('incubation_stays',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('applied', 'assessed', 'admitted', 'incubating', 'graduated', 'exited', name='staystate', native_enum=False, length=16), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('applied_on', sa.Date(), nullable=False),
    sa.Column('intake_note', sa.Text(), nullable=False),
    sa.Column('assessed_on', sa.Date(), nullable=True),
    sa.Column('assessment_note', sa.Text(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('planned_months', sa.Integer(), nullable=True),
    sa.Column('planned_end', sa.Date(), nullable=True),
    sa.Column('mentor', sa.String(length=100), nullable=True),
    sa.Column('workspace', sa.String(length=100), nullable=True),
    sa.Column('extensions', sa.Integer(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('exit_reason', sa.Text(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('planned_months IS NULL OR planned_months BETWEEN 1 AND 60', name=op.f('ck_incubation_stays_planned_months_range')),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_incubation_stays_centre_id_centres')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_incubation_stays_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incubation_stays'))
    )
    with op.batch_alter_table('incubation_stays', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incubation_stays_centre_id'), ['centre_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incubation_stays_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incubation_stays_state'), ['state'], unique=False)
        batch_op.create_index('uq_incubation_stays_one_active', ['organisation_id'], unique=True, sqlite_where=sa.text('is_active'), postgresql_where=sa.text('is_active'))

    op.create_table('member_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('invited_by', sa.Integer(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['invited_by'], ['users.id'], name=op.f('fk_member_invitations_invited_by_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_member_invitations_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_member_invitations_token_hash'))
    )
    with op.batch_alter_table('member_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_invitations_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('organisation_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('owner', 'member', name='memberrole', native_enum=False, length=16), nullable=False),
    sa.Column('added_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_organisation_members_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_organisation_members_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_members')),
    sa.UniqueConstraint('organisation_id', 'user_id', name=op.f('uq_organisation_members_organisation_id_user_id'))
    )
    with op.batch_alter_table('organisation_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_members_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisation_members_user_id'), ['user_id'], unique=False)

    op.create_table('support_activities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('training', 'consultation', 'mentoring', 'resource_linkage', 'event', name='activitykind', native_enum=False, length=24), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('hours', core.db.Fixed(precision=6, scale=1), nullable=False),
    sa.Column('topic', sa.String(length=200), nullable=False),
    sa.Column('given_by', sa.String(length=100), nullable=False),
    sa.Column('participants', sa.Integer(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('hours > 0', name=op.f('ck_support_activities_hours_positive')),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_support_activities_centre_id_centres')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_support_activities_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_activities'))
    )
    with op.batch_alter_table('support_activities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_activities_centre_id'), ['centre_id'], unique=False)
        batch_op.create_index('ix_support_activities_org_date', ['organisation_id', 'held_on'], unique=False)

    op.create_table('capacity_assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('stay_id', sa.Integer(), nullable=True),
    sa.Column('stage', sa.Enum('intake', 'midterm', 'graduation', name='assessmentstage', native_enum=False, length=16), nullable=False),
    sa.Column('assessed_on', sa.Date(), nullable=False),
    sa.Column('rubric_version_id', sa.Integer(), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('total', core.db.Fixed(precision=6, scale=2), nullable=False),
    sa.Column('grade', sa.String(length=16), nullable=False),
    sa.Column('assessor', sa.String(length=100), nullable=False),
    sa.Column('comments', sa.Text(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_capacity_assessments_centre_id_centres')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_capacity_assessments_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['stay_id'], ['incubation_stays.id'], name=op.f('fk_capacity_assessments_stay_id_incubation_stays')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_capacity_assessments'))
    )
    with op.batch_alter_table('capacity_assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_capacity_assessments_centre_id'), ['centre_id'], unique=False)
        batch_op.create_index('ix_capacity_assessments_org_date', ['organisation_id', 'assessed_on'], unique=False)

    op.create_table('stay_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stay_id', sa.Integer(), nullable=False),
    sa.Column('at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('on_date', sa.Date(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('from_state', sa.String(length=16), nullable=True),
    sa.Column('to_state', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.ForeignKeyConstraint(['stay_id'], ['incubation_stays.id'], name=op.f('fk_stay_events_stay_id_incubation_stays'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stay_events'))
    )
    with op.batch_alter_table('stay_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stay_events_stay_id'), ['stay_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('stay_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stay_events_stay_id'))

    op.drop_table('stay_events')
    with op.batch_alter_table('capacity_assessments', schema=None) as batch_op:
        batch_op.drop_index('ix_capacity_assessments_org_date')
        batch_op.drop_index(batch_op.f('ix_capacity_assessments_centre_id'))

    op.drop_table('capacity_assessments')
    with op.batch_alter_table('support_activities', schema=None) as batch_op:
        batch_op.drop_index('ix_support_activities_org_date')
        batch_op.drop_index(batch_op.f('ix_support_activities_centre_id'))

    op.drop_table('support_activities')
    with op.batch_alter_table('organisation_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_members_user_id'))
        batch_op.drop_index(batch_op.f('ix_organisation_members_organisation_id'))

    op.drop_table('organisation_members')
    with op.batch_alter_table('member_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_invitations_organisation_id'))

    op.drop_table('member_invitations')
    with op.batch_alter_table('incubation_stays', schema=None) as batch_op:
        batch_op.drop_index('uq_incubation_stays_one_active', sqlite_where=sa.text('is_active'), postgresql_where=sa.text('is_active'))
        batch_op.drop_index(batch_op.f('ix_incubation_stays_state'))
        batch_op.drop_index(batch_op.f('ix_incubation_stays_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_incubation_stays_centre_id'))

    op.drop_table('incubation_stays')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisations_incubation_state'))
        batch_op.drop_index('ix_organisations_centre_name')
        batch_op.drop_index(batch_op.f('ix_organisations_centre_id'))

    op.drop_table('organisations')
    op.drop_table('graduation_policies')
