"""Random and malformed frames at the signaling WebSocket (Hypothesis).

For every attack: each answer is a message of the protocol, every error has a code
of the protocol and a human message, none is `internal-error` (an exception the
server did not expect), the connection is still served (a ping gets its pong), and
the call running beside it carries on untouched.
"""

from __future__ import annotations

import json
from typing import Any, get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peercall.ids import new_call_id
from peercall.protocol import (
    ClientMessage,
    ErrorCode,
)
from tests.fuzz.conftest import Bystanders, SyncClient

KNOWN_CODES = {str(code) for code in ErrorCode}
UNKNOWN_CALL = new_call_id()
SERVER_TYPES = {
    "joined", "peer-joined", "peer-left", "offer", "answer", "candidate",
    "end-of-candidates", "resumed", "left", "looked", "pong", "ice-servers", "error",
}  # fmt: skip
FUZZ_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)


@st.composite
def targets(draw: st.DrawFn, ids: dict[str, str]) -> Any:
    """Where a signal goes: often somebody real (of this call or of another one)."""
    return draw(st.sampled_from(["next", ids["alice"], ids["bob"], "A" * 16]) | json_values)


FIELDS_BY_TYPE: dict[str, tuple[str, ...]] = {
    cls.__struct_config__.tag: cls.__struct_fields__ for cls in get_args(ClientMessage)
}


@st.composite
def plausible_messages(draw: st.DrawFn, ids: dict[str, str]) -> dict[str, Any]:
    """Messages of the real types with their own fields: half of them well-formed,
    the others with one field dropped, given a random value, or one unknown field
    added. Most get past the parser and into the server's own logic."""
    kind = draw(st.sampled_from(sorted(FIELDS_BY_TYPE)))
    call_id = draw(st.sampled_from([ids["fuzz_call"], ids["bystander_call"], UNKNOWN_CALL]))
    candidate = {"candidate": "candidate:1 1 udp 1 192.0.2.1 9 typ host", "sdpMid": "0"}
    good: dict[str, st.SearchStrategy[Any]] = {
        "call_id": st.just(call_id),
        "name": st.text(max_size=80),
        "passcode": st.none() | st.text(max_size=20),
        "to": targets(ids),
        "session": st.sampled_from(["s", "t"]) | st.text(min_size=1, max_size=70),
        "sdp": st.sampled_from(["v=0", ""]) | st.text(max_size=100),
        "candidate": st.just(candidate) | json_values,
        "seq": st.integers(0, 2**64) if kind == "ack" else st.none() | st.integers(-2, 2**64),
        "peer_id": st.sampled_from([ids["alice"], ids["bob"], "B" * 16]),
        "resume_token": st.text(min_size=1, max_size=30),
        "last_seq": st.integers(-1, 2**64),
        "answers": st.lists(
            st.fixed_dictionaries(
                {"to": targets(ids), "session": st.sampled_from(["s", "t"]), "sdp": st.just("v=0")}
            )
            | json_values,
            max_size=3,
        ),
    }
    fields = FIELDS_BY_TYPE[kind]
    message: dict[str, Any] = {"type": kind}
    for name in fields:
        message[name] = draw(good[name])
    mutation = draw(st.sampled_from(["none", "none", "none", "drop", "replace", "extra"]))
    if mutation == "drop" and fields:
        del message[draw(st.sampled_from(fields))]
    elif mutation == "replace" and fields:
        message[draw(st.sampled_from(fields))] = draw(json_values)
    elif mutation == "extra":
        message[draw(st.text(max_size=10))] = draw(json_values)
    return message


def frames(ids: dict[str, str]) -> st.SearchStrategy[str | bytes]:
    junk = st.one_of(
        st.text(max_size=200),
        st.binary(max_size=200),
        json_values.map(json.dumps),
        # Valid JSON with a real type, at a size around the 64 KiB limit.
        st.integers(60_000, 70_000).map(lambda n: json.dumps({"type": "ping", "x": "y" * n})),
    )
    # Mostly messages that reach the server's logic; junk tests the parser.
    plausible = plausible_messages(ids).map(json.dumps)
    return st.one_of(junk, plausible, plausible, plausible)


def ids_of(bystanders: Bystanders, fuzz_call: str) -> dict[str, str]:
    return {
        "alice": bystanders.alice_id,
        "bob": bystanders.bob_id,
        "bystander_call": bystanders.call_id,
        "fuzz_call": fuzz_call,
    }


@pytest.fixture(scope="module")
def fuzz_call(fuzz_server) -> str:
    """A call the fuzzer may join, so its signals reach the relay logic."""
    return fuzz_server.create_call()


def assert_well_formed(answers: list[dict[str, Any]]) -> None:
    for answer in answers:
        assert answer.get("type") in SERVER_TYPES, answer
        if answer["type"] == "error":
            assert answer["code"] in KNOWN_CODES, answer
            assert answer["code"] != "internal-error", answer
            assert isinstance(answer["message"], str)
            assert answer["message"], answer
            assert "Traceback" not in answer["message"]


@st.composite
def attacks(draw: st.DrawFn, ids: dict[str, str]) -> list[str | bytes]:
    return draw(st.lists(frames(ids), min_size=1, max_size=6))


def test_random_frames_get_clear_answers_and_harm_nobody(fuzz_server, bystanders, fuzz_call):
    ids = ids_of(bystanders, fuzz_call)

    @FUZZ_SETTINGS
    @given(attack=attacks(ids))
    def attack_once(attack: list[str | bytes]) -> None:
        attacker = SyncClient(fuzz_server.ws_url)
        try:
            for frame in attack:
                attacker.send(frame)
            assert_well_formed(attacker.until_pong())
        finally:
            attacker.close()

    attack_once()
    bystanders.assert_call_goes_on()


def test_a_member_sending_nonsense_keeps_its_call(fuzz_server, bystanders):
    """The attacker is in a call with someone: whatever it sends, the other member
    gets nothing but well-formed messages, and both stay connected."""
    ids = ids_of(bystanders, "")

    @FUZZ_SETTINGS
    @given(attack=attacks(ids))
    def attack_once(attack: list[str | bytes]) -> None:
        call_id = fuzz_server.create_call()
        attacker, partner = SyncClient(fuzz_server.ws_url), SyncClient(fuzz_server.ws_url)
        try:
            attacker.join(call_id)
            partner.join(call_id)
            for frame in attack:
                attacker.send(frame)
            assert_well_formed(attacker.until_pong())
            assert_well_formed(partner.until_pong())
        finally:
            attacker.close()
            partner.close()

    attack_once()
    bystanders.assert_call_goes_on()
