"""`--junit FILE`: the report as JUnit XML, one test case per checked image, for CI test-report viewers.

Each result is a ``<testcase classname="regauth.<command>" name="<image>">``. A failing image carries
``<failure message="<code>: <message>" type="<code>">`` with the first error's fix and every step in the body;
warnings go to ``<system-out>``. With ``strict`` (``--strict``), an image that only has warnings fails too, on its
first warning — the same rule as the exit code.
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET

from regauth.report import CheckResult, Diagnosis, Report

STATUS = {"ok": "ok  ", "warn": "warn", "fail": "FAIL", "skip": "skip"}
# XML 1.0 cannot carry most control characters, not even escaped: drop them (a server's message may hold some).
_INVALID_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: str) -> str:
    return _INVALID_XML.sub("", text)


def failure_of(result: CheckResult, strict: bool = False) -> Diagnosis | None:
    """The diagnosis that fails this result (its first error; with strict, else its first warning)."""
    first = result.cause
    if first is None and strict:
        first = next((d for d in result.diagnoses if d.severity == "warning"), None)
    return first


def failed(result: CheckResult, strict: bool = False) -> bool:
    return not result.ok or (strict and result.has_warnings)


def _seconds(result: CheckResult) -> float:
    return sum(s.duration_ms for s in result.steps) / 1000


def steps_text(result: CheckResult) -> str:
    lines = []
    for step in result.steps:
        lines.append(f"{STATUS.get(step.status, step.status)} {step.name}: {step.summary}".rstrip(": "))
        if step.status not in ("skip",):
            lines.extend(f"       {fact}" for fact in step.facts)
    return "\n".join(lines)


def _failure_body(result: CheckResult, first: Diagnosis | None) -> str:
    parts = []
    if first is not None:
        parts += [f"{first.code}: {first.message}", f"fix: {first.fix}"]
        if first.docs:
            parts.append(f"docs: {first.docs}")
        others = [d for d in result.diagnoses if d.severity == "error" and d is not first]
        parts += [f"also {d.code}: {d.message}" for d in others]
        parts.append("")
    parts += ["steps:", steps_text(result)]
    return "\n".join(parts)


def _testcase(parent: ET.Element, command: str, result: CheckResult, strict: bool) -> bool:
    name = result.extra.get("label") or result.input
    case = ET.SubElement(parent, "testcase", classname=f"regauth.{command}", name=clean(str(name)),
                         time=f"{_seconds(result):.3f}")
    is_failed = failed(result, strict)
    if is_failed:
        first = failure_of(result, strict)
        if first is not None:
            message, kind = f"{first.code}: {first.message}", first.code
        else:
            message = kind = f"{result.failed_step or 'check'} failed"
        node = ET.SubElement(case, "failure", message=clean(message), type=clean(kind))
        node.text = clean(_failure_body(result, first))
    warnings = [d for d in result.diagnoses if d.severity == "warning"]
    if warnings:
        out = ET.SubElement(case, "system-out")
        out.text = clean("\n".join(f"warning {d.code}: {d.message}\n  fix: {d.fix}" for d in warnings))
    return is_failed


def render(report: Report, strict: bool = False, timestamp: float | None = None) -> str:
    """The JUnit XML document (UTF-8 text, with its XML declaration)."""
    total = len(report.results)
    suites = ET.Element("testsuites", name="regauth")
    suite = ET.SubElement(suites, "testsuite", name=f"regauth {report.command}")
    failures = sum(_testcase(suite, report.command, r, strict) for r in report.results)
    seconds = f"{sum(_seconds(r) for r in report.results):.3f}"
    when = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(timestamp if timestamp is not None else time.time()))
    for node in (suites, suite):
        node.set("tests", str(total))
        node.set("failures", str(failures))
        node.set("errors", "0")
        node.set("time", seconds)
    suite.set("skipped", "0")
    suite.set("timestamp", when)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
