"""Project assessment report (项目评估报告) and contract performance report.

Both show the evaluation (scores by criterion, the experts' comments anonymised as
专家 A/B/C, total and grade), what was promised against what was delivered, and the money.
Reads grants (awards, contracts, payments) and evaluations.
"""

from __future__ import annotations

import string
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.db import utcnow
from core.errors import NotFound
from core.i18n import N_, _
from core.identity.models import Centre
from evaluations.rounds.models import ReviewRound, RoundState, RoundSubject
from evaluations.rubrics.models import PURPOSE_LABELS, RubricVersion
from evaluations.rubrics.schemas import GRADE_LABELS, GradeCode
from evaluations.rubrics.service import criteria_of
from evaluations.sheets.models import ScoreSheet, SheetKind, SheetState
from grants.applications.models import Indicator
from grants.awards.execution import award_execution
from grants.awards.models import (
    AWARD_STATE_LABELS,
    TRANCHE_STATE_LABELS,
    Award,
    ProgressReport,
    Rectification,
    ReviewState,
)
from grants.contracts.models import (
    CONDITION_LABELS,
    CONTRACT_STATE_LABELS,
    MILESTONE_STATE_LABELS,
    PROCUREMENT_LABELS,
    Contract,
)
from grants.programmes.models import TRIGGER_LABELS, Programme
from incubator.models import Organisation
from reports import charts
from reports.kinds import ReportKind, current_month, register_kind
from reports.models import ScopeType

AWARD_KIND = "project_assessment"
CONTRACT_KIND = "contract_performance"
CENT = Decimal("0.01")


async def evaluations_of(session: AsyncSession, subject_type: str, subject_ref: int) -> list[dict[str, Any]]:
    """Every closed evaluation of a subject: criteria means, anonymised comments, total, grade."""
    rows = (
        await session.execute(
            select(RoundSubject, ReviewRound)
            .join(ReviewRound, ReviewRound.id == RoundSubject.round_id)
            .where(
                RoundSubject.subject_type == subject_type,
                RoundSubject.subject_id == subject_ref,
                ReviewRound.state == RoundState.closed,
            )
            .order_by(ReviewRound.closed_at)
        )
    ).all()
    result: list[dict[str, Any]] = []
    for subject, review_round in rows:
        version = await session.get(RubricVersion, review_round.rubric_version_id)
        criteria = criteria_of(version) if version is not None else []
        sheets = (
            (
                await session.execute(
                    select(ScoreSheet)
                    .options(selectinload(ScoreSheet.items))
                    .where(
                        ScoreSheet.subject_id == subject.id,
                        ScoreSheet.state == SheetState.submitted,
                        ScoreSheet.kind == SheetKind.expert,
                    )
                    .order_by(ScoreSheet.id)
                )
            )
            .scalars()
            .all()
        )
        scores: dict[str, list[Decimal]] = defaultdict(list)
        comments: list[dict[str, str]] = []
        for index, sheet in enumerate(sheets):
            expert = _("Expert {letter}").format(letter=string.ascii_uppercase[index % 26])
            for item in sheet.items:
                if item.score is not None:
                    scores[item.criterion_key].append(item.score)
                if item.comment:
                    name = next((c.name for c in criteria if c.key == item.criterion_key), item.criterion_key)
                    comments.append({"expert": expert, "criterion": name, "comment": item.comment})
            if sheet.comment:
                comments.append({"expert": expert, "criterion": _("Overall"), "comment": sheet.comment})
        by_criterion: list[dict[str, Any]] = [
            {
                "name": c.name,
                "max": c.max_points,
                "mean": (sum(scores[c.key], Decimal(0)) / len(scores[c.key])).quantize(CENT)
                if scores[c.key]
                else None,
            }
            for c in criteria
        ]
        grade = GradeCode(subject.grade) if subject.grade else None
        result.append(
            {
                "purpose": _(PURPOSE_LABELS[review_round.purpose]),
                "closed_at": review_round.closed_at,
                "experts": len(sheets),
                "total": subject.final_score,
                "grade": _(GRADE_LABELS[grade]) if grade else "—",
                "passed": grade is not None and grade is not GradeCode.fail,
                "criteria": by_criterion,
                "comments": comments,
                "chart": charts.bar_chart(
                    _("Scores by criterion (percentage of maximum)"),
                    [c["name"] for c in by_criterion],
                    {
                        _("Score"): [
                            float(c["mean"] * 100 / c["max"]) if c["mean"] is not None else 0.0
                            for c in by_criterion
                        ]
                    },
                )
                if by_criterion
                else None,
            }
        )
    return result


async def award_centre(session: AsyncSession, award_id: int) -> int | None:
    award = await session.get(Award, award_id)
    return award.centre_id if award is not None else None


async def build_project_assessment(session: AsyncSession, award_id: int, period: str) -> dict[str, Any]:
    award = (
        await session.execute(select(Award).options(selectinload(Award.tranches)).where(Award.id == award_id))
    ).scalar_one_or_none()
    if award is None:
        raise NotFound(_("Award not found"))
    centre = await session.get(Centre, award.centre_id)
    org = await session.get(Organisation, award.organisation_id)
    programme = await session.get(Programme, award.programme_id)
    assert centre is not None
    assert org is not None
    assert programme is not None
    indicators = (
        (
            await session.execute(
                select(Indicator)
                .where(Indicator.application_id == award.application_id)
                .order_by(Indicator.seq)
            )
        )
        .scalars()
        .all()
    )
    latest: dict[int, Decimal] = {}
    approved_reports = (
        (
            await session.execute(
                select(ProgressReport)
                .options(selectinload(ProgressReport.actuals))
                .where(ProgressReport.award_id == award.id, ProgressReport.state == ReviewState.approved)
                .order_by(ProgressReport.submitted_at)
            )
        )
        .scalars()
        .all()
    )
    for report in approved_reports:
        for actual in report.actuals:
            latest[actual.indicator_id] = actual.actual
    execution = await award_execution(session, award)
    rectifications = (
        (
            await session.execute(
                select(Rectification).where(Rectification.award_id == award.id).order_by(Rectification.id)
            )
        )
        .scalars()
        .all()
    )
    assessed = await evaluations_of(session, "award", award.id)
    final = assessed[-1] if assessed else None
    return {
        "title": _("Project assessment report"),
        "centre_name": centre.name,
        "period": period,
        "period_label": programme.name,
        "generated_at": utcnow(),
        "award": {
            "title": award.title,
            "organisation": org.name,
            "programme": programme.name,
            "state": _(AWARD_STATE_LABELS[award.state]),
            "signed_on": award.signed_on,
            "awarded_on": award.awarded_on,
        },
        "money": execution.model_dump(),
        "tranches": [
            {
                "seq": t.seq,
                "share": t.share_pct,
                "trigger": _(TRIGGER_LABELS[t.trigger]),
                "amount": t.amount,
                "state": _(TRANCHE_STATE_LABELS[t.state]),
                "paid_on": t.paid_on,
            }
            for t in award.tranches
        ],
        "indicators": [
            {
                "kind": i.kind.value,
                "name": i.name,
                "target": i.target,
                "unit": i.unit,
                "actual": latest.get(i.id),
                "rate": (latest[i.id] * 100 / i.target).quantize(Decimal("0.1"))
                if i.id in latest and i.target
                else None,
            }
            for i in indicators
        ],
        "progress_reports": len(approved_reports),
        "evaluations": assessed,
        "final": final,
        "rectifications": [
            {"reason": r.reason, "deadline": r.deadline, "state": r.state.value, "opened_at": r.opened_at}
            for r in rectifications
        ],
    }


async def contract_centre(session: AsyncSession, contract_id: int) -> int | None:
    contract = await session.get(Contract, contract_id)
    return contract.centre_id if contract is not None else None


async def build_contract_performance(session: AsyncSession, contract_id: int, period: str) -> dict[str, Any]:
    contract = (
        await session.execute(
            select(Contract)
            .options(selectinload(Contract.indicators), selectinload(Contract.milestones))
            .where(Contract.id == contract_id)
        )
    ).scalar_one_or_none()
    if contract is None:
        raise NotFound(_("Contract not found"))
    centre = await session.get(Centre, contract.centre_id)
    provider = await session.get(Organisation, contract.provider_id)
    assert centre is not None
    assert provider is not None
    assessed = await evaluations_of(session, "contract", contract.id)
    return {
        "title": _("Contract performance report"),
        "centre_name": centre.name,
        "period": period,
        "period_label": contract.title,
        "generated_at": utcnow(),
        "contract": {
            "title": contract.title,
            "purchaser": contract.purchaser,
            "provider": provider.name,
            "provider_uscc": provider.uscc or "—",
            "method": _(PROCUREMENT_LABELS[contract.procurement_method]),
            "amount": contract.amount,
            "paid": contract.paid,
            "term": (contract.starts_on, contract.ends_on),
            "state": _(CONTRACT_STATE_LABELS[contract.state]),
            "score": contract.evaluation_score,
            "factor": contract.payment_factor,
        },
        "indicators": [
            {
                "name": i.name,
                "target": i.target,
                "unit": i.unit,
                "actual": i.actual,
                "rate": (i.actual * 100 / i.target).quantize(Decimal("0.1"))
                if i.actual is not None and i.target
                else None,
            }
            for i in contract.indicators
        ],
        "milestones": [
            {
                "seq": m.seq,
                "share": m.share_pct,
                "condition": _(CONDITION_LABELS[m.condition]),
                "amount": m.amount,
                "payable": m.payable,
                "state": _(MILESTONE_STATE_LABELS[m.state]),
                "paid_on": m.paid_on,
            }
            for m in contract.milestones
        ],
        "evaluations": assessed,
        "final": assessed[-1] if assessed else None,
    }


PROJECT_ASSESSMENT = ReportKind(
    code=AWARD_KIND,
    label=N_("Project assessment report"),
    scope_type=ScopeType.award,
    builder=build_project_assessment,
    template="reports/project_assessment.html",
    centre_of=award_centre,
    period_for=current_month,
)
CONTRACT_PERFORMANCE = ReportKind(
    code=CONTRACT_KIND,
    label=N_("Contract performance report"),
    scope_type=ScopeType.contract,
    builder=build_contract_performance,
    template="reports/contract_performance.html",
    centre_of=contract_centre,
    period_for=current_month,
)


def register() -> None:
    register_kind(PROJECT_ASSESSMENT)
    register_kind(CONTRACT_PERFORMANCE)
