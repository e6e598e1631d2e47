"""The whole way from an award made by the grant cycle to money paid and evaluated:
sign → first tranche due → request → approve (another person) → pay; a mid-term round in the
evaluations engine releases the second tranche when passed, and a failed one starts 整改."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import Role
from evaluations.assignments import service as assignment_service
from evaluations.assignments.schemas import AssignmentCreate, DeclarationIn
from evaluations.rounds import service as round_service
from evaluations.rubrics import service as rubric_service
from evaluations.sheets import service as sheet_service
from evaluations.sheets.schemas import ScoreItemIn, SheetIn
from grants.applications import publicity, review
from grants.applications import service as applications
from grants.applications.schemas import ConfirmEligibility, DecideIn, DecisionRow
from grants.awards.models import Award
from incubator import service as incubator
from tests.factories import Actor, make_centre, make_user
from tests.grants.factories import applicant_org, open_programme, run_review, submitted_application


async def _award(session: AsyncSession) -> tuple[Actor, Actor, list[Actor], Award]:
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    finance = await make_user(session, centre, Role.finance)
    evaluators = [await make_user(session, centre, Role.evaluator) for _ in range(3)]
    programme = await open_programme(session, staff)
    owner, org = await applicant_org(session, centre, staff)
    application = await submitted_application(session, programme, owner, org)
    await applications.confirm_eligibility(session, staff.principal, application.id, ConfirmEligibility())
    await run_review(session, staff, evaluators, programme.id, {application.id: [85, 88, 90]})
    await review.decide(
        session,
        staff.principal,
        programme.id,
        DecideIn(decisions=[DecisionRow(application_id=application.id, approve=True, reason="评审通过")]),
    )
    await publicity.publicise(
        session, staff.principal, programme.id, starts_on=dt.date(2026, 9, 30), on=dt.date(2026, 9, 30)
    )
    (award,) = await publicity.finalise_publicity(session, dt.date(2026, 10, 13))
    return staff, finance, evaluators, award


async def _score_round(
    session: AsyncSession, staff: Actor, evaluators: list[Actor], round_id: int, mark: int
) -> None:
    subject = (await round_service.list_subjects(session, staff.principal, round_id))[0]
    review_round = await round_service.get_round(session, staff.principal, round_id)
    version = await rubric_service.get_version(session, staff.principal, review_round.rubric_version_id)
    criteria = [c for c in rubric_service.criteria_of(version) if not c.bonus]
    for evaluator in evaluators:
        assignment = await assignment_service.assign(
            session,
            staff.principal,
            round_id,
            AssignmentCreate(subject_id=subject.id, evaluator_id=evaluator.user.id),
            incubator.member_user_ids,
        )
        await assignment_service.declare(
            session, evaluator.principal, assignment.id, DeclarationIn(has_conflict=False)
        )
        items = [
            ScoreItemIn(
                criterion_key=c.key,
                score=(c.max_points * Decimal(mark) / 100).quantize(Decimal("0.01")),
                comment="台账完整" if c.key == criteria[0].key else "",
            )
            for c in criteria
        ]
        await sheet_service.submit_sheet(
            session, evaluator.principal, assignment.id, SheetIn(items=items, comment="执行规范，建议通过")
        )


def _tranches(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(t["amount"], t["state"]) for t in body["tranches"]]


async def test_award_money_and_midterm(client: httpx.AsyncClient, session: AsyncSession) -> None:
    staff, finance, evaluators, award = await _award(session)
    award_id = award.id
    signed = await client.post(
        f"/api/v1/awards/{award_id}/sign", json={"signed_on": "2026-10-20"}, headers=staff.headers
    )
    assert signed.status_code == 200, signed.text
    assert _tranches(signed.json()) == [("10000.00", "due"), ("6000.00", "planned"), ("4000.00", "planned")]
    first = signed.json()["tranches"][0]["id"]

    requested = await client.post(
        "/api/v1/disbursements",
        json={"tranche_id": first},
        headers={**staff.headers, "Idempotency-Key": "req-1"},
    )
    assert requested.status_code == 201, requested.text
    disbursement = requested.json()["id"]
    approved = await client.post(
        f"/api/v1/disbursements/{disbursement}/approve",
        json={},
        headers={**finance.headers, "Idempotency-Key": "ap-1"},
    )
    assert approved.status_code == 200, approved.text
    paid = await client.post(
        f"/api/v1/disbursements/{disbursement}/pay",
        json={"voucher_no": "记-2026-1021", "paid_on": "2026-10-21", "amount": "10000.00"},
        headers={**finance.headers, "Idempotency-Key": "pay-1"},
    )
    assert paid.status_code == 200, paid.text

    round_response = await client.post(
        f"/api/v1/awards/{award_id}/evaluation-rounds", json={"purpose": "midterm"}, headers=staff.headers
    )
    assert round_response.status_code == 201, round_response.text
    round_id = round_response.json()["id"]
    await _score_round(session, staff, evaluators, round_id, 78)
    closed = await client.post(f"/api/v1/review-rounds/{round_id}/close", headers=staff.headers)
    assert closed.status_code == 200, closed.text
    after = (await client.get(f"/api/v1/awards/{award_id}", headers=staff.headers)).json()
    assert _tranches(after) == [("10000.00", "paid"), ("6000.00", "due"), ("4000.00", "planned")]
    assert after["paid"] == "10000.00"


async def test_failed_midterm_starts_rectification(client: httpx.AsyncClient, session: AsyncSession) -> None:
    staff, _finance, evaluators, award = await _award(session)
    award_id = award.id
    await client.post(
        f"/api/v1/awards/{award_id}/sign", json={"signed_on": "2026-10-20"}, headers=staff.headers
    )
    round_id = (
        await client.post(
            f"/api/v1/awards/{award_id}/evaluation-rounds", json={"purpose": "midterm"}, headers=staff.headers
        )
    ).json()["id"]
    await _score_round(session, staff, evaluators, round_id, 50)
    assert (
        await client.post(f"/api/v1/review-rounds/{round_id}/close", headers=staff.headers)
    ).status_code == 200
    after = (await client.get(f"/api/v1/awards/{award_id}", headers=staff.headers)).json()
    assert after["state"] == "rectification"
    assert _tranches(after)[1] == ("6000.00", "planned")


async def test_closing_the_round_writes_the_project_assessment_report(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    import io

    from pypdf import PdfReader

    staff, _finance, evaluators, award = await _award(session)
    award_id = award.id
    await client.post(
        f"/api/v1/awards/{award_id}/sign", json={"signed_on": "2026-10-20"}, headers=staff.headers
    )
    round_id = (
        await client.post(
            f"/api/v1/awards/{award_id}/evaluation-rounds", json={"purpose": "final"}, headers=staff.headers
        )
    ).json()["id"]
    await _score_round(session, staff, evaluators, round_id, 91)
    assert (
        await client.post(f"/api/v1/review-rounds/{round_id}/close", headers=staff.headers)
    ).status_code == 200
    listed = await client.get("/api/v1/reports?kind=project_assessment", headers=staff.headers)
    reports = [r for r in listed.json()["items"] if r["scope_id"] == award_id]
    assert len(reports) == 1
    assert reports[0]["generator"] == "event"
    pdf = await client.get(f"/api/v1/reports/{reports[0]['id']}/download", headers=staff.headers)
    assert pdf.status_code == 200
    text = (
        "".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(pdf.content)).pages)
        .replace(" ", "")
        .replace("\n", "")
    )
    assert "项目评估报告" in text
    assert "玉林社区邻里互助会" in text
    assert "优秀" in text
    assert "91.00" in text
    assert "20,000.00" in text  # granted
    assert "专家A" in text
    assert "台账完整" in text
    assert "执行规范，建议通过" in text
    assert evaluators[0].user.full_name not in text  # experts are anonymised


async def test_termination_returns_the_unpaid_part_to_the_budget(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    staff, finance, _evaluators, award = await _award(session)
    award_id, programme_id = award.id, award.programme_id
    signed = await client.post(
        f"/api/v1/awards/{award_id}/sign", json={"signed_on": "2026-10-20"}, headers=staff.headers
    )
    first = signed.json()["tranches"][0]["id"]
    disbursement = (
        await client.post("/api/v1/disbursements", json={"tranche_id": first}, headers=staff.headers)
    ).json()["id"]
    await client.post(
        f"/api/v1/disbursements/{disbursement}/approve",
        json={},
        headers={**finance.headers, "Idempotency-Key": "ap-2"},
    )
    await client.post(
        f"/api/v1/disbursements/{disbursement}/pay",
        json={"voucher_no": "记-2026-1101", "paid_on": "2026-11-01", "amount": "10000.00"},
        headers={**finance.headers, "Idempotency-Key": "pay-2"},
    )
    before = (await client.get(f"/api/v1/programmes/{programme_id}", headers=staff.headers)).json()
    assert before["committed"] == "20000.00"
    terminated = await client.post(
        f"/api/v1/awards/{award_id}/terminate",
        json={"reason": "项目团队解散，无法继续实施"},
        headers=staff.headers,
    )
    assert terminated.status_code == 200, terminated.text
    assert terminated.json()["state"] == "terminated"
    after = (await client.get(f"/api/v1/programmes/{programme_id}", headers=staff.headers)).json()
    assert after["committed"] == "10000.00"  # the unpaid 10,000.00 is back in the budget
    assert [c["committed"] for c in after["categories"]] == ["10000.00", "0.00"]
