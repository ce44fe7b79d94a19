"""The feed server: GET or HEAD /feeds/<token>.ics, and nothing else.

Calendar apps poll every few minutes to hours, so almost every request should end
in a dictionary look-up and a 304. The server therefore keeps, per process:
the active feeds by token hash and the records' data version (re-read at most
every ``recheck_seconds``), and each feed's serialized body for that version.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import socket
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from visitplan.errors import InputError
from visitplan.sync.feeds import (
    LOOKBACK_DAYS,
    BodyCache,
    CacheKey,
    Feed,
    FeedBody,
    FeedSettings,
    Snapshot,
    token_hash,
)

log = logging.getLogger("visitplan.sync.server")

_FEED_PATH = re.compile(r"/feeds/[^/]*$")
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class FeedSource(Protocol):
    """Where feeds come from (the database in production, a stub in a unit test)."""

    def snapshot(self) -> Snapshot:
        """The data version and the active feeds: cheap, called about once a second."""
        ...

    def render(self, settings: FeedSettings, since: dt.date) -> tuple[bytes, dt.datetime]:
        """The .ics body of a feed from ``since`` on, and when its data last changed."""
        ...


@dataclass
class _FeedService:
    source: FeedSource
    lookback: dt.timedelta
    recheck_seconds: float
    fresh_wait_seconds: float
    today: Callable[[], dt.date]
    cache: BodyCache = field(default_factory=BodyCache)
    _snapshot: Snapshot | None = None
    _checked_at: float = float("-inf")
    _rendering: dict[tuple[FeedSettings, CacheKey], asyncio.Task[FeedBody]] = field(
        default_factory=dict
    )
    # Feeds whose export was refused (InputError: the clinic file, a zone): the same
    # records give the same refusal, so it is kept until they change, not rebuilt per poll.
    _refused: dict[FeedSettings, tuple[CacheKey, InputError]] = field(default_factory=dict)

    def snapshot(self) -> Snapshot:
        now = time.monotonic()
        if self._snapshot is None or now - self._checked_at >= self.recheck_seconds:
            # Blocking, but one indexed read a second: cheaper than a thread hop per poll.
            self._snapshot = self.source.snapshot()
            self._checked_at = now
        return self._snapshot

    def feed(self, token: str) -> Feed | None:
        return self.snapshot().feeds.get(token_hash(token))

    async def body(self, settings: FeedSettings, feed_id: int) -> FeedBody:
        """The feed's body for the current records; the previous version when the new
        one takes long or cannot be built. Raises what the build raised otherwise."""
        key = CacheKey(self.snapshot().version, self.today() - self.lookback)
        cached = self.cache.get(settings, key)
        if cached is not None:
            return cached
        stale = self.cache.latest(settings)
        refused = self._refused.get(settings)
        if refused is not None and refused[0] == key:
            if stale is not None:
                return stale
            raise refused[1]
        # One render per feed and version, however many clients ask at once.
        task = self._rendering.get((settings, key))
        if task is None:
            task = asyncio.create_task(self._render(settings, key))
            self._rendering[(settings, key)] = task
            task.add_done_callback(lambda t: self._rendered(settings, key, t, feed_id, stale))
        try:
            if stale is None:
                return await asyncio.shield(task)
            return await asyncio.wait_for(asyncio.shield(task), self.fresh_wait_seconds)
        except TimeoutError:
            # A whole clinic's year takes many seconds to build: rather than keep
            # every poll waiting, answer with the previous version this once.
            if stale is None:
                raise
            return stale
        except Exception:
            # Logged once, by _rendered; a calendar keeps working on what it had.
            if stale is None:
                raise
            return stale

    async def _render(self, settings: FeedSettings, key: CacheKey) -> FeedBody:
        body, modified = await asyncio.to_thread(self.source.render, settings, key.since)
        return await asyncio.to_thread(FeedBody.of, body, modified)

    def _rendered(
        self,
        settings: FeedSettings,
        key: CacheKey,
        task: asyncio.Task[FeedBody],
        feed_id: int,
        stale: FeedBody | None,
    ) -> None:
        del self._rendering[(settings, key)]
        if task.cancelled():
            return
        error = task.exception()  # reading it marks it seen
        if error is None:
            self.cache.put(settings, key, task.result())
            self._refused.pop(settings, None)
            return
        meanwhile = "; its previous version is served" if stale is not None else ""
        if isinstance(error, InputError):
            # The export's own one-line refusals name files, fields and values, never a patient.
            self._refused[settings] = (key, error)
            log.error("feed %s cannot be built: %s%s", feed_id, error.message, meanwhile)
        else:
            # A message could name a patient or the database: the log gets the type only.
            log.error("feed %s could not be read (%s)%s", feed_id, type(error).__name__, meanwhile)


def _not_modified(request: Request, body: FeedBody) -> bool:
    match = request.headers.get("if-none-match")
    if match is not None:
        tags = {t.strip().removeprefix("W/").replace("-gzip", "") for t in match.split(",")}
        return "*" in tags or body.etag in tags
    since = request.headers.get("if-modified-since")
    if since is not None:
        try:
            return body.last_modified.replace(microsecond=0) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def _wants_gzip(request: Request) -> bool:
    return "gzip" in request.headers.get("accept-encoding", "")


def _feed_endpoint(service: _FeedService) -> Callable[[Request], Awaitable[Response]]:
    async def feed(request: Request) -> Response:
        try:
            found = service.feed(request.path_params["token"])
        except Exception as exc:
            log.error("the feed list could not be read (%s)", type(exc).__name__)
            return PlainTextResponse("Internal Server Error", status_code=500)
        if found is None:
            return PlainTextResponse("Not Found", status_code=404)
        request.scope["visitplan.feed_id"] = found.id
        try:
            body = await service.body(found.settings, found.id)
        except InputError:
            # Not a bug but data or settings the export refuses (logged once, with the
            # reason): the calendar app keeps its copy and asks again later.
            return PlainTextResponse(
                "Service Unavailable", status_code=503, headers={"Retry-After": "300"}
            )
        except Exception:
            return PlainTextResponse("Internal Server Error", status_code=500)
        gz = _wants_gzip(request)
        headers = {
            "ETag": body.etag[:-1] + '-gzip"' if gz else body.etag,
            "Last-Modified": format_datetime(body.last_modified.astimezone(dt.UTC), usegmt=True),
            # Patient data: no shared cache may keep it.
            "Cache-Control": "private, no-cache",
            "Vary": "Accept-Encoding",
        }
        if _not_modified(request, body):
            return Response(status_code=304, headers=headers)
        if gz:
            headers["Content-Encoding"] = "gzip"
        content = body.gzipped if gz else body.body
        response = Response(content, headers=headers, media_type="text/calendar; charset=utf-8")
        if request.method == "HEAD":
            # Starlette sends no body for HEAD; the length is still that of a GET.
            response.headers["Content-Length"] = str(len(content))
        return response

    return feed


class _RedactedAccessLog:
    """Logs method, path without the token, feed id and status: tokens never reach a log."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            feed_id = scope.get("visitplan.feed_id")
            # Any other path may be a feed URL typed wrong: it is not written either.
            path = "/feeds/<token>" if _FEED_PATH.match(scope.get("path", "")) else "<other path>"
            log.info(
                "%s %s%s %s",
                scope.get("method"),
                path,
                f" (feed {feed_id})" if feed_id is not None else "",
                status,
            )


def make_feed_app(
    source: FeedSource,
    *,
    lookback: dt.timedelta = dt.timedelta(days=LOOKBACK_DAYS),
    recheck_seconds: float = 1.0,
    fresh_wait_seconds: float = 5.0,
    today: Callable[[], dt.date] | None = None,
) -> Any:
    """The ASGI app.

    ``recheck_seconds``: how long a change or a revocation may go unseen.
    ``fresh_wait_seconds``: how long a poll waits for a changed feed to be built
    before it gets the previous version instead.
    """
    service = _FeedService(
        source,
        lookback,
        recheck_seconds,
        fresh_wait_seconds,
        today or (lambda: dt.datetime.now(dt.UTC).date()),
    )
    app = Starlette(
        routes=[Route("/feeds/{token}.ics", _feed_endpoint(service), methods=["GET", "HEAD"])]
    )
    app.state.feed_service = service
    return _RedactedAccessLog(app)


def loopback_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A bound listening socket; port 0 picks a free one (tests, benchmarks)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """What one client may hold of the server (README, "The feed server under abuse").

    uvicorn alone bounds none of this: a connection that sends nothing, or one
    header line a second, is kept for ever (its keep-alive timer only starts after
    a response), httptools accepts headers of any size, and at the process's file
    descriptor limit the event loop resets every new connection, a calendar app's
    too. ``limit_concurrency`` would not help: it counts idle connections, so idle
    sockets alone would turn every real request into a 503.
    """

    # Open connections at most (and never closer than ``spare_descriptors`` to the
    # process's descriptor limit); beyond it the one waiting longest for its headers
    # is closed, so a new client is always served.
    max_connections: int = 1000
    # From the connection (or the end of the previous response) to the end of the
    # request's headers; a slower client is cut off.
    header_seconds: float = 10.0
    # The request line and headers together; a calendar app's poll needs under 1 KiB.
    max_header_bytes: int = 16 * 1024
    # An idle keep-alive connection is closed after this long (uvicorn's timeout_keep_alive).
    keep_alive_seconds: int = 5
    # Descriptors kept for the database, logs and the listening socket.
    spare_descriptors: int = 128

    def connections(self) -> int:
        """``max_connections``, lowered to what the descriptor limit leaves room for."""
        import resource

        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == resource.RLIM_INFINITY:
            return self.max_connections
        return max(1, min(self.max_connections, soft - self.spare_descriptors))


def raise_descriptor_limit() -> int:
    """Lift the soft descriptor limit to the hard one (often 1,024 against 500,000 or
    more): idle sockets then cost memory, not the ability to accept. The new soft limit."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            return soft
    return hard


_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-length: 0\r\nconnection: close\r\n\r\n"
)
_BUSY = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


@dataclass
class _Tally:
    """Connections closed by the limits, logged at most once every ``every`` seconds:
    a flood of sockets must not become a flood of log lines."""

    every: float = 60.0
    counts: dict[str, int] = field(default_factory=dict)
    logged_at: float = float("-inf")

    def add(self, reason: str) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + 1
        now = time.monotonic()
        if now - self.logged_at >= self.every:
            text = ", ".join(f"{n} {why}" for why, n in sorted(self.counts.items()))
            log.warning("connections closed by the server's limits: %s", text)
            self.counts.clear()
            self.logged_at = now


def _guarded_protocol(limits: ServerLimits) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol with the limits it lacks (see ``ServerLimits``).

    The state is per server (this class is made for each one): the connections
    waiting for a request's headers, by when they started waiting, oldest first,
    and those not yet closed. One sweep a fraction of ``header_seconds`` apart
    cuts off the slow ones: a timer per request would cost a third of the 304s.
    """
    from collections import OrderedDict

    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    capacity = limits.connections()
    waiting: OrderedDict[Any, float] = OrderedDict()
    live: set[Any] = set()
    tally = _Tally()
    tick = max(0.05, min(1.0, limits.header_seconds / 4))
    sweeping: list[asyncio.TimerHandle] = []

    def sweep(loop: asyncio.AbstractEventLoop) -> None:
        sweeping.clear()
        started_before = time.monotonic() - limits.header_seconds
        while waiting:
            oldest, since = next(iter(waiting.items()))
            if since > started_before:
                break
            oldest._close(b"", "too slow to send their headers")
        if waiting:
            sweeping.append(loop.call_later(tick, sweep, loop))

    class GuardedProtocol(HttpToolsProtocol):
        _header_bytes = 0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            live.add(self)
            self._wait_for_headers()
            if len(live) > capacity:
                # The longest wait goes first; a new client sends its request at once.
                oldest = next(iter(waiting))
                oldest._close(_BUSY if oldest is self else b"", "over the connection limit")

        def connection_lost(self, exc: Exception | None) -> None:
            waiting.pop(self, None)
            live.discard(self)
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self in waiting:
                self._header_bytes += len(data)
                if self._header_bytes > limits.max_header_bytes:
                    self._close(_TOO_LARGE, "with headers over the size limit")
                    return
            super().data_received(data)

        def on_headers_complete(self) -> None:
            waiting.pop(self, None)
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._wait_for_headers()  # the next request's clock starts now

        def _wait_for_headers(self) -> None:
            if self in waiting:
                return
            waiting[self] = time.monotonic()
            self._header_bytes = 0
            if not sweeping:
                sweeping.append(self.loop.call_later(tick, sweep, self.loop))

        def _close(self, answer: bytes, reason: str) -> None:
            waiting.pop(self, None)
            live.discard(self)
            tally.add(reason)
            if not self.transport.is_closing():
                if answer:
                    self.transport.write(answer)
                self.transport.close()

    return GuardedProtocol


def uvicorn_server(app: Any, *, log_level: str = "info", limits: ServerLimits | None = None) -> Any:
    """A uvicorn server whose own access log is off (it would print the token), with
    ``limits`` (the defaults unless given) on what any one client may hold."""
    import uvicorn

    limits = limits or ServerLimits()
    config = uvicorn.Config(
        app,
        http=_guarded_protocol(limits),
        access_log=False,
        log_level=log_level,
        server_header=False,
        lifespan="off",
        backlog=2048,
        timeout_keep_alive=limits.keep_alive_seconds,
        # A backstop only (503 beyond it): the protocol keeps connections under
        # ``connections()``; the slack covers connections closed but not yet gone.
        limit_concurrency=limits.connections() + 64,
    )
    return uvicorn.Server(config)
