"""Login, tokens, throttling, roles and the 404-before-403 rule, over the API."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import AuthToken, Role, User, UserRole
from tests.factories import PASSWORD, make_centre, make_user


async def _login(client: httpx.AsyncClient, email: str, password: str, **headers: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/token", data={"username": email, "password": password}, headers=headers or None
    )


class TestToken:
    async def test_valid(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff, Role.finance)
        response = await _login(client, staff.user.email, PASSWORD)
        assert response.status_code == 200
        token = response.json()["access_token"]
        me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
        assert me.json()["roles"] == ["finance", "staff"]
        assert me.json()["centre"]["id"] == centre.id

    async def test_wrong_password_is_refused_in_chinese(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        staff = await make_user(session, await make_centre(session), Role.staff)
        response = await _login(client, staff.user.email, "wrong-password")
        assert response.status_code == 401
        assert response.json()["error"] == {
            "code": "not_authenticated",
            "message": "邮箱或密码错误",
            "details": [],
        }

    async def test_english_on_request(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        staff = await make_user(session, await make_centre(session), Role.staff)
        response = await _login(
            client, staff.user.email, "wrong-password", **{"Accept-Language": "en-GB,en;q=0.9"}
        )
        assert response.json()["error"]["message"] == "Wrong email or password"

    async def test_throttled_per_account(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        staff = await make_user(session, await make_centre(session), Role.staff)
        for _ in range(5):
            assert (await _login(client, staff.user.email, "nope-nope")).status_code == 401
        # Even the right password is refused while the account is throttled.
        response = await _login(client, staff.user.email, PASSWORD)
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "900"
        assert "该账号登录失败次数过多" in response.json()["error"]["message"]

    async def test_throttled_per_address(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        centre = await make_centre(session)
        for i in range(20):
            assert (await _login(client, f"nobody{i}@example.org", "guess-guess")).status_code == 401
        victim = await make_user(session, centre, Role.staff)
        response = await _login(client, victim.user.email, PASSWORD)
        assert response.status_code == 429
        assert "该地址" in response.json()["error"]["message"]

    async def test_revoked_token_is_refused(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        staff = await make_user(session, await make_centre(session), Role.staff)
        assert (await client.post("/api/v1/auth/revoke", headers=staff.headers)).json() == {"revoked": True}
        response = await client.get("/api/v1/me", headers=staff.headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"

    async def test_a_removed_role_or_a_deactivated_account_stops_at_the_next_request(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        """The principal is read afresh on every request: nothing cached outlives a change."""
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff, Role.finance)
        assert (await client.get("/api/v1/me", headers=staff.headers)).json()["roles"] == ["finance", "staff"]
        await session.execute(
            delete(UserRole).where(UserRole.user_id == staff.user.id, UserRole.role == Role.finance)
        )
        assert (await client.get("/api/v1/me", headers=staff.headers)).json()["roles"] == ["staff"]
        await session.execute(update(User).where(User.id == staff.user.id).values(is_active=False))
        assert (await client.get("/api/v1/me", headers=staff.headers)).status_code == 401

    async def test_expired_token_is_refused(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        staff = await make_user(session, await make_centre(session), Role.staff)
        await session.execute(
            update(AuthToken)
            .where(AuthToken.user_id == staff.user.id)
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
        )
        assert (await client.get("/api/v1/me", headers=staff.headers)).status_code == 401

    async def test_tokens_are_stored_hashed(self, session: AsyncSession) -> None:
        staff = await make_user(session, await make_centre(session), Role.staff)
        stored = (await session.execute(AuthToken.__table__.select())).all()
        assert all(row.token_hash != staff.token and len(row.token_hash) == 64 for row in stored)


class TestRoles:
    async def test_anonymous(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/audit-events")
        assert response.status_code == 401
        assert response.json()["error"]["message"] == "请先登录"

    async def test_applicant_cannot_reach_staff_routes(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        applicant = await make_user(session, await make_centre(session), Role.applicant)
        response = await client.get("/api/v1/audit-events", headers=applicant.headers)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"

    async def test_staff_cannot_reach_admin_routes(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        staff = await make_user(session, await make_centre(session), Role.staff)
        assert (await client.get("/api/v1/users", headers=staff.headers)).status_code == 403

    async def test_other_centres_records_are_not_found(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        centre_a, centre_b = await make_centre(session), await make_centre(session)
        staff_a = await make_user(session, centre_a, Role.staff)
        staff_b = await make_user(session, centre_b, Role.staff)
        # user creation in centre B wrote an audit event belonging to centre B
        events_b = (await client.get("/api/v1/audit-events", headers=staff_b.headers)).json()["items"]
        event_b = next(e for e in events_b if e["centre_id"] == centre_b.id)
        assert (
            await client.get(f"/api/v1/audit-events/{event_b['id']}", headers=staff_b.headers)
        ).status_code == 200
        response = await client.get(f"/api/v1/audit-events/{event_b['id']}", headers=staff_a.headers)
        assert response.status_code == 404
        listed_a = (await client.get("/api/v1/audit-events", headers=staff_a.headers)).json()["items"]
        assert all(e["centre_id"] == centre_a.id for e in listed_a)

    async def test_district_user_reads_across_centres(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        centre_a, centre_b = await make_centre(session), await make_centre(session)
        await make_user(session, centre_a, Role.staff)
        await make_user(session, centre_b, Role.staff)
        district = await make_user(session, None, Role.staff, district=True)
        items = (await client.get("/api/v1/audit-events?page_size=200", headers=district.headers)).json()[
            "items"
        ]
        assert {centre_a.id, centre_b.id} <= {e["centre_id"] for e in items}


class TestAdmin:
    async def test_create_user_validation_names_the_field(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        admin = await make_user(session, await make_centre(session), Role.admin)
        response = await client.post(
            "/api/v1/users",
            json={
                "email": "not-an-email",
                "password": "short",
                "roles": ["staff"],
                "centre_id": admin.user.centre_id,
            },
            headers=admin.headers,
        )
        assert response.status_code == 422
        details = {d["field"]: d["message"] for d in response.json()["error"]["details"]}
        assert details["email"] == "邮箱: 邮箱地址格式不正确"
        assert details["password"] == "密码: 过短（至少 8 个字符）"

    async def test_create_user_and_audit(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        admin = await make_user(session, await make_centre(session), Role.admin)
        response = await client.post(
            "/api/v1/users",
            json={
                "email": "New@Example.org",
                "password": "long-enough-1",
                "roles": ["evaluator"],
                "centre_id": admin.user.centre_id,
            },
            headers=admin.headers,
        )
        assert response.status_code == 201
        assert response.json()["email"] == "new@example.org"
        events = (await client.get("/api/v1/audit-events?subject_type=user", headers=admin.headers)).json()[
            "items"
        ]
        assert events[0]["action"] == "user.create"
        assert events[0]["actor"] == admin.user.email
        duplicate = await client.post(
            "/api/v1/users",
            json={
                "email": "new@example.org",
                "password": "long-enough-1",
                "roles": ["staff"],
                "centre_id": admin.user.centre_id,
            },
            headers=admin.headers,
        )
        assert duplicate.status_code == 422
        assert duplicate.json()["error"]["details"][0]["field"] == "email"


async def test_body_limit(client: httpx.AsyncClient, settings: object) -> None:
    response = await client.post(
        "/api/v1/auth/token", content=b"x" * (26 * 1024 * 1024), headers={"content-type": "text/plain"}
    )
    assert response.status_code == 413


async def test_health(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"] in {"sqlite", "postgresql"}
