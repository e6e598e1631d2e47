"""The lists staff work from: sorting and filtering in SQL, the search box, Excel exports that
honour the filters, and bulk actions that do what they can and say what they refused."""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from decimal import Decimal

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import today
from core.identity.models import Centre, Role
from core.repository import Shape
from evaluations.assignments import service as assignment_service
from evaluations.assignments.schemas import AssignmentCreate
from evaluations.results import service as result_service
from evaluations.rounds import service as round_service
from grants.applications import review
from grants.applications import service as application_service
from grants.applications.models import Application, ApplicationState
from grants.applications.schemas import ConfirmEligibility
from grants.awards import service as awards
from grants.awards.models import Award, Tranche, TrancheState
from grants.awards.schemas import SignIn
from grants.disbursements.models import Disbursement
from grants.programmes.models import Programme
from incubator import service as incubator
from tests.factories import Actor, make_centre, make_user
from tests.grants.factories import (
    Cast,
    applicant_org,
    budget,
    make_award,
    make_cast,
    open_programme,
    run_review,
    submitted_application,
)
from tests.incubator.test_pages import logged_in


@dataclass
class Street:
    staff: Actor
    programme: Programme
    apps: dict[str, Application]


async def _street(session: AsyncSession) -> Street:
    """Three submitted applications in one centre, and one in a neighbouring centre."""
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    programme = await open_programme(session, staff)
    apps: dict[str, Application] = {}
    for key, name, community, grant in (
        ("elders", "玉林长者互助会", "玉林北路社区", "14000"),
        ("youth", "芳华青少年服务中心", "芳草街社区", "4000"),
        ("green", "绿色家园环保队", "玉林北路社区", "9000"),
    ):
        owner, org = await applicant_org(session, centre, staff, name=name, community=community)
        apps[key] = await submitted_application(
            session,
            programme,
            owner,
            org,
            title=f"{name}的社区项目",
            target_community=community,
            budget_lines=budget(grant_activities=grant),
        )
    other = await make_centre(session)
    other_staff = await make_user(session, other, Role.staff)
    other_programme = await open_programme(session, other_staff)
    owner, org = await applicant_org(session, other, other_staff, name="玉林长者互助会（邻街）")
    apps["other"] = await submitted_application(
        session, other_programme, owner, org, title="邻街中心的社区项目"
    )
    return Street(staff, programme, apps)


def _ids(html: str, attr: str = "data-application") -> list[int]:
    return [int(i) for i in re.findall(rf'{attr}="(\d+)"', html)]


class TestApplicationList:
    async def test_sorted_by_a_column_in_both_directions(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        street = await _street(session)
        a = street.apps
        await logged_in(client, street.staff)
        down = await client.get("/applications?sort=-requested")
        assert down.status_code == 200
        # Requested: 6000 + the activities line, so 20000 > 15000 > 10000.
        assert _ids(down.text) == [a["elders"].id, a["green"].id, a["youth"].id]
        assert re.search(
            r'<th[^>]*aria-sort="descending"[^>]*>\s*<a href="/applications\?sort=requested"', down.text
        )
        assert "按 申请金额 降序排列" in down.text.split('id="listing-state"')[1]
        up = await client.get("/applications?sort=organisation")
        assert _ids(up.text) == sorted(
            [a["elders"].id, a["youth"].id, a["green"].id],
            key=lambda i: {
                a["elders"].id: "玉林长者互助会",
                a["youth"].id: "芳华青少年服务中心",
                a["green"].id: "绿色家园环保队",
            }[i],
        )
        assert 'aria-sort="ascending"' in up.text
        assert a["other"].id not in _ids(up.text)  # another centre's application never shows

    async def test_filters_by_community_organisation_and_dates(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        street = await _street(session)
        a = street.apps
        await logged_in(client, street.staff)
        north = await client.get("/applications", params={"community": "北路", "sort": "number"})
        assert _ids(north.text) == sorted([a["elders"].id, a["green"].id])
        assert "北路" in north.text.split('id="listing-state"')[1].split("</p>")[0]
        # The sort survives the filter form and the filters survive the column links.
        assert 'name="sort" value="number"' in north.text
        assert "community=%E5%8C%97%E8%B7%AF" in north.text
        youth = await client.get("/applications", params={"organisation": "芳华"})
        assert _ids(youth.text) == [a["youth"].id]
        yesterday = (today() - dt.timedelta(days=1)).isoformat()
        none = await client.get("/applications", params={"submitted_to": yesterday})
        assert _ids(none.text) == []
        every = await client.get("/applications", params={"submitted_from": today().isoformat()})
        assert set(_ids(every.text)) == {a["elders"].id, a["youth"].id, a["green"].id}
        by_programme = await client.get(
            "/applications", params={"programme_id": street.programme.id, "state": "submitted"}
        )
        assert len(_ids(by_programme.text)) == 3

    async def test_unknown_sort_key_is_refused_naming_the_field(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        street = await _street(session)
        await logged_in(client, street.staff)
        for path in ("/applications", "/awards", "/disbursements", "/contracts", "/organisations"):
            response = await client.get(path, params={"sort": "password_hash"})
            assert response.status_code == 422, path
            assert "排序" in response.text
            assert "password_hash" in response.text
        bad_date = await client.get("/applications", params={"submitted_from": "2026-13-45"})
        assert bad_date.status_code == 422
        assert "提交日期起" in bad_date.text
        bad_state = await client.get("/applications", params={"state": "paid"})
        assert bad_state.status_code == 422
        assert "状态" in bad_state.text

    async def test_pages_of_a_long_list_do_not_overlap(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        street = await _street(session)
        await logged_in(client, street.staff)
        first = await client.get("/applications", params={"sort": "community", "page_size": 2})
        second = await client.get("/applications", params={"sort": "community", "page_size": 2, "page": 2})
        seen = _ids(first.text) + _ids(second.text)
        assert len(seen) == 3
        assert len(set(seen)) == 3
        assert "page=2" in first.text


class TestSearch:
    async def test_finds_by_name_and_number_within_the_centre(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        street = await _street(session)
        a = street.apps
        await logged_in(client, street.staff)
        found = await client.get("/search", params={"q": "长者互助"})
        assert found.status_code == 200
        orgs = found.text.split('id="results-organisations"')[1].split("</section>")[0]
        assert "玉林长者互助会" in orgs
        assert "邻街" not in found.text  # the neighbouring centre's organisation and project
        by_number = await client.get("/search", params={"q": f"#{a['youth'].id}"})
        applications = by_number.text.split('id="results-applications"')[1].split("</section>")[0]
        assert f'href="/applications/{a["youth"].id}"' in applications
        foreign = await client.get("/search", params={"q": str(a["other"].id)})
        assert f'href="/applications/{a["other"].id}"' not in foreign.text
        only = await client.get("/search", params={"q": "社区项目", "kind": "applications"})
        assert "共 3 条" in only.text.split('id="results-applications"')[1]
        assert 'id="results-organisations"' not in only.text

    async def test_box_is_in_the_top_bar_for_staff_not_applicants(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        street = await _street(session)
        await logged_in(client, street.staff)
        page = await client.get("/dashboard")
        assert 'action="/search"' in page.text
        centre = await make_centre(session)
        applicant = await make_user(session, centre, Role.applicant)
        client.cookies.clear()
        await logged_in(client, applicant)
        assert 'action="/search"' not in (await client.get("/dashboard")).text
        assert (await client.get("/search", params={"q": "玉林"})).status_code == 403


class TestApplicationExport:
    async def test_honours_filters_and_sort_with_chinese_headers_and_money_cells(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        street = await _street(session)
        a = street.apps
        await logged_in(client, street.staff)
        listed = await client.get("/applications", params={"community": "北路", "sort": "-requested"})
        link = re.search(r'id="export" href="([^"]+)"', listed.text)
        assert link
        response = await client.get(link.group(1).replace("&amp;", "&"))
        assert response.status_code == 200
        sheet = load_workbook(io.BytesIO(response.content)).active
        assert sheet is not None
        headers = [c.value for c in sheet[1]]
        assert headers[:8] == [
            "编号",
            "项目名称",
            "申报组织",
            "创投项目",
            "类别",
            "社区",
            "状态",
            "申请金额（元）",
        ]
        assert "评审得分" in headers
        rows = list(sheet.iter_rows(min_row=2, values_only=True))
        assert [r[0] for r in rows] == [a["elders"].id, a["green"].id]
        assert rows[0][2] == "玉林长者互助会"
        assert rows[0][5] == "玉林北路社区"
        assert rows[0][6] == "已提交"
        assert Decimal(str(rows[0][7])) == Decimal("20000.00")
        assert sheet.cell(row=2, column=8).number_format == "#,##0.00"
        assert isinstance(sheet.cell(row=2, column=8).value, int | float)


class TestBulkEligibility:
    async def test_confirms_the_passing_and_refuses_the_rest_with_reasons(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        street = await _street(session)
        a = street.apps
        # Over the 30,000 cap for 备案 organisations: its automatic check fails.
        owner, org = await applicant_org(
            session, await incubator_centre(session, street), street.staff, name="超额申请协会"
        )
        over = await submitted_application(
            session,
            street.programme,
            owner,
            org,
            title="超额的项目",
            budget_lines=budget(grant_activities="60000"),
        )
        await application_service.confirm_eligibility(
            session, street.staff.principal, a["green"].id, ConfirmEligibility()
        )
        token = await logged_in(client, street.staff)
        chosen = [a["elders"].id, over.id, a["green"].id, a["other"].id]
        ask = await client.post(
            "/applications/bulk/confirm-eligibility",
            data={"csrf_token": token, "ids": [str(i) for i in chosen]},
        )
        assert ask.status_code == 200
        assert "4 份申报书" in ask.text
        assert (await _state(session, a["elders"].id)) is ApplicationState.submitted  # nothing yet
        done = await client.post(
            "/applications/bulk/confirm-eligibility",
            data={"csrf_token": token, "ids": [str(i) for i in chosen], "confirmed": "yes"},
        )
        assert done.status_code == 200
        summary = done.text
        assert "1 项已完成，3 项被拒绝" in summary
        refused = summary.split('id="bulk-refused"')[1]
        assert "超额的项目" in refused
        assert "自动检查未通过" in refused
        green = refused.split(f"#{a['green'].id} ")[1].split("</li>")[0]
        assert "无法执行此操作" in green  # already decided: its compare-and-set has nothing to move
        assert "未找到该申报书" in refused  # the other centre's is simply not found
        assert (await _state(session, a["elders"].id)) is ApplicationState.eligible
        assert (await _state(session, over.id)) is ApplicationState.submitted
        assert (await _state(session, a["other"].id)) is ApplicationState.submitted

    async def test_nothing_ticked_is_a_field_error(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        street = await _street(session)
        token = await logged_in(client, street.staff)
        response = await client.post("/applications/bulk/confirm-eligibility", data={"csrf_token": token})
        assert response.status_code == 422
        assert "请先勾选" in response.text


async def incubator_centre(session: AsyncSession, street: Street) -> Centre:
    from core.identity import service as identity

    assert street.staff.user.centre_id is not None
    centre = await identity.get_centre(session, street.staff.user.centre_id)
    assert centre is not None
    return centre


async def _state(session: AsyncSession, application_id: int) -> ApplicationState:
    return (
        await session.execute(
            select(Application.state)
            .where(Application.id == application_id)
            .execution_options(populate_existing=True)
        )
    ).scalar_one()


class TestBulkTranches:
    async def test_requests_the_due_and_refuses_the_planned(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        cast = await make_cast(session)
        signed = await make_award(session, cast, amount=Decimal("40000.00"), title="长者助餐计划")
        await awards.sign_award(session, cast.staff.principal, signed.id, SignIn(signed_on=today()))
        unsigned = await make_award(session, cast, amount=Decimal("10000.00"), title="社区花园计划")
        token = await logged_in(client, cast.staff)
        due = await client.get("/tranches/due")
        assert f'data-tranche="{signed.tranches[0].id}"' in due.text
        assert f'data-tranche="{unsigned.tranches[0].id}"' not in due.text
        chosen = [str(signed.tranches[0].id), str(unsigned.tranches[0].id)]
        ask = await client.post("/tranches/due/request", data={"csrf_token": token, "tranche_ids": chosen})
        assert "2 笔" in ask.text
        assert "25,000.00" in ask.text  # 20,000.00 + 5,000.00
        done = await client.post(
            "/tranches/due/request", data={"csrf_token": token, "tranche_ids": chosen, "confirmed": "yes"}
        )
        assert "1 项已完成，1 项被拒绝" in done.text
        refused = done.text.split('id="bulk-refused"')[1]
        assert "社区花园计划" in refused
        assert "尚未到期" in refused
        requested = (
            (
                await session.execute(
                    select(Disbursement).where(Disbursement.award_id.in_([signed.id, unsigned.id]))
                )
            )
            .scalars()
            .all()
        )
        assert [(d.award_id, d.amount) for d in requested] == [(signed.id, Decimal("20000.00"))]
        states = dict(
            (
                await session.execute(
                    select(Tranche.id, Tranche.state)
                    .where(Tranche.id.in_([signed.tranches[0].id, unsigned.tranches[0].id]))
                    .execution_options(populate_existing=True)
                )
            ).all()
        )
        assert states[signed.tranches[0].id] is TrancheState.requested
        assert states[unsigned.tranches[0].id] is TrancheState.planned

    async def test_finance_may_look_but_not_request(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        cast = await make_cast(session)
        award = await make_award(session, cast)
        await awards.sign_award(session, cast.staff.principal, award.id, SignIn(signed_on=today()))
        token = await logged_in(client, cast.finance)
        page = await client.get("/tranches/due")
        assert page.status_code == 200
        assert 'name="tranche_ids"' not in page.text
        refused = await client.post(
            "/tranches/due/request",
            data={"csrf_token": token, "tranche_ids": [str(award.tranches[0].id)], "confirmed": "yes"},
        )
        assert refused.status_code == 403


async def _two_first_tranches_requested(session: AsyncSession) -> tuple[Cast, Award, Award]:
    """Two signed awards, 长者助餐计划 (80,000) and 社区花园计划 (12,345.67), each with its
    first tranche requested for payment."""
    from grants.disbursements import service as disbursements
    from grants.disbursements.schemas import DisbursementCreate

    cast = await make_cast(session)
    big = await make_award(session, cast, amount=Decimal("80000.00"), title="长者助餐计划")
    small = await make_award(session, cast, amount=Decimal("12345.67"), title="社区花园计划")
    for award in (big, small):
        await awards.sign_award(session, cast.staff.principal, award.id, SignIn(signed_on=today()))
        await disbursements.request_disbursement(
            session, cast.staff.principal, DisbursementCreate(tranche_id=award.tranches[0].id)
        )
    return cast, big, small


class TestDisbursementAndAwardLists:
    async def test_filter_sort_and_export(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        cast, big, small = await _two_first_tranches_requested(session)
        await logged_in(client, cast.finance)
        listed = await client.get("/disbursements", params={"sort": "amount"})
        assert listed.status_code == 200
        amounts = re.findall(r'<td class="num">([\d,]+\.\d\d)</td>', listed.text)
        assert amounts == ["6,172.84", "40,000.00"]
        only = await client.get("/disbursements", params={"q": "花园"})
        assert len(_ids(only.text, "data-disbursement")) == 1
        export = await client.get("/disbursements/export.xlsx", params={"q": "花园"})
        sheet = load_workbook(io.BytesIO(export.content)).active
        assert sheet is not None
        assert [c.value for c in sheet[1]][:7] == [
            "编号",
            "申请日期",
            "收款单位",
            "付款事由",
            "类型",
            "状态",
            "金额（元）",
        ]
        rows = list(sheet.iter_rows(min_row=2, values_only=True))
        assert len(rows) == 1
        assert rows[0][3] == "社区花园计划 · 第 1 笔"
        assert Decimal(str(rows[0][6])) == Decimal("6172.84")
        assert sheet.cell(row=2, column=7).number_format == "#,##0.00"
        projects = await client.get("/awards", params={"sort": "-amount"})
        assert _ids(projects.text, "data-award") == [big.id, small.id]
        award_export = await client.get("/awards/export.xlsx", params={"sort": "amount"})
        award_sheet = load_workbook(io.BytesIO(award_export.content)).active
        assert award_sheet is not None
        award_rows = list(award_sheet.iter_rows(min_row=2, values_only=True))
        assert [r[1] for r in award_rows] == ["社区花园计划", "长者助餐计划"]
        assert Decimal(str(award_rows[0][9])) == Decimal("12345.67")
        assert award_sheet.cell(row=2, column=10).number_format == "#,##0.00"


class TestBuiltOncePerShape:
    """A list's statement is built once for the filters given and reused with other values:
    every value still finds its own rows, and a new combination of filters is built anew."""

    async def test_each_value_finds_its_rows_from_one_built_statement(
        self, client: httpx.AsyncClient, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import core.repository
        from grants.applications import repository as application_repository

        monkeypatch.setattr(core.repository, "_BUILT", {})  # nothing kept from other tests
        street = await _street(session)
        a = street.apps
        shapes: list[frozenset[str]] = []
        build = application_repository.application_ids

        def counted(repository: application_repository.ApplicationRepository, shape: Shape) -> object:
            shapes.append(shape)
            return build(repository, shape)

        monkeypatch.setattr(application_repository, "application_ids", counted)
        await logged_in(client, street.staff)

        async def listed(**params: str) -> list[int]:
            response = await client.get("/applications", params={"sort": "number", **params})
            assert response.status_code == 200, response.text
            return _ids(response.text)

        assert await listed(community="北路") == sorted([a["elders"].id, a["green"].id])
        assert await listed(community="芳草") == [a["youth"].id]
        assert await listed(community="100%") == []  # a wildcard is taken literally
        assert await listed(q="长者") == [a["elders"].id]
        assert await listed(q="芳华") == [a["youth"].id]
        assert await listed(q=f"#{a['green'].id}") == [a["green"].id]  # a number: one more clause
        assert await listed(q=f"No.{a['youth'].id}") == [a["youth"].id]
        assert await listed(community="北路", organisation="绿色") == [a["green"].id]
        assert await listed(community="北路", organisation="长者") == [a["elders"].id]
        assert shapes == [
            frozenset({"community"}),
            frozenset({"q"}),
            frozenset({"q", "q_number"}),
            frozenset({"community", "organisation"}),
        ]
        # The JSON list binds its filters the same way: each programme finds its own.
        other = await open_programme(session, street.staff)
        empty = await client.get(
            "/api/v1/applications", params={"programme_id": other.id}, headers={"Accept": "application/json"}
        )
        mine = await client.get("/api/v1/applications", params={"programme_id": street.programme.id})
        assert empty.json()["total"] == 0
        assert sorted(i["id"] for i in mine.json()["items"]) == sorted(
            a[k].id for k in ("elders", "youth", "green")
        )

    async def test_disbursements_by_kind_and_payee(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        cast, _meals, _garden = await _two_first_tranches_requested(session)
        await logged_in(client, cast.finance)

        async def count(**params: str) -> int:
            response = await client.get("/disbursements", params=params)
            assert response.status_code == 200, response.text
            return len(_ids(response.text, "data-disbursement"))

        assert await count(kind="award") == 2
        assert await count(kind="contract") == 0
        assert await count(kind="award", q="助餐") == 1
        assert await count(kind="award", q="花园") == 1
        assert await count(kind="award", q="菜园") == 0


class TestReviewRound:
    async def test_bulk_assignment_and_the_review_summary(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
        evaluators = [await make_user(session, centre, Role.evaluator) for _ in range(3)]
        programme = await open_programme(session, staff)
        apps = []
        for name in ("甲社区互助会", "乙青少年中心"):
            owner, org = await applicant_org(session, centre, staff, name=name)
            application = await submitted_application(session, programme, owner, org, title=f"{name}的项目")
            await application_service.confirm_eligibility(
                session, staff.principal, application.id, ConfirmEligibility()
            )
            apps.append(application)
        started = await review.start_review(session, staff.principal, programme.id)
        assert started.review_round_id is not None
        round_id = started.review_round_id
        subjects = {
            s.subject_id: s.id for s in await round_service.list_subjects(session, staff.principal, round_id)
        }
        await assignment_service.assign(
            session,
            staff.principal,
            round_id,
            AssignmentCreate(subject_id=subjects[apps[0].id], evaluator_id=evaluators[0].user.id),
            incubator.member_user_ids,
        )
        token = await logged_in(client, staff)
        board = await client.get(f"/evaluations/rounds/{round_id}")
        assert 'id="bulk-assign"' in board.text
        form = {
            "csrf_token": token,
            "subject_ids": [str(subjects[apps[0].id]), str(subjects[apps[1].id])],
            "evaluator_ids": [str(evaluators[0].user.id), str(evaluators[1].user.id)],
        }
        ask = await client.post(f"/evaluations/rounds/{round_id}/bulk-assign", data=form)
        assert ask.status_code == 200
        assert "4" in ask.text.split('id="bulk-message"')[1].split("</p>")[0]
        done = await client.post(
            f"/evaluations/rounds/{round_id}/bulk-assign", data={**form, "confirmed": "yes"}
        )
        assert "3 项已完成，1 项被拒绝" in done.text
        assert "已被指派" in done.text.split('id="bulk-refused"')[1]
        progress = await result_service.progress(session, staff.principal, round_id)
        assert sorted(len(s.evaluators) for s in progress.subjects) == [2, 2]
        # Before the round closes there is no summary to download.
        early = await client.get(f"/evaluations/rounds/{round_id}/summary.xlsx")
        assert early.status_code == 409

    async def test_review_summary_cell_by_cell(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
        evaluators = [await make_user(session, centre, Role.evaluator) for _ in range(3)]
        programme = await open_programme(session, staff)
        apps = []
        for name in ("甲社区互助会", "乙青少年中心"):
            owner, org = await applicant_org(session, centre, staff, name=name)
            application = await submitted_application(session, programme, owner, org, title=f"{name}的项目")
            await application_service.confirm_eligibility(
                session, staff.principal, application.id, ConfirmEligibility()
            )
            apps.append(application)
        await run_review(
            session, staff, evaluators, programme.id, {apps[0].id: [80, 90, 70], apps[1].id: [95, 91, 93]}
        )
        programme_now = await session.get(Programme, programme.id)
        assert programme_now is not None
        assert programme_now.review_round_id is not None
        round_id = programme_now.review_round_id
        await logged_in(client, staff)
        page = await client.get(f"/evaluations/rounds/{round_id}")
        assert f'href="/evaluations/rounds/{round_id}/summary.xlsx"' in page.text
        response = await client.get(f"/evaluations/rounds/{round_id}/summary.xlsx")
        assert response.status_code == 200
        sheet = load_workbook(io.BytesIO(response.content)).active
        assert sheet is not None
        assert str(sheet["A1"].value).startswith("评审汇总表")
        headers = [c.value for c in sheet[2]]
        names = sorted(e.user.full_name for e in evaluators)
        assert headers[:4] == ["类别", "类别内排名", "编号", "项目名称"]
        assert headers[4:7] == [f"{n}（总分）" for n in names]
        assert headers[7:] == ["评分表数", "平均分", "去极值平均分", "最终得分", "等级"]
        rows = {r[2]: r for r in sheet.iter_rows(min_row=3, values_only=True)}
        by_name = {e.user.full_name: e for e in evaluators}
        given = {apps[0].id: [80, 90, 70], apps[1].id: [95, 91, 93]}
        for app in apps:
            row = rows[app.id]
            for column, name in enumerate(names, start=4):
                expected = given[app.id][evaluators.index(by_name[name])]
                assert Decimal(str(row[column])) == Decimal(expected)
            assert row[7] == 3
            assert Decimal(str(row[8])) == Decimal(sum(given[app.id]) / 3).quantize(Decimal("0.01"))
        assert rows[apps[1].id][1] == 1
        assert rows[apps[0].id][1] == 2
        assert rows[apps[1].id][11] == "优秀"
        assert rows[apps[0].id][11] == "良好"
        assert sheet.cell(row=3, column=9).number_format == "0.00"


@pytest.mark.parametrize(
    "path", ["/applications/export.xlsx", "/awards/export.xlsx", "/disbursements/export.xlsx"]
)
async def test_exports_are_not_for_applicants(
    client: httpx.AsyncClient, session: AsyncSession, path: str
) -> None:
    centre = await make_centre(session)
    applicant = await make_user(session, centre, Role.applicant)
    await logged_in(client, applicant)
    assert (await client.get(path)).status_code == 403


class TestDistrictReader:
    """A district reader sees several centres: each list says which centre a row is of, and
    filters by centre with the choice kept in the URL; a centre's own staff see neither."""

    async def test_centre_column_and_filter(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        street = await _street(session)
        a = street.apps
        here = await session.get(Centre, a["elders"].centre_id)
        there = await session.get(Centre, a["other"].centre_id)
        assert here is not None
        assert there is not None
        district = await make_user(session, None, Role.staff, district=True)
        await logged_in(client, district)
        everything = await client.get("/applications")
        assert everything.status_code == 200
        assert set(_ids(everything.text)) >= {a["elders"].id, a["other"].id}
        assert '<th scope="col">孵化中心</th>' in everything.text
        assert f'<td data-centre="{there.id}">{there.name}</td>' in everything.text
        assert f'<td data-centre="{here.id}">{here.name}</td>' in everything.text
        assert f'<option value="{there.id}" >{there.name}</option>' in everything.text
        only_there = await client.get("/applications", params={"centre_id": there.id, "sort": "title"})
        assert _ids(only_there.text) == [a["other"].id]
        assert f"孵化中心：{there.name}" in only_there.text.split('id="listing-state"')[1]
        assert f'<option value="{there.id}" selected>' in only_there.text
        assert f"centre_id={there.id}" in only_there.text  # kept in the sort links and the export
        orgs = await client.get("/organisations", params={"centre_id": there.id})
        assert orgs.status_code == 200
        assert set(re.findall(r'data-centre="(\d+)"', orgs.text)) == {str(there.id)}
        assert "玉林长者互助会（邻街）" in orgs.text
        assert "芳华青少年服务中心" not in orgs.text
        for path in ("/awards", "/disbursements", "/contracts"):
            page = await client.get(path, params={"centre_id": there.id})
            assert page.status_code == 200, path
            assert '<th scope="col">孵化中心</th>' in page.text, path
            assert 'id="flt-centre_id"' in page.text, path
        export = await client.get("/applications/export.xlsx", params={"centre_id": here.id})
        assert export.status_code == 200
        sheet = load_workbook(io.BytesIO(export.content)).active
        assert sheet is not None
        titles = {str(c.value) for row in sheet.iter_rows() for c in row if c.value}
        assert "邻街中心的社区项目" not in titles
        assert "玉林长者互助会的社区项目" in titles

    async def test_one_centre_staff_see_no_centre_column(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        street = await _street(session)
        await logged_in(client, street.staff)
        for path in ("/applications", "/organisations", "/awards", "/disbursements", "/contracts"):
            page = await client.get(path)
            assert page.status_code == 200, path
            assert 'id="flt-centre_id"' not in page.text, path
            assert "data-centre=" not in page.text, path


class TestProgrammeFilter:
    """The programme filter offers the chosen programme and the twenty newest, or what its
    search box finds; the rest are searched on the server (a district runs hundreds over the
    years), never loaded whole."""

    @staticmethod
    def _options(page: str) -> list[tuple[str, str, bool]]:
        select = page.split('<select id="flt-programme_id" name="programme_id">')[1].split("</select>")[0]
        return [
            (value, name, chosen == "selected")
            for value, chosen, name in re.findall(
                r'<option value="(\d+)" (selected)?>([^<]*)</option>', select
            )
        ]

    async def test_newest_chosen_and_searched(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        from grants.programmes import service as programmes
        from grants.programmes.schemas import ProgrammeCreate
        from tests.grants.factories import programme_payload

        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
        made = {}
        for year in range(2001, 2026):
            payload = programme_payload(None, name=f"{year}年玉林街道公益创投", year=year)
            made[year] = await programmes.create_programme(
                session, staff.principal, ProgrammeCreate.model_validate(payload)
            )
        elsewhere = await make_centre(session)
        neighbour = await make_user(session, elsewhere, Role.staff)
        await programmes.create_programme(
            session,
            neighbour.principal,
            ProgrammeCreate.model_validate(programme_payload(None, name="2003年邻街公益创投", year=2003)),
        )
        await session.commit()
        await logged_in(client, staff)

        offered = self._options((await client.get("/applications")).text)
        assert [name for _, name, _ in offered] == [f"{y}年玉林街道公益创投" for y in range(2025, 2005, -1)]

        oldest = made[2001].id
        page = (await client.get("/applications", params={"programme_id": oldest})).text
        offered = self._options(page)
        assert offered[0] == (str(oldest), "2001年玉林街道公益创投", True)
        assert len(offered) == 21
        assert "项目：2001年玉林街道公益创投" in page.split('id="listing-state"')[1].split("</p>")[0]

        page = (await client.get("/applications", params={"programme_id_q": "2003年"})).text
        assert self._options(page) == [(str(made[2003].id), "2003年玉林街道公益创投", False)]
        assert 'name="programme_id_q" value="2003年"' in page
        assert 'data-chooser="/choosers/programmes" data-chooser-for="flt-programme_id"' in page

        found = (await client.get("/choosers/programmes", params={"q": "2003年"})).json()["items"]
        assert found == [{"id": made[2003].id, "label": "2003年玉林街道公益创投"}]
        by_number = (await client.get("/choosers/programmes", params={"q": f"#{made[2002].id}"})).json()
        assert by_number["items"] == [{"id": made[2002].id, "label": "2002年玉林街道公益创投"}]
        for path in ("/awards", "/disbursements"):
            offered = self._options((await client.get(path, params={"programme_id": oldest})).text)
            assert offered[0] == (str(oldest), "2001年玉林街道公益创投", True), path
            assert len(offered) == 21, path
