"""kubelet's pull-secret keyring (`pkg/credentialprovider/keyring.go`), specs §8.4–§8.5.

Keys are normalised when added (`https://` assumed, a leading `/v1/` or `/v2/` dropped, `host[:port][/path]` kept),
kept in reverse lexicographic order, and matched against the image's normalised name (`docker.io/library/nginx`):
equal ports, equal number of host labels, one glob per label, the key's path a plain string prefix of the image's.
If nothing matches a Docker Hub image, the entries stored under `index.docker.io` are used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from regauth.reference import parse_reference

if TYPE_CHECKING:
    from regauth.kube.secrets import PullSecret, SecretEntry

HUB_KEY = "index.docker.io"

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Characters Go's url.Parse accepts in a host (RFC 3986 reg-name, plus `:` `[` `]` `<` `>` `"`, plus non-ASCII).
_HOST = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:\[\]<>\"\x80-\U0010ffff]*")


@dataclass(frozen=True)
class _URL:
    host: str  # with the port, as Go's URL.Host
    path: str


def _parse_schemeless(text: str) -> _URL | None:
    """Host and path of Go's `url.Parse("https://" + text)`, or None where Go reports an error."""
    if _CONTROL.search(text):
        return None
    rest = re.split(r"[?#]", text, maxsplit=1)[0]
    authority, slash, path = rest.partition("/")
    host = authority.rpartition("@")[2]
    if host.startswith("["):
        end = host.rfind("]")
        if end < 0:
            return None
        port = host[end + 1:]
    else:
        port = host[host.rfind(":"):] if ":" in host else ""
    if not re.fullmatch(r"(:[0-9]*)?", port) or not _HOST.fullmatch(host):
        return None
    return _URL(host, slash + path)


def _split_host_port(host: str) -> tuple[str, str]:
    """Go's `net.SplitHostPort`, falling back to (host, "") on error as kubelet does."""
    if host.startswith("["):
        end = host.find("]")
        if end > 0 and host[end + 1:end + 2] == ":" and "[" not in host[1:end] and "]" not in host[end + 2:]:
            return host[1:end], host[end + 2:]
        return host, ""
    if host.count(":") == 1 and "[" not in host and "]" not in host:
        name, _, port = host.partition(":")
        return name, port
    return host, ""


def normalize_key(key: str) -> str | None:
    """The keyring key kubelet stores an entry under, or None if kubelet cannot parse the key and skips it."""
    if key.startswith(("https://", "http://")):
        key = key.split("://", 1)[1]
    parsed = _parse_schemeless(key)
    if parsed is None:
        return None
    path = parsed.path
    if path.startswith(("/v1/", "/v2/")):
        path = path[3:]
    return parsed.host + path if path not in ("", "/") else parsed.host


class _BadPattern(Exception):
    """Go's filepath.ErrBadPattern: such a glob never matches."""


def _class_bound(pattern: str, i: int) -> tuple[str, int]:
    """One (possibly escaped) character of a `[...]` class, as Go's getEsc."""
    if i >= len(pattern) or pattern[i] in "-]":
        raise _BadPattern
    if pattern[i] == "\\":
        i += 1
        if i >= len(pattern):
            raise _BadPattern
    if i + 1 >= len(pattern):
        raise _BadPattern
    return pattern[i], i + 1


def _match_class(pattern: str, i: int, char: str) -> tuple[bool, int]:
    """Match `char` against the class starting after `[` at pattern[i]; returns (matched, index after `]`)."""
    negated = i < len(pattern) and pattern[i] == "^"
    i += negated
    matched, ranges = False, 0
    while not (i < len(pattern) and pattern[i] == "]" and ranges):
        low, i = _class_bound(pattern, i)
        high = low
        if pattern[i] == "-":
            high, i = _class_bound(pattern, i + 1)
        matched = matched or low <= char <= high
        ranges += 1
    return matched != negated, i + 1


def glob_match(pattern: str, name: str) -> bool:
    """Go's `filepath.Match` on Unix: `*`, `?`, `[...]` (with `^` negation), `\\` escapes; case-sensitive.

    `*` and `?` never match `/`; a malformed pattern never matches (Go returns ErrBadPattern).
    """
    try:
        return _glob(pattern, name)
    except _BadPattern:
        return False


def _glob(pattern: str, name: str) -> bool:
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            rest = pattern[i + 1:]
            stop = name.find("/")
            return any(_glob(rest, name[k:]) for k in range((len(name) if stop < 0 else stop) + 1))
        if not name:
            return False
        if char == "?":
            ok, i = name[0] != "/", i + 1
        elif char == "[":
            ok, i = _match_class(pattern, i + 1, name[0])
        elif char == "\\":
            if i + 1 >= len(pattern):
                raise _BadPattern
            ok, i = pattern[i + 1] == name[0], i + 2
        else:
            ok, i = char == name[0], i + 1
        if not ok:
            return False
        name = name[1:]
    return not name


def key_parts(key: str) -> tuple[str, str, str] | None:
    """(host, port, path) of a normalised keyring key as `URLsMatch` sees it; None if it does not parse."""
    parsed = _parse_schemeless(key)
    if parsed is None:
        return None
    host, port = _split_host_port(parsed.host)
    return host, port, parsed.path


def explain_mismatch(key: str, image_name: str) -> str:
    """Why `urls_match(key, image_name)` is false, in a few words."""
    glob, target = key_parts(key), key_parts(image_name)
    if glob is None or target is None:
        return "kubelet cannot parse it"
    (glob_host, glob_port, glob_path), (host, port, path) = glob, target
    if glob_port != port:
        return f"port {glob_port or '(none)'} ≠ {port or '(none)'}"
    glob_labels, labels = glob_host.split("."), host.split(".")
    if len(glob_labels) != len(labels):
        return f"{len(glob_labels)} host labels vs {len(labels)} in {host}"
    if not path.startswith(glob_path):
        return f"path {glob_path} is not a prefix of {path or '(none)'}"
    mismatch = next(((g, t) for g, t in zip(glob_labels, labels) if not glob_match(g, t)), None)
    if mismatch is None:
        return "it matches"
    pattern, label = mismatch
    case = " (matching is case-sensitive)" if glob_match(pattern.lower(), label.lower()) else ""
    return f"label {pattern!r} does not match {label!r}{case}"


def urls_match(key: str, image_name: str) -> bool:
    """kubelet's `URLsMatchStr(key, image)`: does a normalised keyring key cover this normalised image name?"""
    glob, target = key_parts(key), key_parts(image_name)
    if glob is None or target is None:
        return False
    (glob_host, glob_port, glob_path), (host, port, path) = glob, target
    glob_labels, labels = glob_host.split("."), host.split(".")
    return (glob_port == port
            and len(glob_labels) == len(labels)
            and path.startswith(glob_path)
            and all(glob_match(g, t) for g, t in zip(glob_labels, labels)))


def is_docker_hub_image(image_name: str) -> bool:
    """kubelet's `isDefaultRegistryMatch`: the first component is docker.io/index.docker.io or not a host at all."""
    first, slash, _ = image_name.partition("/")
    if not first:
        return False
    return not slash or first in ("docker.io", HUB_KEY) or not any(c in first for c in ".:")


def kubelet_image_name(image: str) -> str:
    """The name kubelet looks up: the normalised repository without tag or digest (`nginx` → docker.io/library/nginx).

    Raises `regauth.reference.ReferenceError` (an InputError) for a reference that does not parse.
    """
    ref = parse_reference(image)
    return f"{ref.registry}/{ref.repository}"


class Keyring:
    """kubelet's BasicDockerKeyring over pull secrets.

    Several secrets (and entries) may share a key; their credentials are tried in the order they were added. Within
    one secret kubelet iterates a Go map, so the order of two entries with the same key is in fact unpredictable;
    here it is document order.
    """

    def __init__(self) -> None:
        self._creds: dict[str, list[tuple[SecretEntry, PullSecret]]] = {}

    @classmethod
    def from_secrets(cls, secrets: list[PullSecret]) -> Keyring:
        """The keyring kubelet builds from a pod's pull secrets, in `imagePullSecrets` order.

        Secrets kubelet does not read are skipped, and so are those it fails to decode (for a pod, that failure
        means no keyring at all: see `PullSecret.keyring_error`).
        """
        keyring = cls()
        for secret in secrets:
            if secret.read_by_kubelet and not secret.keyring_error:
                keyring.add(secret)
        return keyring

    def add(self, secret: PullSecret) -> None:
        """Add every entry whose key kubelet can parse, whether or not kubelet would read the secret."""
        for entry in secret.entries:
            if entry.normalized is not None:
                self._creds.setdefault(entry.normalized, []).append((entry, secret))

    @property
    def keys(self) -> list[str]:
        """The index, in the order kubelet tries it (reverse lexicographic)."""
        return sorted(self._creds, reverse=True)

    def lookup(self, image_name: str) -> list[tuple[SecretEntry, PullSecret]]:
        """Every credential kubelet would try for a normalised image name, in order."""
        found = [pair for key in self.keys if urls_match(key, image_name) for pair in self._creds[key]]
        if not found and is_docker_hub_image(image_name):
            return list(self._creds.get(HUB_KEY, []))
        return found
