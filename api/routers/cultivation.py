"""Communities, the hub–station–point network of sites, cultivation plans, their targets and
computed progress, and the district roll-up."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import Query, Response
from pydantic import BaseModel

from api.deps import CurrentPrincipal, IdPath, SessionDep, StaffUser
from api.routing import Router
from api.schemas import ListResponse
from communities import service as communities
from communities.schemas import CommunityIn, CommunityOut
from core.clock import today
from cultivation import service as cultivation
from cultivation.schemas import PlanIn, PlanOut, ProgressOut, SiteIn, SiteOut, TargetIn, TargetOut
from cultivation.service import CentrePicture, ProgressRow

router = Router(prefix="/api/v1", tags=["communities"])

YearQuery = Annotated[int | None, Query(ge=2000, le=2100)]


T = TypeVar("T")


def _list(items: list[T]) -> ListResponse[T]:
    return ListResponse.whole(items)


@router.get("/communities", response_model=ListResponse[CommunityOut])
async def list_communities(session: SessionDep, principal: CurrentPrincipal) -> ListResponse[CommunityOut]:
    """The centre's communities, which every form chooses from."""
    found = await communities.list_communities(session, principal)
    return _list([CommunityOut.model_validate(c) for c in found])


@router.post("/communities", response_model=CommunityOut, status_code=201)
async def create_community(data: CommunityIn, session: SessionDep, principal: StaffUser) -> CommunityOut:
    return CommunityOut.model_validate(await communities.create_community(session, principal, data))


@router.put("/communities/{community_id:int}", response_model=CommunityOut)
async def update_community(
    community_id: IdPath, data: CommunityIn, session: SessionDep, principal: StaffUser
) -> CommunityOut:
    return CommunityOut.model_validate(
        await communities.update_community(session, principal, community_id, data)
    )


@router.get("/sites", response_model=ListResponse[SiteOut])
async def list_sites(session: SessionDep, principal: CurrentPrincipal) -> ListResponse[SiteOut]:
    return _list([SiteOut.model_validate(s) for s in await cultivation.list_sites(session, principal)])


@router.post("/sites", response_model=SiteOut, status_code=201)
async def create_site(data: SiteIn, session: SessionDep, principal: StaffUser) -> SiteOut:
    return SiteOut.model_validate(await cultivation.create_site(session, principal, data))


@router.get("/sites/{site_id:int}", response_model=SiteOut)
async def get_site(site_id: IdPath, session: SessionDep, principal: CurrentPrincipal) -> SiteOut:
    return SiteOut.model_validate(await cultivation.get_site(session, principal, site_id))


@router.put("/sites/{site_id:int}", response_model=SiteOut)
async def update_site(site_id: IdPath, data: SiteIn, session: SessionDep, principal: StaffUser) -> SiteOut:
    return SiteOut.model_validate(await cultivation.update_site(session, principal, site_id, data))


class PlanDetail(PlanOut):
    targets: list[TargetOut]


@router.get("/cultivation-plans", response_model=ListResponse[PlanOut])
async def list_plans(session: SessionDep, principal: CurrentPrincipal) -> ListResponse[PlanOut]:
    return _list([PlanOut.model_validate(p) for p in await cultivation.list_plans(session, principal)])


@router.post("/cultivation-plans", response_model=PlanDetail, status_code=201)
async def create_plan(data: PlanIn, session: SessionDep, principal: StaffUser) -> PlanDetail:
    return PlanDetail.model_validate(
        await cultivation.create_plan(session, principal, data), from_attributes=True
    )


@router.get("/cultivation-plans/{plan_id:int}", response_model=PlanDetail)
async def get_plan(plan_id: IdPath, session: SessionDep, principal: CurrentPrincipal) -> PlanDetail:
    return PlanDetail.model_validate(
        await cultivation.get_plan(session, principal, plan_id), from_attributes=True
    )


@router.put("/cultivation-plans/{plan_id:int}", response_model=PlanDetail)
async def update_plan(plan_id: IdPath, data: PlanIn, session: SessionDep, principal: StaffUser) -> PlanDetail:
    await cultivation.update_plan(session, principal, plan_id, data)
    return PlanDetail.model_validate(
        await cultivation.get_plan(session, principal, plan_id), from_attributes=True
    )


@router.post("/cultivation-plans/{plan_id:int}/targets", response_model=TargetOut, status_code=201)
async def set_target(plan_id: IdPath, data: TargetIn, session: SessionDep, principal: StaffUser) -> TargetOut:
    """Add a target, or change the range of the target for the same year, community and metric."""
    return TargetOut.model_validate(await cultivation.set_target(session, principal, plan_id, data))


@router.delete("/cultivation-plans/{plan_id:int}/targets/{target_id:int}", status_code=204)
async def remove_target(
    plan_id: IdPath, target_id: IdPath, session: SessionDep, principal: StaffUser
) -> Response:
    await cultivation.remove_target(session, principal, plan_id, target_id)
    return Response(status_code=204)


def progress_out(row: ProgressRow) -> ProgressOut:
    p = row.progress
    return ProgressOut(
        target_id=p.target_id,
        plan_id=p.plan_id,
        year=p.year,
        community_id=p.community_id,
        community=row.community,
        for_each_community=p.for_each_community,
        metric=p.metric,
        minimum=p.minimum,
        maximum=p.maximum,
        actual=p.actual,
        standing=p.standing,
        months_left=p.months_left,
    )


@router.get("/cultivation-plans/{plan_id:int}/progress", response_model=ListResponse[ProgressOut])
async def plan_progress(
    plan_id: IdPath, session: SessionDep, principal: CurrentPrincipal, year: YearQuery = None
) -> ListResponse[ProgressOut]:
    """Each target of the year (this year by default) against the organisations: met, above
    range (over the maximum: shown, not a failure) or behind, with the months left."""
    day = today()
    rows = await cultivation.plan_progress(session, principal, plan_id, year or day.year, day)
    return _list([progress_out(r) for r in rows])


class CommunityRollup(BaseModel):
    community_id: int
    community: str
    organisations: int
    by_category: dict[str, int]
    by_legal_status: dict[str, int]
    progress: list[ProgressOut]


class CentreRollup(BaseModel):
    centre_id: int
    centre: str
    targets_behind: int
    communities: list[CommunityRollup]


def centre_rollup(picture: CentrePicture) -> CentreRollup:
    return CentreRollup(
        centre_id=picture.centre_id,
        centre=picture.centre_name,
        targets_behind=picture.behind,
        communities=[
            CommunityRollup(
                community_id=c.community.id,
                community=c.community.name,
                organisations=c.total,
                by_category={str(k): v for k, v in c.by_category.items()},
                by_legal_status={str(k): v for k, v in c.by_status.items()},
                progress=[progress_out(r) for r in c.progress],
            )
            for c in picture.communities
        ],
    )


@router.get("/district/cultivation", response_model=list[CentreRollup])
async def district_cultivation(
    session: SessionDep, principal: CurrentPrincipal, year: YearQuery = None
) -> list[CentreRollup]:
    """The district roll-up: targets and organisations per centre and community."""
    day = today()
    return [
        centre_rollup(p) for p in await cultivation.district_rollup(session, principal, year or day.year, day)
    ]
