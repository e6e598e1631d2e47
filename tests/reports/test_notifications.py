"""Reminders reach users in-app, by email and by 企业微信 robot; failures are retried, never lost."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.ext.asyncio import AsyncSession

from core import notifications
from core.identity.models import Role
from core.notifications import Channel, DeliveryState
from core.settings import Settings
from tests.conftest import test_settings
from tests.factories import make_centre, make_user


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Inbox]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


class Robot:
    """A 企业微信 group robot stand-in: fails the first ``failures`` posts with a 502."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.received: list[dict[str, Any]] = []
        self.calls = 0


@pytest.fixture
def robot() -> Iterator[tuple[str, Robot]]:
    state = Robot(failures=1)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            payload = json.loads(self.rfile.read(length))
            state.calls += 1
            if state.calls <= state.failures:
                self.send_response(502)
                self.end_headers()
                return
            state.received.append(payload)
            body = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/cgi-bin/webhook/send?key=test", state
    finally:
        server.shutdown()
        server.server_close()


def _settings(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update=changes)


async def test_remind_delivers_by_email_and_robot_with_retry(
    session: AsyncSession,
    settings: Settings,
    smtp_server: tuple[int, Inbox],
    robot: tuple[str, Robot],
) -> None:
    port, inbox = smtp_server
    url, robot_state = robot
    configured = _settings(settings, smtp_host="127.0.0.1", smtp_port=port, wecom_webhook_url=url)
    centre = await make_centre(session)
    alice = await make_user(session, centre, Role.staff)
    bob = await make_user(session, centre, Role.evaluator)

    created = await notifications.remind(
        session,
        [alice.user.id, bob.user.id],
        "review.due",
        "评审截止提醒",
        "您有 3 份申报书待评审，截止日期 2026-12-01。",
        "/assignments",
        channels=notifications.configured_channels(configured),
    )
    assert [n.user_id for n in created] == sorted([alice.user.id, bob.user.id])
    deliveries = await notifications.deliveries_of(session, [n.id for n in created])
    assert sorted(d.channel for d in deliveries) == [Channel.email, Channel.email, Channel.wecom]

    now = dt.datetime.now(dt.UTC)
    sent, failed = await notifications.deliver_due(session, configured, now)
    assert (sent, failed) == (2, 1)  # both emails; the robot answered 502 the first time
    assert sorted(m.rcpt_tos[0] for m in inbox.messages) == sorted([alice.user.email, bob.user.email])
    mails = [message_from_bytes(m.content, policy=policy.default) for m in inbox.messages]
    assert [str(m["subject"]) for m in mails] == ["评审截止提醒", "评审截止提醒"]
    assert "截止日期 2026-12-01" in mails[0].get_body().get_content()  # type: ignore[union-attr]
    wecom = next(d for d in deliveries if d.channel is Channel.wecom)
    assert wecom.state is DeliveryState.failed
    assert wecom.attempts == 1
    assert wecom.last_error is not None
    assert "502" in wecom.last_error
    assert wecom.next_attempt_at == now + dt.timedelta(minutes=1)

    # not yet due: nothing is sent again
    assert await notifications.deliver_due(session, configured, now + dt.timedelta(seconds=30)) == (0, 0)
    # after the backoff the robot accepts it
    assert await notifications.deliver_due(session, configured, now + dt.timedelta(minutes=2)) == (1, 0)
    retried = next(d for d in await notifications.deliveries_of(session, [created[0].id]) if d.id == wecom.id)
    assert (retried.state, retried.attempts, retried.last_error) == (DeliveryState.sent, 2, None)
    assert robot_state.received == [
        {
            "msgtype": "text",
            "text": {
                "content": "评审截止提醒\n\n您有 3 份申报书待评审，截止日期 2026-12-01。\n\n"
                + configured.base_url
                + "/assignments"
            },
        }
    ]
    assert len(inbox.messages) == 2  # emails were not sent twice


async def test_unreachable_smtp_keeps_the_message(session: AsyncSession, settings: Settings) -> None:
    configured = _settings(settings, smtp_host="127.0.0.1", smtp_port=_free_port())
    alice = await make_user(session, await make_centre(session), Role.staff)
    created = await notifications.remind(
        session, [alice.user.id], "tranche.due", "拨付提醒", "", None, channels=[Channel.email]
    )
    now = dt.datetime.now(dt.UTC)
    for minutes in (0, 2, 10):
        await notifications.deliver_due(session, configured, now + dt.timedelta(minutes=minutes))
    [delivery] = await notifications.deliveries_of(session, [created[0].id])
    assert delivery.state is DeliveryState.failed
    assert delivery.attempts == 3
    assert delivery.next_attempt_at is not None  # still queued for a later attempt


class TestNotificationApi:
    async def test_anonymous(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/api/v1/notifications")).status_code == 401

    async def test_list_unread_and_read(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        centre = await make_centre(session)
        alice = await make_user(session, centre, Role.applicant)
        bob = await make_user(session, centre, Role.staff)
        [note] = await notifications.remind(
            session, [alice.user.id], "progress.due", "进度报告提醒", "请提交", "/x"
        )
        listed = (await client.get("/api/v1/notifications", headers=alice.headers)).json()
        assert listed["unread"] == 1
        assert listed["items"][0]["title"] == "进度报告提醒"
        count = (await client.get("/api/v1/notifications/unread-count", headers=alice.headers)).json()
        assert count == {"unread": 1}

        # someone else's notification does not exist for Bob
        assert (
            await client.post(f"/api/v1/notifications/{note.id}/read", headers=bob.headers)
        ).status_code == 404
        assert (await client.get("/api/v1/notifications", headers=bob.headers)).json()["total"] == 0

        read = await client.post(f"/api/v1/notifications/{note.id}/read", headers=alice.headers)
        assert read.status_code == 200
        assert read.json()["read_at"] is not None
        assert (await client.get("/api/v1/notifications/unread-count", headers=alice.headers)).json() == {
            "unread": 0
        }


def test_backoff_grows_and_is_capped(tmp_path: Path) -> None:
    assert [notifications.backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert notifications.backoff(30) == dt.timedelta(hours=6)
    assert notifications.configured_channels(test_settings("sqlite+aiosqlite://", tmp_path)) == []
