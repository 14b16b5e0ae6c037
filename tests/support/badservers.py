"""Misbehaving HTTP servers for transport-fault tests: raw sockets and threads on 127.0.0.1.

A :class:`BadServer` accepts connections, reads one request per connection and hands it to a *handler* that
writes whatever bytes it likes (or none), resets the connection, stalls, or streams a gigabyte lazily. Every
response closes the connection, so each request regauth makes arrives on a fresh one.

Stalling handlers wait on the server's stop event, so :meth:`BadServer.stop` ends every thread promptly;
:attr:`BadServer.threads_alive` lets a test prove that nothing is left running.

Handlers (``Handler = Callable[[Request, Conn], None]``) are built by the helpers at the bottom::

    server = BadServer(route({"/v2/": reset_mid_body(), "/token": respond(503)})).start()
    ...
    server.stop()
"""

from __future__ import annotations

import gzip
import json
import socket
import ssl
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

LOCALHOST = "127.0.0.1"
REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 307: "Temporary Redirect", 401: "Unauthorized",
           404: "Not Found", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
API_HEADERS = {"Docker-Distribution-API-Version": "registry/2.0"}


@dataclass
class Request:
    method: str
    path: str  # with the query string
    headers: dict[str, str]  # lower-case names
    body: bytes = b""

    @property
    def route(self) -> str:
        return self.path.split("?", 1)[0]


@dataclass
class Conn:
    """One accepted connection, as a handler sees it."""

    sock: socket.socket
    server: BadServer

    def send(self, data: bytes) -> bool:
        """Send bytes; False once the client has gone away (the handler should then return)."""
        try:
            self.sock.sendall(data)
        except OSError:
            return False
        self.server._count(len(data))
        return True

    def head(self, status: int, headers: dict[str, str] | None = None) -> bool:
        lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}", "Connection: close"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        return self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0), as a crashing proxy does."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.sock.close()

    def wait(self, seconds: float | None = None) -> bool:
        """Sleep until the server stops (or `seconds` pass); True when the server is stopping."""
        return self.server._stopping.wait(seconds)


Handler = Callable[[Request, Conn], None]


@dataclass
class BadServer:
    handler: Handler
    tls: ssl.SSLContext | None = None
    requests: list[Request] = field(default_factory=list)
    sent_bytes: int = 0

    def __post_init__(self) -> None:
        self._sock: socket.socket | None = None
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self.port = 0

    # --- lifecycle ---------------------------------------------------------------------------------------------
    def start(self) -> BadServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((LOCALHOST, 0))
        sock.listen(16)
        sock.settimeout(0.2)
        self._sock = sock
        self.port = sock.getsockname()[1]
        self._spawn(self._accept_loop, "badserver-accept")
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting, wake every stalled handler, close every connection and join every thread."""
        self._stopping.set()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.close()
            except OSError:
                pass
        for thread in list(self._threads):
            thread.join(timeout)
        if self._sock is not None:
            self._sock.close()

    def __enter__(self) -> BadServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def threads_alive(self) -> list[str]:
        return [t.name for t in self._threads if t.is_alive()]

    @property
    def host(self) -> str:
        return f"{LOCALHOST}:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}"

    def ref(self, path: str = "team/app:1.0") -> str:
        return f"{self.host}/{path}"

    # --- internals ---------------------------------------------------------------------------------------------
    def _spawn(self, target, name: str, *args) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _count(self, n: int) -> None:
        with self._lock:
            self.sent_bytes += n

    def _accept_loop(self) -> None:
        assert self._sock is not None
        while not self._stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            self._spawn(self._serve, f"badserver-conn-{len(self._threads)}", conn)

    def _serve(self, raw: socket.socket) -> None:
        conn_sock = raw
        try:
            raw.settimeout(5)
            if self.tls is not None:
                conn_sock = self.tls.wrap_socket(raw, server_side=True)
            with self._lock:
                self._conns.append(conn_sock)
            request = _read_request(conn_sock)
            if request is None:
                return
            with self._lock:
                self.requests.append(request)
            conn_sock.settimeout(None)
            self.handler(request, Conn(conn_sock, self))
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            try:
                conn_sock.close()
            except OSError:
                pass


def _read_request(sock: socket.socket) -> Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > 1 << 20:
            return None
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = (lines[0].split(" ", 2) + ["", ""])[:3]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return Request(method, path, headers, body)


# --- handlers ----------------------------------------------------------------------------------------------------

def route(table: dict[str, Handler], default: Handler | None = None) -> Handler:
    """Dispatch on the path: the longest matching prefix of `table` wins (else `default`, else 404)."""

    def handler(request: Request, conn: Conn) -> None:
        matches = [p for p in table if request.route.startswith(p)]
        chosen = table[max(matches, key=len)] if matches else default or respond(404, body=b"not found\n")
        chosen(request, conn)

    return handler


def respond(status: int, headers: dict[str, str] | None = None, body: bytes | str = b"",
            content_type: str = "text/plain") -> Handler:
    data = body.encode() if isinstance(body, str) else body

    def handler(request: Request, conn: Conn) -> None:
        conn.head(status, {"Content-Type": content_type, "Content-Length": str(len(data)), **(headers or {})})
        if request.method != "HEAD":
            conn.send(data)

    return handler


def respond_json(status: int, payload: object, headers: dict[str, str] | None = None) -> Handler:
    return respond(status, headers, json.dumps(payload), "application/json")


def registry_ping() -> Handler:
    """`GET /v2/` of an open registry: 200 with the API version header."""
    return respond_json(200, {}, API_HEADERS)


def bearer_ping(realm: str | None = None, service: str = "bad-registry") -> Handler:
    """`GET /v2/` of a token-protected registry: 401 with a Bearer challenge pointing at `realm` (default: `/token`
    on the same server, from the request's Host header)."""

    def handler(request: Request, conn: Conn) -> None:
        scheme = "https" if conn.server.tls else "http"
        where = realm or f"{scheme}://{request.headers.get('host', conn.server.host)}/token"
        respond_json(401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
                     {**API_HEADERS, "WWW-Authenticate": f'Bearer realm="{where}",service="{service}"'})(request, conn)

    return handler


def reset_mid_body(status: int = 200, claimed: int = 100_000, sent: int = 1000, headers: dict | None = None,
                   content_type: str = "application/json") -> Handler:
    """Headers announcing `claimed` bytes, `sent` bytes of body, then a TCP reset."""

    def handler(request: Request, conn: Conn) -> None:
        conn.head(status, {"Content-Type": content_type, "Content-Length": str(claimed), **API_HEADERS,
                           **(headers or {})})
        conn.send(b"{" + b" " * (sent - 1))
        conn.wait(0.05)
        conn.reset()

    return handler


def reset_before_answer() -> Handler:
    """Read the request, answer nothing, reset the connection."""

    def handler(request: Request, conn: Conn) -> None:
        conn.reset()

    return handler


def stall_body(status: int = 200, claimed: int = 10_000, sent: int = 10) -> Handler:
    """Headers and the first bytes of the body, then silence until the server stops."""

    def handler(request: Request, conn: Conn) -> None:
        conn.head(status, {"Content-Type": "application/json", "Content-Length": str(claimed), **API_HEADERS})
        conn.send(b"{" + b" " * (sent - 1))
        conn.wait()

    return handler


def stall_headers() -> Handler:
    """Accept the request and never answer."""

    def handler(request: Request, conn: Conn) -> None:
        conn.wait()

    return handler


def drip(interval: float, status: int = 200, claimed: int = 1_000_000) -> Handler:
    """A body that arrives one byte every `interval` seconds — each read succeeds, the whole never ends."""

    def handler(request: Request, conn: Conn) -> None:
        conn.head(status, {"Content-Type": "application/json", "Content-Length": str(claimed), **API_HEADERS})
        if not conn.send(b"{"):
            return
        while not conn.wait(interval):
            if not conn.send(b" "):
                return

    return handler


def redirect(location: str, status: int = 302) -> Handler:
    return respond(status, {"Location": location, **API_HEADERS}, b"")


def redirect_loop() -> Handler:
    """Every request is redirected to another URL of the same server, forever."""
    counter = iter(range(1 << 30))

    def handler(request: Request, conn: Conn) -> None:
        route_ = request.route
        respond(302, {"Location": f"{route_}?hop={next(counter)}", **API_HEADERS})(request, conn)

    return handler


def zeros(total: int, chunk: int = 64 * 1024) -> Iterator[bytes]:
    block = b"\0" * chunk
    left = total
    while left > 0:
        yield block[: min(chunk, left)]
        left -= chunk


def huge_body(size: int = 1 << 30, status: int = 200, content_type: str = "application/json",
              headers: dict | None = None) -> Handler:
    """Announce and stream `size` bytes lazily (never held in memory); stops when the client goes away."""

    def handler(request: Request, conn: Conn) -> None:
        conn.head(status, {"Content-Type": content_type, "Content-Length": str(size), **API_HEADERS,
                           **(headers or {})})
        for block in zeros(size):
            if conn.server._stopping.is_set() or not conn.send(block):
                return

    return handler


def gzip_bomb_stream(decoded: int = 1 << 30, chunk: int = 1 << 20) -> Iterator[bytes]:
    """A gzip stream that decodes to `decoded` zero bytes, produced lazily (about 1 KiB per MiB)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * chunk
    left = decoded
    while left > 0:
        out = compressor.compress(block[: min(chunk, left)])
        left -= chunk
        if out:
            yield out
    yield compressor.flush()


def gzip_bomb(decoded: int = 1 << 30, content_type: str = "application/json") -> Handler:
    """`Content-Encoding: gzip` whose body decodes to `decoded` bytes (a gigabyte by default)."""

    def handler(request: Request, conn: Conn) -> None:
        conn.head(200, {"Content-Type": content_type, "Content-Encoding": "gzip", "Transfer-Encoding": "chunked",
                        **API_HEADERS})
        for piece in gzip_bomb_stream(decoded):
            if conn.server._stopping.is_set() or not conn.send(b"%x\r\n%s\r\n" % (len(piece), piece)):
                return
        conn.send(b"0\r\n\r\n")

    return handler


def gzip_body(payload: bytes) -> bytes:
    return gzip.compress(payload)
