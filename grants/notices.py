"""The applicant hears of every status change of their application or award.

The owners of the organisation get one notification per change, in their own language,
in-app and by the channels this installation has configured (email, 企业微信). The link
opens the application or the project, and its label says so. A newer notice about the same
application or project marks the earlier ones done: the newest says where things stand.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import DEFAULT_LOCALE, N_, _, use_locale
from core.notifications import configured_channels, mark_done, remind
from core.settings import get_settings
from grants.applications.models import Application, ApplicationState
from grants.awards.models import Award, Tranche
from incubator.repository import MemberRepository

Words = Callable[[], tuple[str, str]]
"""(title, body), built inside the recipient's language."""


async def tell_owners(
    session: AsyncSession, organisation_id: int, kind: str, link: str, words: Words
) -> list[int]:
    """One notification for each active owner of the organisation; answers who was told."""
    owners = await MemberRepository(session).owners(organisation_id)
    if not owners:
        return []
    ids = [user_id for user_id, _locale in owners]
    await mark_done(session, link, user_ids=ids)
    by_locale: dict[str, list[int]] = defaultdict(list)
    for user_id, locale in owners:
        by_locale[locale or DEFAULT_LOCALE].append(user_id)
    channels = configured_channels(get_settings())
    for locale, user_ids in sorted(by_locale.items()):
        with use_locale(locale):
            title, body = words()
            await remind(session, user_ids, kind, title, body, link, channels=channels)
    return ids


def _application_words(application: Application, action: str, reason: str) -> Words | None:
    title = application.title
    state = application.state

    def said(headline: str, detail: str = "") -> Words:
        return lambda: (_(headline).format(title=title), _(detail).format(reason=reason) if detail else "")

    if action == "return":
        return said(N_("Your application was returned for correction: {title}"), N_("Reason: {reason}"))
    if action == "confirm_eligibility":
        if state is ApplicationState.eligible:
            return said(N_("Your application is eligible: {title}"), N_("It goes on to review."))
        return said(N_("Your application is not eligible: {title}"), N_("Reason: {reason}"))
    if action == "decide":
        if state is ApplicationState.approved:
            amount = application.approved_amount or Decimal("0.00")
            return lambda: (
                _("Your application is approved: {title}").format(title=title),
                _("Approved amount {amount} yuan; it is published for public comment next.").format(
                    amount=f"{amount:,.2f}"
                ),
            )
        return said(N_("Your application was not approved: {title}"), N_("Reason: {reason}"))
    if action == "publicise":
        return lambda: (
            _("Your project is in publicity: {title}").format(title=title),
            reason,
        )
    if action == "objection_upheld":
        return said(N_("An objection to your project was upheld: {title}"), N_("Reason: {reason}"))
    if action == "award":
        return said(
            N_("Your project is awarded: {title}"),
            N_("Sign the agreement with the centre to receive the first tranche."),
        )
    return None


async def application_changed(
    session: AsyncSession, application: Application, action: str, reason: str
) -> None:
    words = _application_words(application, action, reason)
    if words is not None:
        await tell_owners(
            session,
            application.organisation_id,
            f"application.{action}",
            f"/applications/{application.id}",
            words,
        )


REASON = N_("Reason: {note}")
AWARD_HEADLINES: dict[str, tuple[str, str | None]] = {
    "sign": (N_("The agreement of your project is recorded: {title}"), None),
    "evaluation_passed": (N_("Your project passed its evaluation: {title}"), None),
    "progress_report_approved": (N_("Your progress report is approved: {title}"), None),
    "progress_report_returned": (N_("Your progress report was returned: {title}"), REASON),
    "expense_claim_approved": (N_("Your expense claim is approved: {title}"), None),
    "expense_claim_returned": (N_("Your expense claim was returned: {title}"), REASON),
    "rectify": (N_("Your project must be rectified: {title}"), None),
    "terminate": (N_("Your project is terminated: {title}"), None),
    "close": (N_("Your project is closed: {title}"), None),
    "paid": (N_("A tranche of your project is paid: {title}"), None),
}


async def award_changed(session: AsyncSession, award: Award, action: str, note: str) -> None:
    headline = AWARD_HEADLINES.get(action)
    if headline is None:
        return
    title_id, body_id = headline

    def words() -> tuple[str, str]:
        body = (_(body_id).format(note=note) if body_id else note) if note else ""
        return _(title_id).format(title=award.title), body

    await tell_owners(session, award.organisation_id, f"award.{action}", f"/awards/{award.id}", words)


async def tranches_due(session: AsyncSession, award: Award, tranches: list[Tranche]) -> None:
    total = sum((t.amount for t in tranches), Decimal("0.00"))

    def words() -> tuple[str, str]:
        return (
            _("A tranche of your project is due: {title}").format(title=award.title),
            _("{amount} yuan can now be disbursed; the centre asks finance to pay it.").format(
                amount=f"{total:,.2f}"
            ),
        )

    await tell_owners(session, award.organisation_id, "award.tranche_due", f"/awards/{award.id}", words)
