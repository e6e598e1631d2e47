"""Who may do what in grants, shared by every aggregate package: staff and finance roles, the
caller's centre and organisations, and telling a centre's finance officers."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Forbidden
from core.i18n import _
from core.identity import service as identity
from core.identity.models import Role
from core.identity.principal import Principal
from core.notifications import remind
from grants.repository import finance_user_ids
from incubator import repository as incubator_queries


def centre_of(principal: Principal) -> int:
    if principal.centre_id is None:
        raise Forbidden(_("District-level accounts are read-only"))
    return principal.centre_id


def require_staff(principal: Principal) -> None:
    identity.require_writer(principal)
    if not principal.has(Role.staff):
        raise Forbidden(_("Only centre staff may do this"))


def require_finance(principal: Principal) -> None:
    identity.require_writer(principal)
    if not principal.has(Role.finance):
        raise Forbidden(_("Only a finance officer may do this"))


async def member_org_ids(session: AsyncSession, principal: Principal) -> list[int]:
    return await incubator_queries.member_organisation_ids(session, principal.user_id)


async def notify_finance(session: AsyncSession, centre_id: int, title: str, body: str, link: str) -> None:
    users = await finance_user_ids(session, centre_id)
    if users:
        await remind(session, users, "tranche_due", title, body, link)
