"""Rubrics: validated versions, editing by new version, the defaults (both databases)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, ValidationFailed
from core.i18n import use_locale
from core.identity.models import Role
from evaluations.rubrics import service as rubric_service
from evaluations.rubrics.models import RoundPurpose
from evaluations.rubrics.schemas import GradeCode, RubricVersionIn
from tests.evaluations.factories import CRITERIA, make_rubric, make_scenario
from tests.factories import make_centre, make_user


class TestRubrics:
    async def test_base_criteria_must_add_up_to_100(self, session: AsyncSession) -> None:
        staff = await make_user(session, await make_centre(session), Role.staff)
        with pytest.raises(ValidationFailed) as caught:
            await make_rubric(session, staff, criteria=[{"key": "a", "name": "甲", "max_points": "90"}])
        with use_locale("zh"):
            assert "100" in caught.value.message

    async def test_default_bands(self, session: AsyncSession) -> None:
        staff = await make_user(session, await make_centre(session), Role.staff)
        version = (await make_rubric(session, staff)).versions[0]
        assert rubric_service.grade_for(version, Decimal("90")).code is GradeCode.excellent
        assert rubric_service.grade_for(version, Decimal("89.99")).code is GradeCode.good
        assert rubric_service.grade_for(version, Decimal("80")).code is GradeCode.good
        assert rubric_service.grade_for(version, Decimal("60")).code is GradeCode.pass_
        assert rubric_service.grade_for(version, Decimal("59.99")).code is GradeCode.fail
        with use_locale("zh"):
            assert rubric_service.grade_for(version, Decimal("95")).label == "优秀"
            assert rubric_service.grade_for(version, Decimal("30")).label == "不合格"

    async def test_configurable_bands(self, session: AsyncSession) -> None:
        staff = await make_user(session, await make_centre(session), Role.staff)
        bands = [{"code": "pass", "min_score": "70"}, {"code": "fail", "min_score": "0"}]
        version = (await make_rubric(session, staff, bands=bands)).versions[0]
        assert rubric_service.grade_for(version, Decimal("95")).code is GradeCode.pass_
        assert rubric_service.grade_for(version, Decimal("65")).code is GradeCode.fail

    async def test_used_version_is_frozen_and_editing_makes_a_new_version(
        self, session: AsyncSession
    ) -> None:
        scenario = await make_scenario(session, subjects=0)
        version = scenario.rubric.versions[0]
        assert version.frozen
        changed = RubricVersionIn.model_validate(
            {"criteria": [{"key": "a", "name": "甲", "max_points": "100"}]}
        )
        with pytest.raises(Conflict):
            await rubric_service.update_version(
                session, scenario.staff.principal, scenario.rubric.id, version.id, changed
            )
        new = await rubric_service.add_version(session, scenario.staff.principal, scenario.rubric.id, changed)
        assert new.number == 2
        assert not new.frozen
        # the old version still holds what the round used
        assert [c["key"] for c in version.criteria] == ["need", "budget", "matched"]
        edited = RubricVersionIn.model_validate({"criteria": CRITERIA})
        again = await rubric_service.update_version(
            session, scenario.staff.principal, scenario.rubric.id, new.id, edited
        )
        assert [c["key"] for c in again.criteria] == ["need", "budget", "matched"]

    async def test_default_rubrics_are_seeded_once(self, session: AsyncSession) -> None:
        centre = await make_centre(session)
        created = await rubric_service.seed_default_rubrics(session, centre.id)
        assert {r.purpose for r in created} == {
            RoundPurpose.application_review,
            RoundPurpose.final,
            RoundPurpose.capacity,
        }
        assert await rubric_service.seed_default_rubrics(session, centre.id) == []
        staff = await make_user(session, centre, Role.staff)
        rubrics = await rubric_service.list_rubrics(session, staff.principal)
        review = next(r for r in rubrics if r.purpose is RoundPurpose.application_review)
        names = [c.name for c in rubric_service.criteria_of(review.versions[0])]
        assert names[:6] == ["需求分析", "项目设计", "创新性", "团队能力", "预算合理性", "可持续性"]
        assert rubric_service.bonus_max(review.versions[0]) == Decimal(5)
