"""The timelines of applications, awards and contracts, written with the audit log in one call.

Each of the three keeps a timeline a user reads on its page (who did what, when, with which
reason or note) and the audit log keeps the chained record of the same step. ``record``
writes both in the caller's transaction, so the two cannot drift apart; ``row`` builds a
timeline row alone for a step audited under another subject (a payment is audited as the
disbursement's, and shown on the award's timeline).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.db import Base, utcnow
from core.identity.principal import Principal
from grants.applications.models import Application, ApplicationEvent
from grants.awards.models import Award, AwardEvent
from grants.contracts.models import Contract, ContractEvent

Subject = Application | Award | Contract


def _kind(subject: Subject) -> str:
    """The subject's name in the audit log (and the prefix of its actions there)."""
    if isinstance(subject, Application):
        return "application"
    if isinstance(subject, Award):
        return "award"
    return "contract"


def row(
    principal: Principal | None,
    subject: Subject,
    action: str,
    note: str = "",
    previous: StrEnum | None = None,
) -> Base:
    """The subject's timeline row for one step (not yet added to the session)."""
    actor = principal.email if principal else "system"
    from_state = previous.value if previous else None
    if isinstance(subject, Application):
        return ApplicationEvent(
            application_id=subject.id,
            action=action,
            from_state=from_state,
            to_state=subject.state.value,
            reason=note,
            actor=(principal.full_name or principal.email) if principal else "system",
        )
    if isinstance(subject, Award):
        return AwardEvent(award_id=subject.id, at=utcnow(), action=action, note=note, actor=actor)
    return ContractEvent(
        contract_id=subject.id,
        at=utcnow(),
        action=action,
        from_state=from_state,
        to_state=subject.state.value,
        note=note,
        actor=actor,
    )


async def record(
    session: AsyncSession,
    principal: Principal | None,
    subject: Subject,
    action: str,
    *,
    note: str = "",
    previous: StrEnum | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """One step of ``subject``: its timeline row and its audit entry, together (flushes).

    The audit entry's ``before`` is the previous state when one is given; its ``after`` is
    the state and the note (an application's "reason") with ``extra`` beside them, unless
    ``after`` says otherwise.
    """
    session.add(row(principal, subject, action, note, previous))
    await session.flush()
    kind = _kind(subject)
    if before is None and previous is not None:
        before = {"state": previous}
    if after is None:
        after = {"state": subject.state, "reason" if kind == "application" else "note": note, **(extra or {})}
    await audit.record(
        session,
        actor=principal,
        action=f"{kind}.{action}",
        subject_type=kind,
        subject_id=subject.id,
        centre_id=subject.centre_id,
        before=before,
        after=after,
    )
