"""Public jurors' one-time codes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow
from evaluations.rounds.models import ReviewRound, RoundSubject


class JuryCode(Base):
    """A one-time code for a public juror (大众评委): one sheet for one subject, no login."""

    __tablename__ = "jury_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    round_id: Mapped[int] = mapped_column(ForeignKey(ReviewRound.id, ondelete="CASCADE"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey(RoundSubject.id, ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
