"""The public juror's page: a one-time code, one ballot on a phone, no login, the code then spent."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from evaluations.jury import service as jury_service
from evaluations.rubrics import service as rubric_service
from tests.evaluations.factories import make_scenario
from tests.test_pages import csrf_of


async def test_juror_scores_once_with_a_code(client: httpx.AsyncClient, session: AsyncSession) -> None:
    scenario = await make_scenario(
        session, evaluators=2, subjects=1, min_sheets=2, expert_weight=70, public_weight=30
    )
    subject = scenario.subjects[0]
    (code,) = await jury_service.issue_jury_codes(
        session, scenario.staff.principal, scenario.round.id, subject.id, 1
    )
    criteria = rubric_service.criteria_of(scenario.round.rubric_version)
    entry = await client.get("/jury")
    assert 'action="/jury"' in entry.text
    typed = await client.get("/jury", params={"code": f" {code} "})
    assert typed.status_code == 303
    assert typed.headers["location"] == f"/jury/{code}"
    ballot = await client.get(typed.headers["location"])
    assert ballot.status_code == 200
    assert "大众评委" in ballot.text
    assert subject.title in ballot.text
    form = {"csrf_token": csrf_of(ballot.text)}
    form.update({f"score-{c.key}": str(int(c.max_points * 8 / 10)) for c in criteria if not c.bonus})
    done = await client.post(f"/jury/{code}", data=form)
    assert done.status_code == 200
    assert "已记录" in done.text
    again = await client.post(f"/jury/{code}", data=form)
    assert again.status_code in (404, 409)
    too_high = await client.get("/jury/NOTACODE00")
    assert too_high.status_code == 404
