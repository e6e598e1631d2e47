"""The evaluations API: roles, 404-before-403, peers' sheets hidden, locking, the public jury."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import Role
from evaluations.results import service as result_service
from evaluations.results.schemas import ProgressRead, ResultsRead
from tests.evaluations.factories import CRITERIA
from tests.factories import Actor, make_centre, make_user

FULL_SHEET = {
    "items": [
        {"criterion_key": "need", "score": "50", "comment": "需求调研扎实"},
        {"criterion_key": "budget", "score": "32.5"},
    ],
    "comment": "总体较好",
}


class Panel:
    """A staff member, three evaluators, a rubric, an open round with two subjects."""

    def __init__(self, staff: Actor, evaluators: list[Actor], round_id: int, subjects: list[int]) -> None:
        self.staff = staff
        self.evaluators = evaluators
        self.round_id = round_id
        self.subjects = subjects


async def committed_user(session: AsyncSession, role: Role) -> Actor:
    """A user in a new centre, committed: a refused request rolls back what is uncommitted."""
    actor = await make_user(session, await make_centre(session), role)
    await session.commit()
    return actor


async def make_panel(client: httpx.AsyncClient, session: AsyncSession, **round_fields: Any) -> Panel:
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    evaluators = [await make_user(session, centre, Role.evaluator) for _ in range(3)]
    await session.commit()
    rubric = await client.post(
        "/api/v1/rubrics",
        json={"name": "申报评审表", "purpose": "application_review", "criteria": CRITERIA},
        headers=staff.headers,
    )
    assert rubric.status_code == 201, rubric.text
    body = {
        "name": "2026年微创投评审",
        "purpose": "application_review",
        "rubric_version_id": rubric.json()["versions"][0]["id"],
        "min_sheets_per_subject": 2,
        "programme_budget": "100000.00",
    }
    body.update(round_fields)
    created = await client.post("/api/v1/review-rounds", json=body, headers=staff.headers)
    assert created.status_code == 201, created.text
    round_id = created.json()["id"]
    subjects = []
    for n in (1, 2):
        subject = await client.post(
            f"/api/v1/review-rounds/{round_id}/subjects",
            json={
                "subject_type": "application",
                "subject_id": n,
                "organisation_id": 500 + n,
                "category": "社区治理",
                "title": f"楼栋议事会{n}",
                "requested_amount": "30000.00",
                "display": {"organisation_name": f"玉林邻里互助会{n}", "summary": "推动楼栋自治"},
            },
            headers=staff.headers,
        )
        assert subject.status_code == 201, subject.text
        subjects.append(subject.json()["id"])
    return Panel(staff, evaluators, round_id, subjects)


async def assign(client: httpx.AsyncClient, panel: Panel, subject: int, evaluator: Actor) -> int:
    response = await client.post(
        f"/api/v1/review-rounds/{panel.round_id}/assignments",
        json={"subject_id": subject, "evaluator_id": evaluator.user.id},
        headers=panel.staff.headers,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def score(client: httpx.AsyncClient, panel: Panel, subject: int, evaluator: Actor) -> int:
    assignment = await assign(client, panel, subject, evaluator)
    declared = await client.post(
        f"/api/v1/assignments/{assignment}/declaration",
        json={"has_conflict": False},
        headers=evaluator.headers,
    )
    assert declared.status_code == 200, declared.text
    submitted = await client.post(
        f"/api/v1/assignments/{assignment}/sheet/submit", json=FULL_SHEET, headers=evaluator.headers
    )
    assert submitted.status_code == 200, submitted.text
    return assignment


class TestRoles:
    async def test_anonymous(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/api/v1/review-rounds")).status_code == 401
        assert (await client.get("/api/v1/assignments")).status_code == 401

    async def test_applicant_never_reaches_these_routes(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        panel = await make_panel(client, session)
        applicant = await committed_user(session, Role.applicant)
        for path in ("/api/v1/rubrics", "/api/v1/review-rounds", "/api/v1/assignments"):
            assert (await client.get(path, headers=applicant.headers)).status_code == 403
        response = await client.get(
            f"/api/v1/review-rounds/{panel.round_id}/results", headers=applicant.headers
        )
        assert response.status_code == 403

    async def test_evaluator_cannot_manage_rounds(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        panel = await make_panel(client, session)
        evaluator = panel.evaluators[0]
        response = await client.post(
            f"/api/v1/review-rounds/{panel.round_id}/close", headers=evaluator.headers
        )
        assert response.status_code == 403

    async def test_other_centre_sees_nothing(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        panel = await make_panel(client, session)
        stranger = await committed_user(session, Role.staff)
        response = await client.get(f"/api/v1/review-rounds/{panel.round_id}", headers=stranger.headers)
        assert response.status_code == 404
        assert response.json()["error"]["message"] == "未找到该评审轮次"


class TestSheets:
    async def test_peer_sheets_invisible_before_close(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        panel = await make_panel(client, session)
        first, second, _third = panel.evaluators
        mine = await score(client, panel, panel.subjects[0], first)
        theirs = await assign(client, panel, panel.subjects[0], second)

        # another evaluator's assignment does not exist for me
        for path in (f"/api/v1/assignments/{mine}", f"/api/v1/assignments/{mine}/sheet"):
            assert (await client.get(path, headers=second.headers)).status_code == 404
        listed = await client.get("/api/v1/assignments", headers=second.headers)
        assert [a["id"] for a in listed.json()["items"]] == [theirs]
        assert "total" not in str(listed.json()["items"][0])

        # staff see progress, not scores
        staff_view = await client.get(f"/api/v1/assignments/{mine}/sheet", headers=panel.staff.headers)
        assert staff_view.status_code == 403
        assert staff_view.json()["error"]["message"] == "评审结束后才能查看评分表"
        progress = await client.get(
            f"/api/v1/review-rounds/{panel.round_id}/progress", headers=panel.staff.headers
        )
        # written straight from the rows: the very document ProgressRead writes
        assert progress.headers["content-type"] == "application/json"
        assert ProgressRead.model_validate(progress.json()).model_dump(mode="json") == progress.json()
        typed = await result_service.progress(session, panel.staff.principal, panel.round_id)
        assert typed.model_dump(mode="json") == progress.json()
        row = progress.json()["subjects"][0]
        assert row["submitted"] == 1
        assert {e["evaluator_id"]: e["submitted"] for e in row["evaluators"]} == {
            first.user.id: True,
            second.user.id: False,
        }
        assert "82.5" not in progress.text
        assert "total" not in progress.text
        results = await client.get(
            f"/api/v1/review-rounds/{panel.round_id}/results", headers=panel.staff.headers
        )
        assert results.status_code == 409

        # after close the sheet opens for staff
        await client.post(
            f"/api/v1/assignments/{theirs}/declaration", json={"has_conflict": False}, headers=second.headers
        )
        await client.post(
            f"/api/v1/assignments/{theirs}/sheet/submit", json=FULL_SHEET, headers=second.headers
        )
        await score(client, panel, panel.subjects[1], first)
        await score(client, panel, panel.subjects[1], second)
        closed = await client.post(
            f"/api/v1/review-rounds/{panel.round_id}/close", headers=panel.staff.headers
        )
        assert closed.status_code == 200, closed.text
        assert closed.json()["state"] == "closed"
        opened = await client.get(f"/api/v1/assignments/{mine}/sheet", headers=panel.staff.headers)
        assert opened.status_code == 200
        assert opened.json()["total"] == "82.50"

    async def test_bounds_autosave_and_lock(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        panel = await make_panel(client, session)
        evaluator = panel.evaluators[0]
        assignment = await assign(client, panel, panel.subjects[0], evaluator)
        early = await client.put(
            f"/api/v1/assignments/{assignment}/sheet", json=FULL_SHEET, headers=evaluator.headers
        )
        assert early.status_code == 409
        assert early.json()["error"]["message"] == "评分前请先声明是否存在利益冲突"
        await client.post(
            f"/api/v1/assignments/{assignment}/declaration",
            json={"has_conflict": False},
            headers=evaluator.headers,
        )
        over = await client.put(
            f"/api/v1/assignments/{assignment}/sheet",
            json={"items": [{"criterion_key": "need", "score": "61"}]},
            headers=evaluator.headers,
        )
        assert over.status_code == 422
        assert over.json()["error"]["details"] == [
            {"field": "items.need.score", "message": "需求分析：最高 60 分"}
        ]
        negative = await client.put(
            f"/api/v1/assignments/{assignment}/sheet",
            json={"items": [{"criterion_key": "need", "score": "-1"}]},
            headers=evaluator.headers,
        )
        assert negative.status_code == 422
        draft = await client.put(
            f"/api/v1/assignments/{assignment}/sheet",
            json={"items": [{"criterion_key": "need", "score": "45"}]},
            headers=evaluator.headers,
        )
        assert draft.status_code == 200
        assert (draft.json()["state"], draft.json()["total"]) == ("draft", "45.00")
        incomplete = await client.post(
            f"/api/v1/assignments/{assignment}/sheet/submit", headers=evaluator.headers
        )
        assert incomplete.status_code == 422
        assert incomplete.json()["error"]["message"] == "预算合理性：提交前须评分"
        done = await client.post(
            f"/api/v1/assignments/{assignment}/sheet/submit", json=FULL_SHEET, headers=evaluator.headers
        )
        assert done.json()["state"] == "submitted"
        again = await client.put(
            f"/api/v1/assignments/{assignment}/sheet", json=FULL_SHEET, headers=evaluator.headers
        )
        assert again.status_code == 409
        assert again.json()["error"]["message"] == "评分表已提交并锁定"

    async def test_blind_round_hides_identity_over_the_api(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        panel = await make_panel(client, session, blind=True)
        evaluator = panel.evaluators[0]
        assignment = await assign(client, panel, panel.subjects[0], evaluator)
        detail = await client.get(f"/api/v1/assignments/{assignment}", headers=evaluator.headers)
        assert detail.json()["display"] == {"summary": "推动楼栋自治"}
        assert "玉林邻里互助会" not in detail.text


class TestRoundLifecycle:
    async def test_close_below_minimum_then_results_and_recommendation(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        panel = await make_panel(client, session)
        first, second, _third = panel.evaluators
        await score(client, panel, panel.subjects[0], first)
        refused = await client.post(
            f"/api/v1/review-rounds/{panel.round_id}/close", headers=panel.staff.headers
        )
        assert refused.status_code == 409
        assert "少于最低要求 2 份" in refused.json()["error"]["message"]
        auto = await client.post(
            f"/api/v1/review-rounds/{panel.round_id}/auto-assign",
            json={"evaluator_ids": [first.user.id, second.user.id]},
            headers=panel.staff.headers,
        )
        assert auto.status_code == 200, auto.text
        assert len(auto.json()["created"]) == 3
        for item in auto.json()["created"]:
            evaluator = first if item["evaluator_id"] == first.user.id else second
            await client.post(
                f"/api/v1/assignments/{item['id']}/declaration",
                json={"has_conflict": False},
                headers=evaluator.headers,
            )
            await client.post(
                f"/api/v1/assignments/{item['id']}/sheet/submit", json=FULL_SHEET, headers=evaluator.headers
            )
        closed = await client.post(
            f"/api/v1/review-rounds/{panel.round_id}/close", headers=panel.staff.headers
        )
        assert closed.status_code == 200
        answer = await client.get(
            f"/api/v1/review-rounds/{panel.round_id}/results", headers=panel.staff.headers
        )
        assert answer.headers["content-type"] == "application/json"
        results = answer.json()
        # the API writes the stored values straight out: the very document ResultsRead writes,
        # and the same results the pages and exports read typed
        assert ResultsRead.model_validate(results).model_dump(mode="json") == results
        typed = await result_service.results(session, panel.staff.principal, panel.round_id)
        assert typed.model_dump(mode="json") == results
        assert typed.subjects[0].final_score == Decimal("82.50")
        assert [s["final_score"] for s in results["subjects"]] == ["82.50", "82.50"]
        assert results["subjects"][0]["grade_label"] == "良好"
        assert results["agreement"]["sheets"] == 4
        recommendation = (
            await client.get(
                f"/api/v1/review-rounds/{panel.round_id}/recommendation", headers=panel.staff.headers
            )
        ).json()
        assert recommendation["recommended_total"] == "60000.00"
        assert recommendation["programme_budget"] == "100000.00"
        adjusted = await client.post(
            f"/api/v1/review-rounds/{panel.round_id}/recommendation/adjustments",
            json={"subject_id": panel.subjects[1], "recommended": False, "reason": "与已资助项目重复"},
            headers=panel.staff.headers,
        )
        assert adjusted.status_code == 200
        assert adjusted.json()["recommended_total"] == "30000.00"

    async def test_frozen_version_over_the_api(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        panel = await make_panel(client, session)
        round_ = (
            await client.get(f"/api/v1/review-rounds/{panel.round_id}", headers=panel.staff.headers)
        ).json()
        rubric_id, version_id = round_["rubric_id"], round_["rubric_version_id"]
        body = {"criteria": [{"key": "all", "name": "综合", "max_points": "100"}]}
        edit = await client.put(
            f"/api/v1/rubrics/{rubric_id}/versions/{version_id}", json=body, headers=panel.staff.headers
        )
        assert edit.status_code == 409
        assert "冻结" in edit.json()["error"]["message"]
        new = await client.post(
            f"/api/v1/rubrics/{rubric_id}/versions", json=body, headers=panel.staff.headers
        )
        assert new.status_code == 201
        assert new.json()["number"] == 2
        versions = await client.get(f"/api/v1/rubrics/{rubric_id}/versions", headers=panel.staff.headers)
        assert [(v["number"], v["frozen"]) for v in versions.json()["items"]] == [(1, True), (2, False)]

    async def test_declared_conflict_over_the_api(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        panel = await make_panel(client, session)
        evaluator = panel.evaluators[0]
        assignment = await assign(client, panel, panel.subjects[0], evaluator)
        declared = await client.post(
            f"/api/v1/assignments/{assignment}/declaration",
            json={"has_conflict": True, "reason": "本人是该组织的志愿者"},
            headers=evaluator.headers,
        )
        assert declared.json()["state"] == "conflict"
        progress = await client.get(
            f"/api/v1/review-rounds/{panel.round_id}/progress", headers=panel.staff.headers
        )
        assert progress.json()["subjects"][0]["needs_reassignment"]
        again = await client.post(
            f"/api/v1/review-rounds/{panel.round_id}/assignments",
            json={"subject_id": panel.subjects[0], "evaluator_id": evaluator.user.id},
            headers=panel.staff.headers,
        )
        assert again.status_code == 409

    async def test_standing_conflict_blocks_assignment(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        panel = await make_panel(client, session)
        evaluator = panel.evaluators[0]
        recorded = await client.post(
            "/api/v1/evaluator-conflicts",
            json={"organisation_id": 501, "reason": "本人在该组织兼职"},
            headers=evaluator.headers,
        )
        assert recorded.status_code == 201
        refused = await client.post(
            f"/api/v1/review-rounds/{panel.round_id}/assignments",
            json={"subject_id": panel.subjects[0], "evaluator_id": evaluator.user.id},
            headers=panel.staff.headers,
        )
        assert refused.status_code == 409
        assert refused.json()["error"]["message"] == "该评审专家与申报组织存在利益冲突，不能指派"

    async def test_weights_must_add_up(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        staff = await committed_user(session, Role.staff)
        response = await client.post(
            "/api/v1/review-rounds",
            json={
                "name": "路演评审",
                "purpose": "application_review",
                "rubric_version_id": 1,
                "expert_weight": 70,
                "public_weight": 20,
            },
            headers=staff.headers,
        )
        assert response.status_code == 422
        assert "权重合计须为 100" in response.json()["error"]["message"]


class TestPublicJury:
    async def test_one_sheet_per_code(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        panel = await make_panel(client, session, expert_weight=70, public_weight=30)
        issued = await client.post(
            f"/api/v1/review-rounds/{panel.round_id}/jury-codes",
            json={"subject_id": panel.subjects[0], "count": 3},
            headers=panel.staff.headers,
        )
        assert issued.status_code == 201
        code = issued.json()["codes"][0]
        ballot = await client.get(f"/api/v1/public/jury/{code}")
        assert ballot.status_code == 200
        assert ballot.json()["subject_title"] == "楼栋议事会1"
        assert [c["key"] for c in ballot.json()["criteria"]] == ["need", "budget", "matched"]
        first = await client.post(f"/api/v1/public/jury/{code}/sheet", json=FULL_SHEET)
        assert first.status_code == 201
        assert first.json()["total"] == "82.50"
        second = await client.post(f"/api/v1/public/jury/{code}/sheet", json=FULL_SHEET)
        assert second.status_code == 409
        assert second.json()["error"]["message"] == "该评审码已被使用"

    async def test_guessing_codes_is_rate_limited(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        statuses = [
            (await client.post(f"/api/v1/public/jury/GUESS{n:05d}/sheet", json=FULL_SHEET)).status_code
            for n in range(31)
        ]
        assert set(statuses[:30]) == {404}
        assert statuses[30] == 429

    async def test_no_public_jury_no_codes(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        panel = await make_panel(client, session)
        response = await client.post(
            f"/api/v1/review-rounds/{panel.round_id}/jury-codes",
            json={"subject_id": panel.subjects[0], "count": 3},
            headers=panel.staff.headers,
        )
        assert response.status_code == 409


async def test_paths_of_the_contract_are_in_the_openapi(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/v1/openapi.json")).json()["paths"]
    for path in (
        "/api/v1/rubrics",
        "/api/v1/rubrics/{rubric_id}/versions",
        "/api/v1/review-rounds",
        "/api/v1/review-rounds/{round_id}/assignments",
        "/api/v1/review-rounds/{round_id}/auto-assign",
        "/api/v1/review-rounds/{round_id}/close",
        "/api/v1/review-rounds/{round_id}/results",
        "/api/v1/review-rounds/{round_id}/recommendation",
        "/api/v1/assignments/{assignment_id}/declaration",
        "/api/v1/assignments/{assignment_id}/sheet",
        "/api/v1/assignments/{assignment_id}/sheet/submit",
    ):
        assert path in paths, path
