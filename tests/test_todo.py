"""Every dashboard opens on its to-do list: each waiting item, linked, most urgent first; the
audit feed in words comes after; the district reader sees the centres side by side."""

from __future__ import annotations

import datetime as dt
import re

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import Role
from grants.awards import service as award_service
from grants.awards.models import Tranche
from grants.awards.schemas import SignIn
from grants.disbursements import service as disbursements
from grants.disbursements.schemas import DisbursementCreate
from tests.factories import make_centre, make_user
from tests.grants.factories import applicant_org, make_award, make_cast, open_programme, submitted_application
from tests.incubator.test_pages import logged_in

ITEM = re.compile(
    r'<li class="todo-item ([a-z]*)" data-kind="([a-z_]+)">.*?'
    r'<a class="todo-title" href="([^"]+)">([^<]*)</a>',
    re.S,
)


def todo(html: str) -> list[tuple[str, str, str, str]]:
    """(urgency, kind, link, title) in the order shown."""
    return ITEM.findall(html)


async def test_staff_list_is_sorted_by_urgency_and_comes_first(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cast = await make_cast(session)
    award = await make_award(session, cast, title="长者助餐互助计划")
    await award_service.sign_award(
        session, cast.staff.principal, award.id, SignIn(signed_on=dt.date(2026, 5, 10))
    )
    # the first tranche has been due for weeks: past the week's grace, it is overdue
    await session.execute(
        update(Tranche)
        .where(Tranche.award_id == award.id, Tranche.seq == 1)
        .values(due_on=dt.date(2026, 1, 5))
    )
    programme = await open_programme(session, cast.staff)
    _owner, org = await applicant_org(session, cast.centre, cast.staff, name="新来的互助会", verified=False)
    _, verified_org = await applicant_org(session, cast.centre, cast.staff, name="已审核的组织")
    application = await submitted_application(
        session, programme, cast.grantee, cast.org, title="社区花园营造"
    )
    await logged_in(client, cast.staff)
    page = await client.get("/dashboard")
    html = page.text
    assert (
        html.index('data-panel="todo"')
        < html.index('data-panel="staff"')
        < html.index('data-panel="activity"')
    )
    items = todo(html)
    kinds = [kind for _u, kind, _l, _t in items]
    assert kinds[0] == "tranche_due"  # overdue, so on top
    assert items[0][0] == "fail"
    assert items[0][2] == f"/awards/{award.id}#tranches"
    assert ("confirm_eligibility", f"/applications/{application.id}", "社区花园营造") in [
        (k, link, t) for _u, k, link, t in items
    ]
    assert ("verify_organisation", f"/organisations/{org.id}", "新来的互助会") in [
        (k, link, t) for _u, k, link, t in items
    ]
    assert f'/organisations/{verified_org.id}"' not in html.split('data-panel="staff"')[0]
    assert "已逾期" in html
    # the audit feed says what happened, in words, with links: names, not ids or e-mail addresses
    activity = html.split('data-panel="activity"')[1]
    assert f'href="/applications/{application.id}">提交了申报书“社区花园营造”</a>' in activity
    assert cast.grantee.user.full_name in activity
    assert cast.grantee.user.email not in activity
    assert 'href="/users/' not in activity  # accounts are the administrator's pages


async def test_finance_sees_what_to_approve_but_not_their_own_request(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cast = await make_cast(session)
    award = await make_award(session, cast)
    signed = await award_service.sign_award(
        session, cast.staff.principal, award.id, SignIn(signed_on=dt.date(2026, 5, 10))
    )
    first = next(t for t in signed.tranches if t.seq == 1)
    await disbursements.request_disbursement(
        session, cast.both.principal, DisbursementCreate(tranche_id=first.id)
    )
    await logged_in(client, cast.finance)
    items = todo((await client.get("/dashboard")).text)
    assert [(k, link) for _u, k, link, _t in items] == [("approve_disbursement", "/finance#pending")]
    client.cookies.clear()
    await logged_in(client, cast.both)  # staff and finance: their own request waits for someone else
    kinds = [k for _u, k, _l, _t in todo((await client.get("/dashboard")).text)]
    assert "approve_disbursement" not in kinds


async def test_nothing_waiting_says_so(client: httpx.AsyncClient, session: AsyncSession) -> None:
    centre = await make_centre(session)
    evaluator = await make_user(session, centre, Role.evaluator)
    await logged_in(client, evaluator)
    html = (await client.get("/dashboard")).text
    assert 'id="todo-empty"' in html
    assert "目前没有待办事项" in html


async def test_district_reader_sees_centres_side_by_side(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    first = await make_centre(session, name="玉林街道孵化中心")
    second = await make_centre(session, name="簇桥街道孵化中心")
    staff = await make_user(session, first, Role.staff)
    await applicant_org(session, first, staff, name="甲组织")
    await applicant_org(session, first, staff, name="乙组织", verified=False)
    district = await make_user(session, None, Role.staff, district=True)
    await logged_in(client, district)
    html = (await client.get("/dashboard")).text
    assert 'data-panel="todo"' not in html
    assert "区级查阅（只读）" in html
    assert "孵化中心工作人员" not in html.split("</header>")[0]
    assert f'data-centre="{first.id}"' in html
    assert f'data-centre="{second.id}"' in html
    card = html.split(f'data-centre="{first.id}"')[1].split("</article>")[0]
    assert re.findall(r'<dd class="num">(\d+)</dd>', card)[:2] == ["2", "1"]


async def test_admin_list_holds_locked_accounts(client: httpx.AsyncClient, session: AsyncSession) -> None:
    from tests.test_pages import page_login

    centre = await make_centre(session)
    admin = await make_user(session, centre, Role.admin)
    person = await make_user(session, centre, Role.staff)
    for _attempt in range(5):
        await page_login(client, person.user.email, "wrong-password")
    await logged_in(client, admin)
    items = todo((await client.get("/dashboard")).text)
    assert [(k, link) for _u, k, link, _t in items] == [("unlock_account", f"/users/{person.user.id}")]
