"""Uploaded files: type checked by content (not by name), size-limited, stored with SHA-256.

Domains link a ``StoredFile`` to their record and decide who may read it; this module only
stores and fetches bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import tempfile
import zipfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow
from core.errors import DomainError, NotFound, PayloadTooLarge, ValidationFailed
from core.i18n import _

log = logging.getLogger(__name__)


class StorageUnavailable(DomainError):
    """The data directory cannot be written or read (full, read-only, wrong owner): a fault
    of the installation, not of the request, so a 503 that asks to try again later."""

    status_code = 503
    code = "storage_unavailable"

    def __init__(self, message: str, *, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def storage_unavailable(exc: OSError, what: str) -> StorageUnavailable:
    log.error("cannot %s: %s", what, exc)
    return StorageUnavailable(_("Files cannot be stored or read right now; please try again later"))


def file_missing(exc: FileNotFoundError, what: str) -> NotFound:
    log.error("%s is listed but missing on disk: %s", what, exc)
    return NotFound(_("The file is no longer in storage; ask the centre's administrator"))


class StoredFile(Base):
    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100))
    original_name: Mapped[str] = mapped_column(String(255))
    storage_key: Mapped[str] = mapped_column(String(200))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


OFFICE_TYPES = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}


def sniff(content: bytes) -> str | None:
    """The content type the bytes really are, or None when not an accepted kind."""
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    if content.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "application/msword"  # legacy Office (doc, xls, ppt)
    if content.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(BytesIO(content)) as archive:
                names = archive.namelist()
        except zipfile.BadZipFile:
            return None
        if "[Content_Types].xml" in names:
            for prefix, content_type in OFFICE_TYPES.items():
                if any(name.startswith(prefix) for name in names):
                    return content_type
    return None


@dataclass(frozen=True)
class FileStore:
    root: Path

    def path_for(self, key: str) -> Path:
        return self.root / key[:2] / key

    def write(self, content: bytes) -> str:
        """Write atomically (temp file, fsync, rename); the key is the SHA-256."""
        key = hashlib.sha256(content).hexdigest()
        target = self.path_for(key)
        try:
            if target.exists():
                return key
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(content)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temp, target)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise storage_unavailable(exc, "store an upload") from exc
        return key

    def read(self, key: str) -> bytes:
        try:
            return self.path_for(key).read_bytes()
        except FileNotFoundError as exc:
            raise file_missing(exc, "an uploaded file") from exc
        except OSError as exc:
            raise storage_unavailable(exc, "read an uploaded file") from exc


async def store_upload(
    session: AsyncSession,
    store: FileStore,
    *,
    centre_id: int,
    uploaded_by: int | None,
    filename: str,
    content: bytes,
    max_bytes: int,
) -> StoredFile:
    if len(content) > max_bytes:
        raise PayloadTooLarge(_("The file is larger than {mb} MB").format(mb=max_bytes // (1024 * 1024)))
    if not content:
        raise ValidationFailed.field("file", _("The file is empty"))
    content_type = sniff(content)
    if content_type is None:
        raise ValidationFailed.field("file", _("Only PDF, images and Office documents are accepted"))
    key = store.write(content)
    stored = StoredFile(
        centre_id=centre_id,
        sha256=key,
        size=len(content),
        content_type=content_type,
        original_name=Path(filename or "file").name[:255],
        storage_key=key,
        uploaded_by=uploaded_by,
    )
    session.add(stored)
    await session.flush()
    return stored
