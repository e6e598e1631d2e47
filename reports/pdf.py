"""HTML (Jinja2, our templates only, autoescaped) to PDF (WeasyPrint) in a process pool.

WeasyPrint is CPU-bound and not async, so it runs in a spawn-based process pool sized to
the machine. Each worker loads the fonts once, at start (a warm-up render in the pool
initializer), and keeps one font configuration for all its renders: WeasyPrint's default
of a new one per document reloads fontconfig and the CJK collection every time and is what
made a worker's memory grow. Workers are still recycled after a number of renders, as a
safety net, and a render that takes too long (timed from its start) kills its own worker
only, instead of hanging a job.
Resources are fetched only from ``templates/reports/`` and ``data:`` URIs; anything else
(http, other files) is refused, so a report can never pull in outside content.

Chinese needs a CJK font: the Noto CJK collection's first face is Japanese, so templates
name ``Noto Sans CJK SC`` explicitly; rendering refuses to start without it rather than
produce a PDF of empty boxes.
"""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import ctypes.util
import datetime as dt
import logging
import multiprocessing
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlparse
from zoneinfo import ZoneInfo

import pebble
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from core.i18n import gettext, ngettext, npgettext, pgettext, use_locale
from core.money import format_money
from core.settings import PROJECT_ROOT

log = logging.getLogger(__name__)
T = TypeVar("T")

TEMPLATE_ROOT = PROJECT_ROOT / "templates"
REPORT_ASSETS = TEMPLATE_ROOT / "reports"
CJK_FAMILY = "Noto Sans CJK SC"
SHANGHAI = ZoneInfo("Asia/Shanghai")


class CJKFontMissing(RuntimeError):
    """No Simplified Chinese font: reports would render as empty boxes."""


class RenderTimeout(RuntimeError):
    pass


def fc_families() -> str:
    """Family names fontconfig knows for Chinese (``fc-list :lang=zh family``)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return ""
    result = subprocess.run(
        [fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=30, check=False
    )
    return result.stdout


_font_found = False


def ensure_cjk_font() -> None:
    """Fail loudly when fontconfig knows no ``Noto Sans CJK SC`` (checked once per process)."""
    global _font_found
    if _font_found:
        return
    if CJK_FAMILY not in fc_families():
        raise CJKFontMissing(
            f"the font '{CJK_FAMILY}' is not installed (fontconfig: fc-list :lang=zh); "
            "install it with: sudo apt-get install fonts-noto-cjk libharfbuzz-subset0"
        )
    _font_found = True


# --- HTML ------------------------------------------------------------------------------


def _local_time(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "" if value is None else value.astimezone(SHANGHAI).strftime(fmt)


def _css_string(text: str) -> str:
    text = str(text)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def css_content(template: str, **counters: str) -> Markup:
    """A translated ``"... {page} ..."`` message as a CSS ``content`` value with counters.

    ``css_content("Page {page} of {pages}", page="page", pages="pages")`` in Chinese gives
    ``"第 " counter(page) " 页 / 共 " counter(pages) " 页"``.
    """
    import re

    template = str(template)  # gettext answers Markup under autoescape; slices of it would escape
    parts: list[str] = []
    position = 0
    for match in re.finditer(r"\{(\w+)\}", template):
        if match.start() > position:
            parts.append(_css_string(template[position : match.start()]))
        parts.append(f"counter({counters[match.group(1)]})")
        position = match.end()
    if position < len(template):
        parts.append(_css_string(template[position:]))
    return Markup(" ".join(parts) or '""')


def css_text(text: str) -> Markup:
    """Plain text as a quoted CSS string (for ``content:`` in a ``<style>`` block)."""
    return Markup(_css_string(text))


def build_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_ROOT),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Not "newstyle": its %-formatting would break on translations that contain "%".
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=False, pgettext=pgettext, npgettext=npgettext
    )
    env.filters["local_time"] = _local_time
    env.filters["money"] = format_money
    env.globals["css_content"] = css_content
    env.globals["css_text"] = css_text
    env.globals["cjk_family"] = CJK_FAMILY
    return env


ENVIRONMENT = build_environment()


def render_html(template: str, context: dict[str, Any], *, locale: str = "zh") -> str:
    if not template.startswith("reports/"):
        raise ValueError("report templates live under templates/reports/")
    with use_locale(locale):
        return ENVIRONMENT.get_template(template).render({"lang": locale, **context})


# --- PDF (runs in the worker process) ----------------------------------------------------


def _make_fetcher(allowed_root: str) -> Any:
    from weasyprint.urls import URLFetcher

    root = Path(allowed_root).resolve()

    class OwnAssetsOnly(URLFetcher):  # type: ignore[misc]
        """``data:`` URIs and files under ``templates/reports/``; nothing else."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            parsed = urlparse(url)
            if parsed.scheme == "data":
                return super().fetch(url, headers)
            if parsed.scheme == "file":
                path = Path(unquote(parsed.path)).resolve()
                if path.is_relative_to(root) and path.is_file():
                    return super().fetch(url, headers)
            raise ValueError(f"refused to fetch {url[:200]}: reports only use their own assets")

    return OwnAssetsOnly(allowed_protocols=("data", "file"), fail_on_errors=False)


_fonts = threading.local()


def _font_config() -> Any:
    """This thread's WeasyPrint ``FontConfiguration``, made once and reused by every render.

    WeasyPrint makes a new one per document unless given one: each reloads the fontconfig
    configuration and builds a new Pango font map that reopens the CJK collection, and the
    old maps are not all given back (a worker grew about 0.3 MB per report). Per thread
    because Pango is not thread-safe. Our templates have no ``@font-face``, so documents add
    nothing to it and the reuse cannot carry one report's fonts into another.
    """
    config = getattr(_fonts, "config", None)
    if config is None:
        from weasyprint.text.fonts import FontConfiguration

        config = _fonts.config = FontConfiguration()
    return config


def html_to_pdf(html: str, allowed_root: str = str(REPORT_ASSETS)) -> bytes:
    """Synchronous rendering (what the worker runs; also usable in a thread)."""
    from weasyprint import HTML

    base_url = Path(allowed_root).resolve().as_uri() + "/"
    document = HTML(string=html, base_url=base_url, url_fetcher=_make_fetcher(allowed_root))
    pdf: bytes = document.write_pdf(font_config=_font_config())
    return pdf


# A chart-like SVG with CJK text: WeasyPrint's SVG path and its fonts warm up too.
_WARM_UP_SVG = (
    "data:image/svg+xml;charset=utf-8,"
    "%3Csvg xmlns='http://www.w3.org/2000/svg' width='200' height='60'%3E"
    "%3Crect width='80' height='40' fill='%232f7d4f'/%3E"
    f"%3Ctext x='90' y='30' font-family='{CJK_FAMILY}' font-size='14'%3E%E9%A2%84%E7%83%AD 42%3C/text%3E"
    "%3C/svg%3E"
)
_WARM_UP_PAGE = """{% extends "reports/base.html" %}{% block content %}
<h2>{{ title }}</h2><p>{{ title }} <b>{{ title }}</b> 0123456789</p>
<div class="kpis"><div class="kpi"><div class="value">1,234.56</div>
<div class="label">{{ title }}</div></div></div>
<table><thead><tr><th>{{ title }}</th><th class="num">{{ title }}</th></tr></thead>
<tbody><tr><td>{{ title }}</td><td class="num">1,234.56</td></tr></tbody></table>
<figure class="chart"><img src="{{ svg }}" alt=""></figure>
{% endblock %}"""


def warm_up_html() -> str:
    """A one-page report using what real reports use: the stylesheet, the CJK font in
    regular and bold, running headers, page counters, a table and an SVG image."""
    context = {
        "lang": "zh",
        "title": "预热 Warm-up",
        "centre_name": "预热",
        "period_label": "2026-01",
        "generated_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        "svg": _WARM_UP_SVG,
    }
    with use_locale("zh"):
        return ENVIRONMENT.from_string(_WARM_UP_PAGE).render(context)


def warm_worker() -> None:
    """Pool initializer: import WeasyPrint and load the fonts before the first real report.

    A new worker's first render costs about a second more than the next ones (imports,
    fontconfig, the CJK faces); done here it is paid when the worker starts (or is
    recycled, which starts its replacement at once), not by the report waiting on it.
    A failure is only logged: the real render will then report the real error.
    """
    try:
        html_to_pdf(warm_up_html())
        _release_memory()
    except Exception:
        log.exception("PDF worker warm-up failed")


_libc: Any = None


def _release_memory() -> None:
    """Hand the heap a document freed back to the OS; glibc keeps it otherwise (about 50 MB
    less per worker, no measurable cost). No ``gc.collect()``: that took ~140 ms a report."""
    global _libc
    if _libc is None:
        name = ctypes.util.find_library("c")
        _libc = ctypes.CDLL(name) if name else False
    if _libc and hasattr(_libc, "malloc_trim"):
        _libc.malloc_trim(0)


def start_worker(parent_pid: int) -> None:
    """Pool initializer: follow the parent out, then warm up.

    The pool's workers otherwise outlive a server that is killed, or that exits without
    shutting the pool down (uvicorn re-raises SIGTERM after its shutdown, so no exit hook
    runs): a worker blocks on its task queue, whose write end it holds itself, and never
    sees the parent go. A watcher thread checks the parent's pid and exits the worker when
    it is reparented (checked by pid, not by PR_SET_PDEATHSIG, which fires when the
    *thread* that spawned the worker ends, and the pool spawns from whichever thread
    submits or recycles).
    """

    def watch_parent() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch_parent, name="exit-with-parent", daemon=True).start()
    warm_worker()


PARENT_CHECK_SECONDS = 0.5


def render_in_worker(html: str, allowed_root: str) -> bytes:
    """The pool's task: render, then release what the document held before the next one."""
    try:
        return html_to_pdf(html, allowed_root)
    finally:
        _release_memory()


class PdfRenderer:
    """A spawn-based pebble process pool for WeasyPrint, recycled and with a time limit.

    The limit counts from the moment a worker starts the render, not from submission, so a
    report queued behind others is not cut short; a render that overruns kills its own
    worker only (pebble replaces it, warm-up included) and the renders beside it go on.
    """

    def __init__(
        self, workers: int = 0, *, timeout_seconds: float = 180.0, tasks_per_child: int = 25
    ) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.timeout_seconds = timeout_seconds
        self.tasks_per_child = tasks_per_child
        self._pool: pebble.ProcessPool | None = None
        self._lock = threading.Lock()

    def _executor(self) -> pebble.ProcessPool:
        with self._lock:
            if self._pool is None or not self._pool.active:
                self._pool = pebble.ProcessPool(
                    max_workers=self.workers,
                    max_tasks=self.tasks_per_child,
                    initializer=start_worker,
                    initargs=(os.getpid(),),
                    context=multiprocessing.get_context("spawn"),
                )
            return self._pool

    def start(self) -> None:
        """Start every worker now (e.g. at application start-up) so their warm-up is done
        before the first report; otherwise the first report waits for it."""
        executor = self._executor()
        for _ in range(self.workers):
            executor.schedule(os.getpid)

    def worker_pids(self) -> list[int]:
        """The process ids of the pool's live workers (none before the first render)."""
        with self._lock:
            pool = self._pool
        if pool is None:
            return []
        return [pid for pid in pool._pool_manager.worker_manager.workers if pid is not None]

    async def run(self, function: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
        """Run ``function(*args)`` in a worker, timed from the start of the run."""
        limit = self.timeout_seconds if timeout is None else timeout
        future = self._executor().schedule(function, args=args, timeout=limit)
        try:
            return await asyncio.wrap_future(future)
        except TimeoutError as exc:
            raise RenderTimeout(f"rendering took longer than {limit:.0f} s") from exc
        except asyncio.CancelledError:
            future.cancel()  # type: ignore[no-untyped-call]  # pebble stops the worker of a cancelled run
            raise

    async def render(self, html: str) -> bytes:
        ensure_cjk_font()
        return await self.run(render_in_worker, html, str(REPORT_ASSETS))

    def shutdown(self, grace_seconds: float = 5.0) -> None:
        """End the workers (a render in progress gets ``grace_seconds`` to finish)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is None:
            return
        pool.close()  # type: ignore[no-untyped-call]
        try:
            pool.join(timeout=grace_seconds)
        except TimeoutError:
            pool.stop()  # type: ignore[no-untyped-call]
            pool.join()


_renderers: dict[int, PdfRenderer] = {}


def get_renderer(workers: int = 0) -> PdfRenderer:
    """One pool per process (and size), shut down at exit."""
    renderer = _renderers.get(workers)
    if renderer is None:
        renderer = _renderers[workers] = PdfRenderer(workers)
    return renderer


@atexit.register
def shutdown_renderers() -> None:
    """End every pool of this process: at application shutdown (the lifespan), and at exit."""
    for renderer in _renderers.values():
        renderer.shutdown()
