"""Closing a round, its results and the recommendation (both databases)."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import AuditEvent
from core.errors import Conflict, NotFound
from core.i18n import use_locale
from evaluations.jury import service as jury_service
from evaluations.results import service as result_service
from evaluations.results.schemas import AdjustmentIn
from evaluations.rounds.models import RoundState
from evaluations.rubrics.models import RoundPurpose
from evaluations.rubrics.schemas import GradeCode
from tests.evaluations.factories import add_subject, make_scenario, score, sheet_for


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
