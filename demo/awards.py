"""Demo money: two signed 2025 awards with their first tranches (one requested and waiting
for the finance officer, one approved and paid), a progress report, an expense claim with a
receipt, and a purchased-service contract (政府购买服务) in service.

Everything goes through the services, so the audit log, the award timelines and the
notifications look as they would after real use.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from core.clock import today
from core.files import FileStore
from core.identity import repository as identity_queries
from core.identity import service as identity
from core.identity.principal import Principal
from core.settings import get_settings
from demo import repository as queries
from demo.loader import DemoContext, demo_step
from grants.applications import repository as application_queries
from grants.applications.models import BudgetCategory
from grants.awards import documents, reviews
from grants.awards import service as award_service
from grants.awards.models import DocumentKind
from grants.awards.schemas import ExpenseClaimIn, ProgressActualIn, ProgressReportIn, SignIn
from grants.contracts import service as contracts
from grants.contracts.schemas import ContractIn, DateIn
from grants.disbursements import service as disbursements
from grants.disbursements.schemas import DisbursementCreate, PayIn

# A tiny, valid one-page PDF (a scanned receipt stands in for it in the demo).
RECEIPT_PDF = (
    b"%PDF-1.4\n"
    b"1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 100]>>endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n0000000101 00000 n \n"
    b"trailer<</Size 4/Root 1 0 R>>\nstartxref\n165\n%%EOF\n"
)

CONTRACT = {
    "purchaser": "成都市武侯区玉林街道办事处",
    "title": "玉林街道居家养老服务项目",
    "service_category": "elderly",
    "content": "为辖区80岁以上独居、空巢老人提供每周一次上门探访、助洁和健康监测服务，建立服务台账。",
    "procurement_method": "open_tender",
    "amount": "180000.00",
    "indicators": [
        {"name": "上门服务人次", "target": "2400", "unit": "人次"},
        {"name": "服务对象满意度", "target": "90", "unit": "%"},
    ],
    "milestones": [
        {"share_pct": "40", "condition": "on_signing", "description": "合同签订后支付首期款"},
        {"share_pct": "30", "condition": "on_start", "description": "服务启动后支付第二期"},
        {"share_pct": "30", "condition": "on_evaluation", "description": "绩效评估后按评分规则支付尾款"},
    ],
}


async def _owner_of(context: DemoContext, organisation_id: int) -> Principal:
    user_id = await queries.first_owner_id(context.session, organisation_id)
    user = await identity_queries.get_user(context.session, user_id)
    assert user is not None
    return identity.principal_of(user)


@demo_step
async def money(context: DemoContext) -> None:
    session = context.session
    settings = get_settings()
    staff = identity.principal_of(context.users["staff"])
    finance = identity.principal_of(context.users["finance"])
    awards = await queries.awards_of_centre(session, context.centre.id)
    elderly, youth = awards[0], awards[1]

    # Two agreements signed: their on-signing tranches (50 %) become due.
    for award in (elderly, youth):
        await award_service.sign_award(session, staff, award.id, SignIn(signed_on=dt.date(2025, 6, 3)))
    elderly = await award_service.get_award(session, staff, elderly.id)
    youth = await award_service.get_award(session, staff, youth.id)

    # One request waits for the finance officer; the other is approved and paid.
    await disbursements.request_disbursement(
        session, staff, DisbursementCreate(tranche_id=elderly.tranches[0].id, note="首期拨付，协议已签订")
    )
    paid = await disbursements.request_disbursement(
        session, staff, DisbursementCreate(tranche_id=youth.tranches[0].id, note="首期拨付")
    )
    await disbursements.approve(session, finance, paid.id, "材料齐全，同意拨付")
    await disbursements.pay(
        session,
        finance,
        paid.id,
        PayIn(voucher_no="记-2025-0618", paid_on=today(), amount=paid.amount),
    )

    # The grantee of the elderly project reports progress and claims an expense with a receipt.
    grantee = await _owner_of(context, elderly.organisation_id)
    indicators = list(await application_queries.indicators_of(session, elderly.application_id))
    await reviews.submit_progress_report(
        session,
        grantee,
        elderly.id,
        ProgressReportIn(
            period="2025年第三季度",
            narrative="完成独居长者入户探访42户，开展邻里互助小组活动6次，招募志愿者18名。",
            actuals=[
                ProgressActualIn(
                    indicator_id=indicators[0].id, actual=Decimal("320"), note="入户探访及小组活动"
                ),
                ProgressActualIn(indicator_id=indicators[1].id, actual=Decimal("94"), note="季度回访问卷"),
            ],
        ),
    )
    receipt = await documents.upload_document(
        session,
        grantee,
        FileStore(settings.files_dir),
        elderly.id,
        kind=DocumentKind.receipt,
        label="活动物资采购发票",
        filename="发票-活动物资.pdf",
        content=RECEIPT_PDF,
        max_bytes=settings.upload_max_bytes,
    )
    await reviews.submit_expense_claim(
        session,
        grantee,
        elderly.id,
        ExpenseClaimIn(
            category=BudgetCategory.materials,
            item="长者探访慰问物资采购",
            amount=Decimal("1280.00"),
            spent_on=dt.date(2025, 7, 8),
            receipt_ids=[receipt.id],
        ),
    )

    # A purchased-service contract with the street office, signed and in service.
    provider = await queries.organisation_named(session, context.centre.id, "武侯区乐龄文体协会")
    year = today().year
    contract = await contracts.create_contract(
        session,
        staff,
        ContractIn.model_validate(
            {
                **CONTRACT,
                "provider_id": provider.id,
                "starts_on": dt.date(year, 1, 1).isoformat(),
                "ends_on": dt.date(year, 12, 31).isoformat(),
            }
        ),
    )
    await contracts.sign(session, staff, contract.id, DateIn(on=dt.date(year - 1, 12, 20)))
    await contracts.start(session, staff, contract.id, DateIn(on=dt.date(year, 1, 1)))
