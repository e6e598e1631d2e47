"""Checks shared by every evaluations package: who may change things, and whether a round is
still open to change."""

from __future__ import annotations

from core.errors import Conflict, Forbidden
from core.i18n import _
from core.identity.principal import Principal
from core.identity.service import require_writer
from evaluations.rounds.models import ReviewRound, RoundState


def centre_of(principal: Principal) -> int:
    require_writer(principal)
    if principal.centre_id is None:
        raise Forbidden(_("Only an account of a centre can do this"))
    return principal.centre_id


def require_open(review_round: ReviewRound) -> None:
    if review_round.state is not RoundState.open:
        raise Conflict(_("The round is closed"))
