"""Demo grant cycle: a 2026 venture call that is open now, and a 2025 micro-grant programme
that went all the way through review, decision and publicity to awards."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from core.clock import SHANGHAI, today
from core.identity import repository as identity_queries
from core.identity import service as identity
from core.identity.models import Role
from core.identity.principal import Principal
from core.identity.schemas import UserCreate
from demo import repository as queries
from demo.loader import DEMO_PASSWORD, DemoContext, demo_step
from evaluations.assignments import service as assignment_service
from evaluations.assignments.schemas import AssignmentCreate, DeclarationIn
from evaluations.results import service as result_service
from evaluations.rounds import service as round_service
from evaluations.rubrics import repository as rubric_queries
from evaluations.rubrics import service as rubric_service
from evaluations.rubrics.models import RoundPurpose
from evaluations.sheets import service as sheet_service
from evaluations.sheets.schemas import ScoreItemIn, SheetIn
from grants.applications import publicity, review
from grants.applications import service as application_service
from grants.applications.models import Application
from grants.applications.schemas import ApplicationCreate, ConfirmEligibility, DecideIn, DecisionRow
from grants.programmes import service as programmes
from grants.programmes.schemas import NeedIn, ProgrammeCreate, TopicIn
from incubator import service as incubator
from incubator.models import MemberRole, Organisation, OrganisationMember


def _at(year: int, month: int, day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=SHANGHAI)


def _lines(personnel: str, activities: str, materials: str, cofunding: str) -> list[dict[str, str]]:
    return [
        {
            "category": "personnel",
            "item": "项目社工劳务补贴",
            "unit_price": personnel,
            "quantity": "1",
            "funded_by": "grant",
        },
        {
            "category": "activities",
            "item": "社区活动组织",
            "unit_price": activities,
            "quantity": "1",
            "funded_by": "grant",
        },
        {
            "category": "materials",
            "item": "活动物资",
            "unit_price": materials,
            "quantity": "1",
            "funded_by": "grant",
        },
        {
            "category": "venue",
            "item": "场地及志愿者保险（自筹）",
            "unit_price": cofunding,
            "quantity": "1",
            "funded_by": "cofunding",
        },
    ]


async def _owner(context: DemoContext, org: Organisation, email: str, name: str) -> Principal:
    """The person who acts for a demo organisation (the demo applicant for the first one)."""
    session = context.session
    existing = await queries.owner_id(session, org.id)
    if existing is None:
        user = await identity.create_user(
            session,
            UserCreate(
                email=email,
                password=DEMO_PASSWORD,
                full_name=name,
                roles=[Role.applicant],
                centre_id=context.centre.id,
            ),
            actor=None,
        )
        session.add(OrganisationMember(organisation_id=org.id, user_id=user.id, role=MemberRole.owner))
        await session.flush()
        existing = user.id
    user_obj = await identity_queries.get_user(session, existing)
    assert user_obj is not None
    return identity.principal_of(user_obj)


async def _rubric_version(context: DemoContext, purpose: RoundPurpose) -> int:
    rubric = await rubric_queries.of_purpose_with_versions(context.session, context.centre.id, purpose)
    return rubric.versions[-1].id


def _programme(
    name: str, year: int, kind: str, version: int, opens: dt.datetime, closes: dt.datetime
) -> ProgrammeCreate:
    return ProgrammeCreate.model_validate(
        {
            "name": name,
            "year": year,
            "kind": kind,
            "total_budget": "500000.00" if kind == "venture" else "150000.00",
            "max_award_registered": "200000.00" if kind == "venture" else "50000.00",
            "max_award_community": "30000.00",
            "min_cofunding_pct": "10",
            "management_fee_cap_pct": "10",
            "personnel_cap_pct": "30",
            "rubric_version_id": version,
            "min_reviewers": 3,
            "opens_at": opens.isoformat(),
            "closes_at": closes.isoformat(),
            "publicity_working_days": 5,
            "publicity_contact": "孵化中心 李老师，电话 028-8555 0101，玉林街道社区服务中心二楼",
            "description": "面向辖区社区社会组织和居民团队，围绕为老服务、青少年成长和社区治理开展公益项目。",
            "categories": [
                {
                    "code": "elderly",
                    "name": "为老服务",
                    "budget": "250000.00" if kind == "venture" else "80000.00",
                },
                {
                    "code": "youth",
                    "name": "青少年服务",
                    "budget": "150000.00" if kind == "venture" else "40000.00",
                },
                {
                    "code": "governance",
                    "name": "社区治理",
                    "budget": "100000.00" if kind == "venture" else "30000.00",
                },
            ],
            "tranche_plan": [
                {"share_pct": "50", "trigger": "on_signing"},
                {"share_pct": "30", "trigger": "midterm_passed"},
                {"share_pct": "20", "trigger": "final_passed"},
            ],
        }
    )


@demo_step
async def grant_cycle(context: DemoContext) -> None:
    session = context.session
    staff = identity.principal_of(context.users["staff"])
    evaluators = [
        identity.principal_of(context.users[key])
        for key in ("evaluator", "evaluator2@yulin.demo", "evaluator3@yulin.demo")
    ]
    orgs = {o.name: o for o in await queries.organisations_of_centre(session, context.centre.id)}
    neighbours = orgs["玉林社区邻里互助会"]
    youth = orgs["成都市武侯区芳华青少年服务中心"]
    seniors = orgs["武侯区乐龄文体协会"]
    owner_neighbours = await _owner(context, neighbours, "applicant@yulin.demo", "王建国")
    owner_youth = await _owner(context, youth, "fanghua@yulin.demo", "张晓东")
    owner_seniors = await _owner(context, seniors, "leling@yulin.demo", "赵国庆")
    version = await _rubric_version(context, RoundPurpose.application_review)

    need = await programmes.record_need(
        session,
        staff,
        NeedIn(
            community="玉林北路社区",
            description="独居高龄长者日常照护和精神慰藉不足",
            source="2025年社区需求调研",
        ),
    )

    # --- 2025: the whole cycle, ending in awards ----------------------------------------
    past = await programmes.create_programme(
        session,
        staff,
        _programme("2025年玉林街道微公益创投", 2025, "micro", version, _at(2025, 3, 1), _at(2025, 4, 1, 17)),
    )
    await programmes.open_programme(session, staff, past.id)
    past = await programmes.get_programme(session, staff, past.id)
    category = {c.code: c.id for c in past.categories}
    filing = _at(2025, 3, 20)
    applications: list[Application] = []
    for owner, org, title, cat, lines in (
        (
            owner_neighbours,
            neighbours,
            "“银龄守望”独居长者邻里互助",
            "elderly",
            _lines("6000", "14000", "4000", "3000"),
        ),
        (owner_youth, youth, "“四点半课堂”青少年成长陪伴", "youth", _lines("9000", "18000", "5000", "4000")),
        (
            owner_seniors,
            seniors,
            "乐龄合唱团社区文化服务",
            "elderly",
            _lines("5000", "12000", "3000", "2500"),
        ),
    ):
        application = await application_service.create_application(
            session,
            owner,
            ApplicationCreate.model_validate(
                {
                    "programme_id": past.id,
                    "organisation_id": org.id,
                    "title": title,
                    "category_id": category[cat],
                    "target_community": org.community,
                    "beneficiaries": "辖区居民",
                    "beneficiary_count": 150,
                    "needs": "来自2025年社区需求调研",
                    "objectives": "提升社区居民获得感与参与度",
                    "activities": [{"name": "项目实施", "starts_on": "2025-06-01", "ends_on": "2025-12-31"}],
                    "budget_lines": lines,
                    "indicators": [
                        {"kind": "output", "name": "服务人次", "target": "600", "unit": "人次"},
                        {"kind": "outcome", "name": "服务对象满意度", "target": "90", "unit": "%"},
                    ],
                }
            ),
        )
        await application_service.submit_application(session, owner, application.id, now=filing)
        await application_service.confirm_eligibility(session, staff, application.id, ConfirmEligibility())
        applications.append(application)
    await review.start_review(session, staff, past.id)
    past = await programmes.get_programme(session, staff, past.id)
    assert past.review_round_id is not None
    round_id = past.review_round_id
    subjects = {s.subject_id: s for s in await round_service.list_subjects(session, staff, round_id)}
    criteria = [
        c
        for c in rubric_service.criteria_of(await rubric_service.get_version(session, staff, version))
        if not c.bonus
    ]
    totals = {
        applications[0].id: (88, 91, 86),
        applications[1].id: (93, 90, 95),
        applications[2].id: (72, 68, 75),
    }
    for application_id, marks in totals.items():
        for evaluator, mark in zip(evaluators, marks, strict=True):
            assignment = await assignment_service.assign(
                session,
                staff,
                round_id,
                AssignmentCreate(subject_id=subjects[application_id].id, evaluator_id=evaluator.user_id),
                incubator.member_user_ids,
            )
            await assignment_service.declare(
                session, evaluator, assignment.id, DeclarationIn(has_conflict=False)
            )
            items = [
                ScoreItemIn(
                    criterion_key=c.key,
                    score=(c.max_points * Decimal(mark) / 100).quantize(Decimal("0.5")),
                    comment="需求分析扎实，执行计划清晰" if mark >= 85 else "预算需进一步细化",
                )
                for c in criteria
            ]
            await sheet_service.submit_sheet(
                session,
                evaluator,
                assignment.id,
                SheetIn(items=items, comment="建议立项" if mark >= 80 else "建议修改后立项"),
            )
    await result_service.close_round(session, staff, round_id)
    await review.collect_review(session, staff, past.id)
    await review.decide(
        session,
        staff,
        past.id,
        DecideIn(
            decisions=[
                DecisionRow(application_id=applications[0].id, approve=True, reason="评审排名第二，需求明确"),
                DecisionRow(application_id=applications[1].id, approve=True, reason="评审排名第一"),
                DecisionRow(
                    application_id=applications[2].id,
                    approve=True,
                    amount=Decimal("15000.00"),
                    reason="核减物资费用后立项",
                ),
            ]
        ),
    )
    await publicity.publicise(session, staff, past.id, starts_on=dt.date(2025, 5, 6), on=dt.date(2025, 5, 6))
    await publicity.finalise_publicity(session, dt.date(2025, 5, 14))

    # --- 2026: a call open now ------------------------------------------------------------
    year = today().year
    current = await programmes.create_programme(
        session,
        staff,
        _programme(
            f"{year}年玉林街道社区公益创投大赛",
            year,
            "venture",
            version,
            dt.datetime.combine(today() - dt.timedelta(days=30), dt.time(9), SHANGHAI),
            dt.datetime.combine(today() + dt.timedelta(days=30), dt.time(17), SHANGHAI),
        ),
    )
    await programmes.add_topic(session, staff, current.id, TopicIn(title="独居高龄长者关爱", need_id=need.id))
    await programmes.open_programme(session, staff, current.id)
    current = await programmes.get_programme(session, staff, current.id)
    draft = await application_service.create_application(
        session,
        owner_neighbours,
        ApplicationCreate.model_validate(
            {
                "programme_id": current.id,
                "organisation_id": neighbours.id,
                "title": "“时间银行”邻里互助积分计划",
                "category_id": current.categories[2].id,
                "target_community": neighbours.community,
                "beneficiaries": "玉林北路社区居民",
                "beneficiary_count": 300,
                "needs": "居民互助意愿强但缺少机制",
                "objectives": "建立互助积分与兑换机制",
                "budget_lines": _lines("8000", "20000", "6000", "4000"),
                "indicators": [{"kind": "output", "name": "注册志愿者", "target": "120", "unit": "人"}],
            }
        ),
    )
    submitted = await application_service.create_application(
        session,
        owner_youth,
        ApplicationCreate.model_validate(
            {
                "programme_id": current.id,
                "organisation_id": youth.id,
                "title": "青少年社区议事会",
                "category_id": current.categories[1].id,
                "target_community": youth.community,
                "beneficiaries": "辖区中学生",
                "beneficiary_count": 80,
                "needs": "青少年参与社区事务渠道少",
                "objectives": "培养青少年公共参与能力",
                "activities": [
                    {
                        "name": "议事会例会",
                        "starts_on": (today() + dt.timedelta(days=60)).isoformat(),
                        "ends_on": (today() + dt.timedelta(days=300)).isoformat(),
                    }
                ],
                "budget_lines": _lines("10000", "25000", "8000", "6000"),
                "indicators": [{"kind": "output", "name": "议事会会议", "target": "12", "unit": "次"}],
            }
        ),
    )
    await application_service.submit_application(session, owner_youth, submitted.id)
    del draft
