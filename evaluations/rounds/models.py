"""Review rounds and their subjects.

Subjects are generic: a round scores whatever its caller registers (an application, an
award's mid-term or final evaluation, a contract, an organisation's capacity). The
organisation of a subject is a plain integer: organisations belong to a higher domain.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Enum, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, Money, TimestampMixin, UTCDateTime, compare_and_set, utcnow
from core.i18n import N_
from evaluations.rubrics.models import SCORE, RoundPurpose, RubricVersion


class RoundState(StrEnum):
    open = "open"
    closed = "closed"


ROUND_STATE_LABELS: dict[RoundState, str] = {
    RoundState.open: N_("Open"),
    RoundState.closed: N_("Closed"),
}


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
