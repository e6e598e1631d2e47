"""Score sheets: drafts, bounds, submission and who may open a sheet (both databases)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.i18n import use_locale
from core.repository import PageParams
from evaluations.assignments import service as assignment_service
from evaluations.assignments.schemas import DeclarationIn
from evaluations.results import service as result_service
from evaluations.sheets import service as sheet_service
from evaluations.sheets.models import SheetState
from evaluations.sheets.schemas import ScoreItemIn, SheetIn
from tests.evaluations.factories import assign, make_scenario, score, sheet_for


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
