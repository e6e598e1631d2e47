"""Rubrics: validated versions (base criteria add up to 100, bands start at 0), editing by new
version once a version is used, the default rubrics, and grading a total through the bands."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.errors import Conflict, FieldError, ValidationFailed
from core.i18n import _
from core.identity.principal import Principal
from evaluations import access
from evaluations.defaults import DEFAULT_BANDS, DEFAULT_RUBRICS
from evaluations.rubrics.models import PROJECT_PURPOSES, Rubric, RubricVersion
from evaluations.rubrics.repository import (
    RubricRepository,
    RubricVersionRepository,
    latest_version,
    rubric_names,
)
from evaluations.rubrics.schemas import (
    GRADE_LABELS,
    Band,
    Criterion,
    GradeCode,
    RubricCreate,
    RubricRead,
    RubricVersionIn,
    RubricVersionRead,
)

CENT = Decimal("0.01")


def points(value: Decimal | float) -> Decimal:
    if isinstance(value, float):
        value = Decimal(repr(value))
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Grade:
    code: GradeCode

    @property
    def label(self) -> str:
        return _(GRADE_LABELS[self.code])


def criteria_of(version: RubricVersion) -> list[Criterion]:
    return [Criterion.model_validate(c) for c in version.criteria]


def bands_of(version: RubricVersion) -> list[Band]:
    return sorted((Band.model_validate(b) for b in version.bands), key=lambda b: -b.min_score)


def base_max(version: RubricVersion) -> Decimal:
    return sum((c.max_points for c in criteria_of(version) if not c.bonus), Decimal(0))


def bonus_max(version: RubricVersion) -> Decimal:
    return sum((c.max_points for c in criteria_of(version) if c.bonus), Decimal(0))


def _grade_in(bands: Sequence[Band], total: Decimal) -> Grade:
    for band in sorted(bands, key=lambda b: -b.min_score):
        if total >= band.min_score:
            return Grade(band.code)
    return Grade(GradeCode.fail)


def grade_for(version: RubricVersion, total: Decimal) -> Grade:
    """The grade band a total falls in (bands are checked to start at 0, so one always fits)."""
    return _grade_in(bands_of(version), total)


async def project_grade(session: AsyncSession, centre_id: int, total: Decimal) -> Grade:
    """The grade an award evaluation's total earns (SPEC §5: a grade is never entered on its own).

    Through the bands of the centre's project rubric, the one its award evaluation rounds
    use; the default bands when the centre has none.
    """
    version = await latest_version(session, centre_id, PROJECT_PURPOSES)
    if version is not None:
        return grade_for(version, total)
    return _grade_in([Band.model_validate(b) for b in DEFAULT_BANDS], total)


def _validated_version(data: RubricVersionIn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    errors: list[FieldError] = []
    keys = [c.key for c in data.criteria]
    if len(set(keys)) != len(keys):
        errors.append(FieldError("criteria", _("Each criterion needs its own key")))
    base = sum((c.max_points for c in data.criteria if not c.bonus), Decimal(0))
    if base != Decimal(100):
        errors.append(
            FieldError(
                "criteria",
                _("The base criteria must add up to 100 points (now {total})").format(total=f"{base:g}"),
            )
        )
    bands = data.bands if data.bands is not None else [Band.model_validate(b) for b in DEFAULT_BANDS]
    codes = [b.code for b in bands]
    minimums = [b.min_score for b in bands]
    if len(set(codes)) != len(codes) or len(set(minimums)) != len(minimums):
        errors.append(FieldError("bands", _("Each grade band needs its own grade and its own minimum")))
    elif min(minimums) != 0:
        errors.append(FieldError("bands", _("The lowest grade band must start at 0")))
    if errors:
        raise ValidationFailed(errors[0].message, details=errors)
    ordered = sorted(bands, key=lambda b: -b.min_score)
    return (
        [c.model_dump(mode="json") for c in data.criteria],
        [b.model_dump(mode="json") for b in ordered],
    )


def version_read(version: RubricVersion) -> RubricVersionRead:
    return RubricVersionRead(
        id=version.id,
        rubric_id=version.rubric_id,
        number=version.number,
        criteria=criteria_of(version),
        bands=bands_of(version),
        frozen=version.frozen,
        base_max=base_max(version),
        bonus_max=bonus_max(version),
        created_at=version.created_at,
    )


def rubric_read(rubric: Rubric) -> RubricRead:
    return RubricRead(
        id=rubric.id,
        name=rubric.name,
        purpose=rubric.purpose,
        description=rubric.description,
        versions=[version_read(v) for v in rubric.versions],
    )


async def list_rubrics(session: AsyncSession, principal: Principal) -> Sequence[Rubric]:
    repository = RubricRepository(session, principal)
    return await repository.get_all(repository.with_versions())


async def get_rubric(session: AsyncSession, principal: Principal, rubric_id: int) -> Rubric:
    return await RubricRepository(session, principal).get_with_versions(rubric_id)


async def get_version(session: AsyncSession, principal: Principal, version_id: int) -> RubricVersion:
    """A rubric version of the principal's centre (404 otherwise)."""
    repository = RubricVersionRepository(session, principal)
    return await repository.get(version_id, repository.with_rubric())


async def create_rubric(session: AsyncSession, principal: Principal, data: RubricCreate) -> Rubric:
    centre_id = access.centre_of(principal)
    criteria, bands = _validated_version(data)
    rubric = Rubric(centre_id=centre_id, name=data.name, purpose=data.purpose, description=data.description)
    session.add(rubric)
    await session.flush()
    session.add(
        RubricVersion(
            centre_id=centre_id,
            rubric_id=rubric.id,
            number=1,
            criteria=criteria,
            bands=bands,
            created_by=principal.user_id,
        )
    )
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="rubric.create",
        subject_type="rubric",
        subject_id=rubric.id,
        centre_id=centre_id,
        after={"name": data.name, "purpose": data.purpose, "criteria": criteria, "bands": bands},
    )
    return await get_rubric(session, principal, rubric.id)


async def add_version(
    session: AsyncSession, principal: Principal, rubric_id: int, data: RubricVersionIn
) -> RubricVersion:
    """Editing a rubric makes a new version; earlier versions stay as they were used."""
    centre_id = access.centre_of(principal)
    rubric = await get_rubric(session, principal, rubric_id)
    criteria, bands = _validated_version(data)
    number = await RubricVersionRepository(session, principal).latest_number(rubric.id) + 1
    version = RubricVersion(
        centre_id=centre_id,
        rubric_id=rubric.id,
        number=number,
        criteria=criteria,
        bands=bands,
        created_by=principal.user_id,
    )
    session.add(version)
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="rubric.version.create",
        subject_type="rubric_version",
        subject_id=version.id,
        centre_id=centre_id,
        after={"rubric_id": rubric.id, "number": number, "criteria": criteria, "bands": bands},
    )
    return version


async def update_version(
    session: AsyncSession, principal: Principal, rubric_id: int, version_id: int, data: RubricVersionIn
) -> RubricVersion:
    centre_id = access.centre_of(principal)
    repository = RubricVersionRepository(session, principal)
    version = await repository.get(version_id, repository.of_rubric(rubric_id))
    if version.frozen:
        raise Conflict(_("This rubric version has been used and is frozen; create a new version instead"))
    criteria, bands = _validated_version(data)
    before = {"criteria": version.criteria, "bands": version.bands}
    version.criteria, version.bands = criteria, bands
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="rubric.version.update",
        subject_type="rubric_version",
        subject_id=version.id,
        centre_id=centre_id,
        before=before,
        after={"criteria": criteria, "bands": bands},
    )
    return version


async def seed_default_rubrics(
    session: AsyncSession, centre_id: int, *, actor: Principal | None = None
) -> list[Rubric]:
    """The three default rubrics for a centre; those it already has (by name) are kept."""
    existing = await rubric_names(session, centre_id)
    created: list[Rubric] = []
    for spec in DEFAULT_RUBRICS:
        if spec["name"] in existing:
            continue
        data = RubricCreate.model_validate(spec)
        criteria, bands = _validated_version(data)
        rubric = Rubric(
            centre_id=centre_id, name=data.name, purpose=data.purpose, description=data.description
        )
        session.add(rubric)
        await session.flush()
        session.add(
            RubricVersion(centre_id=centre_id, rubric_id=rubric.id, number=1, criteria=criteria, bands=bands)
        )
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action="rubric.create",
            subject_type="rubric",
            subject_id=rubric.id,
            centre_id=centre_id,
            after={"name": data.name, "purpose": data.purpose, "default": True},
        )
        created.append(rubric)
    return created


def score_directly(version: RubricVersion, scores: dict[str, Decimal]) -> tuple[Decimal, Grade]:
    """Score one subject on a rubric in a single sitting (a capacity assessment by its assessor).

    Every base criterion needs a score within its bounds; bonus criteria are optional and
    capped by their maximum. The version is frozen from now on, like any used version.
    """
    criteria = {c.key: c for c in criteria_of(version)}
    errors: list[FieldError] = []
    unknown = sorted(set(scores) - set(criteria))
    for key in unknown:
        errors.append(FieldError(f"scores.{key}", _("No such criterion in this rubric")))
    for key, criterion in criteria.items():
        value = scores.get(key)
        if value is None:
            if not criterion.bonus:
                errors.append(
                    FieldError(f"scores.{key}", _("{name}: a score is required").format(name=criterion.name))
                )
            continue
        if value < 0 or value > criterion.max_points:
            errors.append(
                FieldError(
                    f"scores.{key}",
                    _("{name}: between 0 and {max} points").format(
                        name=criterion.name, max=format(criterion.max_points.normalize(), "f")
                    ),
                )
            )
    if errors:
        raise ValidationFailed(errors[0].message, details=errors)
    total = sum((points(scores[key]) for key in criteria if key in scores), Decimal(0)).quantize(CENT)
    version.frozen = True
    return total, grade_for(version, total)
