"""Purchased-service contracts: lifecycle, milestones, the payment rule, and the OCDS export."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import today
from core.errors import Conflict, ValidationFailed
from grants.contracts import service
from grants.contracts.models import ContractState, MilestoneState
from grants.contracts.ocds import METHOD, ocds_package
from grants.contracts.schemas import CompleteIn, ContractIn, ContractTerminateIn, DateIn, EvaluateIn
from grants.disbursements import service as disbursements
from grants.disbursements.schemas import DisbursementCreate, PayIn
from incubator.models import Organisation
from tests.grants.factories import Cast, contract_payload, make_cast, make_contract
from tests.incubator.helpers import VALID_USCC

STANDARDS = Path(__file__).resolve().parents[4] / "shared" / "standards" / "ocds"


@pytest.mark.parametrize(
    ("score", "factor", "final"),
    [
        (Decimal("95"), Decimal("1"), Decimal("60000.00")),
        (Decimal("90"), Decimal("1"), Decimal("60000.00")),
        (Decimal("75"), Decimal("0.75"), Decimal("45000.00")),
        (Decimal("89.99"), Decimal("0.8999"), Decimal("53994.00")),
        (Decimal("60"), Decimal("0.6"), Decimal("36000.00")),
        (Decimal("59.99"), Decimal("0"), Decimal("0.00")),
        (Decimal("55"), Decimal("0"), Decimal("0.00")),
    ],
)
def test_payment_rule_arithmetic(score: Decimal, factor: Decimal, final: Decimal) -> None:
    assert service.payment_factor(score) == factor
    assert service.final_payment(Decimal("60000.00"), score) == final


def test_pro_rata_rounds_to_the_fen() -> None:
    assert service.final_payment(Decimal("33333.33"), Decimal("75")) == Decimal("25000.00")
    assert service.final_payment(Decimal("10000.01"), Decimal("61.5")) == Decimal("6150.01")


async def _in_service(session: AsyncSession, cast: Cast) -> int:
    contract = await make_contract(session, cast)
    await service.sign(session, cast.staff.principal, contract.id, DateIn(on=today()))
    await service.start(session, cast.staff.principal, contract.id, DateIn(on=today()))
    return contract.id


async def _pay_due(session: AsyncSession, cast: Cast, contract_id: int) -> None:
    contract = await service.get_contract(session, cast.staff.principal, contract_id)
    for m in contract.milestones:
        if m.state is MilestoneState.due:
            d = await disbursements.request_disbursement(
                session, cast.staff.principal, DisbursementCreate(milestone_id=m.id)
            )
            await disbursements.approve(session, cast.finance.principal, d.id)
            await disbursements.pay(
                session,
                cast.finance2.principal,
                d.id,
                PayIn(voucher_no=f"政采-{d.id}", paid_on=today(), amount=d.amount),
            )


async def test_lifecycle_with_full_payment_at_95(session: AsyncSession) -> None:
    cast = await make_cast(session)
    contract = await make_contract(session, cast)
    assert contract.state is ContractState.draft
    assert [m.amount for m in contract.milestones] == [
        Decimal("80000.00"),
        Decimal("60000.00"),
        Decimal("60000.00"),
    ]
    signed = await service.sign(session, cast.staff.principal, contract.id, DateIn(on=today()))
    assert [m.state for m in signed.milestones] == [
        MilestoneState.due,
        MilestoneState.planned,
        MilestoneState.planned,
    ]
    with pytest.raises(Conflict):
        await service.complete(session, cast.staff.principal, contract.id, CompleteIn())
    await service.start(session, cast.staff.principal, contract.id, DateIn(on=today()))
    await _pay_due(session, cast, contract.id)
    started = await service.evaluate(session, cast.staff.principal, contract.id, EvaluateIn())
    assert started.state is ContractState.under_evaluation
    scored = await service.evaluate(
        session,
        cast.staff.principal,
        contract.id,
        EvaluateIn(
            score=Decimal("95"), actuals=[{"indicator_id": started.indicators[0].id, "actual": "1620"}]
        ),
    )
    final = scored.milestones[2]
    assert (final.payable, final.state) == (Decimal("60000.00"), MilestoneState.due)
    assert scored.indicators[0].actual == Decimal("1620")
    with pytest.raises(Conflict):
        await service.evaluate(session, cast.staff.principal, contract.id, EvaluateIn(score=Decimal("80")))
    await _pay_due(session, cast, contract.id)
    done = await service.complete(session, cast.staff.principal, contract.id, CompleteIn(note="履约良好"))
    assert done.state is ContractState.completed
    assert done.paid == Decimal("200000.00")


async def test_score_75_pays_75_percent_of_the_final_payment(session: AsyncSession) -> None:
    cast = await make_cast(session)
    contract_id = await _in_service(session, cast)
    await _pay_due(session, cast, contract_id)
    scored = await service.evaluate(
        session, cast.staff.principal, contract_id, EvaluateIn(score=Decimal("75"))
    )
    assert scored.milestones[2].payable == Decimal("45000.00")
    await _pay_due(session, cast, contract_id)
    done = await service.complete(session, cast.staff.principal, contract_id, CompleteIn())
    assert done.paid == Decimal("185000.00")


async def test_score_55_withholds_and_bars_next_year(session: AsyncSession) -> None:
    cast = await make_cast(session)
    contract_id = await _in_service(session, cast)
    await _pay_due(session, cast, contract_id)
    scored = await service.evaluate(
        session, cast.staff.principal, contract_id, EvaluateIn(score=Decimal("55"), on=dt.date(2026, 11, 20))
    )
    final = scored.milestones[2]
    assert (final.payable, final.state) == (Decimal("0.00"), MilestoneState.withheld)
    with pytest.raises(Conflict):
        await disbursements.request_disbursement(
            session, cast.staff.principal, DisbursementCreate(milestone_id=final.id)
        )
    org = await session.get(Organisation, cast.org.id, populate_existing=True)
    assert org is not None
    assert org.barred_until == dt.date(2027, 12, 31)
    done = await service.complete(session, cast.staff.principal, contract_id, CompleteIn())
    assert done.paid == Decimal("140000.00")


async def test_terminate_cancels_unpaid_milestones(session: AsyncSession) -> None:
    cast = await make_cast(session)
    contract_id = await _in_service(session, cast)
    contract = await service.get_contract(session, cast.staff.principal, contract_id)
    d = await disbursements.request_disbursement(
        session, cast.staff.principal, DisbursementCreate(milestone_id=contract.milestones[0].id)
    )
    with pytest.raises(Conflict, match=f"#{d.id}"):
        await service.terminate(
            session, cast.staff.principal, contract_id, ContractTerminateIn(reason="服务中断")
        )
    await disbursements.reject(session, cast.finance.principal, d.id, "暂缓支付")
    ended = await service.terminate(
        session, cast.staff.principal, contract_id, ContractTerminateIn(reason="服务中断")
    )
    assert ended.state is ContractState.terminated
    assert {m.state for m in ended.milestones} == {MilestoneState.cancelled}


async def test_milestone_shares_must_add_to_100(session: AsyncSession) -> None:
    cast = await make_cast(session)
    payload = contract_payload(cast.org.id, milestones=[{"share_pct": "60", "condition": "on_signing"}])
    with pytest.raises(ValidationFailed) as error:
        await service.create_contract(session, cast.staff.principal, ContractIn.model_validate(payload))
    assert error.value.details[0].field == "milestones"


async def test_amount_must_cover_a_fen_per_milestone(session: AsyncSession) -> None:
    """Two fen cannot be paid in three milestones: refused on the amount, nothing stored."""
    cast = await make_cast(session)
    payload = contract_payload(cast.org.id, amount="0.02")
    with pytest.raises(ValidationFailed) as error:
        await service.create_contract(session, cast.staff.principal, ContractIn.model_validate(payload))
    assert error.value.details[0].field == "amount"
    assert "3" in str(error.value.details[0].message)
    three_fen = await service.create_contract(
        session, cast.staff.principal, ContractIn.model_validate(contract_payload(cast.org.id, amount="0.03"))
    )
    assert [m.amount for m in three_fen.milestones] == [Decimal("0.01")] * 3


def _validator() -> Any:
    from jsonschema import Draft4Validator, FormatChecker
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    release = json.loads((STANDARDS / "ocds-1.1.5-release-schema.json").read_text())
    package = json.loads((STANDARDS / "ocds-1.1.5-release-package-schema.json").read_text())
    registry = Registry().with_resource(
        release["id"], Resource.from_contents(release, default_specification=DRAFT4)
    )
    return Draft4Validator(package, registry=registry, format_checker=FormatChecker())


async def test_ocds_package_is_valid(session: AsyncSession) -> None:
    cast = await make_cast(session, uscc=VALID_USCC)
    contract_id = await _in_service(session, cast)
    await _pay_due(session, cast, contract_id)
    await service.evaluate(session, cast.staff.principal, contract_id, EvaluateIn(score=Decimal("75")))
    await _pay_due(session, cast, contract_id)
    await make_contract(
        session, cast, title="尚未签订的合同", procurement_method="single_source"
    )  # drafts are not published
    package = await ocds_package(
        session, cast.staff.principal, uri="https://example.org/api/v1/exports/ocds.json"
    )
    errors = sorted(_validator().iter_errors(package), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    (release,) = package["releases"]
    assert release["tender"]["procurementMethod"] == "limited"
    supplier = next(p for p in release["parties"] if "supplier" in p["roles"])
    assert supplier["identifier"] == {"scheme": "CN-USCI", "id": VALID_USCC, "legalName": cast.org.name}
    assert supplier["id"] == f"CN-USCI-{VALID_USCC}"
    assert release["buyer"]["id"] == "CN-USCI-11510107MB1M12345X"
    transactions = release["contracts"][0]["implementation"]["transactions"]
    assert [t["value"]["amount"] for t in transactions] == [80000.0, 60000.0, 45000.0]
    assert [m["status"] for m in release["contracts"][0]["milestones"]] == ["met", "met", "partiallyMet"]
    assert "implementation" in release["tag"]


def test_every_procurement_method_maps_to_the_closed_codelist() -> None:
    from grants.contracts.models import ProcurementMethod

    assert set(METHOD) == set(ProcurementMethod)
    assert set(METHOD.values()) <= {"open", "selective", "limited", "direct"}


async def test_a_barred_provider_gets_no_new_contract_and_signs_none(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """The bar blocked applications only: a barred organisation got a contract (201) and signed it (200)."""
    cast = await make_cast(session)
    draft = await make_contract(session, cast)
    until = (today() + dt.timedelta(days=90)).isoformat()
    barred = await client.post(
        f"/api/v1/organisations/{cast.org.id}/bar",
        json={"until": until, "reason": "上一合同绩效不合格"},
        headers=cast.staff.headers,
    )
    assert barred.status_code == 200, barred.text
    created = await client.post(
        "/api/v1/contracts", json=contract_payload(cast.org.id), headers=cast.staff.headers
    )
    assert created.status_code == 422, created.text
    detail = created.json()["error"]["details"][0]
    assert detail["field"] == "provider_id"
    assert "上一合同绩效不合格" in detail["message"]
    assert until in detail["message"]
    signed = await client.post(
        f"/api/v1/contracts/{draft.id}/sign", json={"on": today().isoformat()}, headers=cast.staff.headers
    )
    assert signed.status_code == 409, signed.text
    assert "上一合同绩效不合格" in signed.json()["error"]["message"]
    listed = (await client.get("/api/v1/contracts", headers=cast.staff.headers)).json()
    assert [(c["id"], c["state"]) for c in listed["items"]] == [(draft.id, "draft")]
    bars = (await client.get("/api/v1/bars", headers=cast.staff.headers)).json()
    assert [(b["organisation_id"], b["barred_until"], b["reason"]) for b in bars["items"]] == [
        (cast.org.id, until, "上一合同绩效不合格")
    ]
    lifted = await client.post(
        f"/api/v1/organisations/{cast.org.id}/lift-bar",
        json={"reason": "整改完成"},
        headers=cast.staff.headers,
    )
    assert lifted.status_code == 200
    signed = await client.post(
        f"/api/v1/contracts/{draft.id}/sign", json={"on": today().isoformat()}, headers=cast.staff.headers
    )
    assert signed.status_code == 200, signed.text
    assert (await client.get("/api/v1/bars", headers=cast.staff.headers)).json()["total"] == 0


async def test_a_round_total_above_100_pays_in_full(session: AsyncSession) -> None:
    """A performance round with bonus criteria can total more than 100: that was a 500 on closing."""
    cast = await make_cast(session)
    contract_id = await _in_service(session, cast)
    scored = await service.record_contract_evaluation(
        session, cast.staff.principal, contract_id, Decimal("104.50")
    )
    assert scored.evaluation_score == Decimal("104.50")
    assert scored.payment_factor == Decimal("1")
    assert scored.milestones[2].payable == scored.milestones[2].amount
