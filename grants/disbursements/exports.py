"""Payments and the disbursements list to Excel for finance."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import _
from core.identity.principal import Principal
from core.workbook import ListSheet
from grants.disbursements import repository as queries
from grants.disbursements.models import DISBURSEMENT_STATE_LABELS, Disbursement
from grants.disbursements.service import paid_disbursements


@dataclass(frozen=True)
class PaymentRow:
    disbursement: Disbursement
    payee: str
    subject: str
    kind: str


async def payment_rows(session: AsyncSession, principal: Principal) -> list[PaymentRow]:
    payments = await paid_disbursements(session, principal)
    org_ids = {p.payee_organisation_id for p in payments}
    award_ids = {p.award_id for p in payments if p.award_id}
    contract_ids = {p.contract_id for p in payments if p.contract_id}
    orgs, awards, contracts, seqs = await queries.payment_names(session, org_ids, award_ids, contract_ids)
    rows = []
    for p in payments:
        if p.award_id is not None:
            subject = f"{awards.get(p.award_id, '')} · " + _("Tranche {seq}").format(
                seq=seqs.get(p.tranche_id or 0, "")
            )
            kind = _("Venture grant")
        else:
            subject = contracts.get(p.contract_id or 0, "")
            kind = _("Purchased service")
        rows.append(PaymentRow(p, orgs.get(p.payee_organisation_id, ""), subject, kind))
    return rows


def payments_xlsx(rows: Sequence[PaymentRow]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = _("Payments")[:31]
    sheet.append(
        [
            _("Payment date"),
            _("Voucher number"),
            _("Amount (yuan)"),
            _("Payee"),
            _("Paid for"),
            _("Kind"),
            _("Requested by"),
            _("Approved by"),
            _("Disbursement"),
        ]
    )
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    total = Decimal("0.00")
    for row in rows:
        d = row.disbursement
        amount = d.paid_amount or d.amount
        total += amount
        sheet.append(
            [
                d.paid_on.isoformat() if d.paid_on else "",
                d.voucher_no or "",
                amount,
                row.payee,
                row.subject,
                row.kind,
                d.requested_by_name,
                d.decided_by_name or "",
                d.id,
            ]
        )
    sheet.append(["", _("Total"), total])
    for row_cells in sheet.iter_rows(min_row=2, min_col=3, max_col=3):
        for cell in row_cells:
            cell.number_format = "#,##0.00"
    for column, width in zip("ABCDEFGHI", [12, 16, 14, 30, 40, 12, 14, 14, 10], strict=True):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def disbursements_xlsx(rows: Sequence[tuple[Any, ...]]) -> bytes:
    """The disbursements list to Excel; rows are (disbursement, payee, project or contract, tranche)."""
    sheet = ListSheet(
        _("Disbursements"),
        [
            _("No."),
            _("Requested on"),
            _("Payee"),
            _("Paid for"),
            _("Kind"),
            _("Status"),
            _("Amount (yuan)"),
            _("Paid (yuan)"),
            _("Payment date"),
            _("Voucher number"),
            _("Requested by"),
            _("Decided by"),
        ],
        money=(6, 7),
        widths=(8, 18, 28, 40, 12, 10, 14, 14, 12, 16, 14, 14),
    )
    for disbursement, payee, subject, seq in rows:
        d: Disbursement = disbursement
        if d.award_id is not None:
            paid_for = f"{subject or ''} · " + _("Tranche {seq}").format(seq=seq or "")
            kind = _("Venture grant")
        else:
            paid_for, kind = subject or "", _("Purchased service")
        sheet.append(
            [
                d.id,
                d.requested_at,
                payee,
                paid_for,
                kind,
                _(DISBURSEMENT_STATE_LABELS[d.state]),
                d.amount,
                d.paid_amount,
                d.paid_on,
                d.voucher_no or "",
                d.requested_by_name,
                d.decided_by_name or "",
            ]
        )
    return sheet.bytes()
