"""Live statistics of a call from Python, from aiortc's `getStats`: what flows to and
from each person, how long a round trip takes, what is lost. The page's statistics
panel shows the same from the browser's side."""

from __future__ import annotations

from dataclasses import dataclass

from aiortc.stats import (
    RTCInboundRtpStreamStats,
    RTCRemoteInboundRtpStreamStats,
    RTCStatsReport,
    RTCTransportStats,
)


@dataclass(frozen=True)
class PeerStats:
    """Counters of the peer connection with one person, since it started."""

    peer_id: str
    bytes_sent: int
    bytes_received: int
    packets_received: int  # media packets (RTP), audio and video
    packets_lost: int  # of those, never received
    # From the other side's reports on what we send; None until the first (~1 s).
    round_trip_ms: float | None

    def bits_per_second_since(self, earlier: PeerStats, seconds: float) -> tuple[float, float]:
        """(received, sent) bits per second between `earlier` and these."""
        if seconds <= 0:
            raise ValueError("the samples must be apart in time")
        received = 8 * (self.bytes_received - earlier.bytes_received) / seconds
        sent = 8 * (self.bytes_sent - earlier.bytes_sent) / seconds
        return received, sent


def peer_stats(peer_id: str, report: RTCStatsReport) -> PeerStats:
    """Sums aiortc's report of one peer connection: its transports (one when bundled)
    for bytes, inbound streams for packets, the other side's reports for the RTT."""
    entries = list(report.values())
    transports = {entry.id: entry for entry in entries if isinstance(entry, RTCTransportStats)}
    inbound = [entry for entry in entries if isinstance(entry, RTCInboundRtpStreamStats)]
    round_trips = [
        entry.roundTripTime
        for entry in entries
        if isinstance(entry, RTCRemoteInboundRtpStreamStats) and entry.roundTripTime is not None
    ]
    return PeerStats(
        peer_id=peer_id,
        bytes_sent=sum(transport.bytesSent for transport in transports.values()),
        bytes_received=sum(transport.bytesReceived for transport in transports.values()),
        packets_received=sum(stream.packetsReceived for stream in inbound),
        packets_lost=sum(max(0, stream.packetsLost) for stream in inbound),
        round_trip_ms=1000 * min(round_trips) if round_trips else None,
    )
