"""What the disbursement endpoints take and answer."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.fields import Day, Id, RequestModel
from core.i18n import N_
from core.money import MoneyField
from grants.disbursements.models import DisbursementState
from grants.fields import Comment, PositiveMoney, Reason


class DisbursementCreate(RequestModel):
    tranche_id: Id | None = Field(None, title=N_("Tranche"))
    milestone_id: Id | None = Field(None, title=N_("Milestone"))
    note: Comment = Field("", title=N_("Note"))

    @model_validator(mode="after")
    def _one_target(self) -> DisbursementCreate:
        if (self.tranche_id is None) == (self.milestone_id is None):
            raise ValueError(N_("Give either a tranche or a contract milestone"))
        return self


class RejectIn(RequestModel):
    reason: Reason = Field(title=N_("Reason"))


class ApproveIn(RequestModel):
    note: Comment = Field("", title=N_("Note"))


class PayIn(RequestModel):
    voucher_no: str = Field(min_length=1, max_length=60, title=N_("Voucher number"))
    paid_on: Day = Field(title=N_("Payment date"))
    amount: PositiveMoney = Field(title=N_("Amount"))


class DisbursementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    award_id: int | None
    tranche_id: int | None
    contract_id: int | None
    milestone_id: int | None
    payee_organisation_id: int
    amount: MoneyField
    state: DisbursementState
    note: str
    requested_by: int
    requested_by_name: str
    requested_at: dt.datetime
    approved_by: int | None
    rejected_by: int | None
    decided_by_name: str | None
    decided_at: dt.datetime | None
    reject_reason: str | None
    voucher_no: str | None
    paid_on: dt.date | None
    paid_amount: MoneyField | None
