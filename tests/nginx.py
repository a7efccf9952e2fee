"""Debian's nginx on 127.0.0.1 for tests, with the configuration of `deploy/nginx.conf`
pointed at test ports and a self-signed certificate; stopped by PID."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from peercall.server.tls import write_self_signed
from tests.processes import ChildProcess, accepts_connections, wait_until_ready
from tests.servers import free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
DEPLOY_CONF = Path(__file__).resolve().parents[1] / "deploy" / "nginx.conf"


class Nginx(ChildProcess):
    def __init__(self, directory: Path, backends: list[int]) -> None:
        self.directory = directory
        self.backends = backends
        self.http_port = free_port()
        self.https_port = free_port()
        self.certificate = directory / "cert.pem"
        self.log_path = directory / "error.log"

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def ws_url(self) -> str:
        return f"wss://127.0.0.1:{self.https_port}/ws"

    def site_configuration(self) -> str:
        """deploy/nginx.conf with this test's ports and certificate, nothing else."""
        site = DEPLOY_CONF.read_text()
        upstreams = "".join(
            f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;\n" for port in self.backends
        )
        site = re.sub(
            r"(upstream peercall \{\n(?:    #.*\n)*)(?:    server .*\n)+",
            rf"\g<1>{upstreams}",
            site,
        )
        site = site.replace("listen 80;", f"listen 127.0.0.1:{self.http_port};")
        site = site.replace(
            "listen 443 ssl http2;", f"listen 127.0.0.1:{self.https_port} ssl http2;"
        )
        site = re.sub(r"ssl_certificate .*;", f"ssl_certificate {self.certificate};", site)
        return re.sub(
            r"ssl_certificate_key .*;", f"ssl_certificate_key {self.directory / 'key.pem'};", site
        )

    def start(self, timeout: float = 10.0) -> Nginx:
        self.directory.mkdir(parents=True, exist_ok=True)
        write_self_signed(self.certificate, self.directory / "key.pem")
        (self.directory / "site.conf").write_text(self.site_configuration())
        temp = self.directory / "temp"
        temp.mkdir(exist_ok=True)
        (self.directory / "nginx.conf").write_text(
            f"pid {self.directory / 'nginx.pid'};\n"
            f"error_log {self.log_path} warn;\n"
            "events {}\n"
            "http {\n"
            + "".join(
                f"  {kind}_temp_path {temp / kind};\n"
                for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
            )
            + f"  include {self.directory / 'site.conf'};\n"
            "}\n"
        )
        command = [NGINX, "-c", str(self.directory / "nginx.conf"), "-p", str(self.directory),
                   "-g", "daemon off;"]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        wait_until_ready(
            self.process,
            lambda: accepts_connections(self.https_port),
            what="nginx",
            timeout=timeout,
            log=self.log,
        )
        return self
