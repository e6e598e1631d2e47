"""Demo organisations at different stages of incubation (realistic Chengdu data)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from core.identity.service import principal_of
from demo.loader import DemoContext, demo_step
from evaluations.rubrics.models import RoundPurpose
from evaluations.rubrics.repository import latest_version
from incubator import service
from incubator.models import (
    ActivityKind,
    AssessmentStage,
    LegalStatus,
    MemberRole,
    OrganisationKind,
    OrganisationMember,
    ServiceField,
)
from incubator.schemas import (
    ActivityCreate,
    CapacityAssessmentCreate,
    OrganisationCreate,
    StayAdmit,
    StayAssess,
    StayCreate,
    StayExit,
    StayStart,
)

ORGANISATIONS = [
    # name, kind, legal status, uscc, fields, community, contact, founded, staff, volunteers, stage
    ("玉林社区邻里互助会", OrganisationKind.community_group, LegalStatus.filed, None,
     [ServiceField.elderly, ServiceField.volunteering], "玉林北路社区", "刘芳", dt.date(2020, 4, 12), 2, 46, "incubating"),
    ("成都市武侯区芳华青少年服务中心", OrganisationKind.social_service, LegalStatus.registered, "52440106MJL0K3T50W",
     [ServiceField.youth, ServiceField.women_children], "芳草社区", "张晓东", dt.date(2018, 9, 3), 8, 60, "incubating"),
    ("玉林绿色家园环保志愿队", OrganisationKind.community_group, LegalStatus.unregistered, None,
     [ServiceField.environment], "玉林东路社区", "何静", dt.date(2023, 3, 1), 0, 25, "applied"),
    ("武侯区乐龄文体协会", OrganisationKind.social_group, LegalStatus.registered, "91512081MA62K0260E",
     [ServiceField.culture_sports, ServiceField.elderly], "玉林南路社区", "赵国庆", dt.date(2016, 6, 18), 4, 120, "assessed"),
    ("玉林街道法律援助服务社", OrganisationKind.community_group, LegalStatus.filed, None,
     [ServiceField.legal, ServiceField.community_governance], "玉林北路社区", "孙律", dt.date(2022, 1, 10), 1, 12, "exited"),
]  # fmt: skip


CAPACITY_KEYS = ("governance", "project_management", "financial", "people", "fundraising", "community")


async def _capacity_version(context: DemoContext) -> int:
    version = await latest_version(context.session, context.centre.id, (RoundPurpose.capacity,))
    assert version is not None, "the demo centre's default rubrics are seeded first"
    return version.id


@demo_step
async def organisations(context: DemoContext) -> None:
    session = context.session
    staff = principal_of(context.users["staff"])
    applicant = context.users["applicant"]
    for index, (
        name,
        kind,
        status,
        code,
        fields,
        community,
        contact,
        founded,
        staff_n,
        volunteers,
        stage,
    ) in enumerate(ORGANISATIONS):
        org = await service.create_organisation(
            session,
            staff,
            OrganisationCreate(
                name=name, kind=kind, legal_status=status, uscc=code, service_fields=fields, community=community,
                street="玉林街道", contact_name=contact, contact_phone=f"1380028{index:04d}", founded_on=founded,
                staff_count=staff_n, volunteer_count=volunteers,
            ),
        )  # fmt: skip
        org.bank_name = "成都银行玉林支行"
        org.bank_account_name = name
        org.bank_account_no = f"1001 3000 0028 {index:04d}"
        if index < 4:
            await service.verify_organisation(session, staff, org.id)
        if index == 0:
            session.add(
                OrganisationMember(organisation_id=org.id, user_id=applicant.id, role=MemberRole.owner)
            )
            await session.flush()
        stay = await service.create_stay(
            session,
            staff,
            StayCreate(organisation_id=org.id, applied_on=dt.date(2025, 9, 1), intake_note="入驻申请"),
        )
        if stage == "applied":
            continue
        await service.assess_stay(
            session, staff, stay.id, StayAssess(on=dt.date(2025, 9, 15), note="需求评估通过")
        )
        if stage == "assessed":
            continue
        if stage == "exited":
            await service.exit_stay(
                session, staff, stay.id, StayExit(on=dt.date(2025, 10, 8), reason="骨干成员调离，暂停孵化")
            )
            continue
        await service.admit_stay(
            session, staff, stay.id,
            StayAdmit(start_date=dt.date(2025, 10, 1), planned_months=12, mentor="王敏老师", workspace=f"A-20{index + 1}"),
        )  # fmt: skip
        await service.start_stay(session, staff, stay.id, StayStart(on=dt.date(2025, 10, 1)))
        version = await _capacity_version(context)
        for stage, on, scores in (
            (AssessmentStage.intake, dt.date(2025, 10, 8), ("11", "10", "7", "9", "6", "10")),
            (AssessmentStage.midterm, dt.date(2026, 4, 10), ("15", "14", "11", "11", "9", "12")),
        ):
            await service.assess_capacity(
                session,
                staff,
                CapacityAssessmentCreate(
                    organisation_id=org.id,
                    stage=stage,
                    assessed_on=on,
                    rubric_version_id=version,
                    scores={k: Decimal(v) for k, v in zip(CAPACITY_KEYS, scores, strict=True)},
                    assessor="王敏老师",
                    comments="组织治理逐步规范，财务制度仍需完善。",
                ),
            )
        for month, (kind_, topic, hours) in enumerate(
            [
                (ActivityKind.training, "项目设计与需求调研", "3.0"),
                (ActivityKind.mentoring, "财务制度建设辅导", "2.0"),
                (ActivityKind.resource_linkage, "对接社区基金会", "1.5"),
                (ActivityKind.consultation, "备案登记咨询", "1.0"),
            ],
            start=10,
        ):
            year, mon = (2025, month) if month <= 12 else (2026, month - 12)
            await service.add_activity(
                session, staff,
                ActivityCreate(organisation_id=org.id, kind=kind_, held_on=dt.date(year, mon, 12), hours=Decimal(hours),
                               topic=topic, given_by="王敏老师", participants=6 + index),
            )  # fmt: skip
