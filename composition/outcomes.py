"""What a closed evaluation round means for the other domains (the composition root wires it).

Evaluations knows nothing of money: when staff close a round, this hands each subject's
grade to the domain the subject belongs to — an award's mid-term or final evaluation to
its tranches and rectification, a contract's performance evaluation to its payment rule —
and emits ``award.evaluation_finalised`` / ``contract.evaluation_finalised`` so that the
project assessment report writes itself.
"""

from __future__ import annotations

from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict
from core.fields import RequestModel
from core.i18n import N_, _
from core.identity.principal import Principal
from core.settings import Settings
from evaluations.rounds import service as round_service
from evaluations.rounds.models import ReviewRound
from evaluations.rounds.schemas import RoundCreate, SubjectCreate
from evaluations.rubrics.models import RoundPurpose, RubricVersion
from evaluations.rubrics.repository import latest_version
from grants import access
from grants.awards import service as awards
from grants.contracts import service as contracts
from grants.programmes.models import Programme
from reports import events, registry

AWARD_PURPOSES = (RoundPurpose.midterm, RoundPurpose.final)


async def after_round_closed(
    session: AsyncSession, principal: Principal, round_id: int, settings: Settings
) -> None:
    output = registry.report_output(settings)
    review_round = await round_service.get_round(session, principal, round_id)
    for subject in await round_service.list_subjects(session, principal, round_id):
        if subject.final_score is None or subject.grade is None:
            continue
        if review_round.purpose in AWARD_PURPOSES and subject.subject_type == "award":
            await awards.record_evaluation_outcome(
                session,
                principal,
                subject.subject_id,
                review_round.purpose.value,
                subject.grade,
                subject.final_score,
            )
            await events.emit(session, output, "award.evaluation_finalised", subject.subject_id)
        elif review_round.purpose is RoundPurpose.contract_performance and subject.subject_type == "contract":
            await contracts.record_contract_evaluation(
                session, principal, subject.subject_id, subject.final_score
            )
            await events.emit(session, output, "contract.evaluation_finalised", subject.subject_id)


class EvaluationRoundIn(RequestModel):
    purpose: RoundPurpose = Field(description="midterm or final", title=N_("Evaluation"))


async def _project_rubric(session: AsyncSession, centre_id: int) -> RubricVersion:
    version = await latest_version(session, centre_id, AWARD_PURPOSES)
    if version is None:
        raise Conflict(_("The centre has no project evaluation rubric"))
    return version


async def start_award_evaluation(
    session: AsyncSession, principal: Principal, award_id: int, purpose: RoundPurpose
) -> ReviewRound:
    """A mid-term or final evaluation round for one award, scored on the project rubric."""
    access.require_staff(principal)
    if purpose not in AWARD_PURPOSES:
        raise Conflict(_("An award is evaluated at mid-term or at the end"))
    award = await awards.get_award(session, principal, award_id)
    programme = await session.get(Programme, award.programme_id)
    assert programme is not None
    version = await _project_rubric(session, award.centre_id)
    label = _("Mid-term evaluation") if purpose is RoundPurpose.midterm else _("Final evaluation")
    review_round = await round_service.create_round(
        session,
        principal,
        RoundCreate(
            name=f"{label}: {award.title}"[:200],
            purpose=purpose,
            rubric_version_id=version.id,
            min_sheets_per_subject=programme.min_reviewers,
        ),
    )
    await round_service.add_subject(
        session,
        principal,
        review_round.id,
        SubjectCreate(
            subject_type="award",
            subject_id=award.id,
            organisation_id=award.organisation_id,
            title=award.title,
            display={"title": award.title, "amount": str(award.amount), "paid": str(award.paid)},
        ),
    )
    return review_round
