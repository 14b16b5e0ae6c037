"""Codes no other test produced: jwt.no-key-id, manifest.digest-mismatch (both situations),
manifest.media-type-mismatch, kube.all-entries-failed and ping.tls-failed.

Each test builds the situation against the real registry (through the fault proxy of tests/support/faultproxy.py
where the server has to misbehave), runs the installed `regauth`, and asserts the step, the code, the severity and
the facts the message must carry. skopeo runs on the same scenario where it can; its outcome is asserted, so a
disagreement is recorded here rather than hidden (see each test).
"""

from __future__ import annotations

import base64
import hashlib
import json
import ssl
import warnings

import pytest

from tests.support.cli import pull_check, regauth
from tests.support.faultproxy import FaultProxy, Request, Response
from tests.support.images import DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST
from tests.support.skopeo import skopeo_inspect
from tests.support.users import ALICE, CAROL

pytestmark = pytest.mark.registry


# --------------------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def _token_proxy(request, registry_token_http):
    proxy = FaultProxy(registry_token_http, name="codes-more")
    request.addfinalizer(proxy.stop)
    return proxy.start()


@pytest.fixture
def token_proxy(_token_proxy, issuer):
    """The plain-HTTP token registry behind the fault proxy (tokens through the proxy too), rules cleared."""
    _token_proxy.reset()
    yield _token_proxy
    _token_proxy.reset()


def failed_at(run, step: str, code: str) -> dict:
    """Assert the check failed at `step` with `code` as an error of that step; return the diagnosis."""
    assert run.code == 1, run.stdout + run.stderr
    assert run.result["failed_step"] == step, (run.result["failed_step"], run.codes, run.stdout)
    d = run.diagnosis(code)
    assert (d["step"], d["severity"]) == (step, "error"), d
    assert d["fix"], d
    return d


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def jwt_header(token: str) -> dict:
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


# =========================================================================== jwt.no-key-id


def test_jwt_no_key_id(token_proxy, issuer):
    """A token service that leaves kid out of the JWT header: regauth warns at jwt, and the real registry
    (distribution 2.8) indeed cannot verify the token: 401 invalid_token at the manifest, named as such."""
    issuer.behaviour.kid = ""
    sent: list[str] = []
    # a rule that never matches, only records the Authorization each manifest request carries
    token_proxy.on("/manifests/", when=lambda r: bool(r.authorization and sent.append(r.authorization)))
    run = pull_check(token_proxy, "team/app:1.0", user=ALICE)

    d = run.diagnosis("jwt.no-key-id")
    assert (d["step"], d["severity"]) == ("jwt", "warning")
    assert "the JWT header has no kid, jwk or x5c" in d["message"] and "cannot pick a key" in d["message"]
    assert "kid" in d["fix"] and "x5c" in d["fix"]
    jwt = run.step("jwt")
    assert jwt["status"] == "warn" and "kid" not in jwt["details"]["header"]
    # what the registry really got: a Bearer JWT whose header names no key
    assert sent and all(not {"kid", "jwk", "x5c"} & set(jwt_header(a.split(" ", 1)[1])) for a in sent)
    u = failed_at(run, "manifest", "manifest.unauthorized")
    assert "error=invalid_token" in u["message"]
    assert "signed with no kid, jwk or x5c in its header" in u["message"]  # not "kid 'none'"
    assert "kid 'none'" not in u["message"]
    proc = skopeo_inspect(token_proxy, "team/app:1.0", ALICE)
    assert proc.returncode != 0 and "unauthorized" in proc.stderr  # skopeo agrees: the registry refuses the token


# =========================================================================== manifest.digest-mismatch


def _reserialise(req: Request, resp: Response) -> None:
    """What a re-serialising mirror or proxy does: same JSON, other bytes (Docker-Content-Digest left as it was)."""
    if req.method == "GET" and resp.status == 200:
        resp.body = json.dumps(json.loads(resp.body), indent=3).encode()


def test_manifest_digest_mismatch_header_vs_body(token_proxy):
    """Pulling a tag through a proxy that rewrites the manifest bytes: the body no longer hashes to the
    Docker-Content-Digest the registry computed."""
    stored = token_proxy.registry.seeded["team/app:1.0"]
    token_proxy.on("/manifests/", edit_response=_reserialise)
    run = pull_check(token_proxy, "team/app:1.0", user=ALICE)
    seen = run.step("manifest")["details"]
    assert seen["docker_content_digest"] == stored and seen["digest"] != stored
    d = failed_at(run, "manifest", "manifest.digest-mismatch")
    assert f"the manifest body hashes to {seen['digest']} but Docker-Content-Digest says {stored}" in d["message"]
    assert "rewrote the manifest" in d["fix"]
    assert run.codes.count("manifest.digest-mismatch") == 1
    # skopeo DISAGREES: containers/image does not compare Docker-Content-Digest with the body of a tag pull and
    # reports the rewritten bytes' digest. containerd (kubelet) resolves the tag to the header digest and then
    # refuses content hashing otherwise, so regauth's error is what a Kubernetes pull meets.
    proc = skopeo_inspect(token_proxy, "team/app:1.0", ALICE)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["Digest"] == seen["digest"] != stored


def test_manifest_digest_mismatch_content_by_digest(token_proxy):
    """Pulling by digest from a mirror that serves other bytes for it, with a Docker-Content-Digest that matches
    those bytes: only the requested digest betrays it."""
    stored = token_proxy.registry.seeded["team/app:1.0"]

    def other_content(req: Request, resp: Response) -> None:
        _reserialise(req, resp)
        if req.method == "GET" and resp.status == 200:
            resp.set_header("Docker-Content-Digest", sha256(resp.body))

    token_proxy.on("/manifests/", edit_response=other_content)
    run = pull_check(token_proxy, f"team/app@{stored}", user=ALICE)
    got = run.step("manifest")["details"]["digest"]
    assert got != stored and run.step("manifest")["details"]["docker_content_digest"] == got
    d = failed_at(run, "manifest", "manifest.digest-mismatch")
    assert d["message"] == f"asked for {stored}, got content hashing to {got}"
    assert "serves different content for this digest" in d["fix"]
    assert run.codes.count("manifest.digest-mismatch") == 1  # the header agrees with the body: one finding only
    proc = skopeo_inspect(token_proxy, f"team/app@{stored}", ALICE)
    assert proc.returncode != 0 and f"Manifest does not match provided manifest digest {stored}" in proc.stderr


# =========================================================================== manifest.media-type-mismatch


@pytest.mark.parametrize("image, label, stored, severity", [
    ("team/app:1.0", DOCKER_MANIFEST, OCI_MANIFEST, "warning"),  # both image manifests: containerd pulls it
    ("team/multi:1.0", OCI_MANIFEST, OCI_INDEX, "error"),        # an index sold as a manifest: nobody pulls it
    ("team/app:1.0", OCI_INDEX, OCI_MANIFEST, "error"),          # a manifest sold as an index
], ids=["docker-label-on-oci-manifest", "manifest-label-on-index", "index-label-on-manifest"])
def test_manifest_media_type_mismatch(image, label, stored, severity, token_proxy):
    """A proxy that sets its own Content-Type on manifests."""
    token_proxy.on("/manifests/", methods=("GET",),
                   edit_response=lambda req, resp: resp.status == 200 and resp.set_header("Content-Type", label))
    run = pull_check(token_proxy, image, user=ALICE)
    assert run.step("manifest")["details"]["content_type"] == label
    if severity == "warning":
        d = run.diagnosis("manifest.media-type-mismatch")
        assert (d["step"], d["severity"]) == ("manifest", "warning")
        assert d["message"].startswith(f"Content-Type {label} differs from the manifest's mediaType {stored}")
        assert "containerd accepts it, skopeo" in d["message"]
        assert run.code == 0 and run.step("manifest")["status"] == "warn"
    else:
        # before the fix: a warning, and then either a pass (index labelled manifest) or a misleading
        # platform.not-found (manifest labelled index)
        d = failed_at(run, "manifest", "manifest.media-type-mismatch")
        kinds = {OCI_INDEX: "an index", OCI_MANIFEST: "an image manifest"}
        assert (f"Content-Type {label} says {kinds[label]} but the manifest's mediaType {stored} says "
                f"{kinds[stored]}") in d["message"]
        assert "platform.not-found" not in run.codes
    # skopeo refuses all three; for the first, regauth's warning (not error) follows containerd, the runtime
    # behind kubelet and current docker, which accepts either image-manifest label
    proc = skopeo_inspect(token_proxy, image, ALICE)
    assert proc.returncode != 0
    assert ("unsupported docker v2s2 media type" if severity == "warning" else "rejecting ambiguous manifest") \
        in proc.stderr


# =========================================================================== kube.all-entries-failed


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _pull_secret(name: str, key: str, user: str, password: str) -> dict:
    payload = json.dumps({"auths": {key: {"auth": _b64(f"{user}:{password}")}}})
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
            "metadata": {"name": name, "namespace": "apps"}, "data": {".dockerconfigjson": _b64(payload)}}


def test_kube_all_entries_failed(tmp_path, registry_token_http):
    """A public image, and a pod whose two pull secrets both match it with dead credentials: kubelet tries both and
    gives up — it never falls back to the anonymous pull that would have worked."""
    reg = registry_token_http
    image = reg.ref("public/hello:latest")
    entries = [("old-robot", f"{reg.host}/public", "robot", "expired-pass"),
               ("regcred", reg.host, CAROL.name, "not-carols-password")]
    pod = {"containers": [{"name": "app", "image": image}], "imagePullSecrets": [{"name": e[0]} for e in entries]}
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "apps"},
              "spec": {"selector": {"matchLabels": {"app": "web"}},
                       "template": {"metadata": {"labels": {"app": "web"}}, "spec": pod}}}
    path = tmp_path / "workload.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List",
                                "items": [deploy, *(_pull_secret(*e) for e in entries)]}))
    run = regauth("kube-check", str(path), "--plain-http", "-o", "json")

    assert run.code == 1 and run.result["failed_step"] == "token"
    d = run.diagnosis("kube.all-entries-failed")
    assert (d["step"], d["severity"]) == ("kube", "error")
    assert d["message"].startswith("all 2 matching entries failed (")
    assert f"apps/old-robot key {reg.host}/public as 'robot' → token.bad-credentials" in d["message"]
    assert f"apps/regcred key {reg.host} as 'carol' → token.bad-credentials" in d["message"]
    assert d["message"].endswith("and kubelet does not fall back to an anonymous pull")
    attempts = run.result["kubelet_attempts"]
    assert [(a["secret"], a["key"], a["ok"]) for a in attempts] == [
        ("apps/old-robot", f"{reg.host}/public", False), ("apps/regcred", reg.host, False)]  # no anonymous try
    assert "expired-pass" not in run.stdout and "not-carols-password" not in run.stdout
    # the image is public: anonymously it pulls, for regauth and skopeo; with each entry's credentials skopeo fails
    assert regauth("pull-check", image, "--plain-http", "-o", "json").code == 0
    assert skopeo_inspect(reg, "public/hello:latest").returncode == 0
    for _, _, user, password in entries:
        proc = skopeo_inspect(reg, "public/hello:latest", f"{user}:{password}")
        assert proc.returncode != 0 and "invalid username/password" in proc.stderr, proc.stderr


# =========================================================================== ping.tls-failed


class _TLSFront(FaultProxy):
    """The fault proxy as a TLS front whose server context `setup` restricts (protocol versions, cipher suites)."""

    def __init__(self, registry, pair, setup):
        super().__init__(registry, tls=pair, name="tls-front")
        self._setup = setup

    def start(self) -> "_TLSFront":
        super().start()
        self._setup(self._listener.server.socket.context)  # used for every connection accepted from now on
        return self


def _only(versions: tuple[ssl.TLSVersion, ssl.TLSVersion], ciphers: str):
    def setup(ctx: ssl.SSLContext) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0/1.1 on purpose
            ctx.minimum_version, ctx.maximum_version = versions
        ctx.set_ciphers(ciphers)

    return setup


TLS12 = (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2)


@pytest.mark.parametrize("case, setup", [
    # a legacy appliance: TLS 1.0/1.1 only (the test key is ECDSA, hence the ECDSA suite; SECLEVEL=0 lets
    # OpenSSL 3 speak TLS < 1.2 at all)
    ("tls1.1-only", _only((ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1), "ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0")),
    # TLS 1.2 with only CBC-SHA256 suites (on some hardening checklists): Go clients do not offer them
    ("cbc-sha256-only", _only(TLS12, "ECDHE-ECDSA-AES128-SHA256")),
    # TLS 1.2 with only CBC-SHA1 suites: Go clients offer them, so this one must pull
    ("cbc-sha1-only", _only(TLS12, "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA")),
])
def test_ping_tls_failed(case, setup, request, registry_noauth_http, pki):
    front = _TLSFront(registry_noauth_http, pki.server, setup)
    request.addfinalizer(front.stop)
    front.start()
    run = pull_check(front, "team/app:1.0")
    proc = skopeo_inspect(front, "team/app:1.0")
    if case == "cbc-sha1-only":
        # before the fix regauth used Python's cipher list (no SHA-1 suites) and failed here with ping.tls-failed,
        # where docker, containerd and skopeo (Go's defaults) pull
        assert run.code == 0 and run.result["ok"], run.stdout
        assert proc.returncode == 0, proc.stderr
        return
    d = failed_at(run, "ping", "ping.tls-failed")
    assert d["message"].startswith(f"GET https://{front.host}/v2/ failed: {front.host} ")
    if case == "tls1.1-only":
        assert ("speaks only TLSv1.1 (a client that allows everything got TLSv1.1 with ECDHE-ECDSA-AES128-SHA); "
                "regauth, like docker and containerd, requires TLS 1.2 or later") in d["message"]
        assert "TLSV1_ALERT_PROTOCOL_VERSION" in d["message"]
        assert f"enable TLS 1.2 or 1.3 on {front.host}" in d["fix"]
        # skopeo 1.9 DISAGREES: its containers/image still allows TLS 1.0 (MinVersion TLS10) and pulls; Go's
        # client default since 1.18 (containerd, hence kubelet) and docker's go-connections require TLS 1.2,
        # like regauth
        assert proc.returncode == 0, proc.stderr
    else:
        assert ("accepts TLSv1.2 only with cipher suites regauth does not offer: a client that allows everything "
                "got ECDHE-ECDSA-AES128-SHA256; docker, containerd and regauth offer ECDHE with AES-GCM, "
                "ChaCha20-Poly1305 or AES-CBC-SHA") in d["message"]
        assert "SSLV3_ALERT_HANDSHAKE_FAILURE" in d["message"]
        assert "enable an ECDHE suite with AES-GCM or ChaCha20-Poly1305" in d["fix"]
        assert proc.returncode != 0 and "remote error: tls: handshake failure" in proc.stderr  # skopeo agrees
