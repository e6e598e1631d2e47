"""Staff's overrides of the recommendation (the results themselves are stored on the subjects)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow
from evaluations.rounds.models import ReviewRound, RoundSubject


class RecommendationAdjustment(Base):
    """Staff's reasoned override of the budget-constrained recommendation for one subject."""

    __tablename__ = "recommendation_adjustments"
    __table_args__ = (UniqueConstraint("subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    round_id: Mapped[int] = mapped_column(ForeignKey(ReviewRound.id, ondelete="CASCADE"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey(RoundSubject.id, ondelete="CASCADE"))
    recommended: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(500))
    adjusted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    adjusted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
