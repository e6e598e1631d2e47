"""Short words that mean different things in different places keep a translation each
(pgettext contexts): "Due", "Requested", "Approved", "Open"."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from api.pages.activity import link_label
from core.i18n import gettext, pgettext, use_locale
from tests.grants.factories import applicant_org, make_cast, open_programme, submitted_application
from tests.incubator.test_pages import logged_in


@pytest.mark.parametrize(
    ("context", "msgid", "chinese", "without_context"),
    [
        ("review deadline", "Due", "截止时间", "应拨付"),
        ("amount", "Requested", "申请金额", "已申请拨付"),
        ("amount", "Approved", "立项金额", "已立项"),
        ("link", "Open", "打开", "进行中"),
        ("objection", "Open", "待处理", "进行中"),
    ],
)
def test_each_meaning_has_its_own_translation(
    context: str, msgid: str, chinese: str, without_context: str
) -> None:
    with use_locale("zh"):
        assert pgettext(context, msgid) == chinese
        assert gettext(msgid) == without_context
    with use_locale("en"):
        assert pgettext(context, msgid) == msgid


def test_a_link_says_open_not_under_way() -> None:
    with use_locale("zh"):
        assert link_label("/somewhere-else") == "打开"


async def test_programme_page_heads_its_amount_columns_as_amounts(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cast = await make_cast(session)
    programme = await open_programme(session, cast.staff)
    owner, org = await applicant_org(session, cast.centre, cast.staff)
    await submitted_application(session, programme, owner, org)
    await logged_in(client, cast.staff)
    page = await client.get(f"/programmes/{programme.id}")
    assert page.status_code == 200
    table = page.text.split('id="programme-applications"')[1].split("</thead>")[0]
    assert '<th class="num">申请金额</th>' in table
    assert '<th class="num">立项金额</th>' in table
    assert "已申请拨付" not in table
