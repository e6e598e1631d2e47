"""Purchased-service contract pages: the list, the contract form, a contract with its milestones."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from api.deps import CurrentPrincipal, IdPath, SessionDep
from api.pages.forms import form_values, parse, read_form, submit_form
from api.pages.grant_pages import back, flash, grant_labels
from api.routing import Router
from api.web import register_nav, render
from core.errors import Forbidden
from core.i18n import N_, _
from core.identity.models import Role
from core.identity.principal import Principal
from grants.contracts import service as contracts
from grants.contracts.models import (
    MilestoneCondition,
    MilestoneState,
)
from grants.contracts.schemas import CompleteIn, ContractIn, ContractTerminateIn, DateIn, EvaluateIn
from grants.disbursements import service as disbursement_service
from grants.disbursements.schemas import DisbursementCreate
from incubator import service as incubator
from incubator.repository import OrganisationRepository, organisation_choices

router = Router(include_in_schema=False)

register_nav("/contracts", N_("Purchased services"), {Role.staff, Role.finance, Role.admin})


MILESTONE_ROWS = 4


INDICATOR_ROWS = 3


def _chosen_id(values: dict[str, Any], name: str) -> list[int]:
    raw = str(values.get(name) or "")
    return [int(raw)] if raw.isdigit() and len(raw) <= 10 else []


async def _contract_form_context(
    session: SessionDep, principal: Principal, values: dict[str, Any]
) -> dict[str, Any]:
    """The provider chooser offers the chosen organisation and the first matches of its search
    box (``provider_id_q``), searched on the server: any organisation of the centre can be found."""
    providers = await organisation_choices(
        OrganisationRepository(session, principal),
        str(values.get("provider_id_q") or "")[:100],
        _chosen_id(values, "provider_id"),
    )
    return {
        "providers": [(str(i), name) for i, name in providers],
        "milestone_rows": range(1, MILESTONE_ROWS + 1),
        "indicator_rows": range(1, INDICATOR_ROWS + 1),
        **grant_labels(),
    }


@router.get("/contracts/new")
async def new_contract(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    if not principal.has(Role.staff):
        raise Forbidden(_("Only centre staff may do this"))
    defaults = {
        "full_payment_from": "90",
        "pro_rata_from": "60",
        "m_share_1": "40",
        "m_condition_1": "on_signing",
        "m_share_2": "30",
        "m_condition_2": "on_start",
        "m_share_3": "30",
        "m_condition_3": "on_evaluation",
    }
    search = request.query_params.get("provider_id_q", "")[:100]
    if search:
        defaults["provider_id_q"] = search
    return render(
        request,
        "web/contracts/form.html",
        {"values": defaults, "errors": {}, **await _contract_form_context(session, principal, defaults)},
    )


def _contract_values(values: dict[str, Any]) -> dict[str, Any]:
    milestones = []
    for n in range(1, MILESTONE_ROWS + 1):
        share = values.pop(f"m_share_{n}", None)
        condition = values.pop(f"m_condition_{n}", None)
        description = values.pop(f"m_description_{n}", "")
        if share or condition:
            milestones.append({"share_pct": share, "condition": condition, "description": description})
    indicators = []
    for n in range(1, INDICATOR_ROWS + 1):
        name = values.pop(f"i_name_{n}", None)
        target = values.pop(f"i_target_{n}", None)
        unit = values.pop(f"i_unit_{n}", None)
        if name or target or unit:
            indicators.append({"name": name, "target": target, "unit": unit})
    return {**values, "milestones": milestones, "indicators": indicators}


@router.post("/contracts/new")
async def create_contract(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    if not principal.has(Role.staff):
        raise Forbidden(_("Only centre staff may do this"))
    values = form_values(await read_form(request))

    async def created(data: ContractIn) -> Response:
        contract = await contracts.create_contract(session, principal, data)
        return back(f"/contracts/{contract.id}", "saved")

    async def again(errors: dict[str, str], status_code: int) -> Response:
        return render(
            request,
            "web/contracts/form.html",
            {"values": values, "errors": errors, **await _contract_form_context(session, principal, values)},
            status_code=status_code,
        )

    parsed = parse(ContractIn, _contract_values(dict(values)))
    return await submit_form(parsed, created, again, shown=(404, 422))


async def _contract_context(
    session: SessionDep, principal: Principal, contract_id: int, errors: dict[str, str] | None = None
) -> dict[str, Any]:
    contract = await contracts.get_contract(session, principal, contract_id)
    provider = await incubator.get_organisation(session, principal, contract.provider_id)
    actions = {
        action: contracts.can_transition(contract, action, provider) for action in contracts.TRANSITIONS
    }
    return {
        "contract": contract,
        "provider": provider,
        "actions": actions,
        "is_staff": principal.has(Role.staff) and not principal.read_only,
        "errors": errors or {},
        "MilestoneState": MilestoneState,
        "final_preview": {
            m.id: [
                (
                    s,
                    contracts.final_payment(
                        m.amount, Decimal(s), contract.full_payment_from, contract.pro_rata_from
                    ),
                )
                for s in (95, 75, 55)
            ]
            for m in contract.milestones
            if m.condition is MilestoneCondition.on_evaluation
        },
        **grant_labels(),
    }


@router.get("/contracts/{contract_id:int}")
async def contract_page(
    request: Request, contract_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    context = await _contract_context(session, principal, contract_id)
    return render(request, "web/contracts/contract.html", {**context, "flash": flash(request)})


CONTRACT_ACTIONS: dict[str, Any] = {
    "sign": (DateIn, contracts.sign),
    "start": (DateIn, contracts.start),
    "evaluate": (EvaluateIn, contracts.evaluate),
    "complete": (CompleteIn, contracts.complete),
    "terminate": (ContractTerminateIn, contracts.terminate),
}


@router.post("/contracts/{contract_id:int}/milestones/{milestone_id:int}/request")
async def request_milestone(
    contract_id: IdPath, milestone_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    await disbursement_service.request_disbursement(
        session, principal, DisbursementCreate(milestone_id=milestone_id)
    )
    return back(f"/contracts/{contract_id}", "requested")


@router.post("/contracts/{contract_id:int}/{action}")
async def contract_action(
    request: Request, contract_id: IdPath, action: str, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    if action not in CONTRACT_ACTIONS:
        from core.errors import NotFound

        raise NotFound(_("Not found"))
    schema, run = CONTRACT_ACTIONS[action]

    async def done(data: Any) -> Response:
        await run(session, principal, contract_id, data)
        return back(f"/contracts/{contract_id}", "contract")

    async def again(errors: dict[str, str], status_code: int) -> Response:
        context = await _contract_context(session, principal, contract_id, errors)
        return render(
            request, "web/contracts/contract.html", {**context, "open_form": action}, status_code=status_code
        )

    return await submit_form(parse(schema, form_values(await read_form(request))), done, again)
