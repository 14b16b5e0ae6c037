"""`login --save`: store credentials where docker would (helper or config.json), writing the file atomically."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from regauth.credentials import helpers
from regauth.credentials.dockerconfig import config_path
from regauth.credentials.keys import docker_key
from regauth.credentials.model import CredentialOptions
from regauth.secret import Secret


@dataclass
class SaveOutcome:
    """Where the credentials went, or why they did not."""

    ok: bool
    where: str  # config.json path or helper program
    key: str
    message: str
    refused: bool = False  # a credential store is configured but unusable, and plain text was not allowed

    @property
    def code(self) -> str | None:
        """The diagnosis code for a failure (`save.plaintext-refused` or `save.failed`)."""
        if self.ok:
            return None
        return "save.plaintext-refused" if self.refused else "save.failed"


def save_credentials(registry: str, username: str, password: Secret | None, identity_token: Secret | None,
                     options: CredentialOptions, allow_plaintext: bool = False,
                     env: Mapping[str, str] | None = None) -> SaveOutcome:
    """Store like `docker login`: credHelpers[key] → credsStore → default store → config.json `auths[key]`.

    With an identity (refresh) token the password is dropped, as docker does.
    """
    if not (password or identity_token):
        raise ValueError("save_credentials needs a password or an identity token")
    env = os.environ if env is None else env
    key = docker_key(registry)
    path = _real(config_path(options, env))
    try:
        data = _read(path)
    except ValueError as exc:
        return SaveOutcome(False, str(path), key, f"Not saving: {exc}.")
    helper, setting = _store_for(data, key, env)
    if helper:
        if helpers.find(helper, env):
            return _save_to_helper(path, data, key, helper, setting, username, password, identity_token, options,
                                   env)
        if not allow_plaintext:
            return SaveOutcome(False, helpers.program(helper), key,
                               f"Not saving: {setting} in {path} names {helpers.program(helper)}, which is not on "
                               "PATH, and writing the password to config.json in plain text was not allowed "
                               "(--allow-plaintext).", refused=True)
    data.setdefault("auths", {})[key] = _entry(username, password, identity_token)
    try:
        write_atomic(path, _dump(data))
    except OSError as exc:
        return SaveOutcome(False, str(path), key, f"Could not write {path}: {exc.strerror or exc}.")
    return SaveOutcome(True, str(path), key, f"Saved credentials for '{key}' in {path} (base64, not encrypted).")


def _save_to_helper(path: Path, data: dict[str, Any], key: str, helper: str, setting: str, username: str,
                    password: Secret | None, identity_token: Secret | None, options: CredentialOptions,
                    env: Mapping[str, str]) -> SaveOutcome:
    prog = helpers.program(helper)
    if identity_token:
        result = helpers.store(helper, key, helpers.TOKEN_USERNAME, identity_token, options.helper_timeout, env)
    else:
        assert password is not None
        result = helpers.store(helper, key, username, password, options.helper_timeout, env)
    if result.status != "ok":
        return SaveOutcome(False, prog, key, f"{prog} could not store credentials for '{key}': {result.detail}.")
    # Like docker: remember the server with an empty placeholder, and persist an auto-detected default store.
    data.setdefault("auths", {})[key] = {}
    if setting == "default store":
        data["credsStore"] = helper
    try:
        write_atomic(path, _dump(data))
    except OSError as exc:
        return SaveOutcome(False, str(path), key, f"Stored credentials for '{key}' in {prog}, but could not update "
                                                  f"{path}: {exc.strerror or exc}.")
    return SaveOutcome(True, prog, key, f"Saved credentials for '{key}' in {prog} ({setting}).")


def _store_for(data: dict[str, Any], key: str, env: Mapping[str, str]) -> tuple[str | None, str]:
    cred_helpers = data.get("credHelpers") if isinstance(data.get("credHelpers"), dict) else {}
    if isinstance(cred_helpers.get(key), str) and cred_helpers[key]:
        return cred_helpers[key], f"credHelpers['{key}']"
    if isinstance(data.get("credsStore"), str) and data["credsStore"]:
        return data["credsStore"], "credsStore"
    if not (cred_helpers or data.get("auths")):
        default = helpers.default_store(env)
        if default:
            return default, "default store"
    return None, ""


def _entry(username: str, password: Secret | None, identity_token: Secret | None) -> dict[str, str]:
    secret = "" if identity_token or password is None else password.reveal()
    entry = {}
    if username or secret:
        entry["auth"] = base64.b64encode(f"{username}:{secret}".encode()).decode()
    if identity_token:
        entry["identitytoken"] = identity_token.reveal()
    return entry


def _read(path: Path) -> dict[str, Any]:
    """The config as a JSON object ({} when missing or empty); ValueError when it must not be overwritten."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} cannot be read") from exc
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}); fix it first") from exc
    except RecursionError:
        raise ValueError(f"{path} is JSON nested too deeply to read; fix it first") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a JSON object")
    if data.get("auths") is None:
        data.pop("auths", None)
    elif not isinstance(data["auths"], dict):
        raise ValueError(f"\"auths\" in {path} is not an object")
    return data


def _real(path: Path) -> Path:
    """Follow a symlinked config.json so that the link survives the rename (as docker does)."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent="\t", ensure_ascii=False)


def write_atomic(path: Path, text: str) -> None:
    """Write via a 0600 temp file in the same directory, fsync, then os.replace; the old file survives any failure."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
