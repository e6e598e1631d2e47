"""Communities (社区 / 村) of a centre's street: the places organisations, needs and
applications belong to, and that the street's cultivation targets are set for."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, TimestampMixin, string_enum
from core.i18n import N_


class CommunityKind(StrEnum):
    community = "community"
    village = "village"


COMMUNITY_KIND_LABELS = {
    CommunityKind.community: N_("Community (社区)"),
    CommunityKind.village: N_("Village (村)"),
}


class Community(TimestampMixin, Base):
    """A community or village of the centre's street; names are unique within a centre."""

    __tablename__ = "communities"
    __table_args__ = (
        UniqueConstraint("centre_id", "name"),
        CheckConstraint(
            "(households IS NULL OR households >= 0) AND (population IS NULL OR population >= 0)",
            name="counts_not_negative",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[CommunityKind] = mapped_column(
        string_enum(CommunityKind, 16), default=CommunityKind.community
    )
    code: Mapped[str | None] = mapped_column(String(32))
    households: Mapped[int | None] = mapped_column(Integer)
    population: Mapped[int | None] = mapped_column(Integer)
