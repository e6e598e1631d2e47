"""Evaluators assigned to subjects, and their standing conflicts with organisations."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Enum, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, compare_and_set, utcnow
from core.i18n import N_
from evaluations.rounds.models import ReviewRound, RoundSubject

if TYPE_CHECKING:  # the sheets package builds on assignments; the mapper resolves the name
    from evaluations.sheets.models import ScoreSheet


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
