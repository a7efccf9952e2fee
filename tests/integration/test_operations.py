"""What an operator watches: liveness, readiness, Prometheus metrics, JSON logs."""

import hashlib
import json

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.client import TestClient, candidate
from tests.servers import ServerProcess


def metrics_text(base_url: str) -> str:
    response = httpx.get(base_url + "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def scrape(base_url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(metrics_text(base_url))
        for sample in family.samples
    }


def test_liveness_and_readiness(server):
    assert httpx.get(server.url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(server.url + "/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "storage": "ok"}


async def test_metrics_follow_a_call(server, connect):
    call_id = server.create_call()
    before = scrape(server.url)
    assert before[("peercall_active_calls", ())] == 0
    alice, bob = await connect(), await connect()
    await alice.join(call_id)
    await alice.send({"type": "offer", "to": "next", "session": "s", "sdp": "v=0"})
    for n in range(3):
        await alice.send(
            {"type": "candidate", "to": "next", "session": "s", "candidate": candidate(n)}
        )
    await alice.drain()
    held = scrape(server.url)
    assert held[("peercall_queued_signals", ())] >= 4  # the open offer waits for Bob
    await bob.join(call_id)
    handed_over = await bob.drain()  # the open offer and its candidates
    assert [m["type"] for m in handed_over] == ["offer", "candidate", "candidate", "candidate"]
    await bob.send({"type": "answer", "to": alice.peer_id, "session": "s", "sdp": "v=0"})
    await alice.expect("peer-joined")
    await alice.expect("answer")
    await bob.send({"type": "nonsense"})
    await bob.expect_error("unknown-type")

    during = scrape(server.url)
    assert during[("peercall_connections", ())] == 2
    assert during[("peercall_active_calls", ())] == 1
    assert during[("peercall_members", ())] == 2
    assert during[("peercall_signals_relayed_total", (("type", "offer"),))] == 1
    assert during[("peercall_signals_relayed_total", (("type", "candidate"),))] == 3
    assert during[("peercall_signals_relayed_total", (("type", "answer"),))] == 1
    assert during[("peercall_errors_total", (("code", "unknown-type"),))] == 1
    assert during[("peercall_setup_seconds_count", ())] == 1
    assert during[("peercall_setup_seconds_sum", ())] > 0
    # Counts only: no call or peer id is ever in a metric.
    text = metrics_text(server.url)
    for secret in (call_id, alice.peer_id, bob.peer_id):
        assert secret not in text

    await alice.send({"type": "leave"})
    await alice.expect("left")
    await bob.expect("peer-left")
    await bob.send({"type": "leave"})
    await bob.expect("left")
    after = scrape(server.url)
    assert after[("peercall_active_calls", ())] == 0
    assert after[("peercall_members", ())] == 0


@pytest.mark.parametrize("storage", ["embedded", "redis"])
async def test_json_logs_carry_one_event_per_line(tmp_path, storage, request):
    args = ["--redis", request.getfixturevalue("redis_server").url] if storage == "redis" else []
    server = ServerProcess(tmp_path / "data", args=args, env={"PEERCALL_LOG_FORMAT": "json"})
    server.start()
    try:
        call_id = server.create_call()
        alice = await TestClient.connect(server.ws_url)
        await alice.join(call_id)
        await alice.send({"type": "leave"})
        await alice.expect("left")
        await alice.close()
    finally:
        server.stop()
    lines = [line for line in server.log().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    # Everything logged is JSON; the rest is the banner printed for the person.
    assert all("INFO" not in line for line in lines if not line.startswith("{"))
    assert {"uvicorn.error", "peercall.signaling", "peercall.server"} <= {
        entry["logger"] for entry in entries
    }
    events = {entry.get("event"): entry for entry in entries if "event" in entry}
    # One call reads the same on every line, with Redis too (where a leave is logged
    # from the key alone): the start of its key, as `peercall calls` shows it.
    label = hashlib.sha256(call_id.encode()).hexdigest()[:12]
    assert [events[kind]["call"] for kind in ("created", "join", "leave")] == [label] * 3
    assert events["leave"]["reason"] == "left"
    assert events["leave"]["peer"] == events["join"]["peer"]
    assert all({"time", "level", "logger", "message"} <= entry.keys() for entry in entries)
    assert call_id not in server.log()
    assert call_id[:6] not in server.log()
