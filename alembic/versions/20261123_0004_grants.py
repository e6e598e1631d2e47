"""grants (STAND-IN: the integrator's grants migration replaces this file; it adds stored_files and the grants tables)

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-23 04:51:20.658191
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db


revision: str = '0004'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('calendar_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('is_workday', sa.Boolean(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_days'))
    )
    with op.batch_alter_table('calendar_days', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_days_year'), ['year'], unique=False)

    op.create_table('programmes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('venture', 'micro', name='programmekind', native_enum=False, length=16), nullable=False),
    sa.Column('state', sa.Enum('draft', 'open', 'reviewing', 'decided', 'publicised', 'running', 'closed', name='programmestate', native_enum=False, length=16), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('total_budget', core.db.Money(precision=14, scale=2), nullable=False),
    sa.Column('committed', core.db.Money(precision=14, scale=2), nullable=False),
    sa.Column('max_award_registered', core.db.Money(precision=14, scale=2), nullable=False),
    sa.Column('max_award_community', core.db.Money(precision=14, scale=2), nullable=False),
    sa.Column('allow_unregistered', sa.Boolean(), nullable=False),
    sa.Column('min_cofunding_pct', core.db.Fixed(precision=5, scale=2), nullable=False),
    sa.Column('management_fee_cap_pct', core.db.Fixed(precision=5, scale=2), nullable=False),
    sa.Column('personnel_cap_pct', core.db.Fixed(precision=5, scale=2), nullable=False),
    sa.Column('rubric_version_id', sa.Integer(), nullable=True),
    sa.Column('min_reviewers', sa.Integer(), nullable=False),
    sa.Column('blind_review', sa.Boolean(), nullable=False),
    sa.Column('opens_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closes_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('publicity_working_days', sa.Integer(), nullable=False),
    sa.Column('review_round_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('committed >= 0 AND committed <= total_budget', name=op.f('ck_programmes_committed_within_budget')),
    sa.CheckConstraint('min_reviewers BETWEEN 1 AND 20', name=op.f('ck_programmes_min_reviewers_range')),
    sa.CheckConstraint('opens_at < closes_at', name=op.f('ck_programmes_window_order')),
    sa.CheckConstraint('publicity_working_days BETWEEN 1 AND 30', name=op.f('ck_programmes_publicity_days_range')),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_programmes_centre_id_centres')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programmes'))
    )
    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programmes_centre_id'), ['centre_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_programmes_state'), ['state'], unique=False)

    op.create_table('community_needs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('community', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_community_needs_centre_id_centres')),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_community_needs_recorded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_needs'))
    )
    with op.batch_alter_table('community_needs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_community_needs_centre_id'), ['centre_id'], unique=False)

    op.create_table('programme_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('budget', core.db.Money(precision=14, scale=2), nullable=False),
    sa.Column('committed', core.db.Money(precision=14, scale=2), nullable=False),
    sa.CheckConstraint('committed >= 0 AND committed <= budget', name=op.f('ck_programme_categories_committed_within_budget')),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_programme_categories_programme_id_programmes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_categories')),
    sa.UniqueConstraint('programme_id', 'code', name=op.f('uq_programme_categories_programme_id_code'))
    )
    with op.batch_alter_table('programme_categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_categories_programme_id'), ['programme_id'], unique=False)

    op.create_table('stored_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_stored_files_centre_id_centres')),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_stored_files_uploaded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_files'))
    )
    with op.batch_alter_table('stored_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stored_files_centre_id'), ['centre_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stored_files_sha256'), ['sha256'], unique=False)

    op.create_table('tranche_plan_rows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('share_pct', core.db.Fixed(precision=5, scale=2), nullable=False),
    sa.Column('trigger', sa.Enum('on_signing', 'midterm_passed', 'final_passed', name='tranchetrigger', native_enum=False, length=24), nullable=False),
    sa.CheckConstraint('share_pct > 0 AND share_pct <= 100', name=op.f('ck_tranche_plan_rows_share_range')),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_tranche_plan_rows_programme_id_programmes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tranche_plan_rows')),
    sa.UniqueConstraint('programme_id', 'seq', name=op.f('uq_tranche_plan_rows_programme_id_seq'))
    )
    with op.batch_alter_table('tranche_plan_rows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tranche_plan_rows_programme_id'), ['programme_id'], unique=False)

    op.create_table('programme_topics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['need_id'], ['community_needs.id'], name=op.f('fk_programme_topics_need_id_community_needs')),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_programme_topics_programme_id_programmes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_topics'))
    )
    with op.batch_alter_table('programme_topics', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_topics_programme_id'), ['programme_id'], unique=False)

    op.create_table('applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.Enum('draft', 'submitted', 'eligible', 'ineligible', 'under_review', 'reviewed', 'recommended', 'not_recommended', 'approved', 'rejected', 'awarded', 'withdrawn', 'returned', name='applicationstate', native_enum=False, length=24), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('target_community', sa.String(length=200), nullable=False),
    sa.Column('beneficiaries', sa.Text(), nullable=False),
    sa.Column('beneficiary_count', sa.Integer(), nullable=False),
    sa.Column('needs', sa.Text(), nullable=False),
    sa.Column('objectives', sa.Text(), nullable=False),
    sa.Column('activities', sa.JSON(), nullable=False),
    sa.Column('requested_amount', core.db.Money(precision=14, scale=2), nullable=False),
    sa.Column('cofunding_amount', core.db.Money(precision=14, scale=2), nullable=False),
    sa.Column('total_budget', core.db.Money(precision=14, scale=2), nullable=False),
    sa.Column('approved_amount', core.db.Money(precision=14, scale=2), nullable=True),
    sa.Column('submitted_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('review_score', core.db.Fixed(precision=6, scale=2), nullable=True),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('publicity_starts_on', sa.Date(), nullable=True),
    sa.Column('publicity_ends_on', sa.Date(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['programme_categories.id'], name=op.f('fk_applications_category_id_programme_categories')),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_applications_centre_id_centres')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_applications_created_by_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_applications_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_applications_programme_id_programmes')),
    sa.ForeignKeyConstraint(['topic_id'], ['programme_topics.id'], name=op.f('fk_applications_topic_id_programme_topics')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_applications'))
    )
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_applications_centre_id'), ['centre_id'], unique=False)
        batch_op.create_index('ix_applications_org', ['organisation_id'], unique=False)
        batch_op.create_index('ix_applications_programme_state', ['programme_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_applications_state'), ['state'], unique=False)

    op.create_table('application_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_application_attachments_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['file_id'], ['stored_files.id'], name=op.f('fk_application_attachments_file_id_stored_files')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application_attachments'))
    )
    with op.batch_alter_table('application_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_attachments_application_id'), ['application_id'], unique=False)

    op.create_table('application_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('from_state', sa.String(length=24), nullable=True),
    sa.Column('to_state', sa.String(length=24), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_application_events_application_id_applications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application_events'))
    )
    with op.batch_alter_table('application_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_events_application_id'), ['application_id'], unique=False)

    op.create_table('awards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('amount', core.db.Money(precision=14, scale=2), nullable=False),
    sa.Column('paid', core.db.Money(precision=14, scale=2), nullable=False),
    sa.Column('state', sa.Enum('active', 'rectification', 'terminated', 'completed', name='awardstate', native_enum=False, length=16), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=True),
    sa.Column('awarded_on', sa.Date(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_awards_amount_positive')),
    sa.CheckConstraint('paid >= 0 AND paid <= amount', name=op.f('ck_awards_paid_within_amount')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_awards_application_id_applications')),
    sa.ForeignKeyConstraint(['category_id'], ['programme_categories.id'], name=op.f('fk_awards_category_id_programme_categories')),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_awards_centre_id_centres')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_awards_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_awards_programme_id_programmes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_awards')),
    sa.UniqueConstraint('application_id', name=op.f('uq_awards_application_id'))
    )
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_awards_centre_id'), ['centre_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_awards_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_awards_programme_id'), ['programme_id'], unique=False)

    op.create_table('budget_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('category', sa.Enum('personnel', 'activities', 'materials', 'venue', 'publicity', 'management', 'other', name='budgetcategory', native_enum=False, length=16), nullable=False),
    sa.Column('item', sa.String(length=200), nullable=False),
    sa.Column('unit_price', core.db.Money(precision=14, scale=2), nullable=False),
    sa.Column('quantity', core.db.Fixed(precision=10, scale=2), nullable=False),
    sa.Column('amount', core.db.Money(precision=14, scale=2), nullable=False),
    sa.Column('funded_by', sa.Enum('grant', 'cofunding', name='fundedby', native_enum=False, length=16), nullable=False),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_budget_lines_amount_not_negative')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_budget_lines_application_id_applications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budget_lines'))
    )
    with op.batch_alter_table('budget_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_budget_lines_application_id'), ['application_id'], unique=False)

    op.create_table('eligibility_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('final_passed', sa.Boolean(), nullable=True),
    sa.Column('staff_reason', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_eligibility_checks_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_eligibility_checks_decided_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_eligibility_checks')),
    sa.UniqueConstraint('application_id', 'code', name=op.f('uq_eligibility_checks_application_id_code'))
    )
    op.create_table('indicators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('output', 'outcome', name='indicatorkind', native_enum=False, length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('target', core.db.Fixed(precision=12, scale=2), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_indicators_application_id_applications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicators'))
    )
    with op.batch_alter_table('indicators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicators_application_id'), ['application_id'], unique=False)

    op.create_table('objections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('lodged_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('contact', sa.String(length=100), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('state', sa.Enum('open', 'upheld', 'dismissed', name='objectionstate', native_enum=False, length=16), nullable=False),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('resolved_by', sa.Integer(), nullable=True),
    sa.Column('resolved_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_objections_application_id_applications')),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_objections_centre_id_centres')),
    sa.ForeignKeyConstraint(['resolved_by'], ['users.id'], name=op.f('fk_objections_resolved_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objections'))
    )
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objections_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_objections_centre_id'), ['centre_id'], unique=False)

    op.create_table('tranches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('award_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('share_pct', core.db.Fixed(precision=5, scale=2), nullable=False),
    sa.Column('trigger', sa.Enum('on_signing', 'midterm_passed', 'final_passed', name='tranchetrigger', native_enum=False, length=24), nullable=False),
    sa.Column('amount', core.db.Money(precision=14, scale=2), nullable=False),
    sa.Column('state', sa.Enum('planned', 'due', 'requested', 'approved', 'paid', 'cancelled', name='tranchestate', native_enum=False, length=16), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.CheckConstraint('amount > 0', name=op.f('ck_tranches_amount_positive')),
    sa.ForeignKeyConstraint(['award_id'], ['awards.id'], name=op.f('fk_tranches_award_id_awards'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tranches')),
    sa.UniqueConstraint('award_id', 'seq', name=op.f('uq_tranches_award_id_seq'))
    )
    with op.batch_alter_table('tranches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tranches_award_id'), ['award_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('tranches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tranches_award_id'))

    op.drop_table('tranches')
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_objections_centre_id'))
        batch_op.drop_index(batch_op.f('ix_objections_application_id'))

    op.drop_table('objections')
    with op.batch_alter_table('indicators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicators_application_id'))

    op.drop_table('indicators')
    op.drop_table('eligibility_checks')
    with op.batch_alter_table('budget_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_budget_lines_application_id'))

    op.drop_table('budget_lines')
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_awards_programme_id'))
        batch_op.drop_index(batch_op.f('ix_awards_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_awards_centre_id'))

    op.drop_table('awards')
    with op.batch_alter_table('application_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_events_application_id'))

    op.drop_table('application_events')
    with op.batch_alter_table('application_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_attachments_application_id'))

    op.drop_table('application_attachments')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_applications_state'))
        batch_op.drop_index('ix_applications_programme_state')
        batch_op.drop_index('ix_applications_org')
        batch_op.drop_index(batch_op.f('ix_applications_centre_id'))

    op.drop_table('applications')
    with op.batch_alter_table('programme_topics', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_topics_programme_id'))

    op.drop_table('programme_topics')
    with op.batch_alter_table('tranche_plan_rows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tranche_plan_rows_programme_id'))

    op.drop_table('tranche_plan_rows')
    with op.batch_alter_table('stored_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stored_files_sha256'))
        batch_op.drop_index(batch_op.f('ix_stored_files_centre_id'))

    op.drop_table('stored_files')
    with op.batch_alter_table('programme_categories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_categories_programme_id'))

    op.drop_table('programme_categories')
    with op.batch_alter_table('community_needs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_community_needs_centre_id'))

    op.drop_table('community_needs')
    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programmes_state'))
        batch_op.drop_index(batch_op.f('ix_programmes_centre_id'))

    op.drop_table('programmes')
    with op.batch_alter_table('calendar_days', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_days_year'))

    op.drop_table('calendar_days')
