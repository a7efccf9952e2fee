"""HTTPS for a LAN: browsers give the camera only to secure pages, so a phone that
opens `http://192.168.1.20:8000` gets none. `peercall serve --https` uses the user's
certificate (`--cert/--key`) or makes a self-signed one once and keeps it in the
data dir, valid for this machine's names and addresses.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
from dataclasses import dataclass
from pathlib import Path

import ifaddr
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from peercall.config import ConfigError, Settings

CERTIFICATE_DAYS = 825  # the longest validity Apple platforms accept


@dataclass(frozen=True)
class TlsFiles:
    certificate: Path
    key: Path
    generated: bool


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback, for links a phone can open."""
    found: list[str] = []
    for adapter in ifaddr.get_adapters():
        for address in adapter.ips:
            if isinstance(address.ip, str) and not address.ip.startswith("127."):
                found.append(address.ip)
    return sorted(set(found))


def tls_files(settings: Settings) -> TlsFiles:
    """The certificate and key to serve with: the user's, or ours (made on first use)."""
    if settings.tls_cert or settings.tls_key:
        if not (settings.tls_cert and settings.tls_key):
            raise ConfigError("give both --cert and --key, or neither")
        certificate, key = Path(settings.tls_cert), Path(settings.tls_key)
        for path in (certificate, key):
            if not path.is_file():
                raise ConfigError(f"no such file: {path}")
        return TlsFiles(certificate, key, generated=False)
    directory = settings.data_path / "tls"
    certificate, key = directory / "cert.pem", directory / "key.pem"
    if not (certificate.is_file() and key.is_file()):
        write_self_signed(certificate, key)
    return TlsFiles(certificate, key, generated=True)


def write_self_signed(certificate_path: Path, key_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    hostname = socket.gethostname()
    names: list[x509.GeneralName] = [x509.DNSName("localhost"), x509.DNSName(hostname)]
    for address in ["127.0.0.1", "::1", *lan_addresses()]:
        names.append(x509.IPAddress(ipaddress.ip_address(address)))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"peercall on {hostname}")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CERTIFICATE_DAYS))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    key_path.parent.mkdir(parents=True, exist_ok=True)
    # The key is written readable by its owner only, from the first byte.
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
