"""Progress reports (with indicator actuals) and expense claims (with receipts): the grantee
submits, staff approve or return with comments, the grantee resubmits.

Both run one reviewable flow (``ReviewFlow``): submitted → approved, or submitted → returned
→ submitted again (a new version) → …. Every move of the state is a compare-and-set in the
repository, so two reviewers (or a reviewer and a resubmitting grantee) racing on one item
have exactly one winner; each move writes the award's timeline with its audit entry and
tells whom it concerns (``record_event``). A kind says only what is its own: its fields,
its parts (actuals, receipts), its wording and any extra rule.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import today
from core.db import utcnow
from core.errors import Conflict, NotFound, ValidationFailed
from core.i18n import N_, _
from core.identity.principal import Principal
from core.money import format_money
from grants.access import require_staff
from grants.applications import repository as application_queries
from grants.awards import repository as queries
from grants.awards.models import (
    Award,
    AwardState,
    ExpenseClaim,
    ExpenseReceipt,
    IndicatorActual,
    ProgressReport,
    ReviewState,
)
from grants.awards.schemas import (
    ExpenseClaimIn,
    ProgressReportIn,
    ReviewIn,
)
from grants.awards.service import get_award, own_document, record_event, require_grantee

Item = TypeVar("Item", ProgressReport, ExpenseClaim)
Data = TypeVar("Data", ProgressReportIn, ExpenseClaimIn)


def _require_open(award: Award) -> None:
    if award.state not in (AwardState.active, AwardState.rectification):
        raise Conflict(_("The award is closed"))


class ReviewFlow(ABC, Generic[Item, Data]):
    """What the grantee submits for staff to review, as one state machine."""

    model: ClassVar[type[Any]]
    noun: ClassVar[str]
    """The prefix of the timeline's actions: ``progress_report``, ``progress_report_approved`` …"""
    key: ClassVar[str]
    """The name of the item's id in the audit entry (``report_id``)."""
    not_found: ClassVar[str]
    not_resubmittable: ClassVar[str]
    not_reviewable: ClassVar[str]

    @abstractmethod
    def fields(self, data: Data) -> dict[str, Any]:
        """The item's own columns as the grantee wrote them."""

    @abstractmethod
    async def parts(self, session: AsyncSession, award: Award, data: Data) -> list[Any]:
        """The item's checked parts (indicator actuals, receipts), not yet attached."""

    @abstractmethod
    def parts_of(self, item: Item) -> list[Any]:
        """The item's collection of parts."""

    @abstractmethod
    def submitted_note(self, data: Data) -> str: ...

    def resubmitted_note(self, data: Data) -> str:
        return self.submitted_note(data)

    def figures(self, item: Item) -> dict[str, Any]:
        """What the audit entries of submission and review carry beside the id and state."""
        return {}

    def check_submission(self, data: Data) -> None:
        """A rule of the kind on a new submission."""

    async def check_approval(self, session: AsyncSession, award: Award, item: Item) -> None:
        """A rule of the kind that may refuse an approval."""

    async def get(self, session: AsyncSession, award_id: int, item_id: int) -> Item:
        item: Item | None = await queries.reviewed_one(session, self.model, award_id, item_id)
        if item is None:
            raise NotFound(_(self.not_found))
        return item

    async def of_award(self, session: AsyncSession, principal: Principal, award_id: int) -> Sequence[Item]:
        award = await get_award(session, principal, award_id)
        items: Sequence[Item] = await queries.reviewed_of(session, self.model, award.id)
        return items

    async def submit(self, session: AsyncSession, principal: Principal, award_id: int, data: Data) -> Item:
        award = await get_award(session, principal, award_id)
        await require_grantee(session, principal, award)
        _require_open(award)
        self.check_submission(data)
        parts = await self.parts(session, award, data)
        item: Item = self.model(
            award_id=award.id, submitted_by=principal.user_id, submitted_at=utcnow(), **self.fields(data)
        )
        self.parts_of(item).extend(parts)
        session.add(item)
        await session.flush()
        await record_event(
            session,
            principal,
            award,
            self.noun,
            self.submitted_note(data),
            after={self.key: item.id, **self.figures(item)},
        )
        return await self.get(session, award.id, item.id)

    async def resubmit(
        self, session: AsyncSession, principal: Principal, award_id: int, item_id: int, data: Data
    ) -> Item:
        """Returned → submitted as a new version, with the grantee's changes."""
        award = await get_award(session, principal, award_id)
        await require_grantee(session, principal, award)
        _require_open(award)
        item = await self.get(session, award.id, item_id)
        if item.state is not ReviewState.returned:
            raise Conflict(_(self.not_resubmittable))
        self.check_submission(data)  # a new version is held to the rules of a new submission
        parts = await self.parts(session, award, data)
        if not await queries.move_review(
            session,
            self.model,
            item.id,
            ReviewState.returned,
            ReviewState.submitted,
            version=self.model.version + 1,
            submitted_at=utcnow(),
            **self.fields(data),
        ):
            raise Conflict(_(self.not_resubmittable))
        item = await self.get(session, award.id, item.id)
        self.parts_of(item).clear()
        await session.flush()
        self.parts_of(item).extend(parts)
        await session.flush()
        await record_event(
            session,
            principal,
            award,
            f"{self.noun}_resubmitted",
            self.resubmitted_note(data),
            after={self.key: item.id},
        )
        return await self.get(session, award.id, item.id)

    async def review(
        self, session: AsyncSession, principal: Principal, award_id: int, item_id: int, data: ReviewIn
    ) -> Item:
        """Submitted → approved, or returned to the grantee with the reviewer's comment."""
        require_staff(principal)
        award = await get_award(session, principal, award_id)
        item = await self.get(session, award.id, item_id)
        if item.state is not ReviewState.submitted:
            raise Conflict(_(self.not_reviewable))
        if data.approve:
            await self.check_approval(session, award, item)
        if not await queries.move_review(
            session,
            self.model,
            item.id,
            ReviewState.submitted,
            ReviewState.approved if data.approve else ReviewState.returned,
            reviewed_by=principal.user_id,
            reviewed_at=utcnow(),
            review_comment=data.comment or None,
        ):
            raise Conflict(_(self.not_reviewable))
        item = await self.get(session, award.id, item.id)
        await record_event(
            session,
            principal,
            award,
            f"{self.noun}_approved" if data.approve else f"{self.noun}_returned",
            data.comment,
            after={self.key: item.id, "state": item.state, **self.figures(item)},
        )
        return item


class ProgressReports(ReviewFlow[ProgressReport, ProgressReportIn]):
    model = ProgressReport
    noun = "progress_report"
    key = "report_id"
    not_found = N_("Progress report not found")
    not_resubmittable = N_("Only a report returned for changes can be resubmitted")
    not_reviewable = N_("Only a report awaiting review can be reviewed")

    def fields(self, data: ProgressReportIn) -> dict[str, Any]:
        return {"period": data.period, "narrative": data.narrative}

    async def parts(self, session: AsyncSession, award: Award, data: ProgressReportIn) -> list[Any]:
        """One actual per indicator of the project, each reported once."""
        known = set(await application_queries.indicator_ids(session, award.application_id))
        seen: set[int] = set()
        actuals = []
        for row in data.actuals:
            if row.indicator_id not in known:
                raise ValidationFailed.field("actuals", _("An indicator does not belong to this project"))
            if row.indicator_id in seen:
                raise ValidationFailed.field("actuals", _("Each indicator may be reported once"))
            seen.add(row.indicator_id)
            actuals.append(IndicatorActual(indicator_id=row.indicator_id, actual=row.actual, note=row.note))
        return actuals

    def parts_of(self, item: ProgressReport) -> list[Any]:
        return item.actuals

    def submitted_note(self, data: ProgressReportIn) -> str:
        return data.period


class ExpenseClaims(ReviewFlow[ExpenseClaim, ExpenseClaimIn]):
    model = ExpenseClaim
    noun = "expense_claim"
    key = "claim_id"
    not_found = N_("Expense claim not found")
    not_resubmittable = N_("Only a claim returned for changes can be resubmitted")
    not_reviewable = N_("Only a claim awaiting review can be reviewed")

    def fields(self, data: ExpenseClaimIn) -> dict[str, Any]:
        return {
            "category": data.category,
            "item": data.item,
            "amount": data.amount,
            "spent_on": data.spent_on,
        }

    async def parts(self, session: AsyncSession, award: Award, data: ExpenseClaimIn) -> list[Any]:
        """The receipts: documents of this award, each once."""
        receipts = []
        for document_id in dict.fromkeys(data.receipt_ids):
            await own_document(session, award.id, document_id, "receipt_ids")
            receipts.append(ExpenseReceipt(document_id=document_id))
        return receipts

    def parts_of(self, item: ExpenseClaim) -> list[Any]:
        return item.receipts

    def submitted_note(self, data: ExpenseClaimIn) -> str:
        return f"{data.item} {format_money(data.amount)}"

    def resubmitted_note(self, data: ExpenseClaimIn) -> str:
        return data.item

    def figures(self, item: ExpenseClaim) -> dict[str, Any]:
        return {"amount": item.amount}

    def check_submission(self, data: ExpenseClaimIn) -> None:
        if data.spent_on > today():
            raise ValidationFailed.field("spent_on", _("The date cannot be in the future"))

    async def check_approval(self, session: AsyncSession, award: Award, item: ExpenseClaim) -> None:
        """Approved spending stays within the award: the award's row is held first, so a
        concurrent approval on the same award reads the spending this one approves."""
        await queries.lock_award(session, award.id)
        spent = await queries.spent_on_award(session, award.id)
        if spent + item.amount > award.amount:
            raise Conflict(
                _(
                    "Approved spending would exceed the award ({spent} of {amount} yuan already approved)"
                ).format(spent=format_money(spent), amount=format_money(award.amount))
            )


PROGRESS_REPORTS = ProgressReports()
EXPENSE_CLAIMS = ExpenseClaims()


async def list_progress_reports(
    session: AsyncSession, principal: Principal, award_id: int
) -> Sequence[ProgressReport]:
    return await PROGRESS_REPORTS.of_award(session, principal, award_id)


async def submit_progress_report(
    session: AsyncSession, principal: Principal, award_id: int, data: ProgressReportIn
) -> ProgressReport:
    return await PROGRESS_REPORTS.submit(session, principal, award_id, data)


async def resubmit_progress_report(
    session: AsyncSession, principal: Principal, award_id: int, report_id: int, data: ProgressReportIn
) -> ProgressReport:
    return await PROGRESS_REPORTS.resubmit(session, principal, award_id, report_id, data)


async def review_progress_report(
    session: AsyncSession, principal: Principal, award_id: int, report_id: int, data: ReviewIn
) -> ProgressReport:
    return await PROGRESS_REPORTS.review(session, principal, award_id, report_id, data)


async def list_expense_claims(
    session: AsyncSession, principal: Principal, award_id: int
) -> Sequence[ExpenseClaim]:
    return await EXPENSE_CLAIMS.of_award(session, principal, award_id)


async def submit_expense_claim(
    session: AsyncSession, principal: Principal, award_id: int, data: ExpenseClaimIn
) -> ExpenseClaim:
    return await EXPENSE_CLAIMS.submit(session, principal, award_id, data)


async def resubmit_expense_claim(
    session: AsyncSession, principal: Principal, award_id: int, claim_id: int, data: ExpenseClaimIn
) -> ExpenseClaim:
    return await EXPENSE_CLAIMS.resubmit(session, principal, award_id, claim_id, data)


async def review_expense_claim(
    session: AsyncSession, principal: Principal, award_id: int, claim_id: int, data: ReviewIn
) -> ExpenseClaim:
    return await EXPENSE_CLAIMS.review(session, principal, award_id, claim_id, data)
