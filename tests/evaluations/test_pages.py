"""Evaluation pages: the evaluator's declaration and scoring form, the staff board."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from core.repository import PageParams
from evaluations.assignments import service as assignment_service
from evaluations.assignments.schemas import DeclarationIn
from evaluations.sheets import service as sheet_service
from tests.evaluations.factories import Scenario, assign, make_scenario, sheet_for
from tests.factories import Actor
from tests.test_pages import csrf_of, page_login


async def login(client: httpx.AsyncClient, session: AsyncSession, actor: Actor) -> str:
    await session.commit()
    response = await page_login(client, actor.user.email)
    assert response.status_code == 303
    return csrf_of((await client.get("/evaluations")).text)


async def scenario_with_sheet(session: AsyncSession) -> tuple[Scenario, int]:
    scenario = await make_scenario(session, evaluators=3, subjects=1, min_sheets=2)
    first = scenario.evaluators[0]
    assignment = await assign(session, scenario, scenario.subjects[0], first)
    await assignment_service.declare(
        session, first.principal, assignment.id, DeclarationIn(has_conflict=False)
    )
    await sheet_service.submit_sheet(session, first.principal, assignment.id, sheet_for(87))
    await session.commit()
    return scenario, assignment.id


async def test_evaluator_declares_saves_and_submits(client: httpx.AsyncClient, session: AsyncSession) -> None:
    scenario = await make_scenario(session, subjects=1, blind=True)
    evaluator = scenario.evaluators[0]
    assignment = await assign(session, scenario, scenario.subjects[0], evaluator)
    csrf = await login(client, session, evaluator)

    listing = await client.get("/evaluations")
    assert "我的评审任务" in listing.text
    assert f"/evaluations/assignments/{assignment.id}" in listing.text
    assert "待声明利益冲突" in listing.text

    page = await client.get(f"/evaluations/assignments/{assignment.id}")
    assert "利益冲突声明" in page.text
    assert 'name="score_need"' not in page.text  # no form before the declaration
    assert "社会组织1" not in page.text  # blind: the organisation is hidden
    assert "为社区老人提供助餐服务" in page.text

    declared = await client.post(
        f"/evaluations/assignments/{assignment.id}/declaration",
        data={"has_conflict": "no", "csrf_token": csrf},
    )
    assert declared.status_code == 303
    form = await client.get(f"/evaluations/assignments/{assignment.id}")
    assert 'name="score_need"' in form.text
    assert "需求是否真实" in form.text  # guidance
    assert 'max="60"' in form.text

    over = await client.post(
        f"/evaluations/assignments/{assignment.id}/sheet",
        data={"score_need": "61", "score_budget": "30", "action": "save", "csrf_token": csrf},
    )
    assert over.status_code == 422
    assert "需求分析：最高 60 分" in over.text
    assert 'value="61"' in over.text  # what was typed is kept

    saved = await client.post(
        f"/evaluations/assignments/{assignment.id}/sheet",
        data={"score_need": "55", "comment_need": "调研充分", "action": "save", "csrf_token": csrf},
    )
    assert saved.status_code == 303
    draft = await client.get(f"/evaluations/assignments/{assignment.id}")
    assert "草稿" in draft.text
    assert 'value="55.00"' in draft.text
    incomplete = await client.post(
        f"/evaluations/assignments/{assignment.id}/sheet",
        data={"score_need": "55", "action": "submit", "csrf_token": csrf},
    )
    assert incomplete.status_code == 422
    assert "预算合理性：提交前须评分" in incomplete.text
    submitted = await client.post(
        f"/evaluations/assignments/{assignment.id}/sheet",
        data={
            "score_need": "55",
            "score_budget": "35",
            "score_matched": "2",
            "action": "submit",
            "csrf_token": csrf,
        },
    )
    assert submitted.status_code == 303
    locked = await client.get(f"/evaluations/assignments/{assignment.id}")
    assert "已提交" in locked.text
    assert 'name="score_need"' not in locked.text
    assert "92.00" in locked.text
    assert "评分表已提交并锁定" in locked.text  # the disabled button says why


async def test_peer_sheet_invisible_in_pages(client: httpx.AsyncClient, session: AsyncSession) -> None:
    scenario, first_assignment = await scenario_with_sheet(session)
    second = scenario.evaluators[1]
    await assign(session, scenario, scenario.subjects[0], second)
    await login(client, session, second)
    response = await client.get(f"/evaluations/assignments/{first_assignment}")
    assert response.status_code == 404
    mine = await client.get("/evaluations")
    assert "87.00" not in mine.text


async def test_staff_board_shows_progress_not_scores_until_close(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    scenario, first_assignment = await scenario_with_sheet(session)
    csrf = await login(client, session, scenario.staff)
    board = await client.get(f"/evaluations/rounds/{scenario.round.id}")
    assert board.status_code == 200
    assert "分配与进度" in board.text
    assert "1 / 2" in board.text
    assert "87.00" not in board.text
    assert 'id="close-round" disabled' in board.text
    assert "少于最低要求" in board.text  # the disabled button's reason
    sheet = await client.get(f"/evaluations/assignments/{first_assignment}")
    assert "评审结束后才能查看评分表" in sheet.text
    assert "87.00" not in sheet.text

    auto = await client.post(
        f"/evaluations/rounds/{scenario.round.id}/auto-assign",
        data={"evaluator_ids": [str(scenario.evaluators[1].user.id)], "csrf_token": csrf},
    )
    assert auto.status_code == 303
    second = scenario.evaluators[1]
    page = await assignment_service.list_assignments(session, second.principal, PageParams())
    await assignment_service.declare(
        session, second.principal, page.items[0].id, DeclarationIn(has_conflict=False)
    )
    await sheet_service.submit_sheet(session, second.principal, page.items[0].id, sheet_for(81))
    await session.commit()

    closed = await client.post(f"/evaluations/rounds/{scenario.round.id}/close", data={"csrf_token": csrf})
    assert closed.status_code == 303
    results = await client.get(f"/evaluations/rounds/{scenario.round.id}")
    assert "评审结果" in results.text
    assert "84.00" in results.text  # (87 + 81) / 2
    assert "良好" in results.text
    assert 'id="icc1"' in results.text
    assert "推荐名单" in results.text
    opened = await client.get(f"/evaluations/assignments/{first_assignment}")
    assert "87.00" in opened.text


async def test_staff_creates_a_round_from_the_form(client: httpx.AsyncClient, session: AsyncSession) -> None:
    scenario = await make_scenario(session, subjects=0)
    csrf = await login(client, session, scenario.staff)
    form = await client.get("/evaluations/rounds/new")
    assert "新建评审轮次" in form.text
    bad = await client.post(
        "/evaluations/rounds",
        data={
            "name": "2026年末期评估",
            "purpose": "final",
            "rubric_version_id": str(scenario.rubric.versions[0].id),
            "expert_weight": "70",
            "public_weight": "20",
            "csrf_token": csrf,
        },
    )
    assert bad.status_code == 422
    assert "权重合计须为 100" in bad.text
    assert 'value="2026年末期评估"' in bad.text
    good = await client.post(
        "/evaluations/rounds",
        data={
            "name": "2026年末期评估",
            "purpose": "final",
            "rubric_version_id": str(scenario.rubric.versions[0].id),
            "min_sheets_per_subject": "3",
            "due_at": "2026-12-20T17:00",
            "blind": "on",
            "csrf_token": csrf,
        },
    )
    assert good.status_code == 303
    board = await client.get(good.headers["location"])
    assert "2026年末期评估" in board.text
    assert "末期评估" in board.text
    assert "2026-12-20 17:00" in board.text  # shown in Shanghai time


async def test_applicant_cannot_open_evaluation_pages(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    from core.identity.models import Role
    from tests.factories import make_centre, make_user

    applicant = await make_user(session, await make_centre(session), Role.applicant)
    await session.commit()
    await page_login(client, applicant.user.email)
    assert (await client.get("/evaluations")).status_code == 403
    dashboard = await client.get("/dashboard")
    assert 'href="/evaluations"' not in dashboard.text


async def test_no_conflict_is_a_choice_not_a_default(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    scenario = await make_scenario(session, subjects=1)
    evaluator = scenario.evaluators[0]
    assignment = await assign(session, scenario, scenario.subjects[0], evaluator)
    csrf = await login(client, session, evaluator)
    page = await client.get(f"/evaluations/assignments/{assignment.id}")
    assert "checked" not in page.text.split('id="declaration"')[1].split("</form>")[0]
    unchosen = await client.post(
        f"/evaluations/assignments/{assignment.id}/declaration", data={"csrf_token": csrf}
    )
    assert unchosen.status_code == 422
    assert "请选择是否存在利益冲突" in unchosen.text
    assert 'name="score_need"' not in unchosen.text  # still not declared


async def test_score_sheet_pdf_has_scores_comments_and_signature_line(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    import io

    from pypdf import PdfReader

    scenario, assignment_id = await scenario_with_sheet(session)
    await login(client, session, scenario.evaluators[0])
    page = await client.get(f"/evaluations/assignments/{assignment_id}")
    assert f'href="/evaluations/assignments/{assignment_id}/sheet.pdf"' in page.text
    assert 'id="running-total">87.00<' in page.text  # the real total, not a recomputed 0
    response = await client.get(f"/evaluations/assignments/{assignment_id}/sheet.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    text = text.replace("\n", "").replace(" ", "")
    assert "评分表" in text
    assert "87.00" in text
    assert "需求清楚" in text  # the criterion's comment
    assert "专家签字" in text
    assert "日期" in text
    # Another evaluator of the round cannot download it while the round is open.
    client.cookies.clear()
    await login(client, session, scenario.evaluators[1])
    assert (await client.get(f"/evaluations/assignments/{assignment_id}/sheet.pdf")).status_code == 404
