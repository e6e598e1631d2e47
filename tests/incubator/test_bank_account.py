"""The account grants are paid to: the organisation's owners keep it on the profile form,
every change is audited, and a change after the centre verified the organisation is shown
to the finance officer beside the payment."""

from __future__ import annotations

from decimal import Decimal
from html.parser import HTMLParser

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import AuditEvent
from core.clock import today
from core.identity.models import Role
from grants.awards import service as awards
from grants.awards.schemas import SignIn
from grants.disbursements import service as disbursements
from grants.disbursements.schemas import DisbursementCreate
from incubator import service as incubator
from incubator.models import MemberRole, Organisation, OrganisationMember
from tests.factories import Actor, make_user
from tests.grants.factories import make_award, make_cast
from tests.incubator.test_pages import logged_in


class _Form(HTMLParser):
    """What a browser would send for the form ``form_id`` as it stands."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside, self.fields = form_id, False, list[tuple[str, str]]()
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        name = a.get("name", "")
        if tag == "input" and name:
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((name, a.get("value", "")))
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value", "")))
        elif tag == "textarea":
            self._textarea = name
            self.fields.append((name, ""))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.fields[-1] = (self._textarea, self.fields[-1][1] + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_of(html: str, form_id: str) -> dict[str, list[str]]:
    parser = _Form(form_id)
    parser.feed(html)
    sent: dict[str, list[str]] = {}
    for name, value in parser.fields:
        sent.setdefault(name, []).append(value)
    return sent


async def _edit(client: httpx.AsyncClient, org_id: int, **changes: str) -> httpx.Response:
    page = await client.get(f"/organisations/{org_id}/edit")
    assert page.status_code == 200
    sent = form_of(page.text, "organisation-form")
    for name, value in changes.items():
        sent[name] = [value]
    return await client.post(f"/organisations/{org_id}/edit", data=sent)


async def _bank_events(session: AsyncSession, org_id: int) -> list[AuditEvent]:
    rows = await session.execute(
        select(AuditEvent)
        .where(AuditEvent.action == "organisation.bank_account", AuditEvent.subject_id == str(org_id))
        .order_by(AuditEvent.id)
    )
    return list(rows.scalars())


async def _finance_row(client: httpx.AsyncClient, finance: Actor, disbursement_id: int) -> str:
    client.cookies.clear()  # log in afresh as finance
    await logged_in(client, finance)
    queue = await client.get("/finance")
    return queue.text.split(f'data-disbursement="{disbursement_id}"')[1].split("</tr>")[0]


async def test_owner_changes_the_account_and_finance_is_told(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cast = await make_cast(session)
    award = await make_award(session, cast, amount=Decimal("30000.00"))
    await awards.sign_award(session, cast.staff.principal, award.id, SignIn(signed_on=today()))
    d = await disbursements.request_disbursement(
        session, cast.staff.principal, DisbursementCreate(tranche_id=award.tranches[0].id)
    )
    await logged_in(client, cast.grantee)
    form = await client.get(f"/organisations/{cast.org.id}/edit")
    assert 'id="bank-account"' in form.text
    assert "开户银行" in form.text

    partial = await _edit(client, cast.org.id, bank_account_no="6217 0038 1000 2233")
    assert partial.status_code == 422
    assert 'data-field="bank_name"' in partial.text
    assert "请同时填写开户银行、户名和账号" in partial.text
    assert 'value="6217 0038 1000 2233"' in partial.text  # what was typed is kept
    assert await _bank_events(session, cast.org.id) == []

    first = {"bank_name": "成都银行玉林支行", "bank_account_name": cast.org.name}
    saved = await _edit(client, cast.org.id, **first, bank_account_no="6217 0038 1000 1111")
    assert saved.status_code == 303, saved.text
    again = await _edit(client, cast.org.id)  # the form sent back unchanged records nothing
    assert again.status_code == 303
    events = await _bank_events(session, cast.org.id)
    assert len(events) == 1
    assert events[0].after is not None
    assert events[0].after["bank_account_no"] == "****1111"  # the trail never holds the number
    assert events[0].after["verified"] is False
    row = await _finance_row(client, cast.finance, d.id)
    assert "6217 0038 1000 1111" in row
    assert "bank-changed" not in row  # given before the centre verified the organisation

    await incubator.verify_organisation(session, cast.staff.principal, cast.org.id)
    client.cookies.clear()
    await logged_in(client, cast.grantee)
    changed = await _edit(client, cast.org.id, bank_account_no="6217 0038 1000 2233")
    assert changed.status_code == 303, changed.text
    org = await session.get(Organisation, cast.org.id)
    assert org is not None
    await session.refresh(org)
    assert org.bank_account_no == "6217 0038 1000 2233"
    latest = (await _bank_events(session, cast.org.id))[-1]
    assert latest.before is not None
    assert latest.after is not None
    assert (latest.before["bank_account_no"], latest.after["bank_account_no"]) == ("****1111", "****2233")
    assert latest.after["verified"] is True
    row = await _finance_row(client, cast.finance, d.id)
    assert "6217 0038 1000 2233" in row
    assert "该组织在通过审核后变更了收款账户" in row
    assert cast.grantee.user.full_name in row


async def test_only_owners_and_staff_may_change_it(client: httpx.AsyncClient, session: AsyncSession) -> None:
    cast = await make_cast(session)
    member = await make_user(session, cast.centre, Role.applicant)
    session.add(
        OrganisationMember(organisation_id=cast.org.id, user_id=member.user.id, role=MemberRole.member)
    )
    await session.flush()
    await logged_in(client, member)
    form = await client.get(f"/organisations/{cast.org.id}/edit")
    assert form.status_code == 200
    assert 'id="bank-account"' not in form.text
    refused = await client.patch(
        f"/api/v1/organisations/{cast.org.id}",
        json={"bank_name": "某银行", "bank_account_name": "某人", "bank_account_no": "6217003810009999"},
        headers=member.headers,
    )
    assert refused.status_code == 403
    assert "所有者" in refused.json()["error"]["message"]
    by_staff = await client.patch(
        f"/api/v1/organisations/{cast.org.id}",
        json={
            "bank_name": "成都银行",
            "bank_account_name": cast.org.name,
            "bank_account_no": "6217003810001111",
        },
        headers=cast.staff.headers,
    )
    assert by_staff.status_code == 200, by_staff.text
    bad = await client.patch(
        f"/api/v1/organisations/{cast.org.id}",
        json={"bank_account_no": "62-17"},
        headers=cast.staff.headers,
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "bank_account_no"
    assert len(await _bank_events(session, cast.org.id)) == 1
