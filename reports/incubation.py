"""Organisation incubation report (孵化成长报告): profile, timeline, support, capacity growth,
projects and grants, evaluation results. Reads the incubator and grants domains."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.db import utcnow
from core.errors import NotFound
from core.i18n import N_, _
from core.identity.models import Centre
from evaluations.rubrics.models import RubricVersion
from evaluations.rubrics.service import criteria_of
from grants.awards.models import AWARD_STATE_LABELS, Award
from grants.programmes.models import Programme
from incubator.models import (
    ACTIVITY_LABELS,
    FIELD_LABELS,
    KIND_LABELS,
    LEGAL_LABELS,
    STAGE_LABELS,
    STAY_LABELS,
    CapacityAssessment,
    IncubationStay,
    Organisation,
    ServiceField,
    StayState,
    SupportActivity,
)
from reports import charts
from reports.kinds import ReportKind, current_month, register_kind
from reports.models import ScopeType

KIND_CODE = "incubation_growth"


async def organisation_centre(session: AsyncSession, organisation_id: int) -> int | None:
    org = await session.get(Organisation, organisation_id)
    return org.centre_id if org is not None else None


async def build_incubation_report(session: AsyncSession, organisation_id: int, period: str) -> dict[str, Any]:
    org = await session.get(Organisation, organisation_id)
    if org is None:
        raise NotFound(_("Organisation not found"))
    centre = await session.get(Centre, org.centre_id)
    assert centre is not None
    stays = (
        (
            await session.execute(
                select(IncubationStay)
                .options(selectinload(IncubationStay.events))
                .where(IncubationStay.organisation_id == org.id)
                .order_by(IncubationStay.applied_on)
            )
        )
        .scalars()
        .all()
    )
    activities = (
        (
            await session.execute(
                select(SupportActivity)
                .where(SupportActivity.organisation_id == org.id)
                .order_by(SupportActivity.held_on)
            )
        )
        .scalars()
        .all()
    )
    assessments = (
        (
            await session.execute(
                select(CapacityAssessment)
                .where(CapacityAssessment.organisation_id == org.id)
                .order_by(CapacityAssessment.assessed_on, CapacityAssessment.id)
            )
        )
        .scalars()
        .all()
    )
    awards = (
        await session.execute(
            select(Award, Programme)
            .join(Programme, Programme.id == Award.programme_id)
            .where(Award.organisation_id == org.id)
            .order_by(Award.awarded_on)
        )
    ).all()

    hours_by_kind: dict[str, Decimal] = defaultdict(Decimal)
    hours_by_month: dict[str, Decimal] = defaultdict(Decimal)
    for activity in activities:
        hours_by_kind[_(ACTIVITY_LABELS[activity.kind])] += activity.hours
        hours_by_month[activity.held_on.strftime("%Y-%m")] += activity.hours
    total_hours = sum(hours_by_kind.values(), Decimal(0))

    timeline: list[dict[str, Any]] = []
    for stay in stays:
        for event in stay.events:
            label = _(STAY_LABELS[StayState(event.to_state)])
            timeline.append({"on": event.on_date, "what": label, "note": event.note})
    for assessment in assessments:
        timeline.append(
            {
                "on": assessment.assessed_on,
                "what": _("Capacity assessment"),
                "note": f"{_(STAGE_LABELS[assessment.stage])} {assessment.total}",
            }
        )
    for award, programme in awards:
        timeline.append(
            {"on": award.awarded_on, "what": _("Awarded"), "note": f"{programme.name} · {award.title}"}
        )
    timeline.sort(key=lambda item: item["on"])

    growth_chart = None
    radar = None
    dimensions: list[dict[str, Any]] = []
    if assessments:
        growth_chart = charts.line_chart(
            _("Capacity over time"),
            [a.assessed_on.isoformat() for a in assessments],
            {_("Score"): [float(a.total) for a in assessments]},
        )
        version = await session.get(RubricVersion, assessments[-1].rubric_version_id)
        if version is not None:
            criteria = criteria_of(version)
            first, last = assessments[0], assessments[-1]
            for criterion in criteria:
                start = Decimal(first.scores.get(criterion.key, "0"))
                end = Decimal(last.scores.get(criterion.key, "0"))
                dimensions.append(
                    {
                        "name": criterion.name,
                        "max": criterion.max_points,
                        "first": start,
                        "last": end,
                        "change": end - start,
                    }
                )
            if len(criteria) >= 3:
                series: dict[str, Sequence[float]] = {
                    f"{_(STAGE_LABELS[a.stage])} {a.assessed_on.isoformat()}": [
                        float(Decimal(a.scores.get(c.key, "0")) * 100 / c.max_points) for c in criteria
                    ]
                    for a in dict.fromkeys((first, last))
                }
                radar = charts.radar_chart(
                    _("Capacity by dimension (percentage of maximum)"), [c.name for c in criteria], series
                )

    return {
        "title": _("Organisation incubation report"),
        "centre_name": centre.name,
        "period": period,
        "period_label": period,
        "generated_at": utcnow(),
        "org": {
            "name": org.name,
            "kind": _(KIND_LABELS[org.kind]),
            "legal_status": _(LEGAL_LABELS[org.legal_status]),
            "uscc": org.uscc or "—",
            "fields": "、".join(_(FIELD_LABELS[ServiceField(f)]) for f in org.service_fields),
            "community": org.community,
            "street": org.street,
            "founded_on": org.founded_on,
            "staff_count": org.staff_count,
            "volunteer_count": org.volunteer_count,
            "state": _(STAY_LABELS[org.incubation_state]) if org.incubation_state else "—",
        },
        "stays": [
            {
                "state": _(STAY_LABELS[s.state]),
                "applied_on": s.applied_on,
                "start": s.start_date,
                "end": s.planned_end,
                "mentor": s.mentor or "",
                "ended_on": s.ended_on,
            }
            for s in stays
        ],
        "timeline": timeline,
        "total_hours": total_hours,
        "activity_count": len(activities),
        "hours_by_kind": sorted(hours_by_kind.items(), key=lambda item: -item[1]),
        "support_chart": charts.bar_chart(
            _("Support hours by month"),
            list(hours_by_month),
            {_("Hours"): [float(h) for h in hours_by_month.values()]},
        )
        if hours_by_month
        else None,
        "assessments": [
            {"on": a.assessed_on, "stage": _(STAGE_LABELS[a.stage]), "total": a.total, "assessor": a.assessor}
            for a in assessments
        ],
        "dimensions": dimensions,
        "growth_chart": growth_chart,
        "radar_chart": radar,
        "awards": [
            {
                "programme": p.name,
                "title": a.title,
                "amount": a.amount,
                "paid": a.paid,
                "state": _(AWARD_STATE_LABELS[a.state]),
                "awarded_on": a.awarded_on,
            }
            for a, p in awards
        ],
        "awards_total": sum((a.amount for a, _p in awards), Decimal("0.00")),
    }


INCUBATION_REPORT = ReportKind(
    code=KIND_CODE,
    label=N_("Organisation incubation report"),
    scope_type=ScopeType.organisation,
    builder=build_incubation_report,
    template="reports/incubation.html",
    centre_of=organisation_centre,
    period_for=current_month,
)


def register() -> None:
    register_kind(INCUBATION_REPORT)
