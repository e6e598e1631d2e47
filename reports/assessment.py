"""Project assessment report (项目评估报告) and contract performance report.

Both show the evaluation: the experts' overall opinions (anonymised as 专家 A/B/C) with a
summary, the scores by criterion as one table of criteria × experts with the mean and each
criterion's weight, the total and grade; then what was promised against what was delivered,
and the money: granted (or contracted), paid, spent and withheld, in yuan, with the reason.
Reads grants (awards, contracts, payments) and evaluations through their repositories.
"""

from __future__ import annotations

import string
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.errors import NotFound
from core.i18n import N_, _
from core.identity.repository import centre_by_id
from evaluations.results.repository import closed_rounds_of, rubric_version, submitted_expert_sheets
from evaluations.rubrics.models import PURPOSE_LABELS, RoundPurpose
from evaluations.rubrics.schemas import GRADE_LABELS, GradeCode
from evaluations.rubrics.service import criteria_of
from grants.applications.repository import indicators_of
from grants.awards.execution import award_execution
from grants.awards.models import (
    AWARD_STATE_LABELS,
    RECTIFICATION_STATE_LABELS,
    TRANCHE_STATE_LABELS,
    AwardState,
    TrancheState,
)
from grants.awards.repository import (
    approved_reports_of,
    award_centre,
    award_with_tranches,
    rectifications_of,
)
from grants.contracts.models import (
    CONDITION_LABELS,
    CONTRACT_STATE_LABELS,
    MILESTONE_STATE_LABELS,
    PROCUREMENT_LABELS,
    MilestoneCondition,
    MilestoneState,
)
from grants.contracts.repository import contract_centre, contract_with_terms
from grants.programmes.models import TRIGGER_LABELS
from grants.programmes.repository import programme_with_plan
from incubator.repository import organisation_by_id
from reports import charts
from reports.kinds import ReportKind, current_month, register_kind
from reports.models import ScopeType

AWARD_KIND = "project_assessment"
CONTRACT_KIND = "contract_performance"
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def _mean(values: list[Decimal]) -> Decimal | None:
    return (sum(values, Decimal(0)) / len(values)).quantize(CENT) if values else None


def _pct(part: Decimal, whole: Decimal) -> Decimal:
    return (part * 100 / whole).quantize(Decimal("0.1")) if whole else Decimal("0.0")


def expert_label(index: int) -> str:
    return _("Expert {letter}").format(letter=string.ascii_uppercase[index % 26])


async def evaluations_of(session: AsyncSession, subject_type: str, subject_ref: int) -> list[dict[str, Any]]:
    """Every closed evaluation of a subject: opinions, the criteria × experts table, total, grade."""
    result: list[dict[str, Any]] = []
    for subject, review_round in await closed_rounds_of(session, subject_type, subject_ref):
        version = await rubric_version(session, review_round.rubric_version_id)
        criteria = criteria_of(version) if version is not None else []
        sheets = await submitted_expert_sheets(session, subject.id)
        experts = [expert_label(index) for index in range(len(sheets))]
        scores = [{item.criterion_key: item for item in sheet.items} for sheet in sheets]
        base_total = sum((c.max_points for c in criteria if not c.bonus), Decimal(0))
        table: list[dict[str, Any]] = []
        for criterion in criteria:
            marks = [s[criterion.key].score if criterion.key in s else None for s in scores]
            given = [m for m in marks if m is not None]
            mean = _mean(given)
            table.append(
                {
                    "name": criterion.name,
                    "max": criterion.max_points,
                    "weight": _pct(criterion.max_points, base_total) if not criterion.bonus else None,
                    "bonus": criterion.bonus,
                    "marks": marks,
                    "mean": mean,
                    "share": _pct(mean, criterion.max_points) if mean is not None else None,
                }
            )
        totals = [sheet.total for sheet in sheets]
        opinions: list[dict[str, Any]] = []
        names = {c.key: c.name for c in criteria}
        for label, sheet in zip(experts, sheets, strict=True):
            remarks = [
                {"criterion": names.get(item.criterion_key, item.criterion_key), "comment": item.comment}
                for item in sheet.items
                if item.comment
            ]
            opinions.append(
                {"expert": label, "total": sheet.total, "comment": sheet.comment.strip(), "remarks": remarks}
            )
        grade = GradeCode(subject.grade) if subject.grade else None
        purpose = _(PURPOSE_LABELS[review_round.purpose])
        scored = [row for row in table if row["share"] is not None and not row["bonus"]]
        strongest = max(scored, key=lambda row: row["share"]) if scored else None
        weakest = min(scored, key=lambda row: row["share"]) if scored else None
        summary = _("{n} experts carried out the {purpose}: total score {total}, grade {grade}.").format(
            n=len(sheets),
            purpose=purpose,
            total=subject.final_score if subject.final_score is not None else "—",
            grade=_(GRADE_LABELS[grade]) if grade else "—",
        )
        if strongest is not None and weakest is not None and strongest is not weakest:
            summary += _(
                " Strongest: {best} (scoring {best_share}%); weakest: {worst} ({worst_share}%)."
            ).format(
                best=strongest["name"],
                best_share=strongest["share"],
                worst=weakest["name"],
                worst_share=weakest["share"],
            )
        result.append(
            {
                "purpose": purpose,
                "is_midterm": review_round.purpose is RoundPurpose.midterm,
                "round_name": review_round.name,
                "closed_at": review_round.closed_at,
                "experts": experts,
                "expert_totals": totals,
                "total": subject.final_score,
                "grade": _(GRADE_LABELS[grade]) if grade else "—",
                "passed": grade is not None and grade is not GradeCode.fail,
                "criteria": table,
                "base_total": base_total,
                "mean_total": _mean(totals),
                "opinions": opinions,
                "summary": summary,
                "chart": charts.bar_chart(
                    _("Mean score by criterion (percentage of its points)"),
                    [row["name"] for row in table],
                    {_("Score"): [float(row["share"] or 0) for row in table]},
                    maximum=100.0,
                    formatter=lambda v: f"{v:.0f}%",
                )
                if table
                else None,
            }
        )
    return result


async def build_project_assessment(session: AsyncSession, award_id: int, period: str) -> dict[str, Any]:
    award = await award_with_tranches(session, award_id)
    if award is None:
        raise NotFound(_("Award not found"))
    centre = await centre_by_id(session, award.centre_id)
    org = await organisation_by_id(session, award.organisation_id)
    programme = await programme_with_plan(session, award.programme_id)
    assert centre is not None
    assert org is not None
    assert programme is not None
    indicators = await indicators_of(session, award.application_id)
    approved_reports = await approved_reports_of(session, award.id)
    latest: dict[int, Decimal] = {}
    for report in approved_reports:
        for actual in report.actuals:
            latest[actual.indicator_id] = actual.actual
    execution = await award_execution(session, award)
    rectifications = await rectifications_of(session, award.id)
    assessed = await evaluations_of(session, "award", award.id)
    final = assessed[-1] if assessed else None
    category = next((c.name for c in programme.categories if c.id == award.category_id), "")

    tranches: list[dict[str, Any]] = []
    withheld = ZERO
    for t in award.tranches:
        reason = ""
        held = ZERO
        if t.state is TrancheState.cancelled:
            held = t.amount
            reason = (
                _("Project terminated: not paid")
                if award.state is AwardState.terminated
                else _("Cancelled: not paid")
            )
        elif t.state is TrancheState.planned and award.state is AwardState.rectification:
            held = t.amount
            reason = _("Held back until the rectification is accepted")
        withheld += held
        tranches.append(
            {
                "seq": t.seq,
                "share": t.share_pct,
                "trigger": _(TRIGGER_LABELS[t.trigger]),
                "amount": t.amount,
                "paid": t.amount if t.state is TrancheState.paid else ZERO,
                "withheld": held,
                "reason": reason,
                "state": _(TRANCHE_STATE_LABELS[t.state]),
                "paid_on": t.paid_on,
            }
        )
    money = execution.model_dump()
    money["withheld"] = withheld
    money["unspent"] = money["paid"] - money["spent"]
    evaluation_name = final["purpose"] if final else _("Project assessment")
    return {
        "title": _("Project assessment report"),
        "centre_name": centre.name,
        "period": period,
        "period_label": evaluation_name,
        "cover_lines": [
            (_("Project"), award.title),
            (_("Organisation"), org.name),
            (_("Programme"), programme.name + (f" · {category}" if category else "")),
            (_("Evaluation"), evaluation_name),
        ],
        "generated_at": utcnow(),
        "award": {
            "title": award.title,
            "organisation": org.name,
            "organisation_uscc": org.uscc or "—",
            "programme": programme.name,
            "category": category,
            "state": _(AWARD_STATE_LABELS[award.state]),
            "signed_on": award.signed_on,
            "awarded_on": award.awarded_on,
        },
        "money": money,
        "tranches": tranches,
        "indicators": [
            {
                "kind": i.kind.value,
                "name": i.name,
                "target": i.target,
                "unit": i.unit,
                "actual": latest.get(i.id),
                "rate": _pct(latest[i.id], i.target) if i.id in latest and i.target else None,
            }
            for i in indicators
        ],
        "progress_reports": len(approved_reports),
        "evaluations": assessed,
        "final": final,
        "rectifications": [
            {
                "reason": r.reason,
                "deadline": r.deadline,
                "state": _(RECTIFICATION_STATE_LABELS[r.state]),
                "opened_at": r.opened_at,
            }
            for r in rectifications
        ],
    }


def _plain(value: Decimal) -> str:
    """90.00 → 90, 62.50 → 62.5."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def payment_rule_text(full_from: Decimal, pro_rata_from: Decimal) -> str:
    return _(
        "Score {full} or more: paid in full; {low} to below {full}: paid pro rata to the score; "
        "below {low}: the final payment is withheld and the provider is barred next year."
    ).format(full=_plain(full_from), low=_plain(pro_rata_from))


async def build_contract_performance(session: AsyncSession, contract_id: int, period: str) -> dict[str, Any]:
    contract = await contract_with_terms(session, contract_id)
    if contract is None:
        raise NotFound(_("Contract not found"))
    centre = await centre_by_id(session, contract.centre_id)
    provider = await organisation_by_id(session, contract.provider_id)
    assert centre is not None
    assert provider is not None
    assessed = await evaluations_of(session, "contract", contract.id)
    score = contract.evaluation_score
    factor = contract.payment_factor
    milestones: list[dict[str, Any]] = []
    paid_total = ZERO
    withheld_total = ZERO
    for m in contract.milestones:
        paid = m.to_pay if m.state is MilestoneState.paid else ZERO
        if m.state is MilestoneState.withheld:
            held = m.amount
        elif m.payable is not None:
            held = m.amount - m.payable
        else:
            held = ZERO
        reason = ""
        if m.condition is MilestoneCondition.on_evaluation and score is not None and factor is not None:
            share = f"{factor * 100:.2f}".rstrip("0").rstrip(".")
            if factor == 0:
                reason = _("Score {score} below {low}: the final payment is withheld").format(
                    score=score, low=_plain(contract.pro_rata_from)
                )
            elif factor < 1:
                reason = _("Score {score}: this payment at {share}%, {held} yuan withheld").format(
                    score=score, share=share, held=f"{held:,.2f}"
                )
            else:
                reason = _("Score {score}: paid in full").format(score=score)
        elif m.state is MilestoneState.cancelled:
            held = m.amount
            reason = _("Contract terminated: not paid")
        paid_total += paid
        withheld_total += held
        milestones.append(
            {
                "seq": m.seq,
                "share": m.share_pct,
                "condition": _(CONDITION_LABELS[m.condition]),
                "description": m.description,
                "amount": m.amount,
                "payable": m.to_pay if m.state is not MilestoneState.withheld else ZERO,
                "paid": paid,
                "withheld": held,
                "reason": reason,
                "state": _(MILESTONE_STATE_LABELS[m.state]),
                "paid_on": m.paid_on,
            }
        )
    return {
        "title": _("Contract performance report"),
        "centre_name": centre.name,
        "period": period,
        "period_label": contract.title,
        "cover_lines": [
            (_("Contract"), contract.title),
            (_("Provider"), provider.name),
            (_("Purchaser"), contract.purchaser),
            (_("Evaluation"), _("Contract performance evaluation")),
        ],
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
            "score": score,
            "factor": factor,
            "factor_pct": f"{factor * 100:.2f}".rstrip("0").rstrip(".") if factor is not None else None,
            "evaluated_on": contract.evaluated_on,
            "rule": payment_rule_text(contract.full_payment_from, contract.pro_rata_from),
        },
        "money": {
            "amount": contract.amount,
            "paid": paid_total,
            "withheld": withheld_total,
            "outstanding": contract.amount - paid_total - withheld_total,
        },
        "indicators": [
            {
                "name": i.name,
                "target": i.target,
                "unit": i.unit,
                "actual": i.actual,
                "rate": _pct(i.actual, i.target) if i.actual is not None and i.target else None,
            }
            for i in contract.indicators
        ],
        "milestones": milestones,
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
    evaluated=True,
    number_mark=N_("PA"),
)
CONTRACT_PERFORMANCE = ReportKind(
    code=CONTRACT_KIND,
    label=N_("Contract performance report"),
    scope_type=ScopeType.contract,
    builder=build_contract_performance,
    template="reports/contract_performance.html",
    centre_of=contract_centre,
    period_for=current_month,
    evaluated=True,
    number_mark=N_("CP"),
)


def register() -> None:
    register_kind(PROJECT_ASSESSMENT)
    register_kind(CONTRACT_PERFORMANCE)
