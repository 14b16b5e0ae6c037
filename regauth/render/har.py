"""`--trace-file F`: every HTTP exchange of a run as a HAR 1.2 file (http://www.softwareishard.com/blog/har-12-spec/),
which browsers' developer tools and HAR viewers open.

The exchanges come already redacted from the HTTP layer; `scrub` runs once more over every string before the file
is written, and the file is created 0600 (with `--show-secrets` it holds secrets).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from regauth import __version__, redact
from regauth.report import Exchange

HAR_VERSION = "1.2"


def _pairs(items: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in items]


def _header(headers: list[tuple[str, str]], name: str) -> str:
    return next((v for k, v in headers if k.lower() == name), "")


def _cookies(headers: list[tuple[str, str]], name: str) -> list[dict[str, Any]]:
    """HAR cookie objects from (already redacted) Cookie / Set-Cookie headers."""
    out: list[dict[str, Any]] = []
    for key, value in headers:
        if key.lower() != name:
            continue
        pairs = value.split(";") if name == "cookie" else value.split(";")[:1]
        for pair in pairs:
            cookie_name, sep, cookie_value = pair.strip().partition("=")
            if sep:
                out.append({"name": cookie_name, "value": cookie_value})
    return out


def _query(url: str) -> list[dict[str, str]]:
    try:
        return _pairs(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    except ValueError:
        return []


def _started(ex: Exchange) -> str:
    return datetime.fromtimestamp(ex.started or 0, timezone.utc).isoformat(timespec="milliseconds")


def entry(ex: Exchange) -> dict[str, Any]:
    """One HAR entry for one exchange (a failed one has status 0 and its error in `_error`, as browsers do)."""
    version = ex.http_version or "HTTP/1.1"
    request: dict[str, Any] = {
        "method": ex.method, "url": ex.url, "httpVersion": version,
        "cookies": _cookies(ex.request_headers, "cookie"), "headers": _pairs(ex.request_headers),
        "queryString": _query(ex.url), "headersSize": -1, "bodySize": ex.request_body_size or 0,
    }
    if ex.request_body is not None:
        request["postData"] = {"mimeType": _header(ex.request_headers, "content-type") or "application/octet-stream",
                               "text": ex.request_body}
    mime = _header(ex.response_headers, "content-type") or "x-unknown"
    size = ex.response_size if ex.response_size is not None else 0
    content: dict[str, Any] = {"size": size, "mimeType": mime}
    if ex.response_body is not None:
        content["text"] = ex.response_body
    if ex.truncated:
        content["comment"] = "regauth stopped reading the body at its size cap"
    response: dict[str, Any] = {
        "status": ex.status or 0, "statusText": ex.reason or "", "httpVersion": version if ex.status else "",
        "cookies": _cookies(ex.response_headers, "set-cookie"), "headers": _pairs(ex.response_headers),
        "content": content, "redirectURL": _header(ex.response_headers, "location"), "headersSize": -1,
        "bodySize": size if ex.status else -1,
    }
    wait = ex.wait_ms if ex.wait_ms is not None else ex.duration_ms
    wait = max(min(wait, ex.duration_ms), 0.0)
    out: dict[str, Any] = {
        "startedDateTime": _started(ex), "time": round(ex.duration_ms, 3), "request": request, "response": response,
        "cache": {}, "timings": {"blocked": -1, "dns": -1, "connect": -1, "send": 0, "wait": round(wait, 3),
                                 "receive": round(max(ex.duration_ms - wait, 0.0), 3), "ssl": -1},
    }
    if ex.error:
        out["_error"] = ex.error
        out["comment"] = f"no complete response: {ex.error}"
    return out


def document(exchanges: list[Exchange], show: bool = False) -> dict[str, Any]:
    har = {"log": {"version": HAR_VERSION, "creator": {"name": "regauth", "version": __version__},
                   "pages": [], "entries": [entry(ex) for ex in sorted(exchanges, key=lambda e: e.started)]}}
    return har if show else redact.scrub_obj(har)


class HarRecorder:
    """An `on_exchange` callback that collects exchanges; `write()` saves them as HAR."""

    def __init__(self, path: Path, show: bool = False):
        self.path = Path(path)
        self.show = show
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()

    def __call__(self, ex: Exchange) -> None:
        with self._lock:
            self.exchanges.append(ex)

    def write(self) -> None:
        with self._lock:
            text = json.dumps(document(list(self.exchanges), self.show), indent=2, ensure_ascii=False)
        write_private(self.path, text + "\n")


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` through a 0600 temporary file in the same directory, then rename it into place."""
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
