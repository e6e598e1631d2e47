"""Role dashboards: each role's panel shows the numbers of its centre, with links."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import today
from core.identity.models import Role
from evaluations.assignments import service as assignment_service
from evaluations.assignments.schemas import DeclarationIn
from grants.applications.models import Objection, ObjectionState
from grants.awards import service as award_service
from grants.awards.models import AwardState
from grants.awards.schemas import SignIn
from grants.disbursements import service as disbursements
from grants.disbursements.schemas import DisbursementCreate, PayIn
from incubator import service as incubator
from incubator.schemas import OrganisationCreate
from tests.evaluations.factories import assign, make_scenario, score
from tests.factories import make_centre, make_user
from tests.grants.factories import (
    Cast,
    applicant_org,
    make_award,
    make_cast,
    open_programme,
    submitted_application,
)
from tests.incubator.test_pages import logged_in


def figure(html: str, name: str) -> str:
    match = re.search(rf'data-figure="{name}">([^<]*)<', html)
    assert match, f"no figure {name}"
    return match.group(1).strip()


def panel(html: str, role: str) -> str:
    return html.split(f'data-panel="{role}"')[1].split("</section>")[0]


async def _unverified(session: AsyncSession, staff_principal: object, name: str) -> None:
    await incubator.create_organisation(
        session,
        staff_principal,  # type: ignore[arg-type]
        OrganisationCreate.model_validate(
            {"name": name, "kind": "community_group", "legal_status": "filed", "service_fields": ["elderly"]}
        ),
    )


async def test_staff_panel_counts_the_centres_work(client: httpx.AsyncClient, session: AsyncSession) -> None:
    scenario = await make_scenario(session, evaluators=2, subjects=2, min_sheets=2)
    staff = scenario.staff
    await score(session, scenario, scenario.subjects[0], scenario.evaluators[0], 80)
    await _unverified(session, staff.principal, "玉林绿色家园环保志愿队")
    await _unverified(session, staff.principal, "玉林街道法律援助服务社")
    owner, org = await applicant_org(session, scenario.centre, staff)
    programme = await open_programme(session, staff)
    application = await submitted_application(session, programme, owner, org)
    session.add(
        Objection(centre_id=scenario.centre.id, application_id=application.id, content="申报材料与实际不符")
    )
    session.add(
        Objection(
            centre_id=scenario.centre.id,
            application_id=application.id,
            content="重复异议",
            state=ObjectionState.dismissed,
        )
    )
    cast = Cast(scenario.centre, staff, staff, staff, staff, owner, org)
    award = await make_award(session, cast)
    award.state = AwardState.rectification
    await make_award(session, cast, title="社区议事厅")
    # another centre's work is not counted
    other_staff = await make_user(session, await make_centre(session), Role.staff)
    await _unverified(session, other_staff.principal, "别的中心的组织")
    await session.flush()

    await logged_in(client, staff)
    page = (await client.get("/dashboard")).text
    staff_panel = panel(page, "staff")
    assert figure(staff_panel, "awaiting-verification") == "2"
    assert figure(staff_panel, "awaiting-eligibility") == "1"
    assert figure(staff_panel, "in-rectification") == "1"
    assert figure(staff_panel, "open-objections") == "1"
    assert figure(staff_panel, "round-progress") == "1 / 4 (25%)"
    assert f'href="/evaluations/rounds/{scenario.round.id}"' in staff_panel
    assert 'href="/applications?state=submitted"' in staff_panel
    assert "待审核的组织" in staff_panel
    assert "<th>截止时间</th>" in staff_panel
    assert 'data-panel="finance"' not in page


async def test_applicant_panel_shows_organisations_applications_and_awards(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cast = await make_cast(session)
    signed = await make_award(session, cast, title="长者助餐互助计划")
    unsigned = await make_award(session, cast, title="社区议事厅")
    await award_service.sign_award(
        session, cast.staff.principal, signed.id, SignIn(signed_on=today() - dt.timedelta(days=100))
    )
    await logged_in(client, cast.grantee)
    page = (await client.get("/dashboard")).text
    mine = panel(page, "applicant")
    assert figure(mine, "my-organisations") == "1"
    assert "玉林社区邻里互助会" in mine
    assert figure(mine, "my-applications") == "2"
    assert "已资助" in mine
    assert figure(mine, "my-awards") == "2"
    signed_row = mine.split(f'data-award="{signed.id}"')[1].split("</tr>")[0]
    assert "第 1 笔: 50,000.00 元" in signed_row
    assert "应提交报告" in signed_row
    unsigned_row = mine.split(f'data-award="{unsigned.id}"')[1].split("</tr>")[0]
    assert "协议尚未签订" in unsigned_row
    assert "应提交报告" not in unsigned_row
    assert 'data-panel="staff"' not in page


async def test_finance_panel_counts_the_queue(client: httpx.AsyncClient, session: AsyncSession) -> None:
    cast = await make_cast(session)
    awards = [await make_award(session, cast, title=f"项目{n}") for n in range(4)]
    tranches = []
    for award in awards:
        signed = await award_service.sign_award(
            session, cast.staff.principal, award.id, SignIn(signed_on=today())
        )
        tranches.append(signed.tranches[0])
    requested = [
        await disbursements.request_disbursement(
            session, cast.staff.principal, DisbursementCreate(tranche_id=t.id)
        )
        for t in tranches[1:]
    ]
    await disbursements.approve(session, cast.finance.principal, requested[1].id)
    await disbursements.approve(session, cast.finance.principal, requested[2].id)
    await disbursements.pay(
        session,
        cast.finance.principal,
        requested[2].id,
        PayIn(voucher_no="记-2026-001", paid_on=today(), amount=Decimal("50000.00")),
    )

    await logged_in(client, cast.finance)
    page = (await client.get("/dashboard")).text
    mine = panel(page, "finance")
    assert figure(mine, "awaiting-approval") == "1"
    assert figure(mine, "awaiting-payment") == "1"
    assert figure(mine, "due-without-request") == "1"
    assert figure(mine, "paid-this-month") == "1"
    assert figure(mine, "paid-this-month-amount") == "50,000.00"
    assert 'href="/finance#pending"' in mine


async def test_evaluator_panel_lists_open_assignments(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    due = dt.datetime(2027, 1, 15, 1, 0, tzinfo=dt.UTC)
    scenario = await make_scenario(session, evaluators=2, subjects=3, due_at=due.isoformat())
    me, other = scenario.evaluators
    await score(session, scenario, scenario.subjects[0], me, 80)
    waiting = await assign(session, scenario, scenario.subjects[1], me)
    conflicted = await assign(session, scenario, scenario.subjects[2], me)
    await assignment_service.declare(
        session, me.principal, conflicted.id, DeclarationIn(has_conflict=True, reason="本人为该组织志愿者")
    )
    await assign(session, scenario, scenario.subjects[2], other)

    await logged_in(client, me)
    page = (await client.get("/dashboard")).text
    mine = panel(page, "evaluator")
    assert figure(mine, "pending-assignments") == "1"
    assert f'href="/evaluations/assignments/{waiting.id}"' in mine
    assert "项目2" in mine
    assert "2027-01-15 09:00" in mine
    assert "<th>截止时间</th>" in mine  # a review's deadline, not a tranche "due" for payment
    assert "应拨付" not in mine


async def test_admin_panel_counts_users_per_role_and_centres(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """The admin sees every centre, so other tests' committed rows may exist: count the change."""
    centre = await make_centre(session, name="玉林街道孵化中心")
    admin = await make_user(session, centre, Role.admin)
    await logged_in(client, admin)
    names = ("users-staff", "users-finance", "users-admin", "users-all", "centres")
    before = panel((await client.get("/dashboard")).text, "admin")
    for _ in range(2):
        await make_user(session, centre, Role.staff)
    await make_user(session, centre, Role.finance)
    other = await make_centre(session, name="芳草街道孵化中心")
    await make_user(session, other, Role.staff)
    await session.flush()

    after = panel((await client.get("/dashboard")).text, "admin")
    change = {name: int(figure(after, name)) - int(figure(before, name)) for name in names}
    assert change == {"users-staff": 3, "users-finance": 1, "users-admin": 0, "users-all": 4, "centres": 1}
    assert "芳草街道孵化中心" in after
    assert "芳草街道孵化中心" not in before


async def test_demo_dashboards_render_for_every_role(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    from demo.loader import DEMO_PASSWORD, load_demo
    from tests.test_pages import page_login

    await load_demo(session)
    expected = {
        "staff@yulin.demo": ("staff", "awaiting-eligibility", "1"),
        "applicant@yulin.demo": ("applicant", "my-applications", "2"),
        "finance@yulin.demo": ("finance", "awaiting-approval", "1"),
        "evaluator@yulin.demo": ("evaluator", "pending-assignments", "0"),
    }
    for email, (role, name, value) in expected.items():
        client.cookies.clear()
        await page_login(client, email, DEMO_PASSWORD)
        response = await client.get("/dashboard")
        assert response.status_code == 200
        assert figure(panel(response.text, role), name) == value
    client.cookies.clear()
    await page_login(client, "admin@yulin.demo", DEMO_PASSWORD)
    admin = panel((await client.get("/dashboard")).text, "admin")
    assert "成都市武侯区玉林街道社会组织孵化中心" in admin  # the admin sees every centre
