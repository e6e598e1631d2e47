"""``seedbed serve`` in a subprocess on a free port, on a fresh migrated SQLite file.

For tests that need the real thing: uvicorn's own handling of headers and signals, the
process tree, the browser journeys.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from core.settings import PROJECT_ROOT

SEEDBED = str(Path(sys.executable).with_name("seedbed"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(root: Path, **settings: str) -> dict[str, str]:
    """The environment of a server whose database and files live in ``root``."""
    return {
        **os.environ,
        "SEEDBED_ENV": "development",
        "SEEDBED_DATABASE_URL": f"sqlite+aiosqlite:///{root / 'seedbed.db'}",
        "SEEDBED_DATA_DIR": str(root),
        "SEEDBED_SCHEDULER_IN_PROCESS": "false",
        **{f"SEEDBED_{name.upper()}": value for name, value in settings.items()},
    }


@dataclass
class LiveServer:
    base: str
    process: subprocess.Popen[bytes]
    log: Path


_DEMO_TEMPLATE: list[Path] = []


def _demo_template() -> Path:
    """A migrated database with the demo centre and its files, made by ``seedbed db upgrade``
    and ``seedbed demo load`` once per test process and copied for every demo server (the two
    commands took about 4 s of each server's start)."""
    if not _DEMO_TEMPLATE:
        root = Path(tempfile.mkdtemp(prefix="seedbed-demo-"))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        env = server_env(root)
        subprocess.run([SEEDBED, "db", "upgrade"], env=env, check=True, capture_output=True)
        subprocess.run([SEEDBED, "demo", "load"], env=env, check=True, capture_output=True)
        _DEMO_TEMPLATE.append(root)
    return _DEMO_TEMPLATE[0]


@contextmanager
def live_server(root: Path, *, demo: bool = False, **settings: str) -> Iterator[LiveServer]:
    """Migrate (or copy the demo centre if asked), serve, and stop with SIGTERM at the end."""
    env = server_env(root, **settings)
    if demo:
        shutil.copytree(_demo_template(), root, dirs_exist_ok=True)
    else:
        subprocess.run([SEEDBED, "db", "upgrade"], env=env, check=True, capture_output=True)
    port = free_port()
    log_path = root / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [SEEDBED, "serve", "--host", "127.0.0.1", "--port", str(port), "--no-scheduler"],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120  # a machine busy with other work starts slowly
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the server did not start:\n" + log_path.read_text())
                time.sleep(0.2)
            yield LiveServer(base, process, log_path)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
