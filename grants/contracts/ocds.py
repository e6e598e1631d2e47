"""Purchased-service contracts as an OCDS 1.1 release package (one release per contract).

Procurement methods map onto OCDS's closed ``method`` codelist: 公开招标 → open;
邀请招标 → selective; 竞争性谈判, 竞争性磋商 and 询价 (the purchaser picks the suppliers
it asks) → limited; 单一来源 → direct. The Chinese method stays in
``procurementMethodDetails``. Parties with a unified social credit code are identified
with the org-id scheme ``CN-USCI``.

OCDS wants amounts as JSON numbers. Amounts are NUMERIC(14,2), at most 14 significant
digits, so a float prints back exactly the same decimal (floats keep 15); the
conversion happens here, at the edge, and nowhere else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import SHANGHAI
from core.db import utcnow
from core.i18n import _
from core.identity.principal import Principal
from grants.contracts.models import (
    CONDITION_LABELS,
    PROCUREMENT_LABELS,
    Contract,
    ContractState,
    MilestoneState,
    ProcurementMethod,
)
from grants.contracts.service import all_contracts
from grants.disbursements import repository as disbursement_queries
from grants.disbursements.models import Disbursement
from incubator import repository as incubator_queries
from incubator.models import Organisation

OCID_PREFIX = "ocds-seedbd"
METHOD = {
    ProcurementMethod.open_tender: "open",
    ProcurementMethod.invited_tender: "selective",
    ProcurementMethod.competitive_negotiation: "limited",
    ProcurementMethod.competitive_consultation: "limited",
    ProcurementMethod.inquiry: "limited",
    ProcurementMethod.single_source: "direct",
}
CONTRACT_STATUS = {
    ContractState.draft: "pending",
    ContractState.signed: "active",
    ContractState.in_service: "active",
    ContractState.under_evaluation: "active",
    ContractState.completed: "terminated",
    ContractState.terminated: "terminated",
}


def _amount(value: Decimal) -> dict[str, Any]:
    """Kept as Decimal: ``core.money.dumps_exact`` writes it as an exact JSON number."""
    return {"amount": value, "currency": "CNY"}


def _date(day: dt.date | None) -> str | None:
    if day is None:
        return None
    return dt.datetime.combine(day, dt.time(), tzinfo=SHANGHAI).isoformat()


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def ocid_for(contract: Contract) -> str:
    return f"{OCID_PREFIX}-{contract.centre_id}-{contract.id}"


def _party_id(uscc: str | None, fallback: str) -> str:
    return f"CN-USCI-{uscc}" if uscc else fallback


def _buyer(contract: Contract) -> dict[str, Any]:
    fallback = "purchaser-" + hashlib.sha256(contract.purchaser.encode()).hexdigest()[:12]
    party: dict[str, Any] = {
        "id": _party_id(contract.purchaser_uscc, fallback),
        "name": contract.purchaser,
        "roles": ["buyer", "procuringEntity", "payer"],
    }
    if contract.purchaser_uscc:
        party["identifier"] = {
            "scheme": "CN-USCI",
            "id": contract.purchaser_uscc,
            "legalName": contract.purchaser,
        }
    return party


def _supplier(provider: Organisation) -> dict[str, Any]:
    party: dict[str, Any] = {
        "id": _party_id(provider.uscc, f"seedbed-org-{provider.id}"),
        "name": provider.name,
        "roles": ["supplier", "tenderer", "payee"],
    }
    if provider.uscc:
        party["identifier"] = {"scheme": "CN-USCI", "id": provider.uscc, "legalName": provider.name}
    return party


def _milestone_status(state: MilestoneState, partial: bool) -> str:
    if state is MilestoneState.paid:
        return "partiallyMet" if partial else "met"
    if state in (MilestoneState.withheld, MilestoneState.cancelled):
        return "notMet"
    return "scheduled"


def contract_release(
    contract: Contract, provider: Organisation, payments: Sequence[Disbursement]
) -> dict[str, Any]:
    ocid = ocid_for(contract)
    buyer = _buyer(contract)
    supplier = _supplier(provider)
    buyer_ref = {"id": buyer["id"], "name": buyer["name"]}
    supplier_ref = {"id": supplier["id"], "name": supplier["name"]}
    latest = max([contract.updated_at, *(p.paid_recorded_at for p in payments if p.paid_recorded_at)])
    award_id = f"{ocid}-award"
    milestones = [
        {
            "id": f"{ocid}-milestone-{m.seq}",
            "title": _("Payment {seq}: {share}%").format(seq=m.seq, share=f"{m.share_pct:g}"),
            "type": "financing",
            "description": m.description or _(CONDITION_LABELS[m.condition]),
            "code": m.condition.value,
            "dueDate": _date(m.due_on),
            "dateMet": _date(m.paid_on),
            "status": _milestone_status(m.state, m.payable is not None and m.payable < m.amount),
        }
        for m in contract.milestones
    ]
    transactions = [
        {
            "id": f"{ocid}-payment-{p.id}",
            "source": f"voucher:{p.voucher_no}",
            "date": _date(p.paid_on),
            "value": _amount(p.paid_amount or p.amount),
            "payer": buyer_ref,
            "payee": supplier_ref,
        }
        for p in payments
    ]
    tags = ["contract"]
    if transactions:
        tags.append("implementation")
    if contract.state in (ContractState.completed, ContractState.terminated):
        tags.append("contractTermination")
    period = {"startDate": _date(contract.starts_on), "endDate": _date(contract.ends_on)}
    contract_block: dict[str, Any] = {
        "id": f"{ocid}-contract",
        "awardID": award_id,
        "title": contract.title,
        "description": contract.content,
        "status": CONTRACT_STATUS[contract.state],
        "period": period,
        "value": _amount(contract.amount),
        "dateSigned": _date(contract.signed_on),
        "milestones": milestones,
        "implementation": {"transactions": transactions},
    }
    return {
        "ocid": ocid,
        "id": f"{ocid}-{latest.astimezone(dt.UTC):%Y%m%dT%H%M%S}",
        "date": _stamp(latest),
        "tag": tags,
        "initiationType": "tender",
        "language": "zh",
        "parties": [buyer, supplier],
        "buyer": buyer_ref,
        "tender": {
            "id": f"{ocid}-tender",
            "title": contract.title,
            "status": "complete",
            "procuringEntity": buyer_ref,
            "procurementMethod": METHOD[contract.procurement_method],
            "procurementMethodDetails": _(PROCUREMENT_LABELS[contract.procurement_method]),
            "mainProcurementCategory": "services",
            "value": _amount(contract.amount),
            "contractPeriod": period,
        },
        "awards": [
            {
                "id": award_id,
                "title": contract.title,
                "status": "active",
                "date": _date(contract.signed_on),
                "value": _amount(contract.amount),
                "suppliers": [supplier_ref],
                "contractPeriod": period,
            }
        ],
        "contracts": [contract_block],
    }


def release_package(
    releases: list[dict[str, Any]], *, uri: str, publisher: str, published: dt.datetime
) -> dict[str, Any]:
    return {
        "uri": uri,
        "version": "1.1",
        "publishedDate": _stamp(published),
        "publisher": {"name": publisher},
        "releases": releases,
    }


async def ocds_package(session: AsyncSession, principal: Principal, *, uri: str) -> dict[str, Any]:
    """Every signed contract of the principal's centre as one release package."""
    contracts = await all_contracts(session, principal)
    ids = [c.id for c in contracts]
    providers = {
        o.id: o
        for o in await incubator_queries.organisations_by_id(session, {c.provider_id for c in contracts})
    }
    payments: dict[int, list[Disbursement]] = {}
    if ids:
        for payment in await disbursement_queries.paid_for_contracts(session, ids):
            assert payment.contract_id is not None
            payments.setdefault(payment.contract_id, []).append(payment)
    releases = [contract_release(c, providers[c.provider_id], payments.get(c.id, [])) for c in contracts]
    return release_package(
        releases, uri=uri, publisher=principal.centre_name or _("Seedbed"), published=utcnow()
    )
