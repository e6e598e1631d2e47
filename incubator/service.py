"""Rules and state changes of the incubator: organisations, members, stays, support, graduation."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from communities import service as communities
from core import audit
from core.clock import SHANGHAI
from core.clock import today as shanghai_today
from core.db import utcnow
from core.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from core.i18n import _
from core.identity import repository as identity_queries
from core.identity import service as identity
from core.identity.models import Role, User
from core.identity.principal import Principal
from core.identity.schemas import UserCreate
from core.repository import Paged, PageParams
from core.repository.listing import SortOrder
from core.security import new_token, token_digest
from evaluations.rubrics import service as rubric_service
from incubator import repository as queries
from incubator.models import (
    ACTIVE_STAY_STATES,
    LEGAL_LABELS,
    LEGAL_RANK,
    STAY_LABELS,
    CapacityAssessment,
    CommunityMove,
    GraduationPolicy,
    IncubationStay,
    LegalStatus,
    MemberInvitation,
    MemberRole,
    Organisation,
    OrganisationCategory,
    OrganisationMember,
    StayEvent,
    StayState,
    SupportActivity,
)
from incubator.repository import (
    ActivityRepository,
    MemberRepository,
    OrganisationFilters,
    OrganisationRepository,
    StayRepository,
    activity_totals,
    reads_centre_wide,
)
from incubator.schemas import (
    AcceptInvitation,
    ActivityCreate,
    BarRequest,
    CapacityAssessmentCreate,
    CriterionResult,
    GraduationCheck,
    GraduationPolicyUpdate,
    OrganisationCreate,
    OrganisationUpdate,
    SignupRequest,
    StayAdmit,
    StayAssess,
    StayCreate,
    StayExit,
    StayExtend,
    StayGraduate,
    StayStart,
)
from incubator.uscc import normalise, uscc_problem

# What a higher domain tells the graduation check (grants passes its implementation in
# through api/): how many projects of this organisation were completed.
CompletedProjects = Callable[[AsyncSession, int], Awaitable[int]]

ORGANISATION_AUDIT_FIELDS = (
    "name",
    "kind",
    "legal_status",
    "uscc",
    "service_fields",
    "community",
    "community_id",
    "courtyard",
    "category",
    "origin",
    "parent_id",
    "flagship_on",
    "filed_on",
    "registered_on",
    "exited_on",
    "party_organisation",
    "party_members",
    "street",
    "contact_name",
    "founded_on",
    "staff_count",
    "volunteer_count",
)


NULLABLE_ORGANISATION_FIELDS = frozenset(
    {"founded_on", "origin", "parent_id", "flagship_on", "filed_on", "registered_on", "exited_on"}
)
# set through their own rules in update_organisation, not copied from the request
PLACEMENT_FIELDS = frozenset({"community", "community_id", "moved_on", "parent_id"})
MAX_PLANNED_MONTHS = 60  # the planned term in all, extensions included (CHECK planned_months_range)


def _snapshot(org: Organisation) -> dict[str, Any]:
    return {name: getattr(org, name) for name in ORGANISATION_AUDIT_FIELDS}


def _require_staff(principal: Principal) -> None:
    identity.require_writer(principal)
    if not principal.has(Role.staff):
        raise Forbidden(_("Only centre staff may do this"))


# --- organisations ----------------------------------------------------------------------


async def _placed_community(
    session: AsyncSession,
    principal: Principal,
    centre_id: int,
    community_id: int | None,
    name: str | None,
) -> tuple[int | None, str]:
    """The community an organisation belongs to: chosen by id, or (for API clients that still
    send free text) by name, which finds or records the centre's community of that name.
    A station officer's organisations are always in their own community."""
    if principal.station_only:
        if community_id is not None and community_id != principal.community_id:
            raise ValidationFailed.field(
                "community_id", _("A station officer records only in their own community")
            )
        community_id = principal.community_id
    if community_id is not None:
        community = await communities.of_centre(session, centre_id, community_id)
        return community.id, community.name
    if name and name.strip():
        community = await communities.resolve_name(session, principal, centre_id, name)
        return community.id, community.name
    return None, ""


async def _check_parent(
    session: AsyncSession, org_id: int | None, centre_id: int, parent_id: int | None
) -> None:
    """A parent is an organisation of the same centre, and the parent chain never loops."""
    seen = {org_id} if org_id is not None else set()
    current = parent_id
    while current is not None:
        if current in seen:
            raise ValidationFailed.field(
                "parent_id", _("An organisation cannot sit under itself or under one of its own teams")
            )
        seen.add(current)
        parent = await OrganisationRepository.by_id(session, current)
        if parent is None or parent.centre_id != centre_id:
            raise ValidationFailed.field("parent_id", _("Choose a parent organisation of the same centre"))
        current = parent.parent_id


async def _check_uscc(
    session: AsyncSession,
    centre_id: int,
    legal_status: LegalStatus,
    code: str | None,
    *,
    exclude_id: int | None,
) -> str | None:
    if code:
        code = normalise(code)
        problem = uscc_problem(code)
        if problem:
            raise ValidationFailed.field("uscc", problem)
        if await queries.uscc_taken(session, centre_id, code, exclude_id):
            raise ValidationFailed.field("uscc", _("Another organisation of this centre has this code"))
    elif legal_status is LegalStatus.registered:
        raise ValidationFailed.field(
            "uscc", _("A registered organisation needs its unified social credit code")
        )
    return code or None


async def create_organisation(
    session: AsyncSession, principal: Principal, data: OrganisationCreate, *, centre_id: int | None = None
) -> Organisation:
    target_centre = centre_id if centre_id is not None else principal.centre_id
    if target_centre is None:
        raise Forbidden(_("District-level accounts are read-only"))
    code = await _check_uscc(session, target_centre, data.legal_status, data.uscc, exclude_id=None)
    community_id, community_name = await _placed_community(
        session, principal, target_centre, data.community_id, data.community
    )
    await _check_parent(session, None, target_centre, data.parent_id)
    values = data.model_dump(exclude={"uscc", "contact_email", "community", "community_id"})
    org = Organisation(
        centre_id=target_centre,
        uscc=code,
        contact_email=data.contact_email or "",
        community_id=community_id,
        community=community_name,
        **values,
    )
    org.service_fields = [f.value for f in data.service_fields]
    session.add(org)
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="organisation.create",
        subject_type="organisation",
        subject_id=org.id,
        centre_id=org.centre_id,
        after=_snapshot(org),
    )
    return org


async def signup(session: AsyncSession, data: SignupRequest) -> tuple[User, Organisation]:
    """Self-service: a person creates their account and their organisation (unverified)."""
    centre = await identity_queries.get_centre_by_slug(session, data.centre)
    if centre is None:
        raise ValidationFailed.field("centre", _("No centre has this short name"))
    user = await identity.create_user(
        session,
        UserCreate(
            email=data.email,
            password=data.password,
            full_name=data.full_name,
            roles=[Role.applicant],
            centre_id=centre.id,
        ),
        actor=None,
    )
    principal = identity.principal_of(user)
    org = await create_organisation(session, principal, data.organisation, centre_id=centre.id)
    session.add(OrganisationMember(organisation_id=org.id, user_id=user.id, role=MemberRole.owner))
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="organisation.signup",
        subject_type="organisation",
        subject_id=org.id,
        centre_id=centre.id,
        after={"owner": user.email},
    )
    return user, org


async def get_organisation(session: AsyncSession, principal: Principal, organisation_id: int) -> Organisation:
    return await OrganisationRepository(session, principal).get(organisation_id)


async def organisation_profile(session: AsyncSession, principal: Principal, organisation_id: int) -> Any:
    """The columns an organisation's profile shows, read without building the organisation."""
    return await OrganisationRepository(session, principal).profile(organisation_id)


async def name_and_membership(
    session: AsyncSession, principal: Principal, organisation_id: int
) -> tuple[str, bool]:
    """The name of an organisation the caller may read, and whether the caller is a member."""
    repository = OrganisationRepository(session, principal)
    found = await repository.name_and_membership(organisation_id, principal.user_id)
    if found is None:
        raise NotFound(_(repository.not_found_message))
    return found


async def known_name_and_membership(
    session: AsyncSession,
    principal: Principal,
    organisation_id: int,
    known: tuple[str, int, bool] | None,
) -> tuple[str, bool]:
    """``name_and_membership``, answered from ``known`` (the organisation's name, its centre
    and whether the caller is a member, read elsewhere: an application's page reads them
    with the application) when the caller reads their whole centre and the organisation is
    in it; else asked of the repository, whose scope then decides."""
    if known is not None and reads_centre_wide(principal) and principal.in_centre(known[1]):
        return known[0], known[2]
    return await name_and_membership(session, principal, organisation_id)


async def list_organisations(
    session: AsyncSession,
    principal: Principal,
    filters: OrganisationFilters,
    page: PageParams,
    order: SortOrder | None = None,
) -> Paged[Organisation]:
    repository = OrganisationRepository(session, principal)
    return await repository.paginate(repository.filtered(filters, order), page)


async def organisation_rows(
    session: AsyncSession, principal: Principal, filters: OrganisationFilters, page: PageParams
) -> Paged[Row[Any]]:
    """A page of organisations as rows of their columns and ``verified`` (no ORM objects):
    what the organisation list answers."""
    repository = OrganisationRepository(session, principal)
    build = lambda shape: repository.with_verified(repository.shaped(shape))  # noqa: E731
    return await repository.page_of("rows", build, filters.bound(), page)


async def all_organisations(
    session: AsyncSession,
    principal: Principal,
    filters: OrganisationFilters,
    *,
    limit: int = 10_000,
    order: SortOrder | None = None,
) -> list[Organisation]:
    repository = OrganisationRepository(session, principal)
    return list(await repository.get_all(repository.filtered(filters, order).limit(limit)))


VERIFIED_FIELDS = ("legal_status", "uscc")


def _refuse_unverified_status_change(
    principal: Principal, org: Organisation, changes: dict[str, Any]
) -> None:
    """A verified organisation's legal status and credit code change only through staff, who
    re-verify them: the status sets the organisation's cap in every programme."""
    if principal.has(Role.staff) or org.verified_at is None:
        return
    for name in VERIFIED_FIELDS:
        if name not in changes or changes[name] is None:
            continue
        new = changes[name]
        if name == "uscc":
            new = normalise(new) if new else None
            if new == (org.uscc or None):
                continue
        elif new == org.legal_status:
            continue
        raise ValidationFailed.field(
            name,
            _(
                "The legal status and the credit code of a verified organisation are changed by centre "
                "staff, who verify them again; please ask the centre"
            ),
        )


async def update_organisation(
    session: AsyncSession, principal: Principal, organisation_id: int, data: OrganisationUpdate
) -> Organisation:
    identity.require_writer(principal)
    org = await get_organisation(session, principal, organisation_id)
    if (
        not principal.has(Role.staff, Role.station)
        and await queries.member_role(session, org.id, principal.user_id) is None
    ):
        raise Forbidden(_("Only centre staff and the organisation's members may edit it"))
    before = _snapshot(org)
    changes = data.model_dump(exclude_unset=True)
    _refuse_unverified_status_change(principal, org, changes)
    await _change_bank_account(
        session, principal, org, {n: changes.pop(n) for n in BANK_FIELDS if n in changes}
    )
    if data.community_id is not None or (data.community or "").strip():
        # null or blank means "unchanged", as for the other required fields
        await _move(session, principal, org, data.community_id, data.community, data.moved_on)
    if "parent_id" in changes:
        await _check_parent(session, org.id, org.centre_id, data.parent_id)
        org.parent_id = data.parent_id
    legal_status = changes.get("legal_status") or org.legal_status
    if "uscc" in changes or "legal_status" in changes:
        org.uscc = await _check_uscc(
            session, org.centre_id, legal_status, changes.get("uscc", org.uscc), exclude_id=org.id
        )
    for name, value in changes.items():
        if name == "uscc" or name in PLACEMENT_FIELDS:
            continue
        if name == "service_fields" and value is not None:
            value = [str(v) for v in value]
        if name == "contact_email":
            value = value or ""
        if value is None and name not in NULLABLE_ORGANISATION_FIELDS:
            continue  # null means "unchanged" for the required columns
        setattr(org, name, value)
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="organisation.update",
        subject_type="organisation",
        subject_id=org.id,
        centre_id=org.centre_id,
        before=before,
        after=_snapshot(org),
    )
    return org


BANK_FIELDS = ("bank_name", "bank_account_name", "bank_account_no")


async def bank_account_editable(
    session: AsyncSession, principal: Principal, org: Organisation
) -> tuple[bool, str]:
    """The account grants are paid to is the organisation's owners' to give, or centre staff's
    on their behalf; a member or a station officer may not redirect the money."""
    if principal.read_only:
        return False, _("District readers change nothing")
    if principal.has(Role.staff) and principal.in_centre(org.centre_id):
        return True, ""
    if await queries.member_role(session, org.id, principal.user_id) is MemberRole.owner:
        return True, ""
    return False, _("Only the organisation's owners and centre staff may change its bank account")


def _masked(account: dict[str, str]) -> dict[str, str]:
    number = account["bank_account_no"].replace(" ", "")
    return {**account, "bank_account_no": f"****{number[-4:]}" if number else ""}


async def _change_bank_account(
    session: AsyncSession, principal: Principal, org: Organisation, wanted: dict[str, str | None]
) -> None:
    """Change the payee account, its three parts together (null: unchanged, blank: cleared).

    Each change is audited on its own, the number masked, with whether the organisation was
    already verified: finance is shown a change made after approval beside the payments."""
    old = {name: getattr(org, name) for name in BANK_FIELDS}
    new = {name: old[name] if wanted.get(name) is None else str(wanted[name]) for name in BANK_FIELDS}
    if new == old:
        return
    allowed, reason = await bank_account_editable(session, principal, org)
    if not allowed:
        raise Forbidden(reason)
    missing = [name for name in BANK_FIELDS if not new[name]]
    if 0 < len(missing) < len(BANK_FIELDS):
        message = _("Give the bank, the account name and the account number together")
        raise ValidationFailed(message, details=[FieldError(name, message) for name in missing])
    for name, value in new.items():
        setattr(org, name, value)
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="organisation.bank_account",
        subject_type="organisation",
        subject_id=org.id,
        centre_id=org.centre_id,
        before=_masked(old),
        after={**_masked(new), "verified": org.verified},
    )


async def _move(
    session: AsyncSession,
    principal: Principal,
    org: Organisation,
    community_id: int | None,
    name: str | None,
    moved_on: dt.date | None,
) -> None:
    """Place the organisation in another community, keeping the move: cultivation counts an
    organisation where it was at the end of each year."""
    new_id, new_name = await _placed_community(session, principal, org.centre_id, community_id, name)
    if new_id == org.community_id:
        org.community = new_name
        return
    if principal.station_only and org.community_id is not None:
        raise Forbidden(_("Only centre staff may move an organisation to another community"))
    if org.community_id is not None:
        session.add(
            CommunityMove(
                organisation_id=org.id,
                from_community_id=org.community_id,
                to_community_id=new_id,
                moved_on=moved_on or shanghai_today(),
            )
        )
    org.community_id = new_id
    org.community = new_name


async def verify_organisation(
    session: AsyncSession, principal: Principal, organisation_id: int
) -> Organisation:
    _require_staff(principal)
    org = await get_organisation(session, principal, organisation_id)
    if org.verified_at is not None:
        raise Conflict(_("The organisation is already verified"))
    # Compare-and-set: of two staff verifying at once, one records it.
    verified = await queries.mark_verified(session, org.id, principal.user_id)
    if verified is None:
        raise Conflict(_("The organisation is already verified"))
    set_committed_value(org, "verified_at", verified)
    set_committed_value(org, "verified_by", principal.user_id)
    await audit.record(
        session,
        actor=principal,
        action="organisation.verify",
        subject_type="organisation",
        subject_id=org.id,
        centre_id=org.centre_id,
        after={"verified": True},
    )
    return org


def bar_in_force(org: Organisation, on: dt.date) -> str | None:
    """Why ``org`` may not receive new public money on ``on`` (an application or a purchased-service
    contract), or ``None``. One list of bars: staff's, and those set by a terminated award
    or a failed contract, all recorded on the organisation."""
    if not org.barred_on(on):
        return None
    return _("Barred until {date}: {reason}").format(date=org.barred_until, reason=org.bar_reason)


async def list_bars(
    session: AsyncSession, principal: Principal, page: PageParams, *, on: dt.date
) -> Paged[Organisation]:
    """The organisations barred on ``on``, with the reason and the end of each bar."""
    repository = OrganisationRepository(session, principal)
    return await repository.paginate(repository.barred(on), page)


async def bar_organisation(
    session: AsyncSession, principal: Principal, organisation_id: int, data: BarRequest, *, today: dt.date
) -> Organisation:
    _require_staff(principal)
    org = await get_organisation(session, principal, organisation_id)
    if data.until < today:
        raise ValidationFailed.field("until", _("The bar must last until today or later"))
    before = {"barred_until": org.barred_until, "bar_reason": org.bar_reason}
    org.barred_until = data.until
    org.bar_reason = data.reason
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="organisation.bar",
        subject_type="organisation",
        subject_id=org.id,
        centre_id=org.centre_id,
        before=before,
        after={"barred_until": org.barred_until, "bar_reason": org.bar_reason},
    )
    return org


async def lift_bar(
    session: AsyncSession, principal: Principal, organisation_id: int, reason: str
) -> Organisation:
    _require_staff(principal)
    org = await get_organisation(session, principal, organisation_id)
    if org.barred_until is None:
        raise Conflict(_("The organisation is not barred"))
    before = {"barred_until": org.barred_until, "bar_reason": org.bar_reason}
    org.barred_until = None
    org.bar_reason = None
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="organisation.lift_bar",
        subject_type="organisation",
        subject_id=org.id,
        centre_id=org.centre_id,
        before=before,
        after={"reason": reason},
    )
    return org


async def bar_by_system(
    session: AsyncSession, actor: Principal, organisation_id: int, until: dt.date, reason: str
) -> None:
    """Bar an organisation as the consequence of another rule (failed evaluation, clawback)."""
    org = await session.get(Organisation, organisation_id)
    if org is None:
        raise NotFound(_("Organisation not found"))
    before = {"barred_until": org.barred_until, "bar_reason": org.bar_reason}
    if org.barred_until is None or org.barred_until < until:
        org.barred_until = until
        org.bar_reason = reason
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="organisation.bar",
        subject_type="organisation",
        subject_id=org.id,
        centre_id=org.centre_id,
        before=before,
        after={"barred_until": org.barred_until, "bar_reason": org.bar_reason},
    )


# --- members ----------------------------------------------------------------------------


async def list_members(
    session: AsyncSession, principal: Principal, organisation_id: int
) -> list[tuple[OrganisationMember, User]]:
    org = await get_organisation(session, principal, organisation_id)
    return await queries.members_with_users(session, org.id)


async def _require_owner(session: AsyncSession, principal: Principal, org: Organisation) -> None:
    if await queries.member_role(session, org.id, principal.user_id) is not MemberRole.owner:
        raise Forbidden(_("Only the organisation's owner may manage its members"))


async def invite_member(
    session: AsyncSession, principal: Principal, organisation_id: int, email: str, *, days: int = 14
) -> tuple[MemberInvitation, str]:
    identity.require_writer(principal)
    org = await get_organisation(session, principal, organisation_id)
    await _require_owner(session, principal, org)
    email = email.strip().lower()
    existing = await identity_queries.get_user_by_email(session, email)
    if existing is not None and await queries.member_role(session, org.id, existing.id) is not None:
        raise ValidationFailed.field("email", _("This person is already a member"))
    raw, digest = new_token()
    invitation = MemberInvitation(
        organisation_id=org.id,
        email=email,
        token_hash=digest,
        invited_by=principal.user_id,
        expires_at=utcnow() + dt.timedelta(days=days),
    )
    session.add(invitation)
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="organisation.invite_member",
        subject_type="organisation",
        subject_id=org.id,
        centre_id=org.centre_id,
        after={"email": email},
    )
    return invitation, raw


async def has_owner(session: AsyncSession, organisation_id: int) -> bool:
    return await MemberRepository(session).has_owner(organisation_id)


def can_invite_owner(principal: Principal, org: Organisation, owned: bool) -> tuple[bool, str]:
    if not principal.has(Role.staff) or principal.read_only:
        return False, _("Only centre staff may do this")
    if owned:
        return False, _("This organisation has an owner; the owner invites further members")
    return True, ""


async def invite_owner(
    session: AsyncSession, principal: Principal, organisation_id: int, email: str, *, days: int = 14
) -> tuple[MemberInvitation, str]:
    """Staff register an organisation and invite its first owner: accepting the one-time link
    sets the person's password and makes them the owner. Sign-up's per-address limit does not
    apply: the invitation is the centre's own act, made while signed in."""
    _require_staff(principal)
    org = await get_organisation(session, principal, organisation_id)
    allowed, reason = can_invite_owner(principal, org, await has_owner(session, org.id))
    if not allowed:
        raise Conflict(reason)
    email = email.strip().lower()
    existing = await identity_queries.get_user_by_email(session, email)
    if existing is not None and (
        existing.centre_id != org.centre_id or Role.applicant not in existing.role_set
    ):
        raise ValidationFailed.field(
            "email", _("This email belongs to an account that cannot act for an organisation of this centre")
        )
    raw, digest = new_token()
    invitation = MemberInvitation(
        organisation_id=org.id,
        email=email,
        token_hash=digest,
        invited_by=principal.user_id,
        expires_at=utcnow() + dt.timedelta(days=days),
        role=MemberRole.owner,
    )
    session.add(invitation)
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="organisation.invite_owner",
        subject_type="organisation",
        subject_id=org.id,
        centre_id=org.centre_id,
        after={"email": email, "expires_at": invitation.expires_at.isoformat()},
    )
    return invitation, raw


async def invitation_for(session: AsyncSession, raw: str) -> tuple[MemberInvitation, Organisation]:
    row = await queries.invitation_with_organisation(session, token_digest(raw[:128]))
    if row is None:
        raise NotFound(_("This invitation does not exist"))
    invitation, org = row
    if invitation.accepted_at is not None:
        raise Conflict(_("This invitation has already been used"))
    if invitation.expires_at < utcnow():
        raise Conflict(_("This invitation has expired; ask the owner for a new one"))
    return invitation, org


async def accept_invitation(session: AsyncSession, raw: str, data: AcceptInvitation | None) -> User:
    """Join the organisation: an existing account is added, otherwise one is created."""
    invitation, org = await invitation_for(session, raw)
    user = await identity_queries.get_user_by_email(session, invitation.email)
    if user is None:
        if data is None:
            raise ValidationFailed.field("password", _("Choose a password for your new account"))
        user = await identity.create_user(
            session,
            UserCreate(
                email=invitation.email,
                password=data.password,
                full_name=data.full_name,
                roles=[Role.applicant],
                centre_id=org.centre_id,
            ),
            actor=None,
        )
    elif user.centre_id != org.centre_id:
        raise Conflict(_("This account belongs to another centre"))
    if invitation.role is MemberRole.owner and await has_owner(session, org.id):
        raise Conflict(_("This organisation has an owner; the owner invites further members"))
    if not await MemberRepository(session).accept_invitation(invitation.id, utcnow()):
        raise Conflict(_("This invitation has already been used"))
    session.add(OrganisationMember(organisation_id=org.id, user_id=user.id, role=invitation.role))
    await session.flush()
    await audit.record(
        session,
        actor=identity.principal_of(user),
        action="organisation.join",
        subject_type="organisation",
        subject_id=org.id,
        centre_id=org.centre_id,
        after={"member": user.email, "role": invitation.role},
    )
    return user


async def remove_member(
    session: AsyncSession, principal: Principal, organisation_id: int, user_id: int
) -> None:
    identity.require_writer(principal)
    org = await get_organisation(session, principal, organisation_id)
    await _require_owner(session, principal, org)
    member = await queries.membership(session, org.id, user_id)
    if member is None:
        raise NotFound(_("This person is not a member"))
    if member.role is MemberRole.owner:
        raise Conflict(_("The owner cannot be removed"))
    await session.delete(member)
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="organisation.remove_member",
        subject_type="organisation",
        subject_id=org.id,
        centre_id=org.centre_id,
        before={"member_user_id": user_id},
    )


async def member_user_ids(session: AsyncSession, organisation_id: int) -> set[int]:
    """The users who act for an organisation (for structural conflicts of interest)."""
    return await MemberRepository(session).user_ids(organisation_id)


# --- incubation stays -------------------------------------------------------------------

# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[StayState], StayState]] = {
    "assess": (frozenset({StayState.applied}), StayState.assessed),
    "admit": (frozenset({StayState.assessed}), StayState.admitted),
    "start": (frozenset({StayState.admitted}), StayState.incubating),
    "extend": (frozenset({StayState.incubating}), StayState.incubating),
    "graduate": (frozenset({StayState.incubating}), StayState.graduated),
    "exit": (frozenset(ACTIVE_STAY_STATES), StayState.exited),
}


def can_transition(stay: IncubationStay, action: str) -> tuple[bool, str]:
    """(allowed, reason): the reason is the 409 message and the disabled button's tooltip."""
    sources, _target = TRANSITIONS[action]
    if stay.state in sources:
        return True, ""
    allowed_from = "、".join(_(STAY_LABELS[s]) for s in sorted(sources))
    return False, _("Not possible while the stay is {state}; only from: {states}").format(
        state=_(STAY_LABELS[stay.state]), states=allowed_from
    )


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


async def get_stay(session: AsyncSession, principal: Principal, stay_id: int) -> IncubationStay:
    repository = StayRepository(session, principal)
    stay = await repository.get(stay_id, repository.with_events())
    # Applicants see stays of their own organisations only.
    await get_organisation(session, principal, stay.organisation_id)
    return stay


async def stays_of(session: AsyncSession, principal: Principal, organisation_id: int) -> list[IncubationStay]:
    await get_organisation(session, principal, organisation_id)
    repository = StayRepository(session, principal)
    statement = (
        repository.with_events()
        .where(IncubationStay.organisation_id == organisation_id)
        .order_by(IncubationStay.applied_on.desc(), IncubationStay.id.desc())
    )
    return list(await repository.get_all(statement))


async def _record_stay(
    session: AsyncSession,
    principal: Principal,
    stay: IncubationStay,
    action: str,
    previous: StayState | None,
    on_date: dt.date,
    note: str,
) -> None:
    session.add(
        StayEvent(
            stay_id=stay.id,
            on_date=on_date,
            action=action,
            from_state=previous.value if previous else None,
            to_state=stay.state.value,
            note=note,
            actor=principal.full_name or principal.email,
        )
    )
    await queries.set_incubation_state(session, stay.organisation_id, stay.state)
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action=f"stay.{action}",
        subject_type="incubation_stay",
        subject_id=stay.id,
        centre_id=stay.centre_id,
        before={"state": previous} if previous else None,
        after={"state": stay.state, "on": on_date, "note": note},
    )


async def create_stay(session: AsyncSession, principal: Principal, data: StayCreate) -> IncubationStay:
    identity.require_writer(principal)
    org = await get_organisation(session, principal, data.organisation_id)
    if (
        not principal.has(Role.staff)
        and await queries.member_role(session, org.id, principal.user_id) is None
    ):
        raise Forbidden(_("Only centre staff and the organisation's members may apply for incubation"))
    if await queries.has_active_stay(session, org.id):
        raise Conflict(_("The organisation already has an active incubation stay"))
    stay = IncubationStay(
        centre_id=org.centre_id,
        organisation_id=org.id,
        state=StayState.applied,
        is_active=True,
        applied_on=data.applied_on,
        intake_note=data.intake_note,
        events=[],
    )
    session.add(stay)
    await session.flush()
    await _record_stay(session, principal, stay, "apply", None, data.applied_on, data.intake_note)
    return stay


async def _transition(
    session: AsyncSession, principal: Principal, stay_id: int, action: str
) -> tuple[IncubationStay, StayState]:
    _require_staff(principal)
    stay = await get_stay(session, principal, stay_id)
    allowed, reason = can_transition(stay, action)
    if not allowed:
        raise Conflict(reason)
    return stay, stay.state


async def assess_stay(
    session: AsyncSession, principal: Principal, stay_id: int, data: StayAssess
) -> IncubationStay:
    stay, previous = await _transition(session, principal, stay_id, "assess")
    if data.on < stay.applied_on:
        raise ValidationFailed.field("on", _("The date cannot be before the application"))
    stay.state, stay.assessed_on, stay.assessment_note = StayState.assessed, data.on, data.note
    await _record_stay(session, principal, stay, "assess", previous, data.on, data.note)
    return stay


async def admit_stay(
    session: AsyncSession, principal: Principal, stay_id: int, data: StayAdmit
) -> IncubationStay:
    stay, previous = await _transition(session, principal, stay_id, "admit")
    if stay.assessed_on and data.start_date < stay.assessed_on:
        raise ValidationFailed.field("start_date", _("The start date cannot be before the assessment"))
    stay.state = StayState.admitted
    stay.start_date = data.start_date
    stay.planned_months = data.planned_months
    stay.planned_end = add_months(data.start_date, data.planned_months)
    stay.mentor, stay.workspace = data.mentor, data.workspace
    note = data.note or _("Mentor {mentor}, workspace {workspace}, {months} months").format(
        mentor=data.mentor, workspace=data.workspace, months=data.planned_months
    )
    await _record_stay(session, principal, stay, "admit", previous, data.start_date, note)
    return stay


async def start_stay(
    session: AsyncSession, principal: Principal, stay_id: int, data: StayStart
) -> IncubationStay:
    stay, previous = await _transition(session, principal, stay_id, "start")
    stay.state = StayState.incubating
    await _record_stay(session, principal, stay, "start", previous, data.on, data.note)
    return stay


async def extend_stay(
    session: AsyncSession, principal: Principal, stay_id: int, data: StayExtend, *, today: dt.date
) -> IncubationStay:
    stay, previous = await _transition(session, principal, stay_id, "extend")
    if stay.planned_end is None or stay.planned_months is None:
        raise Conflict(_("The stay has no planned term to extend"))
    if stay.planned_months + data.months > MAX_PLANNED_MONTHS:
        raise ValidationFailed.field(
            "months", _("An incubation stay lasts at most {n} months in all").format(n=MAX_PLANNED_MONTHS)
        )
    stay.planned_end = add_months(stay.planned_end, data.months)
    stay.planned_months += data.months
    stay.extensions += 1
    note = _("Extended by {months} months: {reason}").format(months=data.months, reason=data.reason)
    await _record_stay(session, principal, stay, "extend", previous, today, note)
    return stay


async def graduate_stay(
    session: AsyncSession,
    principal: Principal,
    stay_id: int,
    data: StayGraduate,
    *,
    completed_projects: CompletedProjects | None,
) -> IncubationStay:
    stay, previous = await _transition(session, principal, stay_id, "graduate")
    check = await graduation_check(
        session, principal, stay.organisation_id, completed_projects=completed_projects
    )
    if not check.eligible:
        failing = "；".join(c.reason for c in check.criteria if c.applicable and not c.passed)
        raise Conflict(_("Graduation is not possible yet: {reasons}").format(reasons=failing))
    stay.state, stay.is_active, stay.ended_on = StayState.graduated, False, data.on
    await _record_stay(session, principal, stay, "graduate", previous, data.on, data.note)
    return stay


async def exit_stay(
    session: AsyncSession, principal: Principal, stay_id: int, data: StayExit
) -> IncubationStay:
    stay, previous = await _transition(session, principal, stay_id, "exit")
    stay.state, stay.is_active = StayState.exited, False
    stay.ended_on, stay.exit_reason = data.on, data.reason
    await _record_stay(session, principal, stay, "exit", previous, data.on, data.reason)
    return stay


# --- what cultivation counts --------------------------------------------------------------


class CountedOrganisation(NamedTuple):
    """The facts of one organisation the street's cultivation targets count (a named tuple:
    a centre's every organisation is built on each count, and a frozen dataclass of thirteen
    fields cost several times as much to build)."""

    id: int
    centre_id: int
    name: str
    community_id: int | None
    category: OrganisationCategory
    legal_status: LegalStatus
    founded_on: dt.date | None
    filed_on: dt.date | None
    registered_on: dt.date | None
    created_on: dt.date
    exited_on: dt.date | None
    flagship_on: dt.date | None
    moves: tuple[tuple[dt.date, int | None], ...]
    """(moved_on, community it left), oldest first"""


async def counted_organisations(session: AsyncSession, centre_ids: list[int]) -> list[CountedOrganisation]:
    orgs, moves = await queries.counted_organisations(session, centre_ids)
    moves_of: dict[int, list[tuple[dt.date, int | None]]] = {}
    for move in moves:
        moves_of.setdefault(move.organisation_id, []).append((move.moved_on, move.from_community_id))
    return [
        CountedOrganisation(
            id=org.id,
            centre_id=org.centre_id,
            name=org.name,
            community_id=org.community_id,
            category=org.category,
            legal_status=org.legal_status,
            founded_on=org.founded_on,
            filed_on=org.filed_on,
            registered_on=org.registered_on,
            created_on=org.created_at.astimezone(SHANGHAI).date(),
            exited_on=org.exited_on,
            flagship_on=org.flagship_on,
            moves=tuple(moves_of.get(org.id, ())),
        )
        for org in orgs
    ]


# --- support activities -----------------------------------------------------------------


async def add_activity(session: AsyncSession, principal: Principal, data: ActivityCreate) -> SupportActivity:
    """Staff log support for any organisation of the centre; a station officer for the teams
    of their community (the organisation lookup is limited to it)."""
    identity.require_writer(principal)
    if not principal.has(Role.staff, Role.station):
        raise Forbidden(_("Only centre staff may do this"))
    org = await get_organisation(session, principal, data.organisation_id)
    activity = SupportActivity(centre_id=org.centre_id, **data.model_dump())
    session.add(activity)
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="support.create",
        subject_type="support_activity",
        subject_id=activity.id,
        centre_id=org.centre_id,
        after=data.model_dump(),
    )
    return activity


async def list_activities(
    session: AsyncSession, principal: Principal, organisation_id: int | None, page: PageParams
) -> Paged[SupportActivity]:
    repository = ActivityRepository(session, principal)
    statement = repository.select()
    if organisation_id is not None:
        await get_organisation(session, principal, organisation_id)
        statement = statement.where(SupportActivity.organisation_id == organisation_id)
    elif not principal.has(Role.staff, Role.admin, Role.finance) and not principal.sees_all_centres:
        mine = await MemberRepository(session).organisation_ids(principal.user_id)
        statement = statement.where(SupportActivity.organisation_id.in_(mine))
    statement = statement.order_by(SupportActivity.held_on.desc(), SupportActivity.id.desc())
    return await repository.paginate(statement, page)


async def support_totals(
    session: AsyncSession,
    principal: Principal,
    *,
    organisation_id: int | None,
    by_month: bool,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> list[tuple[int | None, str | None, int, Decimal, int]]:
    if organisation_id is not None:
        await get_organisation(session, principal, organisation_id)
    elif not principal.has(Role.staff, Role.admin, Role.finance) and not principal.sees_all_centres:
        raise Forbidden(_("Only centre staff may see totals across organisations"))
    return list(
        await activity_totals(
            ActivityRepository(session, principal),
            organisation_id=organisation_id,
            by_month=by_month,
            since=since,
            until=until,
        )
    )


# --- graduation -------------------------------------------------------------------------


async def get_policy(session: AsyncSession, centre_id: int) -> GraduationPolicy:
    policy = await session.get(GraduationPolicy, centre_id)
    if policy is None:
        policy = GraduationPolicy(
            centre_id=centre_id,
            min_legal_status=LegalStatus.filed,
            min_capacity_score=Decimal("60.00"),
            require_completed_project=True,
            extra={},
        )
    return policy


async def update_policy(
    session: AsyncSession, principal: Principal, data: GraduationPolicyUpdate
) -> GraduationPolicy:
    _require_staff(principal)
    assert principal.centre_id is not None
    policy = await session.get(GraduationPolicy, principal.centre_id)
    before = None
    if policy is None:
        policy = GraduationPolicy(centre_id=principal.centre_id, extra={})
        session.add(policy)
    else:
        before = {
            "min_legal_status": policy.min_legal_status,
            "min_capacity_score": policy.min_capacity_score,
            "require_completed_project": policy.require_completed_project,
        }
    policy.min_legal_status = data.min_legal_status
    policy.min_capacity_score = data.min_capacity_score
    policy.require_completed_project = data.require_completed_project
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="graduation_policy.update",
        subject_type="centre",
        subject_id=principal.centre_id,
        centre_id=principal.centre_id,
        before=before,
        after=data.model_dump(),
    )
    return policy


async def graduation_check(
    session: AsyncSession,
    principal: Principal,
    organisation_id: int,
    *,
    completed_projects: CompletedProjects | None,
) -> GraduationCheck:
    org = await get_organisation(session, principal, organisation_id)
    policy = await get_policy(session, org.centre_id)
    criteria: list[CriterionResult] = []

    legal_ok = LEGAL_RANK[org.legal_status] >= LEGAL_RANK[policy.min_legal_status]
    criteria.append(
        CriterionResult(
            code="legal_status",
            label=_("Legal status at least {status}").format(status=_(LEGAL_LABELS[policy.min_legal_status])),
            passed=legal_ok,
            applicable=True,
            reason=_("Legal status is {status}").format(status=_(LEGAL_LABELS[org.legal_status])),
        )
    )

    score = await queries.latest_capacity_score(session, org.id)
    threshold = policy.min_capacity_score
    criteria.append(
        CriterionResult(
            code="capacity_score",
            label=_("Latest capacity score at least {threshold}").format(threshold=threshold),
            passed=score is not None and score >= threshold,
            applicable=True,
            reason=(
                _("No capacity assessment yet")
                if score is None
                else _("Latest capacity score is {score}").format(score=score)
            ),
        )
    )

    applicable = policy.require_completed_project and completed_projects is not None
    count = await completed_projects(session, org.id) if completed_projects is not None else 0
    criteria.append(
        CriterionResult(
            code="completed_project",
            label=_("At least one completed project"),
            passed=count >= 1 or not applicable,
            applicable=applicable,
            reason=_("{n} completed project(s)").format(n=count)
            if applicable
            else _("Not required by this centre"),
        )
    )
    eligible = all(c.passed for c in criteria if c.applicable)
    return GraduationCheck(organisation_id=org.id, eligible=eligible, criteria=criteria)


async def list_stays(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    *,
    organisation_id: int | None,
    state: StayState | None,
) -> Paged[IncubationStay]:
    repository = StayRepository(session, principal)
    statement = repository.with_events()
    if organisation_id is not None:
        await get_organisation(session, principal, organisation_id)
        statement = statement.where(IncubationStay.organisation_id == organisation_id)
    elif not principal.has(Role.staff, Role.admin, Role.finance) and not principal.sees_all_centres:
        mine = await MemberRepository(session).organisation_ids(principal.user_id)
        statement = statement.where(IncubationStay.organisation_id.in_(mine))
    if state is not None:
        statement = statement.where(IncubationStay.state == state)
    return await repository.paginate(statement.order_by(IncubationStay.id.desc()), page)


async def capacity_history(
    session: AsyncSession, principal: Principal, organisation_id: int
) -> list[CapacityAssessment]:
    """An organisation's capacity assessments, oldest first (the growth over time)."""
    await get_organisation(session, principal, organisation_id)
    return await queries.capacity_assessments(session, organisation_id)


async def assess_capacity(
    session: AsyncSession, principal: Principal, data: CapacityAssessmentCreate
) -> CapacityAssessment:
    """A capacity assessment (能力评估) scored on a rubric of the evaluations engine."""
    _require_staff(principal)
    org = await get_organisation(session, principal, data.organisation_id)
    try:
        version = await rubric_service.get_version(session, principal, data.rubric_version_id)
    except NotFound as exc:
        raise ValidationFailed.field("rubric_version_id", _("No such rubric version")) from exc
    total, grade = rubric_service.score_directly(version, dict(data.scores))
    active = await queries.active_stay_id(session, org.id)
    assessment = CapacityAssessment(
        centre_id=org.centre_id,
        organisation_id=org.id,
        stay_id=active,
        stage=data.stage,
        assessed_on=data.assessed_on,
        rubric_version_id=version.id,
        scores={key: str(value) for key, value in data.scores.items()},
        total=total,
        grade=grade.code.value,
        assessor=data.assessor,
        comments=data.comments,
    )
    session.add(assessment)
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="capacity.assess",
        subject_type="organisation",
        subject_id=org.id,
        centre_id=org.centre_id,
        after={"stage": data.stage, "total": total, "grade": grade.code.value, "scores": assessment.scores},
    )
    return assessment
