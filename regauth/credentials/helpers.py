"""Run `docker-credential-<name>` helpers (get/store) per the docker-credential-helpers protocol.

The stdout of `get` holds the secret: it is parsed, never logged or echoed. Failure text is redacted.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from regauth.secret import Secret, redacted

PREFIX = "docker-credential-"
NOT_FOUND = "credentials not found in native keychain"
TOKEN_USERNAME = "<token>"
_TOKENISH = re.compile(r"[A-Za-z0-9+/=_-]{20,}")
_MAX_DETAIL = 300

Status = Literal["ok", "not-found", "missing", "failed"]


@dataclass(eq=False)
class HelperResult:
    """What one helper invocation came to. `detail` is safe to show."""

    program: str
    status: Status
    username: str | None = None
    secret: Secret | None = None
    detail: str = ""

    @property
    def is_identity_token(self) -> bool:
        return self.username == TOKEN_USERNAME


def program(name: str) -> str:
    return PREFIX + name


def search_path(env: Mapping[str, str]) -> str:
    return env.get("PATH", os.defpath)


def find(name: str, env: Mapping[str, str]) -> str | None:
    """Full path of `docker-credential-<name>` on PATH, or None."""
    return shutil.which(program(name), path=search_path(env))


def default_store(env: Mapping[str, str]) -> str | None:
    """docker's DetectDefaultStore: the platform store, if its helper is installed."""
    if sys.platform == "darwin":
        name = "osxkeychain"
    elif sys.platform == "win32":
        name = "wincred"
    else:
        name = "pass" if shutil.which("pass", path=search_path(env)) else "secretservice"
    return name if find(name, env) else None


def get(name: str, server: str, timeout: float, env: Mapping[str, str]) -> HelperResult:
    """`docker-credential-<name> get` with `server` on stdin."""
    prog = program(name)
    ran = _run(name, "get", server, timeout, env)
    if isinstance(ran, HelperResult):
        return ran
    code, out, err = ran
    if out.strip() == NOT_FOUND:
        return HelperResult(prog, "not-found", detail=f"{prog} has no credentials for '{server}'")
    if code != 0:
        return HelperResult(prog, "failed", detail=_failure(code, out, err, ()))
    try:
        data = json.loads(out)
    except (ValueError, RecursionError):
        return HelperResult(prog, "failed", detail="exited 0 but did not print JSON")
    if not isinstance(data, dict) or not isinstance(data.get("Secret"), str):
        return HelperResult(prog, "failed", detail="printed JSON without a \"Secret\" string")
    username = data.get("Username") if isinstance(data.get("Username"), str) else ""
    if not data["Secret"]:
        return HelperResult(prog, "not-found", detail=f"{prog} returned an empty secret for '{server}'")
    return HelperResult(prog, "ok", username=username, secret=Secret(data["Secret"]))


def store(name: str, server: str, username: str, secret: Secret, timeout: float,
          env: Mapping[str, str]) -> HelperResult:
    """`docker-credential-<name> store` with the credentials JSON on stdin."""
    payload = json.dumps({"ServerURL": server, "Username": username, "Secret": secret.reveal()})
    ran = _run(name, "store", payload, timeout, env)
    if isinstance(ran, HelperResult):
        return ran
    code, out, err = ran
    if code != 0:
        return HelperResult(program(name), "failed", detail=_failure(code, out, err, (secret.reveal(),)))
    return HelperResult(program(name), "ok", username=username)


def _run(name: str, action: str, stdin: str, timeout: float,
         env: Mapping[str, str]) -> HelperResult | tuple[int, str, str]:
    """Start the helper and collect (exit code, stdout, stderr), or a HelperResult when it could not finish."""
    prog = program(name)
    path = find(name, env)
    if path is None:
        return HelperResult(prog, "missing", detail=f"{prog} is not on PATH ({search_path(env) or 'empty'})")
    from regauth import deadline

    left = deadline.remaining()  # the check's overall deadline bounds helpers too
    limit = f"within {timeout:g} s"
    if left is not None and left < timeout:
        timeout, limit = max(left, 0.01), f"before the check's deadline ({deadline.total():g} s)"
    try:
        # its own process group, so that a timeout kills whatever the helper started as well
        proc = subprocess.Popen([path, action], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=None if env is os.environ else dict(env),
                                start_new_session=hasattr(os, "killpg"))
    except OSError as exc:
        return HelperResult(prog, "failed", detail=f"could not be started ({exc.strerror or exc})")
    try:
        out, err = proc.communicate(stdin.encode(), timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        try:
            proc.communicate(timeout=1)
        except subprocess.TimeoutExpired:
            pass  # something outside the group still holds the pipes; give up on them
        return HelperResult(prog, "failed", detail=f"did not answer `{action}` {limit} and was killed")
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def _kill(proc: subprocess.Popen) -> None:
    """Kill the helper and every process it started (its process group), or at least the helper."""
    if hasattr(os, "killpg"):
        import signal

        try:
            os.killpg(proc.pid, signal.SIGKILL)
            return
        except OSError:
            pass
    proc.kill()


def _failure(code: int, out: str, err: str, known: tuple[str, ...]) -> str:
    message = out.strip()
    if message.startswith("{"):  # credentials JSON despite the failure: never echo it
        message = err.strip() or "printed JSON"
    message = message or err.strip() or "no message"
    return f"exited with status {code}: {redact_text(message, known)}"


def redact_text(text: str, known: tuple[str, ...] = ()) -> str:
    """One line, at most 300 characters, with known secrets and token-like strings replaced by fingerprints."""
    for value in known:
        if value:
            text = text.replace(value, redacted(value))
    text = _TOKENISH.sub(_maybe_secret, text)
    text = " ".join(text.split())
    return text if len(text) <= _MAX_DETAIL else text[:_MAX_DETAIL - 1] + "…"


def _maybe_secret(match: re.Match[str]) -> str:
    word = match.group(0)
    looks_random = any(c.isdigit() for c in word) and any(c.isalpha() for c in word) and not word.startswith("/")
    return redacted(word) if looks_random else word
