"""Onboarding organisations: staff register one and invite its first owner with a one-time
link; sign-up's per-address limit stops floods but not the centre's own office."""

from __future__ import annotations

import datetime as dt
import re
from email import message_from_bytes, policy
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import AuditEvent
from core.identity.models import Role, User
from incubator.models import MemberInvitation, MemberRole, OrganisationMember
from tests.factories import make_centre, make_user
from tests.identity.test_accounts import Inbox, smtp_server  # noqa: F401  (the SMTP fixture)
from tests.incubator.helpers import make_org
from tests.test_pages import csrf_of, page_login

INVITATION = re.compile(r"/invitations/([A-Za-z0-9_-]{20,})")


async def _invite(client: httpx.AsyncClient, org_id: int, email: str) -> httpx.Response:
    page = await client.get(f"/organisations/{org_id}")
    return await client.post(
        f"/organisations/{org_id}/owner-invitation",
        data={"owner_email": email, "csrf_token": csrf_of(page.text)},
    )


async def _accept(client: httpx.AsyncClient, token: str, full_name: str = "新负责人") -> httpx.Response:
    page = await client.get(f"/invitations/{token}")
    assert page.status_code == 200, page.text
    return await client.post(
        f"/invitations/{token}",
        data={"full_name": full_name, "password": "owner-password-1", "csrf_token": csrf_of(page.text)},
    )


def _signup_form(centre_slug: str, n: int) -> dict[str, Any]:
    return {
        "centre": centre_slug,
        "full_name": f"注册人{n}",
        "email": f"signup{n}@example.org",
        "password": "long-enough-1",
        "name": f"社区组织{n}",
        "kind": "community_group",
        "legal_status": "filed",
    }


class TestOwnerInvitation:
    async def test_accepting_makes_the_owner_and_lands_on_the_dashboard(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
        org = await make_org(session, staff, name="玉林邻里互助会")
        await page_login(client, staff.user.email)
        invited = await _invite(client, org.id, "Owner@Example.org")
        assert invited.status_code == 200
        assert "只显示这一次" in invited.text
        token = INVITATION.search(invited.text)
        assert token is not None
        again = await client.get(f"/organisations/{org.id}")
        assert token.group(1) not in again.text
        client.cookies.clear()
        accepted = await _accept(client, token.group(1))
        assert accepted.status_code == 303
        assert accepted.headers["location"] == "/dashboard"
        dashboard = await client.get("/dashboard")
        assert dashboard.status_code == 200
        assert "玉林邻里互助会" in dashboard.text
        owner = (await session.execute(select(User).where(User.email == "owner@example.org"))).scalar_one()
        member = (
            await session.execute(select(OrganisationMember).where(OrganisationMember.user_id == owner.id))
        ).scalar_one()
        assert member.role is MemberRole.owner
        assert member.organisation_id == org.id
        client.cookies.clear()
        assert (await client.get(f"/invitations/{token.group(1)}")).status_code == 409
        actions = set(
            (
                await session.execute(
                    select(AuditEvent.action).where(
                        AuditEvent.subject_type == "organisation", AuditEvent.subject_id == str(org.id)
                    )
                )
            ).scalars()
        )
        assert {"organisation.invite_owner", "organisation.join"} <= actions

    async def test_an_organisation_with_an_owner_gets_no_second(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
        org = await make_org(session, staff)
        await page_login(client, staff.user.email)
        token = INVITATION.search((await _invite(client, org.id, "first@example.org")).text)
        second = INVITATION.search((await _invite(client, org.id, "second@example.org")).text)
        assert token is not None
        assert second is not None
        client.cookies.clear()
        assert (await _accept(client, token.group(1))).status_code == 303
        client.cookies.clear()
        page = await client.get(f"/invitations/{second.group(1)}")
        refused = await client.post(
            f"/invitations/{second.group(1)}",
            data={"full_name": "第二人", "password": "owner-password-2", "csrf_token": csrf_of(page.text)},
        )
        assert refused.status_code == 409
        await page_login(client, staff.user.email)
        profile = await client.get(f"/organisations/{org.id}")
        assert "这个组织已有负责人" in profile.text  # the disabled button's reason
        assert (await _invite(client, org.id, "third@example.org")).status_code == 409

    async def test_only_staff_invite_owners(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
        finance = await make_user(session, centre, Role.finance)
        org = await make_org(session, staff)
        await page_login(client, finance.user.email)
        page = await client.get("/dashboard")
        response = await client.post(
            f"/organisations/{org.id}/owner-invitation",
            data={"owner_email": "x@example.org", "csrf_token": csrf_of(page.text)},
        )
        assert response.status_code == 403
        assert (await session.execute(select(MemberInvitation))).first() is None

    async def test_an_expired_invitation_is_refused(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
        org = await make_org(session, staff)
        await page_login(client, staff.user.email)
        token = INVITATION.search((await _invite(client, org.id, "late@example.org")).text)
        assert token is not None
        await session.execute(
            update(MemberInvitation).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
        client.cookies.clear()
        page = await client.get(f"/invitations/{token.group(1)}")
        assert page.status_code == 409
        assert "已过期" in page.text

    async def test_with_email_the_link_is_sent_not_shown(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        app: FastAPI,
        smtp_server: tuple[int, Inbox],  # noqa: F811
    ) -> None:
        port, inbox = smtp_server
        app.state.settings = app.state.settings.model_copy(
            update={"smtp_host": "127.0.0.1", "smtp_port": port}
        )
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
        org = await make_org(session, staff)
        await page_login(client, staff.user.email)
        invited = await _invite(client, org.id, "mailed@example.org")
        assert invited.status_code == 200
        assert INVITATION.search(invited.text) is None
        assert "mailed@example.org" in invited.text
        assert len(inbox.messages) == 1
        message = message_from_bytes(inbox.messages[0].content, policy=policy.default)
        assert message["To"] == "mailed@example.org"
        assert INVITATION.search(message.get_content()) is not None


class TestSignupLimit:
    async def test_eleventh_signup_from_one_address_is_refused(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        centre = await make_centre(session)
        page = await client.get("/signup")
        answers = []
        for n in range(11):
            response = await client.post(
                "/signup", data={**_signup_form(centre.slug, n), "csrf_token": csrf_of(page.text)}
            )
            answers.append(response.status_code)
        assert answers[:10] == [303] * 10
        assert answers[10] == 429

    async def test_signed_in_staff_and_invitations_are_not_counted(
        self, client: httpx.AsyncClient, session: AsyncSession, app: FastAPI
    ) -> None:
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as stranger:
            page = await stranger.get("/signup")
            for n in range(10):
                data = {**_signup_form(centre.slug, n), "csrf_token": csrf_of(page.text)}
                assert (await stranger.post("/signup", data=data)).status_code == 303
            # the same address (the office's network) is now at its limit for strangers ...
            data = {**_signup_form(centre.slug, 99), "csrf_token": csrf_of(page.text)}
            assert (await stranger.post("/signup", data=data)).status_code == 429
        # ... but staff signed in there register organisations on,
        await page_login(client, staff.user.email)
        form = await client.get("/signup")
        for n in range(20, 23):
            data = {**_signup_form(centre.slug, n), "csrf_token": csrf_of(form.text)}
            assert (await client.post("/signup", data=data)).status_code == 303
        # and an invited owner accepts from the same address.
        org = await make_org(session, staff)
        token = INVITATION.search((await _invite(client, org.id, "office-owner@example.org")).text)
        assert token is not None
        client.cookies.clear()
        assert (await _accept(client, token.group(1))).status_code == 303
