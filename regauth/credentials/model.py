"""The shapes every credential source returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from regauth.report import Diagnosis
from regauth.secret import Secret, remember_pair


@dataclass(eq=False)
class Credential:
    """One usable credential and where it came from."""

    username: str | None = None
    password: Secret | None = None
    identity_token: Secret | None = None  # an OAuth2 refresh token (docker's `identitytoken`)
    registry_token: Secret | None = None  # a ready-made bearer token (docker's `registrytoken`)
    source: str = ""  # flags | docker-config | credential-helper | auth.json | pull-secret
    origin: str = ""  # file path or helper program
    key: str = ""  # the key that matched

    def __post_init__(self) -> None:
        if self.password:  # base64(user:password) is a secret of its own, for the scrub of every output
            remember_pair(self.username, self.password.reveal())

    @property
    def anonymous(self) -> bool:
        return not (self.password or self.identity_token or self.registry_token)

    @property
    def kind(self) -> str:
        if self.registry_token:
            return "registry-token"
        if self.identity_token:
            return "identity-token"
        if self.password:
            return "password"
        return "anonymous"

    def describe(self) -> dict[str, Any]:
        """JSON-safe description (secrets as fingerprints)."""
        out: dict[str, Any] = {"source": self.source or "none", "origin": self.origin, "key": self.key,
                               "kind": self.kind, "username": self.username}
        for name in ("password", "identity_token", "registry_token"):
            value = getattr(self, name)
            if value:
                out[name] = str(value)
        return out


@dataclass(eq=False)
class Candidate:
    """A place that was looked at, and what came of it."""

    source: str
    origin: str
    key: str
    used: bool
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "origin": self.origin, "key": self.key, "used": self.used,
                "reason": self.reason}


@dataclass(eq=False)
class CredentialLookup:
    """The outcome of the credentials step for one registry/repository."""

    credential: Credential | None
    candidates: list[Candidate] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)
    tools: dict[str, str] = field(default_factory=dict)  # tool → what it would send (R7.8.1), no secrets


@dataclass(eq=False)
class CredentialOptions:
    """What the user told us about credentials."""

    username: str | None = None
    password: Secret | None = None
    identity_token: Secret | None = None
    config_dir: Path | None = None  # --config
    authfile: Path | None = None  # --authfile
    helper_timeout: float = 10.0
