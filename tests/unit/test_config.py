from pathlib import Path

import pytest

from peercall.config import DEFAULT_ICE_SERVERS, ConfigError, load_settings


def test_defaults_need_no_other_service():
    settings = load_settings(environ={})
    assert settings.host == "127.0.0.1"
    assert settings.port == 8000
    assert [s.urls for s in settings.ice_servers] == [s["urls"] for s in DEFAULT_ICE_SERVERS]


def test_file_then_environment_then_flags_each_win(tmp_path: Path):
    config = tmp_path / "peercall.toml"
    config.write_text('port = 9000\nhost = "0.0.0.0"\ndata_dir = "/srv/calls"\n')
    from_file = load_settings(config_file=str(config), environ={})
    assert (from_file.port, from_file.host, from_file.data_dir) == (9000, "0.0.0.0", "/srv/calls")

    environ = {"PEERCALL_CONFIG": str(config), "PEERCALL_PORT": "9100"}
    from_env = load_settings(environ=environ)
    assert (from_env.port, from_env.host) == (9100, "0.0.0.0")

    from_flags = load_settings(environ=environ, overrides={"port": 9200, "host": None})
    assert (from_flags.port, from_flags.host) == (9200, "0.0.0.0")


def test_ice_servers_from_the_environment_are_json_and_may_be_empty():
    assert load_settings(environ={"PEERCALL_ICE_SERVERS": ""}).ice_servers == []
    settings = load_settings(
        environ={
            "PEERCALL_ICE_SERVERS": '[{"urls": "turn:t.example:3478", "username": "u", "credential": "c"}]'
        }
    )
    assert settings.ice_servers[0].username == "u"


@pytest.mark.parametrize(
    "environ",
    [
        {"PEERCALL_PORT": "not-a-port"},
        {"PEERCALL_PORT": "70000"},
        {"PEERCALL_ICE_SERVERS": "[{"},
        {"PEERCALL_ICE_SERVERS": '[{"url": "stun:x"}]'},
        {"PEERCALL_MAX_MESSAGE_BYTES": "10"},
    ],
)
def test_an_invalid_setting_is_refused_with_its_name(environ):
    with pytest.raises(ConfigError) as caught:
        load_settings(environ=environ)
    assert str(caught.value)


def test_a_config_file_with_an_unknown_setting_is_refused(tmp_path: Path):
    config = tmp_path / "peercall.toml"
    config.write_text("prot = 1\n")
    with pytest.raises(ConfigError, match="prot"):
        load_settings(config_file=str(config), environ={})


def test_the_deploy_example_is_a_valid_configuration():
    example = Path(__file__).resolve().parents[2] / "deploy" / "peercall.toml"
    settings = load_settings(config_file=str(example), environ={})
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.public_url == "https://calls.example.org"
    assert settings.trusted_proxies == ["127.0.0.1"]


def test_a_group_holds_six_by_default_and_twelve_at_most():
    assert load_settings(environ={}).call_capacity == 6
    assert load_settings(environ={"PEERCALL_CALL_CAPACITY": "12"}).call_capacity == 12
    with pytest.raises(ConfigError, match="call_capacity"):
        load_settings(environ={"PEERCALL_CALL_CAPACITY": "13"})
