"""Document numbers under concurrency on PostgreSQL: many official reports of one kind
generated at once each get their own number, 1…N with no gap and no repeat; each taking is
audited. Each generation has its own connection and commits for real."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import audit
from core.audit import AuditEvent
from core.db import create_engine, session_factory, utcnow
from core.identity.models import Role
from reports.archive import FilesystemReportStore
from reports.briefing import KIND_CODE
from reports.kinds import SHANGHAI
from reports.models import GeneratedReport, Generator, LetterStyle
from reports.schemas import ReportStyleIn
from reports.service import ReportOutput, generate
from reports.style import set_style
from tests.conftest import TestDatabase, drop_pg_database, migrated_pg_database
from tests.factories import make_centre, make_user

N = 12
pytestmark = pytest.mark.postgres_only


class FakePdf:
    """A renderer that answers at once, so the race is about numbering, not WeasyPrint."""

    async def render(self, html: str) -> bytes:
        await asyncio.sleep(0.01)
        return b"%PDF-1.7 " + html.encode()[-64:]


@pytest_asyncio.fixture
async def committed(database: TestDatabase) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    if database.backend != "postgresql":
        pytest.skip("row locks under concurrency are proved on PostgreSQL")
    url = await migrated_pg_database("seedbed_numbers")
    engine = create_engine(url, pool=False, statement_timeout_ms=30_000)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()
        await drop_pg_database(url)


async def test_concurrent_official_reports_get_distinct_numbers(
    committed: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    async with committed() as session:
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
        await set_style(
            session,
            staff.principal,
            ReportStyleIn(
                style=LetterStyle.official, issuing_unit="玉林街道社会组织孵化中心", doc_prefix="玉林孵"
            ),
        )
        await session.commit()
        centre_id = centre.id
    output = ReportOutput(store=FilesystemReportStore(tmp_path / "r"), renderer=FakePdf())

    async def one(index: int) -> str | None:
        async with committed() as session:
            report = await generate(
                session,
                output,
                kind_code=KIND_CODE,
                scope_id=centre_id,
                period=f"2026-{index % 12 + 1:02d}",
                generator=Generator.user,
            )
            await session.commit()
            return report.doc_number

    numbers = await asyncio.gather(*(one(i) for i in range(N)))
    year = utcnow().astimezone(SHANGHAI).year
    assert sorted(numbers, key=lambda n: int((n or "").split("〕")[1].rstrip("号"))) == [
        f"玉林孵简〔{year}〕{i}号" for i in range(1, N + 1)
    ]
    async with committed() as session:
        stored = await session.scalar(
            select(func.count(func.distinct(GeneratedReport.doc_number))).where(
                GeneratedReport.centre_id == centre_id
            )
        )
        taken = await session.scalar(select(func.count()).where(AuditEvent.action == "report.number"))
        _checked, problems = await audit.verify(session)
    assert stored == N
    assert taken == N
    assert problems == []
