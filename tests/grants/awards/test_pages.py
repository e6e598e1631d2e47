"""Award pages: signing, requesting a tranche, the grantee's forms, evaluation rounds."""

from __future__ import annotations

import re
from decimal import Decimal

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import today
from tests.factories import Actor
from tests.grants.disbursements.test_pages import _row
from tests.grants.factories import make_award, make_cast
from tests.incubator.test_pages import logged_in

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def _logout_login(client: httpx.AsyncClient, actor: Actor) -> str:
    await client.post(
        "/logout",
        data={
            "csrf_token": re.findall(
                r'name="csrf_token" value="([^"]+)"', (await client.get("/dashboard")).text
            )[0]
        },
    )
    return await logged_in(client, actor)


async def test_award_page_sign_request_and_grantee_forms(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cast = await make_cast(session)
    award = await make_award(session, cast, amount=Decimal("100000.00"))
    token = await logged_in(client, cast.staff)
    page = await client.get(f"/awards/{award.id}")
    assert page.status_code == 200
    first = _row(page.text, "data-tranche", award.tranches[0].id)
    assert "disabled" in first  # not due before signing
    signed = await client.post(
        f"/awards/{award.id}/sign",
        data={"csrf_token": token, "signed_on": today().isoformat()},
        files={"signed_copy": ("协议.pdf", PDF, "application/pdf")},
    )
    assert signed.status_code == 303, signed.text
    page = await client.get(signed.headers["location"])
    assert f"/api/v1/awards/{award.id}/documents/" in page.text  # the signed copy is linked
    assert "签字盖章版" in page.text
    assert (
        "disabled"
        not in _row(page.text, "data-tranche", award.tranches[0].id).split("</form>")[0].split("<form")[1]
    )
    requested = await client.post(
        f"/awards/{award.id}/disbursements",
        data={"csrf_token": token, "tranche_id": str(award.tranches[0].id)},
    )
    assert requested.status_code == 303
    page = await client.get(f"/awards/{award.id}")
    assert "待审批" in page.text
    failed = await client.post(f"/awards/{award.id}/terminate", data={"csrf_token": token, "reason": "x"})
    assert failed.status_code == 422
    grantee_token = await _logout_login(client, cast.grantee)
    mine = await client.get(f"/awards/{award.id}")
    assert f'action="/awards/{award.id}/progress-reports"' in mine.text
    assert f'action="/awards/{award.id}/disbursements"' not in mine.text
    report = await client.post(
        f"/awards/{award.id}/progress-reports",
        data={
            "csrf_token": grantee_token,
            "period": "2026年第二季度",
            "narrative": "开展助餐服务 600 人次。",
        },
    )
    assert report.status_code == 303, report.text
    claim = await client.post(
        f"/awards/{award.id}/expense-claims",
        data={
            "csrf_token": grantee_token,
            "category": "activities",
            "item": "食材",
            "amount": "800.00",
            "spent_on": today().isoformat(),
        },
        files={"receipt": ("发票.pdf", PDF, "application/pdf")},
    )
    assert claim.status_code == 303, claim.text
    no_receipt = await client.post(
        f"/awards/{award.id}/expense-claims",
        data={
            "csrf_token": grantee_token,
            "category": "activities",
            "item": "食材",
            "amount": "800.00",
            "spent_on": today().isoformat(),
        },
    )
    assert no_receipt.status_code == 422
    assert 'data-field="receipt"' in no_receipt.text


async def test_only_staff_start_an_award_evaluation_round(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    from sqlalchemy import func, select

    from evaluations.rounds.models import ReviewRound

    cast = await make_cast(session)
    award = await make_award(session, cast)
    for reader in (cast.grantee, cast.finance):
        token = await logged_in(client, reader)
        refused = await client.post(
            f"/awards/{award.id}/evaluation-rounds", data={"csrf_token": token, "purpose": "midterm"}
        )
        assert refused.status_code == 403, reader.user.email
        await client.post("/logout", data={"csrf_token": token})
    rounds = await session.execute(
        select(func.count(ReviewRound.id)).where(ReviewRound.centre_id == cast.centre.id)
    )
    assert rounds.scalar_one() == 0
