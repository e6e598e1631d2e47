"""Demo community fund: the street's 友邻基金 held by the district charity federation, with
receipts of every source (one restricted to elder care, one in kind, one donor who did not
consent to be named), an allocation to the elder-care project that went through the fund's
approval steps, one that waits for the finance check, and the quarterly statement scheduled
for the notice board.

Everything goes through the services, so the audit log and the public page look as they would
after real use.
"""

from __future__ import annotations

from core.identity import service as identity
from core.repository import PageParams
from demo.loader import DemoContext, demo_step
from funds import service as funds
from funds.models import Restriction, StepDecision
from funds.schemas import AllocationCreate, DecisionIn, FundCreate, ReceiptCreate
from grants.awards import service as award_service
from grants.contracts import service as contracts
from reports.fund_statement import KIND_CODE as FUND_STATEMENT
from reports.registry import register_report_kinds
from reports.schemas import ScheduleCreate
from reports.service import create_schedule

RECEIPTS: list[dict[str, object]] = [
    {
        "received_on": "2025-04-10",
        "source": "fiscal",
        "donor_name": "玉林街道办事处",
        "publish_donor": True,
        "amount": "100000.00",
        "receipt_no": "财拨-2025-017",
        "note": "街道社区发展治理专项资金划入",
    },
    {
        "received_on": "2025-05-08",
        "source": "paired_unit",
        "donor_name": "国家税务总局成都市武侯区税务局",
        "publish_donor": True,
        "amount": "20000.00",
        "receipt_no": "捐-2025-0031",
    },
    {
        "received_on": "2025-05-20",
        "source": "enterprise",
        "donor_name": "成都蜀汉物业服务有限公司",
        "publish_donor": True,
        "amount": "30000.00",
        "receipt_no": "捐-2025-0036",
        "restriction": "purpose",
        "purpose": "elderly",
        "note": "定向用于辖区独居长者关爱",
    },
    {
        "received_on": "2025-06-01",
        "source": "individual",
        "donor_name": "刘女士",
        "publish_donor": False,
        "amount": "500.00",
        "receipt_no": "捐-2025-0040",
    },
    {
        "received_on": "2025-06-15",
        "source": "residents",
        "donor_name": "玉林北路社区居民（邻里节义卖）",
        "publish_donor": True,
        "amount": "3260.50",
    },
    {
        "received_on": "2025-07-02",
        "source": "in_kind",
        "donor_name": "红旗连锁玉林店",
        "publish_donor": True,
        "amount": "8000.00",
        "in_kind_items": "大米200袋、食用油100桶（用于长者助餐点）",
        "valuation_basis": "按捐赠方出具的销售发票金额",
    },
]


@demo_step
async def community_fund(context: DemoContext) -> None:
    session = context.session
    staff = identity.principal_of(context.users["staff"])
    finance = identity.principal_of(context.users["finance"])
    fund = await funds.create_fund(
        session,
        staff,
        FundCreate(
            name="玉林街道友邻基金",
            scope="street",
            custodian="成都市武侯区慈善会（玉林街道友邻基金专项基金）",
            committee="街道社区发展治理办公室、各社区居委会主任、居民代表5名、共建单位代表2名",
            description="汇集财政、共建单位、企业和居民的力量，支持社区微项目和社区社会组织培育。",
            approval_threshold="20000.00",
            approval_steps=["居民议事会", "社区两委", "第三方评估机构"],
        ),
    )
    for receipt in RECEIPTS:
        await funds.record_receipt(session, staff, fund.id, ReceiptCreate.model_validate(receipt))
    pools = {p.restriction: p for p in await funds.pools(session, staff, fund.id)}
    everything = PageParams(page=1, page_size=200)
    awards = (await award_service.list_awards(session, staff, everything)).items
    elderly = next(a for a in awards if "银龄" in a.title)
    allocation = await funds.request_allocation(
        session,
        staff,
        fund.id,
        AllocationCreate.model_validate(
            {
                "pool_id": pools[Restriction.purpose].id,
                "target": "award",
                "award_id": elderly.id,
                "purpose": "elderly",
                "title": "“银龄守望”独居长者邻里互助（友邻基金配套）",
                "amount": "24000.00",
                "note": "蜀汉物业定向捐赠，用于独居长者关爱",
            }
        ),
    )
    for minutes in (
        "2025年7月居民议事会表决通过",
        "社区两委会议同意",
        "第三方评估机构审核同意",
        "财务审核通过",
    ):
        await funds.decide(
            session, finance, allocation.id, DecisionIn(decision=StepDecision.approved, note=minutes)
        )
    contract = (await contracts.list_contracts(session, staff, everything)).items[0]
    await funds.request_allocation(
        session,
        staff,
        fund.id,
        AllocationCreate.model_validate(
            {
                "pool_id": pools[Restriction.none].id,
                "target": "contract",
                "contract_id": contract.id,
                "purpose": "elderly",
                "title": "居家养老服务项目助餐补贴",
                "amount": "8000.00",
            }
        ),
    )
    register_report_kinds()
    await create_schedule(
        session,
        staff,
        ScheduleCreate(kind=FUND_STATEMENT, scope_id=fund.id, cron="0 9 1 1,4,7,10 *"),
    )
