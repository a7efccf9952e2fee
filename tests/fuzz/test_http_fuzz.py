"""Random requests at the HTTP API and pages (Hypothesis): never a server error,
never a traceback, every API error in the documented shape, nothing served from
outside the web directory, and the call beside it goes on."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peercall.ids import new_call_id
from tests.fuzz.conftest import Bystanders

UNKNOWN_CALL = new_call_id()

FUZZ_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]
# Bytes that must never be served: the database, the admin token's file.
FORBIDDEN_CONTENT = [b"SQLite format 3", b"BEGIN PRIVATE KEY"]

segments = st.text(max_size=30).map(lambda text: quote(text, safe=""))
tricky_segments = st.sampled_from(
    ["..", "%2e%2e", "..%2f..%2f", "%00", "peercall.sqlite3", "admin-token", "", "qr.svg"]
)


@st.composite
def paths(draw: st.DrawFn, real_call: str) -> str:
    prefix = draw(st.sampled_from(["/", "/api/calls", "/api/calls/", "/c/", "/static/", "/ws"]))
    call = draw(st.sampled_from([real_call, UNKNOWN_CALL, "A" * 22]) | segments)
    tail = draw(st.lists(segments | tricky_segments, max_size=4))
    path = prefix + "/".join([call, *tail] if prefix.endswith("/") else tail)
    return "/" + path.lstrip("/")  # "//x" would be a host name, not a path


@dataclass(frozen=True)
class RandomRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None


@st.composite
def requests(draw: st.DrawFn, real_call: str) -> RandomRequest:
    headers = draw(
        st.dictionaries(
            st.sampled_from(
                ["authorization", "content-type", "origin", "x-forwarded-for", "range", "accept"]
            ),
            # Printable ASCII, no edge spaces: what an HTTP client can send at all.
            st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60).map(
                str.strip
            ),
            max_size=3,
        )
    )
    body = draw(
        st.none()
        | st.binary(max_size=300)
        | st.sampled_from([b'{"passcode": "abcd"}', b'{"passcode": null}', b"{}", b"[]", b"null"])
        | st.integers(4000, 5000).map(lambda n: b'{"passcode": "' + b"x" * n + b'"}')
    )
    return RandomRequest(draw(st.sampled_from(METHODS)), draw(paths(real_call)), headers, body)


def test_random_requests_get_clean_answers(fuzz_server, bystanders: Bystanders):
    real_call = fuzz_server.create_call()
    admin_token = (fuzz_server.data_dir / "admin-token").read_text().strip()

    @FUZZ_SETTINGS
    @given(request=requests(real_call))
    def request_once(request: RandomRequest) -> None:
        with httpx.Client(base_url=fuzz_server.url, timeout=10) as http:
            response = http.request(
                request.method, request.path, headers=request.headers, content=request.body
            )
        assert response.status_code < 500, (request, response.text[:300])
        assert b"Traceback" not in response.content
        assert admin_token.encode() not in response.content
        for forbidden in FORBIDDEN_CONTENT:
            assert forbidden not in response.content
        api = response.request.url.path.startswith("/api/")
        if response.status_code >= 400 and api and request.method != "HEAD":
            error = response.json()["error"]
            assert error["code"]
            assert error["message"]

    request_once()
    bystanders.assert_call_goes_on()
