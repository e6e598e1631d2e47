"""Organisations: validation, isolation, verification, bars, members, signup, export."""

from __future__ import annotations

import io

import httpx
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import Role
from tests.factories import make_centre, make_user
from tests.incubator.helpers import VALID_USCC, VALID_USCC_2, make_org, make_owner, org_payload, post_ok


class TestCreate:
    async def test_anonymous(self, client: httpx.AsyncClient) -> None:
        assert (await client.post("/api/v1/organisations", json=org_payload())).status_code == 401

    async def test_wrong_role(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        applicant = await make_user(session, await make_centre(session), Role.applicant)
        response = await client.post("/api/v1/organisations", json=org_payload(), headers=applicant.headers)
        assert response.status_code == 403

    async def test_valid(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        staff = await make_user(session, await make_centre(session), Role.staff)
        body = await post_ok(
            client,
            "/api/v1/organisations",
            staff,
            org_payload(legal_status="registered", uscc=VALID_USCC.lower(), kind="social_service"),
        )
        assert body["uscc"] == VALID_USCC
        assert body["verified"] is False
        assert body["service_fields"] == ["elderly", "volunteering"]

    async def test_registered_needs_a_code(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        staff = await make_user(session, await make_centre(session), Role.staff)
        response = await client.post(
            "/api/v1/organisations", json=org_payload(legal_status="registered"), headers=staff.headers
        )
        assert response.status_code == 422
        assert response.json()["error"]["details"] == [
            {"field": "uscc", "message": "登记的社会组织须填写统一社会信用代码"}
        ]

    async def test_bad_code_names_the_rule(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        staff = await make_user(session, await make_centre(session), Role.staff)
        response = await client.post(
            "/api/v1/organisations",
            json=org_payload(legal_status="registered", uscc="91350100M000100Y4Z"),
            headers=staff.headers,
        )
        assert response.status_code == 422
        detail = response.json()["error"]["details"][0]
        assert detail["field"] == "uscc"
        assert "Z" in detail["message"]
        assert "不允许" in detail["message"]

    async def test_code_unique_per_centre(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        centre_a, centre_b = await make_centre(session), await make_centre(session)
        staff_a = await make_user(session, centre_a, Role.staff)
        staff_b = await make_user(session, centre_b, Role.staff)
        registered = org_payload(legal_status="registered", uscc=VALID_USCC)
        await post_ok(client, "/api/v1/organisations", staff_a, registered)
        clash = await client.post("/api/v1/organisations", json=registered, headers=staff_a.headers)
        assert clash.status_code == 422
        assert clash.json()["error"]["details"][0]["field"] == "uscc"
        # another centre may hold an organisation with the same code
        await post_ok(client, "/api/v1/organisations", staff_b, registered)

    async def test_nothing_half_stored(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        staff = await make_user(session, await make_centre(session), Role.staff)
        await client.post("/api/v1/organisations", json=org_payload(staff_count=-1), headers=staff.headers)
        listed = await client.get("/api/v1/organisations", headers=staff.headers)
        assert listed.json()["total"] == 0


class TestIsolation:
    async def test_applicant_sees_only_their_own(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
        owner_a, org_a = await make_owner(session, centre, staff, name="甲组织")
        _owner_b, org_b = await make_owner(session, centre, staff, name="乙组织")
        assert (
            await client.get(f"/api/v1/organisations/{org_a.id}", headers=owner_a.headers)
        ).status_code == 200
        response = await client.get(f"/api/v1/organisations/{org_b.id}", headers=owner_a.headers)
        assert response.status_code == 404
        listed = (await client.get("/api/v1/organisations", headers=owner_a.headers)).json()
        assert [o["name"] for o in listed["items"]] == ["甲组织"]
        edit = await client.patch(
            f"/api/v1/organisations/{org_b.id}", json={"staff_count": 9}, headers=owner_a.headers
        )
        assert edit.status_code == 404

    async def test_other_centre_is_not_found(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        centre_a, centre_b = await make_centre(session), await make_centre(session)
        staff_a = await make_user(session, centre_a, Role.staff)
        staff_b = await make_user(session, centre_b, Role.staff)
        org_b = await make_org(session, staff_b)
        assert (
            await client.get(f"/api/v1/organisations/{org_b.id}", headers=staff_a.headers)
        ).status_code == 404
        verify = await client.post(f"/api/v1/organisations/{org_b.id}/verify", headers=staff_a.headers)
        assert verify.status_code == 404

    async def test_owner_edits_profile(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
        owner, org = await make_owner(session, centre, staff)
        response = await client.patch(
            f"/api/v1/organisations/{org.id}",
            json={"volunteer_count": 55, "legal_status": "registered", "uscc": VALID_USCC_2},
            headers=owner.headers,
        )
        assert response.status_code == 200
        assert response.json()["volunteer_count"] == 55
        assert response.json()["legal_status"] == "registered"
        audit = await client.get(
            f"/api/v1/audit-events?subject_type=organisation&subject_id={org.id}", headers=staff.headers
        )
        update = next(e for e in audit.json()["items"] if e["action"] == "organisation.update")
        assert update["before"]["volunteer_count"] == 40
        assert update["after"]["volunteer_count"] == 55


class TestVerifyAndBar:
    async def test_verify_once(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
        org = await make_org(session, staff)
        body = await post_ok(client, f"/api/v1/organisations/{org.id}/verify", staff, {})
        assert body["verified"] is True
        again = await client.post(f"/api/v1/organisations/{org.id}/verify", headers=staff.headers)
        assert again.status_code == 409
        assert again.json()["error"]["message"] == "该组织已通过审核"

    async def test_bar_and_lift(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
        owner, organisation = await make_owner(session, centre, staff)
        org_id = organisation.id
        refused = await client.post(
            f"/api/v1/organisations/{org_id}/bar",
            json={"until": "2030-01-01", "reason": "结项评估不合格"},
            headers=owner.headers,
        )
        assert refused.status_code == 403
        body = await post_ok(
            client,
            f"/api/v1/organisations/{org_id}/bar",
            staff,
            {"until": "2030-01-01", "reason": "结项评估不合格"},
        )
        assert body["barred_until"] == "2030-01-01"
        assert body["bar_reason"] == "结项评估不合格"
        past = await client.post(
            f"/api/v1/organisations/{org_id}/bar",
            json={"until": "2001-01-01", "reason": "x理由"},
            headers=staff.headers,
        )
        assert past.status_code == 422
        assert past.json()["error"]["details"][0]["field"] == "until"
        blank = await client.post(
            f"/api/v1/organisations/{org_id}/lift-bar", json={"reason": "   "}, headers=staff.headers
        )
        assert blank.status_code == 422  # blanks are no reason, as on the form
        assert blank.json()["error"]["details"][0]["field"] == "reason"
        lifted = await post_ok(
            client, f"/api/v1/organisations/{org_id}/lift-bar", staff, {"reason": "整改完成"}
        )
        assert lifted["barred_until"] is None


class TestMembers:
    async def test_invite_accept_remove(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
        owner, org = await make_owner(session, centre, staff)
        invitation = await post_ok(
            client, f"/api/v1/organisations/{org.id}/members", owner, {"email": "helper@example.org"}
        )
        token = invitation["accept_url"].rsplit("/", 1)[1]
        accepted = await client.post(
            f"/api/v1/invitations/{token}/accept", json={"full_name": "小帮手", "password": "helper-password"}
        )
        assert accepted.status_code == 200
        reused = await client.post(
            f"/api/v1/invitations/{token}/accept", json={"full_name": "小帮手", "password": "helper-password"}
        )
        assert reused.status_code == 409
        members = (await client.get(f"/api/v1/organisations/{org.id}/members", headers=owner.headers)).json()
        assert sorted((m["email"], m["role"]) for m in members) == [
            ("helper@example.org", "member"),
            (owner.user.email, "owner"),
        ]
        # the new member logs in and sees the organisation
        token_response = await client.post(
            "/api/v1/auth/token", data={"username": "helper@example.org", "password": "helper-password"}
        )
        member_headers = {"Authorization": f"Bearer {token_response.json()['access_token']}"}
        assert (
            await client.get(f"/api/v1/organisations/{org.id}", headers=member_headers)
        ).status_code == 200
        # a member cannot manage members; the owner can remove them
        helper_id = accepted.json()["user_id"]
        denied = await client.delete(
            f"/api/v1/organisations/{org.id}/members/{owner.user.id}", headers=member_headers
        )
        assert denied.status_code == 403
        removed = await client.delete(
            f"/api/v1/organisations/{org.id}/members/{helper_id}", headers=owner.headers
        )
        assert removed.status_code == 204
        assert (
            await client.get(f"/api/v1/organisations/{org.id}", headers=member_headers)
        ).status_code == 404

    async def test_owner_cannot_be_removed(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
        owner, org = await make_owner(session, centre, staff)
        response = await client.delete(
            f"/api/v1/organisations/{org.id}/members/{owner.user.id}", headers=owner.headers
        )
        assert response.status_code == 409


class TestSignup:
    async def test_self_service_signup_then_staff_verify(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
        response = await client.post(
            "/api/v1/organisations/signup",
            json={
                "centre": centre.slug,
                "full_name": "陈大勇",
                "email": "chen@example.org",
                "password": "a-good-password",
                "organisation": org_payload(name="芳草地读书会"),
            },
        )
        assert response.status_code == 201, response.text
        org_id = response.json()["organisation"]["id"]
        assert response.json()["organisation"]["verified"] is False
        pending = await client.get("/api/v1/organisations?verified=false", headers=staff.headers)
        assert [o["name"] for o in pending.json()["items"]] == ["芳草地读书会"]
        await post_ok(client, f"/api/v1/organisations/{org_id}/verify", staff, {})

    async def test_unknown_centre(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/api/v1/organisations/signup",
            json={
                "centre": "nowhere",
                "full_name": "陈大勇",
                "email": "c@example.org",
                "password": "a-good-password",
                "organisation": org_payload(),
            },
        )
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["field"] == "centre"


class TestListAndExport:
    async def test_filters_and_export(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
        await make_org(
            session, staff, name="玉林长者之家", service_fields=["elderly"], community="玉林北路社区"
        )
        await make_org(
            session,
            staff,
            name="芳华青少年服务中心",
            service_fields=["youth"],
            community="芳草社区",
            legal_status="registered",
            uscc=VALID_USCC,
            kind="social_service",
        )
        await make_org(
            session, staff, name="绿色家园环保队", service_fields=["environment"], community="玉林北路社区"
        )

        async def names(query: str) -> list[str]:
            response = await client.get(f"/api/v1/organisations?{query}", headers=staff.headers)
            return [o["name"] for o in response.json()["items"]]

        assert await names("community=玉林北路社区") == ["玉林长者之家", "绿色家园环保队"]
        assert await names("service_field=youth") == ["芳华青少年服务中心"]
        assert await names("legal_status=registered") == ["芳华青少年服务中心"]
        assert await names("q=环保") == ["绿色家园环保队"]
        # A list's statement is built once per set of filters given; other values reuse it.
        assert await names("community=芳草") == ["芳华青少年服务中心"]
        assert await names("service_field=environment") == ["绿色家园环保队"]
        assert await names("q=芳华") == ["芳华青少年服务中心"]
        assert await names("q=100%25") == []  # a wildcard is taken literally
        page = (await client.get("/api/v1/organisations?page_size=2&page=2", headers=staff.headers)).json()
        assert (page["total"], len(page["items"]), page["page"]) == (3, 1, 2)

        export = await client.get(
            "/api/v1/organisations/export.xlsx?community=玉林北路社区", headers=staff.headers
        )
        assert export.status_code == 200
        sheet = load_workbook(io.BytesIO(export.content)).active
        assert sheet is not None
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][:5] == ("名称", "类型", "法律状态", "统一社会信用代码", "服务领域")
        assert [r[0] for r in rows[1:]] == ["玉林长者之家", "绿色家园环保队"]
        assert rows[1][1] == "社区社会组织"
        assert rows[1][2] == "已备案"
        assert rows[1][4] == "养老"
        assert "13800001111" not in str(rows)  # phone numbers stay out of exports

    async def test_export_is_staff_only(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        applicant = await make_user(session, await make_centre(session), Role.applicant)
        assert (
            await client.get("/api/v1/organisations/export.xlsx", headers=applicant.headers)
        ).status_code == 403
