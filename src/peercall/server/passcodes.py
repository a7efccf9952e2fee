"""Call passcodes: kept as salted scrypt hashes, checked in constant time.

A passcode protects a call whose link has leaked (a forwarded chat, a screenshot).
Only its hash is stored, with a salt of its own, and scrypt makes each guess cost
memory and time, so even a stolen database does not give passcodes away cheaply.
Guessing online is slowed further by `PasscodeGuard` (attempts per minute).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets

# scrypt with n=2**14, r=8: 16 MiB and ~40 ms per check on a laptop core, run in a
# thread so the event loop never waits on it.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SALT_BYTES = 16
HASH_BYTES = 32
MIN_PASSCODE_LENGTH = 4
MAX_PASSCODE_LENGTH = 128


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(passcode: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        passcode.encode(), salt=salt, n=n, r=r, p=p, dklen=HASH_BYTES, maxmem=64 * 1024 * 1024
    )


def hash_passcode(passcode: str) -> str:
    """`scrypt$n$r$p$salt$hash`: the parameters travel with the hash, so they can be
    raised later without breaking calls made before."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(passcode, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def passcode_matches(passcode: str, stored: str) -> bool:
    """True when `passcode` hashes to `stored`; the comparison takes the same time
    wherever the two differ."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        expected = _unb64(digest)
        computed = _scrypt(passcode, _unb64(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return scheme == "scrypt" and hmac.compare_digest(computed, expected)


async def hash_passcode_in_thread(passcode: str) -> str:
    return await asyncio.to_thread(hash_passcode, passcode)


async def passcode_matches_in_thread(passcode: str, stored: str) -> bool:
    return await asyncio.to_thread(passcode_matches, passcode, stored)


def passcode_problem(passcode: str) -> str | None:
    """Why a passcode cannot be used for a new call, or None if it can."""
    if len(passcode) < MIN_PASSCODE_LENGTH:
        return f"A passcode needs at least {MIN_PASSCODE_LENGTH} characters."
    if len(passcode) > MAX_PASSCODE_LENGTH:
        return f"A passcode has at most {MAX_PASSCODE_LENGTH} characters."
    return None
