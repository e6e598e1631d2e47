"""Review rounds (both databases)."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound, ValidationFailed
from core.identity.models import Role
from evaluations.rounds import service as round_service
from evaluations.rounds.schemas import RoundCreate
from evaluations.rubrics.models import RoundPurpose
from tests.evaluations.factories import make_scenario
from tests.factories import make_centre, make_user


async def test_round_on_another_centres_rubric_is_refused(session: AsyncSession) -> None:
    scenario = await make_scenario(session, subjects=0)
    other_staff = await make_user(session, await make_centre(session), Role.staff)
    with pytest.raises(ValidationFailed):
        await round_service.create_round(
            session,
            other_staff.principal,
            RoundCreate(
                name="越权评审",
                purpose=RoundPurpose.midterm,
                rubric_version_id=scenario.rubric.versions[0].id,
            ),
        )
    with pytest.raises(NotFound):
        await round_service.get_round(session, other_staff.principal, scenario.round.id)
