"""`--trace`: every HTTP exchange as it happens, on stderr, already redacted by the HTTP layer."""

from __future__ import annotations

import threading

from rich.console import Console
from rich.markup import escape

from regauth.report import Exchange


class TracePrinter:
    def __init__(self, console: Console):
        self.console = console
        self._lock = threading.Lock()

    def __call__(self, ex: Exchange) -> None:
        with self._lock:
            status = ex.status if ex.status is not None else f"failed: {ex.error}"
            self.console.print(f"[bold]→ {ex.method} {escape(ex.url)}[/bold]  [dim]{ex.duration_ms:.0f} ms[/dim]")
            for k, v in ex.request_headers:
                self.console.print(f"    [dim]{escape(k)}: {escape(v)}[/dim]")
            if ex.request_body:
                self.console.print(f"    [dim]{escape(ex.request_body)}[/dim]")
            self.console.print(f"[bold]← {status}[/bold]")
            for k, v in ex.response_headers:
                self.console.print(f"    [dim]{escape(k)}: {escape(v)}[/dim]")
            if ex.response_body:
                self.console.print(f"    [dim]{escape(ex.response_body[:2000])}[/dim]")
