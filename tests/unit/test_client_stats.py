"""What the Python client makes of aiortc's statistics report."""

import datetime

import pytest
from aiortc.stats import (
    RTCInboundRtpStreamStats,
    RTCOutboundRtpStreamStats,
    RTCRemoteInboundRtpStreamStats,
    RTCStatsReport,
    RTCTransportStats,
)

from peercall.client.stats import PeerStats, peer_stats

NOW = datetime.datetime.now(datetime.UTC)


def transport(stats_id: str, sent: int, received: int) -> RTCTransportStats:
    return RTCTransportStats(
        timestamp=NOW, type="transport", id=stats_id, packetsSent=0, packetsReceived=0,
        bytesSent=sent, bytesReceived=received, iceRole="controlling", dtlsState="connected",
    )  # fmt: skip


def inbound(stats_id: str, received: int, lost: int) -> RTCInboundRtpStreamStats:
    return RTCInboundRtpStreamStats(
        timestamp=NOW, type="inbound-rtp", id=stats_id, ssrc=1, kind="video", transportId="t",
        packetsReceived=received, packetsLost=lost, jitter=0,
    )  # fmt: skip


def remote_inbound(
    stats_id: str, rtt: float, fraction_lost: int = 0
) -> RTCRemoteInboundRtpStreamStats:
    """`fraction_lost` as aiortc gives it: RTCP's, in 256ths."""
    return RTCRemoteInboundRtpStreamStats(
        timestamp=NOW, type="remote-inbound-rtp", id=stats_id, ssrc=1, kind="audio",
        transportId="t", packetsReceived=0, packetsLost=0, jitter=0, roundTripTime=rtt,
        fractionLost=fraction_lost,
    )  # fmt: skip


def report(*entries) -> RTCStatsReport:
    merged = RTCStatsReport()
    for entry in entries:
        merged[entry.id] = entry
    return merged


def test_a_report_is_summed_per_peer():
    outbound = RTCOutboundRtpStreamStats(
        timestamp=NOW, type="outbound-rtp", id="out", ssrc=2, kind="video", transportId="t",
        packetsSent=10, bytesSent=999, trackId="x",
    )  # fmt: skip
    stats = peer_stats(
        "peer-b",
        report(
            transport("t1", sent=1000, received=5000),
            transport("t2", sent=10, received=20),  # unbundled media: a second transport
            inbound("audio", received=50, lost=2),
            inbound("video", received=300, lost=-1),  # duplicates can make it negative
            remote_inbound("r-audio", 0.012, fraction_lost=16),
            remote_inbound("r-video", 0.010, fraction_lost=64),
            outbound,
        ),
    )
    assert stats == PeerStats(
        peer_id="peer-b",
        bytes_sent=1010,
        bytes_received=5020,
        packets_received=350,
        packets_lost=2,
        round_trip_ms=pytest.approx(10.0),
        sent_loss_percent=25.0,  # the worst of our streams: 64 of 256
        packets_sent=10,
    )


def test_before_any_report_the_round_trip_and_what_they_lost_are_unknown():
    stats = peer_stats("p", report(transport("t", 1, 2)))
    assert (stats.round_trip_ms, stats.sent_loss_percent) == (None, None)


def test_bit_rates_come_from_two_samples():
    earlier = PeerStats("p", bytes_sent=0, bytes_received=1000, packets_received=0,
                        packets_lost=0, round_trip_ms=None)  # fmt: skip
    later = PeerStats("p", bytes_sent=250_000, bytes_received=501_000, packets_received=0,
                      packets_lost=0, round_trip_ms=None)  # fmt: skip
    assert later.bits_per_second_since(earlier, 2.0) == (2_000_000, 1_000_000)
    with pytest.raises(ValueError, match="apart"):
        later.bits_per_second_since(earlier, 0)
