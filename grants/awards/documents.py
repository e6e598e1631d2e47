"""An award's files (signed agreement, receipts): stored by content, read by whoever reads the award."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.errors import Forbidden, NotFound
from core.files import FileStore, StoredFile, store_upload
from core.i18n import _
from core.identity import service as identity
from core.identity.models import Role
from core.identity.principal import Principal
from grants.awards import repository as queries
from grants.awards.models import (
    AwardDocument,
    DocumentKind,
)
from grants.awards.service import get_award, is_grantee


async def upload_document(
    session: AsyncSession,
    principal: Principal,
    store: FileStore,
    award_id: int,
    *,
    kind: DocumentKind,
    label: str,
    filename: str,
    content: bytes,
    max_bytes: int,
) -> AwardDocument:
    award = await get_award(session, principal, award_id)
    identity.require_writer(principal)
    if not (principal.has(Role.staff) or await is_grantee(session, principal, award)):
        raise Forbidden(_("Only centre staff or the grantee organisation may add documents"))
    stored = await store_upload(
        session,
        store,
        centre_id=award.centre_id,
        uploaded_by=principal.user_id,
        filename=filename,
        content=content,
        max_bytes=max_bytes,
    )
    document = AwardDocument(
        award_id=award.id, file_id=stored.id, kind=kind, label=label[:200], uploaded_by=principal.user_id
    )
    session.add(document)
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="award.document",
        subject_type="award",
        subject_id=award.id,
        centre_id=award.centre_id,
        after={"document_id": document.id, "kind": kind, "sha256": stored.sha256},
    )
    return document


async def get_document(
    session: AsyncSession, principal: Principal, award_id: int, document_id: int
) -> tuple[AwardDocument, StoredFile]:
    """Whoever may read the award may read its documents; nobody else learns they exist."""
    await get_award(session, principal, award_id)
    row = await queries.document_with_file(session, award_id, document_id)
    if row is None:
        raise NotFound(_("Document not found"))
    return row
