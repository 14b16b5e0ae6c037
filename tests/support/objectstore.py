"""A tiny S3-like object store on its own port (= its own origin) for blob-redirect tests.

:meth:`ObjectStore.put` stores bytes and returns a presigned-looking URL
(``?X-Amz-Algorithm=…&X-Amz-Credential=…&X-Amz-Expires=…&X-Amz-Signature=…``),
bound to one HTTP method like a real S3 presign. Like S3, the store:

* answers **400 InvalidArgument** ("Only one auth mechanism allowed") to any
  request that carries an ``Authorization`` header next to the signature;
* answers **403 SignatureDoesNotMatch** when the method or signature differ;
* answers **403 AccessDenied "Request has expired"** when the URL was issued
  expired (``expired=True``, or :attr:`ObjectStore.expire_all`).

Every request is recorded in :attr:`ObjectStore.requests` (only whether
Authorization was present, never its value).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from .loopback import Listener, LoopbackServer
from .pki import CertPair

ONE_AUTH = ("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string "
            "parameter or the Authorization header should be specified")


@dataclass(frozen=True)
class StoreRequest:
    method: str
    path: str
    authorization: bool  # an Authorization header was sent
    status: int


@dataclass
class _Object:
    data: bytes
    method: str
    signature: str
    expired: bool
    content_type: str


def _xml_error(code: str, message: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
            f"<RequestId>{secrets.token_hex(8).upper()}</RequestId></Error>").encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AmazonS3"
    timeout = 30
    server: LoopbackServer

    def log_message(self, format, *args):  # noqa: A002
        pass

    def do_GET(self):
        self.server.owner._handle(self)

    do_HEAD = do_PUT = do_POST = do_DELETE = do_GET


class ObjectStore:
    """An S3 look-alike. ``start()`` it; :attr:`url` is ``http(s)://127.0.0.1:PORT``."""

    def __init__(self, *, tls: CertPair | None = None, bucket: str = "bucket1"):
        self.tls_pair = tls
        self.bucket = bucket
        self.expire_all = False
        self._objects: dict[str, _Object] = {}
        self._requests: list[StoreRequest] = []
        self._lock = threading.Lock()
        self._listener: Listener | None = None
        self.port: int | None = None

    def start(self) -> "ObjectStore":
        tls = (self.tls_pair.cert, self.tls_pair.key) if self.tls_pair is not None else None
        self._listener = Listener(_Handler, self, "objectstore", tls)
        self.port = self._listener.port
        return self

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.stop()
            self._listener = None

    def __enter__(self) -> "ObjectStore":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls_pair else 'http'}://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[StoreRequest]:
        with self._lock:
            return list(self._requests)

    def reset(self) -> None:
        with self._lock:
            self._objects.clear()
            self._requests.clear()
        self.expire_all = False

    def put(self, data: bytes, *, method: str = "GET", name: str | None = None, expired: bool = False,
            content_type: str = "application/octet-stream") -> str:
        """Store ``data``; return a presigned URL valid for ``method`` only."""
        key = f"docker/registry/v2/blobs/{name or hashlib.sha256(data).hexdigest()}/{secrets.token_hex(4)}/data"
        signature = secrets.token_hex(32)
        with self._lock:
            self._objects[key] = _Object(data, method, signature, expired or self.expire_all, content_type)
        query = urllib.parse.urlencode([
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "AKIAEXAMPLE/20240101/region1/s3/aws4_request"),
            ("X-Amz-Date", "20240101T000000Z"),
            ("X-Amz-Expires", "1200"),
            ("X-Amz-SignedHeaders", "host"),
            ("X-Amz-Signature", signature),
        ])
        return f"{self.url}/{self.bucket}/{key}?{query}"

    def _handle(self, h: _Handler) -> None:
        split = urllib.parse.urlsplit(h.path)
        query = dict(urllib.parse.parse_qsl(split.query))
        key = split.path.removeprefix(f"/{self.bucket}/")
        has_auth = h.headers.get("Authorization") is not None
        with self._lock:
            obj = self._objects.get(key)
        if has_auth and "X-Amz-Signature" in query:
            status, body = 400, _xml_error("InvalidArgument", ONE_AUTH)
        elif obj is None:
            status, body = 404, _xml_error("NoSuchKey", "The specified key does not exist.")
        elif query.get("X-Amz-Signature") != obj.signature or h.command != obj.method:
            status, body = 403, _xml_error("SignatureDoesNotMatch", "The request signature we calculated does not "
                                           "match the signature you provided. Check your key and signing method.")
        elif obj.expired:
            status, body = 403, _xml_error("AccessDenied", "Request has expired")
        else:
            status, body = 200, obj.data
        with self._lock:
            self._requests.append(StoreRequest(h.command, split.path, has_auth, status))
        h.send_response(status)
        h.send_header("Content-Type", obj.content_type if status == 200 and obj else "application/xml")
        h.send_header("Content-Length", str(len(body)))
        if status == 200:
            h.send_header("ETag", f'"{hashlib.md5(body).hexdigest()}"')  # noqa: S324 - like S3
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)
