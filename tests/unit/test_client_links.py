import pytest

from peercall.client.errors import InvalidLink
from peercall.client.links import parse_call_link, server_base_url

CALL_ID = "Dh1Yh4Xpd27cHVxtnms_fg"


@pytest.mark.parametrize(
    ("link", "base", "websocket"),
    [
        (f"http://127.0.0.1:8000/c/{CALL_ID}", "http://127.0.0.1:8000", "ws://127.0.0.1:8000/ws"),
        (
            f"https://calls.example.org/c/{CALL_ID}/",
            "https://calls.example.org",
            "wss://calls.example.org/ws",
        ),
        (
            f" https://example.org/peercall/c/{CALL_ID}?x=1#y ",
            "https://example.org/peercall",
            "wss://example.org/peercall/ws",
        ),
    ],
)
def test_a_call_link_gives_its_server_and_call(link, base, websocket):
    parsed = parse_call_link(link)
    assert parsed.call_id == CALL_ID
    assert parsed.base_url == base
    assert parsed.websocket_url == websocket
    assert parsed.url == f"{base}/c/{CALL_ID}"
    assert CALL_ID not in parsed.short_call_id


@pytest.mark.parametrize(
    ("link", "reason"),
    [
        ("", "not a call link"),
        (f"ftp://example.org/c/{CALL_ID}", "not a call link"),
        (f"example.org/c/{CALL_ID}", "not a call link"),
        ("https://example.org/", "no /c/CALL_ID"),
        (f"https://example.org/d/{CALL_ID}", "no /c/CALL_ID"),
        ("https://example.org/c/too-short", "malformed"),
        (f"https://example.org/c/{CALL_ID}!", "malformed"),
    ],
)
def test_what_is_not_a_call_link_is_refused_with_the_reason(link, reason):
    with pytest.raises(InvalidLink, match=reason):
        parse_call_link(link)


def test_a_server_url_loses_its_trailing_slash_and_must_be_http():
    assert server_base_url("http://localhost:8000/") == "http://localhost:8000"
    with pytest.raises(InvalidLink):
        server_base_url("localhost:8000")
