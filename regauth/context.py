"""What one check knows as it goes through the handshake, and what a whole run shares."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from regauth.credentials.model import Credential, CredentialOptions
from regauth.diagnoses import diagnose
from regauth.http import Auth, Http, Response, TransportConfig
from regauth.report import CheckResult, Diagnosis, StepResult

if TYPE_CHECKING:
    from regauth.challenge import Challenge, ChallengeSet
    from regauth.reference import Reference


@dataclass
class RunOptions:
    """Everything the user chose for a run."""

    transport: TransportConfig = field(default_factory=TransportConfig)
    credentials: CredentialOptions = field(default_factory=CredentialOptions)
    platform: str = "linux/amd64"
    actions: tuple[str, ...] = ("pull",)
    offline_token: bool = False  # ask the token service for a refresh token (login)


@dataclass
class Token:
    """A bearer token from the token service (or configured directly)."""

    value: str
    expires_at: float  # unix time
    method: str  # GET | POST | configured
    refresh_token: str | None = None
    server_date: float | None = None
    issued_at: float | None = None
    expires_in: int | None = None


@dataclass
class PingOutcome:
    url: str
    response: Response | None
    error: Any = None  # TransportError


class Shared:
    """Caches shared by every check of a run: one ping per registry, one token per (realm, service, scope, who)."""

    def __init__(self, http: Http):
        self.http = http
        self._pings: dict[str, PingOutcome] = {}
        self._tokens: dict[tuple, Token] = {}
        self.credentials: dict[tuple[str, str], Any] = {}  # (registry, repository) -> CredentialLookup
        self._locks: dict[Any, threading.Lock] = {}
        self._guard = threading.Lock()
        self.stats = {"pings": 0, "token_requests": 0}

    def lock(self, key: Any) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def cached_ping(self, url: str) -> PingOutcome | None:
        return self._pings.get(url)

    def store_ping(self, outcome: PingOutcome) -> None:
        self._pings[outcome.url] = outcome

    def cached_token(self, key: tuple) -> Token | None:
        token = self._tokens.get(key)
        if token and token.expires_at - time.time() > 30:
            return token
        return None

    def store_token(self, key: tuple, token: Token) -> None:
        self._tokens[key] = token


@dataclass
class Check:
    """The state of one check (one image for pull-check, one registry for login)."""

    input: str
    options: RunOptions
    shared: Shared
    result: CheckResult
    ref: Reference | None = None
    registry: str = ""
    repository: str | None = None
    api_base: str = ""
    credential: Credential | None = None
    preset: Any = None  # a CredentialLookup decided by the caller (pull secrets): no lookup of local config
    ping: PingOutcome | None = None
    challenges: ChallengeSet | None = None
    challenge: Challenge | None = None
    scopes: list[str] = field(default_factory=list)
    token: Token | None = None
    auth: Auth | None = None  # what the registry gets on every request
    manifest: Response | None = None
    manifest_json: dict | None = None
    image_manifest: dict | None = None  # after platform selection
    server_date: float | None = None

    @property
    def http(self) -> Http:
        return self.shared.http

    def add(self, code: str, message: str, fix: str, severity: str | None = None) -> Diagnosis:
        d = diagnose(code, message, fix, severity)  # type: ignore[arg-type]
        self.result.diagnoses.append(d)
        return d

    def step(self, name: str) -> StepResult | None:
        return self.result.step(name)
