"""Atomic, versioned archive: a crash leaves nothing listed; regeneration adds a version."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.files import StorageUnavailable
from core.identity.models import Role
from reports import archive
from reports.archive import FilesystemReportStore
from reports.briefing import KIND_CODE
from reports.models import GeneratedReport, Generator
from reports.service import ReportOutput, generate
from tests.factories import make_centre, make_user
from tests.reports.conftest import files_under, pdf_pages, squash


class ExplodingRenderer:
    async def render(self, html: str) -> bytes:
        raise RuntimeError("WeasyPrint died mid-render")


async def _listed(session: AsyncSession, centre_id: int) -> int:
    statement = select(func.count(GeneratedReport.id)).where(GeneratedReport.centre_id == centre_id)
    return int((await session.execute(statement)).scalar_one())


async def test_renderer_crash_leaves_nothing(session: AsyncSession, tmp_path: Path) -> None:
    centre = await make_centre(session)
    store_root = tmp_path / "reports"
    output = ReportOutput(store=FilesystemReportStore(store_root), renderer=ExplodingRenderer())
    with pytest.raises(RuntimeError, match="mid-render"):
        await generate(
            session,
            output,
            kind_code=KIND_CODE,
            scope_id=centre.id,
            period="2026-10",
            generator=Generator.user,
        )
    assert await _listed(session, centre.id) == 0
    assert files_under(store_root) == []


async def test_crash_during_the_write_leaves_no_file(
    session: AsyncSession, output: ReportOutput, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    centre = await make_centre(session)

    def killed(src: object, dst: object) -> None:
        raise OSError("power cut before rename")

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(StorageUnavailable) as failed:
        await generate(
            session,
            output,
            kind_code=KIND_CODE,
            scope_id=centre.id,
            period="2026-10",
            generator=Generator.user,
        )
    assert "power cut" in str(failed.value.__cause__)
    assert await _listed(session, centre.id) == 0
    assert files_under(tmp_path / "reports") == []


async def test_crash_after_the_write_removes_the_file(
    session: AsyncSession, output: ReportOutput, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is in place but the row cannot be written: the file goes, nothing is listed."""
    centre = await make_centre(session)

    async def broken_audit(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(audit, "record", broken_audit)
    with pytest.raises(RuntimeError, match="database went away"):
        await generate(
            session,
            output,
            kind_code=KIND_CODE,
            scope_id=centre.id,
            period="2026-10",
            generator=Generator.user,
        )
    await session.rollback()
    assert files_under(tmp_path / "reports") == []


def test_store_refuses_unsafe_keys(tmp_path: Path) -> None:
    store = FilesystemReportStore(tmp_path)
    with pytest.raises(ValueError, match="unsafe"):
        store._path("../../etc/passwd")
    assert archive.new_key(1, "centre_monthly", "centre-1", "2026-10", 2).startswith(
        "1/centre_monthly/centre-1/2026-10/v2-"
    )


async def test_regeneration_is_a_new_version(client: httpx.AsyncClient, session: AsyncSession) -> None:
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    body = {"kind": KIND_CODE, "period": "2026-10"}
    first = await client.post("/api/v1/reports", json=body, headers=staff.headers)
    second = await client.post("/api/v1/reports", json=body, headers=staff.headers)
    assert first.status_code == 201, first.text
    assert second.status_code == 201, second.text
    assert [first.json()["version"], second.json()["version"]] == [1, 2]
    assert first.json()["created_at"] != second.json()["created_at"]
    assert first.json()["generator"] == "user"

    listed = (await client.get("/api/v1/reports", headers=staff.headers)).json()
    assert listed["total"] == 2
    assert [item["version"] for item in listed["items"]] == [2, 1]
    for item in listed["items"]:
        download = await client.get(item["download_url"], headers=staff.headers)
        assert download.status_code == 200
        assert download.headers["content-type"] == "application/pdf"
        assert download.headers["x-content-sha256"] == item["sha256"]
        assert len(download.content) == item["size"]
        assert "2026年10月" in squash("".join(pdf_pages(download.content)))
