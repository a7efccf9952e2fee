import base64
import hashlib
import hmac

import pytest

from peercall.config import ConfigError, IceServer, load_settings
from peercall.server.ice import ice_servers_for


def settings(**values):
    return load_settings(environ={}, overrides=values)


def test_without_turn_everybody_gets_the_configured_servers():
    servers = ice_servers_for(settings(ice_servers=[{"urls": "stun:example.org"}]), "p" * 16)
    assert servers == [IceServer(urls="stun:example.org")]


def test_turn_rest_credentials_are_per_member_and_expire():
    config = settings(ice_servers=[], turn_urls=["turn:t.example.org"], turn_secret="s3cret")
    [turn] = ice_servers_for(config, "peer-a", now=1_000_000)
    expiry, member = turn.username.split(":")
    assert (int(expiry), member) == (1_000_000 + 3600, "peer-a")
    expected = hmac.new(b"s3cret", turn.username.encode(), hashlib.sha1).digest()
    assert base64.b64decode(turn.credential) == expected
    [other] = ice_servers_for(config, "peer-b", now=1_000_000)
    assert other.credential != turn.credential
    [later] = ice_servers_for(config, "peer-a", now=1_000_100)
    assert later.username != turn.username  # fresh on each join


def test_static_turn_credentials_are_handed_out_as_they_are():
    config = settings(
        ice_servers=[], turn_urls=["turn:t.example.org"], turn_username="u", turn_password="p"
    )
    [turn] = ice_servers_for(config, "peer")
    assert (turn.username, turn.credential) == ("u", "p")


def test_turn_without_credentials_is_a_configuration_error():
    with pytest.raises(ConfigError, match="turn_secret"):
        settings(turn_urls=["turn:t.example.org"])


def test_turn_urls_from_the_environment_are_a_list():
    config = load_settings(
        environ={"PEERCALL_TURN_URLS": "turn:a:3478, turns:b:5349", "PEERCALL_TURN_SECRET": "x"}
    )
    assert config.turn_urls == ["turn:a:3478", "turns:b:5349"]
