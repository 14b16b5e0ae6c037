"""Which pull secrets, and which of their entries, kubelet would use for every image of a set of workloads (§8.3).

A pod uses its own `imagePullSecrets`; only when it lists none does the ServiceAccount admission plugin copy in its
ServiceAccount's (`default` unless named), once, at creation. Secrets are looked up in the pod's namespace only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from regauth.diagnoses import diagnose
from regauth.errors import InputError, unreadable
from regauth.kube.documents import flatten, parse_documents
from regauth.kube.keyring import Keyring, kubelet_image_name, urls_match
from regauth.kube.secrets import PullSecret, SecretEntry, read_secret_object
from regauth.report import Diagnosis

CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
_TEMPLATED = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"}
_MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class WorkloadRef:
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "namespace": self.namespace, "name": self.name}


@dataclass
class CandidateCredential:
    """One credential kubelet would try, and the secret it comes from."""

    secret: str
    namespace: str
    entry: SecretEntry
    via: str  # "match", or "docker-hub-fallback" (the index.docker.io entry used for a Hub image)

    @property
    def key(self) -> str:
        return self.entry.key

    def to_json(self) -> dict[str, Any]:
        return {"secret": self.secret, "namespace": self.namespace, "via": self.via, **self.entry.to_json()}


@dataclass
class ImagePlan:
    """One container image of one workload: the pull secrets its pod gets and the credentials kubelet would try."""

    workload: WorkloadRef
    container: str
    container_list: str  # containers, initContainers or ephemeralContainers
    image: str
    image_name: str | None  # the name kubelet looks up (docker.io/library/nginx); None if the reference is invalid
    secrets_used: list[str]
    secrets_from: str  # "pod", "serviceaccount NAME", or "serviceaccount NAME (not in the input)"
    credentials_to_try: list[CandidateCredential] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"workload": self.workload.to_json(), "container": self.container,
                "container_list": self.container_list, "image": self.image, "image_name": self.image_name,
                "secrets_used": self.secrets_used, "secrets_from": self.secrets_from,
                "credentials_to_try": [c.to_json() for c in self.credentials_to_try],
                "diagnoses": [d.to_json() for d in self.diagnoses]}


def load_objects(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    """Every object in the given files and directories (recursively: *.yaml, *.yml, *.json), Lists expanded."""
    objects: list[dict[str, Any]] = []
    for path in map(Path, paths):
        files = sorted(p for p in path.rglob("*") if p.suffix in _MANIFEST_SUFFIXES) if path.is_dir() else [path]
        for file in files:
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as err:
                raise InputError(f"{file}: {unreadable(err)}") from None
            objects.extend(parse_objects(text, str(file)))
    return objects


def parse_objects(text: str, source: str) -> list[dict[str, Any]]:
    """The Kubernetes objects in one YAML/JSON text (multi-document, Lists expanded); raises InputError."""
    return [item for item in flatten(parse_documents(text, source).items) if isinstance(item, dict)]


def _name(obj: dict[str, Any]) -> str:
    metadata = obj.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) else ""


def _namespace(obj: dict[str, Any]) -> str:
    metadata = obj.get("metadata")
    namespace = metadata.get("namespace") if isinstance(metadata, dict) else None
    return namespace if isinstance(namespace, str) and namespace else "default"


def _dig(obj: Any, *path: str) -> Any:
    for step in path:
        obj = obj.get(step) if isinstance(obj, dict) else None
    return obj


def pod_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The pod spec a workload object creates pods from, or None for objects that are not workloads."""
    kind = obj.get("kind")
    spec = (_dig(obj, "spec") if kind == "Pod"
            else _dig(obj, "spec", "template", "spec") if kind in _TEMPLATED
            else _dig(obj, "spec", "jobTemplate", "spec", "template", "spec") if kind == "CronJob"
            else None)
    return spec if isinstance(spec, dict) else None


def _secret_names(refs: Any) -> list[str]:
    """Names from an `imagePullSecrets` list; kubelet skips entries without a name."""
    return [ref["name"] for ref in refs if isinstance(ref, dict) and isinstance(ref.get("name"), str)
            and ref["name"]] if isinstance(refs, list) else []


class _Inventory:
    """The Secrets and ServiceAccounts of the input, by (namespace, name)."""

    def __init__(self, objects: list[dict[str, Any]]) -> None:
        self.secrets = {(_namespace(o), _name(o)): o for o in objects if o.get("kind") == "Secret"}
        self.accounts = {(_namespace(o), _name(o)): o for o in objects if o.get("kind") == "ServiceAccount"}
        self._read: dict[tuple[str, str], PullSecret] = {}

    def secret(self, namespace: str, name: str) -> PullSecret | None:
        key = (namespace, name)
        if key not in self.secrets:
            return None
        if key not in self._read:
            read = PullSecret(name=name, namespace=namespace, type=None)
            self._read[key] = read_secret_object(self.secrets[key], read)
            read.namespace = namespace
        return self._read[key]

    def other_namespaces(self, name: str) -> list[str]:
        return sorted(ns for ns, secret_name in self.secrets if secret_name == name)

    def account_secrets(self, namespace: str, name: str) -> list[str] | None:
        """A ServiceAccount's imagePullSecrets, or None if it is not in the input."""
        account = self.accounts.get((namespace, name))
        return None if account is None else _secret_names(account.get("imagePullSecrets"))


def plan_workloads(objects: list[dict[str, Any]]) -> list[ImagePlan]:
    """One plan per container image of every workload in `objects` (Lists are expanded), in input order."""
    objects = [o for o in flatten(objects) if isinstance(o, dict)]
    inventory = _Inventory(objects)
    plans: list[ImagePlan] = []
    for obj in objects:
        spec = pod_spec(obj)
        if spec is not None:
            plans.extend(_plan_workload(obj, spec, inventory))
    return plans


def _plan_workload(obj: dict[str, Any], spec: dict[str, Any], inventory: _Inventory) -> list[ImagePlan]:
    workload = WorkloadRef(str(obj.get("kind")), _namespace(obj), _name(obj))
    namespace = workload.namespace
    account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    account = account if isinstance(account, str) else "default"
    account_secrets = inventory.account_secrets(namespace, account)
    live_pod = workload.kind == "Pod" and isinstance(obj.get("metadata"), dict) and "uid" in obj["metadata"]
    own = bool(spec.get("imagePullSecrets"))
    diagnoses: list[Diagnosis] = []
    if own:
        names, source = _secret_names(spec["imagePullSecrets"]), "pod"
    elif live_pod:
        # Admission already ran: whatever the ServiceAccount lists now was added after the pod was created.
        names, source = [], "pod"
        if account_secrets:
            diagnoses.append(_added_after_creation(workload, account, account_secrets))
    else:
        names = account_secrets or []
        source = f"serviceaccount {account}" + (" (not in the input)" if account_secrets is None else "")

    secrets: list[PullSecret] = []
    for name in names:
        secret = inventory.secret(namespace, name)
        if secret is None:
            diagnoses.append(_missing(workload, name, source, inventory.other_namespaces(name)))
        elif secret.read_by_kubelet and secret.keyring_error:
            diagnoses.append(_keyring_error(workload, secret))
        elif not secret.read_by_kubelet:
            diagnoses.append(_wrong_type(workload, secret))
        if secret is not None:
            secrets.append(secret)

    keyring = Keyring.from_secrets(secrets)
    broken = any(s.read_by_kubelet and s.keyring_error for s in secrets)
    in_keyring = [s.name or "" for s in secrets if s.read_by_kubelet]
    plans = [_plan_image(workload, list_name, container, names, source, keyring, in_keyring, broken)
             for list_name in CONTAINER_LISTS
             for container in spec.get(list_name) or [] if isinstance(container, dict)]
    if not broken:
        diagnoses += _unused(workload, secrets, plans)
    if own and account_secrets:
        diagnoses += _account_ignored(workload, account, account_secrets, inventory, plans)
    elif not own and not live_pod and not names:
        diagnoses += _no_secrets(workload, account, account_secrets, inventory)
    for plan in plans:
        plan.diagnoses[:0] = diagnoses
    return plans


def _plan_image(workload: WorkloadRef, list_name: str, container: dict[str, Any], names: list[str], source: str,
                keyring: Keyring, in_keyring: list[str], broken: bool) -> ImagePlan:
    image = container.get("image") if isinstance(container.get("image"), str) else ""
    plan = ImagePlan(workload=workload, container=str(container.get("name", "")), container_list=list_name,
                     image=image, image_name=None, secrets_used=names, secrets_from=source)
    try:
        plan.image_name = kubelet_image_name(image)
    except InputError as err:
        plan.diagnoses.append(diagnose("reference.invalid", f"{workload} container {plan.container}: {err}",
                                       "fix the image reference in the pod spec"))
        return plan
    if broken:
        return plan  # kubelet fails before trying anything; the kube.keyring-error diagnosis says why
    plan.credentials_to_try = [
        CandidateCredential(secret=secret.name or "", namespace=workload.namespace, entry=entry,
                            via="match" if urls_match(entry.normalized or "", plan.image_name)
                            else "docker-hub-fallback")
        for entry, secret in keyring.lookup(plan.image_name)]
    if in_keyring and not plan.credentials_to_try:
        plan.diagnoses.append(diagnose(
            "secret.no-match",
            f"no entry of the pull secrets of {workload} ({', '.join(in_keyring)}) matches {plan.image_name}: kubelet "
            "pulls it anonymously (or with the node's own credentials)",
            f"nothing to do if {image} is public; otherwise add an entry for its registry to one of these secrets",
            severity="info"))
    return plan


def _missing(workload: WorkloadRef, name: str, source: str, elsewhere: list[str]) -> Diagnosis:
    listed = "" if source == "pod" else f" (listed on its {source.replace('serviceaccount', 'ServiceAccount')})"
    if elsewhere:
        found = f" (found in: {', '.join(elsewhere)})"
        fix = (f"pull secrets are namespace-local: copy it, e.g. kubectl get secret {name} -n {elsewhere[0]} -o json "
               f"| jq 'del(.metadata.namespace,.metadata.uid,.metadata.resourceVersion,.metadata.creationTimestamp)'"
               f" | kubectl apply -n {workload.namespace} -f -")
    else:
        found = ""
        fix = (f"create it in {workload.namespace}: kubectl create secret docker-registry {name} "
               f"--docker-server=HOST:PORT --docker-username=USER --docker-password=PASSWORD -n {workload.namespace}")
    return diagnose("kube.secret-missing",
                    f"{workload} references Secret {name!r}{listed}, which does not exist in namespace "
                    f"{workload.namespace}{found}: kubelet skips it ('Unable to retrieve pull secret') and pulls "
                    "without it", fix)


def _wrong_type(workload: WorkloadRef, secret: PullSecret) -> Diagnosis:
    cause = next((d for d in secret.diagnoses if d.severity == "error"), None)
    why = f"type {secret.type or 'Opaque'}" + (f", {cause.code}" if cause else "")
    return diagnose("kube.secret-wrong-type",
                    f"{workload} uses Secret {secret.name!r}, but kubelet does not read it ({why}): its credentials "
                    "are never tried",
                    cause.fix if cause else "recreate it with kubectl create secret docker-registry")


def _keyring_error(workload: WorkloadRef, secret: PullSecret) -> Diagnosis:
    cause = next((d for d in secret.diagnoses if d.severity == "error"), None)
    return diagnose("kube.keyring-error",
                    f"Secret {secret.name!r} of {workload} does not decode ({secret.keyring_error}): kubelet fails to "
                    "build the pod's keyring, so every image pull of the pod fails, even from other registries",
                    cause.fix if cause else "fix or remove the broken entry")


def _unused(workload: WorkloadRef, secrets: list[PullSecret], plans: list[ImagePlan]) -> list[Diagnosis]:
    """Readable secrets none of whose entries kubelet would try for any image of the workload."""
    tried = {id(c.entry) for plan in plans for c in plan.credentials_to_try}
    images = ", ".join(sorted({p.image_name for p in plans if p.image_name})) or "none"
    unique = {id(secret): secret for secret in secrets}.values()
    return [diagnose("kube.secret-unused",
                     f"Secret {secret.name!r} (keys: {', '.join(e.key for e in secret.entries) or 'none'}) gives "
                     f"credentials for none of the images of {workload} ({images})",
                     "add an entry for the images' registry, or drop the secret from imagePullSecrets")
            for secret in unique if secret.read_by_kubelet and not any(id(e) in tried for e in secret.entries)]


def _added_after_creation(workload: WorkloadRef, account: str, account_secrets: list[str]) -> Diagnosis:
    return diagnose("kube.no-pull-secrets",
                    f"{workload} has no imagePullSecrets, yet its ServiceAccount {account} lists "
                    f"{', '.join(account_secrets)}: they were added after the pod was created (ServiceAccount pull "
                    "secrets are copied into a pod only at creation)",
                    f"recreate the pod: kubectl delete pod {workload.name} -n {workload.namespace} (its controller, if "
                    "any, creates a new one)")


def _no_secrets(workload: WorkloadRef, account: str, account_secrets: list[str] | None,
                inventory: _Inventory) -> list[Diagnosis]:
    """A pod without pull secrets while its namespace has ServiceAccounts that do carry some."""
    others = {name: secrets for (ns, name), obj in inventory.accounts.items() if ns == workload.namespace
              and name != account and (secrets := _secret_names(obj.get("imagePullSecrets")))}
    if account_secrets is None or not others:
        return []
    listed = "; ".join(f"ServiceAccount {name} has {', '.join(secrets)}" for name, secrets in others.items())
    wanted = next(iter(others.values()))
    patch = '{"imagePullSecrets":[' + ",".join(f'{{"name":"{s}"}}' for s in wanted) + "]}"
    return [diagnose("kube.no-pull-secrets",
                     f"{workload} uses ServiceAccount {account}, which has no imagePullSecrets ({listed}), and the "
                     "pod spec lists none: kubelet pulls anonymously (or with the node's own credentials)",
                     f"kubectl patch serviceaccount {account} -n {workload.namespace} -p '{patch}' and recreate the "
                     "pods (ServiceAccount pull secrets are copied only at pod creation), or add imagePullSecrets "
                     "to the pod spec")]


def _account_ignored(workload: WorkloadRef, account: str, account_secrets: list[str], inventory: _Inventory,
                     plans: list[ImagePlan]) -> list[Diagnosis]:
    """The pod's own list hides its ServiceAccount's secrets; say so where those would have served an image."""
    keyring = Keyring.from_secrets([s for name in account_secrets
                                    if (s := inventory.secret(workload.namespace, name)) is not None])
    served = sorted({p.image_name for p in plans
                     if p.image_name and not p.credentials_to_try and keyring.lookup(p.image_name)})
    if not served:
        return []
    return [diagnose("kube.serviceaccount-ignored",
                     f"{workload} lists its own imagePullSecrets, so those of ServiceAccount {account} "
                     f"({', '.join(account_secrets)}) are not added; they would have given credentials for "
                     f"{', '.join(served)}",
                     f"add {', '.join(account_secrets)} to the pod's imagePullSecrets (the lists are never merged)")]
