"""Names, not ids, in feeds and timelines: who did it and what it was done to.

The audit log keeps ids (and the actor's email); a reader sees people's names and the
titles of applications, projects, contracts, programmes and organisations. Each domain
answers for its own records through its repository; one batch of statements per page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from communities import repository as communities
from core.audit import AuditEvent
from core.i18n import gettext
from core.identity import repository as identity
from funds import repository as funds
from grants.applications import repository as applications
from grants.awards import repository as awards
from grants.contracts import repository as contracts
from grants.programmes import repository as programmes
from incubator import repository as incubator

Lookup = Callable[[AsyncSession, Collection[int]], Awaitable[dict[int, str]]]
LOOKUPS: dict[str, Lookup] = {
    "application": applications.application_titles,
    "award": awards.award_titles,
    "contract": contracts.contract_titles,
    "programme": programmes.programme_names,
    "organisation": incubator.organisation_names,
    "user": identity.display_names,
}
# What a report or a schedule is about, by its scope type (reports' ScopeType values).
SCOPE_LOOKUPS: dict[str, Lookup] = {
    "centre": identity.centre_names,
    "programme": programmes.programme_names,
    "organisation": incubator.organisation_names,
    "award": awards.award_titles,
    "contract": contracts.contract_titles,
    "community": communities.community_names,
    "fund": funds.fund_names,
}


@dataclass
class AuditNames:
    subjects: dict[tuple[str, str], str] = field(default_factory=dict)
    people: dict[int, str] = field(default_factory=dict)

    def subject(self, event: AuditEvent) -> str | None:
        return self.subjects.get((event.subject_type, event.subject_id))

    def actor(self, event: AuditEvent) -> str:
        """The actor's name where they have one, Seedbed itself for what no person did (a job,
        the loader, the command line), else the email recorded with the event."""
        if event.actor_id is not None and self.people.get(event.actor_id):
            return self.people[event.actor_id]
        if event.actor_id is None and event.actor == "system":
            return gettext("Seedbed (automatic)")
        return event.actor


async def audit_names(session: AsyncSession, events: Sequence[AuditEvent]) -> AuditNames:
    wanted: dict[str, set[int]] = {}
    for event in events:
        if event.subject_type in LOOKUPS and event.subject_id.isdigit():
            wanted.setdefault(event.subject_type, set()).add(int(event.subject_id))
    names = AuditNames()
    for subject_type, ids in wanted.items():
        for row_id, name in (await LOOKUPS[subject_type](session, ids)).items():
            names.subjects[(subject_type, str(row_id))] = name
    actor_ids = {e.actor_id for e in events if e.actor_id is not None}
    names.people = {k: v for k, v in (await identity.display_names(session, actor_ids)).items() if v}
    return names


async def scope_names(session: AsyncSession, scopes: Iterable[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """The names of what reports and schedules are about, by (scope type, id): one statement
    per type on the page."""
    wanted: dict[str, set[int]] = {}
    for scope_type, scope_id in scopes:
        if scope_type in SCOPE_LOOKUPS:
            wanted.setdefault(scope_type, set()).add(scope_id)
    names: dict[tuple[str, int], str] = {}
    for scope_type, ids in wanted.items():
        for row_id, name in (await SCOPE_LOOKUPS[scope_type](session, ids)).items():
            names[(scope_type, row_id)] = name
    return names
