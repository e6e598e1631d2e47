"""The demo centre: a Chengdu street incubation centre with one user per role.

Loaded by ``seedbed demo load`` and by ``make run`` on first start. Idempotent: a second
load finds the centre and changes nothing. Chinese literals are demo data, by design.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from core.identity import repository as identity_queries
from core.identity import service as identity
from core.identity.models import Centre, Role, User
from core.identity.schemas import CentreCreate, UserCreate

DEMO_SLUG = "yulin"
DEMO_PASSWORD = "seedbed-demo-2026"


@dataclass(frozen=True)
class DemoAccount:
    role: str
    email: str
    name: str


DEMO_ACCOUNTS: list[tuple[Role, str, str]] = [
    (Role.staff, "staff@yulin.demo", "李晓燕"),
    (Role.applicant, "applicant@yulin.demo", "王建国"),
    (Role.finance, "finance@yulin.demo", "陈静"),
    (Role.evaluator, "evaluator@yulin.demo", "张明"),
    (Role.admin, "admin@yulin.demo", "刘洋"),
]
EXTRA_EVALUATORS = [("evaluator2@yulin.demo", "赵丽"), ("evaluator3@yulin.demo", "孙海峰")]
DISTRICT_ACCOUNT = ("district@wuhou.demo", "周敏")


@dataclass
class DemoContext:
    session: AsyncSession
    centre: Centre
    users: dict[str, User]
    accounts: list[DemoAccount] = field(default_factory=list)
    """Accounts a step adds (listed after the base ones)."""


DemoStep = Callable[[DemoContext], Awaitable[None]]
DEMO_STEPS: list[DemoStep] = []


def demo_step(step: DemoStep) -> DemoStep:
    """Domains' demo data (organisations, programmes, …) register a step here."""
    DEMO_STEPS.append(step)
    return step


async def load_demo(session: AsyncSession) -> list[DemoAccount] | None:
    """Create the demo centre; ``None`` when it already exists."""
    load_domain_steps()
    if await identity_queries.get_centre_by_slug(session, DEMO_SLUG) is not None:
        return None
    centre = await identity.create_centre(
        session,
        CentreCreate(
            slug=DEMO_SLUG,
            name="成都市武侯区玉林街道社会组织孵化中心",
            city="成都市",
            district="武侯区",
            street="玉林街道",
        ),
        actor=None,
    )
    users: dict[str, User] = {}
    accounts: list[DemoAccount] = []
    for role, email, name in DEMO_ACCOUNTS:
        users[role.value] = await identity.create_user(
            session,
            UserCreate(
                email=email, password=DEMO_PASSWORD, full_name=name, roles=[role], centre_id=centre.id
            ),
            actor=None,
        )
        accounts.append(DemoAccount(role.value, email, name))
    for email, name in EXTRA_EVALUATORS:
        users[email] = await identity.create_user(
            session,
            UserCreate(
                email=email,
                password=DEMO_PASSWORD,
                full_name=name,
                roles=[Role.evaluator],
                centre_id=centre.id,
            ),
            actor=None,
        )
        accounts.append(DemoAccount("evaluator", email, name))
    email, name = DISTRICT_ACCOUNT
    users["district"] = await identity.create_user(
        session,
        UserCreate(email=email, password=DEMO_PASSWORD, full_name=name, roles=[Role.staff], is_district=True),
        actor=None,
    )
    accounts.append(DemoAccount("district (read-only)", email, name))
    context = DemoContext(session=session, centre=centre, users=users)
    for step in DEMO_STEPS:
        await step(context)
    return accounts + context.accounts


def load_domain_steps() -> None:
    """Import the modules whose demo steps register themselves (order matters)."""
    import importlib

    for module in (
        "demo.evaluations",
        "demo.incubator",
        "demo.grants",
        "demo.awards",
        "demo.network",
        "demo.funds",
    ):
        importlib.import_module(module)
