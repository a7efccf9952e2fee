"""`create_app(settings)`: the web page, the HTTP API and the signaling WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from peercall.config import Settings
from peercall.ids import new_call_id
from peercall.logs import call_label, log_event
from peercall.protocol import ERROR_MESSAGES, ErrorCode, ProtocolError
from peercall.server.admin import is_authorized, resolve_admin_token
from peercall.server.coordinator import Coordinator
from peercall.server.headers import SecurityHeadersMiddleware
from peercall.server.limits import BucketsByKey, FailedLookupGuard
from peercall.server.local_coordinator import LocalCoordinator
from peercall.server.lookup import find_call
from peercall.server.metrics import Metrics
from peercall.server.passcodes import hash_passcode_in_thread, passcode_problem
from peercall.server.qr import qr_svg
from peercall.server.signaling import SignalingHub
from peercall.server.store import (
    STORAGE_UNAVAILABLE,
    CallRecord,
    CallStore,
    warn_storage_unavailable,
)
from peercall.server.store.sqlite import SqliteCallStore
from peercall.server.tls import lan_addresses

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
logger = logging.getLogger("peercall.server")


def client_address(scope: Scope) -> str:
    """The socket's address, or the client's as a trusted proxy tells it (uvicorn
    rewrites `client` from X-Forwarded-For only for `trusted_proxies`)."""
    client = scope.get("client")
    return client[0] if client else "unknown"


def json_response(content: Any, status_code: int = 200) -> Response:
    return Response(msgspec.json.encode(content), status_code, media_type="application/json")


def error_response(
    code: ErrorCode,
    status_code: int,
    message: str | None = None,
    *,
    retry_after: int | None = None,
) -> Response:
    """An API error: code and readable message; `retry_after` seconds to wait, for
    a refusal that passes."""
    body = {"error": {"code": str(code), "message": message or ERROR_MESSAGES[code]}}
    response = json_response(body, status_code)
    if retry_after is not None:
        response.headers["retry-after"] = str(retry_after)
    return response


API_ERRORS_BY_STATUS = {404: ErrorCode.NOT_FOUND, 405: ErrorCode.METHOD_NOT_ALLOWED}


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405, as API errors (code + message) under /api/; other
    paths keep its plain text."""
    assert isinstance(exc, HTTPException)
    code = API_ERRORS_BY_STATUS.get(exc.status_code)
    if code is None or not request.url.path.startswith("/api/"):
        return PlainTextResponse(str(exc.detail), exc.status_code, headers=exc.headers)
    response = error_response(code, exc.status_code)
    response.headers.update(exc.headers or {})
    return response


# Seconds a client is asked to wait before trying again while storage is out of reach.
STORAGE_RETRY_AFTER = 5


async def storage_unavailable(request: Request, exc: Exception) -> Response:
    """A request the storage could not serve (Redis down, disk full): 503 with a
    readable error and `Retry-After`, and one log line rather than a traceback."""
    # Not the path: it may hold a call id.
    warn_storage_unavailable(logger, "a request was refused", exc)
    return error_response(ErrorCode.STORAGE_UNAVAILABLE, 503, retry_after=STORAGE_RETRY_AFTER)


def rate_limited(message: str) -> Response:
    return error_response(ErrorCode.RATE_LIMITED, 429, message, retry_after=60)


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def shareable_base_url(settings: Settings, request: Request) -> str:
    """The base of links to give to someone else. A page opened on `localhost` makes
    links nobody else can open; when we listen on the LAN, use this machine's LAN
    address instead."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    base = str(request.base_url).rstrip("/")
    listening_on_lan = settings.host in ("0.0.0.0", "::", "")
    if listening_on_lan and request.url.hostname in LOOPBACK_HOSTS:
        addresses = lan_addresses()
        if addresses:
            return f"{request.url.scheme}://{addresses[0]}:{request.url.port or settings.port}"
    return base


class NewCallRequest(msgspec.Struct, forbid_unknown_fields=True):
    """The optional body of `POST /api/calls`."""

    passcode: str | None = None


MAX_REQUEST_BODY_BYTES = 4096


async def body_within(request: Request, limit: int) -> bytes | None:
    """The request's body, or None if it is larger than `limit` bytes. Read as it
    comes and given up once over: `request.body()` holds all of it first, and a 300 MB
    body took 300 MB of the server's memory before it was refused."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


# HTTP statuses of what `find_call` raises (rate-limited has its own response).
LOOKUP_STATUS = {ErrorCode.CALL_NOT_FOUND: 404, ErrorCode.CALL_ENDED: 410}


class CallsApi:
    """HTTP endpoints about calls; WebSocket signaling does everything else."""

    def __init__(
        self,
        settings: Settings,
        store: CallStore,
        coordinator: Coordinator,
        lookups: FailedLookupGuard,
    ) -> None:
        self.settings = settings
        self.store = store
        self.coordinator = coordinator
        self.lookups = lookups
        self.admin_token = resolve_admin_token(settings)
        self.creations_by_address = BucketsByKey.per_minute(settings.calls_per_ip_per_minute)

    def call_url(self, request: Request, call_id: str) -> str:
        return shareable_base_url(self.settings, request) + "/c/" + call_id

    async def describe(self, request: Request, call_id: str, record: CallRecord) -> dict[str, Any]:
        return {
            "call_id": call_id,
            "url": self.call_url(request, call_id),
            "members": await self.coordinator.member_count(call_id),
            "capacity": self.coordinator.capacity,
            "passcode": record.passcode_hash is not None,
        }

    async def create(self, request: Request) -> Response:
        if not self.creations_by_address.take(client_address(request.scope)):
            return rate_limited("Too many new calls from your address; wait a minute.")
        body = await body_within(request, MAX_REQUEST_BODY_BYTES)
        if body is None:
            return error_response(ErrorCode.MESSAGE_TOO_LARGE, 413)
        try:
            wanted = msgspec.json.decode(body or b"{}", type=NewCallRequest)
        except msgspec.DecodeError as exc:
            return error_response(ErrorCode.INVALID_MESSAGE, 400, f"Invalid request: {exc}")
        passcode_hash = None
        if wanted.passcode:
            problem = passcode_problem(wanted.passcode)
            if problem:
                return error_response(ErrorCode.INVALID_MESSAGE, 400, problem)
            passcode_hash = await hash_passcode_in_thread(wanted.passcode)
        call_id = new_call_id()
        record = await self.store.create_call(call_id, time.time(), passcode_hash)
        log_event(logger, "created", call=call_label(record.call_key))
        return json_response(await self.describe(request, call_id, record), 201)

    async def find(self, request: Request) -> tuple[str, CallRecord | Response]:
        """The call the path names, or the error response to give (`find_call`)."""
        call_id = request.path_params["call_id"]
        try:
            return call_id, await find_call(
                self.store, self.lookups, call_id, client_address(request.scope)
            )
        except ProtocolError as error:
            if error.code is ErrorCode.RATE_LIMITED:
                return call_id, rate_limited(error.message)
            return call_id, error_response(error.code, LOOKUP_STATUS[error.code])

    async def show(self, request: Request) -> Response:
        call_id, found = await self.find(request)
        if isinstance(found, Response):
            return found
        return json_response(await self.describe(request, call_id, found))

    async def qr_code(self, request: Request) -> Response:
        """The call link as a QR code (SVG), for a phone to scan off the screen."""
        call_id, found = await self.find(request)
        if isinstance(found, Response):
            return found
        return Response(
            qr_svg(self.call_url(request, call_id)),
            media_type="image/svg+xml",
            headers={"cache-control": "private, max-age=3600"},
        )

    async def list_open(self, request: Request) -> Response:
        if not is_authorized(request.headers.get("authorization"), self.admin_token):
            return error_response(
                ErrorCode.UNAUTHORIZED, 401, "This list needs the operator's admin token."
            )
        # Keys, not ids: the operator sees that calls exist, not their links.
        members = await self.coordinator.members_by_call_key()
        calls = [
            {
                "call_key": record.call_key,
                "created_at": record.created_at,
                "last_activity": record.last_activity,
                "members": members.get(record.call_key, 0),
                "passcode": record.passcode_hash is not None,
            }
            for record in await self.store.open_calls()
        ]
        return json_response({"calls": calls})


async def end_idle_calls(settings: Settings, store: CallStore, coordinator: Coordinator) -> int:
    """End every call that nobody has been in for `call_ttl_seconds`."""
    ended = 0
    now = time.time()
    live = await coordinator.members_by_call_key()
    for key in await store.idle_calls(now - settings.call_ttl_seconds):
        if key not in live:
            await store.end_call(key, now)
            ended += 1
    return ended


async def forget_old_calls(settings: Settings, store: CallStore) -> int:
    """Delete what is kept of calls that ended more than `history_seconds` ago."""
    forgotten = await store.forget_ended_calls(time.time() - settings.history_seconds)
    if forgotten:
        log_event(logger, "forgotten", calls=forgotten)
    return forgotten


async def sweep_forever(settings: Settings, store: CallStore, coordinator: Coordinator) -> None:
    interval = min(60.0, settings.call_ttl_seconds / 4, settings.history_seconds / 4)
    while True:
        await asyncio.sleep(interval)
        try:
            await end_idle_calls(settings, store, coordinator)
            await forget_old_calls(settings, store)
        except STORAGE_UNAVAILABLE as exc:
            warn_storage_unavailable(logger, "could not sweep calls", exc)
        except Exception:
            logger.exception("could not end or forget old calls")


@dataclass(frozen=True)
class Application:
    """What `peercall serve` runs: the HTTP side (ASGI, for uvicorn) and the
    signaling hub (its WebSocket is served by picows on the same port: see
    `front_door.py`)."""

    http: Starlette
    signaling: SignalingHub


def create_app(settings: Settings, store: CallStore | None = None) -> Application:
    coordinator: Coordinator
    if settings.redis_url:
        from peercall.server.redis_coordinator import RedisCoordinator
        from peercall.server.store.redis import RedisCallStore

        store = store or RedisCallStore(settings.redis_url, settings.history_seconds)
        coordinator = RedisCoordinator(settings, store)
    else:
        store = store or SqliteCallStore(settings.data_path / "peercall.sqlite3")
        coordinator = LocalCoordinator(settings, store)
    lookups = FailedLookupGuard(settings.failed_lookups_per_ip_per_minute)
    metrics = Metrics()
    hub = SignalingHub(settings, store, coordinator, lookups, metrics)
    api = CallsApi(settings, store, coordinator, lookups)
    page = WEB_DIR / "index.html"

    async def index(request: Request) -> Response:
        return FileResponse(page, headers={"cache-control": "no-cache"})

    async def healthz(request: Request) -> Response:
        """Liveness: the process serves requests."""
        return json_response({"status": "ok"})

    async def readyz(request: Request) -> Response:
        """Readiness: what calls need (storage) answers; 503 says where it fails."""
        try:
            await coordinator.ping()
        except Exception as exc:
            logger.warning("not ready: storage does not answer (%s)", type(exc).__name__)
            return json_response({"status": "not ready", "storage": "unreachable"}, 503)
        return json_response({"status": "ready", "storage": "ok"})

    async def metrics_page(request: Request) -> Response:
        return Response(metrics.render(), media_type=metrics.content_type)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await store.open()
        await coordinator.start()
        sweeper = asyncio.create_task(sweep_forever(settings, store, coordinator))
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await hub.close()
            await coordinator.close()
            await store.close()

    routes = [
        Route("/", index),
        Route("/c/{call_id}", index),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics_page),
        Route("/api/calls", api.create, methods=["POST"]),
        Route("/api/calls", api.list_open, methods=["GET"]),
        Route("/api/calls/{call_id}", api.show, methods=["GET"]),
        Route("/api/calls/{call_id}/qr.svg", api.qr_code, methods=["GET"]),
        Mount("/static", StaticFiles(directory=WEB_DIR), name="static"),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(SecurityHeadersMiddleware)],
        exception_handlers={
            HTTPException: http_error,
            **dict.fromkeys(STORAGE_UNAVAILABLE, storage_unavailable),
        },
    )
    return Application(app, hub)
