"""The scoring engine's rules, through the service (both databases)."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import AuditEvent
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.i18n import use_locale
from core.identity.models import Role
from core.repository import PageParams
from evaluations.assignments import service as assignment_service
from evaluations.assignments.models import AssignmentState
from evaluations.assignments.schemas import (
    AssignmentCreate,
    AutoAssignRequest,
    DeclarationIn,
    EvaluatorConflictCreate,
)
from evaluations.jury import service as jury_service
from evaluations.results import service as result_service
from evaluations.results.schemas import AdjustmentIn
from evaluations.rounds import service as round_service
from evaluations.rounds.models import RoundState
from evaluations.rounds.schemas import RoundCreate
from evaluations.rubrics import service as rubric_service
from evaluations.rubrics.models import RoundPurpose
from evaluations.rubrics.schemas import GradeCode, RubricVersionIn
from evaluations.sheets import service as sheet_service
from evaluations.sheets.models import SheetState
from evaluations.sheets.schemas import ScoreItemIn, SheetIn
from tests.evaluations.factories import (
    CRITERIA,
    add_subject,
    assign,
    make_rubric,
    make_scenario,
    members_of,
    no_members,
    score,
    sheet_for,
)
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


class TestSheets:
    async def test_scores_within_bounds_and_submission_locks(self, session: AsyncSession) -> None:
        scenario = await make_scenario(session)
        evaluator = scenario.evaluators[0]
        assignment = await assign(session, scenario, scenario.subjects[0], evaluator)
        with pytest.raises(Conflict):  # must declare first
            await sheet_service.save_draft(session, evaluator.principal, assignment.id, sheet_for(70))
        await assignment_service.declare(
            session, evaluator.principal, assignment.id, DeclarationIn(has_conflict=False)
        )

        too_high = SheetIn(items=[ScoreItemIn(criterion_key="budget", score=Decimal("40.5"))])
        with pytest.raises(ValidationFailed) as caught, use_locale("zh"):
            await sheet_service.save_draft(session, evaluator.principal, assignment.id, too_high)
        assert caught.value.details[0].field == "items.budget.score"
        with use_locale("zh"):
            assert caught.value.message == "预算合理性：最高 40 分"

        partial = SheetIn(items=[ScoreItemIn(criterion_key="need", score=Decimal("50"))], comment="草稿")
        draft = await sheet_service.save_draft(session, evaluator.principal, assignment.id, partial)
        assert draft.state is SheetState.draft
        assert draft.total == Decimal("50")
        with pytest.raises(ValidationFailed):  # budget still missing
            await sheet_service.submit_sheet(session, evaluator.principal, assignment.id)

        submitted = await sheet_service.submit_sheet(
            session, evaluator.principal, assignment.id, sheet_for(85, bonus=3)
        )
        assert submitted.state is SheetState.submitted
        assert submitted.total == Decimal("88")  # 85 base + 3 bonus, computed by the server
        with pytest.raises(Conflict):
            await sheet_service.save_draft(session, evaluator.principal, assignment.id, sheet_for(10))
        with pytest.raises(Conflict):
            await sheet_service.submit_sheet(session, evaluator.principal, assignment.id)

    async def test_unknown_criterion_is_refused(self, session: AsyncSession) -> None:
        scenario = await make_scenario(session)
        evaluator = scenario.evaluators[0]
        assignment = await assign(session, scenario, scenario.subjects[0], evaluator)
        await assignment_service.declare(
            session, evaluator.principal, assignment.id, DeclarationIn(has_conflict=False)
        )
        bogus = SheetIn(items=[ScoreItemIn(criterion_key="charm", score=Decimal(1))])
        with pytest.raises(ValidationFailed):
            await sheet_service.save_draft(session, evaluator.principal, assignment.id, bogus)

    async def test_peers_and_staff_cannot_open_a_sheet_before_close(self, session: AsyncSession) -> None:
        scenario = await make_scenario(session, subjects=1)
        first, second = scenario.evaluators[:2]
        await score(session, scenario, scenario.subjects[0], first, 80)
        theirs = (await assignment_service.list_assignments(session, first.principal, PageParams())).items[0]
        with pytest.raises(NotFound):
            await sheet_service.get_sheet(session, second.principal, theirs.id)
        with pytest.raises(Forbidden):
            await sheet_service.get_sheet(session, scenario.staff.principal, theirs.id)
        await score(session, scenario, scenario.subjects[0], second, 70)
        await result_service.close_round(session, scenario.staff.principal, scenario.round.id)
        _assignment, sheet = await sheet_service.get_sheet(session, scenario.staff.principal, theirs.id)
        assert sheet is not None
        assert sheet.total == Decimal("80")


class TestAssignments:
    async def test_structural_conflict_is_never_assigned(self, session: AsyncSession) -> None:
        scenario = await make_scenario(session, evaluators=3, subjects=1, min_sheets=2)
        subject = scenario.subjects[0]
        member, declared, free = scenario.evaluators
        membership = members_of({subject.organisation_id or 0: {member.user.id}})
        await assignment_service.declare_standing_conflict(
            session,
            declared.principal,
            EvaluatorConflictCreate(organisation_id=subject.organisation_id or 0, reason="曾任该组织理事"),
        )
        for evaluator in (member, declared):
            with pytest.raises(Conflict):
                await assignment_service.assign(
                    session,
                    scenario.staff.principal,
                    scenario.round.id,
                    AssignmentCreate(subject_id=subject.id, evaluator_id=evaluator.user.id),
                    membership,
                )
        created, short = await assignment_service.auto_assign(
            session,
            scenario.staff.principal,
            scenario.round.id,
            AutoAssignRequest(evaluator_ids=[e.user.id for e in scenario.evaluators]),
            membership,
        )
        assert [a.evaluator_id for a in created] == [free.user.id]
        assert [(s.subject_id, s.missing) for s in short] == [(subject.id, 1)]

    async def test_auto_assign_balances_load_and_respects_maximum(self, session: AsyncSession) -> None:
        scenario = await make_scenario(session, evaluators=3, subjects=3, min_sheets=2, max_per_evaluator=2)
        created, short = await assignment_service.auto_assign(
            session,
            scenario.staff.principal,
            scenario.round.id,
            AutoAssignRequest(evaluator_ids=[e.user.id for e in scenario.evaluators]),
            no_members,
        )
        assert len(created) == 6
        assert short == []
        loads: dict[int, int] = {}
        for a in created:
            loads[a.evaluator_id] = loads.get(a.evaluator_id, 0) + 1
        assert sorted(loads.values()) == [2, 2, 2]
        per_subject = {
            s.id: {a.evaluator_id for a in created if a.subject_id == s.id} for s in scenario.subjects
        }
        assert all(len(v) == 2 for v in per_subject.values())
        # a fourth subject cannot be staffed: everyone is at the maximum
        extra = await add_subject(session, scenario, 9)
        created, short = await assignment_service.auto_assign(
            session,
            scenario.staff.principal,
            scenario.round.id,
            AutoAssignRequest(evaluator_ids=[e.user.id for e in scenario.evaluators]),
            no_members,
        )
        assert created == []
        assert [(s.subject_id, s.missing) for s in short] == [(extra.id, 2)]

    async def test_declared_conflict_is_removed_and_reassigned(self, session: AsyncSession) -> None:
        scenario = await make_scenario(session, evaluators=3, subjects=1, min_sheets=2)
        subject = scenario.subjects[0]
        first, second, third = scenario.evaluators
        panel = AutoAssignRequest(evaluator_ids=[e.user.id for e in scenario.evaluators])
        created, _short = await assignment_service.auto_assign(
            session, scenario.staff.principal, scenario.round.id, panel, no_members
        )
        assert {a.evaluator_id for a in created} == {first.user.id, second.user.id}
        mine = next(a for a in created if a.evaluator_id == first.user.id)
        with pytest.raises(ValidationFailed):  # a conflict needs a reason
            await assignment_service.declare(
                session, first.principal, mine.id, DeclarationIn(has_conflict=True)
            )
        declared = await assignment_service.declare(
            session,
            first.principal,
            mine.id,
            DeclarationIn(has_conflict=True, reason="申报组织负责人是我的亲属"),
        )
        assert declared.state is AssignmentState.conflict
        status = await result_service.progress(session, scenario.staff.principal, scenario.round.id)
        assert status.subjects[0].needs_reassignment
        with pytest.raises(Conflict):
            await sheet_service.save_draft(session, first.principal, mine.id, sheet_for(80))

        created, short = await assignment_service.auto_assign(
            session, scenario.staff.principal, scenario.round.id, panel, no_members
        )
        assert [a.evaluator_id for a in created] == [third.user.id]
        assert short == []
        status = await result_service.progress(session, scenario.staff.principal, scenario.round.id)
        assert not status.subjects[0].needs_reassignment
        # the evaluator who declared the conflict can never be put back on the subject
        with pytest.raises(Conflict):
            await assignment_service.assign(
                session,
                scenario.staff.principal,
                scenario.round.id,
                AssignmentCreate(subject_id=subject.id, evaluator_id=first.user.id),
                no_members,
            )
        actions = (
            await session.execute(
                select(AuditEvent.action)
                .where(AuditEvent.subject_type == "assignment", AuditEvent.subject_id == str(mine.id))
                .order_by(AuditEvent.id)
            )
        ).scalars()
        assert list(actions) == ["assignment.create", "assignment.declare_conflict"]

    async def test_only_evaluators_of_the_centre_are_assigned(self, session: AsyncSession) -> None:
        scenario = await make_scenario(session, subjects=1)
        outsider = await make_user(session, await make_centre(session), Role.evaluator)
        with pytest.raises(ValidationFailed):
            await assignment_service.assign(
                session,
                scenario.staff.principal,
                scenario.round.id,
                AssignmentCreate(subject_id=scenario.subjects[0].id, evaluator_id=outsider.user.id),
                no_members,
            )

    async def test_blind_round_hides_the_organisation(self, session: AsyncSession) -> None:
        scenario = await make_scenario(session, subjects=1, blind=True)
        evaluator = scenario.evaluators[0]
        assignment = await assign(session, scenario, scenario.subjects[0], evaluator)
        detail = await assignment_service.assignment_detail(
            session, await assignment_service.get_assignment(session, evaluator.principal, assignment.id)
        )
        assert detail.display == {"summary": "为社区老人提供助餐服务"}


class TestClose:
    async def test_round_refuses_to_close_below_the_minimum(self, session: AsyncSession) -> None:
        scenario = await make_scenario(session, evaluators=3, subjects=2, min_sheets=2)
        one, two = scenario.subjects
        await score(session, scenario, one, scenario.evaluators[0], 80)
        await score(session, scenario, one, scenario.evaluators[1], 84)
        await score(session, scenario, two, scenario.evaluators[0], 70)
        with pytest.raises(Conflict) as caught, use_locale("zh"):
            await result_service.close_round(session, scenario.staff.principal, scenario.round.id)
        with use_locale("zh"):
            assert "项目2" in caught.value.message
            assert "少于最低要求" in caught.value.message
        with pytest.raises(Conflict):
            await result_service.results(session, scenario.staff.principal, scenario.round.id)
        await score(session, scenario, two, scenario.evaluators[1], 72)
        closed = await result_service.close_round(session, scenario.staff.principal, scenario.round.id)
        assert closed.state is RoundState.closed
        with pytest.raises(Conflict):
            await result_service.close_round(session, scenario.staff.principal, scenario.round.id)

    async def test_results_by_hand(self, session: AsyncSession) -> None:
        """Five sheets trim; z-scores use each evaluator's own mean and spread."""
        scenario = await make_scenario(session, evaluators=5, subjects=0, min_sheets=2, spread_threshold="15")
        s1 = await add_subject(session, scenario, 1)
        s2 = await add_subject(session, scenario, 2)
        s3 = await add_subject(session, scenario, 3)
        a, b, c, d, e = scenario.evaluators
        # Subject 1: five sheets 70, 80, 85, 90, 99 → mean 84.80, trimmed 85.00, spread 29 (flagged)
        for evaluator, total in zip(scenario.evaluators, [70, 80, 85, 90, 99], strict=True):
            await score(session, scenario, s1, evaluator, total)
        # Subjects 2 and 3 by a and b only.
        await score(session, scenario, s2, a, 90)
        await score(session, scenario, s2, b, 86)
        await score(session, scenario, s3, a, 60)
        await score(session, scenario, s3, b, 62)
        await result_service.close_round(session, scenario.staff.principal, scenario.round.id)
        results = await result_service.results(session, scenario.staff.principal, scenario.round.id)
        rows = {r.subject_id: r for r in results.subjects}
        one = rows[s1.id]
        assert (one.mean, one.trimmed_mean, one.final_score) == (
            Decimal("84.80"),
            Decimal("85.00"),
            Decimal("85.00"),
        )
        assert one.spread == Decimal("29.00")
        assert one.flagged
        assert one.grade is GradeCode.good
        assert rows[s2.id].final_score == Decimal("88.00")
        assert not rows[s2.id].flagged

        # z by hand. a: 70, 90, 60 (mean 73.333, sd 15.275); b: 80, 86, 62 (mean 76, sd 12.490);
        # c, d, e have one sheet each → z = 0.
        def z(values: list[float], x: float) -> float:
            m = sum(values) / len(values)
            sd = math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))
            return (x - m) / sd

        totals = [70, 80, 85, 90, 99, 90, 86, 60, 62]
        m_all = sum(totals) / len(totals)
        sd_all = math.sqrt(sum((t - m_all) ** 2 for t in totals) / (len(totals) - 1))
        z2 = (z([70, 90, 60], 90) + z([80, 86, 62], 86)) / 2
        expected = Decimal(str(round(m_all + z2 * sd_all, 2)))
        assert rows[s2.id].normalised == expected
        z1 = (z([70, 90, 60], 70) + z([80, 86, 62], 80) + 0 + 0 + 0) / 5
        assert rows[s1.id].normalised == Decimal(str(round(m_all + z1 * sd_all, 2)))
        # ranking uses the normalised score: subject 2 first
        assert [r.subject_id for r in sorted(results.subjects, key=lambda r: r.rank_in_category or 0)] == [
            s2.id,
            s1.id,
            s3.id,
        ]
        assert results.agreement.sheets == 9
        assert results.agreement.icc1 is not None
        assert results.agreement.alpha is not None

        outcome = await result_service.subject_outcome(session, scenario.staff.principal, s3.id)
        assert outcome.total == Decimal("61.00")
        assert outcome.grade is GradeCode.pass_
        with use_locale("zh"):
            assert outcome.label == "合格"
        latest = await result_service.latest_outcome(
            session, scenario.staff.principal, "application", 3, RoundPurpose.application_review
        )
        assert latest == outcome
        del c, d, e

    async def test_public_jury_weighted_in(self, session: AsyncSession) -> None:
        scenario = await make_scenario(
            session, evaluators=2, subjects=1, min_sheets=2, expert_weight=70, public_weight=30
        )
        subject = scenario.subjects[0]
        await score(session, scenario, subject, scenario.evaluators[0], 80)
        await score(session, scenario, subject, scenario.evaluators[1], 90)
        codes = await jury_service.issue_jury_codes(
            session, scenario.staff.principal, scenario.round.id, subject.id, 2
        )
        assert len(set(codes)) == 2
        await jury_service.submit_jury_sheet(session, codes[0].lower(), sheet_for(60))
        with pytest.raises(Conflict):  # one sheet per code
            await jury_service.submit_jury_sheet(session, codes[0], sheet_for(100))
        await jury_service.submit_jury_sheet(session, codes[1], sheet_for(70))
        with pytest.raises(NotFound):
            await jury_service.submit_jury_sheet(session, "NOTACODE00", sheet_for(70))
        await result_service.close_round(session, scenario.staff.principal, scenario.round.id)
        row = (await result_service.results(session, scenario.staff.principal, scenario.round.id)).subjects[0]
        assert row.public_mean == Decimal("65.00")
        assert row.public_sheets == 2
        assert row.final_score == Decimal("79.00")  # 0.7 × 85 + 0.3 × 65


class TestRecommendation:
    async def test_recommendation_respects_category_and_programme_budgets(
        self, session: AsyncSession
    ) -> None:
        scenario = await make_scenario(
            session,
            evaluators=2,
            subjects=0,
            min_sheets=2,
            programme_budget="150000.00",
            category_budgets={"为老服务": "100000.00"},
        )
        elderly_top = await add_subject(session, scenario, 1, amount="60000.00")
        elderly_second = await add_subject(session, scenario, 2, amount="50000.00")
        elderly_small = await add_subject(session, scenario, 3, amount="30000.00")
        youth = await add_subject(session, scenario, 4, category="青少年", amount="80000.00")
        failing = await add_subject(session, scenario, 5, category="青少年", amount="1000.00")
        for subject, total in [
            (elderly_top, 95),
            (elderly_second, 90),
            (elderly_small, 70),
            (youth, 85),
            (failing, 40),
        ]:
            for evaluator in scenario.evaluators:
                await score(session, scenario, subject, evaluator, total)
        await result_service.close_round(session, scenario.staff.principal, scenario.round.id)
        with use_locale("zh"):
            result = await result_service.recommendation(session, scenario.staff.principal, scenario.round.id)
        chosen = {i.subject_id: i for i in result.items}
        # 95 → 60k (elderly 60k); 90 → 50k would make elderly 110k > 100k: passed over;
        # 85 → youth 80k makes 140k; 70 → 30k would make 170k > 150k: passed over; 40 fails.
        assert chosen[elderly_top.id].recommended
        assert not chosen[elderly_second.id].recommended
        assert chosen[elderly_second.id].reason == "超出该类别剩余预算"
        assert chosen[youth.id].recommended
        assert not chosen[elderly_small.id].recommended
        assert chosen[elderly_small.id].reason == "超出项目总预算剩余额度"
        assert not chosen[failing.id].recommended
        assert result.recommended_total == Decimal("140000.00")
        assert result.recommended_total <= (result.programme_budget or 0)

        adjusted = await result_service.adjust_recommendation(
            session,
            scenario.staff.principal,
            scenario.round.id,
            AdjustmentIn(subject_id=elderly_top.id, recommended=False, reason="申报组织已被列入黑名单"),
        )
        chosen = {i.subject_id: i for i in adjusted.items}
        assert not chosen[elderly_top.id].recommended
        assert chosen[elderly_top.id].adjusted
        assert chosen[elderly_second.id].recommended  # the freed budget goes down the list
        count = await session.execute(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "recommendation.adjust")
        )
        assert count.scalar_one() == 1


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
