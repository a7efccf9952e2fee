"""Only peercall's own pages (and those allowed in config) may open the WebSocket."""

import pytest
import websockets

from tests.servers import ServerProcess


async def test_a_page_of_another_site_cannot_open_the_websocket(server):
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(server.ws_url, origin="https://evil.example")
    assert refused.value.response.status_code == 403


async def test_peercalls_own_page_and_non_browser_clients_can(server):
    own = await websockets.connect(server.ws_url, origin=websockets.Origin(server.url))
    await own.close()
    no_origin = await websockets.connect(server.ws_url)  # the Python client, curl…
    await no_origin.close()


async def test_origins_allowed_in_config_can(tmp_path):
    server = ServerProcess(
        tmp_path / "data", env={"PEERCALL_ALLOWED_ORIGINS": "https://app.example.org"}
    ).start()
    try:
        allowed = await websockets.connect(server.ws_url, origin="https://app.example.org")
        await allowed.close()
        with pytest.raises(websockets.InvalidStatus):
            await websockets.connect(server.ws_url, origin="https://other.example.org")
    finally:
        server.stop()
