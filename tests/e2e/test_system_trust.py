"""No --ca-file: the registry's CA is trusted through the system store, named by SSL_CERT_FILE / SSL_CERT_DIR as
OpenSSL (regauth) and Go (skopeo) both read them. regauth reads a ca-certificates style store from its hashed
directory alone (regauth/trust.py); these runs prove the real handshake agrees with skopeo in each layout."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import isolated_env, regauth
from tests.support.pki import cert_pem, make_ca
from tests.support.skopeo import run_skopeo
from tests.support.users import ALICE

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"

pytestmark = pytest.mark.registry


def ca_store(root: Path, cas: list[bytes], appended: list[bytes] = (), dangling: bool = False) -> dict[str, str]:
    """A Debian-style CA directory (one PEM link per CA into a `share` directory, as update-ca-certificates makes
    them, `openssl rehash`, the bundle `ca-certificates.crt` beside them) and the environment that names it;
    `appended` go into the bundle only, as if added by hand; `dangling` removes `share` afterwards, as when
    /etc/ssl/certs is copied into a container without /usr/share/ca-certificates."""
    share = root.parent / "share"
    root.mkdir()
    share.mkdir()
    for i, pem in enumerate(cas):
        (share / f"ca-{i}.crt").write_bytes(pem)
        (root / f"ca-{i}.pem").symlink_to(share / f"ca-{i}.crt")
    subprocess.run([OPENSSL, "rehash", str(root)], check=True, capture_output=True, timeout=30)
    (root / "ca-certificates.crt").write_bytes(b"".join([*cas, *appended]))
    if dangling:
        shutil.rmtree(share)
    return {"SSL_CERT_FILE": str(root / "ca-certificates.crt"), "SSL_CERT_DIR": str(root)}


@pytest.fixture(scope="module")
def strangers() -> list[bytes]:
    return [cert_pem(make_ca(f"some other CA {i}")[0]) for i in range(2)]


def check(registry, env: dict[str, str]):
    run = regauth("pull-check", registry.ref("team/app:1.0"), "-o", "json", "-u", ALICE.name, "--password-stdin",
                  input=ALICE.password + "\n", env=isolated_env(**env))
    skopeo = run_skopeo(["inspect", "--raw", "--creds", ALICE.creds, f"docker://{registry.ref('team/app:1.0')}"],
                        env=env)
    return run, skopeo


@pytest.mark.parametrize("layout", ["hashed directory", "appended to the bundle by hand", "links dangling"])
def test_a_registry_ca_in_the_system_store_is_trusted(registry_token_tls, pki, strangers, tmp_path, layout):
    ours = cert_pem(pki.ca_cert)
    if layout == "appended to the bundle by hand":
        env = ca_store(tmp_path / "certs", strangers, appended=[ours])
    else:
        env = ca_store(tmp_path / "certs", [*strangers, ours], dangling=layout == "links dangling")
    run, skopeo = check(registry_token_tls, env)
    assert skopeo.returncode == 0, skopeo.stderr
    assert run.code == 0, run.stdout + run.stderr
    assert run.result["ok"] and run.step("ping")["status"] == "ok"


def test_a_registry_ca_missing_from_the_system_store_is_an_unknown_authority(registry_token_tls, strangers,
                                                                             tmp_path):
    run, skopeo = check(registry_token_tls, ca_store(tmp_path / "certs", strangers))
    assert skopeo.returncode != 0 and "unknown authority" in skopeo.stderr
    assert run.code == 1 and run.result["failed_step"] == "ping"
    assert run.codes[0] == "ping.tls-unknown-ca"
