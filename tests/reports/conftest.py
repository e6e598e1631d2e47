"""Shared pieces for the reports tests: one renderer pool, a store per test, PDF reading."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.identity.models import Centre
from reports.archive import FilesystemReportStore
from reports.pdf import PdfRenderer
from reports.registry import register_report_kinds
from reports.service import ReportOutput

register_report_kinds()


@pytest.fixture(scope="session")
def renderer() -> Iterator[PdfRenderer]:
    pool = PdfRenderer(2)
    try:
        yield pool
    finally:
        pool.shutdown()


@pytest.fixture
def output(tmp_path: Path, renderer: PdfRenderer) -> ReportOutput:
    return ReportOutput(store=FilesystemReportStore(tmp_path / "reports"), renderer=renderer)


def pdf_pages(data: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(data))
    return [page.extract_text() or "" for page in reader.pages]


def pdf_fonts(data: bytes) -> set[str]:
    reader = PdfReader(io.BytesIO(data))
    names: set[str] = set()
    for page in reader.pages:
        resources: Any = page["/Resources"]
        if "/Font" in resources:
            for font in resources["/Font"].get_object().values():
                names.add(str(font.get_object()["/BaseFont"]))
    return names


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


async def add_events(session: AsyncSession, centre: Centre, count: int, action: str = "test.action") -> None:
    for index in range(count):
        await audit.record(
            session,
            actor=None,
            action=action,
            subject_type="thing",
            subject_id=index + 1,
            centre_id=centre.id,
        )


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
