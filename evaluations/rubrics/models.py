"""Rubrics and their versions; a round's purpose names what kind of rubric it scores on."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, TimestampMixin, UTCDateTime, utcnow
from core.i18n import N_

SCORE = Numeric(6, 2)


class RoundPurpose(StrEnum):
    application_review = "application_review"
    midterm = "midterm"
    final = "final"
    contract_performance = "contract_performance"
    capacity = "capacity"


PROJECT_PURPOSES = (RoundPurpose.midterm, RoundPurpose.final)
"""Purposes of the rounds that evaluate an award, on the centre's project rubric."""

PURPOSE_LABELS: dict[RoundPurpose, str] = {
    RoundPurpose.application_review: N_("Application review"),
    RoundPurpose.midterm: N_("Mid-term evaluation"),
    RoundPurpose.final: N_("Final evaluation"),
    RoundPurpose.contract_performance: N_("Contract performance evaluation"),
    RoundPurpose.capacity: N_("Capacity assessment"),
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
