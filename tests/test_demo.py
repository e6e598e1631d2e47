"""The demo centre: every role can log in, organisations at different stages, a grant cycle with awards."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.demo import DEMO_PASSWORD, load_demo
from core.identity.service import get_user_by_email
from core.security import verify_password
from grants.models import Application, Award, Programme
from incubator.models import Organisation


async def test_demo_centre(session: AsyncSession) -> None:
    accounts = await load_demo(session)
    assert accounts is not None
    roles = {a.role for a in accounts}
    assert {"staff", "applicant", "finance", "evaluator", "admin"} <= roles
    staff = await get_user_by_email(session, "staff@yulin.demo")
    assert staff is not None
    assert verify_password(staff.password_hash, DEMO_PASSWORD)

    states = Counter(
        o.incubation_state.value if o.incubation_state else None
        for o in (await session.execute(select(Organisation))).scalars()
    )
    assert states == Counter({"incubating": 2, "applied": 1, "assessed": 1, "exited": 1})
    programmes = {p.name: p.state.value for p in (await session.execute(select(Programme))).scalars()}
    assert sorted(programmes.values()) == ["open", "running"]
    applications = Counter(a.state.value for a in (await session.execute(select(Application))).scalars())
    assert applications == Counter({"awarded": 3, "draft": 1, "submitted": 1})
    awards = (await session.execute(select(Award))).scalars().all()
    assert len(awards) == 3
    for award in awards:
        assert sum(t.amount for t in await _tranches(session, award.id)) == award.amount

    assert await load_demo(session) is None  # a second load changes nothing


async def _tranches(session: AsyncSession, award_id: int) -> list:  # type: ignore[type-arg]
    from grants.models import Tranche

    return list((await session.execute(select(Tranche).where(Tranche.award_id == award_id))).scalars())
