"""Receipts and allocations of the centre's funds to Excel, for finance."""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import _
from core.identity.principal import Principal
from funds import repository as money
from funds import service as funds
from funds.models import (
    ALLOCATION_STATE_LABELS,
    PURPOSE_LABELS,
    SOURCE_LABELS,
    TARGET_LABELS,
    Fund,
    FundAllocation,
    FundReceipt,
)


def _scope(principal: Principal) -> int | None:
    return None if principal.sees_all_centres else principal.centre_id


def _workbook(title: str, header: list[str], rows: list[list[object]], money_columns: Sequence[int]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for column in money_columns:
        for cells in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
            for cell in cells:
                cell.number_format = "#,##0.00"
    for index, _name in enumerate(header):
        sheet.column_dimensions[chr(ord("A") + index)].width = 16
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def receipts_xlsx(session: AsyncSession, principal: Principal) -> bytes:
    """Every receipt with the donor's real name (finance needs it; the public page does not)."""
    funds.require_reader(principal)
    found: Sequence[tuple[FundReceipt, Fund]] = await money.fund_receipts_for_export(
        session, _scope(principal)
    )
    total = sum((r.amount for r, _f in found), Decimal("0.00"))
    rows: list[list[object]] = [
        [
            f.name,
            r.received_on.isoformat(),
            _(SOURCE_LABELS[r.source]),
            r.donor_name,
            _("Yes") if r.publish_donor else _("No"),
            r.amount,
            r.receipt_no or "",
            r.in_kind_items,
            r.valuation_basis,
            r.id,
        ]
        for r, f in found
    ]
    rows.append(["", "", "", _("Total"), "", total])
    header = [
        _("Fund"),
        _("Date received"),
        _("Source"),
        _("Donor"),
        _("May be published"),
        _("Amount (yuan)"),
        _("Receipt number"),
        _("In-kind items"),
        _("Valuation basis"),
        _("Receipt"),
    ]
    return _workbook(_("Receipts into the fund"), header, rows, [6])


async def allocations_xlsx(session: AsyncSession, principal: Principal) -> bytes:
    funds.require_reader(principal)
    found: Sequence[tuple[FundAllocation, Fund]] = await money.fund_allocations_for_export(
        session, _scope(principal)
    )
    rows: list[list[object]] = [
        [
            f.name,
            a.requested_at.date().isoformat(),
            a.title,
            _(TARGET_LABELS[a.target]),
            a.programme_id or a.award_id or a.contract_id or "",
            _(PURPOSE_LABELS[a.purpose]),
            a.amount,
            a.returned,
            _(ALLOCATION_STATE_LABELS[a.state]),
            a.requested_by_name,
            a.voucher_no or "",
            a.paid_on.isoformat() if a.paid_on else "",
            a.id,
        ]
        for a, f in found
    ]
    header = [
        _("Fund"),
        _("Requested on"),
        _("Title"),
        _("Goes to"),
        _("Record number"),
        _("Purpose"),
        _("Amount (yuan)"),
        _("Returned (yuan)"),
        _("Status"),
        _("Requested by"),
        _("Voucher number"),
        _("Paid on"),
        _("Allocation"),
    ]
    return _workbook(_("Allocations"), header, rows, [7, 8])
