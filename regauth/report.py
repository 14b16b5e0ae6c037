"""The structured results every step produces. The JSON report is these objects serialised; renderers only render."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["ok", "warn", "fail", "skip"]
Severity = Literal["error", "warning", "info"]

SCHEMA = "regauth/v1"


@dataclass(eq=False)
class Diagnosis:
    """A finding: a contract code, the step it belongs to, what is wrong and what to do."""

    code: str
    step: str
    severity: Severity
    message: str
    fix: str
    docs: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "step": self.step, "severity": self.severity, "message": self.message,
                "fix": self.fix, "docs": self.docs}


@dataclass(eq=False)
class Exchange:
    """One HTTP request/response as recorded by the shared client (already redacted). Headers and bodies are
    filled in only when the run records them (--trace, --trace-file); the report shows the first four fields."""

    method: str
    url: str
    status: int | None
    duration_ms: float
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    request_body: str | None = None
    response_body: str | None = None
    error: str | None = None
    started: float = 0.0  # unix time
    # For --trace and --trace-file (HAR); not part of the JSON report.
    http_version: str = ""  # "HTTP/1.1"
    reason: str = ""  # "Unauthorized"
    response_size: int | None = None  # body bytes read (after decoding), before the trace cap
    truncated: bool = False  # the body was longer than what regauth reads
    wait_ms: float | None = None  # until the response headers arrived
    request_body_size: int = 0

    def to_json(self, full: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "url": self.url, "status": self.status,
                               "duration_ms": round(self.duration_ms, 1)}
        if self.error:
            out["error"] = self.error
        if full:
            out["request_headers"] = [list(h) for h in self.request_headers]
            out["response_headers"] = [list(h) for h in self.response_headers]
            out["request_body"] = self.request_body
            out["response_body"] = self.response_body
        return out


@dataclass(eq=False)
class StepResult:
    """One step's outcome: status, one-line summary, details for JSON, facts for the text view."""

    name: str
    status: Status
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    facts: list[str] = field(default_factory=list)  # short human lines shown under the step
    http: list[Exchange] = field(default_factory=list)
    duration_ms: float = 0.0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "status": self.status, "summary": self.summary,
                               "duration_ms": round(self.duration_ms, 1), "details": self.details}
        if self.facts:
            out["facts"] = self.facts
        if self.http:
            out["http"] = [x.to_json() for x in self.http]
        return out


@dataclass(eq=False)
class CheckResult:
    """One image (pull-check), one registry (login) or one secret (decode-secret)."""

    input: str
    target: dict[str, Any] | None = None
    steps: list[StepResult] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnoses) and self.failed_step is None

    @property
    def failed_step(self) -> str | None:
        return next((s.name for s in self.steps if s.status == "fail"), None)

    @property
    def cause(self) -> Diagnosis | None:
        """The error that explains the failure: the first one from the failed step, else the first error."""
        errors = [d for d in self.diagnoses if d.severity == "error"]
        return next((d for d in errors if d.step == self.failed_step), errors[0] if errors else None)

    @property
    def has_warnings(self) -> bool:
        return any(d.severity == "warning" for d in self.diagnoses)

    def step(self, name: str) -> StepResult | None:
        return next((s for s in self.steps if s.name == name), None)

    def codes(self) -> list[str]:
        return [d.code for d in self.diagnoses]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"input": self.input, "target": self.target, "ok": self.ok,
                               "failed_step": self.failed_step, "steps": [s.to_json() for s in self.steps],
                               "diagnoses": [d.to_json() for d in self.diagnoses]}
        out.update(self.extra)
        return out


@dataclass(eq=False)
class Report:
    """One command's results, in input order."""

    command: str
    results: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def header(self) -> dict[str, Any]:
        """The report's fields but `results`, in `to_json` order."""
        return {"schema": SCHEMA, "command": self.command, "ok": self.ok}

    def to_json(self) -> dict[str, Any]:
        return {**self.header(), "results": [r.to_json() for r in self.results]}
