"""Find and parse docker's config.json (and the legacy ~/.dockercfg) into entries, credsStore and credHelpers.

Parsing never raises: a broken file or entry becomes a `credentials.config-invalid` diagnosis and is skipped.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from regauth.credentials.keys import HUB_KEY
from regauth.credentials.model import CredentialOptions
from regauth.diagnoses import diagnose
from regauth.errors import json_kind
from regauth.report import Diagnosis, Severity
from regauth.secret import Secret

_STRING_FIELDS = ("auth", "username", "password", "identitytoken", "registrytoken", "email", "serveraddress")
_ACR_TOKEN_FIELDS = ("accessToken", "refreshToken", "loginServer")


@dataclass(eq=False)
class AuthEntry:
    """One `auths` entry, decoded."""

    key: str
    username: str | None = None
    password: Secret | None = None
    identity_token: Secret | None = None
    registry_token: Secret | None = None
    #: username and password came from `auth` (the only form containers/image reads), not from the
    #: `username`/`password` fields docker also accepts
    from_auth: bool = False

    @property
    def has_secret(self) -> bool:
        return bool(self.password or self.identity_token or self.registry_token)


@dataclass(eq=False)
class DockerConfig:
    """What a config file says about credentials."""

    path: Path
    exists: bool = False
    legacy: bool = False
    entries: dict[str, AuthEntry] = field(default_factory=dict)  # in file order
    creds_store: str | None = None
    cred_helpers: dict[str, str] = field(default_factory=dict)
    has_auths: bool = False  # an `auths` map was present, even an empty one
    diagnoses: list[Diagnosis] = field(default_factory=list)

    @property
    def contains_auth(self) -> bool:
        """docker's ContainsAuth: any credsStore, credHelpers or auths at all."""
        return bool(self.creds_store or self.cred_helpers or self.entries or self.has_auths)


def home_dir(env: Mapping[str, str]) -> Path:
    return Path(env["HOME"]) if env.get("HOME") else Path.home()


def config_dir(options: CredentialOptions, env: Mapping[str, str]) -> Path:
    """`--config DIR` > `$DOCKER_CONFIG` > `~/.docker`."""
    if options.config_dir:
        return Path(options.config_dir)
    if env.get("DOCKER_CONFIG"):
        return Path(env["DOCKER_CONFIG"])
    return home_dir(env) / ".docker"


def config_path(options: CredentialOptions, env: Mapping[str, str]) -> Path:
    return config_dir(options, env) / "config.json"


def legacy_path(env: Mapping[str, str]) -> Path:
    return home_dir(env) / ".dockercfg"


def decode_auth(value: str) -> tuple[str, str, bool]:
    """Decode an `auth` value into (username, password, padded); raises ValueError when docker would reject it."""
    text = value.replace("\r", "").replace("\n", "")
    padded = not len(text) % 4
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        decoded = raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("is not valid base64 of username:password") from exc
    username, sep, password = decoded.partition(":")
    if not sep:
        raise ValueError("decodes to text without a ':' between username and password")
    if not username:
        raise ValueError("decodes to an empty username")
    return username, password.strip("\x00"), padded


def load_config(path: Path, legacy: bool = False) -> DockerConfig:
    """Read a config.json (or, with legacy, a ~/.dockercfg in either of its formats); a missing file is empty."""
    config = DockerConfig(path=path, legacy=legacy)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return config
    except (OSError, UnicodeDecodeError) as exc:
        config.exists = True
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "it is not UTF-8 text"
        _invalid(config, f"{path} cannot be read ({reason}), so its credentials are not used.",
                 f"Fix the permissions or contents of {path}.")
        return config
    config.exists = True
    if not text.strip():
        return config
    if legacy and not text.lstrip().startswith("{"):
        _parse_legacy_lines(config, text)
        return config
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        _invalid(config, f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}), so none "
                         "of its credentials can be used.",
                 f"Repair {path} around line {exc.lineno} or move it away and log in again.")
        return config
    except RecursionError:
        _invalid(config, f"{path} is JSON nested too deeply to read, so none of its credentials can be used.",
                 f"Replace {path} with a JSON object such as {{\"auths\": {{}}}}.")
        return config
    if not isinstance(data, dict):
        _invalid(config, f"{path} holds a JSON {json_kind(data)} instead of an object.",
                 f"Replace {path} with a JSON object such as {{\"auths\": {{}}}}.")
        return config
    if legacy:
        _parse_auths(config, data, "")
    else:
        _parse_config(config, data)
    return config


def _parse_config(config: DockerConfig, data: dict[str, Any]) -> None:
    path = config.path
    if not any(k in data for k in ("auths", "credsStore", "credHelpers")) and any(k in data for k in _ACR_TOKEN_FIELDS):
        server = data.get("loginServer") if isinstance(data.get("loginServer"), str) else "<loginServer>"
        _invalid(config, f"{path} has no \"auths\", \"credsStore\" or \"credHelpers\" and looks like the output of "
                         "`az acr login --expose-token`, which is not a docker config.",
                 f"Restore {path} and log in with `docker login {server} -u 00000000-0000-0000-0000-000000000000 "
                 "--password-stdin`, passing the token on stdin.")
        return
    store = data.get("credsStore")
    if isinstance(store, str):
        config.creds_store = store or None
    elif store is not None:
        _invalid(config, f"\"credsStore\" in {path} is not a string.", f"Set \"credsStore\" in {path} to a helper "
                                                                       "name such as \"desktop\" or remove it.")
    helpers = data.get("credHelpers")
    if isinstance(helpers, dict):
        for key, name in helpers.items():
            if isinstance(name, str) and name:
                config.cred_helpers[key] = name
            else:
                _invalid(config, f"credHelpers entry '{key}' in {path} does not name a helper.",
                         f"Set credHelpers['{key}'] in {path} to a helper name or remove the entry.")
    elif helpers is not None:
        _invalid(config, f"\"credHelpers\" in {path} is not an object.",
                 f"Make \"credHelpers\" in {path} an object mapping registries to helper names, or remove it.")
    auths = data.get("auths")
    if isinstance(auths, dict):
        config.has_auths = True
        _parse_auths(config, auths, "auths")
    elif auths is not None:
        _invalid(config, f"\"auths\" in {path} is not an object.",
                 f"Make \"auths\" in {path} an object keyed by registry, or remove it.")


def _parse_auths(config: DockerConfig, auths: dict[str, Any], where: str) -> None:
    path = config.path
    for key, raw in auths.items():
        name = f"{where}['{key}']" if where else f"'{key}'"
        if not isinstance(raw, dict):
            _invalid(config, f"The entry {name} in {path} is not an object, so it is skipped.",
                     f"Make {name} in {path} an object with an \"auth\" field, or remove it.")
            continue
        bad = [f for f in _STRING_FIELDS if raw.get(f) is not None and not isinstance(raw[f], str)]
        if bad:
            _invalid(config, f"The \"{bad[0]}\" field of {name} in {path} is not a string, so the entry is skipped.",
                     f"Write \"{bad[0]}\" of {name} in {path} as a JSON string.")
            continue
        entry = _entry(config, key, raw, name)
        if entry is not None:
            config.entries[key] = entry


def _entry(config: DockerConfig, key: str, raw: dict[str, Any], name: str) -> AuthEntry | None:
    username, password = raw.get("username") or None, raw.get("password") or ""
    if raw.get("auth"):
        try:
            username, password, padded = decode_auth(raw["auth"])
        except ValueError as exc:
            _invalid(config, f"The \"auth\" value of {name} in {config.path} {exc}, so docker fails to load the "
                             "file and the entry is skipped.",
                     f"Set \"auth\" of {name} in {config.path} to base64 of username:password, or log in again.")
            return None
        if not padded:
            _invalid(config, f"The \"auth\" value of {name} in {config.path} is base64 without '=' padding, which "
                             "kubelet accepts but docker and podman reject.",
                     f"Re-encode \"auth\" of {name} in {config.path} with padding (base64 of username:password).",
                     severity="warning")
    return AuthEntry(key=key, username=username, password=Secret(password) if password else None,
                     identity_token=Secret(raw["identitytoken"]) if raw.get("identitytoken") else None,
                     registry_token=Secret(raw["registrytoken"]) if raw.get("registrytoken") else None,
                     from_auth=bool(raw.get("auth")))


def _parse_legacy_lines(config: DockerConfig, text: str) -> None:
    """The pre-JSON ~/.dockercfg: `auth = <base64>` and `email = <addr>` lines, for Docker Hub."""
    fields = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep:
            fields[name.strip()] = value.strip()
    if "auth" not in fields:
        _invalid(config, f"{config.path} is neither JSON nor the old `auth = …` line format.",
                 f"Remove {config.path}; docker no longer reads it, and podman expects JSON.")
        return
    entry = _entry(config, HUB_KEY, {"auth": fields["auth"]}, f"'{HUB_KEY}'")
    if entry is not None:
        config.entries[HUB_KEY] = entry


def _invalid(config: DockerConfig, message: str, fix: str, severity: Severity | None = None) -> None:
    config.diagnoses.append(diagnose("credentials.config-invalid", message, fix, severity=severity))
