"""A scriptable reverse proxy in front of a real test registry: the fault-injection tier.

:class:`FaultProxy` listens on ``127.0.0.1:<port>`` (plain HTTP, or TLS with a
:class:`~tests.support.pki.CertPair`) and forwards every request to the
registry behind it, applying the :class:`Rule` objects a test adds. It passes
for a registry in the helpers (``.ref()``, ``.host``, ``.tls``, ``.ca_file``,
``.cert_dir``), so ``pull_check(proxy, …)`` and ``skopeo_inspect(proxy, …)``
work unchanged.

Routing:

* ``/token`` (:attr:`FaultProxy.realm`) is forwarded to the token issuer. With
  ``tokens_via_proxy`` (the default) the registry's realm inside every
  ``WWW-Authenticate`` is rewritten to point here, so token requests and
  replies can be scripted too (``target="token"`` rules);
* everything else goes to the registry;
* absolute-form requests (``GET http://host/…``) make it a forward proxy for
  ``HTTP_PROXY`` tests, and ``CONNECT host:port`` opens a tunnel for
  ``HTTPS_PROXY`` tests (recorded in :attr:`FaultProxy.forwarded`).

Rules match a request by path regex, method, target and an optional
predicate, and can: answer without the upstream (:func:`reply`,
:func:`registry_error`, :func:`html_page`), edit the request before it is
forwarded, and edit the upstream answer (status, body, headers,
``WWW-Authenticate`` fields, arbitrary callables). Every matching rule
applies, in order; the first ``reply`` short-circuits. ``redirect_to`` sends
blob GET/HEAD to an :class:`~tests.support.objectstore.ObjectStore` with a
307, the way registries backed by S3 do.

Every request the proxy sees is recorded in :attr:`FaultProxy.log`.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import select
import socket
import ssl
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Callable

from .loopback import Listener, LoopbackServer
from .pki import CertPair

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te",
              "trailers", "transfer-encoding", "upgrade", "host", "content-length"}
TOKEN_PATH = "/token"
BLOB_PATH = re.compile(r"^/v2/(?P<name>.+)/blobs/(?P<digest>[^/]+)$")
MANIFEST_PATH = re.compile(r"^/v2/(?P<name>.+)/manifests/(?P<reference>[^/]+)$")


# --------------------------------------------------------------------------- messages


@dataclass
class Request:
    """What a client sent to the proxy (editable by rules before forwarding)."""

    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    target: str  # "registry" | "token"
    received_query: str = ""  # the query as the client sent it (rules may edit `query`)

    def header(self, name: str) -> str | None:
        """All fields of that name joined with ", " (clients send Accept several times), or None."""
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return ", ".join(values) if values else None

    def set_header(self, name: str, value: str | None) -> None:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name.lower()]
        if value is not None:
            self.headers.append((name, value))

    @property
    def params(self) -> list[tuple[str, str]]:
        return urllib.parse.parse_qsl(self.query, keep_blank_values=True)

    @params.setter
    def params(self, pairs: list[tuple[str, str]]) -> None:
        self.query = urllib.parse.urlencode(pairs)

    @property
    def authorization(self) -> str | None:
        return self.header("Authorization")

    def bearer_claims(self) -> dict | None:
        """Unverified claims of a Bearer JWT, or None."""
        auth = self.authorization or ""
        if not auth.lower().startswith("bearer "):
            return None
        parts = auth[7:].strip().split(".")
        if len(parts) != 3:
            return None
        try:
            return json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        except ValueError:
            return None


@dataclass
class Response:
    """An answer on its way back to the client (editable by rules)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    reason: str = ""

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def header_list(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def set_header(self, name: str, value: str | list[str] | None) -> None:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name.lower()]
        for v in [value] if isinstance(value, str) else value or []:
            self.headers.append((name, v))

    def json(self) -> Any:
        return json.loads(self.body)

    def set_json(self, data: Any) -> None:
        self.body = json.dumps(data).encode()
        self.set_header("Content-Type", "application/json")


def reply(status: int, body: bytes | str | dict | list = b"", content_type: str | None = None,
          headers: dict[str, str | list[str]] | None = None) -> Response:
    """A canned answer (no upstream request). dict/list bodies become JSON."""
    if isinstance(body, (dict, list)):
        body, content_type = json.dumps(body).encode(), content_type or "application/json"
    elif isinstance(body, str):
        body = body.encode()
    resp = Response(status, [], body)
    if content_type:
        resp.set_header("Content-Type", content_type)
    for k, v in (headers or {}).items():
        resp.set_header(k, v)
    return resp


def registry_error(status: int, code: str, message: str, headers: dict | None = None, detail: Any = None) -> Response:
    """A registry-style JSON error body (`{"errors":[{"code":…,"message":…}]}`)."""
    entry: dict[str, Any] = {"code": code, "message": message}
    if detail is not None:
        entry["detail"] = detail
    return reply(status, {"errors": [entry]}, headers=headers)


def html_page(status: int, title: str, server: str = "nginx/1.25.3") -> Response:
    body = (f"<!DOCTYPE html>\n<html>\n<head><title>{status} {title}</title></head>\n<body>\n<center><h1>{status} "
            f"{title}</h1></center>\n<hr><center>{server}</center>\n</body>\n</html>\n")
    return reply(status, body, "text/html", headers={"Server": server})


# --------------------------------------------------------------------------- rules


@dataclass
class Rule:
    """One scripted fault. Fields left at their default do nothing."""

    path: str = ".*"  # regex searched in the request path (no query)
    methods: tuple[str, ...] = ()  # empty: any method
    target: str = "registry"  # "registry" | "token" | "any"
    when: Callable[[Request], bool] | None = None
    times: int | None = None  # apply at most this many times
    reply: Response | Callable[[Request], Response | None] | None = None
    edit_request: Callable[[Request], None] | None = None
    status: int | None = None
    body: bytes | str | dict | None = None
    headers: dict[str, str | list[str] | None] = field(default_factory=dict)
    challenge: list[str] | Callable[[list[str]], list[str]] | None = None  # WWW-Authenticate fields
    edit_response: Callable[[Request, Response], None] | None = None
    redirect_to: Any = None  # an ObjectStore: blob GET/HEAD → 307 to a presigned URL
    hits: int = 0

    def matches(self, req: Request) -> bool:
        if self.target != "any" and self.target != req.target:
            return False
        if self.methods and req.method not in self.methods:
            return False
        if not re.search(self.path, req.path):
            return False
        if self.times is not None and self.hits >= self.times:
            return False
        return self.when is None or bool(self.when(req))


@dataclass(frozen=True)
class Seen:
    """One request as the proxy saw it (no secrets: only whether Authorization was present)."""

    method: str
    path: str
    query: str  # as the client sent it
    target: str
    authorization: str | None  # the scheme only ("Bearer", "Basic"), or None
    status: int


# --------------------------------------------------------------------------- server


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "regauth-faultproxy/1.0"
    timeout = 30
    server: LoopbackServer

    def log_message(self, format, *args):  # noqa: A002
        pass

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ConnectionError, ssl.SSLError, socket.timeout):
            self.close_connection = True

    def _dispatch(self):
        self.server.owner._handle(self)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

    def do_CONNECT(self):
        self.server.owner._tunnel(self)


class FaultProxy:
    """A reverse proxy with scripted faults in front of ``registry`` (a RegistryProcess)."""

    def __init__(self, registry, *, tls: CertPair | None = None, client_ca: Path | None = None,
                 name: str = "faultproxy"):
        self.registry = registry
        self.tls_pair = tls
        self.client_ca = client_ca
        self.name = name
        self.mode = registry.mode if registry is not None else None
        self.rules: list[Rule] = []
        self.log: list[Seen] = []
        self.forwarded: list[str] = []  # forward-proxy requests and CONNECT tunnels: "GET http://…", "CONNECT h:p"
        self.tokens_via_proxy = True
        self._lock = threading.Lock()
        self._listener: Listener | None = None
        self.port: int | None = None
        self._upstream_ctx = ssl.create_default_context()
        if registry is not None and registry.tls and registry.ca_file:
            self._upstream_ctx.load_verify_locations(cafile=str(registry.ca_file))

    # ----------------------------------------------------------- lifecycle

    def start(self) -> "FaultProxy":
        tls = (self.tls_pair.cert, self.tls_pair.key) if self.tls_pair is not None else None
        self._listener = Listener(_Handler, self, self.name, tls, self.client_ca)
        self.port = self._listener.port
        return self

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.stop()
            self._listener = None

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ----------------------------------------------------------- registry look-alike

    @property
    def tls(self) -> bool:
        return self.tls_pair is not None

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}"

    @property
    def realm(self) -> str:
        return self.url + TOKEN_PATH

    @property
    def ca_file(self) -> Path | None:
        return self.tls_pair.ca if self.tls_pair else None

    @property
    def cert_dir(self) -> Path | None:
        return self.tls_pair.cert_dir if self.tls_pair else None

    @property
    def service(self) -> str | None:
        return getattr(self.registry, "service", None)

    def ref(self, image_path: str) -> str:
        return f"{self.host}/{image_path}"

    # ----------------------------------------------------------- test API

    def add(self, *rules: Rule) -> "FaultProxy":
        with self._lock:
            self.rules.extend(rules)
        return self

    def on(self, path: str = ".*", **kw) -> Rule:
        """Add one rule (keyword arguments as in :class:`Rule`) and return it."""
        rule = Rule(path=path, **kw)
        self.add(rule)
        return rule

    def reset(self) -> None:
        with self._lock:
            self.rules.clear()
            self.log.clear()
            self.forwarded.clear()
        self.tokens_via_proxy = True

    def seen(self, path: str = ".*", method: str | None = None, target: str | None = None) -> list[Seen]:
        with self._lock:
            return [s for s in self.log if re.search(path, s.path) and (method is None or s.method == method)
                    and (target is None or s.target == target)]

    # ----------------------------------------------------------- internals

    def _upstream_realm(self) -> str | None:
        return getattr(self.registry, "realm", None)

    def _upstream_for(self, target: str) -> tuple[str, str, str]:
        """(scheme, host:port, path prefix) of the upstream for a target."""
        if target == "token":
            parts = urllib.parse.urlsplit(self._upstream_realm() or "")
            return parts.scheme, parts.netloc, parts.path[: -len(TOKEN_PATH)] if parts.path.endswith(TOKEN_PATH) \
                else ""
        return self.registry.scheme, self.registry.host, ""

    def _forward(self, scheme: str, hostport: str, method: str, path_query: str, headers: list[tuple[str, str]],
                 body: bytes) -> Response:
        host, _, port = hostport.rpartition(":")
        if scheme == "https":
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(host, int(port), timeout=30,
                                                                           context=self._upstream_ctx)
        else:
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            out = [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP]
            conn.putrequest(method, path_query, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", hostport)
            for k, v in out:
                conn.putheader(k, v)
            if body or method in ("POST", "PUT", "PATCH"):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body or None)
            upstream = conn.getresponse()
            data = upstream.read()
            resp = Response(upstream.status, [(k, v) for k, v in upstream.getheaders()
                                              if k.lower() not in HOP_BY_HOP or
                                              (method == "HEAD" and k.lower() == "content-length")],
                            data, upstream.reason)
            return resp
        finally:
            conn.close()

    def _handle(self, h: _Handler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = _read_chunked(h.rfile)  # containers/image (skopeo) POSTs its OAuth2 form chunked
            del h.headers["Transfer-Encoding"]
        if h.path.startswith(("http://", "https://")):
            return self._forward_proxy(h, body)
        split = urllib.parse.urlsplit(h.path)
        target = "token" if split.path == TOKEN_PATH else "registry"
        req = Request(h.command, split.path, split.query, list(h.headers.items()), body, target, split.query)
        with self._lock:
            rules = [r for r in self.rules if r.matches(req)]
            for r in rules:
                r.hits += 1
        resp: Response | None = None
        for rule in rules:
            if rule.reply is not None:
                resp = rule.reply(req) if callable(rule.reply) else _copy(rule.reply)
                if resp is not None:
                    break
        if resp is None:
            for rule in rules:
                if rule.edit_request:
                    rule.edit_request(req)
            redirect = next((r.redirect_to for r in rules if r.redirect_to is not None), None)
            if redirect is not None and req.method in ("GET", "HEAD") and BLOB_PATH.match(req.path):
                resp = self._redirect_blob(req, redirect)
            else:
                scheme, hostport, prefix = self._upstream_for(req.target)
                path_query = prefix + req.path + (f"?{req.query}" if req.query else "")
                try:
                    resp = self._forward(scheme, hostport, req.method, path_query, req.headers, req.body)
                except OSError as e:
                    resp = reply(502, f"fault proxy: upstream {hostport} failed: {e}\n", "text/plain")
            self._rewrite_realm(resp)
            for rule in rules:
                _apply(rule, req, resp)
        self._send(h, req, resp)

    def _rewrite_realm(self, resp: Response) -> None:
        upstream = self._upstream_realm()
        if not (self.tokens_via_proxy and upstream):
            return
        fields = resp.header_list("WWW-Authenticate")
        if fields:
            resp.set_header("WWW-Authenticate", [f.replace(upstream, self.realm) for f in fields])

    def _redirect_blob(self, req: Request, store) -> Response:
        scheme, hostport, _ = self._upstream_for("registry")
        path_query = req.path + (f"?{req.query}" if req.query else "")
        upstream = self._forward(scheme, hostport, "GET", path_query, req.headers, b"")
        if upstream.status != 200:
            if req.method == "HEAD":
                upstream.set_header("Content-Length", str(len(upstream.body)))
                upstream.body = b""
            return upstream
        digest = BLOB_PATH.match(req.path)["digest"]  # type: ignore[index]
        location = store.put(upstream.body, method=req.method, name=digest.replace(":", "/"))
        resp = reply(307, b"" if req.method == "HEAD" else f'<a href="{location}">Temporary Redirect</a>.\n',
                     "text/html; charset=utf-8", headers={"Location": location})
        return resp

    def _send(self, h: _Handler, req: Request, resp: Response) -> None:
        auth = req.authorization
        seen = Seen(req.method, req.path, req.received_query, req.target, auth.split(" ", 1)[0] if auth else None,
                    resp.status)
        with self._lock:
            self.log.append(seen)
        h.log_request(resp.status)
        h.send_response_only(resp.status, resp.reason or None)
        names = {k.lower() for k, _ in resp.headers}
        if "date" not in names:
            h.send_header("Date", h.date_time_string())
        if "server" not in names:
            h.send_header("Server", h.version_string())
        has_length = False
        for k, v in resp.headers:
            if k.lower() == "content-length":
                if req.method != "HEAD":
                    continue
                has_length = True
            h.send_header(k, v)
        if req.method != "HEAD" or not has_length:
            h.send_header("Content-Length", str(len(resp.body)))
        h.end_headers()
        if req.method != "HEAD" and resp.status not in (204, 304):
            h.wfile.write(resp.body)

    def _forward_proxy(self, h: _Handler, body: bytes) -> None:
        """Absolute-form request: act as a plain forward proxy (HTTP_PROXY)."""
        parts = urllib.parse.urlsplit(h.path)
        with self._lock:
            self.forwarded.append(f"{h.command} {parts.scheme}://{parts.netloc}{parts.path}")
        headers = [(k, v) for k, v in h.headers.items() if not k.lower().startswith("proxy-")]
        try:
            resp = self._forward(parts.scheme, parts.netloc, h.command,
                                 parts.path + (f"?{parts.query}" if parts.query else ""), headers, body)
        except OSError as e:
            resp = reply(502, f"fault proxy: {parts.netloc} failed: {e}\n", "text/plain")
        req = Request(h.command, parts.path, parts.query, headers, body, "forward")
        self._send(h, req, resp)

    def _tunnel(self, h: _Handler) -> None:
        """CONNECT host:port: relay bytes both ways (HTTPS_PROXY)."""
        with self._lock:
            self.forwarded.append(f"CONNECT {h.path}")
        host, _, port = h.path.rpartition(":")
        try:
            upstream = socket.create_connection((host, int(port)), timeout=10)
        except OSError:
            h.send_response(502)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        h.send_response(200, "Connection established")
        h.end_headers()
        h.wfile.flush()
        client = h.connection
        sockets = [client, upstream]
        try:
            while True:
                readable, _, _ = select.select(sockets, [], [], 30)
                if not readable:
                    break
                for s in readable:
                    data = s.recv(65536)
                    if not data:
                        return
                    (upstream if s is client else client).sendall(data)
        except OSError:
            pass
        finally:
            upstream.close()
            h.close_connection = True


def _read_chunked(rfile) -> bytes:
    body = b""
    while True:
        size = int(rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return body
        body += rfile.read(size)
        rfile.readline()


def _copy(resp: Response) -> Response:
    return Response(resp.status, list(resp.headers), resp.body, resp.reason)


def _apply(rule: Rule, req: Request, resp: Response) -> None:
    if rule.status is not None:
        resp.status, resp.reason = rule.status, ""
    if rule.body is not None:
        if isinstance(rule.body, (dict, list)):
            resp.set_json(rule.body)
        else:
            resp.body = rule.body.encode() if isinstance(rule.body, str) else rule.body
    for k, v in rule.headers.items():
        resp.set_header(k, v)
    if rule.challenge is not None:
        fields = resp.header_list("WWW-Authenticate")
        resp.set_header("WWW-Authenticate", rule.challenge(fields) if callable(rule.challenge) else rule.challenge)
    if rule.edit_response:
        rule.edit_response(req, resp)


# --------------------------------------------------------------------------- helpers for rules


def edit_challenge(fn: Callable[[str], str]) -> Callable[[list[str]], list[str]]:
    """A `challenge=` callable applying ``fn`` to each WWW-Authenticate field."""
    return lambda fields: [fn(f) for f in fields]


def challenge_params(field_value: str) -> dict[str, str]:
    """Quoted params of a distribution-style challenge (for building rewritten ones in tests)."""
    return dict(re.findall(r'(\w+)="([^"]*)"', field_value))


def silent_listener() -> tuple[socket.socket, int]:
    """A socket that accepts TCP connections (kernel backlog) and never answers: for timeouts.

    Returns ``(socket, port)``; close the socket to stop it."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    return s, s.getsockname()[1]
