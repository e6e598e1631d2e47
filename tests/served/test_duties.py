"""Separation of duties, tried against the running server (issue: trust as deployed, 5).

The reproduction: an admin PATCHed their own account to add finance and staff, approved and
paid a disbursement, then created a puppet finance account and had it approve and pay a
tranche the admin had requested. Every step that made that possible is refused now, and the
one admin power that remains (creating a finance officer) is audited and announced.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from core.audit import AuditEvent
from core.clock import today
from core.identity.models import Role
from core.notifications import Notification
from grants.awards import service as awards
from grants.awards.schemas import SignIn
from grants.disbursements import service as disbursements
from grants.disbursements.schemas import DisbursementCreate
from grants.programmes.models import TrancheTrigger
from tests.factories import make_user
from tests.grants.factories import make_award, make_cast
from tests.served.conftest import Deployment

pytestmark = pytest.mark.postgres_only


async def test_an_admin_cannot_take_money_duties(deployment: Deployment) -> None:
    async with deployment.session() as session:
        cast = await make_cast(session)
        admin = await make_user(session, cast.centre, Role.admin)
        award = await make_award(session, cast, plan=[(Decimal("100"), TrancheTrigger.on_signing)])
        signed = await awards.sign_award(session, cast.staff.principal, award.id, SignIn(signed_on=today()))
        requested = await disbursements.request_disbursement(
            session, cast.staff.principal, DisbursementCreate(tranche_id=signed.tranches[0].id)
        )
    async with deployment.server.client(admin.token) as client:
        own = await client.patch(
            f"/api/v1/users/{admin.user.id}", json={"roles": ["admin", "finance", "staff"]}
        )
        assert own.status_code == 403, own.text

        mixed = await client.post(
            "/api/v1/users",
            json={
                "email": "mixed@example.org",
                "password": "puppet-password-2026",
                "full_name": "混合角色",
                "roles": ["admin", "finance"],
                "centre_id": cast.centre.id,
            },
        )
        assert mixed.status_code == 422, mixed.text
        assert mixed.json()["error"]["details"][0]["field"] == "roles"

        for action in ("approve", "pay"):
            body = (
                {"voucher_no": "记-1", "paid_on": today().isoformat(), "amount": "100000.00"}
                if action == "pay"
                else {}
            )
            refused = await client.post(f"/api/v1/disbursements/{requested.id}/{action}", json=body)
            assert refused.status_code == 403, refused.text
        asked = await client.post("/api/v1/disbursements", json={"tranche_id": signed.tranches[0].id})
        assert asked.status_code == 403, asked.text

        puppet = await client.post(
            "/api/v1/users",
            json={
                "email": "puppet@example.org",
                "password": "puppet-password-2026",
                "full_name": "新财务",
                "roles": ["finance"],
                "centre_id": cast.centre.id,
            },
        )
        assert puppet.status_code == 201, puppet.text
    async with deployment.session() as session:
        grants = (
            (
                await session.execute(
                    select(AuditEvent).where(
                        AuditEvent.action == "user.grant_finance",
                        AuditEvent.subject_id == str(puppet.json()["id"]),
                    )
                )
            )
            .scalars()
            .all()
        )
        assert len(grants) == 1
        told = (
            (
                await session.execute(
                    select(Notification.user_id).where(Notification.kind == "user.grant_finance")
                )
            )
            .scalars()
            .all()
        )
        assert cast.finance.user.id in told, "the centre's finance officers hear of a new finance account"
