"""Proof that the real-registry tier works, using skopeo as the reference client.

Independent of the code under test: nothing here imports ``regauth``.
"""

from __future__ import annotations

import datetime as dt
import json
import ssl

import httpx
import pytest
from cryptography import x509

from tests.support.images import DOCKER, HELLO, MULTI, OCI_INDEX, SEED_IMAGES, SeedImage
from tests.support.pki import ec_public_key_from_jwk, jwk_thumbprint, libtrust_kid
from tests.support.registry import RegistryProcess, RegistryStartError
from tests.support.skopeo import inspect_json, run_skopeo, skopeo_inspect, write_authfile
from tests.support.token_issuer import IssuerBehaviour, decode_jwt_unverified, fingerprint
from tests.support.users import ADMIN, ALICE, BOB, SERVICE, User

pytestmark = pytest.mark.registry


def creds_for(registry: RegistryProcess, image: SeedImage) -> User | None:
    """Least-privileged working credentials for ``image`` on ``registry``."""
    if registry.mode is None:
        return None
    if registry.mode == "token" and image.repository.startswith("public/"):
        return None  # anonymous pull on public/* is the point of that repository
    return ALICE if image.repository.startswith("team/") else BOB


def http_client(registry: RegistryProcess) -> httpx.Client:
    """An httpx client trusting the tier CA, ignoring proxy variables."""
    verify = ssl.create_default_context(cafile=str(registry.ca_file)) if registry.tls else True
    return httpx.Client(verify=verify, trust_env=False, timeout=10)


# --------------------------------------------------------------------------- offline


def test_libtrust_kid_test_vector():
    """specs §5.5: the jwt.md P-256 key → libtrust kid and RFC 7638 thumbprint."""
    key = ec_public_key_from_jwk(
        "m7zUpx3b-zmVE5cymSs64POG9QcyEpJaYCD82-549_Q", "dU3biz8sZ_8GPB-odm8Wxz3lNDr1xcAQQPQaOcr1fmc"
    )
    assert libtrust_kid(key) == "PYYO:TEWU:V7JH:26JV:AQTZ:LJC3:SXVJ:XGHA:34F2:2LAQ:ZRMK:Z7Q6"
    assert jwk_thumbprint(key) == "8qjioA3ZA7ti2JIE7c-U8smBFuZolQZvhSHDPU3hhB8"


def test_pki_certificates(pki):
    """The good and the deliberately broken server certificates are what they claim."""
    now = dt.datetime.now(dt.UTC)

    def load(path):
        return x509.load_pem_x509_certificate(path.read_bytes())

    def sans(cert):
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        return {str(v) for v in ext.get_values_for_type(x509.DNSName)} | {
            str(v) for v in ext.get_values_for_type(x509.IPAddress)
        }

    good = load(pki.server.cert)
    assert sans(good) == {"localhost", "127.0.0.1"}
    assert good.issuer == pki.ca_cert.subject
    assert good.not_valid_after_utc > now
    assert load(pki.expired_server().cert).not_valid_after_utc < now
    assert sans(load(pki.wrong_name_server().cert)) == {"wrong.example"}
    other = pki.other_ca_server()
    assert load(other.cert).issuer != pki.ca_cert.subject
    assert load(other.ca).subject == load(other.cert).issuer
    signing = load(pki.signing_cert_file)
    assert libtrust_kid(signing.public_key()) == pki.kid == libtrust_kid(pki.signing_key.public_key())


# --------------------------------------------------------------------------- all six registries


@pytest.mark.parametrize("image", SEED_IMAGES, ids=lambda i: i.repository)
def test_skopeo_inspects_seeded_image(registry, image):
    """Every seeded image is readable with the right credentials (platform resolved)."""
    info = inspect_json(skopeo_inspect(registry, image.path, creds=creds_for(registry, image)))
    assert info["Name"] == f"{registry.host}/{image.repository}"
    assert (info["Os"], info["Architecture"]) == ("linux", "amd64")
    if image is not MULTI:  # for an index skopeo reports the amd64 child's digest
        assert info["Digest"] == registry.seeded[image.path]


@pytest.mark.parametrize("image", SEED_IMAGES, ids=lambda i: i.repository)
def test_skopeo_raw_manifest(registry, image, oci_layout):
    """``--raw`` returns the stored manifest: OCI, OCI index (2 platforms), Docker v2s2."""
    manifest = json.loads(inspect_json_raw(registry, image))
    assert manifest["mediaType"] == image.media_type
    if image is MULTI:
        assert manifest["mediaType"] == OCI_INDEX
        platforms = {(m["platform"]["os"], m["platform"]["architecture"]) for m in manifest["manifests"]}
        assert platforms == {("linux", "amd64"), ("linux", "arm64")}
        assert {m["digest"] for m in manifest["manifests"]} == {
            b.manifest_digest for b in oci_layout.images["multi"].values()
        }
    elif image is DOCKER:
        assert manifest["config"]["mediaType"] == "application/vnd.docker.container.image.v1+json"
        assert manifest["layers"][0]["mediaType"] == "application/vnd.docker.image.rootfs.diff.tar.gzip"


def inspect_json_raw(registry: RegistryProcess, image: SeedImage) -> str:
    proc = skopeo_inspect(registry, image.path, creds=creds_for(registry, image), raw=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_access_log_counts_requests(registry):
    """The access log records each request skopeo makes (for benchmarks)."""
    mark = registry.mark()
    inspect_json(skopeo_inspect(registry, HELLO.path, creds=creds_for(registry, HELLO)))
    entries = registry.access_log(mark)
    assert all(e.user_agent.startswith("skopeo/") for e in entries)
    assert ("GET", "/v2/public/hello/manifests/latest", 200) in {(e.method, e.path, e.status) for e in entries}
    assert entries[0].path == "/v2/"  # the ping
    expected_ping = 200 if registry.mode is None else 401
    assert entries[0].status == expected_ping


# --------------------------------------------------------------------------- failures


@pytest.mark.parametrize(
    "fixture",
    ["registry_htpasswd_http", "registry_htpasswd_tls", "registry_token_http", "registry_token_tls"],
)
def test_wrong_password_fails(request, fixture):
    reg = request.getfixturevalue(fixture)
    proc = skopeo_inspect(reg, "team/app:1.0", creds="alice:wrong-pass")
    assert proc.returncode != 0
    if reg.mode == "htpasswd":
        assert "unauthorized: authentication required" in proc.stderr
    else:
        # c/image: "unable to retrieve auth token: invalid username/password: unauthorized: <issuer message>"
        assert "invalid username/password" in proc.stderr


@pytest.mark.parametrize("fixture", ["registry_htpasswd_http", "registry_htpasswd_tls"])
def test_htpasswd_anonymous_fails_and_authfile_works(request, fixture, tmp_path):
    reg = request.getfixturevalue(fixture)
    anon = skopeo_inspect(reg, HELLO.path)
    assert anon.returncode != 0 and "unauthorized: authentication required" in anon.stderr
    authfile = write_authfile(tmp_path / "auth.json", reg, BOB)
    inspect_json(skopeo_inspect(reg, "team/multi:1.0", authfile=authfile))  # htpasswd: no per-repo rights


@pytest.mark.parametrize("fixture", ["registry_token_http", "registry_token_tls"])
def test_token_permissions(request, fixture, issuer):
    """bob may pull team/app only; anonymous may pull public/* only.

    Missing rights are not a token-service error: every token request is
    answered 200 and the registry refuses the token (``insufficient_scope``).
    skopeo 1.9 then fetches a second token once (scope listed twice) before
    giving up, so a denied inspect costs two token requests.
    """
    reg = request.getfixturevalue(fixture)

    def token_requests(image_path, creds):
        mark = issuer.mark()
        proc = skopeo_inspect(reg, image_path, creds=creds)
        reqs = issuer.requests_since(mark)
        assert all(r.status == 200 and r.scheme == reg.scheme for r in reqs)  # TLS registry → HTTPS realm
        return proc, reqs

    proc, reqs = token_requests("team/app:1.0", BOB)
    inspect_json(proc)
    assert [(r.principal, r.scopes) for r in reqs] == [("bob", ("repository:team/app:pull",))]

    proc, reqs = token_requests("team/multi:1.0", BOB)
    assert proc.returncode != 0
    # The registry answers 401 error="insufficient_scope"; c/image renders that as "denied".
    assert "denied: requested access to the resource is denied" in proc.stderr
    assert [r.scopes for r in reqs] == [("repository:team/multi:pull",), ("repository:team/multi:pull",) * 2]

    proc, reqs = token_requests(HELLO.path, None)
    inspect_json(proc)
    assert [r.principal for r in reqs] == ["anonymous"] and not reqs[0].basic

    proc, reqs = token_requests("team/app:1.0", None)
    assert proc.returncode != 0 and "denied: requested access" in proc.stderr
    assert len(reqs) == 2


def test_token_registry_without_ca_fails(registry_token_tls):
    """Without --cert-dir skopeo does not trust the tier CA."""
    proc = run_skopeo(["inspect", "--no-creds", f"docker://{registry_token_tls.ref(HELLO.path)}"])
    assert proc.returncode != 0
    assert "x509: certificate signed by unknown authority" in proc.stderr


# --------------------------------------------------------------------------- token issuer


def test_issuer_logs_one_token_request(registry_token_http, issuer):
    """A skopeo inspect makes exactly one GET token request; no password in the log."""
    inspect_json(skopeo_inspect(registry_token_http, "team/app:1.0", creds=ALICE))
    (req,) = issuer.requests
    assert (req.method, req.path, req.scheme, req.status) == ("GET", "/token", "http", 200)
    assert req.basic and req.basic_user == "alice" and req.principal == "alice"
    assert req.service == SERVICE
    assert req.scopes == ("repository:team/app:pull",)
    assert req.query["account"] == ["alice"]  # distribution-style clients add account=
    assert req.password_fingerprint == fingerprint(ALICE.password)
    assert ALICE.password not in repr(issuer.requests)


def test_issuer_wrong_password_logged(registry_token_http, issuer):
    skopeo_inspect(registry_token_http, "team/app:1.0", creds="alice:wrong-pass")
    (req,) = issuer.requests
    assert (req.status, req.principal, req.basic_user) == (401, None, "alice")
    assert req.password_fingerprint == fingerprint("wrong-pass")


def test_issuer_no_access_token(registry_token_http, issuer):
    """bob asking for team/multi gets a token whose access has no actions (jwt.no-access)."""
    with http_client(registry_token_http) as client:
        resp = client.get(
            issuer.realm,
            params={"service": SERVICE, "scope": "repository:team/multi:pull"},
            auth=(BOB.name, BOB.password),
        )
        assert resp.status_code == 200
        body = resp.json()
        assert body["token"] == body["access_token"] and body["expires_in"] == 300
        header, claims = decode_jwt_unverified(body["token"])
        assert header == {"typ": "JWT", "alg": "ES256", "kid": issuer.kid}
        assert claims["access"] == [{"type": "repository", "name": "team/multi", "actions": []}]
        assert (claims["iss"], claims["sub"], claims["aud"]) == ("regauth-test-issuer", "bob", SERVICE)
        manifest = client.get(
            f"{registry_token_http.url}/v2/team/multi/manifests/1.0",
            headers={"Authorization": f"Bearer {body['token']}", "Accept": OCI_INDEX},
        )
        assert manifest.status_code == 401
        assert 'error="insufficient_scope"' in manifest.headers["www-authenticate"]


def test_issuer_oauth2_post_and_refresh(registry_token_tls, issuer):
    """POST grant_type=password (offline) then grant_type=refresh_token; tokens work on the registry."""
    form = {"service": SERVICE, "client_id": "regauth-tests", "scope": "repository:team/app:pull"}
    with http_client(registry_token_tls) as client:
        first = client.post(
            issuer.https_realm,
            data={
                **form,
                "grant_type": "password",
                "username": ALICE.name,
                "password": ALICE.password,
                "access_type": "offline",
            },
        ).json()
        assert set(first) == {"access_token", "expires_in", "issued_at", "refresh_token", "scope"}
        assert first["scope"] == "repository:team/app:pull"
        second = client.post(
            issuer.https_realm,
            data={**form, "grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        ).json()
        assert decode_jwt_unverified(second["access_token"])[1]["sub"] == "alice"
        bad = client.post(
            issuer.https_realm, data={**form, "grant_type": "password", "username": "alice", "password": "x"}
        )
        assert bad.status_code == 401 and bad.json()["errors"][0]["code"] == "UNAUTHORIZED"
        for token in (first["access_token"], second["access_token"]):
            resp = client.get(
                f"{registry_token_tls.url}/v2/team/app/manifests/1.0",
                headers={
                    "Authorization": f"Bearer {token}",
                    "Accept": "application/vnd.oci.image.manifest.v1+json",
                },
            )
            assert resp.status_code == 200
    assert [r.grant_type for r in issuer.requests] == ["password", "refresh_token", "password"]
    assert all("password" not in r.form and "refresh_token" not in r.form for r in issuer.requests)


@pytest.mark.parametrize(
    "change",
    [
        {"untrusted_key": True},
        {"exp_offset": -120},  # beyond the registry's 60 s leeway
        {"audience": [SERVICE]},  # v2.8 accepts only a string aud
    ],
    ids=["untrusted-key", "expired", "aud-list"],
)
def test_issuer_behaviour_switches(registry_token_http, issuer, change):
    """Fault knobs produce tokens distribution 2.8 rejects with error="invalid_token"."""
    for key, value in change.items():
        setattr(issuer.behaviour, key, value)
    with http_client(registry_token_http) as client:
        token = client.get(
            issuer.realm,
            params={"service": SERVICE, "scope": "repository:team/app:pull"},
            auth=(ADMIN.name, ADMIN.password),
        ).json()["token"]
        resp = client.get(
            f"{registry_token_http.url}/v2/team/app/manifests/1.0",
            headers={"Authorization": f"Bearer {token}"},
        )
    assert resp.status_code == 401
    assert 'error="invalid_token"' in resp.headers["www-authenticate"]
    issuer.reset()
    assert issuer.behaviour == IssuerBehaviour()


# --------------------------------------------------------------------------- process handling


def test_registry_with_expired_cert_and_start_failure(pki, tmp_path):
    """Broken-cert registries start (readiness ignores TLS); start errors carry the log."""
    reg = RegistryProcess(tmp_path / "expired", tls=True, tls_pair=pki.expired_server(), name="expired")
    with reg:
        proc = run_skopeo(["inspect", "--no-creds", "--cert-dir", str(reg.cert_dir), f"docker://{reg.ref('x/y:1')}"])
        assert "x509: certificate has expired or is not yet valid" in proc.stderr
    assert not reg.running

    broken = RegistryProcess(tmp_path / "broken", extra_config={"storage": {"filesystem": None, "nosuchdriver": {}}})
    with pytest.raises(RegistryStartError, match="exited with code") as info:
        broken.start()
    assert "nosuchdriver" in str(info.value)
    assert not broken.running
