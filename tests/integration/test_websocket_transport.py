"""The signaling socket shares the page's port (uvicorn serves HTTP, picows the
WebSocket, split by `front_door.py`): what a client may do with it, for real."""

import asyncio
import contextlib
import json
import socket

import httpx
import pytest
import websockets
from websockets.frames import Frame, Opcode

from tests.integration.client import TestClient, candidate
from tests.servers import ServerProcess

UPGRADE_HEADERS = (
    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


async def test_a_message_sent_in_fragments_is_handled_as_one(server, connect):
    call_id = server.create_call()
    client = await connect()
    text = json.dumps({"type": "join", "call_id": call_id})
    await client.connection.send([text[:5], text[5:20], text[20:]])  # three frames
    joined = await client.expect("joined")
    assert joined["call_id"] == call_id


async def test_fragments_past_the_transport_limit_close_the_socket(server, connect):
    client = await connect()
    piece = "x" * 64 * 1024
    with contextlib.suppress(websockets.ConnectionClosed):  # may come mid-send
        await client.connection.send([piece] * 32)  # 2 MiB: past 4 x 64 KiB, still sending
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await client.receive()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009
    # The server is fine: the next client is served.
    other = await connect()
    await other.send({"type": "ping"})
    await other.expect("pong")


async def test_a_client_that_never_answers_our_close_is_cut_off(server):
    host = f"Host: {server.host}:{server.port}\r\n"
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        writer.write(f"GET /ws HTTP/1.1\r\n{host}{UPGRADE_HEADERS}".encode())
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
        piece = b"x" * 64 * 1024
        writer.write(Frame(Opcode.TEXT, piece, fin=False).serialize(mask=True))
        for _ in range(5):  # past 4 x 64 KiB
            writer.write(Frame(Opcode.CONT, piece, fin=False).serialize(mask=True))
        await writer.drain()
        # Our close (1009) comes; we never answer it, and the server hangs up anyway.
        rest = await asyncio.wait_for(reader.read(), 15)
        assert rest == b"\x88\x02" + (1009).to_bytes(2, "big")
    finally:
        writer.close()


async def raw_request(server: ServerProcess, *pieces: str) -> bytes:
    """Sends a request in pieces (a pause between them), returns the status line."""
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        for piece in pieces:
            writer.write(piece.encode())
            await writer.drain()
            await asyncio.sleep(0.1)
        return await asyncio.wait_for(reader.readline(), 5)
    finally:
        writer.close()


async def test_an_upgrade_whose_request_line_comes_in_pieces_is_signaling(server):
    host = f"Host: {server.host}:{server.port}\r\n"
    status = await raw_request(server, "GE", "T /w", "s HTTP/1.1\r\n", host + UPGRADE_HEADERS)
    assert status.startswith(b"HTTP/1.1 101")


async def test_other_requests_on_the_port_are_http(server):
    async with httpx.AsyncClient(base_url=server.url) as http:
        assert (await http.post("/ws")).status_code in (404, 405)
        page = await http.get("/")
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
    # GET /ws that is not an upgrade is refused, not left hanging.
    status = await raw_request(server, f"GET /ws HTTP/1.1\r\nHost: {server.host}\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 4"), status


async def connections_refused(server: ServerProcess, forwarded: list[str]) -> list[bool]:
    """Opens one connection per X-Forwarded-For value: which ones were refused."""
    clients = [
        TestClient(await websockets.connect(server.ws_url, additional_headers={
            "X-Forwarded-For": address
        }))
        for address in forwarded
    ]  # fmt: skip
    refused = []
    for client in clients:
        with contextlib.suppress(websockets.ConnectionClosed):  # refused: told, then closed
            await client.send({"type": "ping"})
        refused.append((await client.receive())["type"] == "error")
    for client in clients:
        await client.close()
    return refused


async def test_socket_limits_count_forwarded_addresses_only_from_trusted_proxies(tmp_path):
    limit = {"PEERCALL_MAX_CONNECTIONS_PER_IP": "2"}
    three = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
    direct = ServerProcess(tmp_path / "direct", env=limit).start()
    try:
        # The header is the client's word: all three are 127.0.0.1.
        assert await connections_refused(direct, three) == [False, False, True]
    finally:
        direct.stop()
    proxied = ServerProcess(
        tmp_path / "proxied", env={**limit, "PEERCALL_TRUSTED_PROXIES": "127.0.0.1"}
    ).start()
    try:
        assert await connections_refused(proxied, three) == [False, False, False]
        same = ["198.51.100.9"] * 3
        assert await connections_refused(proxied, same) == [False, False, True]
    finally:
        proxied.stop()


async def test_a_server_that_stops_tells_its_clients_to_come_back(tmp_path):
    server = ServerProcess(tmp_path / "data").start()
    try:
        client = TestClient(await websockets.connect(server.ws_url))
        await client.join(server.create_call())
    finally:
        server.stop()
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await client.receive()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1012  # service restart: resume


async def slow_reader(server: ServerProcess) -> TestClient:
    """A client with a tiny receive buffer, so that what it does not read yet piles
    up in the server's socket buffers, then in the server itself."""
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.setblocking(False)
    await asyncio.get_running_loop().sock_connect(raw, (server.host, server.port))
    return TestClient(await websockets.connect(server.ws_url, sock=raw, max_queue=1))


async def read_all(client: TestClient, count: int) -> None:
    for _ in range(count):
        await client.receive_numbered()


@pytest.mark.server_env(PEERCALL_MESSAGES_PER_SECOND="1000", PEERCALL_MESSAGE_BURST="1000")
async def test_a_member_that_never_reads_is_dropped_and_the_call_goes_on(server, connect):
    """What the server holds for a socket that does not read is bounded (4 MiB past
    what the kernel takes): beyond it the socket is dropped; the sender is not slowed
    and everyone else is served."""
    call_id = server.create_call()
    sender = await connect()
    await sender.join(call_id)
    stuck = await slow_reader(server)  # and it never reads what it is sent
    await stuck.join(call_id)
    await sender.expect("peer-joined")
    sdp = "v=0\r\n" + "a=x-padding:" + "x" * 60_000 + "\r\n"
    for n in range(200):  # 12 MB for a reader that takes none of it
        await sender.send({"type": "offer", "to": stuck.peer_id, "session": f"s{n}", "sdp": sdp})
    await sender.send({"type": "ping"})
    await sender.expect("pong")
    # The stuck socket was let go: reading it now ends in a closed connection (and
    # not in all 200 offers, then a wait for more).
    with pytest.raises(websockets.ConnectionClosed):
        await read_all(stuck, 201)
    newcomer = await connect()
    await newcomer.send({"type": "ping"})
    await newcomer.expect("pong")


async def test_large_messages_sent_together_arrive_intact(server, connect):
    """Several messages for one socket at the same moment, some over picows' 8 KiB
    copy threshold and each of another size (so each frame header differs): a
    newcomer's `joined`, an open offer with a big SDP and its candidates, then big
    answers the other way. Each must arrive whole and in order."""

    def sdp(lines: int) -> str:
        return "v=0\r\n" + "".join(f"a=x-line-{n}:{'y' * 90}\r\n" for n in range(lines))

    call_id = server.create_call()
    host = await connect()
    await host.join(call_id)
    await host.send({"type": "offer", "to": "next", "session": "open", "sdp": sdp(300)})
    for n in range(3):
        await host.send(
            {"type": "candidate", "to": "next", "session": "open", "candidate": candidate(n)}
        )
    await host.send({"type": "ping"})
    await host.expect("pong")  # all of it is held by now
    newcomer = await connect()
    await newcomer.join(call_id)
    assert (await newcomer.expect("offer"))["sdp"] == sdp(300)
    for n in range(3):
        assert (await newcomer.expect("candidate"))["candidate"] == candidate(n)
    await host.expect("peer-joined")
    sizes = [100, 200, 150, 250, 120]  # 10-25 KB each
    for lines in sizes:
        answer = {"type": "answer", "to": host.peer_id, "session": "open", "sdp": sdp(lines)}
        await newcomer.send(answer)
    for lines in sizes:
        assert (await host.expect("answer"))["sdp"] == sdp(lines)


@pytest.mark.server_env(PEERCALL_MESSAGES_PER_SECOND="1000", PEERCALL_MESSAGE_BURST="1000")
async def test_a_slow_reader_gets_every_large_message_whole(server, connect):
    """Megabytes wait for a reader that is late (a phone on a bad network): when it
    reads, every message is whole and in order."""
    call_id = server.create_call()
    sender = await connect()
    await sender.join(call_id)
    late = await slow_reader(server)
    await late.join(call_id)
    await sender.expect("peer-joined")
    sdps = [f"v=0\r\na=x-padding:{'z' * (40_000 + 97 * n)}\r\n" for n in range(90)]
    for n, sdp in enumerate(sdps):  # ~3.8 MB, below the 4 MiB kept for one socket
        await sender.send({"type": "offer", "to": late.peer_id, "session": f"s{n}", "sdp": sdp})
    await sender.send({"type": "ping"})
    await sender.expect("pong")
    for n, sdp in enumerate(sdps):
        offer = await late.expect("offer")
        assert (offer["session"], offer["sdp"]) == (f"s{n}", sdp)


async def test_a_socket_that_goes_away_while_messages_for_it_wait_breaks_nothing(server, connect):
    """Messages for a socket are written at the end of the event loop's turn; a client
    gone in that same turn (a phone losing its network) must cost nothing but them."""
    for _ in range(10):  # the two in one turn of the server's loop is likely, not certain
        call_id = server.create_call()  # the one gone keeps its place a while
        sender, leaving = await connect(), await connect()
        await sender.join(call_id)
        await leaving.join(call_id)
        await sender.expect("peer-joined")
        frames = [
            json.dumps({"type": "candidate", "to": leaving.peer_id, "session": "s",
                        "candidate": candidate(n)})
            for n in range(10)
        ]  # fmt: skip
        for frame in frames:
            await sender.connection.send(frame)
        leaving.connection.transport.abort()  # a reset, right behind the candidates
        await sender.send({"type": "leave"})
        await sender.expect("left")
        await sender.close()
    other = await connect()
    await other.send({"type": "ping"})
    await other.expect("pong")
    assert "Traceback" not in server.log()
