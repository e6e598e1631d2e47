"""Progress, close, results and recommendation.

The close computes each subject's result once and stores it, so grades read later
(tranche release, payment rules) never change under anyone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pydantic_core
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.db import utcnow
from core.errors import Conflict, ValidationFailed
from core.i18n import _
from core.identity.principal import Principal
from evaluations import access, statistics
from evaluations.assignments.models import AssignmentState
from evaluations.assignments.repository import AssignmentRepository
from evaluations.results.models import RecommendationAdjustment
from evaluations.results.repository import AdjustmentRepository
from evaluations.results.schemas import (
    AdjustmentIn,
    CategoryTotal,
    ProgressRead,
    RecommendationItem,
    RecommendationRead,
    ResultsRead,
)
from evaluations.rounds.models import ReviewRound, RoundState, RoundSubject
from evaluations.rounds.repository import RoundRepository, SubjectRepository
from evaluations.rounds.service import get_round, get_round_alone
from evaluations.rubrics.models import RoundPurpose
from evaluations.rubrics.schemas import GRADE_LABELS, GradeCode
from evaluations.rubrics.service import grade_for, points
from evaluations.sheets.models import SheetKind
from evaluations.sheets.repository import SheetRepository


async def progress(session: AsyncSession, principal: Principal, round_id: int) -> ProgressRead:
    """Who has submitted what; never a score before the round closes (typed, for pages)."""
    return ProgressRead.model_validate(await _progress_document(session, principal, round_id))


async def progress_json(session: AsyncSession, principal: Principal, round_id: int) -> bytes:
    """The same progress as the JSON document ``ProgressRead`` writes (a test holds the two
    equal), written straight from the rows read: a round's hundreds of assignments are not
    validated into models only to be written out again."""
    return pydantic_core.to_json(await _progress_document(session, principal, round_id))


async def _progress_document(session: AsyncSession, principal: Principal, round_id: int) -> dict[str, Any]:
    """``ProgressRead``'s document as plain dicts and lists, its values of its field types."""
    review_round = await get_round_alone(session, principal, round_id)
    subjects = await SubjectRepository(session, principal).rows_of_round(
        review_round.id, RoundSubject.id, RoundSubject.title, RoundSubject.category
    )
    by_subject: dict[int, list[dict[str, Any]]] = {}
    counting: dict[int, int] = {}
    conflict = AssignmentState.conflict
    for assignment_id, subject_id, evaluator_id, state, submitted, name in await AssignmentRepository(
        session, principal
    ).progress_rows(review_round.id):
        by_subject.setdefault(subject_id, []).append(
            {
                "assignment_id": assignment_id,
                "evaluator_id": evaluator_id,
                "evaluator_name": name or "",
                "state": state,
                "submitted": bool(submitted),
            }
        )
        if state is not conflict:
            counting[subject_id] = counting.get(subject_id, 0) + 1
    counts = await SheetRepository(session, principal).submitted_counts(review_round.id)
    expert, public = counts[SheetKind.expert], counts[SheetKind.public]
    required = review_round.min_sheets_per_subject
    rows = [
        {
            "subject_id": subject.id,
            "title": subject.title,
            "category": subject.category,
            "required": required,
            "submitted": expert.get(subject.id, 0),
            "public_submitted": public.get(subject.id, 0),
            "needs_reassignment": counting.get(subject.id, 0) < required,
            "evaluators": by_subject.get(subject.id, []),
        }
        for subject in subjects
    ]
    reason = close_blocked_reason(
        review_round, [row["title"] for row in rows if row["submitted"] < required], len(rows)
    )
    return {
        "round_id": review_round.id,
        "state": review_round.state,
        "can_close": reason is None,
        "close_blocked_reason": reason,
        "subjects": rows,
    }


def close_blocked_reason(review_round: ReviewRound, short: Sequence[str], subjects: int) -> str | None:
    """Why the round cannot close yet: ``short`` are the titles of the subjects with fewer
    submitted sheets than the minimum, of ``subjects`` in all."""
    if review_round.state is RoundState.closed:
        return _("The round is closed")
    if not subjects:
        return _("The round has no subjects")
    if short:
        return _("{n} subject(s) have fewer submitted score sheets than the minimum of {m}: {titles}").format(
            n=len(short), m=review_round.min_sheets_per_subject, titles="、".join(short[:5])
        )
    return None


def _exact_trimmed_mean(values: Sequence[Decimal]) -> Decimal:
    ordered = sorted(values)
    if len(ordered) >= statistics.TRIM_FROM:
        ordered = ordered[1:-1]
    return points(sum(ordered, Decimal(0)) / len(ordered))


async def close_round(session: AsyncSession, principal: Principal, round_id: int) -> ReviewRound:
    """Close the round and compute every subject's result once, for good."""
    centre_id = access.centre_of(principal)
    status = await progress(session, principal, round_id)
    if status.close_blocked_reason is not None:
        raise Conflict(status.close_blocked_reason)
    review_round = await get_round(session, principal, round_id)
    if review_round.state is not RoundState.open:  # closed since the progress was read
        raise Conflict(_("The round is closed"))
    subjects = await SubjectRepository(session, principal).of_round(review_round.id)
    sheets = await SheetRepository(session, principal).submitted_in_round(review_round.id)
    expert = [s for s in sheets if s.kind is SheetKind.expert]
    triples = [(s.evaluator_id or 0, s.subject_id, float(s.total)) for s in expert]
    normalised = statistics.normalised_scores(triples)
    version = review_round.rubric_version
    ranking: dict[int, float] = {}
    for subject in subjects:
        totals = [s.total for s in expert if s.subject_id == subject.id]
        floats = [float(t) for t in totals]
        public = [s.total for s in sheets if s.kind is SheetKind.public and s.subject_id == subject.id]
        expert_score = _exact_trimmed_mean(totals)
        public_mean = points(sum(public, Decimal(0)) / len(public)) if public else None
        rank_score = normalised.get(subject.id, float(expert_score))
        if public_mean is not None and review_round.public_weight:
            final = points(
                (expert_score * review_round.expert_weight + public_mean * review_round.public_weight) / 100
            )
            rank_score = (
                rank_score * review_round.expert_weight + float(public_mean) * review_round.public_weight
            ) / 100
        else:
            final = expert_score
        spread = statistics.spread(floats)
        subject.final_score = final
        subject.grade = grade_for(version, final).code.value
        subject.flagged = spread > float(review_round.spread_threshold)
        subject.stats = {
            "expert_sheets": len(totals),
            "public_sheets": len(public),
            "mean": str(points(statistics.mean(floats))),
            "trimmed_mean": str(expert_score),
            "normalised": str(points(normalised.get(subject.id, statistics.mean(floats)))),
            "stdev": str(points(statistics.stdev(floats))),
            "spread": str(points(spread)),
            "public_mean": str(public_mean) if public_mean is not None else None,
            "rank_score": str(points(rank_score)),
        }
        ranking[subject.id] = rank_score
    by_category: dict[str, list[RoundSubject]] = {}
    for subject in subjects:
        by_category.setdefault(subject.category, []).append(subject)
    for members in by_category.values():
        members.sort(key=lambda s: (-ranking[s.id], -(s.final_score or 0), s.id))
        for position, subject in enumerate(members, start=1):
            subject.rank_in_category = position
    groups = list(statistics.group_by_subject(triples).values())
    icc = statistics.icc1(groups)
    alpha = statistics.krippendorff_alpha_interval(groups)
    review_round.agreement = {
        "icc1": None if icc is None else round(icc, 3),
        "alpha": None if alpha is None else round(alpha, 3),
        "sheets": len(expert),
    }
    review_round.state = RoundState.closed
    review_round.closed_at = utcnow()
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="review_round.close",
        subject_type="review_round",
        subject_id=review_round.id,
        centre_id=centre_id,
        before={"state": RoundState.open},
        after={
            "state": RoundState.closed,
            "agreement": review_round.agreement,
            "results": {s.id: {"score": s.final_score, "grade": s.grade} for s in subjects},
        },
    )
    return review_round


def _stat(stats: dict[str, Any] | None, key: str) -> Decimal | None:
    value = (stats or {}).get(key)
    return None if value is None else Decimal(str(value))


async def results(session: AsyncSession, principal: Principal, round_id: int) -> ResultsRead:
    """The stored results of a closed round, typed (pages, exports)."""
    return ResultsRead.model_validate(await _results_document(session, principal, round_id))


async def results_json(session: AsyncSession, principal: Principal, round_id: int) -> bytes:
    """The same results as the JSON document ``ResultsRead`` writes (a test holds the two
    equal), written straight from the stored values: the statistics stay the decimal
    strings the close stored, rather than being read into a hundred decimals and more per
    round only to be printed back."""
    return pydantic_core.to_json(await _results_document(session, principal, round_id))


async def _results_document(session: AsyncSession, principal: Principal, round_id: int) -> dict[str, Any]:
    """Each subject's statistics are kept as decimal strings in its ``stats``; the rows are
    plain dicts in ``ResultsRead``'s shape, with decimals as their JSON strings."""
    review_round = await RoundRepository(session, principal).row_of(
        round_id, "results", ReviewRound.id, ReviewRound.state, ReviewRound.agreement
    )
    if review_round.state is not RoundState.closed:
        raise Conflict(_("Results are shown once the round is closed"))
    labels = {code.value: _(label) for code, label in GRADE_LABELS.items()}
    rows = await SubjectRepository(session, principal).results_of_round(review_round.id)
    rows.sort(key=lambda row: (row["category"], row["rank_in_category"] or 0, row["subject_id"]))
    for row in rows:
        score, grade = row["final_score"], row["grade"]
        row["final_score"] = None if score is None else str(score)
        row["grade"] = grade or None
        row["grade_label"] = labels[grade] if grade else None
    agreement = review_round.agreement or {}
    icc1, alpha = _stat(agreement, "icc1"), _stat(agreement, "alpha")
    return {
        "round_id": review_round.id,
        "agreement": {
            "icc1": None if icc1 is None else str(icc1),
            "alpha": None if alpha is None else str(alpha),
            "sheets": int(agreement.get("sheets", 0)),
        },
        "subjects": rows,
    }


async def recommendation(session: AsyncSession, principal: Principal, round_id: int) -> RecommendationRead:
    """Take subjects in rank order while the category and programme budgets allow.

    Order: the ranking score across the round (the per-evaluator normalised score,
    weighted with the public jury where there is one), as used for the ranks within each
    category. A subject that does not fit the
    remaining budget is passed over and the next one is tried; a failing grade is never
    recommended. Staff adjustments (with a reason) override the rule for their subject
    and still count against the budgets.
    """
    review_round = await get_round(session, principal, round_id)
    if review_round.state is not RoundState.closed:
        raise Conflict(_("The recommendation is made once the round is closed"))
    subjects = await SubjectRepository(session, principal).of_round(review_round.id)
    adjustments = await AdjustmentRepository(session, principal).of_round(review_round.id)
    category_budgets = {k: Decimal(v) for k, v in (review_round.category_budgets or {}).items()}
    spent: dict[str, Decimal] = {}
    total = Decimal("0.00")
    ordered = sorted(
        subjects,
        key=lambda s: (-(_stat(s.stats, "rank_score") or 0), -(s.final_score or 0), s.id),
    )
    items: list[RecommendationItem] = []
    for subject in ordered:
        amount = subject.requested_amount or Decimal("0.00")
        adjustment = adjustments.get(subject.id)
        cat_budget = category_budgets.get(subject.category)
        fits_category = cat_budget is None or spent.get(subject.category, Decimal(0)) + amount <= cat_budget
        fits_programme = (
            review_round.programme_budget is None or total + amount <= review_round.programme_budget
        )
        if adjustment is not None:
            recommended, reason = adjustment.recommended, adjustment.reason
        elif subject.grade == GradeCode.fail.value:
            recommended, reason = False, _("Below the pass mark")
        elif not fits_category:
            recommended, reason = False, _("Exceeds the remaining budget of the category")
        elif not fits_programme:
            recommended, reason = False, _("Exceeds the remaining programme budget")
        else:
            recommended, reason = True, _("Within budget in rank order")
        if recommended:
            spent[subject.category] = spent.get(subject.category, Decimal(0)) + amount
            total += amount
        items.append(
            RecommendationItem(
                subject_id=subject.id,
                subject_type=subject.subject_type,
                subject_ref=subject.subject_id,
                title=subject.title,
                category=subject.category,
                rank_in_category=subject.rank_in_category,
                final_score=subject.final_score,
                requested_amount=subject.requested_amount,
                recommended=recommended,
                reason=reason,
                adjusted=adjustment is not None,
            )
        )
    categories = sorted({s.category for s in subjects} | set(category_budgets))
    return RecommendationRead(
        round_id=review_round.id,
        programme_budget=review_round.programme_budget,
        recommended_total=total,
        categories=[
            CategoryTotal(
                category=c, budget=category_budgets.get(c), recommended_total=spent.get(c, Decimal(0))
            )
            for c in categories
        ],
        items=items,
    )


async def adjust_recommendation(
    session: AsyncSession, principal: Principal, round_id: int, data: AdjustmentIn
) -> RecommendationRead:
    centre_id = access.centre_of(principal)
    review_round = await get_round(session, principal, round_id)
    if review_round.state is not RoundState.closed:
        raise Conflict(_("The recommendation is made once the round is closed"))
    subject = await SubjectRepository(session, principal).in_round(review_round.id, data.subject_id)
    if subject is None:
        raise ValidationFailed.field("subject_id", _("No such subject in this round"))
    existing = (await AdjustmentRepository(session, principal).of_round(review_round.id)).get(subject.id)
    before = None if existing is None else {"recommended": existing.recommended, "reason": existing.reason}
    if existing is None:
        existing = RecommendationAdjustment(
            centre_id=centre_id, round_id=review_round.id, subject_id=subject.id
        )
        session.add(existing)
    existing.recommended, existing.reason = data.recommended, data.reason.strip()
    existing.adjusted_by = principal.user_id
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="recommendation.adjust",
        subject_type="round_subject",
        subject_id=subject.id,
        centre_id=centre_id,
        before=before,
        after={"recommended": data.recommended, "reason": existing.reason},
    )
    return await recommendation(session, principal, round_id)


@dataclass(frozen=True)
class SubjectOutcome:
    """The finalised result of one subject of a closed round (money rules read this)."""

    round_id: int
    purpose: RoundPurpose
    subject_type: str
    subject_ref: int
    total: Decimal
    grade: GradeCode
    closed_at: dt.datetime

    @property
    def label(self) -> str:
        return _(GRADE_LABELS[self.grade])

    @property
    def passed(self) -> bool:
        return self.grade is not GradeCode.fail


async def subject_outcome(
    session: AsyncSession, principal: Principal, round_subject_id: int
) -> SubjectOutcome:
    subject = await SubjectRepository(session, principal).get(round_subject_id)
    review_round = await get_round(session, principal, subject.round_id)
    if review_round.state is not RoundState.closed or subject.final_score is None or subject.grade is None:
        raise Conflict(_("Results are shown once the round is closed"))
    assert review_round.closed_at is not None
    return SubjectOutcome(
        round_id=review_round.id,
        purpose=review_round.purpose,
        subject_type=subject.subject_type,
        subject_ref=subject.subject_id,
        total=subject.final_score,
        grade=GradeCode(subject.grade),
        closed_at=review_round.closed_at,
    )


async def latest_outcome(
    session: AsyncSession, principal: Principal, subject_type: str, subject_ref: int, purpose: RoundPurpose
) -> SubjectOutcome | None:
    """The most recent closed result for e.g. ``("award", 12, RoundPurpose.midterm)``."""
    subject = await SubjectRepository(session, principal).latest_closed(subject_type, subject_ref, purpose)
    return None if subject is None else await subject_outcome(session, principal, subject.id)
