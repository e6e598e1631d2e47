"""The review summary of a closed round (评审汇总表) to Excel: each subject, each evaluator's
total, the mean, the final score, the rank within its category and the grade."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import _
from core.identity.principal import Principal
from core.workbook import ListSheet
from evaluations.assignments import repository as assignment_queries
from evaluations.results import service as result_service
from evaluations.results.schemas import SubjectResult
from evaluations.rounds import service as round_service
from evaluations.sheets import repository as sheet_queries


@dataclass(frozen=True)
class ReviewSummary:
    round_name: str
    evaluators: list[tuple[int, str]]
    subjects: list[tuple[SubjectResult, dict[int, Decimal]]]


async def review_summary(session: AsyncSession, principal: Principal, round_id: int) -> ReviewSummary:
    """Results of a closed round with each evaluator's total (409 while the round is open)."""
    review_round = await round_service.get_round_alone(session, principal, round_id)
    results = await result_service.results(session, principal, round_id)
    totals: dict[int, dict[int, Decimal]] = {}
    for subject_id, evaluator_id, total in await sheet_queries.expert_sheet_totals(session, review_round.id):
        totals.setdefault(subject_id, {})[evaluator_id] = total
    ids = sorted({e for by_evaluator in totals.values() for e in by_evaluator})
    users = await assignment_queries.users_by_id(session, ids)
    evaluators = sorted(
        ((i, (users[i].full_name or users[i].email) if i in users else str(i)) for i in ids),
        key=lambda pair: (pair[1], pair[0]),
    )
    return ReviewSummary(
        round_name=review_round.name,
        evaluators=evaluators,
        subjects=[(s, totals.get(s.subject_id, {})) for s in results.subjects],
    )


def review_summary_xlsx(summary: ReviewSummary) -> bytes:
    names = [name for _id, name in summary.evaluators]
    first_score = 4
    headers = [
        _("Category"),
        _("Rank in category"),
        _("No."),
        _("Project title"),
        *[_("{name} (total)").format(name=name) for name in names],
        _("Sheets"),
        _("Mean"),
        _("Trimmed mean"),
        _("Final score"),
        _("Grade"),
    ]
    n = len(names)
    sheet = ListSheet(
        _("Review summary"),
        headers,
        scores=[
            *range(first_score, first_score + n),
            first_score + n + 1,
            first_score + n + 2,
            first_score + n + 3,
        ],
        widths=(14, 10, 8, 36, *([12] * n), 8, 10, 12, 10, 10),
        caption=_("Review summary: {round}").format(round=summary.round_name),
    )
    for result, totals in summary.subjects:
        sheet.append(
            [
                result.category,
                result.rank_in_category,
                result.subject_ref,
                result.title,
                *[totals.get(evaluator_id) for evaluator_id, _name in summary.evaluators],
                result.expert_sheets,
                result.mean,
                result.trimmed_mean,
                result.final_score,
                result.grade_label or "",
            ]
        )
    return sheet.bytes()
