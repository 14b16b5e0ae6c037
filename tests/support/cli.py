"""Run the installed `regauth` command as a user would, in an isolated home (no stray docker/podman config)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REGAUTH = str(Path(sys.executable).parent / "regauth")
_HOME = Path(tempfile.mkdtemp(prefix="regauth-test-home-"))


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def report(self) -> dict:
        return json.loads(self.stdout)

    @property
    def result(self) -> dict:
        """The first (usually only) result of a JSON report."""
        return self.report["results"][0]

    @property
    def codes(self) -> list[str]:
        return [d["code"] for d in self.result["diagnoses"]]

    def diagnosis(self, code: str) -> dict:
        return next(d for d in self.result["diagnoses"] if d["code"] == code)

    def step(self, name: str) -> dict:
        return next(s for s in self.result["steps"] if s["name"] == name)


def isolated_env(home: Path | None = None, **extra: str) -> dict[str, str]:
    """An environment where regauth finds no credentials but the ones a test puts there."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME")
        and not k.lower().endswith("_proxy")
    }
    env["HOME"] = str(home or _HOME)
    env["NO_COLOR"] = "1"
    env["COLUMNS"] = "200"
    env.update(extra)
    return env


def regauth(*args: str, input: str | None = None, env: dict[str, str] | None = None, timeout: float = 60) -> Run:
    proc = subprocess.run(
        [REGAUTH, *args],
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or isolated_env(),
        stdin=None if input is not None else subprocess.DEVNULL,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def transport_flags(registry) -> list[str]:
    """--plain-http for an HTTP registry, --ca-file for a TLS one."""
    return ["--ca-file", str(registry.ca_file)] if registry.tls else ["--plain-http"]


def pull_check(
    registry,
    image_path: str,
    *extra: str,
    user=None,
    password: str | None = None,
    output: str = "json",
    env: dict[str, str] | None = None,
) -> Run:
    args = ["pull-check", registry.ref(image_path), *transport_flags(registry), "-o", output, *extra]
    stdin = None
    if user is not None:
        args += ["-u", user.name, "--password-stdin"]
        stdin = (password if password is not None else user.password) + "\n"
    return regauth(*args, input=stdin, env=env)
