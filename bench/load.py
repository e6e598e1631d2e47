"""A small HTTP/1.1 keep-alive load generator: N connections on loopback, fixed duration."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        lowered = name.strip().lower()
        if lowered == b"content-length":
            length = int(value.strip())
        elif lowered == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


def merged(results: Sequence[LoadResult]) -> LoadResult:
    """Several measurements of the same requests as one: their requests over their time."""
    return LoadResult(
        requests=sum(r.requests for r in results),
        errors=sum(r.errors for r in results),
        seconds=sum(r.seconds for r in results),
        latencies_ms=[latency for r in results for latency in r.latencies_ms],
    )


def _ports(port: int | Sequence[int]) -> list[int]:
    return [port] if isinstance(port, int) else list(port)


async def run_load(
    host: str,
    port: int | Sequence[int],
    paths: Sequence[str],
    *,
    headers: dict[str, str] | None = None,
    connections: int = 32,
    duration: float = 5.0,
    warmup: float = 1.0,
) -> LoadResult:
    """Each connection sends the next path of ``paths`` as soon as the previous answer is read.
    Given several ports (one per server worker), connection ``k`` goes to port ``k mod n``."""
    ports = _ports(port)
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    requests = [
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: keep-alive\r\n\r\n".encode()
        for path in paths
    ]
    cycle = itertools.cycle(range(len(requests)))
    latencies: list[float] = []
    counts = {"ok": 0, "errors": 0}
    start = time.perf_counter()
    measure_from = start + warmup
    stop = measure_from + duration

    async def worker(k: int) -> None:
        reader, writer = await asyncio.open_connection(host, ports[k % len(ports)])
        try:
            while True:
                sent = time.perf_counter()
                if sent >= stop:
                    return
                writer.write(requests[next(cycle)])
                await writer.drain()
                status = await _read_response(reader)
                done = time.perf_counter()
                if sent >= measure_from:
                    latencies.append((done - sent) * 1000)
                    counts["ok" if status < 400 else "errors"] += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker(k) for k in range(connections)))
    return LoadResult(counts["ok"], counts["errors"], duration, latencies)


async def run_once(
    host: str,
    port: int | Sequence[int],
    requests: Sequence[bytes],
    *,
    connections: int = 32,
    duration: float = 5.0,
) -> LoadResult:
    """Send each raw request once (no warm-up, no repeats), over ``connections`` keep-alive
    connections, until all are answered or ``duration`` is up. For actions such as approvals,
    where a repeat would measure a refusal instead of the work. Several ports: as ``run_load``."""
    ports = _ports(port)
    queue = iter(requests)
    latencies: list[float] = []
    counts = {"ok": 0, "errors": 0}
    start = time.perf_counter()
    stop = start + duration

    async def worker(k: int) -> None:
        reader, writer = await asyncio.open_connection(host, ports[k % len(ports)])
        try:
            for request in queue:
                sent = time.perf_counter()
                if sent >= stop:
                    return
                writer.write(request)
                await writer.drain()
                status = await _read_response(reader)
                latencies.append((time.perf_counter() - sent) * 1000)
                counts["ok" if status < 400 else "errors"] += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker(k) for k in range(connections)))
    elapsed = min(time.perf_counter(), stop) - start
    return LoadResult(counts["ok"], counts["errors"], elapsed, latencies)
