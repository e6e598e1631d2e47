"""money

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 04:56:53.130610
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('idempotency_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('method_path', sa.String(length=300), nullable=False),
    sa.Column('body_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_idempotency_records_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_records')),
    sa.UniqueConstraint('user_id', 'key', name=op.f('uq_idempotency_records_user_id_key'))
    )
    op.create_table('contracts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('purchaser', sa.String(length=200), nullable=False),
    sa.Column('purchaser_uscc', sa.String(length=18), nullable=True),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('service_category', sa.String(length=40), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('procurement_method', sa.Enum('open_tender', 'invited_tender', 'competitive_negotiation', 'competitive_consultation', 'single_source', 'inquiry', name='procurementmethod', native_enum=False, length=32), nullable=False),
    sa.Column('amount', core.db.Money(precision=14, scale=2), nullable=False),
    sa.Column('paid', core.db.Money(precision=14, scale=2), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('state', sa.Enum('draft', 'signed', 'in_service', 'under_evaluation', 'completed', 'terminated', name='contractstate', native_enum=False, length=24), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=True),
    sa.Column('started_on', sa.Date(), nullable=True),
    sa.Column('full_payment_from', core.db.Fixed(precision=5, scale=2), nullable=False),
    sa.Column('pro_rata_from', core.db.Fixed(precision=5, scale=2), nullable=False),
    sa.Column('evaluation_score', core.db.Fixed(precision=6, scale=2), nullable=True),
    sa.Column('payment_factor', core.db.Fixed(precision=6, scale=4), nullable=True),
    sa.Column('evaluated_on', sa.Date(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('termination_reason', sa.Text(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_contracts_amount_positive')),
    sa.CheckConstraint('paid >= 0 AND paid <= amount', name=op.f('ck_contracts_paid_within_amount')),
    sa.CheckConstraint('pro_rata_from < full_payment_from', name=op.f('ck_contracts_rule_order')),
    sa.CheckConstraint('starts_on <= ends_on', name=op.f('ck_contracts_term_order')),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_contracts_centre_id_centres')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_contracts_created_by_users')),
    sa.ForeignKeyConstraint(['provider_id'], ['organisations.id'], name=op.f('fk_contracts_provider_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contracts'))
    )
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contracts_centre_id'), ['centre_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contracts_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contracts_state'), ['state'], unique=False)

    op.create_table('contract_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('from_state', sa.String(length=24), nullable=True),
    sa.Column('to_state', sa.String(length=24), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_contract_events_contract_id_contracts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_events'))
    )
    with op.batch_alter_table('contract_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_events_contract_id'), ['contract_id'], unique=False)

    op.create_table('contract_indicators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('target', core.db.Fixed(precision=12, scale=2), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('actual', core.db.Fixed(precision=12, scale=2), nullable=True),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_contract_indicators_contract_id_contracts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_indicators')),
    sa.UniqueConstraint('contract_id', 'seq', name=op.f('uq_contract_indicators_contract_id_seq'))
    )
    with op.batch_alter_table('contract_indicators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_indicators_contract_id'), ['contract_id'], unique=False)

    op.create_table('contract_milestones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('share_pct', core.db.Fixed(precision=5, scale=2), nullable=False),
    sa.Column('condition', sa.Enum('on_signing', 'on_start', 'on_evaluation', name='milestonecondition', native_enum=False, length=24), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('amount', core.db.Money(precision=14, scale=2), nullable=False),
    sa.Column('payable', core.db.Money(precision=14, scale=2), nullable=True),
    sa.Column('state', sa.Enum('planned', 'due', 'requested', 'approved', 'paid', 'withheld', 'cancelled', name='milestonestate', native_enum=False, length=16), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.CheckConstraint('amount > 0', name=op.f('ck_contract_milestones_amount_positive')),
    sa.CheckConstraint('payable IS NULL OR (payable >= 0 AND payable <= amount)', name=op.f('ck_contract_milestones_payable_range')),
    sa.CheckConstraint('share_pct > 0', name=op.f('ck_contract_milestones_share_positive')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_contract_milestones_contract_id_contracts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_milestones')),
    sa.UniqueConstraint('contract_id', 'seq', name=op.f('uq_contract_milestones_contract_id_seq'))
    )
    with op.batch_alter_table('contract_milestones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_milestones_contract_id'), ['contract_id'], unique=False)

    op.create_table('award_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('award_id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('agreement', 'receipt', 'other', name='documentkind', native_enum=False, length=16), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['award_id'], ['awards.id'], name=op.f('fk_award_documents_award_id_awards'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['file_id'], ['stored_files.id'], name=op.f('fk_award_documents_file_id_stored_files')),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_award_documents_uploaded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_award_documents'))
    )
    with op.batch_alter_table('award_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_award_documents_award_id'), ['award_id'], unique=False)

    op.create_table('award_evaluations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('award_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Enum('midterm', 'final', name='evaluationpurpose', native_enum=False, length=16), nullable=False),
    sa.Column('grade', sa.String(length=16), nullable=False),
    sa.Column('total', core.db.Fixed(precision=6, scale=2), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('recorded_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['award_id'], ['awards.id'], name=op.f('fk_award_evaluations_award_id_awards'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_award_evaluations'))
    )
    with op.batch_alter_table('award_evaluations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_award_evaluations_award_id'), ['award_id'], unique=False)

    op.create_table('award_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('award_id', sa.Integer(), nullable=False),
    sa.Column('at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.ForeignKeyConstraint(['award_id'], ['awards.id'], name=op.f('fk_award_events_award_id_awards'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_award_events'))
    )
    with op.batch_alter_table('award_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_award_events_award_id'), ['award_id'], unique=False)

    op.create_table('clawbacks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('award_id', sa.Integer(), nullable=False),
    sa.Column('paid', core.db.Money(precision=14, scale=2), nullable=False),
    sa.Column('spent', core.db.Money(precision=14, scale=2), nullable=False),
    sa.Column('amount', core.db.Money(precision=14, scale=2), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('barred_until', sa.Date(), nullable=True),
    sa.Column('recorded_by', sa.String(length=254), nullable=False),
    sa.Column('recorded_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_clawbacks_amount_not_negative')),
    sa.ForeignKeyConstraint(['award_id'], ['awards.id'], name=op.f('fk_clawbacks_award_id_awards'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clawbacks')),
    sa.UniqueConstraint('award_id', name=op.f('uq_clawbacks_award_id'))
    )
    op.create_table('expense_claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('award_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.Enum('personnel', 'activities', 'materials', 'venue', 'publicity', 'management', 'other', name='budgetcategory', native_enum=False, length=16), nullable=False),
    sa.Column('item', sa.String(length=200), nullable=False),
    sa.Column('amount', core.db.Money(precision=14, scale=2), nullable=False),
    sa.Column('spent_on', sa.Date(), nullable=False),
    sa.Column('state', sa.Enum('submitted', 'returned', 'approved', name='reviewstate', native_enum=False, length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('submitted_by', sa.Integer(), nullable=True),
    sa.Column('submitted_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reviewed_by', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('review_comment', sa.Text(), nullable=True),
    sa.CheckConstraint('amount > 0', name=op.f('ck_expense_claims_amount_positive')),
    sa.ForeignKeyConstraint(['award_id'], ['awards.id'], name=op.f('fk_expense_claims_award_id_awards'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewed_by'], ['users.id'], name=op.f('fk_expense_claims_reviewed_by_users')),
    sa.ForeignKeyConstraint(['submitted_by'], ['users.id'], name=op.f('fk_expense_claims_submitted_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expense_claims'))
    )
    with op.batch_alter_table('expense_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expense_claims_award_id'), ['award_id'], unique=False)

    op.create_table('progress_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('award_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=100), nullable=False),
    sa.Column('narrative', sa.Text(), nullable=False),
    sa.Column('state', sa.Enum('submitted', 'returned', 'approved', name='reviewstate', native_enum=False, length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('submitted_by', sa.Integer(), nullable=True),
    sa.Column('submitted_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reviewed_by', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('review_comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['award_id'], ['awards.id'], name=op.f('fk_progress_reports_award_id_awards'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewed_by'], ['users.id'], name=op.f('fk_progress_reports_reviewed_by_users')),
    sa.ForeignKeyConstraint(['submitted_by'], ['users.id'], name=op.f('fk_progress_reports_submitted_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_progress_reports'))
    )
    with op.batch_alter_table('progress_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_progress_reports_award_id'), ['award_id'], unique=False)

    op.create_table('rectifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('award_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Enum('midterm', 'final', name='evaluationpurpose', native_enum=False, length=16), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('state', sa.Enum('open', 'passed', 'terminated', name='rectificationstate', native_enum=False, length=16), nullable=False),
    sa.Column('opened_by', sa.String(length=254), nullable=False),
    sa.Column('opened_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['award_id'], ['awards.id'], name=op.f('fk_rectifications_award_id_awards'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectifications'))
    )
    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rectifications_award_id'), ['award_id'], unique=False)

    op.create_table('award_agreements',
    sa.Column('award_id', sa.Integer(), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('signed_by', sa.Integer(), nullable=True),
    sa.Column('recorded_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['award_id'], ['awards.id'], name=op.f('fk_award_agreements_award_id_awards'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['document_id'], ['award_documents.id'], name=op.f('fk_award_agreements_document_id_award_documents')),
    sa.ForeignKeyConstraint(['signed_by'], ['users.id'], name=op.f('fk_award_agreements_signed_by_users')),
    sa.PrimaryKeyConstraint('award_id', name=op.f('pk_award_agreements'))
    )
    op.create_table('disbursements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('award_id', sa.Integer(), nullable=True),
    sa.Column('tranche_id', sa.Integer(), nullable=True),
    sa.Column('contract_id', sa.Integer(), nullable=True),
    sa.Column('milestone_id', sa.Integer(), nullable=True),
    sa.Column('payee_organisation_id', sa.Integer(), nullable=False),
    sa.Column('amount', core.db.Money(precision=14, scale=2), nullable=False),
    sa.Column('state', sa.Enum('requested', 'approved', 'rejected', 'paid', name='disbursementstate', native_enum=False, length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=False),
    sa.Column('requested_by_name', sa.String(length=254), nullable=False),
    sa.Column('requested_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('approved_by', sa.Integer(), nullable=True),
    sa.Column('rejected_by', sa.Integer(), nullable=True),
    sa.Column('decided_by_name', sa.String(length=254), nullable=True),
    sa.Column('decided_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reject_reason', sa.Text(), nullable=True),
    sa.Column('voucher_no', sa.String(length=60), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('paid_amount', core.db.Money(precision=14, scale=2), nullable=True),
    sa.Column('paid_by', sa.Integer(), nullable=True),
    sa.Column('paid_recorded_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('(tranche_id IS NOT NULL AND milestone_id IS NULL) OR (tranche_id IS NULL AND milestone_id IS NOT NULL)', name=op.f('ck_disbursements_one_target')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_disbursements_amount_positive')),
    sa.CheckConstraint('approved_by IS NULL OR approved_by <> requested_by', name=op.f('ck_disbursements_maker_checker')),
    sa.CheckConstraint('rejected_by IS NULL OR rejected_by <> requested_by', name=op.f('ck_disbursements_maker_checker_reject')),
    sa.ForeignKeyConstraint(['approved_by'], ['users.id'], name=op.f('fk_disbursements_approved_by_users')),
    sa.ForeignKeyConstraint(['award_id'], ['awards.id'], name=op.f('fk_disbursements_award_id_awards')),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_disbursements_centre_id_centres')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_disbursements_contract_id_contracts')),
    sa.ForeignKeyConstraint(['milestone_id'], ['contract_milestones.id'], name=op.f('fk_disbursements_milestone_id_contract_milestones')),
    sa.ForeignKeyConstraint(['paid_by'], ['users.id'], name=op.f('fk_disbursements_paid_by_users')),
    sa.ForeignKeyConstraint(['payee_organisation_id'], ['organisations.id'], name=op.f('fk_disbursements_payee_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['rejected_by'], ['users.id'], name=op.f('fk_disbursements_rejected_by_users')),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_disbursements_requested_by_users')),
    sa.ForeignKeyConstraint(['tranche_id'], ['tranches.id'], name=op.f('fk_disbursements_tranche_id_tranches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disbursements')),
    sa.UniqueConstraint('centre_id', 'voucher_no', name=op.f('uq_disbursements_centre_id_voucher_no'))
    )
    with op.batch_alter_table('disbursements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disbursements_award_id'), ['award_id'], unique=False)
        batch_op.create_index('ix_disbursements_centre_state', ['centre_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_disbursements_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index('uq_disbursements_live_milestone', ['milestone_id'], unique=True, sqlite_where=sa.text("state <> 'rejected' AND milestone_id IS NOT NULL"), postgresql_where=sa.text("state <> 'rejected' AND milestone_id IS NOT NULL"))
        batch_op.create_index('uq_disbursements_live_tranche', ['tranche_id'], unique=True, sqlite_where=sa.text("state <> 'rejected' AND tranche_id IS NOT NULL"), postgresql_where=sa.text("state <> 'rejected' AND tranche_id IS NOT NULL"))

    op.create_table('expense_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['expense_claims.id'], name=op.f('fk_expense_receipts_claim_id_expense_claims'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['document_id'], ['award_documents.id'], name=op.f('fk_expense_receipts_document_id_award_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expense_receipts')),
    sa.UniqueConstraint('claim_id', 'document_id', name=op.f('uq_expense_receipts_claim_id_document_id'))
    )
    op.create_table('indicator_actuals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('actual', core.db.Fixed(precision=12, scale=2), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_indicator_actuals_indicator_id_indicators')),
    sa.ForeignKeyConstraint(['report_id'], ['progress_reports.id'], name=op.f('fk_indicator_actuals_report_id_progress_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_actuals')),
    sa.UniqueConstraint('report_id', 'indicator_id', name=op.f('uq_indicator_actuals_report_id_indicator_id'))
    )


def downgrade() -> None:
    op.drop_table('indicator_actuals')
    op.drop_table('expense_receipts')
    with op.batch_alter_table('disbursements', schema=None) as batch_op:
        batch_op.drop_index('uq_disbursements_live_tranche', sqlite_where=sa.text("state <> 'rejected' AND tranche_id IS NOT NULL"), postgresql_where=sa.text("state <> 'rejected' AND tranche_id IS NOT NULL"))
        batch_op.drop_index('uq_disbursements_live_milestone', sqlite_where=sa.text("state <> 'rejected' AND milestone_id IS NOT NULL"), postgresql_where=sa.text("state <> 'rejected' AND milestone_id IS NOT NULL"))
        batch_op.drop_index(batch_op.f('ix_disbursements_contract_id'))
        batch_op.drop_index('ix_disbursements_centre_state')
        batch_op.drop_index(batch_op.f('ix_disbursements_award_id'))

    op.drop_table('disbursements')
    op.drop_table('award_agreements')
    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rectifications_award_id'))

    op.drop_table('rectifications')
    with op.batch_alter_table('progress_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_progress_reports_award_id'))

    op.drop_table('progress_reports')
    with op.batch_alter_table('expense_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_expense_claims_award_id'))

    op.drop_table('expense_claims')
    op.drop_table('clawbacks')
    with op.batch_alter_table('award_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_award_events_award_id'))

    op.drop_table('award_events')
    with op.batch_alter_table('award_evaluations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_award_evaluations_award_id'))

    op.drop_table('award_evaluations')
    with op.batch_alter_table('award_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_award_documents_award_id'))

    op.drop_table('award_documents')
    with op.batch_alter_table('contract_milestones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_milestones_contract_id'))

    op.drop_table('contract_milestones')
    with op.batch_alter_table('contract_indicators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_indicators_contract_id'))

    op.drop_table('contract_indicators')
    with op.batch_alter_table('contract_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_events_contract_id'))

    op.drop_table('contract_events')
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contracts_state'))
        batch_op.drop_index(batch_op.f('ix_contracts_provider_id'))
        batch_op.drop_index(batch_op.f('ix_contracts_centre_id'))

    op.drop_table('contracts')
    op.drop_table('idempotency_records')
