"""Programme report (公益创投年度报告): budget, awards by category and community,
disbursement progress, grade distribution. Reads grants, incubator and evaluations."""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.db import utcnow
from core.errors import NotFound
from core.i18n import N_, _
from core.identity.models import Centre
from evaluations.rounds.models import RoundSubject
from evaluations.rubrics.schemas import GRADE_LABELS, GradeCode
from grants.applications.models import APPLICATION_STATE_LABELS, Application, ApplicationState
from grants.awards.models import Award
from grants.programmes.models import PROGRAMME_STATE_LABELS, TRIGGER_LABELS, Programme
from incubator.models import Organisation
from reports import charts
from reports.kinds import ReportKind, current_month, register_kind
from reports.models import ScopeType

KIND_CODE = "programme_annual"


async def programme_centre(session: AsyncSession, programme_id: int) -> int | None:
    programme = await session.get(Programme, programme_id)
    return programme.centre_id if programme is not None else None


async def build_programme_report(session: AsyncSession, programme_id: int, period: str) -> dict[str, Any]:
    programme = (
        await session.execute(
            select(Programme)
            .options(selectinload(Programme.categories), selectinload(Programme.tranche_plan))
            .where(Programme.id == programme_id)
        )
    ).scalar_one_or_none()
    if programme is None:
        raise NotFound(_("Programme not found"))
    centre = await session.get(Centre, programme.centre_id)
    assert centre is not None
    applications = (
        await session.execute(
            select(Application, Organisation)
            .join(Organisation, Organisation.id == Application.organisation_id)
            .where(Application.programme_id == programme.id)
            .order_by(Application.rank.is_(None), Application.rank, Application.id)
        )
    ).all()
    awards = (
        await session.execute(
            select(Award, Organisation)
            .options(selectinload(Award.tranches))
            .join(Organisation, Organisation.id == Award.organisation_id)
            .where(Award.programme_id == programme.id)
            .order_by(Award.id)
        )
    ).all()
    categories = {c.id: c.name for c in programme.categories}

    by_state = Counter(_(APPLICATION_STATE_LABELS[a.state]) for a, _o in applications)
    by_category: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0)])
    by_community: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for award, org in awards:
        row = by_category[categories.get(award.category_id or 0, _("Uncategorised"))]
        row[0] += 1
        row[1] += award.amount
        row[2] += award.paid
        community = by_community[org.community or _("Unknown")]
        community[0] += 1
        community[1] += award.amount
    granted = sum((a.amount for a, _o in awards), Decimal("0.00"))
    paid = sum((a.paid for a, _o in awards), Decimal("0.00"))

    grades: Counter[str] = Counter()
    if programme.review_round_id is not None:
        subjects = (
            await session.execute(
                select(RoundSubject).where(
                    RoundSubject.round_id == programme.review_round_id, RoundSubject.grade.is_not(None)
                )
            )
        ).scalars()
        grades.update(_(GRADE_LABELS[GradeCode(s.grade)]) for s in subjects if s.grade)
    grade_rows = [(_(GRADE_LABELS[g]), grades.get(_(GRADE_LABELS[g]), 0)) for g in GradeCode]

    category_labels = list(by_category)
    return {
        "title": _("Programme report"),
        "centre_name": centre.name,
        "period": period,
        "period_label": f"{programme.year}",
        "generated_at": utcnow(),
        "programme": {
            "name": programme.name,
            "year": programme.year,
            "state": _(PROGRAMME_STATE_LABELS[programme.state]),
            "total_budget": programme.total_budget,
            "committed": programme.committed,
            "remaining": programme.total_budget - programme.committed,
            "window": (programme.opens_at, programme.closes_at),
            "tranche_plan": [(r.share_pct, _(TRIGGER_LABELS[r.trigger])) for r in programme.tranche_plan],
        },
        "categories": [
            {"name": c.name, "budget": c.budget, "committed": c.committed} for c in programme.categories
        ],
        "applications": [
            {
                "rank": a.rank,
                "title": a.title,
                "organisation": o.name,
                "state": _(APPLICATION_STATE_LABELS[a.state]),
                "requested": a.requested_amount,
                "score": a.review_score,
                "approved": a.approved_amount,
            }
            for a, o in applications
        ],
        "application_count": len(applications),
        "by_state": sorted(by_state.items(), key=lambda item: -item[1]),
        "awards": [
            {
                "title": a.title,
                "organisation": o.name,
                "community": o.community,
                "amount": a.amount,
                "paid": a.paid,
                "progress": (a.paid * 100 / a.amount).quantize(Decimal("0.1")) if a.amount else Decimal(0),
                "tranches": [(t.seq, t.amount, t.state.value) for t in a.tranches],
            }
            for a, o in awards
        ],
        "award_count": len(awards),
        "awarded_count": sum(1 for a, _o in applications if a.state is ApplicationState.awarded),
        "granted": granted,
        "paid": paid,
        "paid_pct": (paid * 100 / granted).quantize(Decimal("0.1")) if granted else Decimal(0),
        "by_category": [(name, int(v[0]), v[1], v[2]) for name, v in by_category.items()],
        "by_community": sorted(
            ((name, int(v[0]), v[1]) for name, v in by_community.items()), key=lambda r: -r[2]
        ),
        "grades": grade_rows,
        "category_chart": charts.bar_chart(
            _("Granted and paid by category"),
            category_labels,
            {
                _("Granted"): [float(by_category[c][1]) for c in category_labels],
                _("Paid"): [float(by_category[c][2]) for c in category_labels],
            },
        )
        if category_labels
        else None,
        "grade_chart": charts.bar_chart(
            _("Review grades"),
            [label for label, _n in grade_rows],
            {_("Applications"): [n for _l, n in grade_rows]},
        )
        if sum(grades.values())
        else None,
    }


PROGRAMME_REPORT = ReportKind(
    code=KIND_CODE,
    label=N_("Programme report"),
    scope_type=ScopeType.programme,
    builder=build_programme_report,
    template="reports/programme.html",
    centre_of=programme_centre,
    period_for=current_month,
)


def register() -> None:
    register_kind(PROGRAMME_REPORT)
