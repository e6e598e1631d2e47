"""Excel export of the organisation list, with headers in the user's language."""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from core.i18n import _
from incubator.models import FIELD_LABELS, KIND_LABELS, LEGAL_LABELS, STAY_LABELS, Organisation, ServiceField


def _text(value: str) -> str:
    """Text as a worksheet accepts it: control characters dropped."""
    return ILLEGAL_CHARACTERS_RE.sub("", value)


def organisations_xlsx(organisations: Sequence[Organisation]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = _("Organisations")[:31]
    headers = [
        _("Name"),
        _("Kind"),
        _("Legal status"),
        _("Unified social credit code"),
        _("Service fields"),
        _("Community"),
        _("Street"),
        _("Contact person"),
        _("Founded"),
        _("Staff"),
        _("Volunteers"),
        _("Incubation"),
        _("Verified"),
        _("Barred until"),
    ]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for org in organisations:
        # Phone numbers and emails are personal data: not exported (PIPL, collect the minimum).
        sheet.append(
            [
                _text(org.name),
                _(KIND_LABELS[org.kind]),
                _(LEGAL_LABELS[org.legal_status]),
                org.uscc or "",
                "、".join(_(FIELD_LABELS[ServiceField(f)]) for f in org.service_fields),
                _text(org.community),
                _text(org.street),
                _text(org.contact_name),
                org.founded_on.isoformat() if org.founded_on else "",
                org.staff_count,
                org.volunteer_count,
                _(STAY_LABELS[org.incubation_state]) if org.incubation_state else "",
                _("Yes") if org.verified else _("No"),
                org.barred_until.isoformat() if org.barred_until else "",
            ]
        )
        for cell in sheet[sheet.max_row]:
            if cell.data_type == "f":  # a name such as "=HYPERLINK(...)" stays text, never a formula
                cell.data_type = "s"
    for column, width in zip(
        "ABCDEFGHIJKLMN", [30, 16, 12, 22, 24, 14, 14, 12, 12, 8, 10, 10, 8, 12], strict=True
    ):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
