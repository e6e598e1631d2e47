"""evaluations

Revision ID: 0002
Revises: 0006
Create Date: 2026-11-23 04:32:20.840766
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = '0002'
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rubrics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.Enum('application_review', 'midterm', 'final', 'contract_performance', 'capacity', name='roundpurpose', native_enum=False, length=32), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_rubrics_centre_id_centres')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rubrics'))
    )
    with op.batch_alter_table('rubrics', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rubrics_centre_id'), ['centre_id'], unique=False)

    op.create_table('evaluator_conflicts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('evaluator_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_evaluator_conflicts_centre_id_centres')),
    sa.ForeignKeyConstraint(['evaluator_id'], ['users.id'], name=op.f('fk_evaluator_conflicts_evaluator_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluator_conflicts')),
    sa.UniqueConstraint('evaluator_id', 'organisation_id', name=op.f('uq_evaluator_conflicts_evaluator_id_organisation_id'))
    )
    with op.batch_alter_table('evaluator_conflicts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluator_conflicts_centre_id'), ['centre_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evaluator_conflicts_evaluator_id'), ['evaluator_id'], unique=False)

    op.create_table('rubric_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('rubric_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('criteria', sa.JSON(), nullable=False),
    sa.Column('bands', sa.JSON(), nullable=False),
    sa.Column('frozen', sa.Boolean(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_rubric_versions_centre_id_centres')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_rubric_versions_created_by_users')),
    sa.ForeignKeyConstraint(['rubric_id'], ['rubrics.id'], name=op.f('fk_rubric_versions_rubric_id_rubrics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rubric_versions')),
    sa.UniqueConstraint('rubric_id', 'number', name=op.f('uq_rubric_versions_rubric_id_number'))
    )
    with op.batch_alter_table('rubric_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rubric_versions_centre_id'), ['centre_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rubric_versions_rubric_id'), ['rubric_id'], unique=False)

    op.create_table('review_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.Enum('application_review', 'midterm', 'final', 'contract_performance', 'capacity', name='roundpurpose', native_enum=False, length=32), nullable=False),
    sa.Column('rubric_version_id', sa.Integer(), nullable=False),
    sa.Column('min_sheets_per_subject', sa.Integer(), nullable=False),
    sa.Column('max_per_evaluator', sa.Integer(), nullable=True),
    sa.Column('blind', sa.Boolean(), nullable=False),
    sa.Column('spread_threshold', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('expert_weight', sa.Integer(), nullable=False),
    sa.Column('public_weight', sa.Integer(), nullable=False),
    sa.Column('due_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('state', sa.Enum('open', 'closed', name='roundstate', native_enum=False, length=16), nullable=False),
    sa.Column('closed_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('programme_budget', core.db.Money(precision=14, scale=2), nullable=True),
    sa.Column('category_budgets', sa.JSON(), nullable=False),
    sa.Column('agreement', sa.JSON(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('expert_weight + public_weight = 100', name=op.f('ck_review_rounds_weights_add_up')),
    sa.CheckConstraint('min_sheets_per_subject >= 1', name=op.f('ck_review_rounds_min_sheets_positive')),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_review_rounds_centre_id_centres')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_review_rounds_created_by_users')),
    sa.ForeignKeyConstraint(['rubric_version_id'], ['rubric_versions.id'], name=op.f('fk_review_rounds_rubric_version_id_rubric_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_rounds'))
    )
    with op.batch_alter_table('review_rounds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_rounds_centre_id'), ['centre_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_rounds_rubric_version_id'), ['rubric_version_id'], unique=False)

    op.create_table('round_subjects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('subject_type', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('requested_amount', core.db.Money(precision=14, scale=2), nullable=True),
    sa.Column('display', sa.JSON(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('final_score', sa.Numeric(precision=6, scale=2), nullable=True),
    sa.Column('grade', sa.String(length=16), nullable=True),
    sa.Column('rank_in_category', sa.Integer(), nullable=True),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.Column('stats', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_round_subjects_centre_id_centres')),
    sa.ForeignKeyConstraint(['round_id'], ['review_rounds.id'], name=op.f('fk_round_subjects_round_id_review_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round_subjects')),
    sa.UniqueConstraint('round_id', 'subject_type', 'subject_id', name=op.f('uq_round_subjects_round_id_subject_type_subject_id'))
    )
    with op.batch_alter_table('round_subjects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_subjects_centre_id'), ['centre_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_round_subjects_round_id'), ['round_id'], unique=False)

    op.create_table('assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('evaluator_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('pending', 'active', 'conflict', name='assignmentstate', native_enum=False, length=16), nullable=False),
    sa.Column('conflict_reason', sa.String(length=500), nullable=True),
    sa.Column('declared_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('assigned_by', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assigned_by'], ['users.id'], name=op.f('fk_assignments_assigned_by_users')),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_assignments_centre_id_centres')),
    sa.ForeignKeyConstraint(['evaluator_id'], ['users.id'], name=op.f('fk_assignments_evaluator_id_users')),
    sa.ForeignKeyConstraint(['round_id'], ['review_rounds.id'], name=op.f('fk_assignments_round_id_review_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subject_id'], ['round_subjects.id'], name=op.f('fk_assignments_subject_id_round_subjects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignments')),
    sa.UniqueConstraint('subject_id', 'evaluator_id', name=op.f('uq_assignments_subject_id_evaluator_id'))
    )
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignments_centre_id'), ['centre_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignments_evaluator_id'), ['evaluator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignments_round_id'), ['round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignments_subject_id'), ['subject_id'], unique=False)

    op.create_table('jury_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('used_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_jury_codes_centre_id_centres')),
    sa.ForeignKeyConstraint(['round_id'], ['review_rounds.id'], name=op.f('fk_jury_codes_round_id_review_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subject_id'], ['round_subjects.id'], name=op.f('fk_jury_codes_subject_id_round_subjects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jury_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_jury_codes_code_hash'))
    )
    with op.batch_alter_table('jury_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jury_codes_centre_id'), ['centre_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jury_codes_round_id'), ['round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jury_codes_subject_id'), ['subject_id'], unique=False)

    op.create_table('recommendation_adjustments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('recommended', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('adjusted_by', sa.Integer(), nullable=True),
    sa.Column('adjusted_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['adjusted_by'], ['users.id'], name=op.f('fk_recommendation_adjustments_adjusted_by_users')),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_recommendation_adjustments_centre_id_centres')),
    sa.ForeignKeyConstraint(['round_id'], ['review_rounds.id'], name=op.f('fk_recommendation_adjustments_round_id_review_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subject_id'], ['round_subjects.id'], name=op.f('fk_recommendation_adjustments_subject_id_round_subjects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recommendation_adjustments')),
    sa.UniqueConstraint('subject_id', name=op.f('uq_recommendation_adjustments_subject_id'))
    )
    with op.batch_alter_table('recommendation_adjustments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recommendation_adjustments_centre_id'), ['centre_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recommendation_adjustments_round_id'), ['round_id'], unique=False)

    op.create_table('score_sheets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=True),
    sa.Column('jury_code_id', sa.Integer(), nullable=True),
    sa.Column('evaluator_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('expert', 'public', name='sheetkind', native_enum=False, length=16), nullable=False),
    sa.Column('state', sa.Enum('draft', 'submitted', name='sheetstate', native_enum=False, length=16), nullable=False),
    sa.Column('total', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('submitted_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(assignment_id IS NULL) <> (jury_code_id IS NULL)', name=op.f('ck_score_sheets_expert_or_public')),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], name=op.f('fk_score_sheets_assignment_id_assignments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_score_sheets_centre_id_centres')),
    sa.ForeignKeyConstraint(['evaluator_id'], ['users.id'], name=op.f('fk_score_sheets_evaluator_id_users')),
    sa.ForeignKeyConstraint(['jury_code_id'], ['jury_codes.id'], name=op.f('fk_score_sheets_jury_code_id_jury_codes')),
    sa.ForeignKeyConstraint(['round_id'], ['review_rounds.id'], name=op.f('fk_score_sheets_round_id_review_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subject_id'], ['round_subjects.id'], name=op.f('fk_score_sheets_subject_id_round_subjects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_sheets')),
    sa.UniqueConstraint('assignment_id', name=op.f('uq_score_sheets_assignment_id')),
    sa.UniqueConstraint('jury_code_id', name=op.f('uq_score_sheets_jury_code_id'))
    )
    with op.batch_alter_table('score_sheets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_score_sheets_centre_id'), ['centre_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_score_sheets_evaluator_id'), ['evaluator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_score_sheets_round_id'), ['round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_score_sheets_subject_id'), ['subject_id'], unique=False)

    op.create_table('score_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sheet_id', sa.Integer(), nullable=False),
    sa.Column('criterion_key', sa.String(length=40), nullable=False),
    sa.Column('score', sa.Numeric(precision=6, scale=2), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['sheet_id'], ['score_sheets.id'], name=op.f('fk_score_items_sheet_id_score_sheets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_items')),
    sa.UniqueConstraint('sheet_id', 'criterion_key', name=op.f('uq_score_items_sheet_id_criterion_key'))
    )
    with op.batch_alter_table('score_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_score_items_sheet_id'), ['sheet_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('score_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_score_items_sheet_id'))

    op.drop_table('score_items')
    with op.batch_alter_table('score_sheets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_score_sheets_subject_id'))
        batch_op.drop_index(batch_op.f('ix_score_sheets_round_id'))
        batch_op.drop_index(batch_op.f('ix_score_sheets_evaluator_id'))
        batch_op.drop_index(batch_op.f('ix_score_sheets_centre_id'))

    op.drop_table('score_sheets')
    with op.batch_alter_table('recommendation_adjustments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recommendation_adjustments_round_id'))
        batch_op.drop_index(batch_op.f('ix_recommendation_adjustments_centre_id'))

    op.drop_table('recommendation_adjustments')
    with op.batch_alter_table('jury_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jury_codes_subject_id'))
        batch_op.drop_index(batch_op.f('ix_jury_codes_round_id'))
        batch_op.drop_index(batch_op.f('ix_jury_codes_centre_id'))

    op.drop_table('jury_codes')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignments_subject_id'))
        batch_op.drop_index(batch_op.f('ix_assignments_round_id'))
        batch_op.drop_index(batch_op.f('ix_assignments_evaluator_id'))
        batch_op.drop_index(batch_op.f('ix_assignments_centre_id'))

    op.drop_table('assignments')
    with op.batch_alter_table('round_subjects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_round_subjects_round_id'))
        batch_op.drop_index(batch_op.f('ix_round_subjects_centre_id'))

    op.drop_table('round_subjects')
    with op.batch_alter_table('review_rounds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_rounds_rubric_version_id'))
        batch_op.drop_index(batch_op.f('ix_review_rounds_centre_id'))

    op.drop_table('review_rounds')
    with op.batch_alter_table('rubric_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rubric_versions_rubric_id'))
        batch_op.drop_index(batch_op.f('ix_rubric_versions_centre_id'))

    op.drop_table('rubric_versions')
    with op.batch_alter_table('evaluator_conflicts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evaluator_conflicts_evaluator_id'))
        batch_op.drop_index(batch_op.f('ix_evaluator_conflicts_centre_id'))

    op.drop_table('evaluator_conflicts')
    with op.batch_alter_table('rubrics', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rubrics_centre_id'))

    op.drop_table('rubrics')
