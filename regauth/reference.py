"""Image references, parsed and normalised the way the docker CLI does it (distribution/reference, specs §6).

`parse_reference("alpine")` gives registry `docker.io`, repository `library/alpine`, tag `latest`. Errors are
`ReferenceError` with distribution's wording where it has one, plus the offending part of the input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from regauth.errors import InputError

DOCKER_HUB = "docker.io"
DOCKER_HUB_API_HOST = "registry-1.docker.io"
_LEGACY_HUB = "index.docker.io"
_DEFAULT_TAG = "latest"
_MAX_PATH = 255

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_RE = re.compile(rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?")
_PATH_COMPONENT_RE = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DIGEST_RE = re.compile(r"([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*):([0-9a-fA-F]{32,})")
_IDENTIFIER_RE = re.compile(r"[a-f0-9]{64}")
# Algorithms go-digest registers by default, with their hex length.
_DIGEST_HEX_LENGTH = {"sha256": 64, "sha384": 96, "sha512": 128}


class ReferenceError(InputError):
    """The image reference the user gave cannot be parsed."""


@dataclass(frozen=True)
class Reference:
    """A parsed, normalised image reference."""

    input: str
    registry: str
    repository: str
    tag: str | None
    digest: str | None
    given_tag: str | None = None

    @property
    def api_host(self) -> str:
        """Host serving the v2 API: Docker Hub's `docker.io` is really `registry-1.docker.io`."""
        return DOCKER_HUB_API_HOST if self.registry == DOCKER_HUB else self.registry

    @property
    def is_docker_hub(self) -> bool:
        """True for `docker.io` references and for the explicit API host `registry-1.docker.io`."""
        return self.api_host == DOCKER_HUB_API_HOST

    @property
    def reference(self) -> str:
        """The manifest reference for `/v2/<name>/manifests/<reference>`: digest if given, else tag."""
        return self.digest or self.tag or _DEFAULT_TAG

    def api_base(self, plain_http: bool = False) -> str:
        return f"{'http' if plain_http else 'https'}://{self.api_host}"

    @property
    def canonical(self) -> str:
        name = f"{self.registry}/{self.repository}"
        return f"{name}@{self.digest}" if self.digest else f"{name}:{self.tag}"

    def to_target(self, plain_http: bool = False) -> dict:
        return {
            "registry": self.registry,
            "api_base": self.api_base(plain_http),
            "repository": self.repository,
            "tag": self.tag,
            "digest": self.digest,
        }


def parse_reference(text: str) -> Reference:
    """Parse `text` like `docker pull` does (ParseDockerRef): Hub defaults, `latest` default, digest wins over tag."""
    if _IDENTIFIER_RE.fullmatch(text):
        raise ReferenceError(f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings")
    name, has_digest, digest = text.partition("@")
    name, tag = _split_tag(name)
    if not name:
        raise ReferenceError(f"repository name must have at least one component ({text!r})")
    registry, repository = _split_domain(name)
    _check_repository(repository)
    if tag is not None:
        _check_tag(tag)
    if has_digest:
        _check_digest(digest)
        return Reference(text, registry, repository, None, digest, given_tag=tag)
    return Reference(text, registry, repository, tag or _DEFAULT_TAG, None, given_tag=tag)


def _split_tag(name: str) -> tuple[str, str | None]:
    """Split `name[:tag]`; a `:` followed by a `/` belongs to a registry port, not a tag."""
    head, sep, tail = name.rpartition(":")
    if not sep or "/" in tail:
        return name, None
    return head, tail


def _split_domain(name: str) -> tuple[str, str]:
    """distribution's splitDockerDomain: decide whether the first path component is a registry host."""
    first, slash, rest = name.partition("/")
    looks_like_host = first in ("localhost", _LEGACY_HUB) or any(c in first for c in ".:") or first.lower() != first
    if slash and looks_like_host:
        registry, repository = (DOCKER_HUB if first == _LEGACY_HUB else first), rest
    else:
        registry, repository = DOCKER_HUB, name
    if not _DOMAIN_RE.fullmatch(registry):
        raise ReferenceError(f"invalid reference format: registry host ({_shown(registry)}) is not a valid host[:port]")
    if registry == DOCKER_HUB and "/" not in repository:
        repository = "library/" + repository
    return registry, repository


def _check_repository(path: str) -> None:
    if re.search("[A-Z]", path):
        raise ReferenceError(f"invalid reference format: repository name ({_shown(path)}) must be lowercase")
    for component in path.split("/"):
        if not _PATH_COMPONENT_RE.fullmatch(component):
            raise ReferenceError(
                f"invalid reference format: bad path component {component!r} in repository name ({_shown(path)}); "
                "use [a-z0-9] joined by '.', '_', '__' or '-'"
            )
    if len(path) > _MAX_PATH:
        raise ReferenceError(
            f"repository name must not be more than {_MAX_PATH} characters ({_shown(path[:40])}... has {len(path)})"
        )


def _check_tag(tag: str) -> None:
    if not tag:
        raise ReferenceError("invalid tag format: empty tag after ':'")
    if len(tag) > 128:
        raise ReferenceError(
            f"invalid tag format: tag is {len(tag)} characters, at most 128 allowed ({_shown(tag[:40])}...)"
        )
    if not _TAG_RE.fullmatch(tag):
        raise ReferenceError(
            f"invalid tag format: {tag!r} (allowed: letters, digits, '_', '.', '-'; no leading '.' or '-')"
        )


def _check_digest(digest: str) -> None:
    match = _DIGEST_RE.fullmatch(digest)
    if not match:
        raise ReferenceError(f"invalid digest format: {digest!r} (expected algorithm:hex, e.g. sha256:<64 hex>)")
    algorithm, hex_part = match.groups()
    length = _DIGEST_HEX_LENGTH.get(algorithm)
    if length is None:
        raise ReferenceError(f"unsupported digest algorithm: {algorithm} (in {digest})")
    if len(hex_part) != length:
        raise ReferenceError(
            f"invalid digest format: {algorithm} needs {length} hex characters, got {len(hex_part)} ({digest})"
        )
    if hex_part.lower() != hex_part:
        raise ReferenceError(f"invalid digest format: {algorithm} hex must be lower-case ({digest})")


def _shown(text: str) -> str:
    """User input as it may appear inside a one-line message."""
    return text if text.isprintable() else repr(text)
