"""Terminal view of a decode-secret report: per secret its entries, its lints and, with --image, kubelet's choice."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from regauth.render.text import ICONS, SEVERITY
from regauth.report import CheckResult, Report


def render_secret_report(report: Report, console: Console) -> None:
    for result in report.results:
        _render_secret(result, console)
    if len(report.results) > 1:
        failed = sum(not r.ok for r in report.results)
        console.print(f"{len(report.results)} documents, {failed} with errors", highlight=False)


def _render_secret(result: CheckResult, console: Console) -> None:
    target = result.target or {}
    facts = [f"type {target['type']}" if target.get("type") else None,
             f"key {target['data_key']}" if target.get("data_key") else None,
             f"from {target['source']}" if target.get("source") else None]
    title = f"Secret {result.input}" if target.get("name") else result.input
    console.print(f"[bold]{escape(title)}[/bold] [dim]({escape(', '.join(f for f in facts if f))})[/dim]",
                  highlight=False)
    step = result.step("secret")
    if step is not None:
        icon, style = ICONS[step.status]
        console.print(f"  [{style}]{icon}[/{style}] {escape(step.summary)}", highlight=False)
    entries = result.extra.get("entries") or []
    if entries:
        console.print(_entries_table(entries))
    for d in result.diagnoses:
        style = SEVERITY[d.severity]
        console.print(f"  [{style}]{d.severity} {d.code}[/{style}]: {escape(d.message)}", highlight=False)
        console.print(f"    [bold]fix:[/bold] {escape(d.fix)}", highlight=False)
    if "matches" in result.extra:
        _render_matches(result.extra["image"], result.extra["matches"], console)
    console.print()


def _entries_table(entries: list[dict[str, Any]]) -> Table:
    table = Table(show_lines=False, padding=(0, 1))
    for column in ("key", "kubelet key", "username", "password", "from", "email", "ignored fields"):
        table.add_column(column, overflow="fold")
    for entry in entries:
        table.add_row(escape(entry["key"]),
                      escape(entry["kubelet_key"]) if entry["kubelet_key"] is not None else "[red]unparsable[/red]",
                      escape(_shown(entry["username"])), escape(password_summary(entry["password"])),
                      escape(entry["auth_source"]), escape(entry["email"] or ""),
                      escape(", ".join(entry["ignored_fields"])))
    return table


def _render_matches(image: str, matches: list[dict[str, Any]], console: Console) -> None:
    if not matches:
        console.print(f"  kubelet would try no credentials from this secret for {escape(image)}", highlight=False)
        return
    console.print(f"  kubelet would try, in this order, for {escape(image)}:", highlight=False)
    for number, match in enumerate(matches, 1):
        via = " [dim](Docker Hub fallback)[/dim]" if match["via"] == "docker-hub-fallback" else ""
        console.print(f"    {number}. {escape(match['key'])} → {escape(match['kubelet_key'] or '')}: user "
                      f"{escape(_shown(match['username']))}, password {escape(password_summary(match['password']))}"
                      f"{via}", highlight=False)


def password_summary(password: dict[str, Any] | None) -> str:
    """`12 chars, sha256:1a2b3c4d` from a password's JSON description; never the value."""
    return "—" if password is None else f"{password['length']} chars, {password['fingerprint']}"


def _shown(username: str | None) -> str:
    """The username, quoted when whitespace or control characters would otherwise be invisible."""
    if username is None:
        return "—"
    return username if username.isprintable() and username == username.strip() and username else repr(username)
