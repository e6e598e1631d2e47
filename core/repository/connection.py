"""Statements sent on a bare connection: readiness pings and the scheduler's lease lock."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


async def ping(connection: AsyncConnection) -> None:
    await connection.execute(text("SELECT 1"))


async def try_advisory_lock(connection: AsyncConnection, key: int) -> Any:
    return (await connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})).scalar()


async def set_config(connection: AsyncConnection, name: str, value: str) -> None:
    await connection.execute(text("SELECT set_config(:n, :v, false)"), {"n": name, "v": value})


async def advisory_unlock(connection: AsyncConnection, key: int) -> None:
    await connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
