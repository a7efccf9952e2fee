"""The page and its security headers."""

import hashlib

import httpx


def test_the_page_is_served_with_strict_security_headers(server):
    for path in ["/", "/c/" + "A" * 22, "/static/js/main.js"]:
        response = httpx.get(server.url + path)
        assert response.status_code == 200, path
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"


def test_call_links_are_not_written_to_the_log(server):
    call_id = server.create_call()
    httpx.get(f"{server.url}/c/{call_id}")
    httpx.get(f"{server.url}/api/calls/{call_id}")
    log = server.log()
    assert call_id not in log
    assert call_id[:6] not in log
    # Named by the start of its key, so events can still be followed.
    assert f"created call={hashlib.sha256(call_id.encode()).hexdigest()[:12]}" in log
