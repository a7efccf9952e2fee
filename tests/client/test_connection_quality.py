"""A Python peer hears of a poor connection as a person in the call sees it on the
tile, on a real lossy network: one side runs `peercall join` in a network namespace
(another "device", joined by a veth pair) whose incoming UDP is dropped in part, the
other is a `Call` in this process."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator

import pytest

from peercall.client import CallEvent, ConnectionQualityChanged, MediaSource, join
from tests.client.checks import next_event
from tests.clients import PythonPeer, run_peercall
from tests.netns import NetworkNamespace, can_make_namespaces
from tests.servers import ServerProcess

pytestmark = [
    pytest.mark.skipif(not can_make_namespaces(), reason="network namespaces need root"),
    pytest.mark.skipif(shutil.which("nft") is None, reason="losing packets needs nftables"),
]

# Two intervals of the judge: what it would have said by then, it has said.
SETTLE_SECONDS = 4.5


async def quality_events_within(
    events: AsyncIterator[CallEvent], seconds: float
) -> list[ConnectionQualityChanged]:
    """What the call said of the connection's quality in the next `seconds`."""
    found: list[ConnectionQualityChanged] = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            async for event in events:
                if isinstance(event, ConnectionQualityChanged):
                    found.append(event)
    return found


async def test_a_lossy_network_is_told_on_both_sides_until_it_recovers(tmp_path):
    device = NetworkNamespace().create()
    server = ServerProcess(tmp_path / "data", host=device.host_address).start()
    phone: PythonPeer | None = None
    try:
        created = run_peercall("new", "--server", server.url)
        assert created.returncode == 0, created.stderr
        link = created.stdout.strip()
        phone = PythonPeer(
            link, "--test-pattern", log_dir=tmp_path / "peers",
            launcher=["ip", "netns", "exec", device.name],
        )  # fmt: skip
        await asyncio.to_thread(phone.wait_for_line, "^Waiting for someone to join$", 30)
        async with await join(link, media=MediaSource.test_pattern()) as laptop:
            events = laptop.events()
            await laptop.wait_connected()
            await asyncio.to_thread(phone.wait_for_line, "^Connected$", 30)
            assert await quality_events_within(events, SETTLE_SECONDS) == []

            # A quarter of what reaches the phone is lost: the phone sees it in what
            # it receives, the laptop in what the phone's receiver reports say.
            device.lose_incoming_udp(percent=25)
            poor = await next_event(events, ConnectionQualityChanged)
            assert poor.poor
            assert poor.sent_loss_percent >= 5, poor
            phone_said = await asyncio.to_thread(
                phone.wait_for_line, r"^Poor connection: (\d+) % lost coming in", 30
            )
            assert int(phone_said.group(1)) >= 5

            device.stop_losing()
            good = await next_event(events, ConnectionQualityChanged)
            assert not good.poor
            assert good.sent_loss_percent < 5, good
            await asyncio.to_thread(phone.wait_for_line, "^The connection is good again$", 30)
            assert "Traceback" not in phone.stderr
    finally:
        if phone is not None:
            phone.stop()
        server.stop()
        device.delete()
