"""Shared fixtures: the real-registry test tier (see ``tests/support/``).

Session-scoped, started lazily on first use and stopped at session end:

* ``pki`` — CA, server certs, token-signing key (:class:`tests.support.pki.PKI`);
* ``oci_layout`` — the OCI layout with the seed images;
* ``token_issuer`` — the token service (HTTP + HTTPS listeners);
* ``registry_noauth_http``, ``registry_noauth_tls``, ``registry_htpasswd_http``,
  ``registry_htpasswd_tls``, ``registry_token_http``, ``registry_token_tls`` —
  running, seeded :class:`tests.support.registry.RegistryProcess` objects;
* ``registry`` — parametrized over the six (ids ``noauth-http`` … ``token-tls``).

Function-scoped: ``issuer`` — the session issuer with default behaviour and an
empty request log, restored after the test (use it to mutate behaviour).

Tests marked ``registry`` need ``/usr/bin/docker-registry`` and ``skopeo``; if
either is missing the run aborts with an error (it never skips).
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.support.images import Layout, build_layout, seed
from tests.support.pki import PKI, create_pki
from tests.support.registry import REGISTRY_BINARY, RegistryProcess
from tests.support.skopeo import SKOPEO, skopeo_inspect  # noqa: F401  (re-exported helper)
from tests.support.token_issuer import TokenIssuer

#: (fixture id, auth mode, tls) of the six standard registries.
REGISTRY_KINDS = (
    ("noauth-http", None, False),
    ("noauth-tls", None, True),
    ("htpasswd-http", "htpasswd", False),
    ("htpasswd-tls", "htpasswd", True),
    ("token-http", "token", False),
    ("token-tls", "token", True),
)
REGISTRY_IDS = tuple(k[0] for k in REGISTRY_KINDS)


def _missing_tools() -> list[str]:
    missing = []
    if not os.access(REGISTRY_BINARY, os.X_OK):
        missing.append(f"{REGISTRY_BINARY} (Debian package 'docker-registry')")
    if not (shutil.which("skopeo") or os.access(SKOPEO, os.X_OK)):
        missing.append("skopeo (Debian package 'skopeo')")
    if not shutil.which("openssl"):
        missing.append("openssl (Debian package 'openssl': `openssl rehash` builds the system-trust CA stores)")
    return missing


def pytest_collection_modifyitems(config, items):
    """Abort loudly if registry tests are selected but the tools are missing."""
    if any(item.get_closest_marker("registry") for item in items):
        missing = _missing_tools()
        if missing:
            raise pytest.UsageError(
                "the real-registry tier needs: " + ", ".join(missing) + " — install them; these tests never skip"
            )


# --------------------------------------------------------------------------- base fixtures


@pytest.fixture(autouse=True)
def _forget_secrets():
    """Each test starts with an empty secret registry (`regauth.secret.remember`): a CLI run is one process per
    command, but the in-process tests share one, and the last-line scrub must not see another test's values."""
    from regauth.secret import forget_all

    forget_all()
    yield


@pytest.fixture(scope="session")
def tier_dir(tmp_path_factory):
    """Session work directory of the tier (PKI, layout, registries)."""
    return tmp_path_factory.mktemp("registry-tier")


@pytest.fixture(scope="session")
def pki(tier_dir) -> PKI:
    return create_pki(tier_dir / "pki")


@pytest.fixture(scope="session")
def oci_layout(tier_dir) -> Layout:
    return build_layout(tier_dir / "oci-layout")


@pytest.fixture(scope="session")
def token_issuer(pki):
    """The session token service; realms: ``.realm`` (http), ``.https_realm``."""
    issuer = TokenIssuer(
        pki.signing_key,
        untrusted_key=pki.untrusted_signing_key,
        tls_cert=pki.server.cert,
        tls_key=pki.server.key,
    ).start()
    yield issuer
    issuer.stop()


@pytest.fixture
def issuer(token_issuer):
    """``token_issuer`` with default behaviour and a cleared log; reset afterwards."""
    token_issuer.reset()
    token_issuer.clear_log()
    yield token_issuer
    token_issuer.reset()


# --------------------------------------------------------------------------- registries


def _start_registry(request, kind: str) -> RegistryProcess:
    """Start, seed and register for teardown one of the six standard registries."""
    missing = _missing_tools()
    if missing:
        pytest.fail("missing: " + ", ".join(missing), pytrace=False)
    _, auth, tls = next(k for k in REGISTRY_KINDS if k[0] == kind)
    tier_dir = request.getfixturevalue("tier_dir")
    pki = request.getfixturevalue("pki")
    layout = request.getfixturevalue("oci_layout")
    issuer = request.getfixturevalue("token_issuer") if auth == "token" else None
    reg = RegistryProcess(tier_dir / f"registry-{kind}", auth=auth, tls=tls, pki=pki, issuer=issuer, name=kind)
    request.addfinalizer(reg.stop)  # registered before start: a failed seed still stops it
    reg.start()
    if issuer is not None:
        # Seeding must not depend on (or pollute) what a test did to the issuer.
        saved, issuer.behaviour = issuer.behaviour, type(issuer.behaviour)()
        mark = issuer.mark()
    try:
        seed(reg, issuer, layout)
    finally:
        if issuer is not None:
            issuer.behaviour = saved
            # Drop the seeding requests so tests see only their own traffic.
            issuer.discard_since(mark)
    return reg


@pytest.fixture(scope="session")
def registry_noauth_http(request) -> RegistryProcess:
    return _start_registry(request, "noauth-http")


@pytest.fixture(scope="session")
def registry_noauth_tls(request) -> RegistryProcess:
    return _start_registry(request, "noauth-tls")


@pytest.fixture(scope="session")
def registry_htpasswd_http(request) -> RegistryProcess:
    return _start_registry(request, "htpasswd-http")


@pytest.fixture(scope="session")
def registry_htpasswd_tls(request) -> RegistryProcess:
    return _start_registry(request, "htpasswd-tls")


@pytest.fixture(scope="session")
def registry_token_http(request) -> RegistryProcess:
    return _start_registry(request, "token-http")


@pytest.fixture(scope="session")
def registry_token_tls(request) -> RegistryProcess:
    return _start_registry(request, "token-tls")


@pytest.fixture(scope="session", params=REGISTRY_IDS)
def registry(request) -> RegistryProcess:
    """Each of the six standard registries in turn (ids ``noauth-http`` … ``token-tls``)."""
    return request.getfixturevalue("registry_" + request.param.replace("-", "_"))
