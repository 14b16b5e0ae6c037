"""containers auth.json (podman, buildah, skopeo): which files are read, and which entry containers/image picks."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from regauth.credentials.dockerconfig import AuthEntry, DockerConfig, home_dir, legacy_path
from regauth.credentials.keys import (containers_keys, containers_normalize_key, containers_normalize_registry,
                                      containers_registry)
from regauth.credentials.model import CredentialOptions


@dataclass(frozen=True)
class AuthFile:
    """One file in the containers/image search order."""

    path: Path
    kind: str  # auth.json | docker-config | dockercfg
    explicit: bool = False  # --authfile or $REGISTRY_AUTH_FILE: the only file read

    @property
    def legacy(self) -> bool:
        return self.kind == "dockercfg"


@dataclass(eq=False)
class FileMatch:
    """The entry (or registry helper) containers/image takes from one file."""

    file: AuthFile
    key: str
    how: str  # exact | namespace | normalised | helper
    entry: AuthEntry | None = None  # as containers/image decodes it (see containers_entry)
    helper: str | None = None
    docker_only: bool = False  # the entry holds a secret only docker reads

    @property
    def usable(self) -> bool:
        """c/image stops at a file when the entry decodes to anything at all (or names a helper)."""
        if self.helper:
            return True
        entry = self.entry
        return entry is not None and bool(entry.username or entry.password or entry.identity_token)


def containers_entry(entry: AuthEntry) -> AuthEntry:
    """An entry as containers/image decodes it: only `auth` (username:password) and, beside it, `identitytoken`.

    c/image's dockerAuthConfig has no `username`/`password`/`registrytoken` fields, and an entry without a
    decodable `auth` is skipped even when it holds an `identitytoken`.
    """
    if not entry.from_auth:
        return AuthEntry(entry.key)
    return AuthEntry(entry.key, entry.username, entry.password, entry.identity_token, from_auth=True)


def _file_match(file: AuthFile, key: str, how: str, entry: AuthEntry) -> FileMatch:
    seen = containers_entry(entry)
    return FileMatch(file, key, how, entry=seen, docker_only=entry.has_secret and not seen.has_secret)


def chain(options: CredentialOptions, env: Mapping[str, str], docker_config: Path) -> list[AuthFile]:
    """`--authfile` > `$REGISTRY_AUTH_FILE` (alone), else primary auth.json, XDG config auth.json, config.json,
    ~/.dockercfg."""
    if options.authfile:
        return [AuthFile(Path(options.authfile), "auth.json", explicit=True)]
    if env.get("REGISTRY_AUTH_FILE"):
        return [AuthFile(Path(env["REGISTRY_AUTH_FILE"]), "auth.json", explicit=True)]
    home = home_dir(env)
    if sys.platform in ("darwin", "win32"):
        primary = home / ".config" / "containers" / "auth.json"
    elif env.get("XDG_RUNTIME_DIR"):
        primary = Path(env["XDG_RUNTIME_DIR"]) / "containers" / "auth.json"
    else:
        primary = Path(f"/run/containers/{os.getuid()}/auth.json")
    config_home = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
    files = [AuthFile(primary, "auth.json")]
    if config_home / "containers" / "auth.json" != primary:
        files.append(AuthFile(config_home / "containers" / "auth.json", "auth.json"))
    files += [AuthFile(docker_config, "docker-config"), AuthFile(legacy_path(env), "dockercfg")]
    return files


def find_in_file(file: AuthFile, config: DockerConfig, registry: str, repository: str) -> FileMatch | None:
    """c/image's per-file lookup: credHelpers[registry], exact keys most specific first, then normalised keys."""
    domain = containers_registry(registry)
    if domain in config.cred_helpers:
        return FileMatch(file, domain, "helper", helper=config.cred_helpers[domain])
    keys = [domain] if file.legacy else containers_keys(registry, repository)
    for key in keys:
        if key in config.entries:
            return _file_match(file, key, "exact" if key == domain else "namespace", config.entries[key])
    wanted = containers_normalize_registry(domain)
    for key, entry in config.entries.items():
        if containers_normalize_key(key, file.legacy) == wanted:
            return _file_match(file, key, "normalised", entry)
    return None


def search(files: list[AuthFile], load: Callable[[AuthFile], DockerConfig], registry: str,
           repository: str) -> tuple[FileMatch | None, list[tuple[AuthFile, FileMatch | None]]]:
    """Walk the files in order; the first usable match wins. Also returns what each file gave."""
    seen: list[tuple[AuthFile, FileMatch | None]] = []
    for file in files:
        match = find_in_file(file, load(file), registry, repository)
        seen.append((file, match))
        if match is not None and match.usable:
            return match, seen
    return None, seen
