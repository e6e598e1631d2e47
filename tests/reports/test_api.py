"""Who may see which report; schedules over the API."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import Role
from core.settings import Settings
from reports.briefing import KIND_CODE
from tests.factories import Actor, make_centre, make_user


async def _report(client: httpx.AsyncClient, staff: Actor) -> dict[str, object]:
    response = await client.post(
        "/api/v1/reports", json={"kind": KIND_CODE, "period": "2026-09"}, headers=staff.headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


class TestDownload:
    async def test_anonymous(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        staff = await make_user(session, await make_centre(session), Role.staff)
        report = await _report(client, staff)
        assert (await client.get(f"/api/v1/reports/{report['id']}/download")).status_code == 401

    async def test_applicant_of_the_centre_cannot(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
        applicant = await make_user(session, centre, Role.applicant)
        report = await _report(client, staff)
        response = await client.get(f"/api/v1/reports/{report['id']}/download", headers=applicant.headers)
        assert response.status_code in (403, 404)
        assert response.json()["error"]["message"] == "报告不存在"
        assert (await client.get("/api/v1/reports", headers=applicant.headers)).status_code == 403

    async def test_staff_of_another_centre_gets_404(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        staff = await make_user(session, await make_centre(session), Role.staff)
        stranger = await make_user(session, await make_centre(session), Role.staff)
        report = await _report(client, staff)
        response = await client.get(f"/api/v1/reports/{report['id']}/download", headers=stranger.headers)
        assert response.status_code == 404
        listed = (await client.get("/api/v1/reports", headers=stranger.headers)).json()
        assert report["id"] not in [item["id"] for item in listed["items"]]

    async def test_finance_of_the_centre_can(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
        finance = await make_user(session, centre, Role.finance)
        report = await _report(client, staff)
        response = await client.get(f"/api/v1/reports/{report['id']}/download", headers=finance.headers)
        assert response.status_code == 200
        assert response.content.startswith(b"%PDF")

    async def test_finance_cannot_generate(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        finance = await make_user(session, await make_centre(session), Role.finance)
        response = await client.post("/api/v1/reports", json={"kind": KIND_CODE}, headers=finance.headers)
        assert response.status_code == 403

    async def test_bad_period_names_the_field(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        staff = await make_user(session, await make_centre(session), Role.staff)
        response = await client.post(
            "/api/v1/reports", json={"kind": KIND_CODE, "period": "2026-13"}, headers=staff.headers
        )
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["field"] == "period"


class TestSchedules:
    async def test_wrong_role(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        applicant = await make_user(session, await make_centre(session), Role.applicant)
        assert (await client.get("/api/v1/report-schedules", headers=applicant.headers)).status_code == 403

    @pytest.mark.parametrize("cron", ["61 8 1 * *", "every day", "0 8 1 * * *", "0 25 * * *"])
    async def test_bad_cron_is_422_naming_cron(
        self, client: httpx.AsyncClient, session: AsyncSession, cron: str
    ) -> None:
        staff = await make_user(session, await make_centre(session), Role.staff)
        await session.commit()  # keep the user when the request's rollback undoes its savepoint
        response = await client.post(
            "/api/v1/report-schedules", json={"kind": KIND_CODE, "cron": cron}, headers=staff.headers
        )
        assert response.status_code == 422
        details = response.json()["error"]["details"]
        assert details[0]["field"] == "cron"
        assert "运行时间" in details[0]["message"]
        assert (await client.get("/api/v1/report-schedules", headers=staff.headers)).json()["total"] == 0

    async def test_create_toggle_and_run(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
        colleague = await make_user(session, centre, Role.staff)
        response = await client.post(
            "/api/v1/report-schedules",
            json={"kind": KIND_CODE, "cron": "0 8 1 * *", "recipients": [colleague.user.id]},
            headers=staff.headers,
        )
        assert response.status_code == 201, response.text
        schedule = response.json()
        assert schedule["scope_type"] == "centre"
        assert schedule["scope_id"] == centre.id
        assert schedule["next_run_at"] is not None

        paused = await client.patch(
            f"/api/v1/report-schedules/{schedule['id']}", json={"active": False}, headers=staff.headers
        )
        assert paused.json()["active"] is False
        assert paused.json()["next_run_at"] is None

        run = await client.post(f"/api/v1/report-schedules/{schedule['id']}/run", headers=staff.headers)
        assert run.status_code == 201, run.text
        assert run.json()["kind"] == KIND_CODE
        notes = (await client.get("/api/v1/notifications", headers=colleague.headers)).json()
        assert notes["unread"] == 1
        assert notes["items"][0]["title"].startswith("报告已生成：中心月度简报")
        assert notes["items"][0]["link"] == f"/reports/{run.json()['id']}/download"

    async def test_recipients_from_another_centre_are_refused(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        staff = await make_user(session, await make_centre(session), Role.staff)
        outsider = await make_user(session, await make_centre(session), Role.staff)
        response = await client.post(
            "/api/v1/report-schedules",
            json={"kind": KIND_CODE, "cron": "0 8 1 * *", "recipients": [outsider.user.id]},
            headers=staff.headers,
        )
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["field"] == "recipients"

    async def test_other_centres_schedule_is_not_found(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        staff = await make_user(session, await make_centre(session), Role.staff)
        stranger = await make_user(session, await make_centre(session), Role.staff)
        created = await client.post(
            "/api/v1/report-schedules", json={"kind": KIND_CODE, "cron": "0 8 * * 1"}, headers=staff.headers
        )
        schedule_id = created.json()["id"]
        assert (
            await client.get(f"/api/v1/report-schedules/{schedule_id}", headers=stranger.headers)
        ).status_code == 404
        run = await client.post(f"/api/v1/report-schedules/{schedule_id}/run", headers=stranger.headers)
        assert run.status_code == 404


class TestStorageFaults:
    async def test_an_archived_report_missing_on_disk_is_a_404(
        self, client: httpx.AsyncClient, session: AsyncSession, settings: Settings
    ) -> None:
        staff = await make_user(session, await make_centre(session), Role.staff)
        report = await _report(client, staff)
        (archived,) = settings.reports_dir.rglob("*.pdf")
        archived.unlink()
        for path in (f"/api/v1/reports/{report['id']}/download", f"/reports/{report['id']}/download"):
            response = await client.get(path, headers=staff.headers)
            assert response.status_code == 404, path
        api = await client.get(f"/api/v1/reports/{report['id']}/download", headers=staff.headers)
        assert api.json()["error"]["message"] == "文件已不在存储中，请联系中心管理员"

    async def test_an_unwritable_archive_is_a_503_with_retry_after(
        self, client: httpx.AsyncClient, session: AsyncSession, settings: Settings, tmp_path: Path
    ) -> None:
        staff = await make_user(session, await make_centre(session), Role.staff)
        blocker = tmp_path / "not-a-directory"
        blocker.write_text("")
        settings.data_dir = blocker
        response = await client.post(
            "/api/v1/reports", json={"kind": KIND_CODE, "period": "2026-09"}, headers=staff.headers
        )
        assert response.status_code == 503
        assert response.headers["retry-after"] == "60"
        assert response.json()["error"]["code"] == "storage_unavailable"
        listed = await client.get("/api/v1/reports", headers=staff.headers)
        assert listed.json()["total"] == 0
