"""Step `credentials`: which credential the check uses, where it came from, and what else was looked at."""

from __future__ import annotations

from regauth.context import Check
from regauth.credentials.model import Credential
from regauth.report import StepResult


def _describe(cred: Credential) -> str:
    who = cred.username or ("identity token" if cred.identity_token else "registry token")
    where = cred.origin or cred.source
    key = f" (key {cred.key})" if cred.key else ""
    return f"{who} from {where}{key}"


def run(check: Check) -> StepResult:
    from regauth.credentials.resolve import lookup

    key = (check.registry, check.repository or "")
    found = check.preset
    if found is None:
        with check.shared.lock(("credentials", key)):
            found = check.shared.credentials.get(key)
            if found is None:  # helpers run once per registry and repository in a run
                found = check.shared.credentials[key] = lookup(*key, check.options.credentials,
                                                               ask=check.shared.credential_helper)
    check.result.diagnoses.extend(found.diagnoses)
    check.credential = found.credential
    details = {"candidates": [c.to_json() for c in found.candidates], "tools": found.tools}
    facts = [f"looked at {c.origin or c.source}" + (f" (key {c.key})" if c.key else "") + f": {c.reason}"
             for c in found.candidates if not c.used and c.reason]
    errors = [d for d in found.diagnoses if d.severity == "error"]
    if found.credential is not None and not found.credential.anonymous:
        details.update(found.credential.describe())
        status = "warn" if any(d.severity == "warning" for d in found.diagnoses) else "ok"
        return StepResult("credentials", status, _describe(found.credential), details=details, facts=facts)
    details.update({"source": "none", "kind": "anonymous", "username": None})
    if errors:
        return StepResult("credentials", "fail", errors[0].message, details=details, facts=facts)
    summary = "no credentials found: checking anonymously"
    if check.preset is not None and found.candidates:  # the caller decided (pull secrets): say why it is anonymous
        summary = f"anonymous: {found.candidates[0].reason}"
    return StepResult("credentials", "warn", summary, details=details, facts=facts)
