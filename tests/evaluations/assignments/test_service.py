"""Assignments and conflicts of interest (both databases)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import AuditEvent
from core.errors import Conflict, ValidationFailed
from core.identity.models import Role
from evaluations.assignments import service as assignment_service
from evaluations.assignments.models import AssignmentState
from evaluations.assignments.schemas import (
    AssignmentCreate,
    AutoAssignRequest,
    DeclarationIn,
    EvaluatorConflictCreate,
)
from evaluations.results import service as result_service
from evaluations.sheets import service as sheet_service
from tests.evaluations.factories import add_subject, assign, make_scenario, members_of, no_members, sheet_for
from tests.factories import make_centre, make_user


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
