"""Idempotency that holds under concurrency (issue: trust as deployed, 4).

200 approvals with one ``Idempotency-Key`` used to answer 172 replayed 200s and 28 × 409
"only a requested disbursement can be approved": the client was told its own approval had
failed. Now every answer is the first one's, or "still in progress, retry".
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.audit import AuditEvent
from core.clock import today
from grants.awards import service as awards
from grants.awards.schemas import SignIn
from grants.disbursements import service as disbursements
from grants.disbursements.schemas import DisbursementCreate
from grants.programmes.models import TrancheTrigger
from tests.grants.factories import make_award, make_cast
from tests.served.conftest import Deployment, race

pytestmark = pytest.mark.postgres_only


async def test_one_key_one_approval_and_every_answer_agrees(deployment: Deployment) -> None:
    async with deployment.session() as session:
        cast = await make_cast(session)
        award = await make_award(session, cast, plan=[(Decimal("100"), TrancheTrigger.on_signing)])
        signed = await awards.sign_award(session, cast.staff.principal, award.id, SignIn(signed_on=today()))
        disbursement = await disbursements.request_disbursement(
            session, cast.staff.principal, DisbursementCreate(tranche_id=signed.tranches[0].id)
        )
    path = f"/api/v1/disbursements/{disbursement.id}/approve"
    headers = {"Idempotency-Key": "approve-once-0001"}
    async with deployment.server.client(cast.finance.token, max_connections=200) as client:
        result = await race(client.post(path, json={"note": "同意"}, headers=headers) for _ in range(200))
        assert result.count(lambda s: s >= 500) == 0, result.describe()
        bodies = {r.text for r in result.successes}
        assert len(bodies) == 1, "every 200 carries the first approval's answer"
        assert result.successes[0].json()["state"] == "approved"
        for answer in result.responses:
            if not answer.is_success:
                assert answer.status_code == 409, answer.text
                assert answer.json()["error"]["code"] == "in_progress", answer.text
                assert int(answer.headers["Retry-After"]) >= 1
        replayed = [r for r in result.successes if r.headers.get("Idempotent-Replayed") == "true"]
        assert len(replayed) == len(result.successes) - 1

        later = await client.post(path, json={"note": "同意"}, headers=headers)
        assert later.status_code == 200
        assert later.headers["Idempotent-Replayed"] == "true"
        assert later.text in bodies
        other_body = await client.post(path, json={"note": "另一个请求"}, headers=headers)
        assert other_body.status_code == 422
        assert other_body.json()["error"]["details"][0]["field"] == "Idempotency-Key"
    async with deployment.session() as session:
        approvals = (
            await session.execute(
                select(func.count())
                .select_from(AuditEvent)
                .where(
                    AuditEvent.action == "disbursement.approve", AuditEvent.subject_id == str(disbursement.id)
                )
            )
        ).scalar_one()
    assert approvals == 1
    assert await deployment.audit_problems() == []
