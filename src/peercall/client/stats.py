"""Live statistics of a call from Python, from aiortc's `getStats`: what flows to and
from each person, how long a round trip takes, what is lost. The page's statistics
panel shows the same from the browser's side."""

from __future__ import annotations

from dataclasses import dataclass

from aiortc.stats import (
    RTCInboundRtpStreamStats,
    RTCOutboundRtpStreamStats,
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
    # Of what we send, the share lost on the way in the interval their last report
    # covers (the worst of our streams); None until the first report.
    sent_loss_percent: float | None = None
    packets_sent: int = 0  # media packets (RTP), audio and video

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
    outbound = [entry for entry in entries if isinstance(entry, RTCOutboundRtpStreamStats)]
    remote_reports = [e for e in entries if isinstance(e, RTCRemoteInboundRtpStreamStats)]
    round_trips = [e.roundTripTime for e in remote_reports if e.roundTripTime is not None]
    # aiortc gives RTCP's own fraction (lost / 256, RFC 3550 section 6.4.1), not the
    # 0-1 number of the W3C statistics.
    sent_losses = [100 * e.fractionLost / 256 for e in remote_reports if e.fractionLost is not None]
    return PeerStats(
        peer_id=peer_id,
        bytes_sent=sum(transport.bytesSent for transport in transports.values()),
        bytes_received=sum(transport.bytesReceived for transport in transports.values()),
        packets_received=sum(stream.packetsReceived for stream in inbound),
        packets_lost=sum(max(0, stream.packetsLost) for stream in inbound),
        round_trip_ms=1000 * min(round_trips) if round_trips else None,
        sent_loss_percent=max(sent_losses) if sent_losses else None,
        packets_sent=sum(stream.packetsSent for stream in outbound),
    )
