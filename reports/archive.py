"""Where report files live, and how they get there without ever being half-written.

The order of a write is: render fully in memory, write a temporary file in the target
directory, fsync it, ``os.replace`` it onto its final name, fsync the directory, and only
then insert the database row (the archive's listing). A crash before the rename leaves at
most a ``.tmp`` file that nothing lists; a crash between the rename and the commit leaves
an unlisted file (removed when the insert itself fails). Listed means complete.

A directory that cannot be written is ``StorageUnavailable`` (503, try later); a listed
file gone from disk is ``NotFound``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from core.files import file_missing, storage_unavailable

_SAFE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,480}$")


class ReportStore(Protocol):
    """Storage for rendered reports (filesystem today, object storage later)."""

    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...

    async def exists(self, key: str) -> bool: ...


@dataclass(frozen=True)
class StoredFile:
    key: str
    size: int
    sha256: str


def new_key(centre_id: int, kind: str, scope: str, period: str, version: int) -> str:
    """A unique, path-safe key; the random part keeps concurrent writers apart."""
    clean = [re.sub(r"[^A-Za-z0-9_-]", "_", part)[:64] for part in (kind, scope, period)]
    return f"{centre_id}/{clean[0]}/{clean[1]}/{clean[2]}/v{version}-{uuid.uuid4().hex[:12]}.pdf"


class FilesystemReportStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not _SAFE_KEY.match(key) or ".." in key.split("/"):
            raise ValueError(f"unsafe storage key: {key!r}")
        return self.root / key

    def _write(self, key: str, data: bytes) -> None:
        final = self._path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        temporary = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            with temporary.open("xb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, final)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
            raise
        directory = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    async def put(self, key: str, data: bytes) -> None:
        try:
            await asyncio.to_thread(self._write, key, data)
        except OSError as exc:
            raise storage_unavailable(exc, "archive a report") from exc

    async def get(self, key: str) -> bytes:
        try:
            return await asyncio.to_thread(self._path(key).read_bytes)
        except FileNotFoundError as exc:
            raise file_missing(exc, "an archived report") from exc
        except OSError as exc:
            raise storage_unavailable(exc, "read an archived report") from exc

    async def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(self._path(key).unlink)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._path(key).is_file)


async def store_pdf(store: ReportStore, key: str, data: bytes) -> StoredFile:
    await store.put(key, data)
    return StoredFile(key=key, size=len(data), sha256=hashlib.sha256(data).hexdigest())
