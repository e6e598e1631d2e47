"""Organisations, members, incubation stays, support activities, graduation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.deps import (
    CurrentPrincipal,
    IdPath,
    Pagination,
    SessionDep,
    SettingsDep,
    StaffOrStation,
    StaffUser,
    client_address,
    counted_attempt,
)
from api.routing import Router, reads_only
from api.schemas import ListResponse
from composition import facts
from core.clock import today
from core.fields import Day, RequestModel
from core.i18n import N_
from core.identity import service as identity
from incubator import service
from incubator.exports import organisations_xlsx
from incubator.models import IncubationStay, LegalStatus, Organisation, ServiceField, StayState
from incubator.repository import OrganisationFilters
from incubator.schemas import (
    AcceptInvitation,
    ActivityCreate,
    ActivityRead,
    ActivityTotals,
    BarRead,
    BarRequest,
    CapacityAssessmentCreate,
    CapacityAssessmentRead,
    GraduationCheck,
    GraduationPolicyUpdate,
    InvitationRead,
    InviteRequest,
    MemberRead,
    OrganisationCreate,
    OrganisationRead,
    OrganisationUpdate,
    Reason,
    SignupRequest,
    StayAdmit,
    StayAssess,
    StayCreate,
    StayExit,
    StayExtend,
    StayGraduate,
    StayRead,
    StayStart,
)

router = Router(prefix="/api/v1", tags=["incubator"])


def org_read(org: Organisation) -> OrganisationRead:
    return OrganisationRead.model_validate(org)


def bar_read(org: Organisation) -> BarRead:
    assert org.barred_until is not None
    return BarRead(
        organisation_id=org.id,
        name=org.name,
        uscc=org.uscc,
        barred_until=org.barred_until,
        reason=org.bar_reason or "",
    )


def stay_read(stay: IncubationStay) -> StayRead:
    return StayRead.model_validate(stay)


def _filters(
    q: str | None,
    legal_status: LegalStatus | None,
    service_field: ServiceField | None,
    community: str | None,
    incubation_state: StayState | None,
    verified: bool | None,
) -> OrganisationFilters:
    return OrganisationFilters(
        q=q,
        legal_status=legal_status,
        service_field=service_field,
        community=community,
        incubation_state=incubation_state,
        verified=verified,
    )


Q = Annotated[str | None, Query(max_length=100)]
Community = Annotated[str | None, Query(max_length=100)]


@router.get("/organisations", response_model=ListResponse[OrganisationRead])
@reads_only
async def list_organisations(
    session: SessionDep,
    principal: CurrentPrincipal,
    pagination: Pagination,
    q: Q = None,
    legal_status: LegalStatus | None = None,
    service_field: ServiceField | None = None,
    community: Community = None,
    incubation_state: StayState | None = None,
    verified: bool | None = None,
) -> ListResponse[OrganisationRead]:
    filters = _filters(q, legal_status, service_field, community, incubation_state, verified)
    page = await service.organisation_rows(session, principal, filters, pagination)
    return ListResponse.of_page(page, [OrganisationRead.model_validate(row) for row in page.items])


@router.get("/organisations/export.xlsx", response_class=Response)
async def export_organisations(
    session: SessionDep,
    principal: StaffUser,
    q: Q = None,
    legal_status: LegalStatus | None = None,
    service_field: ServiceField | None = None,
    community: Community = None,
    incubation_state: StayState | None = None,
    verified: bool | None = None,
) -> Response:
    filters = _filters(q, legal_status, service_field, community, incubation_state, verified)
    content = organisations_xlsx(await service.all_organisations(session, principal, filters))
    return Response(
        content,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="organisations-{today().isoformat()}.xlsx"'},
    )


@router.post("/organisations", response_model=OrganisationRead, status_code=201)
async def create_organisation(
    data: OrganisationCreate, session: SessionDep, principal: StaffOrStation
) -> OrganisationRead:
    return org_read(await service.create_organisation(session, principal, data))


class SignupResponse(BaseModel):
    user_id: int
    organisation: OrganisationRead


@router.post("/organisations/signup", response_model=SignupResponse, status_code=201)
async def signup(data: SignupRequest, request: Request, session: SessionDep) -> SignupResponse:
    """Self-service: create an applicant account and its organisation (unverified until staff verify it)."""
    await identity.rate_limit(session, f"signup:{client_address(request)}", limit=10, window_seconds=3600)
    async with counted_attempt(session):
        user, org = await service.signup(session, data)
    return SignupResponse(user_id=user.id, organisation=org_read(org))


@router.get("/organisations/{organisation_id:int}", response_model=OrganisationRead)
@reads_only
async def get_organisation(
    organisation_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> OrganisationRead:
    return OrganisationRead.model_validate(
        await service.organisation_profile(session, principal, organisation_id)
    )


@router.patch("/organisations/{organisation_id:int}", response_model=OrganisationRead)
async def update_organisation(
    organisation_id: IdPath, data: OrganisationUpdate, session: SessionDep, principal: CurrentPrincipal
) -> OrganisationRead:
    return org_read(await service.update_organisation(session, principal, organisation_id, data))


@router.post("/organisations/{organisation_id:int}/verify", response_model=OrganisationRead)
async def verify_organisation(
    organisation_id: IdPath, session: SessionDep, principal: StaffUser
) -> OrganisationRead:
    return org_read(await service.verify_organisation(session, principal, organisation_id))


@router.post("/organisations/{organisation_id:int}/bar", response_model=OrganisationRead)
async def bar_organisation(
    organisation_id: IdPath, data: BarRequest, session: SessionDep, principal: StaffUser
) -> OrganisationRead:
    return org_read(await service.bar_organisation(session, principal, organisation_id, data, today=today()))


@router.get("/bars", response_model=ListResponse[BarRead])
async def list_bars(
    session: SessionDep, principal: StaffUser, pagination: Pagination
) -> ListResponse[BarRead]:
    """Organisations barred today from applying and from purchased-service contracts, with the
    reason and the last day of each bar."""
    page = await service.list_bars(session, principal, pagination, on=today())
    return ListResponse.of_page(page, [bar_read(o) for o in page.items])


class LiftBar(RequestModel):
    reason: Annotated[Reason, Field(title=N_("Reason"))]


@router.post("/organisations/{organisation_id:int}/lift-bar", response_model=OrganisationRead)
async def lift_bar(
    organisation_id: IdPath, data: LiftBar, session: SessionDep, principal: StaffUser
) -> OrganisationRead:
    return org_read(await service.lift_bar(session, principal, organisation_id, data.reason))


@router.get("/organisations/{organisation_id:int}/members", response_model=list[MemberRead])
async def list_members(
    organisation_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> list[MemberRead]:
    rows = await service.list_members(session, principal, organisation_id)
    return [MemberRead(user_id=u.id, email=u.email, full_name=u.full_name, role=m.role) for m, u in rows]


@router.post("/organisations/{organisation_id:int}/members", response_model=InvitationRead, status_code=201)
async def invite_member(
    organisation_id: IdPath,
    data: InviteRequest,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> InvitationRead:
    """The owner invites a person by email; the answer carries the link to send them."""
    invitation, raw = await service.invite_member(session, principal, organisation_id, data.email)
    return InvitationRead(
        email=invitation.email,
        accept_url=f"{settings.base_url}/invitations/{raw}",
        expires_at=invitation.expires_at,
    )


@router.delete("/organisations/{organisation_id:int}/members/{user_id:int}", status_code=204)
async def remove_member(
    organisation_id: IdPath, user_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    await service.remove_member(session, principal, organisation_id, user_id)
    return Response(status_code=204)


class Accepted(BaseModel):
    user_id: int


@router.post("/invitations/{token}/accept", response_model=Accepted)
async def accept_invitation(
    token: Annotated[str, Field(max_length=128)],
    data: AcceptInvitation,
    request: Request,
    session: SessionDep,
) -> Accepted:
    await identity.rate_limit(session, f"invite:{client_address(request)}", limit=20, window_seconds=3600)
    async with counted_attempt(session):
        user = await service.accept_invitation(session, token, data)
    return Accepted(user_id=user.id)


@router.get("/organisations/{organisation_id:int}/graduation-check", response_model=GraduationCheck)
async def graduation_check(
    organisation_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> GraduationCheck:
    return await service.graduation_check(
        session, principal, organisation_id, completed_projects=facts.completed_projects
    )


@router.get("/graduation-policy", response_model=GraduationPolicyUpdate)
async def get_policy(session: SessionDep, principal: StaffUser) -> GraduationPolicyUpdate:
    assert principal.centre_id is not None
    policy = await service.get_policy(session, principal.centre_id)
    return GraduationPolicyUpdate.model_validate(policy, from_attributes=True)


@router.put("/graduation-policy", response_model=GraduationPolicyUpdate)
async def put_policy(
    data: GraduationPolicyUpdate, session: SessionDep, principal: StaffUser
) -> GraduationPolicyUpdate:
    policy = await service.update_policy(session, principal, data)
    return GraduationPolicyUpdate.model_validate(policy, from_attributes=True)


# --- stays ------------------------------------------------------------------------------


@router.get("/incubation-stays", response_model=ListResponse[StayRead])
async def list_stays(
    session: SessionDep,
    principal: CurrentPrincipal,
    pagination: Pagination,
    organisation_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    state: StayState | None = None,
) -> ListResponse[StayRead]:
    page = await service.list_stays(
        session, principal, pagination, organisation_id=organisation_id, state=state
    )
    return ListResponse.of_page(page, [stay_read(s) for s in page.items])


@router.post("/incubation-stays", response_model=StayRead, status_code=201)
async def create_stay(data: StayCreate, session: SessionDep, principal: CurrentPrincipal) -> StayRead:
    stay = await service.create_stay(session, principal, data)
    return stay_read(await service.get_stay(session, principal, stay.id))


@router.get("/incubation-stays/{stay_id:int}", response_model=StayRead)
async def get_stay(stay_id: IdPath, session: SessionDep, principal: CurrentPrincipal) -> StayRead:
    return stay_read(await service.get_stay(session, principal, stay_id))


async def _reloaded(session: SessionDep, principal: Any, stay: IncubationStay) -> StayRead:
    session.expunge(stay)
    return stay_read(await service.get_stay(session, principal, stay.id))


@router.post("/incubation-stays/{stay_id:int}/assess", response_model=StayRead)
async def assess(stay_id: IdPath, data: StayAssess, session: SessionDep, principal: StaffUser) -> StayRead:
    return await _reloaded(session, principal, await service.assess_stay(session, principal, stay_id, data))


@router.post("/incubation-stays/{stay_id:int}/admit", response_model=StayRead)
async def admit(stay_id: IdPath, data: StayAdmit, session: SessionDep, principal: StaffUser) -> StayRead:
    return await _reloaded(session, principal, await service.admit_stay(session, principal, stay_id, data))


@router.post("/incubation-stays/{stay_id:int}/start", response_model=StayRead)
async def start(stay_id: IdPath, data: StayStart, session: SessionDep, principal: StaffUser) -> StayRead:
    return await _reloaded(session, principal, await service.start_stay(session, principal, stay_id, data))


@router.post("/incubation-stays/{stay_id:int}/extend", response_model=StayRead)
async def extend(stay_id: IdPath, data: StayExtend, session: SessionDep, principal: StaffUser) -> StayRead:
    stay = await service.extend_stay(session, principal, stay_id, data, today=today())
    return await _reloaded(session, principal, stay)


@router.post("/incubation-stays/{stay_id:int}/graduate", response_model=StayRead)
async def graduate(
    stay_id: IdPath, data: StayGraduate, session: SessionDep, principal: StaffUser
) -> StayRead:
    stay = await service.graduate_stay(
        session, principal, stay_id, data, completed_projects=facts.completed_projects
    )
    return await _reloaded(session, principal, stay)


@router.post("/incubation-stays/{stay_id:int}/exit", response_model=StayRead)
async def exit_stay(stay_id: IdPath, data: StayExit, session: SessionDep, principal: StaffUser) -> StayRead:
    return await _reloaded(session, principal, await service.exit_stay(session, principal, stay_id, data))


# --- support activities -----------------------------------------------------------------


@router.get("/support-activities", response_model=ListResponse[ActivityRead])
async def list_activities(
    session: SessionDep,
    principal: CurrentPrincipal,
    pagination: Pagination,
    organisation_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> ListResponse[ActivityRead]:
    page = await service.list_activities(session, principal, organisation_id, pagination)
    return ListResponse.of_page(page, [ActivityRead.model_validate(a) for a in page.items])


@router.post("/support-activities", response_model=ActivityRead, status_code=201)
async def add_activity(data: ActivityCreate, session: SessionDep, principal: StaffOrStation) -> ActivityRead:
    return ActivityRead.model_validate(await service.add_activity(session, principal, data))


@router.get("/support-activities/totals", response_model=list[ActivityTotals])
async def activity_totals(
    session: SessionDep,
    principal: CurrentPrincipal,
    organisation_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    by_month: bool = False,
    since: Day | None = None,
    until: Day | None = None,
) -> list[ActivityTotals]:
    rows = await service.support_totals(
        session, principal, organisation_id=organisation_id, by_month=by_month, since=since, until=until
    )
    return [
        ActivityTotals(organisation_id=o, month=m, activities=c, hours=h, participants=p)
        for o, m, c, h, p in rows
    ]


# --- capacity assessments ---------------------------------------------------------------


@router.get("/capacity-assessments", response_model=list[CapacityAssessmentRead])
async def list_capacity_assessments(
    session: SessionDep,
    principal: CurrentPrincipal,
    organisation_id: Annotated[int, Query(ge=1, le=2_147_483_647)],
) -> list[CapacityAssessmentRead]:
    """An organisation's capacity scores over time, oldest first."""
    return [
        CapacityAssessmentRead.model_validate(a)
        for a in await service.capacity_history(session, principal, organisation_id)
    ]


@router.post("/capacity-assessments", response_model=CapacityAssessmentRead, status_code=201)
async def assess_capacity(
    data: CapacityAssessmentCreate, session: SessionDep, principal: StaffUser
) -> CapacityAssessmentRead:
    return CapacityAssessmentRead.model_validate(await service.assess_capacity(session, principal, data))
