"""`--trace`: every HTTP exchange as it happens, on stderr, already redacted by the HTTP layer (and scrubbed of any
known secret once more here, unless `--show-secrets`)."""

from __future__ import annotations

import threading

from rich.console import Console
from rich.markup import escape

from regauth import redact
from regauth.report import Exchange

BODY_SHOWN = 2000  # characters of a body printed (the HTTP layer records up to TRACE_BODY_CAP)


class TracePrinter:
    def __init__(self, console: Console, show: bool = False):
        self.console = console
        self.show = show
        self._lock = threading.Lock()

    def _safe(self, text: str) -> str:
        return escape(text if self.show else redact.scrub(text))

    def __call__(self, ex: Exchange) -> None:
        with self._lock:
            if ex.status is not None:
                status = f"{ex.status} {ex.reason}".strip() + (f" ({ex.http_version})" if ex.http_version else "")
            else:
                status = "no response"
            if ex.error:
                status += f" — failed: {ex.error}"
            wait = f", headers after {ex.wait_ms:.0f} ms" if ex.wait_ms is not None and ex.status is not None else ""
            self.console.print(f"[bold]→ {ex.method} {self._safe(ex.url)}[/bold]  "
                               f"[dim]{ex.duration_ms:.0f} ms{wait}[/dim]")
            for k, v in ex.request_headers:
                self.console.print(f"    [dim]{self._safe(k)}: {self._safe(v)}[/dim]")
            if ex.request_body:
                self.console.print(f"    [dim]{self._safe(ex.request_body)}[/dim]")
            self.console.print(f"[bold]← {self._safe(status)}[/bold]")
            for k, v in ex.response_headers:
                self.console.print(f"    [dim]{self._safe(k)}: {self._safe(v)}[/dim]")
            if ex.response_body:
                body = ex.response_body
                more = f" … ({len(body) - BODY_SHOWN} more characters)" if len(body) > BODY_SHOWN else ""
                self.console.print(f"    [dim]{self._safe(body[:BODY_SHOWN])}{more}[/dim]")
            if ex.truncated:
                cap = (ex.response_size or 1) - 1
                self.console.print(f"    [dim](body cut off: regauth reads at most {cap} bytes of it)[/dim]")
