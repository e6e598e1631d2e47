"""The street's network of sites and its yearly cultivation targets.

Sites form one tree per centre: the hub, stations one level down (each in one community)
and points under a station in the same community. A cultivation plan holds targets per
year, community (or every community) and metric; progress is computed, never stored.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, Fixed, Money, TimestampMixin, string_enum
from core.i18n import N_


class SiteLevel(StrEnum):
    hub = "hub"
    station = "station"
    point = "point"


class SiteKind(StrEnum):
    incubation_centre = "incubation_centre"
    incubation_station = "incubation_station"
    neighbour_centre = "neighbour_centre"
    neighbour_station = "neighbour_station"
    neighbour_point = "neighbour_point"
    social_work_station = "social_work_station"
    party_service_centre = "party_service_centre"
    other = "other"


class Premises(StrEnum):
    government = "government"
    community = "community"
    rented = "rented"
    lent = "lent"
    shared = "shared"
    other = "other"


LEVEL_LABELS = {
    SiteLevel.hub: N_("Hub"),
    SiteLevel.station: N_("Station"),
    SiteLevel.point: N_("Point"),
}
SITE_KIND_LABELS = {
    SiteKind.incubation_centre: N_("Incubation centre (孵化中心)"),
    SiteKind.incubation_station: N_("Incubation station (孵化站)"),
    SiteKind.neighbour_centre: N_("Neighbourhood centre (友邻中心)"),
    SiteKind.neighbour_station: N_("Neighbourhood station (友邻站)"),
    SiteKind.neighbour_point: N_("Neighbourhood point (友邻点)"),
    SiteKind.social_work_station: N_("Social work station (社工站)"),
    SiteKind.party_service_centre: N_("Party-masses service centre (党群服务中心)"),
    SiteKind.other: N_("Other"),
}
PREMISES_LABELS = {
    Premises.government: N_("Government premises"),
    Premises.community: N_("Community premises"),
    Premises.rented: N_("Rented"),
    Premises.lent: N_("Lent free of charge"),
    Premises.shared: N_("Shared with another use"),
    Premises.other: N_("Other"),
}


class Site(TimestampMixin, Base):
    __tablename__ = "sites"
    __table_args__ = (
        Index(
            "uq_sites_one_hub",
            "centre_id",
            unique=True,
            sqlite_where=text("level = 'hub'"),
            postgresql_where=text("level = 'hub'"),
        ),
        CheckConstraint("(level = 'hub') = (parent_id IS NULL)", name="hub_is_root"),
        CheckConstraint("level = 'hub' OR community_id IS NOT NULL", name="station_in_community"),
        CheckConstraint("area_sqm IS NULL OR area_sqm >= 0", name="area_not_negative"),
        CheckConstraint("investment IS NULL OR investment >= 0", name="investment_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    level: Mapped[SiteLevel] = mapped_column(string_enum(SiteLevel, 16))
    kind: Mapped[SiteKind] = mapped_column(string_enum(SiteKind, 32))
    name: Mapped[str] = mapped_column(String(200))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    premises: Mapped[Premises | None] = mapped_column(string_enum(Premises, 16))
    area_sqm: Mapped[Decimal | None] = mapped_column(Fixed(10, 2))
    investment: Mapped[Decimal | None] = mapped_column(Money())
    opened_on: Mapped[dt.date | None] = mapped_column(Date)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    operator_contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"))
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))


class Metric(StrEnum):
    new_service = "new_service"
    new_association = "new_association"
    new_self_governance = "new_self_governance"
    new_volunteer_team = "new_volunteer_team"
    flagship = "flagship"
    total = "total"
    registered_total = "registered_total"
    filed_total = "filed_total"


METRIC_LABELS = {
    Metric.new_service: N_("New service organisations"),
    Metric.new_association: N_("New associations (社团)"),
    Metric.new_self_governance: N_("New self-governance associations"),
    Metric.new_volunteer_team: N_("New volunteer teams"),
    Metric.flagship: N_("Flagship organisations"),
    Metric.total: N_("Organisations in total"),
    Metric.registered_total: N_("Registered in total"),
    Metric.filed_total: N_("Filed in total"),
}


class CultivationPlan(TimestampMixin, Base):
    """A street office's cultivation plan (培育计划), with the document that issued it."""

    __tablename__ = "cultivation_plans"
    __table_args__ = (CheckConstraint("first_year <= last_year", name="years_in_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    document: Mapped[str] = mapped_column(String(200), default="")
    issued_on: Mapped[dt.date | None] = mapped_column(Date)
    first_year: Mapped[int] = mapped_column(Integer)
    last_year: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")

    targets: Mapped[list[CultivationTarget]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="CultivationTarget.id"
    )


class CultivationTarget(Base):
    """One year's target for one community (or, with no community, for each community)."""

    __tablename__ = "cultivation_targets"
    __table_args__ = (
        CheckConstraint("minimum >= 0", name="minimum_not_negative"),
        CheckConstraint("maximum IS NULL OR maximum >= minimum", name="maximum_not_below_minimum"),
        Index("ix_cultivation_targets_plan_year", "plan_id", "year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("cultivation_plans.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    metric: Mapped[Metric] = mapped_column(string_enum(Metric, 32))
    minimum: Mapped[int] = mapped_column(Integer)
    maximum: Mapped[int | None] = mapped_column(Integer)
