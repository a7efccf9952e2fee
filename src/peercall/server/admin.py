"""The operator's bearer token for read-only endpoints such as the list of calls.

Given in the settings, or else generated once and kept in the data dir (mode 0600),
so `peercall calls` on the same machine finds it without it ever being printed.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from peercall.config import Settings

TOKEN_FILE_NAME = "admin-token"


def admin_token_path(settings: Settings) -> Path:
    return settings.data_path / TOKEN_FILE_NAME


def resolve_admin_token(settings: Settings) -> str:
    if settings.admin_token:
        return settings.admin_token
    path = admin_token_path(settings)
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(token + "\n")
    return token


def is_authorized(authorization_header: str | None, token: str) -> bool:
    """Check a `Bearer <token>` header in constant time."""
    if not authorization_header or not authorization_header.startswith("Bearer "):
        return False
    given = authorization_header.removeprefix("Bearer ").strip()
    return hmac.compare_digest(given.encode(), token.encode())
