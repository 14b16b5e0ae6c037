"""Run ``skopeo`` (the reference client) hermetically against the test registries.

Each call gets a private environment: its own ``HOME``, an empty
``REGISTRY_AUTH_FILE`` (so neither ``~/.docker/config.json`` nor a stray
``auth.json`` leaks credentials in), an empty ``registries.conf`` (no mirrors,
no search registries), an empty ``registries.d`` (no signature lookaside) and
no proxy variables. ``--insecure-policy`` replaces ``/etc/containers/policy.json``.

Running as root, skopeo would keep its blob-info cache (which remembers where
blobs were pushed, and so changes what later pushes do) in
``/var/lib/containers/cache``. ``_CONTAINERS_ROOTLESS_UID`` — the variable
containers/image itself consults for the effective uid — makes it use
``$XDG_DATA_HOME/containers/cache`` inside the sandbox instead.
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .users import User

SKOPEO = shutil.which("skopeo") or "/usr/bin/skopeo"
TIMEOUT = 60

_env_dir: Path | None = None


def _sandbox() -> Path:
    """Create (once per process) the directory holding skopeo's private config."""
    global _env_dir
    if _env_dir is None:
        d = Path(tempfile.mkdtemp(prefix="regauth-skopeo-"))
        (d / "home").mkdir()
        (d / "run").mkdir(mode=0o700)
        (d / "registries.d").mkdir()
        (d / "data").mkdir()
        (d / "auth.json").write_text('{"auths": {}}\n')
        (d / "registries.conf").write_text("unqualified-search-registries = []\n")
        atexit.register(shutil.rmtree, d, True)
        _env_dir = d
    return _env_dir


def skopeo_env() -> dict[str, str]:
    """Environment for a hermetic skopeo run."""
    d = _sandbox()
    env = {
        k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
    }
    env.update(
        HOME=str(d / "home"),
        XDG_RUNTIME_DIR=str(d / "run"),
        XDG_CONFIG_HOME=str(d / "home" / ".config"),
        REGISTRY_AUTH_FILE=str(d / "auth.json"),
        CONTAINERS_REGISTRIES_CONF=str(d / "registries.conf"),
        DOCKER_CONFIG=str(d / "home" / ".docker"),
        XDG_DATA_HOME=str(d / "data"),
        _CONTAINERS_ROOTLESS_UID=str(os.getuid() or 65534),
    )
    return env


def run_skopeo(args: list[str], *, timeout: float = TIMEOUT, check: bool = False,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``skopeo <global flags> <args>`` and capture text output (``env``: added to the hermetic one)."""
    if not os.access(SKOPEO, os.X_OK):
        raise RuntimeError(f"skopeo not found ({SKOPEO}); install the Debian package 'skopeo'")
    cmd = [SKOPEO, "--insecure-policy", "--registries.d", str(_sandbox() / "registries.d"), *args]
    proc = subprocess.run(
        cmd, env={**skopeo_env(), **(env or {})}, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )
    if check and proc.returncode != 0:
        raise RuntimeError(
            f"skopeo failed ({proc.returncode}): {' '.join(cmd)}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
        )
    return proc


def tls_flags(registry, prefix: str = "") -> list[str]:
    """``--tls-verify=false`` for plain HTTP, ``--cert-dir <CA dir>`` for TLS.

    ``prefix`` is ``"src-"`` / ``"dest-"`` for ``skopeo copy``.
    """
    if registry.tls:
        return [f"--{prefix}cert-dir", str(registry.cert_dir)]
    return [f"--{prefix}tls-verify=false"]


def creds_value(creds: User | str) -> str:
    return creds.creds if isinstance(creds, User) else creds


def skopeo_inspect(
    registry,
    image_path: str,
    creds: User | str | None = None,
    authfile: Path | str | None = None,
    raw: bool = False,
    *,
    no_tags: bool = True,
    extra: list[str] | tuple[str, ...] = (),
) -> subprocess.CompletedProcess:
    """``skopeo inspect docker://HOST/<image_path>``.

    ``creds`` (a :class:`User` or ``"user:pass"``) → ``--creds``; ``authfile``
    → ``--authfile``; neither → ``--no-creds`` (anonymous). ``raw`` prints the
    manifest bytes as stored (an OCI index stays an index). ``no_tags`` skips
    the extra ``tags/list`` request.
    """
    args = ["inspect", *tls_flags(registry)]
    if creds is not None:
        args += ["--creds", creds_value(creds)]
    elif authfile is not None:
        args += ["--authfile", str(authfile)]
    else:
        args += ["--no-creds"]
    if raw:
        args.append("--raw")
    if no_tags and not raw:
        args.append("--no-tags")
    args += [*extra, f"docker://{registry.ref(image_path)}"]
    return run_skopeo(args)


def inspect_json(proc: subprocess.CompletedProcess) -> dict:
    """Parse the JSON output of a successful inspect (raises with stderr otherwise)."""
    if proc.returncode != 0:
        raise AssertionError(f"skopeo inspect failed ({proc.returncode}): {proc.stderr.strip()}")
    return json.loads(proc.stdout)


def write_authfile(path: Path, registry, user: User) -> Path:
    """Write a containers ``auth.json`` with ``user``'s credentials for ``registry``."""
    auth = base64.b64encode(user.creds.encode()).decode()
    path.write_text(json.dumps({"auths": {registry.host: {"auth": auth}}}, indent=2) + "\n")
    return path
