"""One RTCPeerConnection (aiortc) to one remote member, negotiated as docs/protocol.md says.

aiortc gathers every ICE candidate before `setLocalDescription` returns, so our offers
and answers carry their candidates in the SDP and we send no `candidate` messages.
The other side may trickle: its candidates are queued until the remote description
is set, then added in order, never dropped.

Glare (both sides offering at once) follows perfect negotiation with the browser's
rule for who is polite (the larger peer id). aiortc cannot roll back a local offer,
so when we are the polite side we start the peer connection over and answer theirs.
Nor can it restart ICE: an offer that restarts it (new credentials) is met with a new
peer connection, as a path that broke on our side is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Protocol

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCDataChannel,
    RTCIceCandidate,
    RTCIceServer,
    RTCIceTransportPolicy,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.sdp import candidate_from_sdp

from peercall.client import datachannel
from peercall.client.chat_memory import KEPT_MESSAGES
from peercall.client.fanout import Fanout
from peercall.client.files import FileAssembler, file_start, send_file
from peercall.client.media import MediaSource
from peercall.client.sending import sends_its_own
from peercall.client.stats import PeerStats, peer_stats
from peercall.config import IceServer
from peercall.protocol import (
    NEXT_PEER,
    Answer,
    IceCandidateInit,
    Offer,
    RelayedAnswer,
    RelayedCandidate,
    RelayedEndOfCandidates,
    RelayedOffer,
    RelayedSignal,
    Signal,
)

logger = logging.getLogger(__name__)

MEDIA_KINDS = ("audio", "video")
CHANNEL_OPEN_TIMEOUT = 10.0
# Earlier messages taken on one channel: what a sender keeps (chat_memory.py).
MAX_EARLIER_MESSAGES = KEPT_MESSAGES


class _OfferRequest:
    """Our own offer, made in turn with the signals being handled."""


MAKE_OFFER = _OfferRequest()


class LinkObserver(Protocol):
    """What a PeerLink reports to the call that owns it."""

    def link_state_changed(self, link: PeerLink) -> None: ...
    def link_track(self, link: PeerLink, track: MediaStreamTrack) -> None: ...
    def link_message(
        self, link: PeerLink, message: datachannel.ChatText | datachannel.EarlierChatText
    ) -> None: ...
    def our_messages(self) -> list[datachannel.ChatText]: ...
    def link_media_state(self, link: PeerLink, state: datachannel.MediaState) -> None: ...
    def link_hand(self, link: PeerLink, hand: datachannel.Hand) -> None: ...
    def link_file(self, link: PeerLink, start: datachannel.FileStart, data: bytes) -> None: ...
    def link_file_failed(
        self, link: PeerLink, start: datachannel.FileStart, reason: str
    ) -> None: ...
    def link_ice_restarted(self, link: PeerLink) -> None: ...


def new_session_id() -> str:
    return secrets.token_urlsafe(9)


def rtc_configuration(ice_servers: list[IceServer], policy: str = "all") -> RTCConfiguration:
    # An explicit list, even empty: aiortc would otherwise add a public STUN server.
    return RTCConfiguration(
        iceServers=[
            RTCIceServer(urls=server.urls, username=server.username, credential=server.credential)
            for server in ice_servers
        ],
        iceTransportPolicy=RTCIceTransportPolicy(policy),
    )


def ice_username_fragments(sdp: str) -> set[str]:
    """The ICE credentials' names a description gives (one per transport). New ones
    in an offer on a connection already up mean the other side restarted ICE."""
    prefix = "a=ice-ufrag:"
    return {line[len(prefix) :].strip() for line in sdp.splitlines() if line.startswith(prefix)}


def remote_candidate(init: IceCandidateInit) -> RTCIceCandidate | None:
    """aiortc's form of a trickled candidate; None for the empty end-of-candidates one."""
    text = init.candidate.removeprefix("candidate:").strip()
    if not text:
        return None
    candidate = candidate_from_sdp(text)
    candidate.sdpMid = init.sdpMid
    candidate.sdpMLineIndex = init.sdpMLineIndex
    return candidate


async def close_peer_connection(pc: RTCPeerConnection) -> None:
    """Closes `pc`, shielded from our cancellation. aiortc closes a connection itself
    when its DTLS ends, and a second `close()` waits on the first one's future: had
    that wait been cancelled (hanging up cancels the closes a call has under way),
    the future would be cancelled with it, and aiortc's own close would then fail
    ("Task exception was never retrieved: InvalidStateError").

    The same error comes from aiortc's task that connects `pc` when we close it while
    it connects (hanging up as the call comes up): it then finds the ICE transport
    closed. That failure is ours, on purpose, so it is taken here, not logged."""
    for task in _connect_tasks_of(pc):
        task.add_done_callback(_take_failure)
    await asyncio.shield(pc.close())


# aiortc's coroutine that starts a peer connection's transports once both descriptions
# are set (`RTCPeerConnection.__connect`, name-mangled): its tasks are aiortc's own.
_AIORTC_CONNECT = "RTCPeerConnection.__connect"


def _connect_tasks_of(pc: RTCPeerConnection) -> list[asyncio.Task[object]]:
    return [task for task in asyncio.all_tasks() if _connects(task.get_coro(), pc)]


def _connects(coroutine: object, pc: RTCPeerConnection) -> bool:
    frame = getattr(coroutine, "cr_frame", None)  # None once finished
    return (
        getattr(coroutine, "__qualname__", "") == _AIORTC_CONNECT
        and frame is not None
        and frame.f_locals.get("self") is pc
    )


def _take_failure(task: asyncio.Task[object]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: asyncio no longer reports it


class PeerLink:
    """A peer connection with its session id; signals are handled strictly in order."""

    def __init__(
        self,
        *,
        local_id: str,
        remote_id: str | None,
        session: str | None,
        ice_servers: list[IceServer],
        ice_transport_policy: str,
        media: MediaSource | None,
        relay: Fanout,
        send: Callable[[Signal], Awaitable[None]],
        observer: LinkObserver,
    ) -> None:
        self.local_id = local_id
        self.remote_id = remote_id  # None while it is an open offer to "next"
        self.session = session or new_session_id()
        self.as_offerer = session is None
        self._ice_servers = ice_servers
        self._ice_transport_policy = ice_transport_policy
        self._media = media
        self._relay = relay
        self._send = send
        self._observer = observer
        self._inbox: asyncio.Queue[RelayedSignal | _OfferRequest] = asyncio.Queue()
        self._pending_candidates: list[IceCandidateInit | None] = []
        self._channel_open = asyncio.Event()
        self._sending_file = asyncio.Lock()  # one file at a time per channel
        self._closed = False
        # Made in place of an earlier peer connection with the same person (one that
        # broke, or theirs replacing it): until connected, the call is reconnecting.
        self.replacing = False
        self.hand_raised = False  # ours, said to them when the channel opens
        self.incoming_video = True  # whether we want their video, said likewise
        self._pc, self.channel = self._new_peer_connection()
        self._worker = asyncio.create_task(self._work(), name=f"peer-link-{self.session}")

    @property
    def connection_state(self) -> str:
        return self._pc.connectionState

    @property
    def broken(self) -> bool:
        """Its peer connection failed, or aiortc closed it (consent checks unanswered
        for 30 s, the other side's DTLS gone): not our doing, and aiortc cannot
        restart ICE."""
        return not self._closed and self._pc.connectionState in ("failed", "closed")

    @property
    def offering(self) -> bool:
        """Our offer is out, not answered yet."""
        return self._pc.signalingState == "have-local-offer"

    @property
    def polite(self) -> bool:
        """The polite side yields in glare; the browser uses the same rule."""
        return self.remote_id is not None and self.local_id > self.remote_id

    @property
    def target(self) -> str:
        return self.remote_id or NEXT_PEER

    def _new_peer_connection(self) -> tuple[RTCPeerConnection, RTCDataChannel]:
        pc = RTCPeerConnection(rtc_configuration(self._ice_servers, self._ice_transport_policy))
        channel = pc.createDataChannel(
            datachannel.CHANNEL_LABEL, negotiated=True, id=datachannel.CHANNEL_ID
        )
        self._channel_open.clear()
        self._waiting_to_send: set[str | None] = set()  # ids of our messages (send_chat)
        self._earlier_left = MAX_EARLIER_MESSAGES  # what this channel still takes
        self._files = self._new_file_assembler()
        channel.on("open", self._on_channel_open)
        channel.on("message", self._on_channel_message)
        channel.on("close", self._files.abort)
        self._video_out: tuple[RTCRtpSender, MediaStreamTrack] | None = None
        for kind in MEDIA_KINDS:
            source = getattr(self._media, kind, None) if self._media else None
            if source is not None:
                track = self._relay.live(source)
                sender = pc.addTrack(track)
                if kind == "video":
                    self._video_out = (sender, track)
            elif self.as_offerer:
                # Ask to receive what we do not send, or the other side could not send it.
                pc.addTransceiver(kind, direction="recvonly")
        pc.on("track", lambda track: self._observer.link_track(self, track))
        pc.on("connectionstatechange", lambda: self._connection_changed(pc))
        return pc, channel

    def _on_channel_open(self) -> None:
        self._channel_open.set()
        # What we send, as the page says it (a receive-only client sends neither):
        # without it the page showed a black picture and nothing to say why.
        self.send_media_state()
        self.send_hand()  # lowered too: one lowered while reconnecting would stay up there
        self.send_video_wanted()
        # What we said before this channel opened: they show each message once.
        for message in self._observer.our_messages():
            if message.id not in self._waiting_to_send:
                self.channel.send(datachannel.encode(datachannel.earlier(message)))

    def send_hand(self) -> None:
        """Tells the other side whether our hand is raised (`hand_raised`)."""
        if self.channel.readyState == "open":
            self.channel.send(datachannel.encode(datachannel.Hand(raised=self.hand_raised)))

    def send_video_wanted(self) -> None:
        """Tells the other side whether we want their video (`incoming_video`)."""
        if self.channel.readyState == "open":
            wanted = datachannel.VideoWanted(wanted=self.incoming_video)
            self.channel.send(datachannel.encode(wanted))

    def _set_video_wanted(self, wanted: bool) -> None:
        """They asked us to stop sending them video, or to send it again: our track
        comes off the sender and back on, with no renegotiation; the sound goes on."""
        if self._video_out is not None:
            sender, track = self._video_out
            sender.replaceTrack(track if wanted else None)

    def send_media_state(self) -> None:
        """Tells the other side what we send now (a played file has ended, say)."""
        if self.channel.readyState == "open":
            self.channel.send(datachannel.encode(self.media_state))

    @property
    def media_state(self) -> datachannel.MediaState:
        media = self._media
        video = sends_its_own(media.video if media else None)
        return datachannel.MediaState(
            audio=sends_its_own(media.audio if media else None),
            video=video,
            screen=video and media is not None and media.screen,
        )

    def _connection_changed(self, pc: RTCPeerConnection) -> None:
        if pc is self._pc:  # not one it has replaced
            self._observer.link_state_changed(self)

    def _new_file_assembler(self) -> FileAssembler:
        return FileAssembler(
            on_file=lambda start, data: self._observer.link_file(self, start, data),
            on_failure=lambda start, reason: self._observer.link_file_failed(self, start, reason),
        )

    def _on_channel_message(self, data: str | bytes) -> None:
        if isinstance(data, bytes):
            self._files.chunk(data)
            return
        match datachannel.decode_message(data):
            case datachannel.ChatText() as message:
                self._observer.link_message(self, message)
            case datachannel.EarlierChatText() as message:
                if self._earlier_left > 0:  # no more than anybody keeps
                    self._earlier_left -= 1
                    self._observer.link_message(self, message)
            case datachannel.MediaState() as state:
                self._observer.link_media_state(self, state)
            case datachannel.Hand() as hand:
                self._observer.link_hand(self, hand)
            case datachannel.VideoWanted(wanted=wanted):
                self._set_video_wanted(wanted)
            case datachannel.FileStart() as start:
                self._files.start(start)
            case datachannel.FileEnd() as end:
                self._files.end(end)
            case None:
                logger.debug("ignoring a data channel message we do not understand")

    def request_offer(self) -> None:
        """Makes and sends our offer, in turn with the signals already queued."""
        self._inbox.put_nowait(MAKE_OFFER)

    def receive(self, signal: RelayedSignal) -> None:
        """Queues one signal from the remote side; they are handled in arrival order."""
        self._inbox.put_nowait(signal)

    async def send_chat(self, message: datachannel.ChatText) -> None:
        # Waiting for the channel: once it opens the message goes as itself, not as
        # one of the earlier ones.
        self._waiting_to_send.add(message.id)
        try:
            await self._channel_opened()
            self.channel.send(datachannel.encode(message))
        finally:
            self._waiting_to_send.discard(message.id)

    async def send_file(self, name: str, data: bytes, mime: str = "") -> None:
        """Sends `data` as a file called `name`, after any file being sent already."""
        await self._channel_opened()
        async with self._sending_file:
            await send_file(self.channel, file_start(name, len(data), mime), data)

    async def _channel_opened(self) -> None:
        """Until the data channel is open (TimeoutError after CHANNEL_OPEN_TIMEOUT)."""
        async with asyncio.timeout(CHANNEL_OPEN_TIMEOUT):
            await self._channel_open.wait()

    async def stats(self) -> PeerStats:
        return peer_stats(self.remote_id or NEXT_PEER, await self._pc.getStats())

    @property
    def can_send_text(self) -> bool:
        return self.channel.readyState == "open"

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._worker
        await close_peer_connection(self._pc)

    async def _work(self) -> None:
        while True:
            signal = await self._inbox.get()
            try:
                await self._handle(signal)
            except Exception:
                # A bad description or candidate from the other side must not end the call.
                logger.exception("could not handle a %s from the other side", _kind(signal))

    async def _handle(self, signal: RelayedSignal | _OfferRequest) -> None:
        match signal:
            case _OfferRequest():
                await self._make_offer()
            case RelayedOffer(sdp=sdp):
                await self._accept_offer(sdp)
            case RelayedAnswer(sdp=sdp):
                await self._accept_answer(sdp)
            case RelayedCandidate(candidate=candidate) if candidate is not None:
                await self._add_candidate(candidate)
            case RelayedEndOfCandidates():
                await self._add_candidate(None)

    async def _make_offer(self) -> None:
        await self._pc.setLocalDescription(await self._pc.createOffer())
        await self._send(Offer(to=self.target, session=self.session, sdp=self._sdp()))

    async def _accept_offer(self, sdp: str) -> None:
        if self._restarts_ice(sdp):
            # aiortc would answer with its old credentials and go on checking the old
            # path, which the other side has given up (it restarts when the path
            # breaks), until its consent checks go 30 s unanswered. A new peer
            # connection gets through as soon as the other side takes it.
            logger.info("they restarted ICE, which aiortc cannot: connecting again")
            self._observer.link_ice_restarted(self)
            return
        if self._pc.signalingState != "stable":
            if not self.polite:
                logger.debug("glare: ignoring their offer, ours goes on")
                return
            logger.debug("glare: starting over to answer their offer")
            old, (self._pc, self.channel) = self._pc, self._new_peer_connection()
            await close_peer_connection(old)
        await self._pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        await self._add_pending_candidates()
        await self._pc.setLocalDescription(await self._pc.createAnswer())
        assert self.remote_id is not None, "offers come from a known peer"
        await self._send(Answer(to=self.remote_id, session=self.session, sdp=self._sdp()))

    def _restarts_ice(self, offer_sdp: str) -> bool:
        current = self._pc.remoteDescription
        if current is None:
            return False
        offered, known = ice_username_fragments(offer_sdp), ice_username_fragments(current.sdp)
        return bool(offered and known) and offered != known

    async def _accept_answer(self, sdp: str) -> None:
        if self._pc.signalingState != "have-local-offer":
            logger.debug("ignoring an answer to no offer of ours")
            return
        await self._pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        await self._add_pending_candidates()

    async def _add_candidate(self, candidate: IceCandidateInit | None) -> None:
        if self._pc.remoteDescription is None:
            self._pending_candidates.append(candidate)
            return
        await self._pc.addIceCandidate(remote_candidate(candidate) if candidate else None)

    async def _add_pending_candidates(self) -> None:
        pending, self._pending_candidates = self._pending_candidates, []
        for candidate in pending:
            await self._add_candidate(candidate)

    def _sdp(self) -> str:
        description = self._pc.localDescription
        assert description is not None
        return description.sdp


def _kind(signal: RelayedSignal | _OfferRequest) -> str:
    if isinstance(signal, _OfferRequest):
        return "offer of ours"
    return str(type(signal).__struct_config__.tag)
