"""The applicant's and the public's side: a verified organisation's legal status is locked,
attachments on the pages, what evaluators of a blind round see, objection references and the
public lookup, readiness before submission, and the safe return after login."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from api.web import safe_next
from core.identity.models import Role
from core.repository import PageParams
from evaluations.assignments import service as assignment_service
from evaluations.assignments.schemas import AssignmentCreate, DeclarationIn
from evaluations.rounds import service as round_service
from grants.applications import publicity
from grants.applications import service as applications
from grants.applications.schemas import ApplicationCreate, ApplicationIn, ConfirmEligibility
from grants.programmes.models import Programme
from incubator import service as incubator
from tests.factories import make_centre, make_user
from tests.grants.factories import applicant_org, application_payload, open_programme, submitted_application
from tests.incubator.test_pages import logged_in

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def test_legal_status_and_credit_code_need_staff_once_verified(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    owner, org = await applicant_org(session, centre, staff)  # verified, 备案: the community cap
    url = f"/api/v1/organisations/{org.id}"
    upgrade = await client.patch(
        url, json={"legal_status": "registered", "uscc": "52440106MJL0K3T50W"}, headers=owner.headers
    )
    assert upgrade.status_code == 422
    assert upgrade.json()["error"]["details"][0]["field"] == "legal_status"
    assert "孵化中心工作人员" in upgrade.json()["error"]["details"][0]["message"]
    assert (await client.get(url, headers=owner.headers)).json()["legal_status"] == "filed"
    code_only = await client.patch(url, json={"uscc": "52440106MJL0K3T50W"}, headers=owner.headers)
    assert code_only.status_code == 422
    assert code_only.json()["error"]["details"][0]["field"] == "uscc"
    # the same status again and the other fields are the member's to change
    same = await client.patch(url, json={"legal_status": "filed", "staff_count": 4}, headers=owner.headers)
    assert same.status_code == 200, same.text
    assert same.json()["staff_count"] == 4
    by_staff = await client.patch(
        url, json={"legal_status": "registered", "uscc": "52440106MJL0K3T50W"}, headers=staff.headers
    )
    assert by_staff.status_code == 200, by_staff.text
    assert by_staff.json()["legal_status"] == "registered"
    # before verification the member may still correct them (staff verify what they see)
    owner2, fresh = await applicant_org(session, centre, staff, name="新成立的读书会", verified=False)
    changed = await client.patch(
        f"/api/v1/organisations/{fresh.id}", json={"legal_status": "unregistered"}, headers=owner2.headers
    )
    assert changed.status_code == 200, changed.text


async def test_the_edit_page_shows_the_locked_status_with_the_reason(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    owner, org = await applicant_org(session, centre, staff)
    await logged_in(client, owner)
    page = await client.get(f"/organisations/{org.id}/edit")
    assert 'id="status-locked"' in page.text
    assert 'select id="f-legal_status"' not in page.text
    assert "由孵化中心工作人员修改并重新核验" in page.text


async def test_attachments_on_the_pages(client: httpx.AsyncClient, session: AsyncSession) -> None:
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    programme = await open_programme(session, staff)
    owner, org = await applicant_org(session, centre, staff)
    application = await applications.create_application(
        session,
        owner.principal,
        ApplicationCreate.model_validate(application_payload(programme, org)),
    )
    token = await logged_in(client, owner)
    base = f"/applications/{application.id}"
    refused = await client.post(
        f"{base}/attachments",
        data={"csrf_token": token, "label": "假文件"},
        files={"file": ("x.pdf", b"<html>not a pdf</html>", "application/pdf")},
    )
    assert refused.status_code == 303
    shown = await client.get(refused.headers["location"])
    assert "只接受 PDF、图片和 Office 文档" in shown.text or 'id="attach-error"' in shown.text
    for name, content, label in (("证书.pdf", PDF, "登记证书"), ("现场.png", PNG, "活动照片")):
        added = await client.post(
            f"{base}/attachments",
            data={"csrf_token": token, "label": label},
            files={"file": (name, content, "application/octet-stream")},
        )
        assert added.status_code == 303
        assert "msg=attached" in added.headers["location"]
    listed = await applications.list_attachments(session, owner.principal, application.id)
    assert [(a.label, a.content_type) for a in listed] == [
        ("登记证书", "application/pdf"),
        ("活动照片", "image/png"),
    ]
    pdf = await client.get(f"{base}/attachments/{listed[0].id}")
    assert pdf.content == PDF
    assert pdf.headers["content-disposition"].startswith("inline")
    detail = await client.get(base)
    assert "登记证书" in detail.text
    assert f'src="{base}/attachments/{listed[1].id}"' in detail.text
    removed = await client.post(f"{base}/attachments/{listed[1].id}/remove", data={"csrf_token": token})
    assert removed.status_code == 303
    assert [
        a.label for a in await applications.list_attachments(session, owner.principal, application.id)
    ] == ["登记证书"]
    # once submitted the proposal's files are fixed: no upload, no removal
    await applications.update_application(
        session,
        owner.principal,
        application.id,
        ApplicationIn.model_validate(
            {
                k: v
                for k, v in application_payload(programme, org).items()
                if k not in ("programme_id", "organisation_id")
            }
        ),
    )
    await applications.submit_application(session, owner.principal, application.id)
    late = await client.post(f"{base}/attachments/{listed[0].id}/remove", data={"csrf_token": token})
    assert "error" in late.headers["location"] or "attach_error" in late.headers["location"]
    assert len(await applications.list_attachments(session, owner.principal, application.id)) == 1
    api_remove = await client.delete(
        f"/api/v1/applications/{application.id}/attachments/{listed[0].id}", headers=owner.headers
    )
    assert api_remove.status_code == 409
    # staff read them; another centre's staff learn nothing
    staff_sees = await client.get(f"/api/v1/applications/{application.id}/attachments", headers=staff.headers)
    assert [a["label"] for a in staff_sees.json()] == ["登记证书"]
    stranger = await make_user(session, await make_centre(session), Role.staff)
    assert (
        await client.get(f"/api/v1/applications/{application.id}/attachments", headers=stranger.headers)
    ).status_code == 404


async def test_a_blind_evaluator_reads_the_proposal_without_the_applicant(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    from grants.applications import review

    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    evaluator = await make_user(session, centre, Role.evaluator)
    other = await make_user(session, centre, Role.evaluator)
    programme: Programme = await open_programme(session, staff, blind_review=True)
    owner, org = await applicant_org(session, centre, staff, name="芳华青少年服务中心")
    application = await submitted_application(session, programme, owner, org, title="青少年议事会")
    await applications.confirm_eligibility(session, staff.principal, application.id, ConfirmEligibility())
    started = await review.start_review(session, staff.principal, programme.id)
    assert started.review_round_id is not None
    subjects = await round_service.list_subjects(session, staff.principal, started.review_round_id)
    assignment = await assignment_service.assign(
        session,
        staff.principal,
        started.review_round_id,
        AssignmentCreate(subject_id=subjects[0].id, evaluator_id=evaluator.user.id),
        incubator.member_user_ids,
    )
    await assignment_service.declare(
        session, evaluator.principal, assignment.id, DeclarationIn(has_conflict=False)
    )
    await logged_in(client, evaluator)
    page = await client.get(f"/applications/{application.id}")
    assert page.status_code == 200, page.text[-3000:]
    assert "青少年议事会" in page.text
    assert 'id="needs"' in page.text
    assert "芳华青少年服务中心" not in page.text
    assert 'id="blind-note"' in page.text
    assert "@" not in re.sub(
        r"<script.*?</script>", "", page.text.split('id="application-timeline"')[1].split("</ul>")[0]
    )
    client.cookies.clear()
    await logged_in(client, other)  # not assigned: nothing to see
    assert (await client.get(f"/applications/{application.id}")).status_code == 404
    client.cookies.clear()
    for reader in (staff, owner):  # the centre and the applicant itself see who applied
        await logged_in(client, reader)
        page = await client.get(f"/applications/{application.id}")
        assert '<span id="applicant-name">芳华青少年服务中心</span>' in page.text
        assert 'id="blind-note"' not in page.text
        client.cookies.clear()


async def test_objection_reference_and_public_lookup(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    refs = {publicity.new_reference() for _ in range(200)}
    assert len(refs) == 200
    assert all(re.fullmatch(r"YY-[A-Z2-9]{5}-[A-Z2-9]{5}", r) for r in refs)
    assert publicity.normalise_reference(" yy abcde fghjk ") == "YY-ABCDE-FGHJK"
    assert publicity.normalise_reference("YY-ABC") == ""
    missing = await client.get("/public/objections", params={"reference": "YY-AAAAA-BBBBB"})
    assert missing.status_code == 404
    assert "没有这个编号的异议" in missing.text


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (
            "/applications/new?programme_id=2&organisation_id=3",
            "/applications/new?programme_id=2&organisation_id=3",
        ),
        ("/applications/5/edit", "/applications/5/edit"),
        ("//evil.example/x", "/dashboard"),
        ("/\\evil.example", "/dashboard"),
        ("/%2F%2Fevil.example", "/dashboard"),
        ("https://evil.example/", "/dashboard"),
        ("javascript:alert(1)", "/dashboard"),
        ("/ok\r\nSet-Cookie: x=1", "/dashboard"),
        ("applications", "/dashboard"),
        ("", "/dashboard"),
        (None, "/dashboard"),
    ],
)
def test_next_is_a_path_on_this_site(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


async def test_an_expired_session_returns_to_the_same_form(client: httpx.AsyncClient) -> None:
    form = await client.get("/applications/new?programme_id=2&organisation_id=3")
    assert form.status_code == 303
    assert (
        form.headers["location"]
        == "/login?next=%2Fapplications%2Fnew%3Fprogramme_id%3D2%26organisation_id%3D3"
    )
    login = await client.get(form.headers["location"])
    assert 'value="/applications/new?programme_id=2&amp;organisation_id=3"' in login.text
    evil = await client.get("/login", params={"next": "//evil.example/"})
    assert 'name="next" value="/dashboard"' in evil.text


async def test_submitting_from_the_form_checks_first(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    programme = await open_programme(session, staff)
    owner, org = await applicant_org(session, centre, staff)
    token = await logged_in(client, owner)
    data = {
        "csrf_token": token,
        "intent": "submit",
        "programme_id": programme.id,
        "organisation_id": org.id,
        "title": "长者互助项目",
        "line-0-category": "personnel",
        "line-0-item": "社工补贴",
        "line-0-unit_price": "5000",
        "line-0-quantity": "2",
        "line-0-funded_by": "grant",
        "line-1-category": "activities",
        "line-1-item": "茶话会",
        "line-1-unit_price": "0",
        "line-1-quantity": "1",
        "line-1-funded_by": "grant",
    }
    response = await client.post("/applications/new", data=data)
    assert response.status_code == 422
    assert "草稿已保存" in response.text
    assert 'id="f-needs-error"' in response.text  # the narrative is required to submit
    assert 'id="budget_lines-1-error"' in response.text  # the 0.00 line, on its own row
    assert 'id="budget_lines-0-error"' in response.text  # personnel over the cap, on its row
    (saved,) = (await applications.list_applications(session, owner.principal, PageParams())).items
    assert saved.state.value == "draft"  # saved, not submitted
