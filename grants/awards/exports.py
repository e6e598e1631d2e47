"""Awarded grants as a 360Giving 1.4.3 package; the projects list to Excel."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from core.i18n import _
from core.workbook import ListSheet
from grants.awards.models import AWARD_STATE_LABELS, Award
from grants.programmes.models import Programme
from incubator.models import LegalStatus, Organisation


def _org_id(org: Organisation, centre_slug: str) -> str:
    """CN-USCI-<code> for registered organisations; otherwise a Seedbed-local identifier."""
    if org.legal_status is LegalStatus.registered and org.uscc:
        return f"CN-USCI-{org.uscc}"
    return f"XI-SEEDBED-{centre_slug}-org-{org.id}"


def grants_package(
    rows: Sequence[tuple[Award, Organisation, Programme]],
    *,
    centre_slug: str,
    funder_name: str,
    funder_id: str,
    prefix: str,
    funders: Mapping[int, list[dict[str, str]]] | None = None,
) -> dict[str, Any]:
    """``funders``: the funding organisations of awards financed by community funds (by award
    id); other awards name the centre."""
    grants: list[dict[str, Any]] = []
    for award, org, programme in rows:
        grant: dict[str, Any] = {
            "id": f"360G-{prefix}-{award.id}",
            "title": award.title,
            "description": f"{programme.name} ({programme.year})",
            "currency": "CNY",
            "amountAwarded": award.amount,
            "amountDisbursed": award.paid,
            "awardDate": award.awarded_on.isoformat(),
            "recipientOrganization": [
                {
                    "id": _org_id(org, centre_slug),
                    "name": org.name,
                    "addressLocality": org.street or org.community,
                    "addressCountry": "CN",
                }
            ],
            "fundingOrganization": (funders or {}).get(award.id) or [{"id": funder_id, "name": funder_name}],
            "grantProgramme": [{"code": f"{prefix}-programme-{programme.id}", "title": programme.name}],
            "dateModified": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        }
        grants.append(grant)
    return {"grants": grants}


def awards_xlsx(rows: Sequence[tuple[Any, ...]]) -> bytes:
    """The projects list to Excel; rows are (award, organisation, programme, category, community)."""
    sheet = ListSheet(
        _("Projects"),
        [
            _("No."),
            _("Project"),
            _("Organisation"),
            _("Programme"),
            _("Category"),
            _("Community"),
            _("Status"),
            _("Awarded on"),
            _("Signed on"),
            _("Amount (yuan)"),
            _("Paid (yuan)"),
            _("Unpaid (yuan)"),
        ],
        money=(9, 10, 11),
        widths=(8, 36, 28, 28, 14, 16, 12, 12, 12, 14, 14, 14),
    )
    for award, organisation, programme, category, community in rows:
        sheet.append(
            [
                award.id,
                award.title,
                organisation,
                programme,
                category or "",
                community or "",
                _(AWARD_STATE_LABELS[award.state]),
                award.awarded_on,
                award.signed_on,
                award.amount,
                award.paid,
                award.amount - award.paid,
            ]
        )
    return sheet.bytes()
