"""A Docker-token-protocol token service for the test registries (specs §3, §5).

* ``GET /token?service=…&scope=…&scope=…[&account=…&offline_token=true&client_id=…]``
  with optional ``Authorization: Basic``;
* OAuth2 ``POST /token`` (form): ``grant_type=password`` or ``refresh_token``.

Tokens are ES256 JWTs with a libtrust ``kid`` (what distribution v2.8 looks up
in its ``rootcertbundle``). Like Docker Hub, the service never refuses a
well-formed request from a valid principal: missing rights just produce a
token whose ``access`` lacks the actions — the registry reports that later.

Behaviour is switchable at run time through :class:`IssuerBehaviour`
(``issuer.behaviour.opaque = True`` …; ``issuer.reset()`` restores defaults),
and every request is recorded in :attr:`TokenIssuer.requests` with secrets
reduced to fingerprints.

The service listens on plain HTTP and, when given a certificate, on HTTPS too
(two ports, shared state): the HTTPS realm is used by TLS registries, since a
careful client refuses an ``http://`` realm for an ``https://`` registry.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import fnmatch
import hashlib
import json
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from .loopback import Listener, LoopbackServer
from .pki import libtrust_kid
from .users import ANONYMOUS, ISSUER, SERVICE, USERS

TOKEN_PATH = "/token"


# --------------------------------------------------------------------------- behaviour


@dataclass
class IssuerBehaviour:
    """Knobs for fault injection. Defaults = a well-behaved Docker-Hub-like service."""

    #: Which token field(s) the JSON carries: ``auto`` (GET: both ``token`` and
    #: ``access_token``; POST: ``access_token``), ``token``, ``access_token``,
    #: ``both`` or ``none`` (→ client error "no token in the response").
    token_field: str = "auto"
    #: ``False`` → GET answers 405 (POST-only service).
    allow_get: bool = True
    #: ``False`` → POST answers 404 (the oauth.md "fall back to GET" signal).
    allow_post: bool = True
    #: ``expires_in`` in the response; ``None`` omits the field.
    expires_in: int | None = 300
    #: Include ``issued_at`` in the response.
    include_issued_at: bool = True
    #: JWT ``exp`` = now + exp_offset (negative → already expired).
    exp_offset: int = 300
    #: JWT ``nbf`` = now + nbf_offset (positive → not yet valid).
    nbf_offset: int = 0
    #: Override the JWT ``iss`` (default: the issuer's configured name).
    issuer: str | None = None
    #: Override the JWT ``aud`` (default: the request's ``service``); may be a list.
    audience: Any = None
    #: Override the JWT ``access`` claim verbatim (list of dicts).
    access: list | None = None
    #: Omit claims entirely, e.g. ``{"exp"}``.
    omit_claims: set = field(default_factory=set)
    #: Issue random opaque tokens instead of JWTs.
    opaque: bool = False
    #: Sign with a key the registry does not trust (kid = that key's libtrust id).
    untrusted_key: bool = False
    #: Override the ``kid`` header (``""`` → omit ``kid``).
    kid: str | None = None
    #: Flip bits in the signature.
    corrupt_signature: bool = False
    #: Answer every token request with this HTML body (status ``status`` or 200).
    html_body: str | None = None
    #: Content-Type of ``html_body`` (e.g. ``application/json`` for a JSON error page).
    body_type: str = "text/html; charset=utf-8"
    #: Answer every token request with this status and a JSON error body.
    status: int | None = None
    #: Refuse anonymous requests with 401 (instead of granting the anonymous rights).
    require_auth: bool = False
    #: Seconds to sleep before answering.
    delay: float = 0.0
    #: Reject POST requests without ``service`` / ``client_id`` (both REQUIRED by oauth.md).
    strict_post: bool = True
    #: For repositories without rights, include ``{"name": …, "actions": []}`` (Docker
    #: Hub style) instead of leaving the repository out of ``access``.
    empty_access_entries: bool = True


# --------------------------------------------------------------------------- request log


def fingerprint(secret: str | None) -> str | None:
    """Short, non-reversible fingerprint of a secret for logs and assertions."""
    if secret is None:
        return None
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class TokenRequest:
    """One request seen by the issuer (no secrets in clear)."""

    method: str
    path: str
    scheme: str  # listener: "http" or "https"
    query: dict[str, list[str]]
    form_keys: tuple[str, ...]
    form: dict[str, str]  # non-secret form fields only
    basic: bool  # an Authorization: Basic header was sent
    basic_user: str | None
    password_fingerprint: str | None  # of the Basic or form password
    refresh_token_fingerprint: str | None
    grant_type: str | None
    service: str | None
    scopes: tuple[str, ...]
    principal: str | None  # authenticated user, "anonymous", or None if rejected
    status: int
    user_agent: str | None
    time: float


# --------------------------------------------------------------------------- scopes


def parse_scope(scope: str) -> tuple[str, str, list[str]] | None:
    """Split ``type:name:actions`` (name may contain ``:``, specs R4.1.1)."""
    if scope.count(":") < 2:
        return None
    rtype, rest = scope.split(":", 1)
    name, actions = rest.rsplit(":", 1)
    return rtype, name, [a for a in actions.split(",") if a]


def split_scopes(values: list[str]) -> list[str]:
    """Scopes from repeated params, each possibly space-separated (ggcr style)."""
    return [s for v in values for s in v.split()]


def granted_actions(grants: dict[str, list[str]], rtype: str, name: str) -> set[str]:
    """Actions granted on (type, name) by a grants table (globs over names)."""
    out: set[str] = set()
    for pattern, actions in grants.items():
        ptype, pname = pattern.split(":", 1) if ":" in pattern else ("repository", pattern)
        # Resource classes ("repository(plugin)") are ignored, as in distribution v3.
        if ptype == rtype.split("(")[0] and fnmatch.fnmatchcase(name, pname):
            out.update(actions)
    return out


def compute_access(users: dict, principal: str, scopes: list[str], empty_entries: bool) -> list[dict]:
    """Intersect requested scopes with the principal's grants (+ anonymous grants)."""
    grants: dict[str, list[str]] = {}
    for who in {principal, ANONYMOUS}:
        for pattern, acts in users.get(who, {}).get("grants", {}).items():
            grants[pattern] = list(grants.get(pattern, [])) + list(acts)
    merged: dict[tuple[str, str], list[str]] = {}
    for scope in scopes:
        parsed = parse_scope(scope)
        if parsed is None:
            continue
        rtype, name, requested = parsed
        have = granted_actions(grants, rtype, name)
        # "*" granted covers every requested action; "*" requested needs "*" granted.
        ok = [a for a in requested if a in have or "*" in have]
        bucket = merged.setdefault((rtype, name), [])
        bucket.extend(a for a in ok if a not in bucket)
    return [{"type": t, "name": n, "actions": acts} for (t, n), acts in merged.items() if acts or empty_entries]


# --------------------------------------------------------------------------- JWT


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign_es256(header: dict, claims: dict, key: ec.EllipticCurvePrivateKey) -> str:
    """Compact JWS with an ES256 raw ``r||s`` signature (RFC 7518 §3.4)."""
    signing_input = (
        _b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + _b64url(json.dumps(claims, separators=(",", ":")).encode())
    )
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return signing_input + "." + _b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def _rfc3339(ts: float) -> str:
    return dt.datetime.fromtimestamp(int(ts), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- HTTP


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like real token services
    # headers and body go out in separate writes: without TCP_NODELAY a kept-alive connection waits ~40 ms for the
    # client's delayed ACK on every token. Real token services set it.
    disable_nagle_algorithm = True
    server_version = "regauth-test-issuer/1.0"
    timeout = 30  # close idle keep-alive connections eventually

    server: LoopbackServer

    def log_message(self, format, *args):  # noqa: A002 - silence stderr logging
        pass

    def do_GET(self):
        self.server.owner._handle(self, "GET")

    def do_POST(self):
        self.server.owner._handle(self, "POST")

    def _other(self):
        self.server.owner._handle(self, self.command)

    do_PUT = do_DELETE = do_PATCH = do_HEAD = _other


def _read_chunked(rfile) -> bytes:
    """An HTTP/1.1 chunked request body (RFC 9112 §7.1); trailers are read and dropped."""
    body = b""
    while True:
        size = int(rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return body
        body += rfile.read(size)
        rfile.readline()  # the CRLF after the chunk


class _BadCredentials(Exception):
    pass


class TokenIssuer:
    """The token service. ``start()`` it, point registries at :meth:`realm_for`."""

    def __init__(
        self,
        signing_key: ec.EllipticCurvePrivateKey,
        *,
        users: dict | None = None,
        issuer: str = ISSUER,
        service: str = SERVICE,
        untrusted_key: ec.EllipticCurvePrivateKey | None = None,
        tls_cert: Path | None = None,
        tls_key: Path | None = None,
    ):
        self.signing_key = signing_key
        self.kid = libtrust_kid(signing_key.public_key())
        self.untrusted_key = untrusted_key or ec.generate_private_key(ec.SECP256R1())
        self.users = users if users is not None else USERS
        self.issuer = issuer
        self.service = service
        self.behaviour = IssuerBehaviour()
        self._tls = (tls_cert, tls_key) if tls_cert and tls_key else None
        self._lock = threading.Lock()
        self._requests: list[TokenRequest] = []
        self._refresh_tokens: dict[str, tuple[str, str]] = {}  # token → (user, service)
        self._listeners: list[Listener] = []
        self.port: int | None = None
        self.https_port: int | None = None

    # ----------------------------------------------------------- lifecycle

    def start(self) -> "TokenIssuer":
        """Start the HTTP (and HTTPS, if configured) listeners on 127.0.0.1."""
        self._listeners.append(Listener(_Handler, self, "token-issuer-http"))
        self.port = self._listeners[-1].port
        if self._tls:
            self._listeners.append(Listener(_Handler, self, "token-issuer-https", self._tls, lazy_handshake=False))
            self.https_port = self._listeners[-1].port
        return self

    def stop(self) -> None:
        """Stop all listeners (idempotent)."""
        for listener in self._listeners:
            listener.stop()
        self._listeners.clear()

    def __enter__(self) -> "TokenIssuer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ----------------------------------------------------------- addresses

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def https_url(self) -> str | None:
        return f"https://127.0.0.1:{self.https_port}" if self.https_port else None

    @property
    def realm(self) -> str:
        """Plain-HTTP realm URL (``…/token``)."""
        return self.url + TOKEN_PATH

    @property
    def https_realm(self) -> str | None:
        return self.https_url + TOKEN_PATH if self.https_url else None

    def realm_for(self, tls: bool) -> str:
        """Realm to configure on a registry: HTTPS for TLS registries when available."""
        return (self.https_realm if tls else None) or self.realm

    # ----------------------------------------------------------- test API

    def reset(self) -> None:
        """Restore the default behaviour (the request log is kept; see :meth:`clear_log`)."""
        self.behaviour = IssuerBehaviour()

    def clear_log(self) -> None:
        with self._lock:
            self._requests.clear()

    @property
    def requests(self) -> list[TokenRequest]:
        """A snapshot of the request log, oldest first."""
        with self._lock:
            return list(self._requests)

    def mark(self) -> int:
        """Position in the log; pass to :meth:`requests_since`."""
        with self._lock:
            return len(self._requests)

    def requests_since(self, mark: int) -> list[TokenRequest]:
        with self._lock:
            return list(self._requests[mark:])

    def discard_since(self, mark: int) -> None:
        """Forget the requests logged after ``mark`` (e.g. fixture seeding traffic)."""
        with self._lock:
            del self._requests[mark:]

    def make_token(
        self,
        subject: str,
        access: list[dict],
        *,
        service: str | None = None,
        behaviour: IssuerBehaviour | None = None,
    ) -> str:
        """Mint a token directly (no HTTP), honouring ``behaviour`` (default: current)."""
        b = behaviour or self.behaviour
        if b.opaque:
            return "opaque-" + secrets.token_urlsafe(24)
        now = int(time.time())
        claims = {
            "iss": b.issuer if b.issuer is not None else self.issuer,
            "sub": subject,
            "aud": b.audience if b.audience is not None else (service if service is not None else self.service),
            "exp": now + b.exp_offset,
            "nbf": now + b.nbf_offset,
            "iat": now,
            "jti": secrets.token_urlsafe(16),
            "access": b.access if b.access is not None else access,
        }
        for name in b.omit_claims:
            claims.pop(name, None)
        key = self.untrusted_key if b.untrusted_key else self.signing_key
        kid = b.kid if b.kid is not None else libtrust_kid(key.public_key())
        header = {"typ": "JWT", "alg": "ES256"}
        if kid:
            header["kid"] = kid
        token = sign_es256(header, claims, key)
        if b.corrupt_signature:
            head, _, sig = token.rpartition(".")
            raw = bytearray(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)))
            raw[0] ^= 0xFF
            token = head + "." + _b64url(bytes(raw))
        return token

    # ----------------------------------------------------------- internals

    def _authenticate(self, user: str | None, password: str | None) -> str:
        """Return the principal for credentials; raise _BadCredentials."""
        entry = self.users.get(user or "")
        if user == ANONYMOUS or not entry or entry.get("password") is None:
            raise _BadCredentials(f"unknown user {user!r}")
        if not secrets.compare_digest(entry["password"], password or ""):
            raise _BadCredentials(f"incorrect password for {user!r}")
        return user  # type: ignore[return-value]

    def _handle(self, h: _Handler, method: str) -> None:
        b = self.behaviour  # one consistent snapshot per request
        url = urllib.parse.urlsplit(h.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        body = b""
        if "Content-Length" in h.headers:
            body = h.rfile.read(int(h.headers["Content-Length"] or 0))
        elif h.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = _read_chunked(h.rfile)  # containers/image (skopeo) POSTs its OAuth2 form chunked
        form = (
            urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True) if method == "POST" else {}
        )
        form1 = {k: v[0] for k, v in form.items()}

        # Decode Basic credentials (if any) without keeping the password.
        basic_user = basic_pass = None
        auth = h.headers.get("Authorization", "")
        basic = auth[:6].lower() == "basic "
        if basic:
            try:
                basic_user, _, basic_pass = base64.b64decode(auth[6:].strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                basic_user, basic_pass = None, None

        grant_type = form1.get("grant_type")
        service = form1.get("service") if method == "POST" else (query.get("service") or [None])[0]
        if method == "POST":
            scopes = split_scopes([form1.get("scope", "")])
        else:
            scopes = split_scopes(query.get("scope", []))
        password = basic_pass if basic else form1.get("password")

        status, payload, ctype, principal = self._respond_for(
            b, method, url.path, query, form1, basic, basic_user, basic_pass, service, scopes
        )

        record = TokenRequest(
            method=method,
            path=url.path,
            scheme=h.server.scheme,
            query=query,
            form_keys=tuple(form),
            form={k: v for k, v in form1.items() if k not in ("password", "refresh_token")},
            basic=basic,
            basic_user=basic_user,
            password_fingerprint=fingerprint(password),
            refresh_token_fingerprint=fingerprint(form1.get("refresh_token")),
            grant_type=grant_type,
            service=service,
            scopes=tuple(scopes),
            principal=principal,
            status=status,
            user_agent=h.headers.get("User-Agent"),
            time=time.time(),
        )
        with self._lock:
            self._requests.append(record)

        if b.delay:
            time.sleep(b.delay)
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(data)))
        if status == 405:
            h.send_header("Allow", "POST" if method == "GET" else "GET, POST")
        h.end_headers()
        if method != "HEAD":
            h.wfile.write(data)

    @staticmethod
    def _error(status: int, code: str, message: str):
        """Registry-style JSON error (``{"errors": [...]}``), as token servers send on 401."""
        return status, {"errors": [{"code": code, "message": message}]}, "application/json", None

    @staticmethod
    def _oauth_error(error: str, description: str):
        """RFC 6749 §5.2 error (400) for malformed OAuth2 POSTs."""
        return 400, {"error": error, "error_description": description}, "application/json", None

    def _respond_for(self, b, method, path, query, form, basic, basic_user, basic_pass, service, scopes):
        """Decide the response: ``(status, payload, content_type, principal)``."""
        if path != TOKEN_PATH:
            return self._error(404, "NOT_FOUND", f"no such endpoint {path}")
        if b.html_body is not None:
            return b.status or 200, b.html_body.encode(), b.body_type, None
        if b.status is not None:
            return self._error(b.status, "FORCED", f"forced status {b.status}")
        if method == "GET" and not b.allow_get:
            return self._error(405, "UNSUPPORTED", "GET not supported, use the OAuth2 POST")
        if method == "POST" and not b.allow_post:
            return 404, b"404 page not found\n", "text/plain; charset=utf-8", None
        if method not in ("GET", "POST"):
            return self._error(405, "UNSUPPORTED", f"method {method} not allowed")

        now = time.time()
        refresh_token = None
        try:
            if method == "GET":
                if basic:
                    principal = self._authenticate(basic_user, basic_pass)
                elif b.require_auth:
                    return self._error(401, "UNAUTHORIZED", "authentication required")
                else:
                    principal = ANONYMOUS
                want_refresh = query.get("offline_token", [""])[0].lower() == "true"
            else:
                grant = form.get("grant_type")
                if b.strict_post and (not form.get("service") or not form.get("client_id")):
                    return self._oauth_error("invalid_request", "service and client_id are required")
                if grant == "password":
                    principal = self._authenticate(form.get("username"), form.get("password"))
                elif grant == "refresh_token":
                    entry = self._refresh_tokens.get(form.get("refresh_token", ""))
                    if entry is None or entry[1] != service:
                        raise _BadCredentials("invalid refresh token")
                    principal = entry[0]
                    refresh_token = form["refresh_token"]  # the same one is handed back
                else:
                    return self._oauth_error("unsupported_grant_type", f"grant_type {grant!r}")
                want_refresh = form.get("access_type") == "offline"
        except _BadCredentials as exc:
            return self._error(401, "UNAUTHORIZED", f"authentication failed: {exc}")

        if want_refresh and principal != ANONYMOUS and refresh_token is None:
            refresh_token = "refresh-" + secrets.token_urlsafe(24)
            with self._lock:
                self._refresh_tokens[refresh_token] = (principal, service or "")
        if not want_refresh:
            refresh_token = None

        access = compute_access(self.users, principal, scopes, b.empty_access_entries)
        token = self.make_token("" if principal == ANONYMOUS else principal, access, service=service or "", behaviour=b)

        field_mode = b.token_field if b.token_field != "auto" else ("both" if method == "GET" else "access_token")
        body: dict[str, Any] = {}
        if field_mode in ("token", "both"):
            body["token"] = token
        if field_mode in ("access_token", "both"):
            body["access_token"] = token
        if b.expires_in is not None:
            body["expires_in"] = b.expires_in
        if b.include_issued_at:
            body["issued_at"] = _rfc3339(now)
        if refresh_token:
            body["refresh_token"] = refresh_token
        if method == "POST":
            body["scope"] = " ".join(
                f"{a['type']}:{a['name']}:{','.join(a['actions'])}" for a in access if a.get("actions")
            )
        return 200, body, "application/json", principal


def decode_jwt_unverified(token: str) -> tuple[dict, dict]:
    """``(header, claims)`` of a compact JWS, without verification (test helper)."""

    def part(s: str) -> dict:
        return json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))

    head, claims, _ = token.split(".")
    return part(head), part(claims)


__all__ = [
    "IssuerBehaviour",
    "TokenIssuer",
    "TokenRequest",
    "compute_access",
    "decode_jwt_unverified",
    "fingerprint",
    "parse_scope",
    "sign_es256",
]
