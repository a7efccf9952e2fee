"""The `peercall` command: `serve` runs the server, `new` creates a call, `join` takes
part in one from this machine (aiortc), `calls` lists open calls."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import httpx

from peercall import __version__
from peercall.config import ConfigError, Settings, load_settings
from peercall.logs import call_label
from peercall.server.admin import admin_token_path


def add_settings_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="TOML file with settings")
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8000)")
    parser.add_argument("--data-dir", help="where calls are kept (default ./peercall-data)")
    parser.add_argument("--public-url", help="base URL for call links, behind a proxy")
    parser.add_argument(
        "--ice-servers",
        metavar="JSON",
        help='ICE servers as JSON, e.g. \'[{"urls": "stun:stun.example.org"}]\'; "[]" for none',
    )
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    parser.add_argument(
        "--https",
        action="store_true",
        default=None,
        help="serve HTTPS (needed for phones' cameras); self-signed unless --cert/--key",
    )
    parser.add_argument("--cert", help="TLS certificate (PEM) for --https")
    parser.add_argument("--key", help="TLS private key (PEM) for --https")
    parser.add_argument(
        "--redis",
        metavar="URL",
        help="keep calls in Redis (redis://HOST:PORT/DB) so several servers share them",
    )


def settings_from_args(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "data_dir": args.data_dir,
        "public_url": args.public_url,
        "log_level": args.log_level,
        "https": args.https,
        "tls_cert": args.cert,
        "tls_key": args.key,
        "redis_url": args.redis,
    }
    if args.ice_servers is not None:
        try:
            overrides["ice_servers"] = json.loads(args.ice_servers)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"--ice-servers is not valid JSON: {exc}") from exc
    return load_settings(config_file=args.config, overrides=overrides)


def announce(settings: Settings, out: TextIO = sys.stdout) -> None:
    """Where to open peercall: on this machine, on the LAN, and a QR code for a phone."""
    from peercall.server.qr import qr_terminal
    from peercall.server.tls import lan_addresses

    scheme = "https" if settings.https else "http"
    print(f"peercall {__version__} is running at {scheme}://localhost:{settings.port}/", file=out)
    everywhere = settings.host in ("0.0.0.0", "::", "")
    lan = [f"{scheme}://{address}:{settings.port}/" for address in lan_addresses()]
    if settings.public_url:
        lan = [settings.public_url]
    elif not everywhere:
        lan = []
    for url in lan:
        print(f"  on your network: {url}", file=out)
    if lan:
        if not settings.https:
            print("  (phones give the camera only to HTTPS pages: add --https)", file=out)
        print(f"Scan to open {lan[0]} on a phone:\n{qr_terminal(lan[0])}", file=out)
    out.flush()


def serve(settings: Settings) -> int:
    import uvicorn

    from peercall.logs import set_up_logging
    from peercall.server.app import create_app
    from peercall.server.front_door import front_door_for
    from peercall.server.tls import tls_files

    set_up_logging(settings.log_level, settings.log_format)
    tls = tls_files(settings) if settings.https else None
    if tls is not None and tls.generated:
        print(
            f"Using a self-signed certificate ({tls.certificate}): browsers will ask you "
            "to accept it once.",
            flush=True,
        )
    app = create_app(settings)
    announce(settings)
    config = uvicorn.Config(
        app.http,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        # Access logs would write call links (secrets) to disk: peercall logs its
        # own events with shortened ids instead.
        access_log=False,
        # HTTP by uvicorn, the signaling WebSocket by picows, on the same port.
        http=front_door_for(app.signaling),  # type: ignore[arg-type]
        ws="none",
        lifespan="on",
        log_config=None,  # uvicorn's loggers go through ours (text or JSON)
        # X-Forwarded-For is believed only from the proxies the operator names.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=",".join(settings.trusted_proxies) or "",
        ssl_certfile=str(tls.certificate) if tls else None,
        ssl_keyfile=str(tls.key) if tls else None,
    )
    uvicorn.Server(config).run()
    return 0


def list_calls(settings: Settings, server: str | None, token: str | None) -> int:
    base = server or f"http://{settings.host}:{settings.port}"
    if token is None:
        path = admin_token_path(settings)
        if not path.exists():
            print(f"no admin token: pass --token or run from the server's data dir ({path})")
            return 2
        token = path.read_text().strip()
    try:
        response = httpx.get(
            base.rstrip("/") + "/api/calls", headers={"authorization": f"Bearer {token}"}
        )
    except httpx.HTTPError as exc:
        print(f"cannot reach the server at {base}: {exc}", file=sys.stderr)
        return 1
    if response.status_code != 200:
        print(f"the server refused: {response.json()['error']['message']}", file=sys.stderr)
        return 1
    calls = response.json()["calls"]
    if not calls:
        print("no open calls")
    for call in calls:
        # The server shows keys (digests), never call ids: links stay with the callers.
        mark = "  passcode" if call["passcode"] else ""
        print(f"{call_label(call['call_key'])}  {call['members']} in call{mark}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="peercall", description=__doc__)
    parser.add_argument("--version", action="version", version=f"peercall {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the web app and signaling server")
    add_settings_flags(serve_parser)
    calls_parser = commands.add_parser("calls", help="list open calls (needs the admin token)")
    add_settings_flags(calls_parser)
    calls_parser.add_argument("--server", help="server base URL (default from settings)")
    calls_parser.add_argument("--token", help="admin token (default: read from the data dir)")

    new_parser = commands.add_parser("new", help="create a call and print its link")
    add_settings_flags(new_parser)
    new_parser.add_argument("--server", help="server base URL (default from settings)")
    add_passcode_flag(new_parser, "nobody joins without this passcode")

    join_parser = commands.add_parser(
        "join",
        help="join a call from this machine",
        description="Join a call by its link. Exits 0 when the call ends normally, 1 when "
        "it cannot go on (not found, full, server lost), 2 for a bad link, file or device.",
    )
    join_parser.add_argument("link", help="the call link, http(s)://HOST/c/CALL_ID")
    source = join_parser.add_mutually_exclusive_group()
    source.add_argument("--play", metavar="FILE", type=Path, help="send this audio/video file")
    source.add_argument("--camera", metavar="DEVICE", help="send this camera (e.g. /dev/video0)")
    source.add_argument(
        "--screen",
        metavar="DISPLAY",
        nargs="?",
        const="",
        help="share this X11 screen (e.g. :0; by default $DISPLAY), shown whole by the others",
    )
    source.add_argument(
        "--test-pattern", action="store_true", help="send moving bars and a 440 Hz tone"
    )
    join_parser.add_argument(
        "--loop", action="store_true", help="with --play: play the file over and over"
    )
    join_parser.add_argument(
        "--microphone",
        metavar="DEVICE",
        nargs="?",
        const="default",
        help="send the sound of this ALSA microphone (arecord -L lists them; by default "
        '"default"), alone or with --camera, --screen or --test-pattern',
    )
    join_parser.add_argument(
        "--muted", action="store_true", help="join muted: silence is sent, the others see it"
    )
    join_parser.add_argument(
        "--camera-off",
        action="store_true",
        help="join with the camera off: a black picture is sent, the others see it",
    )
    join_parser.add_argument(
        "--no-incoming-video",
        action="store_true",
        help="ask the others not to send their video (a slow or metered link): sound only",
    )
    join_parser.add_argument(
        "--record", metavar="FILE", type=Path, help="record what the other person sends"
    )
    join_parser.add_argument(
        "--duration", metavar="S", type=float, help="hang up S seconds after connecting"
    )
    join_parser.add_argument("--say", metavar="TEXT", help="send this chat message once connected")
    join_parser.add_argument(
        "--send-file", metavar="FILE", type=Path, help="send this file once connected"
    )
    join_parser.add_argument(
        "--save-files",
        metavar="DIR",
        type=Path,
        help="save the files others send into this directory (never over a file there)",
    )
    join_parser.add_argument(
        "--stats",
        metavar="S",
        type=positive_seconds,
        help="print bit rates, round trip and losses every S seconds",
    )
    join_parser.add_argument("--name", default="", help="the name others see")
    add_passcode_flag(join_parser, "the call's passcode, if it has one")
    return parser


PASSCODE_ENV = "PEERCALL_PASSCODE"


def positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0")
    return seconds


def add_passcode_flag(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--passcode",
        default=os.environ.get(PASSCODE_ENV),
        help=f"{what} (or set {PASSCODE_ENV}: other users of this machine can read "
        "command lines, not your environment)",
    )


def join_call(args: argparse.Namespace) -> int:
    from peercall.client.commands import JoinOptions, run_join

    options = JoinOptions(
        link=args.link,
        play=args.play,
        loop=args.loop,
        camera=args.camera,
        microphone=args.microphone,
        screen=args.screen,
        test_pattern=args.test_pattern,
        muted=args.muted,
        camera_off=args.camera_off,
        incoming_video=not args.no_incoming_video,
        record=args.record,
        duration=args.duration,
        say=args.say,
        send_file=args.send_file,
        save_files=args.save_files,
        stats=args.stats,
        name=args.name,
        passcode=args.passcode,
    )
    try:
        return asyncio.run(run_join(options))
    except KeyboardInterrupt:  # before the call was up; once in it, Ctrl-C hangs up
        return 130


def new_call(settings: Settings, server: str | None, passcode: str | None) -> int:
    from peercall.client.commands import run_new

    return asyncio.run(run_new(server or f"http://{settings.host}:{settings.port}", passcode))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "join":
        return join_call(args)
    try:
        settings = settings_from_args(args)
    except ConfigError as exc:
        print(f"peercall: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        try:
            return serve(settings)
        except ConfigError as exc:
            print(f"peercall: {exc}", file=sys.stderr)
            return 2
    if args.command == "new":
        return new_call(settings, args.server, args.passcode)
    return list_calls(settings, args.server, args.token)
