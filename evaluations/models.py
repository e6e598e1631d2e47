"""Rubrics, review rounds and their subjects, assignments, conflicts, score sheets.

Subjects are generic: a round scores whatever its caller registers (an application, an
award's mid-term or final evaluation, a contract, an organisation's capacity). The
organisation of a subject is a plain integer: organisations belong to a higher domain.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, Money, TimestampMixin, UTCDateTime, compare_and_set, utcnow
from core.i18n import N_

SCORE = Numeric(6, 2)


class RoundPurpose(StrEnum):
    application_review = "application_review"
    midterm = "midterm"
    final = "final"
    contract_performance = "contract_performance"
    capacity = "capacity"


PURPOSE_LABELS: dict[RoundPurpose, str] = {
    RoundPurpose.application_review: N_("Application review"),
    RoundPurpose.midterm: N_("Mid-term evaluation"),
    RoundPurpose.final: N_("Final evaluation"),
    RoundPurpose.contract_performance: N_("Contract performance evaluation"),
    RoundPurpose.capacity: N_("Capacity assessment"),
}


class RoundState(StrEnum):
    open = "open"
    closed = "closed"


ROUND_STATE_LABELS: dict[RoundState, str] = {
    RoundState.open: N_("Open"),
    RoundState.closed: N_("Closed"),
}


class AssignmentState(StrEnum):
    pending = "pending"
    """Assigned; the evaluator has not yet declared whether they have a conflict."""
    active = "active"
    """No conflict declared: the evaluator may score."""
    conflict = "conflict"
    """Conflict declared: the assignment no longer counts and the subject needs another evaluator."""


ASSIGNMENT_STATE_LABELS: dict[AssignmentState, str] = {
    AssignmentState.pending: N_("Awaiting declaration"),
    AssignmentState.active: N_("Scoring"),
    AssignmentState.conflict: N_("Conflict declared"),
}


class SheetKind(StrEnum):
    expert = "expert"
    public = "public"


class SheetState(StrEnum):
    draft = "draft"
    submitted = "submitted"


SHEET_STATE_LABELS: dict[SheetState, str] = {
    SheetState.draft: N_("Draft"),
    SheetState.submitted: N_("Submitted"),
}


class Rubric(TimestampMixin, Base):
    __tablename__ = "rubrics"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[RoundPurpose] = mapped_column(Enum(RoundPurpose, native_enum=False, length=32))
    description: Mapped[str] = mapped_column(Text, default="")

    versions: Mapped[list[RubricVersion]] = relationship(
        lazy="raise", back_populates="rubric", order_by="RubricVersion.number"
    )


class RubricVersion(Base):
    """One immutable-once-used edition of a rubric.

    ``criteria`` is a list of ``{key, name, guidance, max_points, sub_criteria, bonus}``
    (points as strings); the base criteria add up to 100, bonus criteria add capped points
    on top. ``bands`` is a list of ``{code, min_score}`` from the highest band down.
    """

    __tablename__ = "rubric_versions"
    __table_args__ = (UniqueConstraint("rubric_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    rubric_id: Mapped[int] = mapped_column(ForeignKey("rubrics.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    bands: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    frozen: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    rubric: Mapped[Rubric] = relationship(lazy="raise", back_populates="versions")


class EvaluatorConflict(Base):
    """An evaluator's standing conflict with an organisation: never assigned its subjects."""

    __tablename__ = "evaluator_conflicts"
    __table_args__ = (UniqueConstraint("evaluator_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReviewRound(TimestampMixin, Base):
    __tablename__ = "review_rounds"
    __table_args__ = (
        CheckConstraint("expert_weight + public_weight = 100", name="weights_add_up"),
        CheckConstraint("min_sheets_per_subject >= 1", name="min_sheets_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[RoundPurpose] = mapped_column(Enum(RoundPurpose, native_enum=False, length=32))
    rubric_version_id: Mapped[int] = mapped_column(ForeignKey("rubric_versions.id"), index=True)
    min_sheets_per_subject: Mapped[int] = mapped_column(Integer, default=3)
    max_per_evaluator: Mapped[int | None] = mapped_column(Integer)
    blind: Mapped[bool] = mapped_column(Boolean, default=False)
    spread_threshold: Mapped[Decimal] = mapped_column(SCORE, default=Decimal("15"))
    expert_weight: Mapped[int] = mapped_column(Integer, default=100)
    public_weight: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    state: Mapped[RoundState] = mapped_column(
        Enum(RoundState, native_enum=False, length=16), default=RoundState.open
    )
    __mapper_args__ = compare_and_set(state)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    programme_budget: Mapped[Decimal | None] = mapped_column(Money())
    category_budgets: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    agreement: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Filled at close: ``{"icc1": float|None, "alpha": float|None, "sheets": n}``."""
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    rubric_version: Mapped[RubricVersion] = relationship(lazy="raise")
    subjects: Mapped[list[RoundSubject]] = relationship(
        lazy="raise", back_populates="round", order_by="RoundSubject.id"
    )


class RoundSubject(Base):
    """What is scored in a round, registered by the caller (grants, incubator) or by staff."""

    __tablename__ = "round_subjects"
    __table_args__ = (UniqueConstraint("round_id", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_rounds.id", ondelete="CASCADE"), index=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int] = mapped_column(Integer)
    organisation_id: Mapped[int | None] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(60), default="")
    title: Mapped[str] = mapped_column(String(200))
    requested_amount: Mapped[Decimal | None] = mapped_column(Money())
    display: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    # Filled when the round closes.
    final_score: Mapped[Decimal | None] = mapped_column(SCORE)
    grade: Mapped[str | None] = mapped_column(String(16))
    rank_in_category: Mapped[int | None] = mapped_column(Integer)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    stats: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    round: Mapped[ReviewRound] = relationship(lazy="raise", back_populates="subjects")


class Assignment(Base):
    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("subject_id", "evaluator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_rounds.id", ondelete="CASCADE"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("round_subjects.id", ondelete="CASCADE"), index=True)
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[AssignmentState] = mapped_column(
        Enum(AssignmentState, native_enum=False, length=16), default=AssignmentState.pending
    )
    __mapper_args__ = compare_and_set(state)
    conflict_reason: Mapped[str | None] = mapped_column(String(500))
    declared_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    assigned_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    round: Mapped[ReviewRound] = relationship(lazy="raise")
    subject: Mapped[RoundSubject] = relationship(lazy="raise")
    sheet: Mapped[ScoreSheet | None] = relationship(lazy="raise", back_populates="assignment")


class JuryCode(Base):
    """A one-time code for a public juror (大众评委): one sheet for one subject, no login."""

    __tablename__ = "jury_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_rounds.id", ondelete="CASCADE"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("round_subjects.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ScoreSheet(Base):
    __tablename__ = "score_sheets"
    __table_args__ = (
        CheckConstraint("(assignment_id IS NULL) <> (jury_code_id IS NULL)", name="expert_or_public"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_rounds.id", ondelete="CASCADE"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("round_subjects.id", ondelete="CASCADE"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), unique=True
    )
    jury_code_id: Mapped[int | None] = mapped_column(ForeignKey("jury_codes.id"), unique=True)
    evaluator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[SheetKind] = mapped_column(Enum(SheetKind, native_enum=False, length=16))
    state: Mapped[SheetState] = mapped_column(
        Enum(SheetState, native_enum=False, length=16), default=SheetState.draft
    )
    __mapper_args__ = compare_and_set(state)
    total: Mapped[Decimal] = mapped_column(SCORE, default=Decimal("0"))
    comment: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    assignment: Mapped[Assignment | None] = relationship(lazy="raise", back_populates="sheet")
    items: Mapped[list[ScoreItem]] = relationship(
        lazy="raise", cascade="all, delete-orphan", back_populates="sheet", order_by="ScoreItem.id"
    )


class ScoreItem(Base):
    __tablename__ = "score_items"
    __table_args__ = (UniqueConstraint("sheet_id", "criterion_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("score_sheets.id", ondelete="CASCADE"), index=True)
    criterion_key: Mapped[str] = mapped_column(String(40))
    score: Mapped[Decimal | None] = mapped_column(SCORE)
    comment: Mapped[str] = mapped_column(Text, default="")

    sheet: Mapped[ScoreSheet] = relationship(lazy="raise", back_populates="items")


class RecommendationAdjustment(Base):
    """Staff's reasoned override of the budget-constrained recommendation for one subject."""

    __tablename__ = "recommendation_adjustments"
    __table_args__ = (UniqueConstraint("subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_rounds.id", ondelete="CASCADE"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("round_subjects.id", ondelete="CASCADE"))
    recommended: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(500))
    adjusted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    adjusted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
