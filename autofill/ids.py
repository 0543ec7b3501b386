"""Public identifiers: a type prefix and a ULID-style body (48-bit milliseconds, 80 random bits).

Time-ordered ids give cursor pagination a stable order for free, and random bits keep them
unguessable across workspaces.
"""

from __future__ import annotations

import secrets
import time

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def _base32(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    millis = int(time.time() * 1000) & ((1 << 48) - 1)
    return f"{prefix}_{_base32(millis, 10)}{_base32(secrets.randbits(80), 16)}"
