"""Reports triggered by domain events ("evaluation finalised" → project assessment report).

A domain (through ``api``) announces an event with ``emit``; kinds registered with
``on(event, kind)`` are generated for the event's subject, in the caller's transaction.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from reports import service
from reports.kinds import SHANGHAI, get_kind
from reports.models import GeneratedReport, Generator

HANDLERS: dict[str, list[str]] = {}


def on(event_name: str, kind_code: str) -> None:
    kinds = HANDLERS.setdefault(event_name, [])
    if kind_code not in kinds:
        kinds.append(kind_code)


def off(event_name: str, kind_code: str) -> None:
    if kind_code in HANDLERS.get(event_name, []):
        HANDLERS[event_name].remove(kind_code)


async def emit(
    session: AsyncSession,
    output: service.ReportOutput,
    event_name: str,
    scope_id: int,
    *,
    period: str | None = None,
) -> list[GeneratedReport]:
    generated = []
    for kind_code in list(HANDLERS.get(event_name, [])):
        kind = get_kind(kind_code)
        generated.append(
            await service.generate(
                session,
                output,
                kind_code=kind.code,
                scope_id=scope_id,
                period=period or kind.period_for(utcnow().astimezone(SHANGHAI)),
                generator=Generator.event,
                generator_ref=event_name,
            )
        )
    return generated
