"""Synthetic but realistic data, bulk-loaded with COPY into a throwaway PostgreSQL database.

Seeding is a list of steps (``SEEDERS``), each filling its domain's tables for a size.
Grants are seeded between organisations and evaluations: programmes of
``APPLICATIONS_PER_PROGRAMME`` applications with budget lines and indicators, a quarter of
them awarded with three tranches each, and the first tranche of every award signed and
requested (a disbursement awaiting a finance officer). The review-round subjects the
evaluations step creates are those applications, so score sheets link to them.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import asyncpg
from sqlalchemy import Table

import api.models  # noqa: F401  (every table in the metadata)
from core.db import Base, utcnow
from incubator.uscc import check_character, organisation_code_check


@dataclass(frozen=True)
class Size:
    name: str
    organisations: int
    subjects: int  # "applications": the round subjects evaluators score
    sheets: int

    @property
    def rounds(self) -> int:
        return max(1, self.subjects // SUBJECTS_PER_ROUND)

    @property
    def programmes(self) -> int:
        return max(1, self.subjects // APPLICATIONS_PER_PROGRAMME)


SUBJECTS_PER_ROUND = 100
APPLICATIONS_PER_PROGRAMME = 1_000
SIZES = {
    "XS": Size("XS", organisations=300, subjects=3_000, sheets=15_000),  # a smoke run of the harness
    "S": Size("S", organisations=1_000, subjects=10_000, sheets=50_000),
    "L": Size("L", organisations=10_000, subjects=100_000, sheets=500_000),
}


@dataclass
class World:
    """What later steps and the load generator need: ids and the bench user's token."""

    centre_id: int = 0
    staff_id: int = 0
    token: str = ""
    session_token: str = ""
    """The bench user's web session (the HTML pages), beside the API token."""
    organisation_ids: list[int] = field(default_factory=list)
    round_ids: list[int] = field(default_factory=list)
    evaluator_ids: list[int] = field(default_factory=list)
    rubric_version_id: int = 0
    finance_id: int = 0
    finance_token: str = ""
    programme_ids: list[int] = field(default_factory=list)
    application_ids: list[int] = field(default_factory=list)
    application_orgs: list[int] = field(default_factory=list)
    award_ids: list[int] = field(default_factory=list)
    disbursement_ids: list[int] = field(default_factory=list)


Seeder = Callable[[asyncpg.Connection, World, Size, random.Random], Awaitable[None]]
SEEDERS: list[tuple[str, Seeder]] = []


def seeder(name: str) -> Callable[[Seeder], Seeder]:
    def register(step: Seeder) -> Seeder:
        SEEDERS.append((name, step))
        return step

    return register


def _value(column: Any, value: Any) -> Any:
    if value is None:
        return None
    if type(column.type).__name__ == "JSON":
        return json.dumps(value, ensure_ascii=False)
    return value


async def copy_rows(conn: asyncpg.Connection, table_name: str, rows: Sequence[dict[str, Any]]) -> None:
    """COPY rows into a table; columns left out get the model's Python default."""
    if not rows:
        return
    table: Table = Base.metadata.tables[table_name]
    given = set(rows[0])
    defaults: dict[str, Any] = {}
    now = utcnow()
    for column in table.columns:
        if column.name in given or column.default is None:
            continue
        default = column.default
        if getattr(default, "is_scalar", False):
            defaults[column.name] = default.arg  # type: ignore[attr-defined]
        elif getattr(default, "is_callable", False):
            defaults[column.name] = now if column.name.endswith("_at") else default.arg(None)  # type: ignore[attr-defined]
    columns = [*given, *defaults]
    by_name = {c.name: c for c in table.columns}
    records = [
        tuple(_value(by_name[name], row[name] if name in row else defaults[name]) for name in columns)
        for row in rows
    ]
    for start in range(0, len(records), 50_000):
        await conn.copy_records_to_table(table_name, records=records[start : start + 50_000], columns=columns)


async def next_id(conn: asyncpg.Connection, table: str) -> int:
    value: int = await conn.fetchval(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
    return value


async def reset_sequence(conn: asyncpg.Connection, table: str) -> None:
    await conn.execute(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
    )


COMMUNITIES = [
    "玉林北路社区",
    "玉林东路社区",
    "黉门街社区",
    "浆洗街社区",
    "望江路社区",
    "簇桥社区",
    "火车南站社区",
    "红牌楼社区",
]
WORDS = ["邻里", "互助", "阳光", "夕阳红", "童趣", "绿色家园", "书香", "志愿", "暖心", "助残", "法律", "文体"]
KINDS = ["social_group", "social_service", "foundation", "community_group"]
LEGAL = ["unregistered", "filed", "registered"]
FIELDS = [
    "elderly",
    "disability",
    "youth",
    "women_children",
    "environment",
    "culture_sports",
    "legal",
    "volunteering",
]
SUFFIXES = ["会", "服务社", "志愿队", "协会"]
STATES = ["applied", "assessed", "admitted", "incubating", "graduated", "exited"]


def _uscc(n: int) -> str:
    """A valid unified social credit code (GB 32100), unique per number."""
    body = f"{n:08d}"
    first17 = "51" + "440106" + body + organisation_code_check(body)
    return first17 + check_character(first17)


@seeder("organisations, stays, support activities")
async def seed_incubator(conn: asyncpg.Connection, world: World, size: Size, rng: random.Random) -> None:
    first = await next_id(conn, "organisations")
    orgs: list[dict[str, Any]] = []
    stays: list[dict[str, Any]] = []
    activities: list[dict[str, Any]] = []
    today = dt.date(2026, 3, 1)
    for n in range(size.organisations):
        org_id = first + n
        state = rng.choice(STATES)
        legal = rng.choice(LEGAL)
        orgs.append(
            {
                "id": org_id,
                "centre_id": world.centre_id,
                "name": f"{rng.choice(COMMUNITIES)[:-2]}{rng.choice(WORDS)}{rng.choice(SUFFIXES)}{n}",
                "kind": rng.choice(KINDS),
                "legal_status": legal,
                "uscc": _uscc(org_id) if legal == "registered" else None,
                "service_fields": rng.sample(FIELDS, 2),
                "community": rng.choice(COMMUNITIES),
                "street": "玉林街道",
                "contact_name": "联系人",
                "contact_phone": f"138{n:08d}",
                "founded_on": today - dt.timedelta(days=rng.randint(100, 4000)),
                "staff_count": rng.randint(0, 12),
                "volunteer_count": rng.randint(5, 300),
                "incubation_state": state,
            }
        )
        active = state not in ("graduated", "exited")
        stays.append(
            {
                "centre_id": world.centre_id,
                "organisation_id": org_id,
                "state": state,
                "is_active": active,
                "applied_on": today - dt.timedelta(days=rng.randint(30, 700)),
            }
        )
        for k in range(5):
            activities.append(
                {
                    "centre_id": world.centre_id,
                    "organisation_id": org_id,
                    "kind": rng.choice(
                        ["training", "consultation", "mentoring", "resource_linkage", "event"]
                    ),
                    "held_on": today - dt.timedelta(days=rng.randint(0, 365)),
                    "hours": Decimal(rng.randint(1, 16)) / 2,
                    "topic": f"辅导{k}",
                    "given_by": "李老师",
                    "participants": rng.randint(0, 40),
                }
            )
    await copy_rows(conn, "organisations", orgs)
    await copy_rows(conn, "incubation_stays", stays)
    await copy_rows(conn, "support_activities", activities)
    for table in ("organisations", "incubation_stays", "support_activities"):
        await reset_sequence(conn, table)
    world.organisation_ids = [o["id"] for o in orgs]


CATEGORIES = [("elderly", "为老服务"), ("youth", "青少年服务"), ("governance", "社区治理")]
BUDGET_ITEMS = [
    ("personnel", "项目社工劳务补贴", "grant"),
    ("activities", "社区活动组织", "grant"),
    ("materials", "活动物资", "grant"),
    ("venue", "场地及志愿者保险（自筹）", "cofunding"),
]
APPLICATION_STATES = [
    "awarded",
    "rejected",
    "not_recommended",
    "ineligible",
    "withdrawn",
    "awarded",
    "rejected",
    "rejected",
]


@seeder("programmes, applications, budget lines, awards, tranches, disbursement requests")
async def seed_grants(conn: asyncpg.Connection, world: World, size: Size, rng: random.Random) -> None:
    programme_first = await next_id(conn, "programmes")
    category_first = await next_id(conn, "programme_categories")
    application_first = await next_id(conn, "applications")
    award_first = await next_id(conn, "awards")
    tranche_first = await next_id(conn, "tranches")
    disbursement_first = await next_id(conn, "disbursements")
    programmes: list[dict[str, Any]] = []
    categories: list[dict[str, Any]] = []
    plan: list[dict[str, Any]] = []
    applications: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    indicators: list[dict[str, Any]] = []
    awards: list[dict[str, Any]] = []
    tranches: list[dict[str, Any]] = []
    agreements: list[dict[str, Any]] = []
    disbursements: list[dict[str, Any]] = []
    for p in range(size.programmes):
        programme_id = programme_first + p
        year = 2016 + p % 11
        opens = dt.datetime(year, 3, 1, 1, tzinfo=dt.UTC)
        category_ids = []
        for code, name in CATEGORIES:
            category_ids.append(category_first + len(categories))
            categories.append(
                {"id": category_ids[-1], "programme_id": programme_id, "code": code, "name": name,
                 "budget": Decimal("10000000.00"), "committed": Decimal("0.00")}
            )  # fmt: skip
        for seq, (share, trigger) in enumerate(
            ((50, "on_signing"), (30, "midterm_passed"), (20, "final_passed"))
        ):
            plan.append(
                {
                    "programme_id": programme_id,
                    "seq": seq + 1,
                    "share_pct": Decimal(share),
                    "trigger": trigger,
                }
            )
        committed = Decimal("0.00")
        by_category = dict.fromkeys(category_ids, Decimal("0.00"))
        for n in range(APPLICATIONS_PER_PROGRAMME):
            application_id = application_first + len(applications)
            org_id = rng.choice(world.organisation_ids)
            prices = [Decimal(rng.randint(20, 90) * 100), Decimal(rng.randint(50, 250) * 100),
                      Decimal(rng.randint(10, 60) * 100), Decimal(rng.randint(10, 40) * 100)]  # fmt: skip
            grant = sum(prices[:3], Decimal("0.00"))
            state = APPLICATION_STATES[n % len(APPLICATION_STATES)]
            category_id = category_ids[n % len(category_ids)]
            approved = grant if state == "awarded" else None
            applications.append(
                {
                    "id": application_id, "centre_id": world.centre_id, "programme_id": programme_id,
                    "organisation_id": org_id, "category_id": category_id, "state": state,
                    "title": f"社区公益项目{application_id}", "target_community": rng.choice(COMMUNITIES),
                    "beneficiaries": "辖区居民", "beneficiary_count": rng.randint(30, 600),
                    "needs": "来自社区需求调研", "objectives": "提升社区居民获得感与参与度",
                    "activities": [{"name": "项目实施", "starts_on": f"{year}-06-01"}],
                    "requested_amount": grant, "cofunding_amount": prices[3],
                    "total_budget": grant + prices[3],
                    "approved_amount": approved, "submitted_at": opens + dt.timedelta(days=10),
                    "review_score": Decimal(rng.randint(5500, 9600)) / 100, "rank": n + 1,
                    "created_by": world.staff_id,
                }
            )  # fmt: skip
            for seq, ((category, item, funded_by), price) in enumerate(
                zip(BUDGET_ITEMS, prices, strict=True)
            ):
                lines.append(
                    {"application_id": application_id, "seq": seq, "category": category, "item": item,
                     "unit_price": price, "quantity": Decimal("1.00"), "amount": price,
                     "funded_by": funded_by}
                )  # fmt: skip
            indicators.append({"application_id": application_id, "seq": 0, "kind": "output",
                               "name": "服务人次", "target": Decimal(600), "unit": "人次"})  # fmt: skip
            indicators.append({"application_id": application_id, "seq": 1, "kind": "outcome",
                               "name": "服务对象满意度", "target": Decimal(90), "unit": "%"})  # fmt: skip
            world.application_ids.append(application_id)
            world.application_orgs.append(org_id)
            if approved is None:
                continue
            award_id = award_first + len(awards)
            committed += approved
            by_category[category_id] += approved
            signed = dt.date(year, 6, 1)
            awards.append(
                {"id": award_id, "centre_id": world.centre_id, "programme_id": programme_id,
                 "application_id": application_id, "organisation_id": org_id, "category_id": category_id,
                 "title": f"社区公益项目{application_id}", "amount": approved, "paid": Decimal("0.00"),
                 "state": "active", "signed_on": signed, "awarded_on": dt.date(year, 5, 20)}
            )  # fmt: skip
            agreements.append({"award_id": award_id, "signed_on": signed, "signed_by": world.staff_id})
            first_share = (approved / 2).quantize(Decimal("0.01"))
            shares = [first_share, (approved * 3 / 10).quantize(Decimal("0.01"))]
            shares.append(approved - shares[0] - shares[1])
            for seq, (share, trigger, amount) in enumerate(
                zip((50, 30, 20), ("on_signing", "midterm_passed", "final_passed"), shares, strict=True)
            ):
                tranche_id = tranche_first + len(tranches)
                tranches.append(
                    {"id": tranche_id, "award_id": award_id, "seq": seq + 1, "share_pct": Decimal(share),
                     "trigger": trigger, "amount": amount, "state": "requested" if seq == 0 else "planned",
                     "due_on": signed if seq == 0 else None}
                )  # fmt: skip
                if seq == 0:
                    disbursement_id = disbursement_first + len(disbursements)
                    disbursements.append(
                        {"id": disbursement_id, "centre_id": world.centre_id, "award_id": award_id,
                         "tranche_id": tranche_id, "payee_organisation_id": org_id, "amount": amount,
                         "state": "requested", "note": "", "requested_by": world.staff_id,
                         "requested_by_name": "staff@bench.example.org"}
                    )  # fmt: skip
                    world.disbursement_ids.append(disbursement_id)
            world.award_ids.append(award_id)
        for row in categories[-len(category_ids) :]:
            row["committed"] = by_category[row["id"]]
        programmes.append(
            {
                "id": programme_id, "centre_id": world.centre_id, "name": f"{year}年公益创投（第{p + 1}期）",
                "year": year, "kind": "venture", "state": "running",
                "description": "面向辖区社区社会组织和居民团队的公益创投。",
                "total_budget": Decimal("30000000.00"), "committed": committed,
                "max_award_registered": Decimal("200000.00"), "max_award_community": Decimal("30000.00"),
                "min_cofunding_pct": Decimal("10"), "rubric_version_id": world.rubric_version_id,
                "min_reviewers": 3, "opens_at": opens, "closes_at": opens + dt.timedelta(days=30),
                "publicity_working_days": 5,
            }
        )  # fmt: skip
        world.programme_ids.append(programme_id)
    for table, rows in (
        ("programmes", programmes),
        ("programme_categories", categories),
        ("tranche_plan_rows", plan),
        ("applications", applications),
        ("budget_lines", lines),
        ("indicators", indicators),
        ("awards", awards),
        ("award_agreements", agreements),
        ("tranches", tranches),
        ("disbursements", disbursements),
    ):
        await copy_rows(conn, table, rows)
        if table != "award_agreements":
            await reset_sequence(conn, table)


@seeder("review rounds, subjects, assignments, score sheets")
async def seed_evaluations(conn: asyncpg.Connection, world: World, size: Size, rng: random.Random) -> None:
    sheets_per_subject = max(1, size.sheets // size.subjects)
    round_first = await next_id(conn, "review_rounds")
    subject_first = await next_id(conn, "round_subjects")
    assignment_first = await next_id(conn, "assignments")
    sheet_first = await next_id(conn, "score_sheets")
    rounds: list[dict[str, Any]] = []
    subjects: list[dict[str, Any]] = []
    assignments: list[dict[str, Any]] = []
    sheets: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    now = utcnow()
    for r in range(size.rounds):
        round_id = round_first + r
        rounds.append(
            {
                "id": round_id,
                "centre_id": world.centre_id,
                "name": f"{2016 + r % 10}年公益创投评审第{r + 1}轮",
                "purpose": "application_review",
                "rubric_version_id": world.rubric_version_id,
                "min_sheets_per_subject": sheets_per_subject,
                "state": "open",
                "created_by": world.staff_id,
            }
        )
        for _s in range(SUBJECTS_PER_ROUND):
            subject_id = subject_first + len(subjects)
            n = len(subjects)
            subjects.append(
                {
                    "id": subject_id,
                    "centre_id": world.centre_id,
                    "round_id": round_id,
                    "subject_type": "application",
                    "subject_id": world.application_ids[n] if n < len(world.application_ids) else subject_id,
                    "organisation_id": world.application_orgs[n]
                    if n < len(world.application_orgs)
                    else rng.choice(world.organisation_ids),
                    "category": rng.choice(["为老服务", "青少年", "社区治理", "环保"]),
                    "title": f"社区项目{subject_id}",
                    "requested_amount": Decimal(rng.randint(10, 200) * 1000),
                    "display": {"summary": "为社区居民提供服务"},
                }
            )
            evaluators = rng.sample(world.evaluator_ids, sheets_per_subject)
            for evaluator in evaluators:
                assignment_id = assignment_first + len(assignments)
                sheet_id = sheet_first + len(sheets)
                need, budget = rng.randint(30, 60), rng.randint(15, 40)
                assignments.append(
                    {
                        "id": assignment_id,
                        "centre_id": world.centre_id,
                        "round_id": round_id,
                        "subject_id": subject_id,
                        "evaluator_id": evaluator,
                        "state": "active",
                        "declared_at": now,
                        "assigned_by": world.staff_id,
                    }
                )
                sheets.append(
                    {
                        "id": sheet_id,
                        "centre_id": world.centre_id,
                        "round_id": round_id,
                        "subject_id": subject_id,
                        "assignment_id": assignment_id,
                        "evaluator_id": evaluator,
                        "kind": "expert",
                        "state": "submitted",
                        "total": Decimal(need + budget),
                        "submitted_at": now,
                    }
                )
                items.append({"sheet_id": sheet_id, "criterion_key": "need", "score": Decimal(need)})
                items.append({"sheet_id": sheet_id, "criterion_key": "budget", "score": Decimal(budget)})
    for table, rows in (
        ("review_rounds", rounds),
        ("round_subjects", subjects),
        ("assignments", assignments),
        ("score_sheets", sheets),
        ("score_items", items),
    ):
        await copy_rows(conn, table, rows)
        await reset_sequence(conn, table)
    world.round_ids = [r["id"] for r in rounds]
