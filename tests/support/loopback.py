"""The one way test servers listen: an HTTP server on 127.0.0.1, optionally TLS, served from a daemon thread."""

from __future__ import annotations

import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class LoopbackServer(ThreadingHTTPServer):
    """A threading HTTP server bound to a free port on 127.0.0.1; `owner` is the object its handlers serve."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # socketserver's default 5 drops SYNs when a batch opens many connections

    def __init__(self, handler: type[BaseHTTPRequestHandler], owner: object, scheme: str = "http"):
        super().__init__(("127.0.0.1", 0), handler)
        self.owner = owner
        self.scheme = scheme


class Listener:
    """Runs a LoopbackServer until `stop()`; with `tls` (cert, key) it speaks HTTPS, with `client_ca` it requires
    client certificates signed by that CA."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], owner: object, name: str,
                 tls: tuple[Path, Path] | None = None, client_ca: Path | None = None, lazy_handshake: bool = True):
        self.server = LoopbackServer(handler, owner, "https" if tls else "http")
        if tls:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(str(tls[0]), str(tls[1]))
            if client_ca is not None:
                ctx.verify_mode = ssl.CERT_REQUIRED
                ctx.load_verify_locations(cafile=str(client_ca))
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True,
                                                 do_handshake_on_connect=not lazy_handshake)
        self.port: int = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"{name}-{self.port}", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"{self.server.scheme}://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
