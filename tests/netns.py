"""A second "device" on this machine: a network namespace joined by a veth pair, whose
network can be changed under a running browser (a phone going from Wi-Fi to mobile
data gets a new address). Needs root; created and removed by the tests."""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path


def ip(*args: str, namespace: str | None = None) -> None:
    prefix = ["ip", "netns", "exec", namespace] if namespace else []
    subprocess.run([*prefix, "ip", *args], check=True, capture_output=True, text=True)


class NetworkNamespace:
    def __init__(self) -> None:
        tag = secrets.token_hex(3)
        self.name = f"pc{tag}"
        self.host_side, self.device_side = f"pc{tag}h", f"pc{tag}d"
        subnet = f"10.{secrets.randbelow(200) + 20}.{secrets.randbelow(250) + 1}"
        self.host_address = f"{subnet}.1"
        self.device_address = f"{subnet}.2"
        self._subnet = subnet

    def create(self) -> NetworkNamespace:
        ip("netns", "add", self.name)
        try:
            ip("link", "add", self.host_side, "type", "veth", "peer", "name", self.device_side)
            ip("link", "set", self.device_side, "netns", self.name)
            ip("addr", "add", f"{self.host_address}/24", "dev", self.host_side)
            ip("link", "set", self.host_side, "up")
            ip("link", "set", "lo", "up", namespace=self.name)
            ip(
                "addr",
                "add",
                f"{self.device_address}/24",
                "dev",
                self.device_side,
                namespace=self.name,
            )
            ip("link", "set", self.device_side, "up", namespace=self.name)
        except subprocess.CalledProcessError:
            self.delete()
            raise
        return self

    def change_address(self) -> str:
        """Moves the device to a new address, as a network change does."""
        new_address = f"{self._subnet}.{secrets.randbelow(200) + 3}"
        ip("addr", "del", f"{self.device_address}/24", "dev", self.device_side, namespace=self.name)
        ip("addr", "add", f"{new_address}/24", "dev", self.device_side, namespace=self.name)
        self.device_address = new_address
        return new_address

    def lose_incoming_udp(self, percent: int) -> None:
        """Drops that share of the UDP packets that reach the device (media, STUN), at
        random, as a poor Wi-Fi or mobile link does (nftables in the namespace)."""
        self.stop_losing()
        nft = ["ip", "netns", "exec", self.name, "nft"]
        for command in (
            ["add", "table", "inet", "lossy"],
            ["add", "chain", "inet", "lossy", "in", "{ type filter hook input priority 0; }"],
            ["add", "rule", "inet", "lossy", "in", "iifname", self.device_side,
             "meta", "l4proto", "udp", "numgen", "random", "mod", "100", "<", str(percent),
             "drop"],
        ):  # fmt: skip
            subprocess.run([*nft, *command], check=True, capture_output=True, text=True)

    def stop_losing(self) -> None:
        subprocess.run(
            ["ip", "netns", "exec", self.name, "nft", "delete", "table", "inet", "lossy"],
            capture_output=True,
            check=False,
        )

    def launcher(self, directory: Path, program: str = "/usr/bin/chromium") -> Path:
        """An executable that runs `program` inside the namespace."""
        path = directory / f"{self.name}-{Path(program).name}"
        path.write_text(f'#!/bin/sh\nexec ip netns exec {self.name} {program} "$@"\n')
        path.chmod(0o755)
        return path

    def delete(self) -> None:
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, check=False)
        subprocess.run(["ip", "link", "del", self.host_side], capture_output=True, check=False)


def can_make_namespaces() -> bool:
    probe = NetworkNamespace()
    try:
        probe.create()
    except (subprocess.CalledProcessError, FileNotFoundError):
        return False
    probe.delete()
    return True
