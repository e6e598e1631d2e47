"""Programme report (公益创投年度报告): budget, awards by category and community,
disbursement progress, grade distribution. Reads grants, incubator and evaluations."""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.errors import NotFound
from core.i18n import N_, _
from core.identity.repository import centre_by_id
from evaluations.results.repository import graded_subjects
from evaluations.rubrics.schemas import GRADE_LABELS, GradeCode
from grants.applications.models import APPLICATION_STATE_LABELS, ApplicationState
from grants.applications.repository import applications_with_organisations
from grants.awards.repository import awards_with_organisations
from grants.programmes.models import PROGRAMME_STATE_LABELS, TRIGGER_LABELS
from grants.programmes.repository import programme_centre, programme_with_plan
from reports import charts
from reports.kinds import ReportKind, current_month, register_kind
from reports.models import ScopeType

KIND_CODE = "programme_annual"


def _pct(part: Decimal, whole: Decimal) -> Decimal:
    return (part * 100 / whole).quantize(Decimal("0.1")) if whole else Decimal("0.0")


async def build_programme_report(session: AsyncSession, programme_id: int, period: str) -> dict[str, Any]:
    programme = await programme_with_plan(session, programme_id)
    if programme is None:
        raise NotFound(_("Programme not found"))
    centre = await centre_by_id(session, programme.centre_id)
    assert centre is not None
    applications = await applications_with_organisations(session, programme.id)
    awards = await awards_with_organisations(session, programme.id)
    uncategorised = _("Uncategorised")
    order = {c.id: index for index, c in enumerate(programme.categories)}
    names = {c.id: c.name for c in programme.categories}

    def category_name(category_id: int | None) -> str:
        return names.get(category_id or 0, uncategorised)

    # Every category, in the programme's order, even one that awarded nothing.
    by_category: dict[str, dict[str, Any]] = {
        c.name: {
            "name": c.name,
            "budget": c.budget,
            "committed": c.committed,
            "applications": 0,
            "awards": 0,
            "granted": Decimal("0.00"),
            "paid": Decimal("0.00"),
        }
        for c in programme.categories
    }
    for application, _o in applications:
        name = category_name(application.category_id)
        row = by_category.setdefault(
            name,
            {
                "name": name,
                "budget": None,
                "committed": None,
                "applications": 0,
                "awards": 0,
                "granted": Decimal("0.00"),
                "paid": Decimal("0.00"),
            },
        )
        row["applications"] += 1
    by_community: dict[str, list[Any]] = defaultdict(lambda: [0, Decimal("0.00"), Decimal("0.00")])
    for award, org in awards:
        row = by_category.setdefault(
            category_name(award.category_id),
            {
                "name": category_name(award.category_id),
                "budget": None,
                "committed": None,
                "applications": 0,
                "awards": 0,
                "granted": Decimal("0.00"),
                "paid": Decimal("0.00"),
            },
        )
        row["awards"] += 1
        row["granted"] += award.amount
        row["paid"] += award.paid
        community = by_community[org.community or _("Unknown")]
        community[0] += 1
        community[1] += award.amount
        community[2] += award.paid
    for row in by_category.values():
        row["paid_pct"] = _pct(row["paid"], row["granted"])
        row["left"] = row["budget"] - row["committed"] if row["budget"] is not None else None
    granted = sum((a.amount for a, _o in awards), Decimal("0.00"))
    paid = sum((a.paid for a, _o in awards), Decimal("0.00"))

    ranked = sorted(
        applications,
        key=lambda pair: (
            order.get(pair[0].category_id or 0, len(order)),
            pair[0].rank is None,
            pair[0].rank or 0,
            pair[0].id,
        ),
    )
    grades: Counter[GradeCode] = Counter()
    if programme.review_round_id is not None:
        grades.update(
            GradeCode(s.grade) for s in await graded_subjects(session, programme.review_round_id) if s.grade
        )
    grade_rows = [(_(GRADE_LABELS[g]), grades.get(g, 0)) for g in GradeCode]
    by_state = Counter(_(APPLICATION_STATE_LABELS[a.state]) for a, _o in applications)

    categories = list(by_category.values())
    community_rows = sorted(
        ((name, int(v[0]), v[1], v[2]) for name, v in by_community.items()), key=lambda r: (-r[2], r[0])
    )
    return {
        "title": _("Programme report"),
        "centre_name": centre.name,
        "period": period,
        "period_label": f"{programme.year}",
        "cover_lines": [(_("Programme"), programme.name), (_("Year"), str(programme.year))],
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
        "categories": categories,
        "applications": [
            {
                "category": category_name(a.category_id),
                "rank": a.rank,
                "title": a.title,
                "organisation": o.name,
                "state": _(APPLICATION_STATE_LABELS[a.state]),
                "requested": a.requested_amount,
                "score": a.review_score,
                "approved": a.approved_amount,
            }
            for a, o in ranked
        ],
        "application_count": len(applications),
        "by_state": sorted(by_state.items(), key=lambda item: -item[1]),
        "awards": [
            {
                "title": a.title,
                "organisation": o.name,
                "category": category_name(a.category_id),
                "community": o.community,
                "amount": a.amount,
                "paid": a.paid,
                "progress": _pct(a.paid, a.amount),
                "tranches_paid": sum(1 for t in a.tranches if t.state.value == "paid"),
                "tranches": len(a.tranches),
            }
            for a, o in awards
        ],
        "award_count": len(awards),
        "awarded_count": sum(1 for a, _o in applications if a.state is ApplicationState.awarded),
        "granted": granted,
        "paid": paid,
        "paid_pct": _pct(paid, granted),
        "by_community": community_rows,
        "grades": grade_rows,
        "graded_count": sum(grades.values()),
        "category_chart": charts.bar_chart(
            _("Budget, granted and paid by category (yuan)"),
            [c["name"] for c in categories],
            {
                _("Budget"): [float(c["budget"] or 0) for c in categories],
                _("Granted"): [float(c["granted"]) for c in categories],
                _("Paid"): [float(c["paid"]) for c in categories],
            },
            formatter=lambda v: f"{v / 10000:,.1f}".rstrip("0").rstrip(".") + _(" ten-thousand"),
        )
        if categories
        else None,
        "community_chart": charts.bar_chart(
            _("Projects by community"),
            [row[0] for row in community_rows],
            {_("Projects"): [row[1] for row in community_rows]},
            counts=True,
            compact=True,
        )
        if by_community
        else None,
        "grade_chart": charts.bar_chart(
            _("Review grades"),
            [label for label, _n in grade_rows],
            {_("Applications"): [n for _l, n in grade_rows]},
            counts=True,
            compact=True,
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
    number_mark=N_("PR"),
)


def register() -> None:
    register_kind(PROGRAMME_REPORT)
