"""A call from a Python program: join by link, send and receive media and text, hang up.

The same protocol and the same choices as the web page (`web/js/call.js`): while alone
we keep an open offer for whoever joins next; the members already there offer to a
newcomer; one PeerLink per remote member.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Coroutine
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from aiortc import MediaStreamTrack

from peercall import protocol as wire
from peercall.client import datachannel
from peercall.client.chat_memory import ChatMemory
from peercall.client.errors import CallError, ServerUnreachable
from peercall.client.events import (
    CallEvent,
    CallState,
    ConnectionQualityChanged,
    FileFailed,
    FileReceived,
    HandChanged,
    MessageReceived,
    PeerJoined,
    PeerLeft,
    PeerMediaChanged,
    StateChanged,
    TrackReceived,
)
from peercall.client.fanout import Fanout
from peercall.client.files import read_file_to_send
from peercall.client.links import CallLink, parse_call_link, server_base_url
from peercall.client.media import MediaSource
from peercall.client.peer import PeerLink
from peercall.client.quality import INTERVAL_SECONDS as QUALITY_INTERVAL_SECONDS
from peercall.client.quality import QualityJudge
from peercall.client.receiving import ReceivedTrackStats, Recorder, count_frames
from peercall.client.sending import SwitchableTrack, sends_its_own
from peercall.client.signaling import ResumableSignaling, SignalingConnection
from peercall.client.stats import PeerStats
from peercall.config import IceServer

logger = logging.getLogger(__name__)

JOIN_TIMEOUT = 15.0
# How long a broken peer connection waits before it is replaced (see `_connect_again`).
BROKEN_LINK_GRACE_SECONDS = 1.5
# When ICE servers are renewed: at this share of their credentials' life.
ICE_RENEWAL_AT = 0.8
_END = object()  # closes every event stream


async def create_call(server_url: str, *, passcode: str | None = None) -> str:
    """Creates a call on the server at `server_url`; returns its link. With a
    `passcode`, nobody joins without it (send it apart from the link)."""
    base = server_base_url(server_url)
    body = {"passcode": passcode} if passcode else None
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.post(base + "/api/calls", json=body)
    except httpx.HTTPError as exc:
        raise ServerUnreachable(f"Cannot reach the server at {base}: {exc}") from None
    if response.status_code != 201:
        try:
            error = response.json()["error"]
        except (ValueError, KeyError, TypeError):
            error = {"code": "unexpected-response", "message": f"HTTP {response.status_code}"}
        raise CallError(str(error["code"]), f"The server refused: {error['message']}")
    return str(response.json()["url"])


async def join(
    link: str | CallLink,
    *,
    media: MediaSource | None = None,
    record_to: str | Path | None = None,
    name: str = "",
    passcode: str | None = None,
) -> Call:
    """Joins the call at `link`; returns once the server has let us in.

    `media` is what we send (None: receive only); it stays yours to close.
    `record_to` records the first person who sends us media to that file.
    `passcode` is needed for a call created with one.
    Raises CallNotFound, CallEnded, CallFull, PasscodeRequired, WrongPasscode or
    ServerUnreachable (all CallError).
    """
    call_link = parse_call_link(link) if isinstance(link, str) else link
    connection = await SignalingConnection.open(call_link.websocket_url)
    try:
        await connection.send(wire.Join(call_id=call_link.call_id, name=name, passcode=passcode))
        async with asyncio.timeout(JOIN_TIMEOUT):
            reply = await connection.receive()
    except BaseException:
        await connection.close()
        raise
    if isinstance(reply, wire.Error):
        await connection.close()
        raise CallError.from_wire(reply.code, reply.message)
    if not isinstance(reply, wire.Joined):
        await connection.close()
        raise CallError("unexpected-response", f"The server answered {type(reply).__name__}.")
    try:
        # Only now: a call that does not exist leaves no empty recording behind.
        recorder = Recorder(record_to) if record_to is not None else None
    except BaseException:
        await connection.send(wire.Leave())
        await connection.close()
        raise
    call = Call(call_link, connection, reply, media=media, recorder=recorder)
    call._start()
    return call


class EventStream:
    """An async iterator over the events of one call, for one reader. The call holds
    it weakly: a stream its reader has dropped (`async for ...: break`) stops
    receiving, rather than keep every later event, received files included."""

    def __init__(self, subscribers: weakref.WeakSet[EventStream]) -> None:
        self.queue: asyncio.Queue[object] = asyncio.Queue()
        self._subscribers = subscribers

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> CallEvent:
        event = await self.queue.get()
        if event is _END:
            self.close()
            raise StopAsyncIteration
        return event  # type: ignore[return-value]

    def close(self) -> None:
        """Stops receiving events (done by itself when the call ends)."""
        self._subscribers.discard(self)


class Call:
    """A call we are in. Use `async with` (or `hang_up()`) to leave it cleanly."""

    def __init__(
        self,
        link: CallLink,
        connection: SignalingConnection,
        joined: wire.Joined,
        *,
        media: MediaSource | None,
        recorder: Recorder | None,
    ) -> None:
        self.link = link
        self.peer_id = joined.peer_id
        self.capacity = joined.capacity
        self._signaling = ResumableSignaling(
            link.websocket_url,
            connection,
            joined,
            on_lost=self._server_lost_for_now,
            on_resumed=self._server_back,
        )
        self._state_before_loss: CallState | None = None
        self._ice_servers = joined.ice_servers
        self._ice_servers_expire_in = joined.ice_servers_expire_in
        self._ice_renewal: asyncio.TimerHandle | None = None
        self._ice_transport_policy = joined.ice_transport_policy
        self._already_there = [peer.peer_id for peer in joined.peers]
        self._media = media
        # What the peer connections send: the media's tracks, each of which can be
        # switched off (`set_muted`, `set_video_off`).
        self._outgoing = (
            MediaSource(
                audio=SwitchableTrack(media.audio) if media.audio else None,
                video=SwitchableTrack(media.video) if media.video else None,
                screen=media.screen,
            )
            if media
            else None
        )
        self._recorder = recorder
        self._relay = Fanout()  # lets one source feed many peer connections (and readers)
        self._links: dict[str, PeerLink] = {}
        self._open_link: PeerLink | None = None
        self._hand_raised = False
        self._incoming_video = True
        self._hands: dict[str, bool] = {}  # the others' hands, raised or not
        self._chat = ChatMemory()  # our messages, sent again to whoever comes
        self._subscribers: weakref.WeakSet[EventStream] = weakref.WeakSet()
        self._tasks: set[asyncio.Task[None]] = set()
        # Until `_start` knows whether anybody is here.
        self._state = CallState.CONNECTING
        self._state_changed = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self.received: dict[str, ReceivedTrackStats] = {}  # by kind, from the current peer

    # --- what a user of the call sees -------------------------------------------------

    @property
    def url(self) -> str:
        return self.link.url

    @property
    def state(self) -> CallState:
        return self._state

    @property
    def peers(self) -> list[str]:
        return list(self._links)

    def events(self) -> EventStream:
        """Everything that happens from this call on, until we hang up. Subscribes
        at once, so nothing between this call and the first `anext` is missed."""
        stream = EventStream(self._subscribers)
        self._subscribers.add(stream)
        return stream

    async def wait_for_state(self, *states: CallState) -> CallState:
        """Waits until the call is in one of `states`; returns which. Bound the wait
        with `asyncio.timeout` if needed."""
        while self._state not in states:
            await self._state_changed.wait()
        return self._state

    async def wait_connected(self) -> None:
        await self.wait_for_state(CallState.CONNECTED)

    @property
    def muted(self) -> bool:
        return self._outgoing is None or not sends_its_own(self._outgoing.audio)

    @property
    def video_off(self) -> bool:
        return self._outgoing is None or not sends_its_own(self._outgoing.video)

    def set_muted(self, muted: bool) -> None:
        """Sends silence instead of our sound (True), or our sound again (False), as a
        browser's mute does; everybody is told, and their page shows us muted. No-op
        without a sound to send."""
        self._switch(self._outgoing.audio if self._outgoing else None, not muted)

    def set_video_off(self, off: bool) -> None:
        """Sends a black picture instead of ours (True), or ours again (False), as a
        browser's camera off does; everybody is told, and their page says so."""
        self._switch(self._outgoing.video if self._outgoing else None, not off)

    @property
    def hand_raised(self) -> bool:
        return self._hand_raised

    def raise_hand(self, raised: bool = True) -> None:
        """Raises our hand (to speak next, in a group call), or lowers it (False): the
        others' pages show "Hand raised" on our tile, and Python peers get `HandChanged`."""
        self._hand_raised = raised
        for link in self._all_links():
            link.hand_raised = raised
            link.send_hand()

    @property
    def incoming_video(self) -> bool:
        return self._incoming_video

    def set_incoming_video(self, wanted: bool) -> None:
        """Asks everybody, and whoever joins later, to stop sending us video (False: a
        poor or metered connection, or a client that only listens), or to send it
        again (True). Their sound goes on."""
        self._incoming_video = wanted
        for link in self._all_links():
            link.incoming_video = wanted
            link.send_video_wanted()

    def switch_media(self, media: MediaSource) -> None:
        """Sends `media` in place of what is sent now, kind by kind, as a page switches
        camera or shares its screen: a screen's picture in place of the camera's, the
        sound going on unless `media` has sound too. Nothing is renegotiated; the
        others are told (a screen is shown whole). Muted stays muted, video off stays
        off. What is switched away from is left open: close it when done with it.
        Raises ValueError for a kind this call does not send (it joined without it) or
        no longer sends (a file played to its end)."""
        outgoing = self._outgoing
        switches: list[tuple[SwitchableTrack, MediaStreamTrack]] = []
        for new in (media.audio, media.video):
            if new is None:
                continue
            sent = getattr(outgoing, new.kind, None) if outgoing else None
            if not isinstance(sent, SwitchableTrack):
                raise ValueError(f"This call sends no {new.kind}: join with some to switch it.")
            if sent.readyState != "live":
                raise ValueError(f"The {new.kind} sent in this call has ended.")
            switches.append((sent, new))
        for sent, new in switches:
            sent.replace_source(new)
        if outgoing is not None and media.video is not None:
            outgoing.screen = media.screen
        self._media_changed()

    def _switch(self, track: MediaStreamTrack | None, enabled: bool) -> None:
        if isinstance(track, SwitchableTrack) and track.enabled != enabled:
            track.enabled = enabled
            self._media_changed()

    async def send_text(self, text: str) -> None:
        """Sends a chat message to everybody connected (waiting for the channel to open).
        It is sent again to whoever's channel opens later: someone who joins reads it."""
        links = self._connected_links()
        message = datachannel.new_chat_message(text)
        self._chat.remember_sent(message)
        await asyncio.gather(*(link.send_chat(message) for link in links))

    def our_messages(self) -> list[datachannel.ChatText]:
        """Our last messages, oldest first (LinkObserver): a channel that opens gets them."""
        return self._chat.sent

    async def send_file(self, file: str | Path | bytes, name: str | None = None) -> None:
        """Sends a file (a path, or bytes called `name`) to everybody connected; returns
        once all of it is handed to the connections. At most 512 MiB: it is read
        whole first. Raises CallError when nobody is connected, ValueError when it
        is too large, and OSError when it cannot be read."""
        links = self._connected_links()
        if isinstance(file, bytes):
            data, name = file, name or "file"
        else:
            # Not on the event loop: reading 512 MiB would stall the calls' media.
            data = await asyncio.to_thread(read_file_to_send, Path(file))
            name = name or Path(file).name
        if len(data) > datachannel.MAX_FILE_BYTES:
            raise ValueError("The file is larger than 512 MiB.")
        await asyncio.gather(*(link.send_file(name, data) for link in links))

    async def stats(self) -> list[PeerStats]:
        """Counters of the connection with each person in the call (bytes each way,
        packets received and lost, round-trip time), as `getStats` gives them now.
        Two samples give bit rates: `later.bits_per_second_since(earlier, seconds)`."""
        links = list(self._links.values())
        return list(await asyncio.gather(*(link.stats() for link in links)))

    def _connected_links(self) -> list[PeerLink]:
        links = [link for link in self._links.values() if link.connection_state == "connected"]
        if not links:
            raise CallError("not-connected", "Nobody is connected to receive it.")
        return links

    async def hang_up(self) -> None:
        """Leaves the call: tells the server, closes every peer connection, ends events."""
        if self._state == CallState.LEFT:
            return
        with contextlib.suppress(CallError):
            await self._signaling.send(wire.Leave())
        await self._shut_down()
        self._set_state(CallState.LEFT)
        self._emit(_END)

    async def __aenter__(self) -> Call:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.hang_up()

    # --- the machinery ----------------------------------------------------------------

    def _start(self) -> None:
        self._reader = asyncio.create_task(self._read_server(), name="peercall-signaling")
        for track in (self._outgoing.audio, self._outgoing.video) if self._outgoing else ():
            # Ends with its source: a played file over, a capture device gone. Say so.
            if track is not None:
                track.on("ended", self._media_changed)
        self._use_ice_servers(self._ice_servers, self._ice_servers_expire_in)
        self._spawn(self._watch_quality())
        if self._already_there:
            # The people here offer to us; their offers follow `joined`.
            self._set_state(CallState.CONNECTING)
        else:
            self._set_state(CallState.WAITING)
            self._make_open_offer()

    async def _watch_quality(self) -> None:
        """Every few seconds, each connected person's statistics: tells of a
        connection that turns poor or is good again (`ConnectionQualityChanged`),
        and replaces one whose path is gone."""
        judge = QualityJudge()
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(QUALITY_INTERVAL_SECONDS)
            for gone in judge.people() - self._links.keys():
                judge.forget(gone)
            for peer_id, link in list(self._links.items()):
                if link.connection_state != "connected":
                    continue
                try:
                    sample = await link.stats()
                except Exception:  # closing meanwhile: the next round
                    logger.debug("no statistics for %s this round", peer_id, exc_info=True)
                    continue
                now = loop.time()
                change = judge.observe(link, sample, now)
                if judge.gone_quiet(peer_id, now):
                    logger.info("nothing comes from them any more: connecting again")
                    self._connect_again(link, peer_id)
                    continue
                if change is not None:
                    self._emit(
                        ConnectionQualityChanged(
                            peer_id=peer_id,
                            poor=change.poor,
                            received_loss_percent=change.received_loss_percent,
                            sent_loss_percent=change.sent_loss_percent,
                            round_trip_ms=change.round_trip_ms,
                        )
                    )

    def _server_lost_for_now(self) -> None:
        if self._state != CallState.SERVER_RECONNECTING:
            self._state_before_loss = self._state
        self._set_state(CallState.SERVER_RECONNECTING)

    def _server_back(self, resumed: wire.Resumed) -> None:
        if resumed.ice_servers:
            self._use_ice_servers(resumed.ice_servers, resumed.ice_servers_expire_in)
        self._set_state(self._state_before_loss or CallState.CONNECTING)
        self._update_state()

    async def _read_server(self) -> None:
        try:
            while True:
                message = await self._signaling.receive()
                try:
                    self._dispatch(message)
                except Exception:
                    logger.exception("could not handle %s from the server", type(message).__name__)
        except ServerUnreachable:
            # The media is peer to peer and goes on; only signaling is gone.
            self._set_state(CallState.SERVER_LOST)

    def _dispatch(self, message: wire.ServerMessage) -> None:
        match message:
            case wire.PeerJoined():
                self._on_peer_joined(message)
            case wire.PeerLeft():
                self._on_peer_left(message)
            case (
                wire.RelayedOffer()
                | wire.RelayedAnswer()
                | wire.RelayedCandidate()
                | wire.RelayedEndOfCandidates()
            ):
                self._on_signal(message)
            case wire.IceServers(ice_servers=servers, ice_servers_expire_in=expire_in):
                self._use_ice_servers(servers, expire_in)
            case wire.Error(code=code, message=text):
                logger.warning("the server refused a message: %s (%s)", text, code)
            case wire.Left():
                pass

    def _on_peer_joined(self, message: wire.PeerJoined) -> None:
        self._emit(PeerJoined(peer_id=message.peer_id, name=message.name))
        open_link = self._open_link
        session = message.open_offer_session
        if open_link is not None and session is not None and open_link.session == session:
            # They took our open offer: that peer connection is theirs now.
            open_link.remote_id = message.peer_id
            self._open_link = None
            self._links[message.peer_id] = open_link
        else:
            old = self._links.pop(message.peer_id, None)
            if old is not None:
                self._spawn(old.close())
            link = self._new_link(message.peer_id, session=None)
            self._links[message.peer_id] = link
            link.request_offer()
        if self._state != CallState.CONNECTED:  # a newcomer does not disturb a group call
            self._set_state(CallState.CONNECTING)

    def _on_peer_left(self, message: wire.PeerLeft) -> None:
        link = self._links.pop(message.peer_id, None)
        if link is not None:
            self._spawn(link.close())
        self._hands.pop(message.peer_id, None)
        self._chat.forget(message.peer_id)
        if self._recorder is not None and self._recorder.peer_id == message.peer_id:
            self._spawn(self._recorder.stop())
        self._emit(PeerLeft(peer_id=message.peer_id, reason=message.reason))
        if not self._links:
            self._set_state(CallState.PEER_LEFT)
            self._make_open_offer()
        else:
            self._update_state()

    def _on_signal(self, message: wire.RelayedSignal) -> None:
        link = self._links.get(message.from_)
        if isinstance(message, wire.RelayedOffer) and (
            link is None or link.session != message.session
        ):
            if link is not None and link.offering and not link.polite:
                # Both of us started a new peer connection at once (each replacing
                # one that failed): theirs gives way to ours, as ours does to theirs
                # on their side when they are the impolite one.
                logger.debug("new peer connections crossed: ours goes on")
                return
            # A new peer connection from their side replaces whatever we had with them.
            previous = link
            if previous is not None:
                self._spawn(previous.close())
            link = self._new_link(message.from_, session=message.session)
            link.replacing = previous is not None
            self._links[message.from_] = link
        if link is None or link.session != message.session:
            logger.debug("dropping a signal of a closed session")
            return
        link.receive(message)

    def _use_ice_servers(self, servers: list[IceServer], expire_in: int | None) -> None:
        """ICE servers for the peer connections made from now on, renewed before their
        TURN credentials expire: coturn refuses new relays with an expired one, so
        whoever came later than they last could not reach us through it. (aiortc
        has no ICE restart: connections made already keep what they have.)"""
        self._ice_servers = servers
        if self._ice_renewal is not None:
            self._ice_renewal.cancel()
            self._ice_renewal = None
        if expire_in:
            loop = asyncio.get_running_loop()
            renew_in = expire_in * ICE_RENEWAL_AT
            self._ice_renewal = loop.call_later(renew_in, self._renew_ice_servers)

    def _renew_ice_servers(self) -> None:
        self._ice_renewal = None
        self._spawn(self._ask_for_ice_servers())

    async def _ask_for_ice_servers(self) -> None:
        with contextlib.suppress(ServerUnreachable):  # `resumed` brings new ones
            await self._signaling.send(wire.RenewIceServers())

    def _make_open_offer(self) -> None:
        if self._open_link is None:
            self._open_link = self._new_link(None, session=None)
            self._open_link.request_offer()

    def _new_link(self, remote_id: str | None, session: str | None) -> PeerLink:
        link = PeerLink(
            local_id=self.peer_id,
            remote_id=remote_id,
            session=session,
            ice_servers=self._ice_servers,
            ice_transport_policy=self._ice_transport_policy,
            media=self._outgoing,
            relay=self._relay,
            send=self._send_signal,
            observer=self,
        )
        link.hand_raised = self._hand_raised
        link.incoming_video = self._incoming_video
        return link

    async def _send_signal(self, signal: wire.Signal) -> None:
        await self._signaling.send_signal(signal)

    # LinkObserver: what the peer connections report.

    def link_state_changed(self, link: PeerLink) -> None:
        recorder = self._recorder
        if recorder and link.connection_state == "connected" and link.remote_id == recorder.peer_id:
            self._spawn(recorder.start())
        if link.broken and link.remote_id:
            # Not at once: when the other side hangs up, its DTLS may end before
            # its `peer-left` reaches us.
            loop = asyncio.get_running_loop()
            loop.call_later(BROKEN_LINK_GRACE_SECONDS, self._connect_again, link, link.remote_id)
        self._update_state()

    def link_ice_restarted(self, link: PeerLink) -> None:
        """They restarted ICE: their path with us broke (a network change, a relay
        gone), which they see within seconds, long before aiortc does."""
        if link.remote_id:
            self._connect_again(link, link.remote_id)

    def _connect_again(self, failed: PeerLink, remote: str) -> None:
        """aiortc cannot restart ICE, so a peer connection whose path is gone (a
        network change, a relay that restarted) is replaced by a new one, with a new
        session: the other side takes it in place of the old one (the page does, as
        for any new session; see `_on_signal` for two Python clients doing it at once)."""
        if self._links.get(remote) is not failed or self._state == CallState.LEFT:
            return  # replaced or gone meanwhile
        logger.info("a peer connection broke: connecting again")
        fresh = self._new_link(remote, session=None)
        fresh.replacing = True
        self._links[remote] = fresh
        fresh.request_offer()
        self._spawn(failed.close())

    def link_track(self, link: PeerLink, track: MediaStreamTrack) -> None:
        peer_id = link.remote_id or ""
        stats = ReceivedTrackStats(kind=track.kind)
        self.received[track.kind] = stats
        self._spawn(count_frames(self._relay.live(track), stats))
        if self._recorder is not None:
            self._recorder.add_track(peer_id, self._relay.subscribe(track))
        self._emit(TrackReceived(peer_id=peer_id, kind=track.kind, track=self._relay.live(track)))

    def link_message(
        self, link: PeerLink, message: datachannel.ChatText | datachannel.EarlierChatText
    ) -> None:
        peer_id = link.remote_id or ""
        if not self._chat.first_time(peer_id, message.id):
            return  # sent again on a new channel: told already
        self._emit(
            MessageReceived(
                peer_id=peer_id,
                text=message.text,
                sent_at=message.sent_at_datetime,
                earlier=isinstance(message, datachannel.EarlierChatText),
            )
        )

    def _all_links(self) -> list[PeerLink]:
        """Every peer connection of ours: one per person, and the open offer if any."""
        return [*self._links.values(), *([self._open_link] if self._open_link else [])]

    def _media_changed(self) -> None:
        for link in self._all_links():
            link.send_media_state()

    def link_hand(self, link: PeerLink, hand: datachannel.Hand) -> None:
        """Told on every new channel and every change: only a change is an event."""
        peer_id = link.remote_id or ""
        if self._hands.get(peer_id, False) != hand.raised:
            self._hands[peer_id] = hand.raised
            self._emit(HandChanged(peer_id=peer_id, raised=hand.raised))

    def link_media_state(self, link: PeerLink, state: datachannel.MediaState) -> None:
        self._emit(
            PeerMediaChanged(
                peer_id=link.remote_id or "",
                audio=state.audio,
                video=state.video,
                screen=state.video and state.screen,
            )
        )

    def link_file(self, link: PeerLink, start: datachannel.FileStart, data: bytes) -> None:
        self._emit(FileReceived(peer_id=link.remote_id or "", name=start.name, data=data))

    def link_file_failed(self, link: PeerLink, start: datachannel.FileStart, reason: str) -> None:
        self._emit(FileFailed(peer_id=link.remote_id or "", name=start.name, reason=reason))

    def _update_state(self) -> None:
        if self._state in (CallState.LEFT, CallState.SERVER_LOST, CallState.SERVER_RECONNECTING):
            return
        links = list(self._links.values())
        if not links:
            return
        if any(link.connection_state == "connected" for link in links):
            self._set_state(CallState.CONNECTED)
        elif any(link.broken or link.replacing for link in links):
            self._set_state(CallState.RECONNECTING)
        else:
            self._set_state(CallState.CONNECTING)

    def _set_state(self, state: CallState) -> None:
        if state == self._state:
            return
        self._state = state
        # Wake whoever waits on the old event; later waiters get a fresh one.
        self._state_changed.set()
        self._state_changed = asyncio.Event()
        self._emit(StateChanged(state))

    def _emit(self, event: object) -> None:
        for stream in list(self._subscribers):
            stream.queue.put_nowait(event)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _shut_down(self) -> None:
        if self._ice_renewal is not None:
            self._ice_renewal.cancel()
        if self._reader is not None:
            self._reader.cancel()
        links = self._all_links()
        self._links.clear()
        self._open_link = None
        await asyncio.gather(*(link.close() for link in links))
        if self._outgoing is not None:
            # Ours (the media is the caller's), once no link is left to tell of it.
            self._outgoing.close()
        if self._recorder is not None:
            await self._recorder.stop()
        for task in list(self._tasks):
            task.cancel()
        await self._signaling.close()
