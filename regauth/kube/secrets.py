"""Kubernetes image pull secrets, read the way the API server and kubelet read them, and linted (specs §8.1–§8.5).

Input: Secret manifests or `kubectl get secret -o yaml/json` output (single, multi-document, `List`), a bare `data`
map, a bare `.dockerconfigjson` / `.dockercfg` payload, or the base64 text of one. Entries are what kubelet would
get from the secret; passwords are only ever shown as length and fingerprint.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from regauth.diagnoses import diagnose
from regauth.errors import json_kind
from regauth.kube.documents import flatten, parse_documents, parse_json
from regauth.kube.keyring import (HUB_KEY, Keyring, explain_mismatch, key_parts, kubelet_image_name, normalize_key,
                                  urls_match)
from regauth.report import CheckResult, Diagnosis, Report, Severity, StepResult
from regauth.secret import Secret

DOCKERCONFIGJSON = "kubernetes.io/dockerconfigjson"
DOCKERCFG = "kubernetes.io/dockercfg"
DATA_KEY = {DOCKERCONFIGJSON: ".dockerconfigjson", DOCKERCFG: ".dockercfg"}
TYPE_FOR_KEY = {key: type_ for type_, key in DATA_KEY.items()}
KUBELET_FIELDS = ("username", "password", "email", "auth")
TOKEN_FIELDS = ("identitytoken", "registrytoken")
_HELPER_FIELDS = ("credsstore", "credhelpers")
_WHITESPACE_NAMES = {"\n": "a newline (0x0A)", "\r": "a carriage return (0x0D)", "\t": "a tab (0x09)",
                     " ": "a space"}
_CONTROL_NAMES = {"\x00": "NUL", "\x07": "BEL", "\x08": "BS", "\t": "TAB", "\n": "LF", "\r": "CR", "\x1b": "ESC",
                  "\x7f": "DEL"}


@dataclass
class SecretEntry:
    """One registry entry of a pull secret, as kubelet reads it."""

    key: str
    normalized: str | None  # kubelet's keyring key; None when kubelet cannot parse the key and skips the entry
    username: str | None = None
    password: Secret | None = None
    email: str | None = None
    ignored_fields: list[str] = field(default_factory=list)
    auth_source: str = "none"  # "auth", "username/password" or "none"
    # with no password, a username holding `user:password`: the part after the first ':' (never shown)
    hidden_in_username: Secret | None = None

    @property
    def shown_username(self) -> str | None:
        """The username for reports: a password pasted into it (`user:password`, no password field) redacted."""
        if self.hidden_in_username is None or self.username is None:
            return self.username
        return f"{self.username.partition(':')[0]}:{self.hidden_in_username}"

    @property
    def has_credentials(self) -> bool:
        return bool(self.username or self.password)

    @property
    def usable(self) -> bool:
        """kubelet indexes the entry and has something to send."""
        return self.normalized is not None and self.has_credentials

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "kubelet_key": self.normalized, "username": self.shown_username,
                "password": describe_password(self.password), "email": self.email,
                "auth_source": self.auth_source, "ignored_fields": self.ignored_fields}


@dataclass
class PullSecret:
    """One input document read as a pull secret, with everything wrong with it."""

    name: str | None
    namespace: str | None
    type: str | None
    entries: list[SecretEntry] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)
    source: str = ""
    document: int = 1  # position in the input, from 1
    format: str = "secret"  # secret | data (bare data map) | dockerconfigjson | dockercfg (bare payload) | other
    data_key: str | None = None  # the data key the payload was read from
    read_by_kubelet: bool = False  # type and key match and the payload is a JSON object: kubelet reads the entries
    keyring_error: str | None = None  # a decoding error that makes kubelet fail the keyring build of every pod

    @property
    def usable(self) -> bool:
        """kubelet would get at least one credential from it."""
        return self.read_by_kubelet and not self.keyring_error and any(e.usable for e in self.entries)

    @property
    def label(self) -> str:
        """Short name for reports: `namespace/name`, `name`, or where a bare payload came from."""
        if self.name:
            return f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.source} #{self.document}" if self.document > 1 else self.source

    @property
    def title(self) -> str:
        """Name used inside messages."""
        if self.name:
            return f"Secret {self.label}"
        what = {"dockerconfigjson": "the .dockerconfigjson payload", "dockercfg": "the .dockercfg payload",
                "data": "the data map"}.get(self.format, "document")
        return f"{what} in {self.label}"

    def lint(self, code: str, message: str, fix: str, severity: Severity | None = None) -> None:
        self.diagnoses.append(diagnose(code, message, fix, severity))

    def breaks_keyring(self, code: str, problem: str, fix: str) -> None:
        """A defect that passes API validation but makes kubelet's JSON decoding of this secret fail."""
        self.keyring_error = self.keyring_error or problem
        if self.read_by_kubelet:
            effect = ("kubelet fails to build the keyring of every pod using this secret, so all their image pulls "
                      "fail, even from other registries")
        else:
            effect = "once kubelet reads this secret, the keyring build of every pod using it fails"
        self.lint(code, f"{problem}: {effect}", fix)


def describe_password(password: Secret | None) -> dict[str, Any] | None:
    """JSON form of a password: its length and fingerprint, never the value."""
    return None if password is None else {"length": len(password), "fingerprint": password.fingerprint}


def password_text(password: Secret) -> str:
    return f"{len(password)} chars, {password.fingerprint}"


def recreate_command(secret: PullSecret, server: str | None = None) -> str:
    """The kubectl command that replaces the secret with a well-formed one (placeholders for the credentials)."""
    name, namespace = secret.name or "NAME", secret.namespace or "NAMESPACE"
    create = (f"kubectl create secret docker-registry {name} --docker-server={server or 'HOST:PORT'} "
              f"--docker-username=USER --docker-password=PASSWORD -n {namespace}")
    return f"kubectl delete secret {name} -n {namespace} && {create}" if secret.name else create


def _go_field(obj: dict[Any, Any], name: str) -> tuple[bool, Any]:
    """Go's encoding/json struct field lookup: case-insensitive, the last matching key wins."""
    values = [value for key, value in obj.items() if str(key).lower() == name]
    return bool(values), values[-1] if values else None


# --- base64 ---------------------------------------------------------------------------------------------------

def _lenient_b64decode(text: str) -> tuple[bytes | None, list[str]]:
    """Decode a `data` value forgivingly; also say what the API server's strict decoder would reject."""
    problems = []
    if re.search(r"[^\S\r\n]", text):
        problems.append("contains spaces or tabs")
    compact = re.sub(r"\s", "", text)
    if re.search(r"[-_]", compact):
        problems.append("uses the URL-safe alphabet (- and _)")
        compact = compact.translate(str.maketrans("-_", "+/"))
    digits = compact.rstrip("=")
    if not re.fullmatch(r"[A-Za-z0-9+/]*", digits):
        return None, problems + ["has characters outside the base64 alphabet"]
    if len(digits) % 4 == 1:
        return None, problems + ["has a length no base64 text can have (truncated?)"]
    padded = digits + "=" * (-len(digits) % 4)
    if compact != padded:
        problems.append("has missing or extra '=' padding")
    return base64.b64decode(padded), problems


def _kubelet_b64decode(value: str) -> bytes | None:
    """kubelet's decodeDockerConfigFieldAuth: std base64 if the value ends with '=', else unpadded; None on error."""
    text = value.replace("\r", "").replace("\n", "")  # Go's decoder skips line breaks
    if value.strip().endswith("="):
        ok = re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", text) is not None and len(text) % 4 == 0
    else:
        ok = re.fullmatch(r"[A-Za-z0-9+/]*", text) is not None and len(text) % 4 != 1
        text += "=" * (-len(text) % 4)
    return base64.b64decode(text) if ok else None


def _base64_of_json(text: str) -> dict[str, Any] | None:
    """The JSON object `text` is the base64 of, if it is one (the double-encoding mistake)."""
    if len(text.strip()) < 4 or not re.fullmatch(r"[A-Za-z0-9+/=_\s-]+", text):
        return None
    decoded, _ = _lenient_b64decode(text)
    if decoded is None:
        return None
    try:
        inner = parse_json(decoded.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    return inner if isinstance(inner, dict) else None


# --- reading documents ----------------------------------------------------------------------------------------

def load_secrets(text: str, source: str) -> list[PullSecret]:
    """Every document in `text` read as a pull secret; raises InputError if the text is neither YAML nor JSON."""
    documents = parse_documents(text, source)
    return [_read_document(item, source, index, is_json=documents.json)
            for index, item in enumerate(flatten(documents.items), 1)]


def _read_document(item: Any, source: str, index: int = 1, is_json: bool = True) -> PullSecret:
    """One parsed document: a Secret, a bare data map, a bare payload, its base64 text, or something else."""
    secret = PullSecret(name=None, namespace=None, type=None, source=source, document=index)
    if isinstance(item, str) and (payload := _base64_of_json(item)) is not None:
        _read_bare_payload(secret, payload, is_json=True)
    elif not isinstance(item, dict):
        _not_a_secret(secret, f"YAML {json_kind(item)}")
    elif "kind" in item:
        kind = item["kind"]
        if kind == "Secret":
            read_secret_object(item, secret)
        else:
            metadata = item.get("metadata") if isinstance(item.get("metadata"), dict) else {}
            name = metadata.get("name")
            what = kind if isinstance(kind, str) else f"object whose kind is a {json_kind(kind)}"
            _not_a_secret(secret, what + (f" named {name!r}" if isinstance(name, str) else ""))
    elif any(key in item for key in TYPE_FOR_KEY):
        secret.format = "data"
        key = next(key for key in TYPE_FOR_KEY if key in item)
        read_secret_object({"type": TYPE_FOR_KEY[key], "data": item}, secret)
    elif "data" in item or "stringData" in item:
        read_secret_object(item, secret)
    elif "apiVersion" in item:
        _not_a_secret(secret, "Kubernetes object without a kind")
    else:
        _read_bare_payload(secret, item, is_json)
    return secret


def _not_a_secret(secret: PullSecret, what: str) -> None:
    secret.format = "other"
    secret.lint("secret.not-a-secret",
                f"document {secret.document} of {secret.source} is a {what}, not a Secret or a docker config payload",
                "pass the pull secret itself: kubectl get secret NAME -n NAMESPACE -o yaml, or the "
                ".dockerconfigjson file")


def _bare_payload_format(payload: dict[Any, Any]) -> str | None:
    """dockerconfigjson for a config.json shape, dockercfg for a legacy flat map, None for anything else."""
    keys = [str(key).lower() for key in payload]
    if not payload or "auths" in keys or any(key in _HELPER_FIELDS for key in keys):
        return "dockerconfigjson"
    if all(isinstance(value, dict) for value in payload.values()) and any(
            not value or any(str(k).lower() in KUBELET_FIELDS + TOKEN_FIELDS for k in value)
            for value in payload.values()):
        return "dockercfg"
    return None


def _read_bare_payload(secret: PullSecret, payload: dict[Any, Any], is_json: bool) -> None:
    fmt = _bare_payload_format(payload)
    if fmt is None:
        _not_a_secret(secret, "YAML/JSON object with no registry entries")
        return
    secret.format, secret.type = fmt, f"kubernetes.io/{fmt}"
    secret.read_by_kubelet = is_json
    if not is_json:
        secret.lint("secret.bad-json",
                    f"{secret.title} is YAML, not JSON: kubectl --from-file stores the file as it is, and the API "
                    "server rejects a pull secret whose payload is not JSON",
                    "convert it to JSON (yq -o=json FILE) or let kubectl write it: " + recreate_command(secret))
    _read_config(secret, payload, fmt)


def read_secret_object(obj: dict[Any, Any], secret: PullSecret) -> PullSecret:
    """A `kind: Secret` object (`data` and/or `stringData`), as kubelet would see it once the API server stored it."""
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    secret.name = metadata.get("name") if isinstance(metadata.get("name"), str) else None
    secret.namespace = metadata.get("namespace") if isinstance(metadata.get("namespace"), str) else None
    secret.type = obj.get("type") if isinstance(obj.get("type"), str) else None
    data = obj.get("data") if isinstance(obj.get("data"), dict) else {}
    string_data = obj.get("stringData") if isinstance(obj.get("stringData"), dict) else {}
    keys = list(dict.fromkeys(str(key) for key in [*data, *string_data]))
    present = [key for key in TYPE_FOR_KEY if key in keys]
    wanted = DATA_KEY.get(secret.type or "")
    if wanted in present:
        key, matches_type = wanted, True
    else:
        _lint_type(secret, wanted, present, keys)
        if not present:
            return secret
        key, matches_type = present[0], False
    secret.data_key = key
    raw, stored = _secret_value(secret, key, data, string_data)
    if raw is not None:
        where = f"{'stringData' if key in string_data else 'data'}[{key}]"
        _read_payload(secret, raw, where, TYPE_FOR_KEY[key], matches_type and stored, key in string_data)
    return secret


def _lint_type(secret: PullSecret, wanted: str | None, present: list[str], keys: list[str]) -> None:
    """The secret's type and data key do not go together: kubelet skips it without a word."""
    listed = ", ".join(keys) or "none"
    shown_type = secret.type or "Opaque (no type given)"
    if wanted and present:
        other = present[0]
        secret.lint("secret.wrong-type",
                    f"{secret.title} has type {secret.type} but its payload is under {other} (a "
                    f"{TYPE_FOR_KEY[other]} key): the API server rejects it because {wanted} is required, and "
                    f"kubelet reads {secret.type} secrets only from {wanted}",
                    f"the type cannot be changed in place: kubectl delete secret {secret.name or 'NAME'} -n "
                    f"{secret.namespace or 'NAMESPACE'} && kubectl create secret generic {secret.name or 'NAME'} "
                    f"--type={TYPE_FOR_KEY[other]} --from-file={other}=PATH -n {secret.namespace or 'NAMESPACE'}")
    elif wanted:
        from_file = next((key for key in keys if key.endswith(".json") or key.endswith("dockercfg")), None)
        fix = (f"store the file under the key {wanted}: --from-file={wanted}={from_file} (a plain "
               f"--from-file={from_file} names the key after the file); or: {recreate_command(secret)}"
               if from_file else recreate_command(secret))
        secret.lint("secret.missing-key",
                    f"{secret.title} has type {secret.type} but no {wanted} key (keys: {listed}): the API server "
                    "rejects it and kubelet would find no credentials in it", fix)
    elif present:
        needed = TYPE_FOR_KEY[present[0]]
        secret.lint("secret.wrong-type",
                    f"{secret.title} has type {shown_type} but holds {present[0]}: kubelet reads pull secrets only "
                    f"of type {needed}, so it ignores this one silently and pulls without its credentials",
                    f"the type cannot be changed in place: kubectl delete secret {secret.name or 'NAME'} -n "
                    f"{secret.namespace or 'NAMESPACE'} && kubectl create secret generic {secret.name or 'NAME'} "
                    f"--type={needed} --from-file={present[0]}=PATH -n {secret.namespace or 'NAMESPACE'}")
    else:
        secret.lint("secret.wrong-type",
                    f"{secret.title} (type {shown_type}, keys: {listed}) is not an image pull secret: kubelet "
                    f"needs type {DOCKERCONFIGJSON} with the key .dockerconfigjson",
                    recreate_command(secret))


def _secret_value(secret: PullSecret, key: str, data: dict[Any, Any],
                  string_data: dict[Any, Any]) -> tuple[bytes | None, bool]:
    """The bytes under `key` (stringData wins over data), if regauth can read them, and whether the API server would
    store them as they are."""
    if key in string_data:
        value = string_data[key]
        if isinstance(value, str):
            return value.encode(), True
        secret.lint("secret.bad-json",
                    f"stringData[{key}] of {secret.title} is a YAML {json_kind(value)}, not a string: the API server "
                    "rejects it",
                    f"write the JSON as one quoted string: stringData: {{{key}: '{{\"auths\": {{…}}}}'}}")
        return None, False
    value = data[key]
    if value is None:
        return b"", True
    if not isinstance(value, str):
        secret.lint("secret.bad-base64",
                    f"data[{key}] of {secret.title} is a YAML {json_kind(value)}, not base64 text: the API server "
                    "rejects it",
                    f"put base64 -w0 < config.json under data[{key}], or the plain JSON under stringData")
        return None, False
    if value.lstrip().startswith("{"):
        secret.lint("secret.bad-base64",
                    f"data[{key}] of {secret.title} is plain JSON, not base64: data values must be base64, so "
                    "the API server rejects it",
                    f"move it to stringData[{key}] (plain text), or base64-encode it: base64 -w0 < config.json")
        return value.encode(), False
    decoded, problems = _lenient_b64decode(value)
    fix = (f"base64-encode the file exactly once, on one line: base64 -w0 < config.json, or put the plain JSON "
           f"under stringData[{key}]")
    if decoded is None:
        secret.lint("secret.bad-base64",
                    f"data[{key}] of {secret.title} is not base64 ({', '.join(problems)}): the API server "
                    "rejects it", fix)
    elif problems:
        secret.lint("secret.bad-base64",
                    f"data[{key}] of {secret.title} is not valid base64 as written ({', '.join(problems)}): regauth "
                    "decoded it anyway to show the entries, but the API server rejects it (illegal base64 data)", fix)
    return decoded, not problems


def _read_payload(secret: PullSecret, raw: bytes, where: str, secret_type: str, matches_type: bool,
                  from_string_data: bool) -> None:
    """The bytes under a docker key: JSON, or the classic mistakes (empty, encoded twice, not JSON at all)."""
    fmt = secret_type.rpartition("/")[2]
    if not raw.strip():
        secret.lint("secret.bad-json", f"{where} of {secret.title} is empty: the API server rejects it and "
                    "kubelet would ignore it", recreate_command(secret))
        return
    text = raw.decode("utf-8", "replace")
    try:
        payload = parse_json(text)
    except (ValueError, RecursionError) as err:
        payload = _base64_of_json(text)
        if payload is None:
            problem = (f"{err.msg} at line {err.lineno} column {err.colno}" if hasattr(err, "lineno")
                       else "nested too deeply" if isinstance(err, RecursionError) else str(err))
            secret.lint("secret.bad-json",
                        f"{where} of {secret.title} is not JSON ({problem}): the API server rejects it",
                        f"make it a JSON document like kubectl writes it: {recreate_command(secret)}")
            return
        _lint_double_base64(secret, text, where, from_string_data)
        matches_type = False
    secret.read_by_kubelet = matches_type
    _read_config(secret, payload, fmt)


def _lint_double_base64(secret: PullSecret, text: str, where: str, from_string_data: bool) -> None:
    start = text.strip()[:4]
    hint = (" (it starts with 'eyJ', the base64 of '{\"')" if start.startswith("eyJ")
            else " (it starts with 'ewo', the base64 of '{' and a newline)" if start.startswith("ewo") else "")
    if from_string_data:
        message = (f"{where} of {secret.title} is base64 text{hint}, but stringData takes plain text; decoding it "
                   "gives a valid docker config, so the API server rejects the secret (invalid character looking "
                   "for beginning of value)")
        fix = f"put the plain JSON in {where}, without base64"
    else:
        message = (f"{where} of {secret.title} decodes to base64 text{hint} instead of JSON, and decoding once "
                   "more gives a valid docker config: the value was base64-encoded twice, so the API server "
                   "rejects it (invalid character looking for beginning of value)")
        fix = (f"encode the JSON once: base64 -w0 < config.json under {where}, or the plain JSON under stringData "
               "(Terraform's kubernetes_secret data and Helm's b64enc on an already-encoded value both encode again)")
    secret.lint("secret.double-base64", message, fix)


# --- the docker config inside ---------------------------------------------------------------------------------

def _read_config(secret: PullSecret, payload: Any, fmt: str) -> None:
    """Entries of a dockerconfigjson (`{"auths": {…}}`) or dockercfg (flat map) payload, as kubelet decodes them."""
    if not isinstance(payload, dict):
        secret.read_by_kubelet = False
        secret.lint("secret.bad-json", f"the {fmt} payload of {secret.title} is a JSON {json_kind(payload)}, not an "
                    "object: the API server rejects it", f"make it an object: {{\"auths\": {{…}}}}; or: "
                    f"{recreate_command(secret)}")
        return
    helpers = _helper_note(payload)
    if fmt == "dockerconfigjson":
        found, entries = _go_field(payload, "auths")
        headers_found, headers = _go_field(payload, "httpheaders")
        if headers_found and headers is not None and not (
                isinstance(headers, dict) and all(isinstance(v, str) for v in headers.values())):
            secret.breaks_keyring("secret.bad-json", f"HttpHeaders in {secret.title} is not a map of strings",
                                  "remove HttpHeaders from the payload (kubelet does not use it)")
        if not found:
            _lint_missing_auths(secret, payload, helpers)
            return
        if entries is not None and not isinstance(entries, dict):
            secret.breaks_keyring("secret.bad-json",
                                  f"auths in {secret.title} is a JSON {json_kind(entries)}, not an object",
                                  'make auths an object keyed by registry: {"auths": {"HOST:PORT": {"auth": …}}}')
            return
    else:
        entries = payload
        wrapped = payload.get("auths")
        if isinstance(wrapped, dict):
            # kubelet decodes the wrapper as an entry for a registry named "auths" with no fields it knows.
            entries = {key: value for key, value in payload.items() if key != "auths"}
            secret.entries.append(SecretEntry(key="auths", normalized=normalize_key("auths"),
                                              ignored_fields=[str(key) for key in wrapped]))
            secret.lint("secret.wrong-type",
                        f"{secret.title} is of the legacy {DOCKERCFG} kind (a flat map of registries) but its "
                        f"payload has an auths wrapper: kubelet sees a single registry literally named 'auths' "
                        f"and none of {', '.join(map(str, wrapped)) or 'its entries'}",
                        f"use type {DOCKERCONFIGJSON} with the key .dockerconfigjson (kubectl delete secret "
                        f"{secret.name or 'NAME'} -n {secret.namespace or 'NAMESPACE'} && kubectl create secret "
                        f"generic {secret.name or 'NAME'} --type={DOCKERCONFIGJSON} --from-file=.dockerconfigjson=PATH"
                        f" -n {secret.namespace or 'NAMESPACE'}), or drop the auths wrapper")
    if not entries and not secret.entries:
        secret.lint("secret.empty-auths",
                    f"{secret.title} has no registry entries{helpers or ''}: kubelet gets no credentials from it",
                    recreate_command(secret))
        return
    empty = [str(key) for key, value in entries.items()
             if _read_entry(secret, str(key), value) and not secret.entries[-1].has_credentials]
    if empty:
        _lint_no_credentials(secret, empty, helpers)
    _lint_shared_keys(secret)


def _helper_note(payload: dict[Any, Any]) -> str | None:
    """Mentions credsStore/credHelpers of a config.json, whose secrets live on the workstation, not in the file."""
    notes = []
    found, store = _go_field(payload, "credsstore")
    if found and isinstance(store, str) and store:
        notes.append(f"credsStore {store!r}")
    found, helpers = _go_field(payload, "credhelpers")
    if found and isinstance(helpers, dict) and helpers:
        notes.append("credHelpers for " + ", ".join(map(str, helpers)))
    if not notes:
        return None
    return (f"; the config.json it was made from keeps its passwords in {' and '.join(notes)} — credential "
            "helpers run on the workstation and kubelet cannot call them")


def _lint_missing_auths(secret: PullSecret, payload: dict[Any, Any], helpers: str | None) -> None:
    flat = [str(key) for key, value in payload.items() if isinstance(value, dict)
            and any(str(k).lower() in KUBELET_FIELDS for k in value)]
    if flat:
        message = (f"{secret.title} is a flat map of registries ({', '.join(flat)}) without the auths wrapper "
                   f"that {DOCKERCONFIGJSON} needs (that is the legacy .dockercfg format): kubelet finds no "
                   "credentials in it and pulls anonymously")
        fix = ('wrap the entries: {"auths": {…the same map…}}, or use type kubernetes.io/dockercfg with the key '
               ".dockercfg (delete and recreate: the type cannot be changed in place)")
    else:
        message = (f"{secret.title} has no auths map{helpers or ''}: kubelet finds no credentials in it and pulls "
                   "anonymously")
        fix = recreate_command(secret)
    secret.lint("secret.missing-auths", message, fix)


def _read_entry(secret: PullSecret, key: str, value: Any) -> bool:
    """Add the entry kubelet decodes from `value`; False when decoding it breaks the keyring."""
    entry = SecretEntry(key=key, normalized=normalize_key(key))
    secret.entries.append(entry)
    where = f"entry {key!r} of {secret.title}"
    if value is None:
        return True
    if not isinstance(value, dict):
        note = (" (a config.json setting: this payload is a config.json, not the legacy flat format)"
                if key.lower() in _HELPER_FIELDS + ("httpheaders", "proxies") else "")
        secret.breaks_keyring("secret.bad-json", f"{where} is a JSON {json_kind(value)}, not an object{note}",
                              f"use type {DOCKERCONFIGJSON} for a config.json, or remove {key!r} from the map")
        return False
    fields: dict[str, str | None] = {}
    for name in KUBELET_FIELDS:
        found, field_value = _go_field(value, name)
        if found and field_value is not None and not isinstance(field_value, str):
            secret.breaks_keyring("secret.bad-json",
                                  f"{name} of {where} is a JSON {json_kind(field_value)}, not a string",
                                  f"quote the {name} value as a JSON string")
            return False
        fields[name] = field_value or None
    entry.email = fields["email"]
    entry.ignored_fields = [str(k) for k in value if str(k).lower() not in KUBELET_FIELDS]
    if fields["auth"]:
        if not _decode_auth(secret, entry, fields["auth"], where):
            return False
        _lint_auth_mismatch(secret, entry, fields, where)
    elif fields["username"] or fields["password"]:
        entry.username = fields["username"]
        entry.password = Secret(fields["password"]) if fields["password"] else None
        entry.auth_source = "username/password"
        if entry.username and entry.password is None and ":" in entry.username:
            entry.hidden_in_username = Secret(entry.username.partition(":")[2])
    _lint_whitespace(secret, entry, where)
    _lint_control_characters(secret, entry, where)
    _lint_ignored(secret, entry, where)
    _lint_no_password(secret, entry, where)
    _lint_key(secret, entry)
    return True


def _decode_auth(secret: PullSecret, entry: SecretEntry, auth: str, where: str) -> bool:
    fix = (f"re-encode it: printf '%s' 'USER:PASSWORD' | base64 -w0 (no trailing newline), or recreate the secret: "
           f"{recreate_command(secret, entry.key)}")
    decoded = _kubelet_b64decode(auth)
    if decoded is None:
        secret.breaks_keyring("secret.bad-base64", f"the auth field of {where} is not base64 (illegal base64 data)",
                              fix)
        return False
    username, colon, password = decoded.decode("utf-8", "replace").partition(":")
    if not colon and (inner := _auth_encoded_twice(decoded)) is not None:
        secret.breaks_keyring("secret.double-base64",
                              f"the auth field of {where} is base64-encoded twice: it decodes to base64 text, not to "
                              f"username:password, and decoding that once more gives username {inner[0]!r} and a "
                              f"password ({password_text(Secret(inner[1]))}) (kubelet: unable to parse auth field, "
                              "must be formatted as base64(username:password))",
                              f"encode USER:PASSWORD once: printf '%s' 'USER:PASSWORD' | base64 -w0 (a tool or a "
                              f"template encoded the auth value again); or recreate the secret: "
                              f"{recreate_command(secret, entry.key)}")
        return False
    if not colon:
        secret.breaks_keyring("secret.bad-base64",
                              f"the auth field of {where} decodes to text without ':' (unable to parse auth field, "
                              "must be formatted as base64(username:password))", fix)
        return False
    entry.username, entry.password, entry.auth_source = username, Secret(password), "auth"
    return True


def _auth_encoded_twice(decoded: bytes) -> tuple[str, str] | None:
    """(username, password) when the decoded auth is itself the base64 of `username:password`."""
    try:
        text = decoded.decode("ascii").strip()
    except UnicodeDecodeError:
        return None
    if len(text) < 4 or not re.fullmatch(r"[A-Za-z0-9+/_-]+={0,2}", text):
        return None
    inner, _ = _lenient_b64decode(text)
    try:
        username, colon, password = inner.decode("utf-8").partition(":") if inner else ("", "", "")
    except UnicodeDecodeError:
        return None
    if not colon or not (username + password).isprintable():
        return None
    return username, password


def _lint_auth_mismatch(secret: PullSecret, entry: SecretEntry, fields: dict[str, str | None], where: str) -> None:
    problems = []
    if fields["username"] and fields["username"] != entry.username:
        problems.append(f"auth holds username {entry.username!r} but the username field says {fields['username']!r}")
    if entry.password is not None and fields["password"] and fields["password"] != entry.password.reveal():
        problems.append(f"the password field ({password_text(Secret(fields['password']))}) differs from the password "
                        f"in auth ({password_text(entry.password)})")
    if problems:
        secret.lint("secret.auth-mismatch",
                    f"{where}: {'; '.join(problems)} — kubelet, like docker, uses auth and ignores username/password",
                    "make them agree: regenerate auth with printf '%s' 'USER:PASSWORD' | base64 -w0, or remove auth "
                    f"so username/password are used; or recreate: {recreate_command(secret, entry.key)}")


def _lint_whitespace(secret: PullSecret, entry: SecretEntry, where: str) -> None:
    for what, value, shown in _credential_values(entry):
        if not value or value == value.strip():
            continue
        end, char = ("ends", value[-1]) if value[-1].isspace() else ("starts", value[0])
        name = _WHITESPACE_NAMES.get(char, f"whitespace (U+{ord(char):04X})")
        cause = {"\n": " — almost certainly from `echo` without -n", "\r": " — a Windows (CRLF) line ending"}
        origin = "decoded from auth" if entry.auth_source == "auth" else f"from the {what} field"
        how = ("re-encode auth without it: printf '%s' 'USER:PASSWORD' | base64 -w0 (or echo -n)"
               if entry.auth_source == "auth" else f"remove it from the {what} field")
        secret.lint("secret.whitespace",
                    f"the {shown} of {where} ({origin}) {end} with {name}"
                    f"{cause.get(char, '') if end == 'ends' else ''}; the registry will most likely reject it",
                    f"{how}, or recreate the secret: {recreate_command(secret, entry.key)}")


def _credential_values(entry: SecretEntry) -> list[tuple[str, str | None, str]]:
    """(field, value, how a message shows it) for the username and the password."""
    values = [("username", entry.username, f"username {entry.shown_username!r}")]
    if entry.password is not None:
        values.append(("password", entry.password.reveal(), f"password ({password_text(entry.password)})"))
    return values


def _lint_control_characters(secret: PullSecret, entry: SecretEntry, where: str) -> None:
    """Control characters (ESC, BEL, NUL…) inside a username or password: a terminal or an editor put them there.
    Whitespace at either end is `_lint_whitespace`'s."""
    for what, value, shown in _credential_values(entry):
        if not value:
            continue
        found = dict.fromkeys(c for c in value.strip() if unicodedata.category(c) == "Cc")
        found.update(dict.fromkeys(c for c in value if unicodedata.category(c) == "Cc" and not c.isspace()))
        if not found:
            continue
        names = ", ".join(f"{_CONTROL_NAMES[c]} (0x{ord(c):02X})" if c in _CONTROL_NAMES else f"U+{ord(c):04X}"
                          for c in found)
        origin = "decoded from auth" if entry.auth_source == "auth" else f"from the {what} field"
        how = ("re-encode auth from the right value: printf '%s' 'USER:PASSWORD' | base64 -w0"
               if entry.auth_source == "auth" else f"write the {what} field again without them")
        secret.lint("secret.whitespace",
                    f"the {shown} of {where} ({origin}) contains control character{'s' if len(found) > 1 else ''} "
                    f"{names} — typically from a terminal, a paste or an editor; the registry will most likely "
                    "reject it", f"{how}, or recreate the secret: {recreate_command(secret, entry.key)}")


def _lint_no_password(secret: PullSecret, entry: SecretEntry, where: str) -> None:
    """A username and no password: kubelet sends the username with an empty password."""
    if not entry.username or entry.password or entry.normalized is None:
        return
    recreate = recreate_command(secret, entry.key)
    if entry.hidden_in_username is not None:
        user = entry.username.partition(":")[0]
        secret.lint("secret.no-password",
                    f"{where} has no password, and its username {entry.shown_username!r} looks like "
                    "USER:PASSWORD in one field: kubelet sends all of it as the username with an empty password, so "
                    f"the registry sees user {user!r} with the wrong password (the rest, plus a trailing ':')",
                    "put the part after ':' in the password field, or replace both with auth: printf '%s' "
                    f"'USER:PASSWORD' | base64 -w0; or recreate the secret: {recreate}", severity="error")
        return
    if any(name.lower() in TOKEN_FIELDS for name in entry.ignored_fields):
        return  # secret.ignored-field already says that the token is ignored and the password empty
    origin = "auth decodes to a username and an empty password" if entry.auth_source == "auth" else \
        "it has a username but no password"
    secret.lint("secret.no-password",
                f"{where}: {origin} — kubelet sends username {entry.shown_username!r} with an empty password, "
                "which registries refuse (401), and it does not fall back to an anonymous pull",
                f"add the password (or an access token used as password): {recreate}")


def _lint_ignored(secret: PullSecret, entry: SecretEntry, where: str) -> None:
    tokens = [name for name in entry.ignored_fields if name.lower() in TOKEN_FIELDS]
    others = [name for name in entry.ignored_fields if name.lower() not in TOKEN_FIELDS]
    if tokens:
        effect = ("" if entry.password
                  else f" — kubelet sends username {entry.shown_username!r} with an empty password" if entry.username
                  else " — without username/password or auth this entry gives kubelet no credentials")
        secret.lint("secret.ignored-field",
                    f"{where} has {' and '.join(tokens)}, which kubelet ignores (it reads only username, password, "
                    f"auth and email){effect}",
                    "kubelet cannot use identity or registry tokens: store a username and password the registry "
                    "accepts (a robot account, deploy token or access token), e.g. "
                    + recreate_command(secret, entry.key))
    if others:
        secret.lint("secret.ignored-field",
                    f"{where} has {', '.join(others)}, which kubelet does not read (it reads only username, "
                    "password, auth and email)",
                    "remove or rename them: the fields kubelet reads are username, password, auth and email")


def _lint_key(secret: PullSecret, entry: SecretEntry) -> None:
    """What kubelet makes of the entry's key, and the keys that can never match what the user meant."""
    key, kube = entry.key, entry.normalized
    where = f"the key {key!r} of {secret.title}"
    if kube is None:
        secret.lint("secret.invalid-key", f"kubelet cannot parse {where} as a URL and skips the entry",
                    "write the key as host[:port] (e.g. registry.example.com:5000) or https://host[:port]/, with no "
                    "spaces")
        return
    host, port, path = key_parts(kube) or ("", "", "")
    if host == "registry-1.docker.io":
        secret.lint("secret.key-normalized",
                    f"{where} never matches Docker Hub images: kubelet compares it with docker.io/… names (3 host "
                    "labels against 2) and falls back only to index.docker.io",
                    "use the key https://index.docker.io/v1/ (kubectl's default --docker-server) or docker.io",
                    severity="warning")
    elif path in ("/v1", "/v2"):
        hub = " — no Docker Hub image matches it" if host == HUB_KEY else ""
        secret.lint("secret.key-normalized",
                    f"kubelet stores {where} as {kube!r}: only {path}/ with the trailing slash is dropped, so it "
                    f"matches only images under {kube}/…{hub}",
                    f"write {key}/ with the trailing slash, or just the host {host}", severity="warning")
    elif port in ("443", "80"):
        secret.lint("secret.key-normalized",
                    f"kubelet compares ports as strings: {where} matches only images written with :{port} "
                    f"({kube}/…), not {host}/…",
                    f"if the images are named without the port, drop it from the key: {host}{path}",
                    severity="warning")
    elif host != host.lower():
        secret.lint("secret.key-normalized",
                    f"kubelet matches host names case-sensitively: {where} does not match images on {host.lower()}",
                    f"write the key in lower case: {kube.lower()}", severity="warning")
    elif kube != key:
        hub = (" — used for Docker Hub images only when no other key matches them" if kube == HUB_KEY else "")
        secret.lint("secret.key-normalized", f"kubelet stores {where} as {kube!r}{hub}",
                    f"nothing to do; {kube} is what kubelet matches images against", severity="info")


def _lint_no_credentials(secret: PullSecret, keys: list[str], helpers: str | None) -> None:
    many = len(keys) > 1
    listed = ", ".join(keys)
    effect = helpers + ", so the secret carries no credentials" if helpers else ", so kubelet sends none for them"
    fix = f"put the credentials in the secret itself: {recreate_command(secret, keys[0])}"
    if helpers:
        fix += (" (one secret per registry), or docker login with credsStore/credHelpers removed from config.json "
                "and build the secret from that file")
    secret.lint("secret.no-credentials",
                f"{secret.title}: {'entries' if many else 'entry'} {listed} {'have' if many else 'has'} no auth, "
                f"username or password{effect}", fix)


def _lint_shared_keys(secret: PullSecret) -> None:
    by_key: dict[str, list[str]] = {}
    for entry in secret.entries:
        if entry.normalized is not None:
            by_key.setdefault(entry.normalized, []).append(entry.key)
    for kube, keys in by_key.items():
        if len(keys) > 1:
            secret.lint("secret.key-normalized",
                        f"the keys {', '.join(map(repr, keys))} of {secret.title} all become kubelet key {kube!r}; "
                        "kubelet tries their credentials in an unpredictable order (Go map iteration)",
                        "keep one entry per registry", severity="warning")


# --- the decode-secret report ---------------------------------------------------------------------------------

def decode_secret_report(text: str, source: str, image: str | None = None) -> Report:
    """The `decode-secret` report: one result per input document, and with `image` the entries kubelet would use."""
    secrets = load_secrets(text, source)
    image_name = kubelet_image_name(image) if image else None
    matches = {id(s): Keyring.from_secrets([s]).lookup(image_name) for s in secrets} if image_name else {}
    matched = [s.label for s in secrets if matches.get(id(s))]
    report = Report(command="decode-secret")
    for secret in secrets:
        result = CheckResult(input=secret.label, target=_target(secret), diagnoses=list(secret.diagnoses),
                             extra={"entries": [e.to_json() for e in secret.entries]})
        if image is not None and image_name is not None and secret.format != "other":
            found = matches[id(secret)]
            result.extra["image"] = image_name
            result.extra["matches"] = [_match_json(entry, image_name) for entry, _ in found]
            if not found and not secret.keyring_error:
                result.diagnoses.append(_no_match(secret, image, image_name, matched))
        result.steps.append(_summary_step(secret, result))
        report.results.append(result)
    return report


def _target(secret: PullSecret) -> dict[str, Any]:
    return {"kind": "Secret", "name": secret.name, "namespace": secret.namespace, "type": secret.type,
            "format": secret.format, "data_key": secret.data_key, "source": secret.source,
            "document": secret.document}


def _match_json(entry: SecretEntry, image_name: str) -> dict[str, Any]:
    out = entry.to_json()
    out["via"] = "match" if urls_match(entry.normalized or "", image_name) else "docker-hub-fallback"
    return out


def _no_match(secret: PullSecret, image: str, image_name: str, matched: list[str]) -> Diagnosis:
    hub = image_name.startswith("docker.io/")
    hits: list[str] = []
    if not secret.read_by_kubelet:
        would = Keyring()
        would.add(secret)
        hits = [entry.key for entry, _ in would.lookup(image_name)]
        reason = "kubelet does not read this secret at all (see the errors above)"
        reason += f"; once that is fixed, {', '.join(hits)} would match" if hits else ""
    else:
        reason = "no entry matches (" + ("; ".join(f"{e.key}: {explain_mismatch(e.normalized, image_name)}"
                                                   for e in secret.entries if e.normalized is not None)
                                         or "no entries") + ")"
        reason += " and there is no index.docker.io entry for the Docker Hub fallback" if hub else ""
    effect = (f"{', '.join(matched)} in the same input does match" if matched
              else "kubelet pulls anonymously (or with the node's own credentials)")
    message = (f"{secret.title} gives kubelet no credentials for {image} (looked up as {image_name}): {reason}; "
               f"{effect}")
    server = "https://index.docker.io/v1/" if hub else image_name.partition("/")[0]
    errors = list(dict.fromkeys(d.code for d in secret.diagnoses if d.severity == "error"))
    first = f"fix {', '.join(errors)} first" if errors else "make kubelet read this secret first"
    if hits:
        fix = (f"no new entry is needed: {first} (see above); then {', '.join(hits)} "
               f"{'matches' if len(hits) == 1 else 'match'} {image_name}")
    elif not secret.read_by_kubelet:
        fix = f"{first} (see above), and add an entry for {server}: {recreate_command(secret, server)}"
    else:
        fix = f"add an entry for {server}: {recreate_command(secret, server)}"
    return diagnose("secret.no-match", message, fix, severity="info" if matched else None)


def _summary_step(secret: PullSecret, result: CheckResult) -> StepResult:
    severities = {d.severity for d in result.diagnoses}
    status = "fail" if "error" in severities else "warn" if "warning" in severities else "ok"
    if secret.format == "other":
        summary = "not a pull secret"
    elif secret.keyring_error:
        summary = f"kubelet's keyring build fails: {secret.keyring_error}"
    elif not secret.read_by_kubelet:
        summary = "kubelet gets nothing from this secret as written"
    else:
        count, usable = len(secret.entries), sum(e.usable for e in secret.entries)
        summary = f"kubelet reads {count} entr{'y' if count == 1 else 'ies'}, {usable} usable"
    if "matches" in result.extra:
        summary += f"; {len(result.extra['matches'])} credential(s) for {result.extra['image']}"
    details = {"format": secret.format, "data_key": secret.data_key, "read_by_kubelet": secret.read_by_kubelet,
               "usable": secret.usable, "keyring_error": secret.keyring_error}
    return StepResult(name="secret", status=status, summary=summary, details=details)
