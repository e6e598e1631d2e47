"""The registry of report kinds.

A kind says what it covers (scope type), how its data is gathered (an async builder that
answers the template context) and which template renders it. ``reports`` ships the centre
monthly briefing; kinds that read other domains (project assessment, incubation growth,
programme, contract performance) are registered by the composition root in ``api/``,
which passes the other domains' functions in, so ``reports`` never imports them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import ValidationFailed
from core.i18n import _
from reports.models import ScopeType

SHANGHAI = ZoneInfo("Asia/Shanghai")

Builder = Callable[[AsyncSession, int, str], Awaitable[dict[str, Any]]]
"""``(session, scope_id, period) -> template context``; raises NotFound for a missing scope."""

CentreOf = Callable[[AsyncSession, int], Awaitable[int | None]]
"""The centre a scope belongs to (``None`` when the scope does not exist)."""

PeriodFor = Callable[[dt.datetime], str]
"""The period a run at the given local (Asia/Shanghai) time reports on."""


def previous_month(local: dt.datetime) -> str:
    first = local.date().replace(day=1)
    last_month = first - dt.timedelta(days=1)
    return f"{last_month.year:04d}-{last_month.month:02d}"


def current_month(local: dt.datetime) -> str:
    return f"{local.year:04d}-{local.month:02d}"


async def _centre_itself(session: AsyncSession, scope_id: int) -> int | None:
    from core.identity.repository import centre_by_id

    centre = await centre_by_id(session, scope_id)
    return centre.id if centre is not None else None


@dataclass(frozen=True)
class ReportKind:
    code: str
    label: str
    """An ``N_()`` msgid, translated where shown."""
    scope_type: ScopeType
    builder: Builder
    template: str
    centre_of: CentreOf = _centre_itself
    period_for: PeriodFor = previous_month
    period_pattern: str = r"^\d{4}-(0[1-9]|1[0-2])$"
    period_hint: str = "2026-10"
    evaluated: bool = False
    """An evaluation's report: the official style names the evaluating body."""
    number_mark: str = ""
    """An ``N_()`` msgid: the character added to the centre's prefix in this kind's document
    numbers (评 for assessments), so each kind has its own series."""


KINDS: dict[str, ReportKind] = {}


def register_kind(kind: ReportKind) -> None:
    """Register (or replace, so re-registration in tests and reloads is harmless)."""
    KINDS[kind.code] = kind


def get_kind(code: str) -> ReportKind:
    kind = KINDS.get(code)
    if kind is None:
        raise ValidationFailed.field("kind", _("Unknown report kind: {kind}").format(kind=code[:64]))
    return kind


def all_kinds() -> list[ReportKind]:
    return sorted(KINDS.values(), key=lambda k: k.code)


def validate_period(kind: ReportKind, period: str) -> str:
    import re

    if not re.match(kind.period_pattern, period):
        raise ValidationFailed.field(
            "period", _("The period must look like {example}").format(example=kind.period_hint)
        )
    return period
