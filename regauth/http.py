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
from typing import Callable, Iterable, Sequence
from urllib.parse import urljoin, urlsplit

import httpx

from regauth import __version__, deadline, redact
from regauth.errors import InputError
from regauth.report import Exchange

USER_AGENT = f"regauth/{__version__}"
MAX_REDIRECTS = 10
BODY_CAP = 4 * 1024 * 1024  # manifests
SMALL_CAP = 256 * 1024  # token replies, error bodies, pings
TRACE_BODY_CAP = 4096
DEFAULT_CERTS_DIRS = (Path("/etc/docker/certs.d"), Path("/etc/containers/certs.d"))
ACCEPT_ENCODING = "gzip, deflate"  # only what _BodyDecoder decodes with a cap
PRESIGN_MARKERS = ("x-amz-signature", "x-goog-signature", "sig=", "signature=", "x-amz-credential")
# TLS 1.2 suites: exactly Go's defaults (crypto/tls; containerd, docker and skopeo are Go): ECDHE with AES-GCM,
# ChaCha20-Poly1305 or AES-CBC-SHA. Python's own default differs both ways (no CBC-SHA, but CBC-SHA256 and DHE),
# which made regauth fail registries docker, containerd and skopeo pull from, and pass some that they refuse.
GO_CIPHERS = ("ECDHE+AESGCM:ECDHE+CHACHA20:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:"
              "ECDHE-RSA-AES256-SHA:!aNULL:!eNULL")


def origin(url: str) -> tuple[str, str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:  # a malformed URL (bad IPv6 literal, port out of range) is nobody's origin
        return "", "", -1
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


@dataclass(eq=False)
class TransportConfig:
    """How to talk to registries: TLS settings, timeouts, redaction."""

    plain_http: bool = False
    insecure: bool = False
    ca_file: Path | None = None
    certs_dirs: tuple[Path, ...] = DEFAULT_CERTS_DIRS
    timeout: float = 15.0
    show_secrets: bool = False
    deadline: float | None = None  # seconds for a whole check (see regauth.deadline); None: no limit


@dataclass(eq=False)
class Hop:
    """One request of a redirect chain, and whether Authorization went with it."""

    url: str
    status: int | None
    host: str
    authorization_sent: bool
    presigned: bool

    def to_json(self, show: bool = False) -> dict:
        return {"url": redact.url(self.url, show), "status": self.status, "host": self.host,
                "authorization_sent": self.authorization_sent, "presigned": self.presigned}


@dataclass(eq=False)
class Response:
    """A finished request: the last hop's answer (body read up to its cap), every hop and exchange."""

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
        """The body as JSON; ValueError when it is not JSON (or nested too deeply to decode)."""
        import json

        try:
            return json.loads(self.body)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


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
    if "certificate required" in low or "certificate_required" in low or "alert bad certificate" in low \
            or "alert_bad_certificate" in low:
        return "tls-client-cert", text
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
        self._routes: dict[tuple[str, str], httpx.Client] = {}  # (scheme, netloc) → client
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
        parts = urlsplit(url)
        route = (parts.scheme, parts.netloc)
        client = self._routes.get(route)  # the hot path: certs.d is looked at once per host, not per request
        if client is None:
            client = self._routes[route] = self._new_route(parts.scheme, host_port(url))
        return client

    def _new_route(self, scheme: str, hostport: str) -> httpx.Client:
        if scheme == "https":
            cas, pairs, notes = self._certs_for(hostport)
            key: tuple = ("https", self.config.insecure, self.config.ca_file, tuple(cas), tuple(pairs))
        else:
            cas, pairs, notes, key = [], [], [], ("http",)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                # plain http: TLS only ever happens with an https:// proxy — without one, skip loading a CA store
                verify: ssl.SSLContext | bool = _https_proxy_configured()
                if scheme == "https":
                    verify = self._ssl_context(cas, pairs)
                client = httpx.Client(verify=verify, timeout=self.config.timeout, follow_redirects=False,
                                      headers={"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING},
                                      trust_env=True,
                                      limits=httpx.Limits(max_connections=64, max_keepalive_connections=32))
                self._clients[key] = client
            if cas or pairs or notes:
                self.tls_notes[hostport] = [f"CA {c}" for c in cas] + [f"client cert {c}" for c, _ in pairs] + notes
        return client

    def _ssl_context(self, cas: Iterable[Path], pairs: Iterable[tuple[Path, Path]]) -> ssl.SSLContext:
        from regauth.trust import default_context

        ctx = default_context()  # TLS 1.2 minimum, as Go clients
        ctx.set_ciphers(GO_CIPHERS)
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
    def request(self, method: str, url: str, *, headers: dict[str, str] | None = None,
                auth: Auth | Sequence[Auth] | None = None, data: dict[str, str] | None = None, cap: int = SMALL_CAP,
                follow: bool = True, trust: str | None = None) -> Response:
        """Send one request, following redirects by hand; each Authorization only ever goes to its own origin.

        TLS is verified with the settings (certs.d CAs, client pair) of `trust` (default: `url`) for every hop,
        as docker, containerd and containers/image do: one transport per registry, redirect targets included."""
        auths = [auth] if isinstance(auth, Auth) else [a for a in (auth or ()) if a is not None]
        trust = trust or url
        hops: list[Hop] = []
        exchanges: list[Exchange] = []
        started = time.perf_counter()
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            chosen = next((a for a in auths if origin(current) == a.origin), None)
            send_auth = chosen is not None
            hdrs = dict(headers or {})
            if chosen is not None:
                hdrs["Authorization"] = chosen.header
            status, resp_headers, body, truncated, exchange = self._send(method, current, hdrs, data, cap,
                                                                          exchanges, trust)
            exchanges.append(exchange)
            if self.on_exchange:
                self.on_exchange(exchange)
            low = current.lower()
            hops.append(Hop(current, status, host_port(current), send_auth,
                            any(m in low for m in PRESIGN_MARKERS)))
            location = resp_headers.get("location")
            if follow and status in (301, 302, 303, 307, 308) and location:
                try:
                    target = urljoin(current, location)
                    origin_ok = origin(target)[0] in ("http", "https") and bool(urlsplit(target).hostname)
                except ValueError:
                    origin_ok = False
                if not origin_ok:
                    raise TransportError("redirect-invalid", f"the redirect Location {location[:200]!r} is not an "
                                         "http(s) URL regauth can follow", current, exchanges)
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
              exchanges: list[Exchange], trust: str | None = None):
        show = self.config.show_secrets
        recorded = self.on_exchange is not None  # headers and bodies are redacted only for a trace or HAR
        t0 = time.perf_counter()
        wall = time.time()
        left = deadline.remaining()
        bounded = left is not None and left < self.config.timeout  # the deadline, not --timeout, limits this one
        response: httpx.Response | None = None
        wait_ms: float | None = None
        try:
            if left is not None and left <= 0:
                raise _DeadlinePassed()
            client = self._client(trust if trust and url.startswith("https:") and trust.startswith("https:")
                                  else url)
            request = client.build_request(method, url, headers=headers, data=data,
                                           timeout=max(left, 0.001) if bounded else httpx.USE_CLIENT_DEFAULT)
            response = client.send(request, stream=True)
            wait_ms = (time.perf_counter() - t0) * 1000
            try:
                # read to the end even for HEAD (no body): only a finished response leaves the connection reusable
                body, size, truncated = _read_body(response, cap)
            finally:
                response.close()
        except (httpx.HTTPError, httpx.InvalidURL, _DeadlinePassed) as e:
            if isinstance(e, _DeadlinePassed) or deadline.expired() or (bounded and
                                                                        isinstance(e, httpx.TimeoutException)):
                kind, detail = "deadline", deadline.describe()
            elif response is not None:  # the headers came, the body did not
                kind, detail = ("timeout", f"{type(e).__name__}: the body stopped arriving") \
                    if isinstance(e, httpx.TimeoutException) else ("reset", classify(e)[1])
            else:
                kind, detail = classify(e)
            ex = Exchange(method, redact.url(url, show), response.status_code if response is not None else None,
                          (time.perf_counter() - t0) * 1000,
                          redact.headers(list(headers.items()), show) if recorded else [],
                          redact.headers(list(response.headers.items()), show)
                          if recorded and response is not None else [],
                          error=f"{kind}: {detail}", started=wall, wait_ms=wait_ms,
                          http_version=response.http_version if response is not None else "",
                          reason=response.reason_phrase if response is not None else "")
            if self.on_exchange:
                self.on_exchange(ex)
            raise TransportError(kind, detail, url, exchanges + [ex]) from None
        exchange = Exchange(
            method=method, url=redact.url(url, show), status=response.status_code,
            duration_ms=(time.perf_counter() - t0) * 1000, started=wall, http_version=response.http_version,
            reason=response.reason_phrase, response_size=size, truncated=truncated, wait_ms=wait_ms,
            request_body_size=len(request.content or b""))
        if recorded:
            _record_full(exchange, request, response, body, show)
        return response.status_code, response.headers, body, truncated, exchange

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()
            self._routes.clear()


def _https_proxy_configured() -> bool:
    """Whether the environment sends plain-http requests through an https:// proxy (as httpx reads it)."""
    import urllib.request

    proxies = urllib.request.getproxies()
    return any(str(proxies.get(k, "")).lower().startswith("https://") for k in ("http", "all"))


class _DeadlinePassed(Exception):
    """The check's deadline passed before or while this request ran."""


class _BodyDecoder:
    """Content-Encoding gzip/deflate decoded incrementally, never producing more than asked for (no gzip bomb
    can make regauth allocate more than the cap). Unknown encodings pass through undecoded."""

    def __init__(self, encoding: str):
        import zlib

        self._zlib = zlib
        self.encoding = encoding.strip().lower()
        self._raw_deflate = False
        self._obj = self._new()
        self.failed = False

    def _new(self):
        zlib = self._zlib
        if self.encoding in ("gzip", "x-gzip"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        if self.encoding == "deflate":
            return zlib.decompressobj(-zlib.MAX_WBITS if self._raw_deflate else zlib.MAX_WBITS)
        return None

    def feed(self, chunk: bytes, room: int) -> bytes:
        """Decode `chunk`, returning at most `room` bytes (the rest of the input is dropped: the body is capped)."""
        if self._obj is None or self.failed:
            return chunk[:room]
        try:
            out = self._obj.decompress(chunk, room)
            while self._obj.eof and self._obj.unused_data and len(out) < room:  # a multi-member gzip stream
                rest = self._obj.unused_data
                self._obj = self._new()
                out += self._obj.decompress(rest, room - len(out))
            return out
        except self._zlib.error:
            if self.encoding == "deflate" and not self._raw_deflate:  # servers that send raw deflate
                self._raw_deflate = True
                self._obj = self._new()
                return self.feed(chunk, room)
            self.failed = True  # corrupt: keep the raw bytes, as a client would show them
            return chunk[:room]


def _read_body(response: httpx.Response, cap: int) -> tuple[bytes, int, bool]:
    """(body, bytes read after decoding, truncated): at most `cap` bytes; the rest is never read or decoded."""
    decoder = _BodyDecoder(response.headers.get("content-encoding", ""))
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_raw():
        if deadline.expired():
            raise _DeadlinePassed()
        data = decoder.feed(chunk, cap + 1 - size)
        chunks.append(data)
        size += len(data)
        if size > cap:
            return b"".join(chunks)[:cap], size, True
    return b"".join(chunks), size, False


def _record_full(exchange: Exchange, request: httpx.Request, response: httpx.Response, body: bytes,
                 show: bool) -> None:
    """Fill in what only --trace and the HAR show: both sides' headers and bodies, redacted."""
    req_body = request.content.decode("utf-8", "replace") if request.content else None
    exchange.request_headers = redact.headers(list(request.headers.items()), show)
    exchange.response_headers = redact.headers(list(response.headers.items()), show)
    exchange.request_body = redact.body(req_body, request.headers.get("content-type", ""), show)
    exchange.response_body = _trace_body(body, response.headers.get("content-type", ""), show)


def _trace_body(body: bytes, content_type: str, show: bool) -> str | None:
    """What --trace and the HAR show of a body: redacted as a whole first, then cut to TRACE_BODY_CAP."""
    if not body:
        return None
    if b"\x00" in body[:1024]:
        return f"({len(body)} bytes of binary data)"
    text = redact.printable(redact.body(body.decode("utf-8", "replace"), content_type, show) or "")
    return text if len(text) <= TRACE_BODY_CAP else text[:TRACE_BODY_CAP] + f"… ({len(text)} characters in all)"


# --- transport diagnostics (used by steps to explain a failure; never on the happy path) --------------------------

def proxy_for(url: str, show: bool = False) -> str | None:
    """The proxy httpx would use for this URL, from the environment (None when direct), its password redacted
    unless `show`: what is left names the proxy, however short the password (too short for the last-line scrub)."""
    import urllib.request

    proxies = urllib.request.getproxies()
    if not proxies:
        return None
    host = (urlsplit(url).hostname or "").lower()
    if urllib.request.proxy_bypass_environment(host, proxies):
        return None
    proxy = proxies.get(urlsplit(url).scheme) or proxies.get("all")
    return redact.url(proxy, show) if proxy else None


def resolves(host: str) -> str | None:
    """None when `host` resolves, else the resolver's error text."""
    try:
        socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError) as e:
        return str(e)
    return None


def peer_certificate(url: str, timeout: float = 5.0) -> dict | None:
    """What the server at `url` presents, read without verifying (to explain a verification failure).

    Returns subject CN, SANs, issuer, validity and the IP connected to; None when it cannot be read."""
    from cryptography import x509

    _, host, port = origin(url)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            ip = raw.getpeername()[0]
            sni = None if _is_ip(host) else host
            with ctx.wrap_socket(raw, server_hostname=sni) as tls:
                der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError, ValueError):
        return None
    if not der:
        return None
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return None

    def cn(name: x509.Name) -> str:
        attrs = name.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        return str(attrs[0].value) if attrs else ""

    sans: list[str] = []
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        sans = [str(n) for n in ext.get_values_for_type(x509.DNSName)] + \
               [str(n) for n in ext.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        pass
    return {"subject_cn": cn(cert.subject), "sans": sans, "issuer": cn(cert.issuer) or cert.issuer.rfc4514_string(),
            "not_before": cert.not_valid_before_utc.strftime("%Y-%m-%d %H:%M UTC"),
            "not_after": cert.not_valid_after_utc.strftime("%Y-%m-%d %H:%M UTC"), "ip": ip}


def negotiated_tls(url: str, timeout: float = 5.0) -> tuple[str, str] | None:
    """(protocol version, cipher suite) the server at `url` settles on with a client that offers everything OpenSSL
    can (TLS 1.0 and up, every suite), unverified: to explain a handshake the real client could not complete."""
    import warnings

    _, host, port = origin(url)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    except (ValueError, ssl.SSLError):
        pass
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            with ctx.wrap_socket(raw, server_hostname=None if _is_ip(host) else host) as tls:
                cipher = tls.cipher()
                return tls.version() or "", cipher[0] if cipher else ""
    except (OSError, ssl.SSLError, ValueError):
        return None


def client_offers(cipher: str) -> bool:
    """Whether regauth (like Go clients) offers this suite (OpenSSL name; TLS 1.3 suites always)."""
    ctx = ssl.create_default_context()
    ctx.set_ciphers(GO_CIPHERS)
    return cipher in {c["name"] for c in ctx.get_ciphers()}


def plain_http_answer(url: str, timeout: float = 5.0) -> str | None:
    """Send a plain-HTTP request to the host:port of `url`; return the status line if an HTTP server answers."""
    _, host, port = origin(url)
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(f"GET /v2/ HTTP/1.1\r\nHost: {host_port(url)}\r\nUser-Agent: {USER_AGENT}\r\n"
                      "Connection: close\r\n\r\n".encode())
            data = s.recv(256)
    except OSError:
        return None
    line = data.split(b"\r\n", 1)[0].decode("latin-1", "replace")
    return line if line.startswith("HTTP/") else None


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def certs_dir_report(roots: Iterable[Path], hostport: str) -> list[str]:
    """What the docker-style certificate directories hold for `hostport`, and near misses (wrong or missing port)."""
    host = hostport.rsplit(":", 1)[0] if not hostport.endswith("]") else hostport
    notes: list[str] = []
    for root in roots:
        try:
            if not root.is_dir():
                continue
            if (root / hostport).is_dir():
                files = sorted(f.name for f in (root / hostport).iterdir())
                notes.append(f"certs.d: {root / hostport} holds {', '.join(files) or 'nothing'}")
                continue
            for d in sorted(root.iterdir()):
                if d.is_dir() and d.name != hostport and (d.name == host or d.name.startswith(host + ":")):
                    notes.append(f"{d} exists but the registry is {hostport}: docker looks only in "
                                 f"{root / hostport} and ignores {d.name}/ (the directory name must be exactly "
                                 "host:port)")
        except OSError:
            continue
    return notes
