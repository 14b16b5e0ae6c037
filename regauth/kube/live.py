"""Live checks with the credentials kubelet would use: `pull-check --pull-secret` and `kube-check`.

kubelet tries every matching pull-secret entry in order and stops at the first that works; with no match it pulls
anonymously, and once any entry matched it never falls back to anonymous. These functions replay exactly that.
"""

from __future__ import annotations

from dataclasses import replace

from regauth.context import RunOptions, Shared
from regauth.credentials.model import Candidate, Credential, CredentialLookup
from regauth.diagnoses import diagnose
from regauth.engine import PULL_STEPS, new_check, run_steps
from regauth.errors import InputError
from regauth.kube.keyring import Keyring, kubelet_image_name
from regauth.kube.secrets import PullSecret, SecretEntry
from regauth.report import CheckResult, Diagnosis, StepResult


def _attempt(text: str, options: RunOptions, shared: Shared, lookup: CredentialLookup) -> CheckResult:
    check = new_check(text, options, shared)
    check.preset = lookup
    return run_steps(check, PULL_STEPS)


def _entry_lookup(entry: SecretEntry, secret_label: str, via: str) -> CredentialLookup:
    how = "" if via == "match" else " (Docker Hub fallback to the index.docker.io entry)"
    origin = f"secret {secret_label}"
    if not entry.password:  # containerd sends Basic only with a secret: an entry without one pulls anonymously
        reason = (f"kubelet's keyring matched{how}, but the entry has no password: the runtime sends no "
                  "credentials, so this try is anonymous")
        return CredentialLookup(None, [Candidate("pull-secret", origin, entry.key, False, reason)])
    cred = Credential(username=entry.username, password=entry.password, source="pull-secret", origin=origin,
                      key=entry.key)
    return CredentialLookup(cred, [Candidate("pull-secret", origin, entry.key, True,
                                             f"kubelet's keyring matched{how}")])


SECRET_FIX_CODES = ("token.bad-credentials", "challenge.basic-rejected", "token.forbidden")


def _secret_fix(result: CheckResult, label: str, key: str) -> None:
    """Credentials from a pull secret are fixed in the secret, not with `regauth login`."""
    namespace, _, name = label.rpartition("/")
    namespace = namespace or "NAMESPACE"
    fix = (f"recreate the secret with the right credentials: kubectl create secret docker-registry {name} "
           f"--docker-server={key} --docker-username=USER --docker-password=PASSWORD -n {namespace} "
           "--dry-run=client -o yaml | kubectl apply -f -")
    result.diagnoses[:] = [replace(d, fix=fix) if d.code in SECRET_FIX_CODES else d for d in result.diagnoses]


def _anonymous(reason: str) -> CredentialLookup:
    return CredentialLookup(None, [Candidate("pull-secret", "kubelet keyring", "", False, reason)])


def kubelet_pull(text: str, options: RunOptions, shared: Shared,
                 tries: list[tuple[SecretEntry, str, str]], context: list[Diagnosis]) -> CheckResult:
    """Try each (entry, secret label, via) like kubelet; anonymous when the list is empty."""
    attempts: list[dict] = []
    result: CheckResult | None = None
    for entry, label, via in tries:
        result = _attempt(text, options, shared, _entry_lookup(entry, label, via))
        _secret_fix(result, label, entry.key)
        first = result.cause.code if result.cause else None
        attempts.append({"secret": label, "key": entry.key, "username": entry.shown_username, "ok": result.ok,
                         "failed_step": result.failed_step, "code": first})
        if result.ok:
            break
    if result is None:
        result = _attempt(text, options, shared, _anonymous("no pull-secret entry matches: kubelet pulls "
                                                            "anonymously"))
        attempts.append({"secret": None, "key": None, "username": None, "ok": result.ok,
                         "failed_step": result.failed_step,
                         "code": result.cause.code if result.cause else None})
    if result.failed_step is None:  # the pull works: what the workload files get wrong is only a warning now
        context = [replace(d, severity="warning") if d.severity == "error" else d for d in context]
    result.diagnoses[:0] = context
    result.extra["kubelet_attempts"] = attempts
    if len(attempts) > 1 and result.ok:
        result.diagnoses.append(diagnose(
            "kube.earlier-entry-failed", f"kubelet's first {len(attempts) - 1} matching entr"
            f"{'y' if len(attempts) == 2 else 'ies'} failed before {attempts[-1]['secret']} key "
            f"{attempts[-1]['key']} worked", "remove or fix the entries that fail: each failed try costs a pull "
            "attempt and shows up in events"))
    elif len(attempts) > 1:
        tried = "; ".join(f"{a['secret']} key {a['key']}" + (f" as {a['username']!r}" if a["username"] else "")
                          + f" → {a['code'] or a['failed_step'] or 'failed'}" for a in attempts)
        result.diagnoses.append(diagnose(
            "kube.all-entries-failed", f"all {len(attempts)} matching entries failed ({tried}), and kubelet does not "
            "fall back to an anonymous pull", "fix the credentials in the secrets listed in kubelet_attempts, or, for "
            "a public image, remove the entries that match it"))
    return result


def pull_check_with_secrets(texts: list[str], secrets: list[PullSecret], options: RunOptions,
                            shared: Shared) -> list[CheckResult]:
    """`pull-check --pull-secret`: each image with the entries kubelet's keyring returns for it."""
    keyring = Keyring.from_secrets(secrets)
    results = []
    for text in texts:
        context: list[Diagnosis] = []
        try:
            name = kubelet_image_name(text)
        except InputError:
            results.append(_attempt(text, options, shared, _anonymous("invalid reference")))
            continue
        matches = keyring.lookup(name)
        tries = [(entry, secret.label, "match") for entry, secret in matches]
        for secret in {id(secret): secret for _, secret in matches}.values():  # what decode-secret would say
            context.extend(d for d in secret.diagnoses if d.severity != "info")
        if not tries:
            keys = ", ".join(k for k in keyring.keys) or "none"
            context.append(diagnose("secret.no-match", f"no entry of the pull secrets matches {name} (keys: {keys});"
                                    " kubelet pulls it anonymously", "add an entry whose key is the image's registry "
                                    "host[:port] exactly as in the image reference", severity="warning"))
        results.append(kubelet_pull(text, options, shared, tries, context))
    return results


def kube_check(objects: list[dict], options: RunOptions, shared: Shared) -> list[CheckResult]:
    """`kube-check`: every container image of every workload, with the credentials kubelet would use."""
    from regauth.kube.workloads import plan_workloads

    results = []
    for plan in plan_workloads(objects):
        label = f"{plan.workload.kind}/{plan.workload.namespace}/{plan.workload.name} {plan.container}: {plan.image}"
        keyring_broken = any(d.code == "kube.keyring-error" for d in plan.diagnoses)
        if not plan.image.strip():
            result = CheckResult(input=plan.image, diagnoses=list(plan.diagnoses))
            result.steps.append(StepResult("reference", "fail", "no image"))
            result.diagnoses.append(diagnose("reference.invalid", f"container {plan.container} of "
                                             f"{plan.workload.kind}/{plan.workload.name} has no image",
                                             "set the container's image field"))
        elif plan.image_name is None:
            result = _attempt(plan.image, options, shared, _anonymous("invalid reference"))
        elif keyring_broken:  # kubelet cannot build the keyring: it does not pull at all
            result = CheckResult(input=plan.image, diagnoses=list(plan.diagnoses))
            result.steps.append(StepResult("credentials", "fail", "kubelet cannot decode the pod's pull secrets"))
        else:
            tries = [(c.entry, f"{c.namespace}/{c.secret}", c.via) for c in plan.credentials_to_try]
            result = kubelet_pull(plan.image, options, shared, tries, list(plan.diagnoses))
        result.extra["workload"] = plan.to_json()
        result.extra["label"] = label
        results.append(result)
    return results
