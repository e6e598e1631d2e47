"""Score sheets, expert or public, and their scores per criterion."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, compare_and_set, utcnow
from core.i18n import N_
from evaluations.assignments.models import Assignment
from evaluations.jury.models import JuryCode
from evaluations.rubrics.models import SCORE


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
    jury_code_id: Mapped[int | None] = mapped_column(ForeignKey(JuryCode.id), unique=True)
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
