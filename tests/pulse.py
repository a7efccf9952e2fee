"""A real PulseAudio sound server (Debian's `pulseaudio`), as a Linux desktop runs one,
in a runtime directory of its own, stopped by PID. Its default microphone hears a sine
tone: a desktop's sound, with no sound card. It is the monitor of a sink that plays
the tone (`module-sine`), which gives its sound as often as a recording program asks,
as a microphone's source does; `module-sine-source` gives it in blocks of two seconds
whatever is asked (its latency is fixed), which no microphone does. Clients find it
as a desktop session's programs do, through `XDG_RUNTIME_DIR` (`client_env`); ALSA's
`default` device goes to it through the `pulse` plugin (libasound2-plugins)."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

from tests.processes import ChildProcess, wait_until_ready

PULSEAUDIO = shutil.which("pulseaudio") or "/usr/bin/pulseaudio"
SCRIPT = """
load-module module-native-protocol-unix auth-anonymous=1
load-module module-null-sink sink_name=speakers
load-module module-sine sink=speakers frequency={frequency}
set-default-source speakers.monitor
"""


class SoundServer(ChildProcess):
    def __init__(self, directory: Path, tone_hz: int) -> None:
        self.directory = directory
        self.tone_hz = tone_hz
        self.log_path = directory / "pulseaudio.log"
        self.runtime_dir = directory / "runtime"

    @property
    def socket_path(self) -> Path:
        return self.runtime_dir / "pulse" / "native"

    def client_env(self) -> dict[str, str]:
        """What a program in the desktop session has that leads it to this server."""
        return {"XDG_RUNTIME_DIR": str(self.runtime_dir)}

    def start(self, timeout: float = 15.0) -> SoundServer:
        if not Path(PULSEAUDIO).exists():
            raise RuntimeError(f"{PULSEAUDIO} is missing: install Debian's pulseaudio package")
        self.runtime_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        script = self.directory / "default.pa"
        script.write_text(SCRIPT.format(frequency=self.tone_hz))
        home = self.directory / "home"
        home.mkdir(exist_ok=True)
        command = [
            PULSEAUDIO, "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
            "--disallow-module-loading", "-n", f"--file={script}", "--log-target=stderr",
        ]  # fmt: skip
        env = {"HOME": str(home), "XDG_RUNTIME_DIR": str(self.runtime_dir), "PATH": "/usr/bin"}
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        wait_until_ready(
            self.process, self._listening, what="pulseaudio", timeout=timeout, log=self.log
        )
        return self

    def _listening(self) -> bool:
        try:
            with socket.socket(socket.AF_UNIX) as client:
                client.connect(str(self.socket_path))
            return True
        except OSError:
            return False
