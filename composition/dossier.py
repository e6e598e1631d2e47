"""What an evaluator reads about the subject of an assignment, from the grants it stands for.

Evaluations knows a subject only by type and id (and a frozen ``display`` snapshot); the
evaluator's page wants the proposal itself (its budget and indicators as tables) or, for a
mid-term or final evaluation, the award's progress reports, indicator actuals, expense
claims and payments. The page has already checked that the reader was assigned the subject.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from evaluations.rounds.models import RoundSubject
from grants.applications.models import Application, FundedBy, Indicator
from grants.applications.repository import application_for_review
from grants.awards.models import Award, ExpenseClaim, ProgressReport
from grants.awards.repository import award_for_review, reviewed_of
from grants.disbursements.models import Disbursement
from grants.disbursements.repository import paid_for_award
from grants.programmes.models import ProgrammeCategory
from incubator.models import Organisation


@dataclass
class Proposal:
    application: Application
    category: str
    organisation: Organisation | None
    """None in a blind round."""

    @property
    def grant_total(self) -> Decimal:
        return sum(
            (line.amount for line in self.application.budget_lines if line.funded_by is FundedBy.grant),
            Decimal("0.00"),
        )

    @property
    def cofunding_total(self) -> Decimal:
        return sum(
            (line.amount for line in self.application.budget_lines if line.funded_by is FundedBy.cofunding),
            Decimal("0.00"),
        )


@dataclass
class Project:
    award: Award
    organisation: Organisation | None
    indicators: dict[int, Indicator]
    reports: Sequence[ProgressReport]
    claims: Sequence[ExpenseClaim]
    payments: Sequence[Disbursement]
    tranche_of: dict[int, tuple[int, int]] = field(default_factory=dict)
    """Tranche id → (its number, how many tranches)."""


async def proposal_of(session: AsyncSession, subject: RoundSubject, *, blind: bool) -> Proposal | None:
    if subject.subject_type != "application":
        return None
    application = await application_for_review(session, subject.centre_id, subject.subject_id)
    if application is None:
        return None
    category = (
        await session.get(ProgrammeCategory, application.category_id) if application.category_id else None
    )
    organisation = None if blind else await session.get(Organisation, application.organisation_id)
    return Proposal(application, category.name if category else "", organisation)


async def project_of(session: AsyncSession, subject: RoundSubject, *, blind: bool) -> Project | None:
    if subject.subject_type != "award":
        return None
    award = await award_for_review(session, subject.centre_id, subject.subject_id)
    if award is None:
        return None
    application = await application_for_review(session, award.centre_id, award.application_id)
    indicators = {i.id: i for i in application.indicators} if application else {}
    count = len(award.tranches)
    return Project(
        award=award,
        organisation=None if blind else await session.get(Organisation, award.organisation_id),
        indicators=indicators,
        reports=await reviewed_of(session, ProgressReport, award.id),
        claims=await reviewed_of(session, ExpenseClaim, award.id),
        payments=await paid_for_award(session, award.id),
        tranche_of={t.id: (t.seq, count) for t in award.tranches},
    )
