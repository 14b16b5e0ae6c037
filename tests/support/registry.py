"""Run a real CNCF distribution 2.8 registry (``/usr/bin/docker-registry``) for tests.

:class:`RegistryProcess` writes a YAML config, starts ``docker-registry serve``
on ``127.0.0.1:<free port>`` and waits until ``/v2/`` answers. Auth modes:
``None`` (open), ``"htpasswd"`` (bcrypt file generated from the user table)
and ``"token"`` (a :class:`~tests.support.token_issuer.TokenIssuer` realm,
tokens verified against the PKI's signing certificate). TLS is optional.

Output files (in the registry's work directory):

* ``access.log`` — the registry's stdout: one Apache combined-log line per
  HTTP request that reached the handler (see :meth:`RegistryProcess.access_log`);
* ``registry.log`` — stderr: logrus text lines (startup, auth errors, ...).

Every started process is tracked and stopped at interpreter exit as a
safety net (and, on Linux, asked to die with its parent); fixtures should
still call :meth:`RegistryProcess.stop`.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import httpx
import yaml

from .pki import PKI, CertPair
from .users import HTPASSWD_REALM, ISSUER, SERVICE, USERS

REGISTRY_BINARY = os.environ.get("REGAUTH_TEST_REGISTRY_BINARY", "/usr/bin/docker-registry")
START_TIMEOUT = 10.0
AUTH_MODES = (None, "htpasswd", "token")

_live: set["RegistryProcess"] = set()
_live_lock = threading.Lock()


def _stop_all_at_exit() -> None:
    for reg in list(_live):
        reg.stop()


atexit.register(_stop_all_at_exit)


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the parent dies (Linux prctl).

    Covers a SIGKILLed pytest, which neither fixtures nor atexit survive. The
    signal fires when the *thread* that spawned the child exits, so it is only
    requested for processes started from the main thread (see ``_spawn``).
    """
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_htpasswd(path: Path, users: dict = USERS, rounds: int = 5) -> Path:
    """Write an htpasswd file with bcrypt hashes for every user that has a password.

    ``rounds=5`` is ``htpasswd -B``'s default; the registry checks the hash
    on every Basic request, so a low cost keeps requests fast.
    """
    lines = []
    for name, entry in users.items():
        if entry.get("password") is None:
            continue
        digest = bcrypt.hashpw(entry["password"].encode(), bcrypt.gensalt(rounds=rounds)).decode()
        lines.append(f"{name}:{digest}\n")
    path.write_text("".join(lines))
    return path


# Apache combined log format, as gorilla/handlers writes it.
_ACCESS_RE = re.compile(
    r"^(?P<remote>\S+) \S+ (?P<user>\S+) \[(?P<time>[^\]]+)\] "
    r'"(?P<method>\S+) (?P<uri>\S+) (?P<proto>[^"]+)" (?P<status>\d{3}) (?P<size>\S+) '
    r'"(?P<referer>[^"]*)" "(?P<agent>[^"]*)"'
)


@dataclass(frozen=True)
class AccessLogEntry:
    """One request from the registry's access log."""

    method: str
    uri: str
    status: int
    user_agent: str
    user: str  # "-" unless the registry identified the user

    @property
    def path(self) -> str:
        return self.uri.split("?", 1)[0]


class RegistryStartError(RuntimeError):
    """The registry did not come up; the message carries its log."""


class RegistryProcess:
    """One ``docker-registry serve`` process and its configuration."""

    def __init__(
        self,
        workdir: Path,
        *,
        auth: str | None = None,
        tls: bool = False,
        pki: PKI | None = None,
        tls_pair: CertPair | None = None,
        issuer=None,
        realm: str | None = None,
        users: dict = USERS,
        service: str = SERVICE,
        token_issuer_name: str = ISSUER,
        name: str | None = None,
        extra_config: dict | None = None,
    ):
        """Prepare (not start) a registry.

        ``tls_pair`` overrides the certificate (e.g. ``pki.expired_server()``)
        and implies ``tls=True``; otherwise TLS uses ``pki.server``. ``issuer`` (a TokenIssuer) is required
        for ``auth="token"`` unless ``realm`` is given explicitly; the token
        signing certificate comes from ``pki``. ``extra_config`` is merged
        (recursively) into the generated YAML.
        """
        tls = tls or tls_pair is not None
        if auth not in AUTH_MODES:
            raise ValueError(f"auth must be one of {AUTH_MODES}, not {auth!r}")
        if tls and tls_pair is None and pki is None:
            raise ValueError("tls=True needs pki or tls_pair")
        if auth == "token" and (pki is None or (issuer is None and realm is None)):
            raise ValueError('auth="token" needs pki and an issuer (or an explicit realm)')
        self.workdir = Path(workdir)
        self.mode = auth
        self.tls = tls
        self.pki = pki
        self.tls_pair = (tls_pair or pki.server) if tls else None  # type: ignore[union-attr]
        self.issuer = issuer
        self.realm = realm or (issuer.realm_for(tls) if auth == "token" else None)
        self.users = users
        self.service = service
        self.token_issuer_name = token_issuer_name
        self.name = name or f"{auth or 'noauth'}-{'tls' if tls else 'http'}"
        self.extra_config = extra_config or {}
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None
        #: image path ("team/app:1.0") → manifest digest, filled by images.seed()
        self.seeded: dict[str, str] = {}
        self._log_files: list = []

    # ----------------------------------------------------------- addresses

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT`` — the registry part of image references."""
        return f"127.0.0.1:{self.port}"

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def url(self) -> str:
        """Base URL, e.g. ``https://127.0.0.1:PORT`` (append ``/v2/``)."""
        return f"{self.scheme}://{self.host}"

    @property
    def ca_file(self) -> Path | None:
        """CA that signed the server certificate (``None`` for plain HTTP)."""
        return self.tls_pair.ca if self.tls_pair else None

    @property
    def cert_dir(self) -> Path | None:
        """Directory holding only that CA as ``ca.crt`` (``skopeo --cert-dir``)."""
        return self.tls_pair.cert_dir if self.tls_pair else None

    @property
    def storage_dir(self) -> Path:
        return self.workdir / "storage"

    @property
    def config_path(self) -> Path:
        return self.workdir / "config.yml"

    @property
    def log_path(self) -> Path:
        """stderr of the registry (logrus text: startup, auth failures, errors)."""
        return self.workdir / "registry.log"

    @property
    def access_log_path(self) -> Path:
        """stdout of the registry: the combined-format access log."""
        return self.workdir / "access.log"

    @property
    def htpasswd_path(self) -> Path:
        return self.workdir / "htpasswd"

    def ref(self, image_path: str) -> str:
        """``127.0.0.1:PORT/<image_path>``."""
        return f"{self.host}/{image_path}"

    def __repr__(self) -> str:
        return f"<RegistryProcess {self.name} {self.url if self.port else '(not started)'}>"

    # ----------------------------------------------------------- config

    def config(self) -> dict:
        """The distribution 2.8 configuration as a dict."""
        cfg: dict = {
            "version": 0.1,
            "log": {"level": "info", "formatter": "text", "accesslog": {"disabled": False}},
            "storage": {
                "filesystem": {"rootdirectory": str(self.storage_dir)},
                "delete": {"enabled": True},
                "maintenance": {"uploadpurging": {"enabled": False}},
            },
            "http": {
                "addr": self.host,
                "secret": secrets.token_hex(16),
                "headers": {"X-Content-Type-Options": ["nosniff"]},
            },
        }
        if self.tls_pair:
            cfg["http"]["tls"] = {"certificate": str(self.tls_pair.cert), "key": str(self.tls_pair.key)}
        if self.mode == "htpasswd":
            cfg["auth"] = {"htpasswd": {"realm": HTPASSWD_REALM, "path": str(self.htpasswd_path)}}
        elif self.mode == "token":
            cfg["auth"] = {
                "token": {
                    "realm": self.realm,
                    "service": self.service,
                    "issuer": self.token_issuer_name,
                    "rootcertbundle": str(self.pki.signing_cert_file),  # type: ignore[union-attr]
                }
            }
        return _merge(cfg, self.extra_config)

    # ----------------------------------------------------------- lifecycle

    def start(self) -> "RegistryProcess":
        """Write the config, start the process and wait for ``/v2/``.

        Retries with a new port if the chosen one was taken meanwhile.
        """
        if not os.access(REGISTRY_BINARY, os.X_OK):
            raise RegistryStartError(
                f"{REGISTRY_BINARY} not found or not executable: install the Debian package "
                "'docker-registry' (CNCF distribution 2.8)"
            )
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.storage_dir.mkdir(exist_ok=True)
        if self.mode == "htpasswd":
            write_htpasswd(self.htpasswd_path, self.users)
        for attempt in range(3):
            self.port = free_port()
            self.config_path.write_text(yaml.safe_dump(self.config(), sort_keys=False))
            self._spawn()
            try:
                self._wait_ready()
                return self
            except RegistryStartError:
                log = self.log_text()
                self.stop()
                if "address already in use" in log and attempt < 2:
                    continue
                raise
        raise AssertionError("unreachable")

    def _spawn(self) -> None:
        out = open(self.access_log_path, "ab")
        err = open(self.log_path, "ab")
        self._log_files = [out, err]
        self.proc = subprocess.Popen(
            [REGISTRY_BINARY, "serve", str(self.config_path)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            cwd=self.workdir,
            start_new_session=True,  # Ctrl-C in the terminal does not hit it mid-test
            preexec_fn=_die_with_parent if threading.current_thread() is threading.main_thread() else None,
        )
        with _live_lock:
            _live.add(self)

    def _wait_ready(self) -> None:
        """Poll ``GET /v2/`` until any HTTP answer (200 or 401) comes back."""
        deadline = time.monotonic() + START_TIMEOUT
        last_error = "no attempt"
        # Readiness only: accept any certificate (the test may use a broken one).
        with httpx.Client(verify=False, timeout=1.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                if self.proc is None or self.proc.poll() is not None:
                    code = self.proc.returncode if self.proc else None
                    raise RegistryStartError(
                        f"registry {self.name} exited with code {code} during startup\n"
                        f"config {self.config_path}:\n{self.config_path.read_text()}\n"
                        f"log {self.log_path}:\n{self.log_text()}"
                    )
                try:
                    client.get(f"{self.url}/v2/", headers={"User-Agent": "regauth-test-readiness"})
                    return
                except httpx.HTTPError as exc:
                    last_error = repr(exc)
                time.sleep(0.05)
        raise RegistryStartError(
            f"registry {self.name} did not answer {self.url}/v2/ within {START_TIMEOUT:.0f} s "
            f"(last error: {last_error})\nlog {self.log_path}:\n{self.log_text()}"
        )

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate (SIGTERM), wait, SIGKILL after ``timeout``. Idempotent."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        for f in self._log_files:
            f.close()
        self._log_files = []
        with _live_lock:
            _live.discard(self)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self) -> "RegistryProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ----------------------------------------------------------- logs

    def log_text(self) -> str:
        """The registry's stderr so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def access_log(self, since: int = 0) -> list[AccessLogEntry]:
        """Parsed access-log entries, starting at index ``since`` (see :meth:`mark`).

        Readiness probes (User-Agent ``regauth-test-readiness``) are skipped.
        """
        try:
            lines = self.access_log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return []
        entries = []
        for line in lines:
            m = _ACCESS_RE.match(line)
            if m and m["agent"] != "regauth-test-readiness":
                entries.append(AccessLogEntry(m["method"], m["uri"], int(m["status"]), m["agent"], m["user"]))
        return entries[since:]

    def mark(self) -> int:
        """Current number of access-log entries; count later requests with ``access_log(mark)``."""
        return len(self.access_log())


def _merge(base: dict, extra: dict) -> dict:
    """Recursively merge ``extra`` into ``base`` (``None`` values delete keys)."""
    for key, value in extra.items():
        if value is None:
            base.pop(key, None)
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
    return base


def wipe(reg: RegistryProcess) -> None:
    """Remove a stopped registry's work directory."""
    if reg.running:
        raise RuntimeError("stop the registry first")
    shutil.rmtree(reg.workdir, ignore_errors=True)
