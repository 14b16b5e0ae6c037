"""The text view of a batch: transcripts of the checks worth reading, then the summary table."""

from __future__ import annotations

import io

from rich.console import Console

from regauth.diagnoses import diagnose
from regauth.render import text
from regauth.report import CheckResult, Report, StepResult

from tests.unit.test_render_ci import result


def rendered(report: Report, **kwargs) -> str:
    out = io.StringIO()
    text.render(report, Console(file=out, width=160, soft_wrap=True, highlight=False, emoji=False), **kwargs)
    return out.getvalue()


def headings(output: str, images: list[str]) -> list[str]:
    """The images whose transcript is shown: a transcript starts with the image alone on its line."""
    lines = output.splitlines()
    return [image for image in images if image in lines]


def batch() -> tuple[Report, list[str]]:
    clean = result("registry.example/team/app:1.0")
    warned = result("registry.example/team/app:2.0", diagnoses=[
        diagnose("token.short-lifetime", "the token service grants tokens for 30 s", "raise the token lifetime")])
    failed = result("registry.example/team/app:nope", "manifest", [
        diagnose("manifest.unknown", "the repository team/app exists, but nope does not", "check the tag")])
    step_warned = result("registry.example/team/app:3.0")
    step_warned.steps[1] = StepResult("credentials", "warn", "no credentials found: checking anonymously")
    also_clean = result("registry.example/team/app:4.0")
    checks = [clean, warned, failed, step_warned, also_clean]
    return Report("pull-check", checks), [c.input for c in checks]


def test_a_batch_shows_the_transcripts_worth_reading_then_every_image_in_the_table():
    report, images = batch()
    out = rendered(report)
    assert headings(out, images) == images[1:4]  # the warned, the failed, the step that warned
    assert "2 of 5 checks passed with nothing to report" in out
    table = out[out.index("Summary"):]
    assert [next(i for i in images if i in row) for row in table.splitlines() if "registry.example" in row] == images
    assert table.rstrip().endswith("4 passed, 1 failed")


def test_verbose_shows_every_transcript_of_a_batch():
    report, images = batch()
    out = rendered(report, verbose=True)
    assert headings(out, images) == images
    assert "nothing to report" not in out


def test_one_image_always_shows_its_transcript():
    only = CheckResult(input="registry.example/team/app:1.0", steps=result("x").steps)
    out = rendered(Report("pull-check", [only]))
    assert headings(out, [only.input]) == [only.input] and "✔ OK" in out and "Summary" not in out


def test_quiet_batch_lists_failures_only():
    report, images = batch()
    out = rendered(report, quiet=True)
    assert headings(out, images) == []
    assert "✘ registry.example/team/app:nope: manifest.unknown: the repository team/app exists" in out
    assert "nothing to report" not in out and "Summary" in out


def test_control_characters_in_any_shown_text_are_made_visible():
    evil = "\x1b[2J\x1b]0;owned\x07"
    failed = result(f"registry.example/team/app{evil}:1.0", "manifest", [
        diagnose("manifest.unknown", f"the registry said {evil}", f"ask {evil}")])
    failed.steps[0] = StepResult("reference", "ok", f"summary {evil}", facts=[f"fact {evil}"])
    for report in (Report("pull-check", [failed]), Report("pull-check", [failed, result("x")])):
        for kwargs in ({}, {"verbose": True}, {"quiet": True}):
            out = rendered(report, **kwargs)
            assert "\x1b" not in out and "\x07" not in out, kwargs
            assert "\\x1b[2J" in out
