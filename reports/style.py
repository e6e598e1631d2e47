"""A centre's report style: plain working papers or official documents (红头文件).

An official report carries a red masthead with the issuing unit, a document number (文号)
such as 玉林孵评〔2026〕12号 given per centre, report kind and year, the evaluating body
where there is one, and a closing block with the date, the unit and room for the seal and
signatures. The number is taken in the generating transaction (a compare-and-set on the
kind's counter, audited) and stored with the archived version.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.errors import NotFound, ValidationFailed
from core.i18n import _
from core.identity.principal import Principal
from core.identity.service import require_writer
from reports.kinds import SHANGHAI, ReportKind, all_kinds
from reports.models import LetterStyle, ReportStyle
from reports.repository import next_document_number, style_of
from reports.schemas import ReportStyleIn


@dataclass(frozen=True)
class Document:
    """What the templates print around a report's content."""

    official: bool = False
    issuing_unit: str = ""
    doc_number: str | None = None
    evaluating_body: str = ""
    signatories: list[str] = field(default_factory=list)
    date: str = ""


def local_date_text(on: dt.date) -> str:
    return _("{year}-{month}-{day}").format(year=on.year, month=on.month, day=on.day)


def prefix_for(style: ReportStyle, kind: ReportKind) -> str:
    own = str((style.prefixes or {}).get(kind.code) or "").strip()
    if own:
        return own
    return f"{style.doc_prefix}{_(kind.number_mark) if kind.number_mark else ''}"


def format_number(prefix: str, year: int, number: int) -> str:
    return _("{prefix} [{year}] No. {number}").format(prefix=prefix, year=year, number=number)


async def document_for(
    session: AsyncSession,
    kind: ReportKind,
    centre_id: int,
    now: dt.datetime,
    *,
    actor: Principal | None,
    with_evaluation: bool,
) -> Document:
    """The style of the centre's next report of ``kind``; official ones take their number here."""
    local = now.astimezone(SHANGHAI)
    style = await style_of(session, centre_id)
    if style is None or style.style is not LetterStyle.official:
        return Document(date=local_date_text(local.date()))
    prefix = prefix_for(style, kind)
    before, number = await next_document_number(session, centre_id, kind.code, local.year)
    doc_number = format_number(prefix, local.year, number)
    await audit.record(
        session,
        actor=actor,
        action="report.number",
        subject_type="report_number_counter",
        subject_id=centre_id,
        centre_id=centre_id,
        before={"kind": kind.code, "year": local.year, "last_number": before},
        after={"kind": kind.code, "year": local.year, "last_number": number, "doc_number": doc_number},
    )
    return Document(
        official=True,
        issuing_unit=style.issuing_unit,
        doc_number=doc_number,
        evaluating_body=style.evaluating_body if with_evaluation else "",
        signatories=list(style.signatories or []),
        date=local_date_text(local.date()),
    )


def _snapshot(style: ReportStyle | None) -> dict[str, Any]:
    if style is None:
        return {}
    return {
        "style": style.style.value,
        "issuing_unit": style.issuing_unit,
        "doc_prefix": style.doc_prefix,
        "evaluating_body": style.evaluating_body,
        "signatories": list(style.signatories or []),
        "prefixes": dict(style.prefixes or {}),
    }


def _centre_of(principal: Principal) -> int:
    if principal.centre_id is None:
        raise NotFound(_("Only a centre's own accounts set its report style"))
    return principal.centre_id


async def get_style(session: AsyncSession, principal: Principal) -> ReportStyle:
    """The caller's centre's style (an unsaved plain one when never set)."""
    centre_id = _centre_of(principal)
    style = await style_of(session, centre_id)
    return style or ReportStyle(
        centre_id=centre_id,
        style=LetterStyle.plain,
        issuing_unit="",
        doc_prefix="",
        evaluating_body="",
        signatories=[],
        prefixes={},
        revision=0,
    )


def _check(data: ReportStyleIn) -> dict[str, str]:
    kinds = {k.code: k for k in all_kinds()}
    unknown = [code for code in data.prefixes if code not in kinds]
    if unknown:
        raise ValidationFailed.field(
            "prefixes", _("Unknown report kind: {kind}").format(kind=unknown[0][:64])
        )
    prefixes = {code: p.strip() for code, p in data.prefixes.items() if p.strip()}
    if data.style is LetterStyle.official:
        if not data.issuing_unit.strip():
            raise ValidationFailed.field("issuing_unit", _("An official report needs the issuing unit"))
        if not data.doc_prefix.strip() and len(prefixes) < len(kinds):
            raise ValidationFailed.field(
                "doc_prefix", _("An official report needs the short name used in document numbers")
            )
        probe = ReportStyle(doc_prefix=data.doc_prefix.strip(), prefixes=prefixes)
        seen: dict[str, str] = {}
        for kind in kinds.values():
            prefix = prefix_for(probe, kind)
            if prefix in seen:
                raise ValidationFailed.field(
                    "prefixes",
                    _("{a} and {b} would share the prefix {prefix}: give each kind its own").format(
                        a=_(kinds[seen[prefix]].label), b=_(kind.label), prefix=prefix
                    ),
                )
            seen[prefix] = kind.code
    return prefixes


async def set_style(session: AsyncSession, principal: Principal, data: ReportStyleIn) -> ReportStyle:
    require_writer(principal)
    centre_id = _centre_of(principal)
    prefixes = _check(data)
    style = await style_of(session, centre_id)
    before = _snapshot(style)
    if style is None:
        style = ReportStyle(centre_id=centre_id)
        session.add(style)
    style.style = data.style
    style.issuing_unit = data.issuing_unit.strip()
    style.doc_prefix = data.doc_prefix.strip()
    style.evaluating_body = data.evaluating_body.strip()
    style.signatories = [s.strip() for s in data.signatories if s.strip()]
    style.prefixes = prefixes
    style.updated_by = principal.user_id
    await session.flush()
    after = _snapshot(style)
    if after != before:
        await audit.record(
            session,
            actor=principal,
            action="report_style.update",
            subject_type="report_style",
            subject_id=style.id,
            centre_id=centre_id,
            before=before or None,
            after=after,
        )
    return style
