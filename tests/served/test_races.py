"""Every state change is a compare-and-set (issue: trust as deployed, 2 and 3).

For each state machine, N clients send the same transition at once to the two-worker
server: exactly one changes the state (one audit event, money moved once), every other
answer is a 409 in the error shape naming why, none is a 5xx, and the audit chain verifies.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import AuditEvent
from core.clock import today
from core.identity.models import Role
from evaluations.assignments import service as assignment_service
from evaluations.assignments.schemas import DeclarationIn
from grants.applications import publicity, review
from grants.applications import service as applications
from grants.applications.models import Application
from grants.applications.schemas import (
    ApplicationCreate,
    ConfirmEligibility,
    DecideIn,
    DecisionRow,
    ObjectionIn,
)
from grants.awards import reviews
from grants.awards import service as awards
from grants.awards.models import Rectification, RectificationState
from grants.awards.schemas import ProgressReportIn, SignIn
from grants.contracts import service as contracts
from grants.contracts.schemas import DateIn
from grants.disbursements import service as disbursement_service
from grants.disbursements.models import Disbursement
from grants.disbursements.schemas import DisbursementCreate
from grants.programmes import service as programmes
from grants.programmes.calendar import WorkingCalendar, enter_year
from grants.programmes.models import Programme, TrancheTrigger
from grants.programmes.schemas import ProgrammeCreate
from incubator import service as incubator
from incubator.schemas import StayCreate
from tests.evaluations.factories import assign, make_scenario, sheet_for
from tests.factories import Actor, make_user
from tests.grants.factories import (
    Cast,
    applicant_org,
    application_payload,
    make_award,
    make_cast,
    make_contract,
    make_programme,
    open_programme,
    programme_payload,
    run_review,
    submitted_application,
)
from tests.proof.world import PDF
from tests.served.conftest import Deployment, RaceResult, race

pytestmark = pytest.mark.postgres_only

N = 40


@dataclass
class Street:
    """One centre's people and a few records, committed in the served database."""

    cast: Cast
    evaluator: Actor


@pytest_asyncio.fixture(scope="module")
async def street(deployment: Deployment) -> AsyncIterator[Street]:
    async with deployment.session() as session:
        cast = await make_cast(session)
        evaluator = await make_user(session, cast.centre, Role.evaluator)
        known = await WorkingCalendar.load(session)
        for year in (today().year, today().year + 1):
            if not known.knows(year):
                await enter_year(session, year, [dt.date(year, 1, 1)], [], {})
    yield Street(cast, evaluator)
    assert await deployment.audit_problems() == []


async def effects(deployment: Deployment, action: str, subject_id: int) -> int:
    async with deployment.session() as session:
        return (
            await session.execute(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == action, AuditEvent.subject_id == str(subject_id))
            )
        ).scalar_one()


async def fire(
    deployment: Deployment,
    actor: Actor,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    n: int = N,
    keyed: bool = False,
) -> RaceResult:
    """``n`` concurrent requests; ``keyed``: each with an Idempotency-Key of its own (distinct
    requests, as n clicks on n screens would be), for routes that require one."""
    async with deployment.server.client(actor.token, max_connections=n) as client:
        return await race(
            client.post(
                path,
                json=body if body is not None else {},
                headers={"Idempotency-Key": f"race-{uuid.uuid4()}"} if keyed else None,
            )
            for _ in range(n)
        )


async def test_decide_approves_once_and_commits_the_budget_once(
    deployment: Deployment, street: Street
) -> None:
    """The reproduction: 300 approvals of one application at 1,000.00 committed 22,000.00."""
    staff = street.cast.staff
    async with deployment.session() as session:
        programme = await open_programme(session, staff, name="决定竞争测试", min_reviewers=1)
        owner, org = await applicant_org(session, street.cast.centre, staff, name="决定竞争互助会")
        application = await submitted_application(session, programme, owner, org)
        await applications.confirm_eligibility(session, staff.principal, application.id, ConfirmEligibility())
        await run_review(session, staff, [street.evaluator], programme.id, {application.id: [88]})
    body = {
        "decisions": [
            {"application_id": application.id, "approve": True, "amount": "1000.00", "reason": "同意"}
        ]
    }
    result = await fire(deployment, staff, f"/api/v1/programmes/{programme.id}/decide", body, n=300)
    winner = result.assert_one_winner()
    assert winner.json()["committed"] == "1000.00"
    assert await effects(deployment, "programme.decide", programme.id) == 1
    assert await effects(deployment, "application.decide", application.id) == 1
    async with deployment.session() as session:
        stored = await session.get(Programme, programme.id)
        assert stored is not None
        assert stored.committed == Decimal("1000.00")

    publicised = await fire(
        deployment, staff, f"/api/v1/programmes/{programme.id}/publicise", {"starts_on": today().isoformat()}
    )
    publicised.assert_one_winner()
    assert await effects(deployment, "programme.publicise", programme.id) == 1


async def test_programme_open_start_review_and_close(deployment: Deployment, street: Street) -> None:
    staff = street.cast.staff
    async with deployment.session() as session:
        call = await open_programme(session, staff, name="开放竞争测试")
        owner, org = await applicant_org(session, street.cast.centre, staff, name="评审竞争互助会")
        submitted = await submitted_application(session, call, owner, org)
        await applications.confirm_eligibility(session, staff.principal, submitted.id, ConfirmEligibility())
        draft = await programmes.create_programme(session, staff.principal, _copy_of(call))
        running = await make_programme(session, street.cast.centre)
    (await fire(deployment, staff, f"/api/v1/programmes/{draft.id}/open")).assert_one_winner()
    assert await effects(deployment, "programme.open", draft.id) == 1
    (await fire(deployment, staff, f"/api/v1/programmes/{call.id}/start-review")).assert_one_winner()
    assert await effects(deployment, "programme.start-review", call.id) == 1
    (await fire(deployment, staff, f"/api/v1/programmes/{running.id}/close")).assert_one_winner()
    assert await effects(deployment, "programme.close", running.id) == 1


def _copy_of(programme: Programme) -> ProgrammeCreate:
    return ProgrammeCreate.model_validate(programme_payload(programme.rubric_version_id, name="草稿竞争测试"))


async def test_application_transitions(deployment: Deployment, street: Street) -> None:
    staff = street.cast.staff
    async with deployment.session() as session:
        call = await open_programme(session, staff, name="申报竞争测试")
        apps: list[tuple[Actor, Application]] = []
        for n in range(4):
            owner, org = await applicant_org(session, street.cast.centre, staff, name=f"申报竞争互助会{n}")
            application = await submitted_application(session, call, owner, org, title=f"竞争项目{n}")
            apps.append((owner, application))
        draft_owner, draft_org = await applicant_org(
            session, street.cast.centre, staff, name="草稿竞争互助会"
        )
        draft = await applications.create_application(
            session,
            draft_owner.principal,
            ApplicationCreate.model_validate(application_payload(call, draft_org)),
        )
    (await fire(deployment, draft_owner, f"/api/v1/applications/{draft.id}/submit")).assert_one_winner()
    assert await effects(deployment, "application.submit", draft.id) == 1

    owner, withdrawn = apps[0]
    (
        await fire(deployment, owner, f"/api/v1/applications/{withdrawn.id}/withdraw", {"reason": "组织调整"})
    ).assert_one_winner()
    assert await effects(deployment, "application.withdraw", withdrawn.id) == 1

    returned = apps[1][1]
    (
        await fire(
            deployment, staff, f"/api/v1/applications/{returned.id}/return", {"reason": "请补充预算说明"}
        )
    ).assert_one_winner()
    assert await effects(deployment, "application.return", returned.id) == 1

    confirmed = apps[2][1]
    (
        await fire(deployment, staff, f"/api/v1/applications/{confirmed.id}/confirm-eligibility", {})
    ).assert_one_winner()
    assert await effects(deployment, "application.confirm_eligibility", confirmed.id) == 1


async def test_award_sign_and_terminate(deployment: Deployment, street: Street) -> None:
    cast = street.cast
    async with deployment.session() as session:
        unsigned = await make_award(session, cast, title="签约竞争项目")
        active = await make_award(session, cast, title="终止竞争项目")
        await awards.sign_award(session, cast.staff.principal, active.id, SignIn(signed_on=today()))
    signed = await fire(
        deployment, cast.staff, f"/api/v1/awards/{unsigned.id}/sign", {"signed_on": today().isoformat()}
    )
    signed.assert_one_winner()
    assert await effects(deployment, "award.sign", unsigned.id) == 1

    terminated = await fire(
        deployment, cast.staff, f"/api/v1/awards/{active.id}/terminate", {"reason": "项目无法继续执行"}
    )
    terminated.assert_one_winner()
    assert await effects(deployment, "award.terminate", active.id) == 1


async def test_a_tranche_is_requested_approved_and_paid_once(deployment: Deployment, street: Street) -> None:
    """200 approvals of one disbursement answered 1 × 200, 174 × 409 and 25 × 500 (lock waits
    cancelled by the statement timeout): now one 200 and 409s, no 5xx."""
    cast = street.cast
    async with deployment.session() as session:
        award = await make_award(
            session, cast, title="拨付竞争项目", plan=[(Decimal("100"), TrancheTrigger.on_signing)]
        )
        signed = await awards.sign_award(session, cast.staff.principal, award.id, SignIn(signed_on=today()))
        tranche_id = signed.tranches[0].id
    async with deployment.server.client(cast.staff.token, max_connections=N) as client:
        requested = await race(
            client.post("/api/v1/disbursements", json={"tranche_id": tranche_id}) for _ in range(N)
        )
    disbursement_id = requested.assert_one_winner().json()["id"]
    approved = await fire(
        deployment, cast.finance, f"/api/v1/disbursements/{disbursement_id}/approve", n=200, keyed=True
    )
    approved.assert_one_winner()
    paid = await fire(
        deployment,
        cast.finance2,
        f"/api/v1/disbursements/{disbursement_id}/pay",
        {"voucher_no": "记-2026-0901", "paid_on": today().isoformat(), "amount": "100000.00"},
        keyed=True,
    )
    paid.assert_one_winner()
    async with deployment.session() as session:
        disbursements = (
            (await session.execute(select(Disbursement).where(Disbursement.tranche_id == tranche_id)))
            .scalars()
            .all()
        )
        assert len(disbursements) == 1
        assert disbursements[0].state.value == "paid"
        refreshed = await awards.get_award(session, cast.staff.principal, award.id)
        assert refreshed.paid == Decimal("100000.00")


async def test_a_disbursement_is_rejected_once(deployment: Deployment, street: Street) -> None:
    cast = street.cast
    async with deployment.session() as session:
        award = await make_award(session, cast, title="驳回竞争项目")
        signed = await awards.sign_award(session, cast.staff.principal, award.id, SignIn(signed_on=today()))
        disbursement = await disbursement_service.request_disbursement(
            session, cast.staff.principal, DisbursementCreate(tranche_id=signed.tranches[0].id)
        )
    rejected = await fire(
        deployment, cast.finance, f"/api/v1/disbursements/{disbursement.id}/reject", {"reason": "票据不全"}
    )
    rejected.assert_one_winner()
    assert await effects(deployment, "disbursement.reject", disbursement.id) == 1


async def test_contract_lifecycle(deployment: Deployment, street: Street) -> None:
    cast = street.cast
    async with deployment.session() as session:
        contract = await make_contract(session, cast, title="合同竞争项目")
        other = await make_contract(session, cast, title="合同终止竞争项目")
    on = {"on": today().isoformat()}
    for action in ("sign", "start"):
        (
            await fire(deployment, cast.staff, f"/api/v1/contracts/{contract.id}/{action}", on)
        ).assert_one_winner()
        assert await effects(deployment, f"contract.{action}", contract.id) == 1
    (await fire(deployment, cast.staff, f"/api/v1/contracts/{contract.id}/evaluate", on)).assert_one_winner()
    terminated = await fire(
        deployment, cast.staff, f"/api/v1/contracts/{other.id}/terminate", {"reason": "服务方无法履约"}
    )
    terminated.assert_one_winner()
    assert await effects(deployment, "contract.terminate", other.id) == 1


async def test_incubation_stay_lifecycle(deployment: Deployment, street: Street) -> None:
    cast = street.cast
    async with deployment.session() as session:
        stay = await incubator.create_stay(
            session, cast.staff.principal, StayCreate(organisation_id=cast.org.id, applied_on=today())
        )
    steps: list[tuple[str, dict[str, Any]]] = [
        ("assess", {"on": today().isoformat(), "note": "材料齐全，同意评估"}),
        (
            "admit",
            {
                "start_date": today().isoformat(),
                "planned_months": 12,
                "mentor": "王老师",
                "workspace": "A-101",
            },
        ),
        ("start", {"on": today().isoformat()}),
        ("exit", {"on": today().isoformat(), "reason": "组织迁出本街道"}),
    ]
    for action, body in steps:
        result = await fire(deployment, cast.staff, f"/api/v1/incubation-stays/{stay.id}/{action}", body)
        result.assert_one_winner()
        assert await effects(deployment, f"stay.{action}", stay.id) == 1


async def test_organisation_is_verified_once(deployment: Deployment, street: Street) -> None:
    cast = street.cast
    async with deployment.session() as session:
        _owner, org = await applicant_org(
            session, cast.centre, cast.staff, verified=False, name="核验竞争互助会"
        )
    (await fire(deployment, cast.staff, f"/api/v1/organisations/{org.id}/verify")).assert_one_winner()
    assert await effects(deployment, "organisation.verify", org.id) == 1


async def test_an_objection_is_resolved_once(deployment: Deployment, street: Street) -> None:
    staff = street.cast.staff
    async with deployment.session() as session:
        programme, application = await _reviewed(session, street, "异议竞争")
        await review.decide(
            session,
            staff.principal,
            programme.id,
            DecideIn(decisions=[DecisionRow(application_id=application.id, approve=True, reason="同意")]),
        )
        await publicity.publicise(session, staff.principal, programme.id, starts_on=today())
        objection = await publicity.lodge_objection(
            session, ObjectionIn(application_id=application.id, content="该组织成立不足一年"), on=today()
        )
    body = {"upheld": False, "resolution": "经核实，组织成立已满一年"}
    (await fire(deployment, staff, f"/api/v1/objections/{objection.id}/resolve", body)).assert_one_winner()
    assert await effects(deployment, "objection.dismissed", objection.id) == 1


async def _reviewed(session: AsyncSession, street: Street, name: str) -> tuple[Programme, Application]:
    staff = street.cast.staff
    programme = await open_programme(session, staff, name=f"{name}测试", min_reviewers=1)
    owner, org = await applicant_org(session, street.cast.centre, staff, name=f"{name}互助会")
    application = await submitted_application(session, programme, owner, org)
    await applications.confirm_eligibility(session, staff.principal, application.id, ConfirmEligibility())
    await run_review(session, staff, [street.evaluator], programme.id, {application.id: [88]})
    return programme, application


async def test_a_score_sheet_is_submitted_once_and_its_round_closed_once(deployment: Deployment) -> None:
    async with deployment.session() as session:
        scenario = await make_scenario(session, evaluators=1, subjects=1, min_sheets=1)
        evaluator = scenario.evaluators[0]
        assignment = await assign(session, scenario, scenario.subjects[0], evaluator)
        await assignment_service.declare(
            session, evaluator.principal, assignment.id, DeclarationIn(has_conflict=False)
        )
    body = sheet_for(80).model_dump(mode="json")
    submitted = await fire(deployment, evaluator, f"/api/v1/assignments/{assignment.id}/sheet/submit", body)
    submitted.assert_one_winner()
    assert await effects_in(deployment, "score_sheet.submit", scenario.centre.id) == 1
    closed = await fire(deployment, scenario.staff, f"/api/v1/review-rounds/{scenario.round.id}/close")
    closed.assert_one_winner()
    assert await effects(deployment, "review_round.close", scenario.round.id) == 1


async def test_progress_reports_and_expense_claims_are_reviewed_once(
    deployment: Deployment, street: Street
) -> None:
    cast = street.cast
    async with deployment.session() as session:
        award = await make_award(session, cast, title="审核竞争项目")
        await awards.sign_award(session, cast.staff.principal, award.id, SignIn(signed_on=today()))
        report = await reviews.submit_progress_report(
            session,
            cast.grantee.principal,
            award.id,
            ProgressReportIn(period="第一季度", narrative="已开展活动。"),
        )
    path = f"/api/v1/awards/{award.id}/progress-reports/{report.id}/review"
    (await fire(deployment, cast.staff, path, {"approve": True})).assert_one_winner()
    assert await effects(deployment, "award.progress_report_approved", award.id) == 1

    async with deployment.server.client(cast.grantee.token) as client:
        receipt = await client.post(
            f"/api/v1/awards/{award.id}/documents",
            files={"file": ("receipt.pdf", PDF, "application/pdf")},
            data={"kind": "receipt", "label": "活动发票"},
        )
        assert receipt.status_code == 201, receipt.text
        claim = await client.post(
            f"/api/v1/awards/{award.id}/expense-claims",
            json={
                "category": "activities",
                "item": "长者茶话会",
                "amount": "1200.00",
                "spent_on": today().isoformat(),
                "receipt_ids": [receipt.json()["id"]],
            },
        )
        assert claim.status_code == 201, claim.text
    path = f"/api/v1/awards/{award.id}/expense-claims/{claim.json()['id']}/review"
    (await fire(deployment, cast.staff, path, {"approve": True})).assert_one_winner()
    assert await effects(deployment, "award.expense_claim_approved", award.id) == 1


async def test_rectification_is_opened_once(deployment: Deployment, street: Street) -> None:
    cast = street.cast
    async with deployment.session() as session:
        award = await make_award(session, cast, title="整改竞争项目")
        await awards.sign_award(session, cast.staff.principal, award.id, SignIn(signed_on=today()))
    body = {"deadline": (today() + dt.timedelta(days=30)).isoformat(), "reason": "中期评估发现台账缺失"}
    (await fire(deployment, cast.staff, f"/api/v1/awards/{award.id}/rectify", body)).assert_one_winner()
    assert await effects(deployment, "award.rectify", award.id) == 1
    async with deployment.session() as session:
        open_ones = (
            await session.execute(
                select(func.count())
                .select_from(Rectification)
                .where(Rectification.award_id == award.id, Rectification.state == RectificationState.open)
            )
        ).scalar_one()
    assert open_ones == 1


async def test_a_report_schedule_is_paused_once(deployment: Deployment, street: Street) -> None:
    staff = street.cast.staff
    async with deployment.server.client(staff.token) as client:
        created = await client.post(
            "/api/v1/report-schedules", json={"kind": "centre_monthly", "cron": "0 8 1 * *"}
        )
        assert created.status_code == 201, created.text
    schedule_id = created.json()["id"]
    async with deployment.server.client(staff.token, max_connections=N) as client:
        paused = await race(
            client.patch(f"/api/v1/report-schedules/{schedule_id}", json={"active": False}) for _ in range(N)
        )
    # Setting what is already set is a PATCH that changes nothing (200, no effect); of the
    # requests that found the schedule active, exactly one paused it.
    assert set(paused.statuses) <= {200, 409}, paused.describe()
    assert await effects(deployment, "report_schedule.update", schedule_id) == 1


async def test_a_contract_milestone_is_requested_once(deployment: Deployment, street: Street) -> None:
    cast = street.cast
    async with deployment.session() as session:
        contract = await make_contract(session, cast, title="节点竞争项目")
        signed = await contracts.sign(session, cast.staff.principal, contract.id, DateIn(on=today()))
        milestone_id = signed.milestones[0].id
    async with deployment.server.client(cast.staff.token, max_connections=N) as client:
        requested = await race(
            client.post("/api/v1/disbursements", json={"milestone_id": milestone_id}) for _ in range(N)
        )
    requested.assert_one_winner()
    async with deployment.session() as session:
        count = (
            await session.execute(
                select(func.count())
                .select_from(Disbursement)
                .where(Disbursement.milestone_id == milestone_id)
            )
        ).scalar_one()
    assert count == 1


async def effects_in(deployment: Deployment, action: str, centre_id: int) -> int:
    async with deployment.session() as session:
        return (
            await session.execute(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == action, AuditEvent.centre_id == centre_id)
            )
        ).scalar_one()
