"""The terminal view: one line per step, the key facts under it, the diagnosis and the fix at the end."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from regauth.report import CheckResult, Report
from regauth.shorten import clip

ICONS = {"ok": ("✔", "green"), "warn": ("!", "yellow"), "fail": ("✘", "bold red"), "skip": ("·", "dim")}
SEVERITY = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def render(report: Report, console: Console, verbose: bool = False, quiet: bool = False) -> None:
    for result in report.results:
        if not quiet:
            render_check(result, console, verbose)
    if len(report.results) > 1:
        if quiet:  # "only the verdict and errors": each failure in a line and its fix, then the summary
            lines = [line for r in report.results if not r.ok for line in quiet_failure_lines(r)]
            if lines:
                console.print("\n".join(lines) + "\n")
        render_summary(report, console)
    elif quiet:
        render_verdict(report.results[0], console, quiet=True)


def _shown(result: CheckResult) -> str:
    """What names a check in the text view: its label or its input, cut if very long."""
    return clip(str(result.extra.get("label") or result.input))


def quiet_failure_lines(result: CheckResult) -> list[str]:
    """`✘ IMAGE: code: message` and the fix, for one failed check of a quiet batch."""
    cause = result.cause
    if cause is None:
        return [f"[bold red]✘[/bold red] {escape(_shown(result))}: failed at {result.failed_step}"]
    return [f"[bold red]✘[/bold red] {escape(_shown(result))}: [bold red]{cause.code}[/bold red]: "
            f"{escape(cause.message)}",
            f"    [bold]fix:[/bold] {escape(cause.fix)}"]


def render_check(result: CheckResult, console: Console, verbose: bool = False) -> None:
    # one print per check, not per line: rich's per-call cost dominates a batch's text view otherwise
    console.print("\n".join(check_lines(result, verbose)) + "\n")


def check_lines(result: CheckResult, verbose: bool = False) -> list[str]:
    """The markup lines of one check: heading, steps with their facts, verdict and diagnoses."""
    title = result.target.get("registry") if result.target and not result.target.get("repository") else None
    heading = _shown(result)
    lines = [f"[bold]{escape(heading)}[/bold]" + (f" [dim]({escape(title)})[/dim]" if title else "")]
    width = max((len(s.name) for s in result.steps), default=8)
    failed_at = next((i for i, s in enumerate(result.steps) if s.status == "fail"), None)
    for i, step in enumerate(result.steps):
        if failed_at is not None and i > failed_at:
            rest = ", ".join(s.name for s in result.steps[i:])
            lines.append(f"  [dim]· {rest}: skipped[/dim]")
            break
        icon, style = ICONS[step.status]
        line = f"  [{style}]{icon}[/{style}] {step.name:<{width}}  {escape(step.summary)}"
        lines.append(f"[dim]{line}[/dim]" if step.status == "skip" else line)
        if step.status != "skip":
            for fact in step.facts:
                lines.append(f"      [dim]{escape(fact)}[/dim]")
            if verbose:
                for ex in step.http:
                    status = ex.status if ex.status is not None else ex.error
                    lines.append(f"      [dim]{ex.method} {escape(ex.url)} → {status} "
                                 f"({ex.duration_ms:.0f} ms)[/dim]")
    return lines + verdict_lines(result)


def render_verdict(result: CheckResult, console: Console, quiet: bool = False) -> None:
    console.print("\n".join(verdict_lines(result, quiet)))


def verdict_lines(result: CheckResult, quiet: bool = False) -> list[str]:
    lines = []
    if result.ok:
        lines.append("[bold green]✔ OK[/bold green]" + (f" {escape(_shown(result))}" if quiet else ""))
    else:
        first = result.cause
        code = f": {first.code}" if first else ""
        lines.append(f"[bold red]✘ FAILED at {result.failed_step}{code}[/bold red]"
                     + (f" {escape(_shown(result))}" if quiet else ""))
    order = {"error": 0, "warning": 1, "info": 2}
    shown = sorted((d for d in result.diagnoses if not quiet or d.severity == "error"),
                   key=lambda d: order[d.severity])
    for d in shown:
        style = SEVERITY[d.severity]
        lines.append(f"  [{style}]{d.severity} {d.code}[/{style}]: {escape(d.message)}")
        lines.append(f"    [bold]fix:[/bold] {escape(d.fix)}")
        if d.severity == "error":
            lines.append(f"    [dim]docs: {d.docs}[/dim]")
    return lines


def render_summary(report: Report, console: Console) -> None:
    from rich.table import Table  # only a batch has a summary: one image does not pay for the import

    table = Table(title="Summary", show_lines=False)
    table.add_column("image", overflow="fold")  # never cut a reference: it is what people copy
    for col in ("verdict", "failed step", "code"):
        table.add_column(col, no_wrap=True)
    for r in report.results:
        first = r.cause.code if r.cause else ""
        verdict = "[green]ok[/green]" if r.ok else "[red]FAILED[/red]"
        table.add_row(escape(_shown(r)), verdict, r.failed_step or "", first)
    console.print(table)
    passed = sum(r.ok for r in report.results)
    console.print(f"{passed} passed, {len(report.results) - passed} failed")
