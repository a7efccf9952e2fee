"""The WebSocket endpoint: read a frame, validate it, apply it, write what it causes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, assert_never
from urllib.parse import urlsplit

from multidict import CIMultiDict
from picows import WSUpgradeRequest, WSUpgradeResponse, WSUpgradeResponseWithListener

from peercall.config import Settings
from peercall.ids import new_peer_id
from peercall.logs import call_label, log_event, short_id
from peercall.names import clean_display_name
from peercall.protocol import (
    Ack,
    Answer,
    Candidate,
    ClientMessage,
    EndOfCandidates,
    ErrorCode,
    IceServers,
    Join,
    Joined,
    Leave,
    Left,
    Look,
    Looked,
    MessageCodec,
    Offer,
    Ping,
    Pong,
    PreparedAnswer,
    ProtocolError,
    RenewIceServers,
    Resume,
    Resumed,
    error_message,
)
from peercall.server.connection import POLICY_VIOLATION, Connection, SwitchingProtocols
from peercall.server.ice import ice_servers_expire_in, ice_servers_for
from peercall.server.limits import (
    ConnectionCounter,
    FailedLookupGuard,
    PasscodeGuard,
    TokenBucket,
)
from peercall.server.lookup import find_call
from peercall.server.metrics import Metrics
from peercall.server.passcodes import passcode_matches_in_thread
from peercall.server.proxies import TrustedProxies
from peercall.server.store import (
    STORAGE_UNAVAILABLE,
    CallRecord,
    CallStore,
    EventKind,
    call_key,
    store_safely,
    warn_storage_unavailable,
)

if TYPE_CHECKING:
    from peercall.server.coordinator import Coordinator

logger = logging.getLogger("peercall.signaling")

PASSCODE_ATTEMPTS_LIMITED = "Too many passcode attempts; wait a minute."
SERVICE_RESTART = 1012
# A member's place is kept but this socket cannot serve it now (storage out of
# reach): the client resumes, as after any drop.
TRY_AGAIN_LATER = 1013
# Frames may be bigger than a message (the codec then says "message too large");
# past this, picows drops the socket without reading the frame.
TRANSPORT_SIZE_FACTOR = 4
# What picows' listener factory gives back: the upgrade's response and, if it is
# 101, the listener for the socket.
Upgrade = WSUpgradeResponseWithListener


class SignalingHub:
    """Serves every signaling connection of this process: what clients say is checked
    here; who is in which call, and what each member is owed, is the coordinator's."""

    def __init__(
        self,
        settings: Settings,
        store: CallStore,
        coordinator: Coordinator,
        lookups: FailedLookupGuard,
        metrics: Metrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.store = store
        self.coordinator = coordinator
        self.lookups = lookups
        self.passcode_attempts = PasscodeGuard(settings.passcode_attempts_per_minute)
        self.clock = clock
        self.codec = MessageCodec(settings.max_message_bytes)
        self.max_frame_bytes = settings.max_message_bytes * TRANSPORT_SIZE_FACTOR
        self.trusted_proxies = TrustedProxies(settings.trusted_proxies)
        self._connections_by_address = ConnectionCounter(settings.max_connections_per_ip)
        self._open: set[Connection] = set()  # every connection, in a call or not
        self._sweeper: asyncio.Task[None] | None = None
        # Newcomers whose answer has not gone out yet, with when they joined
        # (perf_counter: uvloop's loop.time() moves in whole milliseconds, and a
        # set-up between two raw clients can take less).
        self._setups: dict[str, float] = {}
        metrics.watch(
            connections=lambda: len(self._open),
            active_calls=coordinator.call_count,
            members=coordinator.members_served,
            queued_signals=coordinator.queued_signals,
        )

    def _send_error(self, connection: Connection, error: ProtocolError) -> None:
        self.metrics.error(error.code)
        connection.send(error_message(error))

    def accept(
        self, request: WSUpgradeRequest, peer: str, loop: asyncio.AbstractEventLoop
    ) -> Upgrade:
        """picows' listener factory: a socket for the upgrade `request` from `peer`
        (101 and its `Connection`, served on `loop`), or an HTTP error instead of the
        upgrade."""
        if not self._origin_allowed(request.headers):
            # Refused before the upgrade (HTTP 403): another site's page may not
            # use this server with its visitors' browsers.
            log_event(logger, "origin-refused")
            return WSUpgradeResponseWithListener(
                WSUpgradeResponse.create_error_response(HTTPStatus.FORBIDDEN), None
            )
        address = peer
        if self.trusted_proxies:
            address = self.trusted_proxies.client_of(
                peer, request.headers.getall("x-forwarded-for", [])
            )
        bucket = TokenBucket(self.settings.messages_per_second, self.settings.message_burst)
        connection = Connection(
            self, self.codec, address, self.settings.handshake_seconds, bucket,
            self.max_frame_bytes, loop,
        )  # fmt: skip
        return WSUpgradeResponseWithListener(SwitchingProtocols(), connection)

    def _origin_allowed(self, headers: CIMultiDict[str]) -> bool:
        origin = headers.get("origin")
        if origin is None:
            return True  # not a browser: Origin protects browsers' users only
        host = headers.get("host", "")
        own = {f"{scheme}://{host}" for scheme in ("http", "https")}
        if self.settings.public_url:
            parts = urlsplit(self.settings.public_url)
            own.add(f"{parts.scheme}://{parts.netloc}")
        allowed = own | {o.rstrip("/") for o in self.settings.allowed_origins}
        return origin.rstrip("/") in allowed

    def connected(self, connection: Connection) -> None:
        """The upgrade is done: the connection counts, or is told why it may not."""
        if not self._connections_by_address.open(connection.address):
            self._send_error(connection, ProtocolError(ErrorCode.TOO_MANY_CONNECTIONS))
            connection.close_after_writing(POLICY_VIOLATION)
            return
        connection.admitted = True
        self._open.add(connection)
        self._start_sweeping()
        logger.debug("socket opened (%d open)", len(self._open))

    async def disconnected(self, connection: Connection) -> None:
        """The socket is gone (after everything it said was handled)."""
        self._open.discard(connection)
        if connection.admitted:
            connection.admitted = False
            self._connections_by_address.close(connection.address)
        logger.debug("socket closed (%d open)", len(self._open))
        try:
            await self._connection_lost(connection)
        except STORAGE_UNAVAILABLE as exc:
            # The coordinator finishes it once storage is back (a member whose socket
            # is gone must not keep its seat for ever).
            warn_storage_unavailable(logger, "a socket closed", exc)
        except Exception:
            logger.exception("failed to let a member's socket go")

    def _start_sweeping(self) -> None:
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep())

    async def _sweep(self) -> None:
        """Closes connections not heard from in time. One timer for all of them: a
        deadline per message is a float, where a timeout per message was an object."""
        interval = min(1.0, self.settings.handshake_seconds / 4, self.settings.idle_seconds / 4)
        loop = asyncio.get_running_loop()
        while self._open:
            await asyncio.sleep(interval)
            now = loop.time()
            for connection in [c for c in self._open if c.deadline < now]:
                self._open.discard(connection)
                self._send_error(connection, ProtocolError(ErrorCode.TIMEOUT))
                connection.close_after_writing(POLICY_VIOLATION)

    async def close(self) -> None:
        """The server stops: every client is told to come back (1012, service
        restart); members resume where they were (on this server once it is back,
        or on another one sharing Redis)."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        for connection in list(self._open):
            connection.close_after_writing(SERVICE_RESTART)

    async def handle(self, connection: Connection, frame: bytes) -> None:
        """One message from the client: checked, applied, answered."""
        if not connection.bucket.take():
            self._send_error(connection, ProtocolError(ErrorCode.RATE_LIMITED))
            return
        try:
            await self._dispatch(connection, self.codec.decode(frame))
        except ProtocolError as error:
            self._send_error(connection, error)
        except STORAGE_UNAVAILABLE as exc:
            warn_storage_unavailable(logger, "a message was refused", exc)
            self._send_error(connection, ProtocolError(ErrorCode.STORAGE_UNAVAILABLE))
        except Exception:
            # Never let one bad message take the connection (or others) down,
            # and never show the client a traceback.
            logger.exception("failed to handle a message")
            self._send_error(connection, ProtocolError(ErrorCode.INTERNAL_ERROR))
        finally:
            # Until it joins, a connection gets a short while; then it must be
            # heard from now and then (clients ping every 20 s). Silent sockets
            # are closed by `_sweep`.
            in_call = connection.peer_id is not None
            wait = self.settings.idle_seconds if in_call else self.settings.handshake_seconds
            connection.deadline = connection.loop.time() + wait

    async def _dispatch(self, connection: Connection, message: ClientMessage) -> None:
        match message:
            # Signals first, candidates first of them: most messages are candidates.
            case Candidate() | Offer() | Answer() | EndOfCandidates():
                call_id, peer_id = self._place_of(connection)
                if not await self.coordinator.relay(call_id, peer_id, message):
                    return  # sent again after a drop; handled already
                self.metrics.relayed(message.__struct_config__.tag)
                if isinstance(message, Answer) and peer_id in self._setups:
                    started = self._setups.pop(peer_id)
                    self.metrics.setup_seconds.observe(time.perf_counter() - started)
            case Ping():
                connection.send(Pong())
            case Join():
                await self._join(connection, message)
            case Look():
                await self._look(connection, message)
            case Resume():
                await self._resume(connection, message)
            case Leave():
                call_id, peer_id = self._place_of(connection)
                connection.call_id = connection.peer_id = None
                self._setups.pop(peer_id, None)
                await self.coordinator.leave(peer_id, "left")
                connection.send(Left(call_id=call_id))
            case Ack(seq=seq):
                _, peer_id = self._place_of(connection)
                await self.coordinator.acknowledge(peer_id, seq)
            case RenewIceServers():
                _, peer_id = self._place_of(connection)
                connection.send(
                    IceServers(
                        ice_servers=ice_servers_for(self.settings, peer_id),
                        ice_servers_expire_in=ice_servers_expire_in(self.settings),
                    )
                )
            case _:
                assert_never(message)

    def _place_of(self, connection: Connection) -> tuple[str, str]:
        if connection.call_id is None or connection.peer_id is None:
            raise ProtocolError(ErrorCode.NOT_IN_CALL)
        return connection.call_id, connection.peer_id

    async def _let_in(self, connection: Connection, call_id: str, passcode: str | None) -> None:
        """What `join` and `look` both need: not in a call yet, the call there, its
        passcode given."""
        if connection.call_id is not None:
            raise ProtocolError(ErrorCode.ALREADY_IN_CALL)
        record = await find_call(self.store, self.lookups, call_id, connection.address)
        if record.passcode_hash is not None:
            await self._check_passcode(connection, record, passcode)

    async def _look(self, connection: Connection, message: Look) -> None:
        await self._let_in(connection, message.call_id, message.passcode)
        offers = await self.coordinator.open_offers(message.call_id)
        # An answer made now is applied as Join is pressed, before `joined` comes
        # back: its ICE servers are needed now (TURN credentials for somebody new).
        connection.send(
            Looked(
                call_id=message.call_id,
                offers=offers,
                ice_servers=ice_servers_for(self.settings, new_peer_id()),
                ice_transport_policy=self.settings.ice_transport_policy,
                ice_servers_expire_in=ice_servers_expire_in(self.settings),
            )
        )

    async def _join(self, connection: Connection, message: Join) -> None:
        answers = _by_recipient(message.answers)
        await self._let_in(connection, message.call_id, message.passcode)
        name = clean_display_name(message.name)
        entry = await self.coordinator.join(message.call_id, name, answers)
        peer_id = entry.peer_id
        connection.call_id, connection.peer_id = message.call_id, peer_id
        connection.send(
            Joined(
                call_id=message.call_id,
                peer_id=peer_id,
                peers=entry.peers,
                ice_servers=ice_servers_for(self.settings, peer_id),
                capacity=self.coordinator.capacity,
                ice_transport_policy=self.settings.ice_transport_policy,
                resume_token=entry.resume_token,
                resume_seconds=self.settings.resume_seconds,
                ping_seconds=min(20.0, self.settings.idle_seconds / 3),
                answered=entry.answered,
                ice_servers_expire_in=ice_servers_expire_in(self.settings),
            )
        )
        # Now what the others had for it (an open offer), after its `joined`.
        if await self._attach(connection, peer_id, after_seq=0):
            if entry.answered:  # its answer went with the join
                self.metrics.relayed("answer", len(entry.answered))
                self.metrics.setup_seconds.observe(0.0)
            elif entry.peers:  # somebody is there: a set-up begins
                self._setups[peer_id] = time.perf_counter()
        await self._record(message.call_id, "join", peer_id)  # in, attached or not

    async def _check_passcode(
        self, connection: Connection, record: CallRecord, passcode: str | None
    ) -> None:
        assert record.passcode_hash is not None
        if passcode is None:
            raise ProtocolError(ErrorCode.PASSCODE_REQUIRED)
        if not self.passcode_attempts.may_try(record.call_key, connection.address):
            raise ProtocolError(ErrorCode.RATE_LIMITED, PASSCODE_ATTEMPTS_LIMITED)
        if not await passcode_matches_in_thread(passcode, record.passcode_hash):
            log_event(logger, "wrong-passcode", call=call_label(record.call_key))
            raise ProtocolError(ErrorCode.WRONG_PASSCODE)

    async def _resume(self, connection: Connection, message: Resume) -> None:
        if connection.call_id is not None:
            raise ProtocolError(ErrorCode.ALREADY_IN_CALL)
        try:
            last_received = await self.coordinator.resume(
                message.call_id, message.peer_id, message.resume_token, message.last_seq
            )
        except STORAGE_UNAVAILABLE as exc:
            # The place is kept meanwhile: told why, and to come back.
            warn_storage_unavailable(logger, "a resume was put off", exc)
            self._send_error(connection, ProtocolError(ErrorCode.STORAGE_UNAVAILABLE))
            connection.close_after_writing(TRY_AGAIN_LATER)
            return
        connection.call_id, connection.peer_id = message.call_id, message.peer_id
        connection.send(
            Resumed(
                call_id=message.call_id,
                peer_id=message.peer_id,
                last_received=last_received,
                ice_servers=ice_servers_for(self.settings, message.peer_id),
                ice_servers_expire_in=ice_servers_expire_in(self.settings),
            )
        )
        # Then every numbered message it missed, in order, and new ones after them.
        if await self._attach(connection, message.peer_id, after_seq=message.last_seq):
            await self._record(message.call_id, "resume", message.peer_id)

    async def _attach(self, connection: Connection, peer_id: str, after_seq: int) -> bool:
        """Sends the member, on `connection`, what it is owed after `after_seq` and
        then what comes. It has been told `joined` or `resumed` by now, so it has its
        place: were this to fail with an error reply, it would stay in the call on a
        socket that gets nothing. The socket is closed instead (1013, try again
        later), the place kept, and the client resumes as after any drop."""
        try:
            await self.coordinator.attach(peer_id, connection, after_seq=after_seq)
        except ProtocolError:
            raise  # the place is gone (resume-failed): the client must join again
        except STORAGE_UNAVAILABLE as exc:
            warn_storage_unavailable(logger, "a member's socket was sent away", exc)
        except Exception:
            logger.exception("failed to attach a member's socket; sent away")
        else:
            return True
        connection.close_after_writing(TRY_AGAIN_LATER)
        return False

    async def _connection_lost(self, connection: Connection) -> None:
        peer_id = connection.peer_id
        if peer_id is None:
            return
        connection.call_id = connection.peer_id = None
        self._setups.pop(peer_id, None)  # a set-up it left unanswered is not one
        await self.coordinator.detach(peer_id, connection)

    async def _record(self, call_id: str, kind: EventKind, peer_id: str) -> None:
        """Logs a member's join or resume, and keeps it in the call's history."""
        key = call_key(call_id)
        log_event(logger, kind, call=call_label(key), peer=short_id(peer_id))
        await store_safely(
            f"record {kind}", self.store.record_event(key, kind, peer_id, self.clock())
        )


def _by_recipient(answers: list[PreparedAnswer]) -> dict[str, PreparedAnswer]:
    by_recipient = {answer.to: answer for answer in answers}
    if len(by_recipient) < len(answers):
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, "Two answers are for the same person.")
    return by_recipient
