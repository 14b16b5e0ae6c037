"""A wrapper that keeps secrets out of every repr, log line and report.

Only the HTTP layer (and the config writer) call `reveal()`. Everything else sees a redacted form with a short
SHA-256 fingerprint, so two runs can be compared without showing the value.
"""

from __future__ import annotations

import hashlib


def fingerprint(value: str | bytes) -> str:
    """Short, stable, non-reversible fingerprint of a secret value: `sha256:1a2b3c4d`."""
    data = value.encode() if isinstance(value, str) else value
    return "sha256:" + hashlib.sha256(data).hexdigest()[:8]


def redacted(value: str | bytes) -> str:
    """The text shown instead of a secret."""
    return f"<redacted {fingerprint(value)}>"


class Secret:
    """A secret string. `str()`/`repr()` never show it; `reveal()` does."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    @property
    def fingerprint(self) -> str:
        return fingerprint(self._value)

    def __len__(self) -> int:
        return len(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __str__(self) -> str:
        return redacted(self._value)

    __repr__ = __str__
