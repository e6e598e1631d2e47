"""In-app notifications and their outbox (email, 企业微信 group robot).

Cross-cutting, so it lives in ``core`` and imports no domain. Domains reach users through
``remind(...)``: it stores one in-app notification per recipient and queues one outbox row
per external channel in the caller's transaction. A scheduled job (``deliver_due``) sends
the queued rows; a failed send is kept with its error and retried with backoff, so a
message is never lost (delivery is at least once).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import smtplib
from collections.abc import Awaitable, Callable, Collection, Sequence
from email.message import EmailMessage
from enum import StrEnum

import httpx
from sqlalchemy import (
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow
from core.errors import NotFound
from core.i18n import _
from core.identity.principal import Principal
from core.repository import Paged, PageParams
from core.settings import Settings

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
BATCH = 50


class Channel(StrEnum):
    email = "email"
    wecom = "wecom"


class DeliveryState(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(500))
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Set when what the notification asked for has been dealt with (or superseded by a newer one).
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NotificationDelivery(Base):
    """One message to send on one channel; the outbox row is the durable record of it."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (Index("ix_notification_deliveries_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[Channel] = mapped_column(Enum(Channel, native_enum=False, length=16))
    address: Mapped[str | None] = mapped_column(String(254))
    state: Mapped[DeliveryState] = mapped_column(
        Enum(DeliveryState, native_enum=False, length=16), default=DeliveryState.pending
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


def configured_channels(settings: Settings) -> list[Channel]:
    channels = []
    if settings.smtp_host:
        channels.append(Channel.email)
    if settings.wecom_webhook_url:
        channels.append(Channel.wecom)
    return channels


async def remind(
    session: AsyncSession,
    user_ids: Collection[int],
    kind: str,
    title: str,
    body: str,
    link: str | None = None,
    *,
    channels: Collection[Channel] = (),
) -> list[Notification]:
    """Notify users in-app and queue the external deliveries (flushes, never commits).

    Email goes to each recipient with an address; the group robot gets one message per
    call (it posts to a group, not to a person). Inactive or unknown users are skipped.
    """
    users = await queries.active_users(session, user_ids)
    created: list[Notification] = []
    for user in sorted(users, key=lambda u: u.id):
        note = Notification(
            user_id=user.id,
            centre_id=user.centre_id,
            kind=kind[:64],
            title=title[:200],
            body=body,
            link=link[:500] if link else None,
            created_at=utcnow(),
        )
        session.add(note)
        created.append(note)
    await session.flush()
    for note, user in zip(created, sorted(users, key=lambda u: u.id), strict=True):
        if Channel.email in channels and user.email:
            session.add(
                NotificationDelivery(notification_id=note.id, channel=Channel.email, address=user.email)
            )
    if Channel.wecom in channels and created:
        session.add(NotificationDelivery(notification_id=created[0].id, channel=Channel.wecom))
    await session.flush()
    return created


async def list_for(
    session: AsyncSession, principal: Principal, params: PageParams, *, unread_only: bool = False
) -> Paged[Notification]:
    return await queries.page_for(session, principal.user_id, params, unread_only=unread_only)


async def unread_count(session: AsyncSession, principal: Principal) -> int:
    return await queries.unread_count(session, principal.user_id)


async def mark_read(session: AsyncSession, principal: Principal, notification_id: int) -> Notification:
    """Only the recipient sees (and reads) a notification; anyone else gets 404."""
    note = await queries.notification_of(session, principal.user_id, notification_id)
    if note is None:
        raise NotFound(_("Notification not found"))
    if note.read_at is None:
        note.read_at = utcnow()
        await session.flush()
    return note


async def mark_all_read(session: AsyncSession, principal: Principal) -> None:
    await queries.mark_all_read(session, principal.user_id, utcnow())


async def mark_done(
    session: AsyncSession, link: str, *, kinds: Collection[str] = (), user_ids: Collection[int] | None = None
) -> None:
    """What the notifications with this link asked for has been dealt with (or a newer one says
    more): they are marked done, so the list shows what still waits."""
    await queries.mark_done(session, link, utcnow(), kinds=kinds, user_ids=user_ids)


async def send_now(settings: Settings, to: str, subject: str, body: str) -> None:
    """One email sent directly, for a message that must not be stored (it holds a one-time link)."""
    if not settings.smtp_host:
        raise RuntimeError("SMTP is not configured (SEEDBED_SMTP_HOST)")
    message = EmailMessage()
    message["From"] = settings.smtp_sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    await asyncio.to_thread(_smtp_send, settings, message)


async def send_quietly(settings: Settings, to: str, subject: str, body: str) -> None:
    """``send_now`` after the response (a background task): a failure is logged, not raised;
    the person may ask again and the page has already said what it says in every case."""
    try:
        await send_now(settings, to, subject, body)
    except Exception:
        logger.warning("an email to one person could not be sent", exc_info=True)


# --- delivery -------------------------------------------------------------------------

Sender = Callable[[Settings, NotificationDelivery, Notification], Awaitable[None]]


def _text(note: Notification, settings: Settings) -> str:
    parts = [note.title]
    if note.body:
        parts.append(note.body)
    if note.link:
        parts.append(settings.base_url.rstrip("/") + note.link if note.link.startswith("/") else note.link)
    return "\n\n".join(parts)


def _smtp_send(settings: Settings, message: EmailMessage) -> None:
    assert settings.smtp_host is not None
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
        smtp.send_message(message)


async def send_email(settings: Settings, delivery: NotificationDelivery, note: Notification) -> None:
    if not settings.smtp_host:
        raise RuntimeError("SMTP is not configured (SEEDBED_SMTP_HOST)")
    if not delivery.address:
        raise RuntimeError("the recipient has no email address")
    message = EmailMessage()
    message["From"] = settings.smtp_sender
    message["To"] = delivery.address
    message["Subject"] = note.title
    message.set_content(_text(note, settings))
    await asyncio.to_thread(_smtp_send, settings, message)


async def send_wecom(settings: Settings, delivery: NotificationDelivery, note: Notification) -> None:
    """企业微信 group robot: ``POST {"msgtype": "text", ...}``; a non-zero errcode is a failure."""
    if not settings.wecom_webhook_url:
        raise RuntimeError("the WeCom webhook is not configured (SEEDBED_WECOM_WEBHOOK_URL)")
    payload = {"msgtype": "text", "text": {"content": _text(note, settings)}}
    async with httpx.AsyncClient(timeout=15) as http:
        response = await http.post(settings.wecom_webhook_url, json=payload)
    response.raise_for_status()
    try:
        errcode = response.json().get("errcode", 0)
    except ValueError:
        errcode = 0
    if errcode:
        raise RuntimeError(f"WeCom answered errcode {errcode}: {response.text[:200]}")


SENDERS: dict[Channel, Sender] = {Channel.email: send_email, Channel.wecom: send_wecom}


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4, ... minutes, at most six hours between attempts."""
    return dt.timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


async def deliver_due(
    session: AsyncSession,
    settings: Settings,
    now: dt.datetime,
    *,
    senders: dict[Channel, Sender] | None = None,
) -> tuple[int, int]:
    """Send every delivery that is due; answer (sent, failed). Flushes, never commits."""
    chosen = senders or SENDERS
    rows = await queries.due_deliveries(session, now, max_attempts=MAX_ATTEMPTS, limit=BATCH)
    sent = failed = 0
    for delivery, note in rows:
        delivery.attempts += 1
        try:
            await chosen[delivery.channel](settings, delivery, note)
        except Exception as exc:
            failed += 1
            delivery.state = DeliveryState.failed
            delivery.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            delivery.next_attempt_at = (
                now + backoff(delivery.attempts) if delivery.attempts < MAX_ATTEMPTS else None
            )
        else:
            sent += 1
            delivery.state = DeliveryState.sent
            delivery.sent_at = utcnow()
            delivery.last_error = None
            delivery.next_attempt_at = None
        await session.flush()
    return sent, failed


async def deliveries_of(session: AsyncSession, notification_ids: Sequence[int]) -> list[NotificationDelivery]:
    return await queries.deliveries_of(session, notification_ids)


# Last: the repository imports this module's models.
from core.repository import notifications as queries  # noqa: E402
