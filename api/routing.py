"""Routers that turn a request away at once when none of their paths can match it.

FastAPI tries every route of every included router in turn, twice per request (once to
choose the router, once inside it), with a regular expression and some bookkeeping per
route: with four hundred routes a request for the last router paid more than half a
millisecond before its handler ran. A ``Router`` (and each of its ``Route``s) knows the
literal text of its paths: the whole path when it has no parameter, else the text before
the first one. It answers "no match" without trying a regex when the request's path
neither equals nor starts with any of them.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession
from starlette._utils import get_route_path
from starlette.routing import Match
from starlette.types import Scope

from core.db import ReadingSession
from core.errors import DomainError

E = TypeVar("E", bound=Callable[..., Any])
READS_ONLY = "__seedbed_reads_only__"


def reads_only(endpoint: E) -> E:
    """Mark an endpoint that only reads: its request's session (``api.deps.get_session``)
    runs without a transaction of its own and refuses to write (``core.db.ReadingSession``)."""
    setattr(endpoint, READS_ONLY, True)
    return endpoint


def is_reading(scope: Scope) -> bool:
    """Whether the request was routed to an endpoint marked ``reads_only``."""
    return getattr(scope.get("endpoint"), READS_ONLY, False) is True


REQUEST_SESSION = "seedbed.request_session"
MakeSession = Callable[[Request], Coroutine[Any, Any, AsyncSession]]


class RequestSession:
    """A request's database session and its one transaction, held by its route (``Route``).

    The session is made when a dependency first asks for it (``api.deps.SessionDep``), by
    ``app.state.request_session`` (a ``ReadingSession`` for an endpoint marked
    ``reads_only``). The route ends it as soon as the endpoint has produced its response and
    *before* the response is sent: commit when the endpoint succeeded; roll back when it
    raised, except that a domain error marked ``keep_changes`` (a counted login failure)
    commits what was flushed first. So a client is answered only after the commit, and a
    commit that fails (a deferred constraint, the audit seal, a lost connection) raises into
    the error handlers and is answered as an error, never as a 2xx.

    Held by the route rather than by a generator dependency, whose every request FastAPI
    runs through an exit stack, a cancel scope and a shielded exit wrapper around it.

    It does not hold its request: the request's scope holds it, and a reference back would
    make a cycle of every request's objects (its scope, session, connection and the
    middleware's closures) that only the cyclic garbage collector frees, in full
    collections of the whole heap that stopped a worker for a third of a second every few
    seconds under load.
    """

    __slots__ = ("session",)

    def __init__(self) -> None:
        self.session: AsyncSession | None = None

    async def open(self, request: Request) -> AsyncSession:
        if self.session is None:
            make: Callable[[Request], Coroutine[Any, Any, AsyncSession]] = request.app.state.request_session
            self.session = await make(request)
        return self.session

    async def end(self, error: BaseException | None) -> None:
        session, self.session = self.session, None
        if session is None:
            return
        try:
            if isinstance(session.sync_session, ReadingSession):
                pass  # nothing to commit: closing ends its reads (and SQLite's read transaction)
            elif error is None or (isinstance(error, DomainError) and error.keep_changes):
                await session.commit()
            else:
                await session.rollback()
        finally:
            await session.close()


class Route(APIRoute):
    """A route that turns away a path outside its literal start before trying its regex, and
    holds its request's session (``RequestSession``)."""

    def __init__(self, path: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(path, *args, **kwargs)
        self._paths = Paths([self.path])

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def app(request: Request) -> Response:
            held = request.scope[REQUEST_SESSION] = RequestSession()
            try:
                response = await handler(request)
            except BaseException as error:
                await held.end(error)
                raise
            await held.end(None)
            return response

        return app

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and not self._paths.may_match(get_route_path(scope)):
            return Match.NONE, {}
        return super().matches(scope)


class Router(APIRouter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("route_class", Route)
        super().__init__(*args, **kwargs)
        self._paths: Paths | None = None
        self._paths_of = -1

    def _own_paths(self) -> Paths | None:
        """What its routes' paths admit, or None when a route has no plain path (a mount, an
        included router): then every request is tried, as FastAPI does."""
        if self._paths_of != len(self.routes):
            paths = [getattr(route, "path", None) for route in self.routes]
            plain = all(
                isinstance(path, str) and getattr(route, "original_router", None) is None
                for route, path in zip(self.routes, paths, strict=True)
            )
            self._paths = Paths([p for p in paths if isinstance(p, str)]) if plain else None
            self._paths_of = len(self.routes)
        return self._paths

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http":
            paths = self._own_paths()
            if paths is not None and not paths.may_match(get_route_path(scope)):
                return Match.NONE, {}
        return super().matches(scope)


class Paths:
    """Route paths as the literal text a request's path must equal (a path without
    parameters) or start with (the text before a path's first parameter).

    Starlette's slash redirect tries the routes again with the other form of the path, so
    a path one slash away from a route still reaches it.
    """

    def __init__(self, paths: list[str]) -> None:
        self.exact = frozenset(p for p in paths if "{" not in p)
        self.starts = tuple(sorted({p.split("{", 1)[0] for p in paths if "{" in p}))

    def may_match(self, path: str) -> bool:
        return path in self.exact or path.startswith(self.starts)
