"""The report archive (immutable, versioned) and report schedules."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Enum, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, TimestampMixin, UTCDateTime, compare_and_set, utcnow
from core.i18n import N_


class ScopeType(StrEnum):
    centre = "centre"
    programme = "programme"
    organisation = "organisation"
    award = "award"
    contract = "contract"
    community = "community"
    fund = "fund"


SCOPE_LABELS: dict[ScopeType, str] = {
    ScopeType.centre: N_("Centre"),
    ScopeType.programme: N_("Programme"),
    ScopeType.organisation: N_("Organisation"),
    ScopeType.award: N_("Project"),
    ScopeType.contract: N_("Contract"),
    ScopeType.community: N_("Community"),
    ScopeType.fund: N_("Community fund"),
}


class Generator(StrEnum):
    schedule = "schedule"
    event = "event"
    user = "user"
    cli = "cli"


GENERATOR_LABELS: dict[Generator, str] = {
    Generator.schedule: N_("Schedule"),
    Generator.event: N_("Event"),
    Generator.user: N_("User"),
    Generator.cli: N_("Command line"),
}


class GeneratedReport(Base):
    """One rendered PDF. Rows are never updated: a regeneration is a new version."""

    __tablename__ = "generated_reports"
    __table_args__ = (
        UniqueConstraint(
            "centre_id",
            "kind",
            "scope_type",
            "scope_id",
            "period",
            "version",
            name="uq_generated_reports_version",
        ),
        Index("ix_generated_reports_scope", "scope_type", "scope_id"),
        UniqueConstraint("centre_id", "doc_number", name="uq_generated_reports_doc_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    scope_type: Mapped[ScopeType] = mapped_column(Enum(ScopeType, native_enum=False, length=16))
    scope_id: Mapped[int] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    generator: Mapped[Generator] = mapped_column(Enum(Generator, native_enum=False, length=16))
    generator_ref: Mapped[str] = mapped_column(String(120), default="")
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(500), unique=True)
    doc_number: Mapped[str | None] = mapped_column(String(64))
    """The document number (文号) printed on an official-style report; ``None`` for working papers."""
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReportSchedule(TimestampMixin, Base):
    __tablename__ = "report_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    scope_type: Mapped[ScopeType] = mapped_column(Enum(ScopeType, native_enum=False, length=16))
    scope_id: Mapped[int] = mapped_column(Integer)
    cron: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    __mapper_args__ = compare_and_set(active)
    recipients: Mapped[Any] = mapped_column(JSON, default=list)
    last_slot_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    """The fire time of the last run (in UTC); a schedule is due when a later slot has passed."""
    last_report_id: Mapped[int | None] = mapped_column(ForeignKey("generated_reports.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class LetterStyle(StrEnum):
    plain = "plain"
    official = "official"


LETTER_STYLE_LABELS: dict[LetterStyle, str] = {
    LetterStyle.plain: N_("Plain (working paper)"),
    LetterStyle.official: N_("Official (red masthead, document number, seal)"),
}


class ReportStyle(TimestampMixin, Base):
    """How a centre's reports look: plain working papers, or official documents (红头文件)."""

    __tablename__ = "report_styles"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), unique=True)
    style: Mapped[LetterStyle] = mapped_column(
        Enum(LetterStyle, native_enum=False, length=16), default=LetterStyle.plain
    )
    issuing_unit: Mapped[str] = mapped_column(String(200), default="")
    doc_prefix: Mapped[str] = mapped_column(String(32), default="")
    """The issuing unit's short name in document numbers (发文机关代字), e.g. 玉林孵."""
    evaluating_body: Mapped[str] = mapped_column(String(200), default="")
    signatories: Mapped[Any] = mapped_column(JSON, default=list)
    """Who signs beside the seal, e.g. ``["中心主任", "评估组组长"]``."""
    prefixes: Mapped[Any] = mapped_column(JSON, default=dict)
    """A kind's own document-number prefix, overriding ``doc_prefix`` + the kind's mark."""
    revision: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": revision}  # noqa: RUF012 (SQLAlchemy reads it from the class)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class DocumentCounter(Base):
    """The last document number given per centre, report kind and year (a compare-and-set counter)."""

    __tablename__ = "report_number_counters"
    __table_args__ = (UniqueConstraint("centre_id", "kind", "year", name="uq_report_number_counters_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    last_number: Mapped[int] = mapped_column(Integer, default=0)
