"""What one check knows as it goes through the handshake, and what a whole run shares."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from regauth.credentials.model import Credential, CredentialOptions
from regauth.diagnoses import diagnose
from regauth.http import Auth, Http, Response, TransportConfig
from regauth.report import CheckResult, Diagnosis, StepResult

if TYPE_CHECKING:
    from regauth.challenge import Challenge, ChallengeSet
    from regauth.reference import Reference


@dataclass(eq=False)
class RunOptions:
    """Everything the user chose for a run."""

    transport: TransportConfig = field(default_factory=TransportConfig)
    credentials: CredentialOptions = field(default_factory=CredentialOptions)
    platform: str = "linux/amd64"
    actions: tuple[str, ...] = ("pull",)
    offline_token: bool = False  # ask the token service for a refresh token (login)


@dataclass(eq=False)
class Token:
    """A bearer token from the token service (or configured directly)."""

    value: str
    expires_at: float  # unix time
    method: str  # GET | POST | configured
    refresh_token: str | None = None
    server_date: float | None = None
    issued_at: float | None = None
    expires_in: int | None = None


@dataclass(eq=False)
class PingOutcome:
    """`GET /v2/` of one API base URL, shared by every check of a run: a response or a TransportError."""

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
        self._memo: dict[Any, Any] = {}
        self.stats = {"pings": 0, "token_requests": 0}

    def lock(self, key: Any) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """`compute()` once per run for `key` — what every check of a batch would otherwise redo (parse the same
        challenge, decode the same token, resolve the same host, read the proxy environment). An exception is not
        remembered: the next check computes again. Treat the value as read-only: checks share it."""
        try:
            return self._memo[key]
        except KeyError:
            pass
        with self.lock(("memo", key)):
            if key not in self._memo:
                self._memo[key] = compute()
            return self._memo[key]

    def credential_helper(self, name: str, server: str, timeout: float, env: Any) -> Any:
        """`helpers.get`, run once per (helper, server) in a run: docker asks once per pull, and a batch over many
        repositories of one registry must not start the helper (or wait out a hung one) for each of them."""
        from regauth.credentials import helpers

        return self.memo(("credential-helper", name, server), lambda: helpers.get(name, server, timeout, env))

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


@dataclass(eq=False)
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
    extra_auth: list[Auth] = field(default_factory=list)  # bound to redirect targets that challenged on their own
    repo_challenge: Challenge | None = None  # a repository's own challenge, when /v2/'s lacked service or scope
    extra_scopes: list[str] = field(default_factory=list)  # scopes the challenge asked for beyond what we need
    manifest: Response | None = None
    manifest_json: dict | None = None
    image_manifest: dict | None = None  # after platform selection
    server_date: float | None = None

    @property
    def http(self) -> Http:
        return self.shared.http

    def auths(self) -> list[Auth]:
        """Every Authorization this check may send, each bound to its own origin."""
        return [a for a in [self.auth, *self.extra_auth] if a is not None]

    def add(self, code: str, message: str, fix: str, severity: str | None = None) -> Diagnosis:
        d = diagnose(code, message, fix, severity)  # type: ignore[arg-type]
        self.result.diagnoses.append(d)
        return d

    def step(self, name: str) -> StepResult | None:
        return self.result.step(name)
