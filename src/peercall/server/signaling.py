"""The WebSocket endpoint: read a frame, validate it, apply it, write what it causes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

from peercall.config import Settings
from peercall.logs import log_event
from peercall.protocol import (
    Ack,
    Answer,
    ClientMessage,
    ErrorCode,
    Join,
    Joined,
    Leave,
    LeaveReason,
    Left,
    MessageCodec,
    Ping,
    Pong,
    ProtocolError,
    Resume,
    Resumed,
    error_message,
)
from peercall.server.calls import CallRoster, Delivery
from peercall.server.connection import (
    POLICY_VIOLATION,
    Connection,
    Receive,
    Scope,
    Send,
    client_address,
    header,
    refuse,
)
from peercall.server.ice import ice_servers_for
from peercall.server.limits import (
    ConnectionCounter,
    FailedLookupGuard,
    PasscodeGuard,
    TokenBucket,
)
from peercall.server.lookup import find_call
from peercall.server.members import MemberLink, new_resume_token, token_hash
from peercall.server.metrics import Metrics
from peercall.server.passcodes import passcode_matches_in_thread
from peercall.server.store import CallRecord, CallStore, EventKind

logger = logging.getLogger("peercall.signaling")

PASSCODE_ATTEMPTS_LIMITED = "Too many passcode attempts; wait a minute."


def short_id(identifier: str) -> str:
    """Enough of an id to follow it in logs without handing out the call link."""
    return identifier[:6] + "…"


class SignalingHub:
    """Serves every signaling connection of this process.

    A member (`MemberLink`) outlives its connection for `resume_seconds`: while it is
    away, what is sent to it is numbered and kept, and `resume` on a new connection
    delivers it all, in order, once.
    """

    def __init__(
        self,
        settings: Settings,
        store: CallStore,
        roster: CallRoster,
        lookups: FailedLookupGuard,
        metrics: Metrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.store = store
        self.roster = roster
        self.lookups = lookups
        self.passcode_attempts = PasscodeGuard(settings.passcode_attempts_per_minute)
        self.clock = clock
        self.codec = MessageCodec(settings.max_message_bytes)
        self._links: dict[str, MemberLink] = {}  # by peer id: everybody in a call
        self._connections: dict[str, Connection] = {}  # by peer id: those connected now
        self._expiries: dict[str, asyncio.TimerHandle] = {}  # by peer id: those away
        self._connections_by_address = ConnectionCounter(settings.max_connections_per_ip)
        self._open: set[Connection] = set()  # every connection, in a call or not
        self._sweeper: asyncio.Task[None] | None = None
        # Newcomers whose answer has not gone out yet, with when they joined.
        self._setups: dict[str, float] = {}
        metrics.watch(
            connections=lambda: len(self._open),
            active_calls=lambda: roster.call_count,
            members=lambda: len(self._links),
            queued_signals=lambda: (
                roster.held_signals()
                + sum(len(link.unacknowledged) for link in self._links.values())
            ),
        )

    def _send_error(self, connection: Connection, error: ProtocolError) -> None:
        self.metrics.error(error.code)
        connection.send(error_message(error))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI WebSocket handler: runs until the client goes away."""
        if (await receive())["type"] != "websocket.connect":
            return
        if not self._origin_allowed(scope):
            # Refused before the upgrade (HTTP 403): another site's page may not
            # use this server with its visitors' browsers.
            log_event(logger, "origin-refused")
            await send({"type": "websocket.close", "code": POLICY_VIOLATION})
            return
        address = client_address(scope)
        if not self._connections_by_address.open(address):
            error = ProtocolError(ErrorCode.TOO_MANY_CONNECTIONS)
            self.metrics.error(error.code)
            await refuse(send, self.codec.encode(error_message(error)))
            return
        try:
            await send({"type": "websocket.accept"})
            await self._serve_connection(receive, send, address)
        finally:
            self._connections_by_address.close(address)

    def _origin_allowed(self, scope: Scope) -> bool:
        origin = header(scope, b"origin")
        if origin is None:
            return True  # not a browser: Origin protects browsers' users only
        host = header(scope, b"host") or ""
        own = {f"{scheme}://{host}" for scheme in ("http", "https")}
        if self.settings.public_url:
            parts = urlsplit(self.settings.public_url)
            own.add(f"{parts.scheme}://{parts.netloc}")
        allowed = own | {o.rstrip("/") for o in self.settings.allowed_origins}
        return origin.rstrip("/") in allowed

    async def _serve_connection(self, receive: Receive, send: Send, address: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.handshake_seconds
        connection = Connection(receive, send, self.codec, address, deadline)
        self._open.add(connection)
        self._start_sweeping()
        disconnected = False
        try:
            disconnected = await self._read_loop(connection)
        finally:
            self._open.discard(connection)
            await self._connection_lost(connection)
            connection.finish_writing()
            await connection.flushed(disconnected)

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
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper

    async def _read_loop(self, connection: Connection) -> bool:
        """Handles the client's messages until it goes (True) or is closed (False)."""
        bucket = TokenBucket(self.settings.messages_per_second, self.settings.message_burst)
        loop = asyncio.get_running_loop()
        while True:
            event = await connection.receive()
            if event["type"] == "websocket.disconnect":
                return True
            if connection.close_code is not None:
                return False  # closed by the sweeper; what follows is not handled
            if not bucket.take():
                self._send_error(connection, ProtocolError(ErrorCode.RATE_LIMITED))
                continue
            frame = event.get("text")
            if frame is None:
                frame = event.get("bytes") or b""
            try:
                await self._dispatch(connection, self.codec.decode(frame))
            except ProtocolError as error:
                self._send_error(connection, error)
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
                connection.deadline = loop.time() + wait

    async def _dispatch(self, connection: Connection, message: ClientMessage) -> None:
        match message:
            case Ping():
                connection.send(Pong())
            case Join():
                await self._join(connection, message)
            case Resume():
                await self._resume(connection, message)
            case Leave():
                call_id, peer_id = self._place_of(connection)
                connection.call_id = connection.peer_id = None
                await self._end_membership(peer_id, "left")
                connection.send(Left(call_id=call_id))
            case Ack(seq=seq):
                _, peer_id = self._place_of(connection)
                self._links[peer_id].acknowledge(seq)
            case _:
                call_id, peer_id = self._place_of(connection)
                if not self._links[peer_id].is_new(message.seq):
                    return  # sent again after a drop; handled already
                self._deliver(self.roster.relay(call_id, peer_id, message))
                self.metrics.relayed(message.__struct_config__.tag)
                if isinstance(message, Answer) and peer_id in self._setups:
                    started = self._setups.pop(peer_id)
                    self.metrics.setup_seconds.observe(asyncio.get_running_loop().time() - started)

    def _place_of(self, connection: Connection) -> tuple[str, str]:
        if connection.call_id is None or connection.peer_id is None:
            raise ProtocolError(ErrorCode.NOT_IN_CALL)
        return connection.call_id, connection.peer_id

    async def _join(self, connection: Connection, message: Join) -> None:
        if connection.call_id is not None:
            raise ProtocolError(ErrorCode.ALREADY_IN_CALL)
        record = await find_call(self.store, self.lookups, message.call_id, connection.address)
        if record.passcode_hash is not None:
            await self._check_passcode(connection, record, message.passcode)
        result = self.roster.join(message.call_id, message.name)
        peer_id = result.member.peer_id
        token = new_resume_token()
        self._links[peer_id] = MemberLink(
            message.call_id,
            peer_id,
            token_hash(token),
            max_unacknowledged=self.settings.max_queued_signals,
        )
        self._attach(connection, message.call_id, peer_id)
        connection.send(
            Joined(
                call_id=message.call_id,
                peer_id=peer_id,
                peers=result.peers,
                ice_servers=ice_servers_for(self.settings, peer_id),
                capacity=self.roster.capacity,
                ice_transport_policy=self.settings.ice_transport_policy,
                resume_token=token,
                resume_seconds=self.settings.resume_seconds,
                ping_seconds=min(20.0, self.settings.idle_seconds / 3),
            )
        )
        self._deliver(result.deliveries)
        if result.peers:  # somebody is there: a set-up begins
            self._setups[peer_id] = asyncio.get_running_loop().time()
        log_event(logger, "join", call=short_id(message.call_id), peer=short_id(peer_id))
        await self._store_safely(
            "add member",
            self.store.add_member(
                message.call_id, peer_id, message.name, token_hash(token), self.clock()
            ),
        )
        await self._record(message.call_id, "join", peer_id)

    async def _check_passcode(
        self, connection: Connection, record: CallRecord, passcode: str | None
    ) -> None:
        assert record.passcode_hash is not None
        if passcode is None:
            raise ProtocolError(ErrorCode.PASSCODE_REQUIRED)
        if not self.passcode_attempts.may_try(record.call_key, connection.address):
            raise ProtocolError(ErrorCode.RATE_LIMITED, PASSCODE_ATTEMPTS_LIMITED)
        if not await passcode_matches_in_thread(passcode, record.passcode_hash):
            log_event(logger, "wrong-passcode", call_key=record.call_key[:6])
            raise ProtocolError(ErrorCode.WRONG_PASSCODE)

    async def _resume(self, connection: Connection, message: Resume) -> None:
        if connection.call_id is not None:
            raise ProtocolError(ErrorCode.ALREADY_IN_CALL)
        link = self._links.get(message.peer_id) or await self._restore(message)
        if link.call_id != message.call_id or not link.holds_token(message.resume_token):
            raise ProtocolError(ErrorCode.RESUME_FAILED)
        missed = link.replay_after(message.last_seq)
        if missed is None:
            # Something it missed is gone: its place cannot be made whole.
            await self._end_membership(message.peer_id, "disconnected")
            raise ProtocolError(ErrorCode.RESUME_FAILED)
        previous = self._connections.get(message.peer_id)
        if previous is not None:
            # The old socket is dead but not yet noticed: the new one takes over.
            previous.call_id = previous.peer_id = None
            previous.finish_writing()
        self._attach(connection, message.call_id, message.peer_id)
        connection.send(
            Resumed(
                call_id=message.call_id,
                peer_id=message.peer_id,
                last_received=link.last_received,
            )
        )
        for missed_message in missed:
            connection.send(missed_message)
        log_event(
            logger,
            "resume",
            call=short_id(message.call_id),
            peer=short_id(message.peer_id),
            sent_again=len(missed),
        )
        await self._record(message.call_id, "resume", message.peer_id)

    async def _restore(self, message: Resume) -> MemberLink:
        """A member this process does not know: it was there before a restart."""
        record = await self.store.get_member(message.call_id, message.peer_id)
        call = await self.store.get_call(message.call_id)
        if record is None or record.left_at is not None or call is None or call.ended:
            raise ProtocolError(ErrorCode.RESUME_FAILED)
        link = MemberLink(
            message.call_id,
            message.peer_id,
            record.resume_token_hash,
            # Numbering goes on from what the member has; what it sent is unknown.
            next_seq=message.last_seq + 1,
            last_received=None,
            max_unacknowledged=self.settings.max_queued_signals,
        )
        if not link.holds_token(message.resume_token):
            raise ProtocolError(ErrorCode.RESUME_FAILED)
        try:
            self.roster.restore(message.call_id, message.peer_id, record.name)
        except ProtocolError:
            raise ProtocolError(ErrorCode.RESUME_FAILED) from None
        self._links[message.peer_id] = link
        return link

    def _attach(self, connection: Connection, call_id: str, peer_id: str) -> None:
        connection.call_id, connection.peer_id = call_id, peer_id
        self._connections[peer_id] = connection
        expiry = self._expiries.pop(peer_id, None)
        if expiry is not None:
            expiry.cancel()

    async def _connection_lost(self, connection: Connection) -> None:
        peer_id = connection.peer_id
        if peer_id is None or self._connections.get(peer_id) is not connection:
            return
        del self._connections[peer_id]
        connection.call_id = connection.peer_id = None
        if self.settings.resume_seconds <= 0:
            await self._end_membership(peer_id, "disconnected")
            return
        loop = asyncio.get_running_loop()
        self._expiries[peer_id] = loop.call_later(
            self.settings.resume_seconds,
            lambda: loop.create_task(self._expire(peer_id)),
        )

    async def _expire(self, peer_id: str) -> None:
        if peer_id not in self._connections:
            await self._end_membership(peer_id, "disconnected")

    async def _end_membership(self, peer_id: str, reason: LeaveReason) -> None:
        self._setups.pop(peer_id, None)
        link = self._links.pop(peer_id, None)
        expiry = self._expiries.pop(peer_id, None)
        if expiry is not None:
            expiry.cancel()
        connection = self._connections.pop(peer_id, None)
        if connection is not None:
            connection.call_id = connection.peer_id = None
        if link is None:
            return
        self._deliver(self.roster.leave(link.call_id, peer_id, reason))
        log_event(
            logger, "leave", call=short_id(link.call_id), peer=short_id(peer_id), reason=reason
        )
        await self._store_safely(
            "member left", self.store.member_left(link.call_id, peer_id, self.clock())
        )
        await self._record(link.call_id, "leave", peer_id)

    async def _record(self, call_id: str, kind: EventKind, peer_id: str) -> None:
        await self._store_safely(
            f"record {kind}", self.store.record_event(call_id, kind, peer_id, self.clock())
        )

    async def _store_safely(self, what: str, work: Awaitable[None]) -> None:
        # History is for the operator; a storage hiccup must not break the call.
        try:
            await work
        except Exception:
            logger.exception("could not %s", what)

    def _deliver(self, deliveries: Iterable[Delivery]) -> None:
        """Numbers each message for its recipient and sends it if connected; a member
        who is away gets it on `resume`."""
        for delivery in deliveries:
            link = self._links.get(delivery.to)
            if link is None:
                continue
            numbered = link.number(delivery.message)
            recipient = self._connections.get(delivery.to)
            if recipient is not None:
                recipient.send(numbered)
