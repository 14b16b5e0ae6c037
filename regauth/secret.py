"""A wrapper that keeps secrets out of every repr, log line and report.

Only the HTTP layer (and the config writer) call `reveal()`. Everything else sees a redacted form with a short
SHA-256 fingerprint, so two runs can be compared without showing the value.
"""

from __future__ import annotations

import hashlib
import threading

#: Secrets shorter than this are not scrubbed from free text (too likely to match ordinary words); the structured
#: redaction of headers, fields and parameters still applies to them.
MIN_SCRUB_LENGTH = 6
_known: set[str] = set()
_known_lock = threading.Lock()


def remember(value: str | bytes) -> None:
    """Record a secret value so that `redact.scrub` removes it from any text regauth outputs later."""
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    if isinstance(text, str) and len(text.strip()) >= MIN_SCRUB_LENGTH:
        with _known_lock:
            _known.add(text)


def remember_pair(username: str | None, password: str | None) -> None:
    """Record `username:password` too, as Basic auth and docker's `auth` field carry it (base64-encoded): the scrub
    then also removes base64(username:password) wherever a server echoes it."""
    if username and password:
        remember(f"{username}:{password}")


def forget_all() -> None:
    """Drop every remembered secret (tests: one process runs many independent checks)."""
    with _known_lock:
        _known.clear()


def known_secrets() -> frozenset[str]:
    """Every secret value seen so far in this process (for the last-line scrub of outputs)."""
    with _known_lock:
        return frozenset(_known)


def fingerprint(value: str | bytes) -> str:
    """Short, stable, non-reversible fingerprint of a secret value: `sha256:1a2b3c4d`."""
    data = value.encode() if isinstance(value, str) else value
    return "sha256:" + hashlib.sha256(data).hexdigest()[:8]


def redacted(value: str | bytes) -> str:
    """The text shown instead of a secret (the value is remembered, so it is scrubbed from every output)."""
    remember(value)
    return f"<redacted {fingerprint(value)}>"


class Secret:
    """A secret string. `str()`/`repr()` never show it; `reveal()` does."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        remember(value)

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
