"""`peercall serve --https`: a certificate made once and kept, or the user's own."""

import ssl
import stat
from pathlib import Path

import httpx
import pytest

from peercall.server.tls import write_self_signed
from tests.servers import ServerProcess


@pytest.fixture
def https_server(tmp_path: Path):
    server = ServerProcess(tmp_path / "data", https=True).start()
    yield server
    server.stop()


def served_certificate(server: ServerProcess) -> str:
    return ssl.get_server_certificate(("127.0.0.1", server.port))


def test_https_serves_the_page_with_a_certificate_kept_in_the_data_dir(https_server):
    certificate = https_server.data_dir / "tls" / "cert.pem"
    key = https_server.data_dir / "tls" / "key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    # Verifies against the generated certificate itself: names and addresses match.
    context = ssl.create_default_context(cafile=str(certificate))
    response = httpx.get(https_server.url + "/", verify=context)
    assert response.status_code == 200
    assert "<title>peercall</title>" in response.text
    assert response.headers["strict-transport-security"].startswith("max-age=")
    created = httpx.post(https_server.url + "/api/calls", verify=context).json()
    assert created["url"].startswith("https://127.0.0.1:")

    first = certificate.read_bytes()
    https_server.stop()
    https_server.start()
    assert certificate.read_bytes() == first  # made once, then kept
    assert ssl.PEM_cert_to_DER_cert(served_certificate(https_server)) == ssl.PEM_cert_to_DER_cert(
        first.decode()
    )


def test_https_uses_the_certificate_the_user_gives(tmp_path):
    certificate, key = tmp_path / "mine.pem", tmp_path / "mine.key"
    write_self_signed(certificate, key)
    server = ServerProcess(
        tmp_path / "data", https=True, args=["--cert", str(certificate), "--key", str(key)]
    ).start()
    try:
        assert ssl.PEM_cert_to_DER_cert(served_certificate(server)) == ssl.PEM_cert_to_DER_cert(
            certificate.read_text()
        )
        assert not (server.data_dir / "tls").exists()
    finally:
        server.stop()


def test_plain_http_sends_no_hsts(server):
    assert "strict-transport-security" not in httpx.get(server.url + "/").headers


def test_a_missing_certificate_file_is_a_clear_error(tmp_path):
    server = ServerProcess(
        tmp_path / "data", https=True, args=["--cert", "/no/cert.pem", "--key", "/no/key.pem"]
    )
    with pytest.raises(RuntimeError, match=r"no such file: /no/cert\.pem"):
        server.start(timeout=10)
