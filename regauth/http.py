"""The one HTTP layer every step uses.

- one pooled httpx client per TLS configuration, shared by every check in a run;
- credentials are bound to the origin they belong to (`Auth`), so Authorization is never sent anywhere else,
  redirects included;
- redirects are followed by hand so each hop is visible (host, status, whether Authorization went with it);
- every body read is capped; every exchange is recorded (already redacted) for the report and `--trace`;
- network failures become a `TransportError` with a diagnosis-ready kind, never a raw exception.
"""

from __future__ import annotations

import errno
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import urljoin, urlsplit

import httpx

from regauth import __version__, redact
from regauth.errors import InputError
from regauth.report import Exchange

USER_AGENT = f"regauth/{__version__}"
MAX_REDIRECTS = 10
BODY_CAP = 4 * 1024 * 1024  # manifests
SMALL_CAP = 256 * 1024  # token replies, error bodies, pings
TRACE_BODY_CAP = 4096
DEFAULT_CERTS_DIRS = (Path("/etc/docker/certs.d"), Path("/etc/containers/certs.d"))
PRESIGN_MARKERS = ("x-amz-signature", "x-goog-signature", "sig=", "signature=", "x-amz-credential")


def origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, (parts.hostname or "").lower(), port


def host_port(url: str) -> str:
    """`host[:port]` as written in the URL (the name certificate directories use)."""
    return urlsplit(url).netloc.rpartition("@")[2]


@dataclass(frozen=True)
class Auth:
    """An Authorization header value bound to one origin."""

    header: str
    origin: tuple[str, str, int]
    scheme: str  # "Basic" | "Bearer"

    @classmethod
    def for_url(cls, url: str, scheme: str, credentials: str) -> Auth:
        return cls(header=f"{scheme} {credentials}", origin=origin(url), scheme=scheme)


@dataclass
class TransportConfig:
    plain_http: bool = False
    insecure: bool = False
    ca_file: Path | None = None
    certs_dirs: tuple[Path, ...] = DEFAULT_CERTS_DIRS
    timeout: float = 15.0
    show_secrets: bool = False


@dataclass
class Hop:
    url: str
    status: int | None
    host: str
    authorization_sent: bool
    presigned: bool

    def to_json(self, show: bool = False) -> dict:
        return {"url": redact.url(self.url, show), "status": self.status, "host": self.host,
                "authorization_sent": self.authorization_sent, "presigned": self.presigned}


@dataclass
class Response:
    status: int
    headers: httpx.Headers
    body: bytes
    url: str
    truncated: bool = False
    hops: list[Hop] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    elapsed_ms: float = 0.0

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self) -> object:
        import json

        return json.loads(self.body)


class TransportError(Exception):
    """A request that got no HTTP answer. `kind` is the diagnosis cause (refused, dns, tls-unknown-ca, …)."""

    def __init__(self, kind: str, detail: str, url: str, exchanges: list[Exchange] | None = None):
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.url = url
        self.exchanges = exchanges or []


def classify(exc: BaseException) -> tuple[str, str]:
    """Map an httpx/ssl/socket failure to (kind, one-line detail)."""
    chain: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in chain:
        chain.append(cur)
        cur = cur.__cause__ or cur.__context__
    text = " | ".join(dict.fromkeys(str(e) for e in chain if str(e)))
    for e in chain:
        if isinstance(e, ssl.SSLCertVerificationError):
            msg = e.verify_message or str(e)
            low = msg.lower()
            if "hostname mismatch" in low or "ip address mismatch" in low:
                return "tls-hostname", msg
            if "expired" in low or "not yet valid" in low:
                return "tls-expired", msg
            return "tls-unknown-ca", msg
    low = text.lower()
    if "wrong_version_number" in low or "record layer failure" in low or "packet_length_too_long" in low \
            or "http_request" in low or "unexpected eof while reading" in low and "ssl" in low:
        return "tls-on-plain-http", text
    for e in chain:
        if isinstance(e, socket.gaierror) or "name or service not known" in str(e).lower() \
                or "temporary failure in name resolution" in str(e).lower() or "nodename nor servname" in str(e):
            return "dns", str(e)
        if isinstance(e, ConnectionRefusedError) or getattr(e, "errno", None) == errno.ECONNREFUSED:
            return "refused", str(e)
    if isinstance(exc, httpx.TimeoutException):
        return "timeout", f"{type(exc).__name__}: no answer in time"
    if "connection refused" in low:
        return "refused", text
    if isinstance(exc, ssl.SSLError) or "ssl" in low:
        return "tls-failed", text
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
        return "protocol", text or type(exc).__name__
    return "connect-failed", text or type(exc).__name__


class Http:
    """Shared by every check of one run (thread-safe)."""

    def __init__(self, config: TransportConfig, on_exchange: Callable[[Exchange], None] | None = None):
        self.config = config
        self.on_exchange = on_exchange
        self._clients: dict[tuple, httpx.Client] = {}
        self._lock = threading.Lock()
        self.tls_notes: dict[str, list[str]] = {}

    # --- TLS -----------------------------------------------------------------------------------------------
    def _certs_for(self, hostport: str) -> tuple[list[Path], list[tuple[Path, Path]], list[str]]:
        """Docker-style per-registry files: *.crt (CA), *.cert + *.key (client pair); problems as notes."""
        cas: list[Path] = []
        pairs: list[tuple[Path, Path]] = []
        notes: list[str] = []
        for root in self.config.certs_dirs:
            folder = root / hostport
            if not folder.is_dir():
                continue
            for f in sorted(folder.iterdir()):
                if f.suffix == ".crt":
                    cas.append(f)
                elif f.suffix == ".cert":
                    key = f.with_suffix(".key")
                    if key.exists():
                        pairs.append((f, key))
                    else:
                        notes.append(f"missing key {key.name} for client certificate {f}")
                elif f.suffix == ".key" and not f.with_suffix(".cert").exists():
                    notes.append(f"missing client certificate for key {f}")
            break  # the first directory that exists wins, as in containers/image
        return cas, pairs, notes

    def _client(self, url: str) -> httpx.Client:
        scheme = urlsplit(url).scheme
        hostport = host_port(url)
        if scheme == "https":
            cas, pairs, notes = self._certs_for(hostport)
            key: tuple = ("https", self.config.insecure, self.config.ca_file, tuple(cas), tuple(pairs))
        else:
            cas, pairs, notes, key = [], [], [], ("http",)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                verify: ssl.SSLContext | bool = True
                if scheme == "https":
                    verify = self._ssl_context(cas, pairs)
                client = httpx.Client(verify=verify, timeout=self.config.timeout, follow_redirects=False,
                                      headers={"User-Agent": USER_AGENT}, trust_env=True,
                                      limits=httpx.Limits(max_connections=64, max_keepalive_connections=32))
                self._clients[key] = client
            if cas or pairs or notes:
                self.tls_notes[hostport] = [f"CA {c}" for c in cas] + [f"client cert {c}" for c, _ in pairs] + notes
        return client

    def _ssl_context(self, cas: Iterable[Path], pairs: Iterable[tuple[Path, Path]]) -> ssl.SSLContext:
        ctx = ssl.create_default_context()
        if self.config.insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        try:
            if self.config.ca_file:
                ctx.load_verify_locations(cafile=str(self.config.ca_file))
            for ca in cas:
                ctx.load_verify_locations(cafile=str(ca))
            for cert, key in pairs:
                ctx.load_cert_chain(str(cert), str(key))
        except (ssl.SSLError, OSError) as e:
            raise InputError(f"cannot load certificate: {e}") from None
        return ctx

    # --- requests ------------------------------------------------------------------------------------------
    def request(self, method: str, url: str, *, headers: dict[str, str] | None = None, auth: Auth | None = None,
                data: dict[str, str] | None = None, cap: int = SMALL_CAP, follow: bool = True) -> Response:
        """Send one request, following redirects by hand; Authorization only ever goes to `auth.origin`."""
        hops: list[Hop] = []
        exchanges: list[Exchange] = []
        started = time.perf_counter()
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            send_auth = auth is not None and origin(current) == auth.origin
            hdrs = dict(headers or {})
            if send_auth:
                hdrs["Authorization"] = auth.header
            status, resp_headers, body, truncated, exchange = self._send(method, current, hdrs, data, cap,
                                                                          exchanges)
            exchanges.append(exchange)
            if self.on_exchange:
                self.on_exchange(exchange)
            low = current.lower()
            hops.append(Hop(current, status, host_port(current), send_auth,
                            any(m in low for m in PRESIGN_MARKERS)))
            location = resp_headers.get("location")
            if follow and status in (301, 302, 303, 307, 308) and location:
                target = urljoin(current, location)
                if urlsplit(current).scheme == "https" and urlsplit(target).scheme == "http":
                    raise TransportError("redirect-downgrade",
                                         f"refused redirect from https to http ({host_port(target)})", target,
                                         exchanges)
                if status == 303 or (status in (301, 302) and method == "POST"):
                    method, data = "GET", None
                current = target
                continue
            return Response(status, resp_headers, body, current, truncated, hops, exchanges,
                            (time.perf_counter() - started) * 1000)
        raise TransportError("redirect-loop", f"more than {MAX_REDIRECTS} redirects", current, exchanges)

    def _send(self, method: str, url: str, headers: dict[str, str], data: dict[str, str] | None, cap: int,
              exchanges: list[Exchange]):
        show = self.config.show_secrets
        t0 = time.perf_counter()
        wall = time.time()
        try:
            client = self._client(url)
            request = client.build_request(method, url, headers=headers, data=data)
            response = client.send(request, stream=True)
            try:
                chunks: list[bytes] = []
                size = 0
                truncated = False
                if method != "HEAD":
                    for chunk in response.iter_raw():
                        chunks.append(chunk)
                        size += len(chunk)
                        if size > cap:
                            truncated = True
                            break
                body = b"".join(chunks)[:cap]
                if response.headers.get("content-encoding") and not truncated:
                    body = _decode(body, response.headers["content-encoding"])
            finally:
                response.close()
        except httpx.HTTPError as e:
            kind, detail = classify(e)
            ex = Exchange(method, redact.url(url, show), None, (time.perf_counter() - t0) * 1000,
                          redact.headers(list(headers.items()), show), error=f"{kind}: {detail}", started=wall)
            if self.on_exchange:
                self.on_exchange(ex)
            raise TransportError(kind, detail, url, exchanges + [ex]) from None
        req_body = request.content.decode("utf-8", "replace") if request.content else None
        ctype = response.headers.get("content-type", "")
        exchange = Exchange(
            method=method, url=redact.url(url, show), status=response.status_code,
            duration_ms=(time.perf_counter() - t0) * 1000,
            request_headers=redact.headers(list(request.headers.items()), show),
            response_headers=redact.headers(list(response.headers.items()), show),
            request_body=redact.body(req_body, request.headers.get("content-type", ""), show),
            response_body=redact.body(body[:TRACE_BODY_CAP].decode("utf-8", "replace"), ctype, show)
            if body else None,
            started=wall)
        return response.status_code, response.headers, body, truncated, exchange

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()


def _decode(body: bytes, encoding: str) -> bytes:
    import zlib

    try:
        if encoding == "gzip":
            return zlib.decompress(body, 16 + zlib.MAX_WBITS)
        if encoding == "deflate":
            return zlib.decompress(body)
    except zlib.error:
        return body
    return body
