"""The deploy/ example for real: nginx with deploy/nginx.conf (TLS, WebSocket upgrade)
in front of peercall processes sharing Redis."""

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from tests.integration.client import TestClient
from tests.nginx import Nginx
from tests.servers import ServerProcess


@pytest.fixture
def nginx(tmp_path: Path, cluster: list[ServerProcess]) -> Iterator[Nginx]:
    proxy = Nginx(tmp_path / "nginx", [server.port for server in cluster[:2]]).start()
    yield proxy
    proxy.stop()


# As deploy/peercall.toml: the proxy's X-Forwarded-* are believed.
@pytest.mark.server_env(PEERCALL_TRUSTED_PROXIES="127.0.0.1")
async def test_a_call_through_nginx_over_tls_with_the_deploy_configuration(nginx, cluster):
    trusted = ssl.create_default_context(cafile=str(nginx.certificate))
    trusted.check_hostname = False  # the certificate names this machine, not 127.0.0.1
    async with httpx.AsyncClient(verify=trusted) as http:
        created = await http.post(nginx.url + "/api/calls")
        assert created.status_code == 201
        call_id = created.json()["call_id"]
        page = await http.get(f"{nginx.url}/c/{call_id}")
        assert page.status_code == 200
        assert "strict-transport-security" in page.headers  # peercall knows it is HTTPS

    # Both through nginx; round robin puts them on the two processes.
    alice = TestClient(await websockets.connect(nginx.ws_url, ssl=trusted))
    bob = TestClient(await websockets.connect(nginx.ws_url, ssl=trusted))
    try:
        await alice.join(call_id)
        await bob.join(call_id)
        assert (await alice.expect("peer-joined"))["peer_id"] == bob.peer_id
        await alice.send({"type": "offer", "to": bob.peer_id, "session": "s", "sdp": "v=0"})
        assert (await bob.expect("offer"))["from"] == alice.peer_id
    finally:
        await alice.close()
        await bob.close()
