"""Grant pages: the applicant's form with its budget table, staff eligibility, decision, public publicity."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from core.files import StoredFile
from core.identity.models import Role
from grants.applications import service as applications
from grants.applications.models import ApplicationAttachment
from grants.applications.schemas import ConfirmEligibility
from grants.programmes.models import ProgrammeTopic
from tests.conftest import TestDatabase
from tests.factories import make_centre, make_user
from tests.grants.factories import applicant_org, open_programme, run_review, submitted_application
from tests.incubator.test_pages import logged_in
from tests.test_pages import csrf_of


async def test_applicant_files_with_a_budget_table(client: httpx.AsyncClient, session: AsyncSession) -> None:
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    programme = await open_programme(session, staff)
    owner, org = await applicant_org(session, centre, staff)
    programme_id, org_id = programme.id, org.id
    token = await logged_in(client, owner)
    page = await client.get(f"/programmes/{programme_id}")
    assert f"/applications/new?programme_id={programme_id}&organisation_id={org_id}" in page.text
    form = await client.get(f"/applications/new?programme_id={programme_id}&organisation_id={org_id}")
    assert 'id="budget-table"' in form.text
    data = {
        "csrf_token": token,
        "programme_id": programme_id,
        "organisation_id": org_id,
        "title": "长者互助项目",
        "beneficiaries": "独居长者",
        "needs": "缺少陪伴",
        "objectives": "每月一次茶话会",
        "act-0-name": "茶话会",
        "act-0-starts_on": "2026-06-01",
        "act-0-ends_on": "2026-12-31",
        "line-0-category": "activities",
        "line-0-item": "茶话会",
        "line-0-unit_price": "350.50",
        "line-0-quantity": "12",
        "line-0-funded_by": "grant",
        "line-1-category": "personnel",
        "line-1-item": "社工补贴",
        "line-1-unit_price": "1500",
        "line-1-quantity": "2",
        "line-1-funded_by": "grant",
        "line-2-category": "materials",
        "line-2-item": "自筹物资",
        "line-2-unit_price": "900",
        "line-2-quantity": "1",
        "line-2-funded_by": "cofunding",
        "ind-0-kind": "output",
        "ind-0-name": "活动场次",
        "ind-0-target": "12",
        "ind-0-unit": "场",
    }
    created = await client.post("/applications/new", data=data)
    assert created.status_code == 303, created.text
    detail = await client.get(created.headers["location"])
    assert 'id="requested">7,206.00<' in detail.text  # 350.50 × 12 + 1500 × 2, computed by the server
    submit = re.search(r'action="(/applications/\d+/submit)"', detail.text)
    assert submit is not None
    submitted = await client.post(submit.group(1), data={"csrf_token": token})
    after = await client.get(submitted.headers["location"])
    assert "已提交" in after.text, re.findall(r"(?:error|alert)[^>]*>([^<]*)<", after.text)
    assert "配套资金占预算" in after.text


async def test_form_errors_are_shown(client: httpx.AsyncClient, session: AsyncSession) -> None:
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    programme = await open_programme(session, staff)
    owner, org = await applicant_org(session, centre, staff)
    programme_id, org_id = programme.id, org.id
    token = await logged_in(client, owner)
    data = {
        "csrf_token": token,
        "programme_id": programme_id,
        "organisation_id": org_id,
        "title": "x",
        "line-0-category": "activities",
        "line-0-item": "茶话会",
        "line-0-unit_price": "abc",
        "line-0-quantity": "1",
        "line-0-funded_by": "grant",
    }
    response = await client.post("/applications/new", data=data)
    assert response.status_code == 422
    assert "标题: 过短" in response.text
    assert "单价: 须为金额" in response.text
    # A line beyond NUMERIC(14,2) was a 500; now the line says so beside the budget.
    data.update({"title": "长者互助项目", "line-0-unit_price": "999999999999.00", "line-0-quantity": "2"})
    response = await client.post("/applications/new", data=data)
    assert response.status_code == 422
    assert 'id="budget_lines-0-error"' in response.text  # on the row that overflows
    assert "超过 999,999,999,999.99 元" in response.text


async def test_staff_confirms_eligibility_on_the_page(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    programme = await open_programme(session, staff)
    owner, org = await applicant_org(session, centre, staff)
    application_id = (await submitted_application(session, programme, owner, org)).id
    token = await logged_in(client, staff)
    detail = await client.get(f"/applications/{application_id}")
    assert 'id="eligibility-form"' in detail.text
    checks = re.findall(r'name="check-([a-z_]+)"', detail.text)
    overridden = {f"check-{code}": "pass" for code in checks}
    overridden["check-budget_adds_up"] = "fail"
    refused = await client.post(
        f"/applications/{application_id}/confirm-eligibility", data={"csrf_token": token, **overridden}
    )
    after = await client.get(refused.headers["location"])
    assert "改变审核结果须填写理由" in after.text
    overridden["reason-budget_adds_up"] = "预算明细与说明不符"
    done = await client.post(
        f"/applications/{application_id}/confirm-eligibility", data={"csrf_token": token, **overridden}
    )
    page = await client.get(done.headers["location"])
    assert "资格审核未通过" in page.text
    assert "预算明细与说明不符" in page.text


async def test_decision_screen_and_public_page(client: httpx.AsyncClient, session: AsyncSession) -> None:
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    evaluators = [await make_user(session, centre, Role.evaluator) for _ in range(3)]
    programme = await open_programme(session, staff)
    owner, org = await applicant_org(session, centre, staff, name="甲社区互助会")
    application = await submitted_application(session, programme, owner, org, title="邻里守望")
    await applications.confirm_eligibility(session, staff.principal, application.id, ConfirmEligibility())
    await run_review(session, staff, evaluators, programme.id, {application.id: [85, 88, 90]})
    programme_id, application_id = programme.id, application.id
    token = await logged_in(client, staff)
    screen = await client.get(f"/programmes/{programme_id}/decide")
    assert "邻里守望" in screen.text
    assert "<td>推荐</td>" in screen.text
    budgets = screen.text.split('id="category-budgets"')[1].split("</section>")[0]
    assert "剩余预算（元）" in budgets
    assert "为老服务" in budgets  # each category with what is left of its budget
    row = screen.text.split(f'data-application="{application_id}"')[1].split("</tr>")[0]
    assert "为老服务" in row
    assert "required" not in row  # a reason only when the amount differs or on rejection
    decided = await client.post(
        f"/programmes/{programme_id}/decide",
        data={
            "csrf_token": token,
            f"approve-{application_id}": "yes",
            f"amount-{application_id}": "20000.00",
            f"reason-{application_id}": "评审第一",
        },
    )
    assert decided.status_code == 303
    await client.post(f"/programmes/{programme_id}/publicise", data={"csrf_token": token})
    await client.post("/logout", data={"csrf_token": token})

    public = await client.get("/public/publicity")
    assert public.status_code == 200
    assert "甲社区互助会" in public.text
    assert "邻里守望" in public.text
    assert "20,000.00" in public.text
    objection = await client.post(
        "/public/publicity/objections",
        data={
            "csrf_token": csrf_of(public.text),
            "application_id": application_id,
            "content": "请核实活动是否重复申报",
        },
    )
    assert objection.status_code == 303
    assert "您的异议已记录" in (await client.get(objection.headers["location"])).text


async def test_edit_page_is_for_the_organisations_members(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    programme = await open_programme(session, staff)
    owner, org = await applicant_org(session, centre, staff)
    application = await submitted_application(session, programme, owner, org)
    await logged_in(client, staff)
    assert (await client.get(f"/applications/{application.id}")).status_code == 200
    edit = await client.get(f"/applications/{application.id}/edit")
    assert edit.status_code == 403


async def test_admin_reads_objections_without_the_resolve_form(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    centre = await make_centre(session)
    admin = await make_user(session, centre, Role.admin)
    evaluator = await make_user(session, centre, Role.evaluator)
    await logged_in(client, admin)
    page = await client.get("/objections")
    assert page.status_code == 200
    assert "/resolve" not in page.text
    await client.post("/logout", data={"csrf_token": csrf_of(page.text)})
    await logged_in(client, evaluator)
    assert (await client.get("/objections")).status_code == 403
    assert (await client.get("/programmes")).status_code == 403


async def test_the_page_reads_its_programme_and_organisation_with_the_application(
    client: httpx.AsyncClient, session: AsyncSession, database: TestDatabase
) -> None:
    """The application's page shows its programme, category, topic, applicant and
    attachments (oldest first), read in the application's own statement: it runs no more
    statements than the API's detail. An applicant, who reads only their own organisations,
    still sees their own; the programme of another centre stays out of reach."""
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    programme = await open_programme(session, staff)
    topic = ProgrammeTopic(programme_id=programme.id, title="一老一小服务")
    session.add(topic)
    await session.flush()
    owner, org = await applicant_org(session, centre, staff, name="玉林长者互助会")
    application = await submitted_application(session, programme, owner, org)
    application.topic_id = topic.id
    await session.flush()
    category = programme.categories[0].name if programme.categories else None
    for n, (name, content_type, size, label) in enumerate(
        (("场地协议.pdf", "application/pdf", 20480, "场地使用协议"), ("活动照片.png", "image/png", 3072, ""))
    ):
        stored = StoredFile(
            centre_id=centre.id,
            sha256=f"{n:064d}",
            size=size,
            content_type=content_type,
            original_name=name,
            storage_key=f"test/{n}",
        )
        session.add(stored)
        await session.flush()
        session.add(ApplicationAttachment(application_id=application.id, file_id=stored.id, label=label))
        await session.flush()

    statements: list[str] = []

    def counted(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO")):
            statements.append(statement)

    async def statements_of(path: str, **kwargs: Any) -> tuple[httpx.Response, int]:
        statements.clear()
        event.listen(database.engine.sync_engine, "before_cursor_execute", counted)
        try:
            response = await client.get(path, **kwargs)
        finally:
            event.remove(database.engine.sync_engine, "before_cursor_execute", counted)
        assert response.status_code == 200, response.text[:300]
        return response, len(statements)

    await logged_in(client, staff)
    page, on_page = await statements_of(f"/applications/{application.id}")
    client.cookies.clear()
    _json, in_json = await statements_of(f"/api/v1/applications/{application.id}", headers=staff.headers)
    assert on_page == in_json
    title = re.search(r"<title>(.*?)</title>", page.text, re.DOTALL)
    assert title is not None
    assert title.group(1) == f"{application.title} · 公益苗圃"  # the tab shows the title alone
    listed = re.findall(r'<li data-attachment="(\d+)">\s*(?:<a [^>]*><img [^>]*alt="([^"]*)")?', page.text)
    assert len(listed) == 2
    assert int(listed[0][0]) < int(listed[1][0])
    assert listed[1][1] == "活动照片.png"  # an image without a label shows its file's name
    assert "场地使用协议" in page.text
    assert "20.0 KB" in page.text
    assert 'id="applicant-name">玉林长者互助会<' in page.text
    assert f'<a href="/programmes/{programme.id}">{programme.name}</a>' in page.text
    assert "一老一小服务" in page.text
    if category:
        assert category in page.text
    await logged_in(client, owner)
    own = await client.get(f"/applications/{application.id}")
    assert 'id="applicant-name">玉林长者互助会<' in own.text
    assert "一老一小服务" in own.text
