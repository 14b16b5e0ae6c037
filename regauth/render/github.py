"""`--output github`: GitHub Actions workflow commands, so failures show up as annotations on the run.

One ``::error`` per failing image (its first error diagnosis), one ``::warning`` per warning, then a plain summary
line. Values are escaped as the Actions runner requires: ``%``, ``\\r`` and ``\\n`` in the message, and also ``:``
and ``,`` in property values (``title=``).
"""

from __future__ import annotations

from regauth.report import CheckResult, Diagnosis, Report


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(kind: str, title: str, message: str) -> str:
    return f"::{kind} title={escape_property(title)}::{escape_data(message)}"


def _line(kind: str, image: str, d: Diagnosis) -> str:
    return command(kind, f"regauth {d.code}", f"{image}: {d.message} — fix: {d.fix}")


def annotations(result: CheckResult) -> list[str]:
    image = str(result.extra.get("label") or result.input)
    lines = []
    if not result.ok:
        first = result.cause
        if first is not None:
            lines.append(_line("error", image, first))
        else:
            step = result.failed_step or "check"
            lines.append(command("error", f"regauth {step}", f"{image}: failed at {step}"))
    lines += [_line("warning", image, d) for d in result.diagnoses if d.severity == "warning"]
    return lines


def render(report: Report) -> str:
    lines = [line for r in report.results for line in annotations(r)]
    passed = sum(r.ok for r in report.results)
    lines.append(f"regauth {report.command}: {passed} passed, {len(report.results) - passed} failed")
    return "\n".join(lines) + "\n"
