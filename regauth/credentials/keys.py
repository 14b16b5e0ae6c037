"""Credential keys: how docker and containers/image turn a registry name into a config key, and why a key misses."""

from __future__ import annotations

import re
from dataclasses import dataclass

HUB_KEY = "https://index.docker.io/v1/"
HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")


def split_host_port(hostport: str) -> tuple[str, str | None]:
    """`host[:port]` (IPv6 in brackets) → (host without brackets, port or None)."""
    if hostport.startswith("["):
        end = hostport.find("]")
        if end != -1:
            rest = hostport[end + 1:]
            return hostport[1:end], (rest[1:] if rest.startswith(":") else None)
    if hostport.count(":") == 1:
        host, _, port = hostport.partition(":")
        return host, port
    return hostport, None


def join_host_port(host: str, port: str | None) -> str:
    if not port:
        return host
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _url_host(value: str) -> str | None:
    """`host[:port]` of a URL the way Go's url.Parse + Hostname()/Port() see it, or None when it would not parse."""
    scheme, _, rest = value.partition("://")
    if not _SCHEME.fullmatch(scheme):
        return None
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0].rpartition("@")[2]
    host, port = split_host_port(authority)
    if port and not port.isdigit():
        return None
    return join_host_port(host, port) if host else None


def convert_to_hostname(key: str) -> str:
    """docker's credentials.ConvertToHostname: a URL becomes `host[:port]`; anything else is cut at the first `/`."""
    if "://" in key:
        host = _url_host(key)
        if host:
            return host
    return key.split("/", 1)[0]


def is_hub(registry: str) -> bool:
    return registry in HUB_HOSTS


def docker_key(registry: str) -> str:
    """The key the docker CLI looks up for a reference domain (getAuthConfigKey).

    Only `docker.io` and `index.docker.io` become the Hub key; an explicit `registry-1.docker.io` stays literal,
    exactly as docker does.
    """
    host = convert_to_hostname(registry)
    return HUB_KEY if host in ("docker.io", "index.docker.io") else host


def containers_registry(registry: str) -> str:
    """The reference domain containers/image uses (`index.docker.io` is normalised to `docker.io`)."""
    return "docker.io" if registry == "index.docker.io" else registry


def containers_normalize_registry(registry: str) -> str:
    """c/image normalizeRegistry: Hub spellings collapse to `index.docker.io`."""
    return "index.docker.io" if registry in ("docker.io", "registry-1.docker.io") else registry


def containers_normalize_key(key: str, legacy: bool = False) -> str:
    """c/image normalizeAuthFileKey: strip an http(s) scheme; URL-ish and legacy keys lose their path too."""
    stripped = key.removeprefix("http://").removeprefix("https://")
    if legacy or stripped != key:
        stripped = stripped.split("/", 1)[0]
    return containers_normalize_registry(stripped)


def containers_keys(registry: str, repository: str) -> list[str]:
    """Exact keys c/image tries, most specific first: `reg/ns/repo`, `reg/ns`, `reg`."""
    name = containers_registry(registry) + (f"/{repository}" if repository else "")
    keys = [name]
    while "/" in name:
        name = name.rsplit("/", 1)[0]
        keys.append(name)
    return keys


@dataclass(eq=False)
class KeyMismatch:
    """An entry key that is about the same registry but is not the key docker looks up."""

    key: str
    wanted: str  # the key that would match
    docker_matches: bool  # docker still finds it through ConvertToHostname
    why: str  # a clause: why the key is not the wanted one


def explain_mismatch(registry: str, key: str) -> KeyMismatch | None:
    """Why `key` is not docker's key for `registry`, or None when it is that key or concerns another registry."""
    wanted = docker_key(registry)
    if key == wanted:
        return None
    host = convert_to_hostname(key)
    hub_like = containers_normalize_key(key, legacy=True) == "index.docker.io"
    if wanted == HUB_KEY:
        if hub_like:
            return KeyMismatch(key, wanted, False, f"docker reads Docker Hub credentials only under '{HUB_KEY}'")
        return None
    if host == wanted:
        return KeyMismatch(key, wanted, True, f"it matches '{wanted}' only after docker strips the scheme and path, "
                                              "and tools that compare keys exactly (ggcr-based ones such as crane "
                                              "or kaniko) do not match it")
    if is_hub(registry) and hub_like:
        return KeyMismatch(key, wanted, False, f"docker looks up '{wanted}' literally for images that name "
                                               f"{registry} (write them as docker.io/… to use '{HUB_KEY}')")
    have_host, have_port = split_host_port(host)
    want_host, want_port = split_host_port(wanted)
    if have_host.lower() != want_host.lower():
        return None
    if have_port == want_port:
        return KeyMismatch(key, wanted, False, f"keys are compared case-sensitively and the registry is '{wanted}'")
    if have_port is None:
        return KeyMismatch(key, wanted, False, f"it has no port, and docker compares ports exactly ('{wanted}')")
    if want_port is None:
        return KeyMismatch(key, wanted, False, f"it names port {have_port} but the registry '{wanted}' has none, "
                                               "and docker compares ports exactly")
    return KeyMismatch(key, wanted, False, f"it is for port {have_port}, not {want_port}, and docker compares ports "
                                           f"exactly ('{wanted}')")
