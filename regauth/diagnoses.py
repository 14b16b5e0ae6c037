"""The diagnosis code catalogue: every code regauth can report, its default severity and its docs anchor.

Codes are part of the user contract (`step.cause`, lowercase). Add freely; never rename or drop one without a
CHANGELOG entry.
"""

from __future__ import annotations

from regauth.report import Diagnosis, Severity

# code -> default severity. The step is the part before the first dot.
CATALOGUE: dict[str, Severity] = {
    "reference.invalid": "error",
    "credentials.config-invalid": "error",
    "credentials.helper-missing": "error",
    "credentials.helper-failed": "error",
    "credentials.not-found": "warning",
    "credentials.key-mismatch": "warning",
    "credentials.tools-disagree": "info",
    "ping.dns": "error",
    "ping.refused": "error",
    "ping.timeout": "error",
    "ping.connect-failed": "error",
    "ping.tls-unknown-ca": "error",
    "ping.tls-hostname": "error",
    "ping.tls-expired": "error",
    "ping.tls-on-plain-http": "error",
    "ping.tls-failed": "error",
    "ping.tls-client-cert": "error",
    "ping.connection-reset": "error",
    "ping.not-registry": "error",
    "ping.unexpected-status": "error",
    "ping.proxy-in-use": "info",
    "challenge.missing": "error",
    "challenge.malformed": "error",
    "challenge.unsupported-scheme": "error",
    "challenge.realm-insecure": "warning",
    "challenge.realm-unreachable": "error",
    "challenge.realm-other-host": "info",
    "challenge.credentials-required": "error",
    "challenge.credentials-not-checked": "warning",
    "challenge.basic-rejected": "error",
    "token.bad-credentials": "error",
    "token.forbidden": "error",
    "token.anonymous-denied": "error",
    "token.method-not-allowed": "warning",
    "token.bad-response": "error",
    "token.unexpected-status": "error",
    "token.short-lifetime": "warning",
    "token.fields-differ": "warning",
    "jwt.opaque": "info",
    "jwt.malformed": "error",
    "jwt.expired": "error",
    "jwt.not-yet-valid": "error",
    "jwt.audience-mismatch": "error",
    "jwt.no-access": "error",
    "jwt.insufficient-access": "error",
    "jwt.no-key-id": "warning",
    "jwt.clock-skew": "warning",
    "manifest.unauthorized": "error",
    "manifest.denied": "error",
    "manifest.name-unknown": "error",
    "manifest.unknown": "error",
    "manifest.not-acceptable": "error",
    "manifest.rate-limited": "error",
    "manifest.unexpected-status": "error",
    "manifest.rate-limit": "info",
    "manifest.digest-mismatch": "error",
    "manifest.media-type-mismatch": "warning",
    "manifest.schema1": "warning",
    "manifest.redirect-challenge": "info",
    "manifest.too-large": "error",
    "platform.not-found": "error",
    "blob.unknown": "error",
    "blob.redirect-rejected": "error",
    "blob.denied": "error",
    "blob.unexpected-status": "error",
    "blob.token-expired": "warning",
    "check.deadline-exceeded": "error",
    "save.failed": "error",
    "save.plaintext-refused": "error",
    "secret.not-a-secret": "error",
    "secret.wrong-type": "error",
    "secret.missing-key": "error",
    "secret.bad-base64": "error",
    "secret.double-base64": "error",
    "secret.bad-json": "error",
    "secret.missing-auths": "error",
    "secret.empty-auths": "error",
    "secret.auth-mismatch": "error",
    "secret.no-credentials": "error",
    "secret.no-password": "warning",
    "secret.whitespace": "warning",
    "secret.ignored-field": "warning",
    "secret.key-normalized": "info",
    "secret.no-match": "error",
    "secret.invalid-key": "error",
    "kube.secret-missing": "error",
    "kube.earlier-entry-failed": "warning",
    "kube.all-entries-failed": "error",
    "kube.secret-wrong-type": "error",
    "kube.secret-unused": "warning",
    "kube.keyring-error": "error",
    "kube.no-pull-secrets": "warning",
    "kube.serviceaccount-ignored": "warning",
}

DOCS_ROOT = "docs/diagnoses"


def docs_anchor(code: str) -> str:
    step, _, cause = code.partition(".")
    return f"{DOCS_ROOT}/{step}.md#{cause}"


def diagnose(code: str, message: str, fix: str, severity: Severity | None = None) -> Diagnosis:
    """Build a Diagnosis for a catalogued code (unknown codes are a programming error). Messages often quote what a
    server sent: anything in them that looks like a secret (JWT signature, credentials, signed URL) is redacted."""
    from regauth.redact import text

    default = CATALOGUE[code]
    return Diagnosis(code=code, step=code.partition(".")[0], severity=severity or default,
                     message=text(message), fix=fix, docs=docs_anchor(code))
