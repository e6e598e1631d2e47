"""The applications list with their review scores, to Excel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.i18n import _
from core.workbook import ListSheet
from grants.applications.models import APPLICATION_STATE_LABELS, Application


def applications_xlsx(rows: Sequence[tuple[Any, ...]]) -> bytes:
    """Rows are (application, organisation name, programme name, category name)."""
    sheet = ListSheet(
        _("Applications"),
        [
            _("No."),
            _("Project title"),
            _("Applicant organisation"),
            _("Programme"),
            _("Category"),
            _("Community"),
            _("Status"),
            _("Requested (yuan)"),
            _("Co-funding (yuan)"),
            _("Total budget (yuan)"),
            _("Approved (yuan)"),
            _("Review score"),
            _("Rank"),
            _("Submitted on"),
        ],
        money=(7, 8, 9, 10),
        scores=(11,),
        widths=(8, 36, 28, 28, 14, 16, 12, 14, 14, 14, 14, 10, 8, 18),
    )
    for row in rows:
        application: Application = row[0]
        organisation, programme, category = row[1], row[2], row[3]
        sheet.append(
            [
                application.id,
                application.title,
                organisation,
                programme,
                category or "",
                application.target_community,
                _(APPLICATION_STATE_LABELS[application.state]),
                application.requested_amount,
                application.cofunding_amount,
                application.total_budget,
                application.approved_amount,
                application.review_score,
                application.rank,
                application.submitted_at,
            ]
        )
    return sheet.bytes()
