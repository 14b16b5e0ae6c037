"""The terminal view: one line per step, the key facts under it, the diagnosis and the fix at the end."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from regauth.redact import printable
from regauth.report import CheckResult, Report
from regauth.shorten import clip

ICONS = {"ok": ("✔", "green"), "warn": ("!", "yellow"), "fail": ("✘", "bold red"), "skip": ("·", "dim")}
SEVERITY = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def render(report: Report, console: Console, verbose: bool = False, quiet: bool = False) -> None:
    """One image: its transcript. A batch: the transcripts worth reading (all of them with `verbose`), then the
    summary table. A check that passed with nothing to report is a row of the table, not 20 lines of a CI log."""
    batch = len(report.results) > 1
    shown = 0
    for result in report.results:
        if not quiet and (verbose or not batch or has_news(result)):
            render_check(result, console, verbose)
            shown += 1
    if batch:
        if quiet:  # "only the verdict and errors": each failure in a line and its fix, then the summary
            failures = [r for r in report.results if not r.ok]
            if failures:
                out = Text()
                for result in failures:
                    _quiet_failure(out, result)
                console.print(out)
        elif shown < len(report.results):
            hidden = len(report.results) - shown
            console.print(Text(f"{hidden} of {len(report.results)} checks passed with nothing to report "
                               f"(every step ok, no diagnosis): -v shows their steps too\n", "dim"))
        render_summary(report, console)
    elif quiet:
        console.print(_verdict(Text(), report.results[0], quiet=True))


def has_news(result: CheckResult) -> bool:
    """Whether a check's transcript says more than "ok": it failed, a step warned, or it has a diagnosis."""
    return not result.ok or bool(result.diagnoses) or any(s.status == "warn" for s in result.steps)


def _shown(result: CheckResult) -> str:
    """What names a check in the text view: its label or its input, cut if very long."""
    return printable(clip(str(result.extra.get("label") or result.input)))


# Each view is one rich Text built from (text, style) pieces: what a server sent is never parsed as markup, and a
# batch does not pay for parsing markup that regauth wrote itself (~0.2 ms a check). Every string that can hold a
# server's or the user's text goes through `printable`: rich strips only a few control characters, and no escape
# sequence a server sends may drive the terminal (the steps mostly do it already: this is the last line).

def _quiet_failure(out: Text, result: CheckResult) -> None:
    """`✘ IMAGE: code: message` and the fix, for one failed check of a quiet batch."""
    out.append("✘", "bold red")
    out.append(f" {_shown(result)}: ")
    cause = result.cause
    if cause is None:
        out.append(f"failed at {result.failed_step}\n")
        return
    out.append(cause.code, "bold red")
    out.append(f": {printable(cause.message)}\n    ")
    out.append("fix:", "bold")
    out.append(f" {printable(cause.fix)}\n")


def render_check(result: CheckResult, console: Console, verbose: bool = False) -> None:
    # one print per check, not per line: rich's per-call cost dominates a batch's text view otherwise
    out = check_text(result, verbose)
    out.append("\n")
    console.print(out)


def check_text(result: CheckResult, verbose: bool = False) -> Text:
    """One check: heading, steps with their facts, verdict and diagnoses."""
    out = Text()
    title = result.target.get("registry") if result.target and not result.target.get("repository") else None
    out.append(_shown(result), "bold")
    if title:
        out.append(" ")
        out.append(f"({printable(title)})", "dim")
    width = max((len(s.name) for s in result.steps), default=8)
    failed_at = next((i for i, s in enumerate(result.steps) if s.status == "fail"), None)
    for i, step in enumerate(result.steps):
        if failed_at is not None and i > failed_at:
            rest = ", ".join(s.name for s in result.steps[i:])
            out.append("\n  ")
            out.append(f"· {rest}: skipped", "dim")
            break
        icon, style = ICONS[step.status]
        line = f" {step.name:<{width}}  {printable(step.summary)}"
        if step.status == "skip":
            out.append(f"\n  {icon}{line}", "dim")
            continue
        out.append("\n  ")
        out.append(icon, style)
        out.append(line)
        for fact in step.facts:
            out.append("\n      ")
            out.append(printable(fact), "dim")
        if verbose:
            for ex in step.http:
                status = ex.status if ex.status is not None else ex.error
                out.append("\n      ")
                out.append(printable(f"{ex.method} {ex.url} → {status} ({ex.duration_ms:.0f} ms)"), "dim")
    out.append("\n")
    return _verdict(out, result)


def _verdict(out: Text, result: CheckResult, quiet: bool = False) -> Text:
    """Append the verdict line and the diagnoses (errors first; only errors when quiet) to `out`."""
    shown = f" {_shown(result)}" if quiet else ""
    if result.ok:
        out.append("✔ OK" + shown, "bold green")
    else:
        first = result.cause
        code = f": {first.code}" if first else ""
        out.append(f"✘ FAILED at {result.failed_step}{code}{shown}", "bold red")
    order = {"error": 0, "warning": 1, "info": 2}
    for d in sorted((d for d in result.diagnoses if not quiet or d.severity == "error"),
                    key=lambda d: order[d.severity]):
        out.append("\n  ")
        out.append(f"{d.severity} {d.code}", SEVERITY[d.severity])
        out.append(f": {printable(d.message)}\n    ")
        out.append("fix:", "bold")
        out.append(f" {printable(d.fix)}")
        if d.severity == "error":
            out.append("\n    ")
            out.append(f"docs: {d.docs}", "dim")
    return out


def render_summary(report: Report, console: Console) -> None:
    from rich.table import Table  # only a batch has a summary: one image does not pay for the import

    table = Table(title="Summary", show_lines=False)
    table.add_column("image", overflow="fold")  # never cut a reference: it is what people copy
    for col in ("verdict", "failed step", "code"):
        table.add_column(col, no_wrap=True)
    for r in report.results:
        verdict = Text.assemble(("ok", "green") if r.ok else ("FAILED", "red"))  # a span: the padding unstyled
        table.add_row(Text(_shown(r)), verdict, r.failed_step or "", r.cause.code if r.cause else "")
    console.print(table)
    passed = sum(r.ok for r in report.results)
    console.print(f"{passed} passed, {len(report.results) - passed} failed")
