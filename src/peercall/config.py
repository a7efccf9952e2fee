"""One `Settings` object for the whole server.

Each setting is read, in increasing priority, from: its default, a TOML file
(`--config FILE` or `PEERCALL_CONFIG`), an environment variable `PEERCALL_<NAME>`
and a command-line flag. Every source goes through the same msgspec validation, so
a typo in any of them stops the server with a message that names the setting.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

DEFAULT_ICE_SERVERS: tuple[dict[str, Any], ...] = ({"urls": ["stun:stun.l.google.com:19302"]},)
ENV_PREFIX = "PEERCALL_"
# Signals held for one member (see `max_queued_signals`); also what the call roster
# and a member's resume buffer hold when built without settings.
MAX_CALL_CAPACITY = 12
DEFAULT_MAX_QUEUED_SIGNALS = 512
DEFAULT_HISTORY_SECONDS = 30 * 24 * 3600


class IceServer(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """One entry of `RTCConfiguration.iceServers`, as the browser expects it."""

    urls: list[str] | str
    username: str | None = None
    credential: str | None = None


class Settings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Everything the server can be told. Defaults need no other service."""

    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 8000
    data_dir: str = "./peercall-data"
    # Base URL put in call links, for a server behind a reverse proxy; by default
    # links are built from the address the browser used.
    public_url: str | None = None
    ice_servers: list[IceServer] = msgspec.field(
        default_factory=lambda: [msgspec.convert(s, IceServer) for s in DEFAULT_ICE_SERVERS]
    )
    # TURN relays, for calls that cannot go direct (most phones on mobile data).
    # With `turn_secret` (coturn's `static-auth-secret`), each member gets its own
    # credential that expires after `turn_credential_seconds`; otherwise the static
    # `turn_username`/`turn_password` are handed out.
    turn_urls: list[str] = msgspec.field(default_factory=list)
    turn_secret: str | None = None
    turn_credential_seconds: Annotated[int, msgspec.Meta(ge=10, le=7 * 24 * 3600)] = 3600
    turn_username: str | None = None
    turn_password: str | None = None
    # "relay" makes clients use TURN only: nobody learns anybody's IP address.
    ice_transport_policy: Literal["all", "relay"] = "all"
    # Bearer token for the operator's list of calls; generated and kept in the data
    # dir when not given.
    admin_token: str | None = None
    # Redis (e.g. "redis://127.0.0.1:6379/0"): calls, members, queued signals and
    # fan-out live there, so several peercall processes serve the same calls. None:
    # one process, calls in SQLite under `data_dir`.
    redis_url: str | None = None
    # People per call. Every pair has its own peer connection (a full mesh), so each
    # person sends their camera `call_capacity - 1` times: past about 8, uplinks and
    # phones give out, hence the ceiling.
    call_capacity: Annotated[int, msgspec.Meta(ge=2, le=MAX_CALL_CAPACITY)] = 6
    # A call nobody has been in for this long ends and its link stops working.
    call_ttl_seconds: Annotated[float, msgspec.Meta(gt=0)] = 24 * 3600
    # What is kept of an ended call (when it was made, who was in it by name, when
    # each came and went) is deleted this long after it ended; its link then
    # answers `call-not-found` rather than `call-ended`.
    history_seconds: Annotated[float, msgspec.Meta(gt=0)] = DEFAULT_HISTORY_SECONDS
    # Web pages allowed to open the signaling WebSocket, besides peercall's own
    # (e.g. "https://calls.example.org"). Clients that send no Origin (not browsers,
    # like the Python client) are not affected.
    allowed_origins: list[str] = msgspec.field(default_factory=list)
    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (their
    # addresses, or "*"), so limits count the real client's address and not the
    # proxy's. Empty: headers are ignored, the socket's address counts.
    trusted_proxies: list[str] = msgspec.field(default_factory=list)
    # Abuse limits; a normal client never meets them.
    # Messages per second per connection (token bucket: `message_burst` at once).
    messages_per_second: Annotated[float, msgspec.Meta(gt=0)] = 20
    message_burst: Annotated[int, msgspec.Meta(ge=1)] = 200
    max_connections_per_ip: Annotated[int, msgspec.Meta(ge=1)] = 20
    calls_per_ip_per_minute: Annotated[int, msgspec.Meta(ge=1)] = 30
    # An address that names this many calls that do not exist in a minute gets
    # `rate-limited` for every lookup until its budget refills (ids can't be searched).
    failed_lookups_per_ip_per_minute: Annotated[int, msgspec.Meta(ge=1)] = 20
    # Tries at a call's passcode per minute, per call and address.
    passcode_attempts_per_minute: Annotated[int, msgspec.Meta(ge=1)] = 5
    # Signals held for one member: an open offer waiting for somebody to join, or
    # messages kept for a member that is away until it resumes.
    max_queued_signals: Annotated[int, msgspec.Meta(ge=16)] = DEFAULT_MAX_QUEUED_SIGNALS
    # A connection must `join` or `resume` this soon, and say something (clients
    # ping every 20 s) at least this often, or it is closed. It is also the time a
    # connection has for its request line, and an HTTP request for the whole of it.
    handshake_seconds: Annotated[float, msgspec.Meta(gt=0)] = 15
    idle_seconds: Annotated[float, msgspec.Meta(gt=0)] = 75
    # A member whose connection drops keeps its place this long, to `resume` it on a
    # new connection with nothing lost; 0 ends its membership at once.
    resume_seconds: Annotated[float, msgspec.Meta(ge=0, le=3600)] = 30
    # Messages larger than this get a `message-too-large` error; the connection stays.
    max_message_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 64 * 1024
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # "json": one JSON object per line (time, level, logger, message, event fields).
    log_format: Literal["text", "json"] = "text"
    # Serve HTTPS (phones give the camera only to secure pages): with the given
    # certificate and key, or a self-signed one made once in the data dir.
    https: bool = False
    tls_cert: str | None = None
    tls_key: str | None = None

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)


SETTING_NAMES: tuple[str, ...] = Settings.__struct_fields__


class ConfigError(Exception):
    """A setting from a file, the environment or a flag is not valid."""


def _parse_env_value(name: str, raw: str) -> Any:
    """Environment values are text; lists (ICE servers) are given as JSON."""
    if name in ("turn_urls", "allowed_origins", "trusted_proxies"):
        return [url for url in raw.replace(",", " ").split() if url]
    if name == "ice_servers":
        if raw.strip() == "":
            return []
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{ENV_PREFIX}ICE_SERVERS is not valid JSON: {exc}") from exc
    return raw


def settings_from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in SETTING_NAMES:
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is not None:
            values[name] = _parse_env_value(name, raw)
    return values


def settings_from_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc


def load_settings(
    *,
    config_file: str | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Merge defaults < file < environment < overrides (flags) into one Settings."""
    environ = os.environ if environ is None else environ
    merged: dict[str, Any] = {}
    file_name = config_file or environ.get(ENV_PREFIX + "CONFIG")
    if file_name:
        merged.update(settings_from_file(Path(file_name)))
    merged.update(settings_from_env(environ))
    merged.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        # Strings from the environment become ints/floats here (strict=False).
        settings = msgspec.convert(merged, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"invalid setting: {exc}") from exc
    static_turn = settings.turn_username and settings.turn_password
    if settings.turn_urls and not (settings.turn_secret or static_turn):
        raise ConfigError("turn_urls needs turn_secret, or turn_username and turn_password")
    return settings
