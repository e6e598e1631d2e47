"""政府购买服务 contracts and the OCDS export."""

from __future__ import annotations

from fastapi.responses import Response

from api.deps import CurrentPrincipal, IdPath, Pagination, SessionDep, SettingsDep, StaffUser
from api.routing import Router, reads_only
from api.schemas import ListResponse
from core.errors import Forbidden
from core.i18n import _
from core.identity.models import Role
from core.money import dumps_exact
from grants.contracts import service
from grants.contracts.models import ContractState
from grants.contracts.ocds import ocds_package
from grants.contracts.schemas import (
    CompleteIn,
    ContractBrief,
    ContractIn,
    ContractOut,
    ContractTerminateIn,
    DateIn,
    EvaluateIn,
)

router = Router(prefix="/api/v1", tags=["contracts"])


@router.get("/contracts", response_model=ListResponse[ContractBrief])
@reads_only
async def list_contracts(
    session: SessionDep,
    principal: CurrentPrincipal,
    pagination: Pagination,
    state: ContractState | None = None,
) -> ListResponse[ContractBrief]:
    page = await service.list_contracts(session, principal, pagination, state=state)
    return ListResponse.of_page(page, [ContractBrief.model_validate(c) for c in page.items])


@router.post("/contracts", response_model=ContractOut, status_code=201)
async def create_contract(data: ContractIn, session: SessionDep, principal: StaffUser) -> ContractOut:
    return ContractOut.model_validate(await service.create_contract(session, principal, data))


@router.get("/contracts/{contract_id:int}", response_model=ContractOut)
@reads_only
async def get_contract(contract_id: IdPath, session: SessionDep, principal: CurrentPrincipal) -> ContractOut:
    return ContractOut.model_validate(await service.get_contract(session, principal, contract_id))


@router.put("/contracts/{contract_id:int}", response_model=ContractOut)
async def update_contract(
    contract_id: IdPath, data: ContractIn, session: SessionDep, principal: StaffUser
) -> ContractOut:
    return ContractOut.model_validate(await service.update_contract(session, principal, contract_id, data))


@router.post("/contracts/{contract_id:int}/sign", response_model=ContractOut)
async def sign_contract(
    contract_id: IdPath, data: DateIn, session: SessionDep, principal: StaffUser
) -> ContractOut:
    return ContractOut.model_validate(await service.sign(session, principal, contract_id, data))


@router.post("/contracts/{contract_id:int}/start", response_model=ContractOut)
async def start_contract(
    contract_id: IdPath, data: DateIn, session: SessionDep, principal: StaffUser
) -> ContractOut:
    return ContractOut.model_validate(await service.start(session, principal, contract_id, data))


@router.post("/contracts/{contract_id:int}/evaluate", response_model=ContractOut)
async def evaluate_contract(
    contract_id: IdPath, data: EvaluateIn, session: SessionDep, principal: StaffUser
) -> ContractOut:
    """Without ``score``: the performance evaluation starts. With it: the payment rule applies
    (≥ 90 full; 60–89.99 score/100 of the final payment; < 60 withheld and the provider barred
    until the end of next year)."""
    return ContractOut.model_validate(await service.evaluate(session, principal, contract_id, data))


@router.post("/contracts/{contract_id:int}/complete", response_model=ContractOut)
async def complete_contract(
    contract_id: IdPath, data: CompleteIn, session: SessionDep, principal: StaffUser
) -> ContractOut:
    return ContractOut.model_validate(await service.complete(session, principal, contract_id, data))


@router.post("/contracts/{contract_id:int}/terminate", response_model=ContractOut)
async def terminate_contract(
    contract_id: IdPath, data: ContractTerminateIn, session: SessionDep, principal: StaffUser
) -> ContractOut:
    return ContractOut.model_validate(await service.terminate(session, principal, contract_id, data))


@router.get("/exports/ocds.json", response_class=Response)
async def export_ocds(session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal) -> Response:
    """The centre's signed contracts as an OCDS 1.1 release package."""
    if not (principal.sees_all_centres or principal.has(Role.staff, Role.finance, Role.admin)):
        raise Forbidden(_("Your role does not allow this"))
    package = await ocds_package(session, principal, uri=f"{settings.base_url}/api/v1/exports/ocds.json")
    return Response(dumps_exact(package), media_type="application/json")
