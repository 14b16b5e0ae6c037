"""The CI renderers (`--junit`, `--output github`) on a hand-built report."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from regauth.diagnoses import diagnose
from regauth.render import github, junit
from regauth.report import CheckResult, Diagnosis, Report, StepResult

STEP_NAMES = ("reference", "credentials", "ping", "challenge", "token", "jwt", "manifest", "platform", "blob")


def result(image: str, failed_at: str | None = None, diagnoses=(), ms: float = 10.0) -> CheckResult:
    steps, failed = [], False
    for name in STEP_NAMES:
        if failed:
            steps.append(StepResult(name, "skip", f"skipped: {failed_at} failed"))
        elif name == failed_at:
            steps.append(StepResult(name, "fail", f"{name} went wrong", facts=[f"a fact about {name}"],
                                    duration_ms=ms))
            failed = True
        else:
            steps.append(StepResult(name, "ok", f"{name} fine", duration_ms=ms))
    return CheckResult(input=image, steps=steps, diagnoses=list(diagnoses))


def raw(code: str, message: str, fix: str, severity: str = "error") -> Diagnosis:
    """A diagnosis exactly as given (`diagnose()` may tidy the text; the renderers must cope with anything)."""
    return Diagnosis(code=code, step=code.split(".")[0], severity=severity, message=message, fix=fix,
                     docs=f"docs/diagnoses/{code.split('.')[0]}.md#{code.split('.')[1]}")


def sample() -> Report:
    passing = result("registry.example/team/app:1.0")
    warned = result("registry.example/team/app:2.0", diagnoses=[
        diagnose("token.short-lifetime", "the token service grants tokens for 30 s", "raise the token lifetime")])
    failing = result("registry.example/team/app:nope", "manifest", [
        raw("manifest.unknown", "the repository team/app exists, but nope does not; 100% sure\nsecond line\r",
            "use tag 1.0, or 2.0: both exist"),
        diagnose("jwt.clock-skew", "clock is 90 s ahead", "sync the clock (NTP)"),
        diagnose("manifest.denied", "a second error", "second fix"),
    ])
    control = result("registry.example/odd:1", "ping", [
        raw("ping.unexpected-status", "the server said \x1b[31mred\x1b[0m and \x00 <&> \"quoted\"",
            "check the <proxy> & \"port\"")])
    return Report("pull-check", [passing, warned, failing, control])


def test_junit_counts_names_and_failures():
    root = ET.fromstring(junit.render(sample(), timestamp=0).encode())
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "2", "0")
    suite = root.find("testsuite")
    assert suite.get("name") == "regauth pull-check" and suite.get("tests") == "4" and suite.get("failures") == "2"
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [r.input for r in sample().results]
    assert {c.get("classname") for c in cases} == {"regauth.pull-check"}
    assert cases[0].get("time") == "0.090"
    assert [c.find("failure") is not None for c in cases] == [False, False, True, True]


def test_junit_failure_is_the_first_error_with_fix_and_steps():
    cases = ET.fromstring(junit.render(sample()).encode()).find("testsuite").findall("testcase")
    failure = cases[2].find("failure")
    assert failure.get("type") == "manifest.unknown"
    assert failure.get("message") == ("manifest.unknown: the repository team/app exists, but nope does not; 100% sure"
                                      "\nsecond line\r")
    body = failure.text
    assert "fix: use tag 1.0, or 2.0: both exist" in body
    assert "also manifest.denied: a second error" in body
    assert "steps:" in body and "FAIL manifest: manifest went wrong" in body and "a fact about manifest" in body
    assert "skip blob" in body and "ok   reference: reference fine" in body
    out = cases[2].find("system-out").text
    assert "warning jwt.clock-skew: clock is 90 s ahead" in out and "fix: sync the clock (NTP)" in out
    assert "manifest.unknown" not in out


def test_junit_warnings_in_system_out_and_strict_fails_them():
    cases = ET.fromstring(junit.render(sample()).encode()).find("testsuite").findall("testcase")
    assert cases[1].find("failure") is None
    assert "token.short-lifetime" in cases[1].find("system-out").text
    assert cases[0].find("system-out") is None
    strict = ET.fromstring(junit.render(sample(), strict=True).encode())
    assert strict.get("failures") == "3"
    failure = strict.find("testsuite").findall("testcase")[1].find("failure")
    assert failure.get("message") == "token.short-lifetime: the token service grants tokens for 30 s"


def test_junit_survives_characters_xml_cannot_hold():
    text = junit.render(sample())
    cases = ET.fromstring(text.encode()).find("testsuite").findall("testcase")
    message = cases[3].find("failure").get("message")
    assert message == 'ping.unexpected-status: the server said [31mred[0m and  <&> "quoted"'
    assert "\x1b" not in text and "\x00" not in text
    assert 'check the <proxy> & "port"' in cases[3].find("failure").text
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites')


COMMAND = re.compile(r"^::(error|warning) title=([^:]*)::(.*)$")


def test_github_annotations():
    lines = github.render(sample()).splitlines()
    assert lines[-1] == "regauth pull-check: 2 passed, 2 failed"
    commands = lines[:-1]
    assert all(COMMAND.match(line) for line in commands), commands
    kinds = [(COMMAND.match(line).group(1), COMMAND.match(line).group(2)) for line in commands]
    assert kinds == [("warning", "regauth token.short-lifetime"), ("error", "regauth manifest.unknown"),
                     ("warning", "regauth jwt.clock-skew"), ("error", "regauth ping.unexpected-status")]
    error = commands[1]
    assert error == ("::error title=regauth manifest.unknown::registry.example/team/app:nope: the repository team/app"
                     " exists, but nope does not; 100%25 sure%0Asecond line%0D — fix: use tag 1.0, or 2.0: both exist")
    assert all("\r" not in line for line in lines)
    assert "manifest.denied" not in github.render(sample())  # one error per failing image: the first


def test_github_escaping():
    assert github.escape_data("50% a\r\nb") == "50%25 a%0D%0Ab"
    assert github.escape_property("regauth a:b,c%") == "regauth a%3Ab%2Cc%25"
    assert github.command("error", "t:1", "m\n") == "::error title=t%3A1::m%0A"


def test_github_failure_without_a_diagnosis():
    broken = result("img:1", "blob")
    assert github.render(Report("pull-check", [broken])).splitlines()[0] == \
        "::error title=regauth blob::img:1: failed at blob"


def test_json_write_streams_the_same_text_as_render():
    import io

    from regauth.render import json as render_json

    big = Report("pull-check", [r for _ in range(300) for r in sample().results])  # past one flush of pieces
    for report in (sample(), big, Report("pull-check", [])):
        out = io.StringIO()
        render_json.write(report, out)
        assert out.getvalue() == render_json.render(report) + "\n"


def test_junit_file_is_scrubbed_even_when_stdout_is_json(tmp_path):
    """With -o json the report object is scrubbed as JSON, not in place: --junit must scrub what it writes."""
    from regauth import cli
    from regauth.secret import Secret

    password = "junit-leak-" + "q" * 10
    Secret(password)
    out = tmp_path / "report.xml"
    leaky = lambda: Report("pull-check", [result("img:1", "token", [raw("token.denied", f"bad {password}", "fix")])])  # noqa: E731
    cli._write_junit(out, leaky(), strict=False, show=False)
    assert password not in out.read_text() and "redacted sha256:" in out.read_text()
    cli._write_junit(out, leaky(), strict=False, show=True)
    assert password in out.read_text()
