"""Pointing PyAV's own libasound at the system's ALSA configuration and plugins."""

from pathlib import Path

from peercall.client.alsa import system_plugin_dirs, use_system_alsa


def test_the_systems_directories_are_used_where_nothing_is_set():
    environ: dict[str, str] = {}
    use_system_alsa(environ)
    assert environ["ALSA_CONFIG_DIR"] == "/usr/share/alsa"  # Debian's, on this machine
    plugins = next((path for path in system_plugin_dirs() if Path(path).is_dir()), None)
    assert environ.get("ALSA_PLUGIN_DIR") == plugins  # none here: left unset


def test_what_the_user_set_is_kept():
    environ = {"ALSA_CONFIG_DIR": "/opt/alsa/share", "ALSA_PLUGIN_DIR": "/opt/alsa/lib"}
    use_system_alsa(environ)
    assert environ == {"ALSA_CONFIG_DIR": "/opt/alsa/share", "ALSA_PLUGIN_DIR": "/opt/alsa/lib"}
