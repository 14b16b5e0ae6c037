"""Every failure kind of ../shared/cases.md and every contract code, against the real registry behind the fault tier.

The fault tier is a scriptable reverse proxy (tests/support/faultproxy.py) in front of the session registries, the
switchable token issuer, and an S3-like object store on its own port (tests/support/objectstore.py). Each test sets
one fault, runs the installed `regauth`, and asserts the step, the code and the facts in the message. Where skopeo
can be given the same scenario it runs too, and the test records whether it fails or succeeds: where skopeo
succeeds, regauth must succeed as well.

Test names carry the case ids (`test_br01_…`) or the contract code (`test_code_…`). Left out (owned elsewhere or
not a network fault): BR-28, BR-29, BR-30, BR-49, BR-53, BR-54, BR-56 (credential files), BR-32 (GitLab API, not
the handshake), BR-57…BR-64 (Kubernetes secrets).
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest

from tests.support.cli import isolated_env, pull_check, regauth, transport_flags
from tests.support.faultproxy import (FaultProxy, Request, Response, edit_challenge, html_page, registry_error,
                                      reply, silent_listener)
from tests.support.images import APP, push
from tests.support.objectstore import ObjectStore
from tests.support.pki import libtrust_kid
from tests.support.registry import RegistryProcess, free_port
from tests.support.skopeo import _sandbox, run_skopeo, skopeo_inspect
from tests.support.users import ALICE, BOB, SERVICE

pytestmark = pytest.mark.registry

SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
ARTIFACT = "application/vnd.oci.artifact.manifest.v1+json"


# --------------------------------------------------------------------------- fixtures


def _proxy(request, registry, **kw) -> FaultProxy:
    proxy = FaultProxy(registry, **kw)
    request.addfinalizer(proxy.stop)
    return proxy.start()


@pytest.fixture(scope="module")
def _token_proxy(request, registry_token_http):
    return _proxy(request, registry_token_http, name="token-http")


@pytest.fixture(scope="module")
def _token_tls_proxy(request, registry_token_tls, pki):
    return _proxy(request, registry_token_tls, tls=pki.server, name="token-tls")


@pytest.fixture(scope="module")
def _basic_proxy(request, registry_htpasswd_http):
    return _proxy(request, registry_htpasswd_http, name="htpasswd-http")


@pytest.fixture(scope="module")
def _open_proxy(request, registry_noauth_http):
    return _proxy(request, registry_noauth_http, name="noauth-http")


def _fresh(proxy: FaultProxy):
    proxy.reset()
    yield proxy
    proxy.reset()


@pytest.fixture
def token_proxy(_token_proxy, issuer):
    """The plain-HTTP token registry behind the fault proxy; tokens come through the proxy too."""
    yield from _fresh(_token_proxy)


@pytest.fixture
def token_tls_proxy(_token_tls_proxy, issuer):
    yield from _fresh(_token_tls_proxy)


@pytest.fixture
def basic_proxy(_basic_proxy):
    yield from _fresh(_basic_proxy)


@pytest.fixture
def open_proxy(_open_proxy):
    yield from _fresh(_open_proxy)


@pytest.fixture(scope="module")
def _store(request):
    store = ObjectStore()
    request.addfinalizer(store.stop)
    return store.start()


@pytest.fixture
def store(_store):
    _store.reset()
    yield _store
    _store.reset()


# --------------------------------------------------------------------------- helpers


def skopeo_agrees(run, target, image, creds=None, *, succeeds: bool, extra=()):
    """Run skopeo on the same scenario, record its outcome, and hold regauth to it when skopeo succeeds."""
    proc = skopeo_inspect(target, image, creds=creds, extra=list(extra))
    assert (proc.returncode == 0) is succeeds, f"skopeo {'failed' if succeeds else 'succeeded'}: {proc.stderr}"
    if proc.returncode == 0:
        assert run.code == 0, f"skopeo succeeds here, regauth must too:\n{run.stdout}\n{run.stderr}"
    return proc


def facts(run, step: str) -> str:
    return " | ".join(run.step(step).get("facts", []))


def failed_at(run, step: str, code: str) -> dict:
    """Assert the check failed at `step` with `code` (an error) and return that diagnosis."""
    assert run.code == 1, run.stdout + run.stderr
    assert run.result["failed_step"] == step, (run.result["failed_step"], run.codes, run.stdout)
    d = run.diagnosis(code)
    assert d["severity"] == "error", d
    assert d["fix"], d
    return d


def passed(run) -> None:
    summary = ""
    if run.stdout.startswith("{"):
        summary = f"failed at {run.result['failed_step']}: " + "; ".join(
            f"{d['code']}: {d['message']}" for d in run.result["diagnoses"] if d["severity"] == "error") + "\n"
    assert run.code == 0, summary + run.stdout + run.stderr
    assert run.result["ok"] is True


def rewrite_token_json(fn):
    """A token-route rule editing the JSON body of a successful token response."""

    def edit(req: Request, resp: Response) -> None:
        if resp.status == 200:
            data = resp.json()
            fn(data)
            resp.set_json(data)

    return edit


# =========================================================================== A. challenge content and parsing


def test_br01_comma_in_quoted_scope(token_proxy):
    scope = "repository:team/app:pull,push"
    token_proxy.on("^/v2/$", challenge=edit_challenge(lambda f: f + f',scope="{scope}"'))
    run = pull_check(token_proxy, "team/app:1.0", user=ALICE)
    passed(run)
    params = run.step("challenge")["details"]["challenges"][0]["params"]
    assert set(params) == {"realm", "service", "scope"} and params["scope"] == scope
    assert "scope contains a comma inside quotes" in facts(run, "challenge")
    assert "'repository:team/app:pull'" in facts(run, "challenge") and "stray 'push'" in facts(run, "challenge")
    skopeo_agrees(run, token_proxy, "team/app:1.0", ALICE, succeeds=True)


@pytest.mark.parametrize("variant", ["scope", "service", "basic-realm"])
def test_br03_unquoted_parameter_values(variant, token_proxy, basic_proxy):
    if variant == "basic-realm":
        target, user = basic_proxy, ALICE
        target.on("^/v2/$", challenge=["Basic realm=Registry"])
    else:
        target, user = token_proxy, ALICE
        if variant == "scope":
            target.on("^/v2/$", challenge=edit_challenge(lambda f: f + ",scope=repository:team/app:pull"))
        else:
            target.on("^/v2/$", challenge=edit_challenge(lambda f: f.replace(f'service="{SERVICE}"',
                                                                             f"service={SERVICE}")))
    run = pull_check(target, "team/app:1.0", user=user)
    passed(run)
    key = "realm" if variant == "basic-realm" else variant
    assert f"parameter(s) {key} sent unquoted" in facts(run, "challenge")
    skopeo_agrees(run, target, "team/app:1.0", user, succeeds=True)


@pytest.mark.parametrize("shape", [
    lambda realm: f'Bearer realm="{realm}", service="{SERVICE}", scope=""',
    lambda realm: f'Bearer  realm="{realm}",  service="{SERVICE}"',
], ids=["space-after-commas-empty-scope", "double-spaces"])
def test_br05_extra_whitespace_in_challenge(shape, token_proxy):
    header = shape(token_proxy.realm)
    token_proxy.on("^/v2/$", challenge=[header])
    run = pull_check(token_proxy, "team/app:1.0", user=ALICE)
    passed(run)
    shown = facts(run, "challenge")
    assert "raw header with visible separators" in shown and header.replace(" ", "·") in shown
    assert run.step("challenge")["details"]["challenges"][0]["params"]["service"] == SERVICE
    skopeo_agrees(run, token_proxy, "team/app:1.0", ALICE, succeeds=True)


def test_br06_upper_case_scheme(basic_proxy):
    basic_proxy.on("^/v2/$", challenge=['BASIC realm="Example Nexus Repository Manager"'])
    run = pull_check(basic_proxy, "team/app:1.0", user=ALICE)
    passed(run)
    shown = facts(run, "challenge")
    assert "scheme=Basic (sent as 'BASIC'" in shown and "registry uses Basic auth" in shown
    assert run.step("token")["status"] == "skip"
    skopeo_agrees(run, basic_proxy, "team/app:1.0", ALICE, succeeds=True)


def test_br07_nexus_forces_basic(basic_proxy):
    basic_proxy.on("^/v2/", headers={"Server": "Nexus/3.89.0-01 (OSS)"},
                   challenge=['BASIC realm="Example Nexus Repository Manager"'])
    run = pull_check(basic_proxy, "public/hello:latest")  # the user expected an anonymous pull
    d = failed_at(run, "challenge", "challenge.credentials-required")
    assert "Nexus" in d["message"] and "forceBasicAuth" in d["fix"] and "Docker Bearer Token Realm" in d["fix"]
    skopeo_agrees(run, basic_proxy, "public/hello:latest", succeeds=False)


@pytest.mark.parametrize("token_service", ["defaults-service", "strict"])
def test_br08_no_service_on_v2_challenge(token_service, token_proxy):
    token_proxy.on("^/v2/$", challenge=[f'Bearer realm="{token_proxy.realm}"'])
    if token_service == "defaults-service":  # Artifact Registry: the token endpoint works without service
        token_proxy.on("^/token$", target="token",
                       edit_request=lambda r: setattr(r, "params", r.params if any(k == "service" for k, _ in
                                                                                    r.params)
                                                      else r.params + [("service", SERVICE)]))
    run = pull_check(token_proxy, "team/app:1.0", user=ALICE)
    shown = facts(run, "challenge")
    assert "carries no service" in shown and "the token request omits it" in shown
    assert f"does carry service='{SERVICE}'" in shown
    assert not [s for s in token_proxy.seen("^/token$", target="token") if "service=" in s.query]
    if token_service == "defaults-service":
        passed(run)
        skopeo_agrees(run, token_proxy, "team/app:1.0", ALICE, succeeds=True)
    else:  # the token service mints aud "" and the registry rejects it: say why before the registry does
        d = failed_at(run, "jwt", "jwt.audience-mismatch")
        assert "/v2/ challenge carried no service" in d["message"] and SERVICE in d["message"]
        skopeo_agrees(run, token_proxy, "team/app:1.0", ALICE, succeeds=False)


def test_br09_challenge_without_scope(token_proxy):
    # /v2/ open (200), the repository challenges with realm and service but no scope (Artifactory, early GCR)
    token_proxy.on("^/v2/$", reply=reply(200, {}, headers={"Docker-Distribution-API-Version": "registry/2.0"}))
    token_proxy.on("/manifests/", challenge=edit_challenge(lambda f: f.split(',scope="')[0]))
    run = pull_check(token_proxy, "team/app:1.0", user=ALICE)
    passed(run)
    shown = facts(run, "challenge")
    assert "answered 401 with a challenge" in shown
    assert "no scope in the challenge: regauth requests repository:team/app:pull itself" in shown
    assert "grants pull on team/app" in facts(run, "jwt")
    # skopeo 1.9 takes its challenges from /v2/ only: with /v2/ open it never authenticates, and fails here
    skopeo_agrees(run, token_proxy, "team/app:1.0", ALICE, succeeds=False)


def test_br11_realm_from_multi_valued_forwarded_host(token_proxy):
    bad = "https://cdn.example.com, nexus.example.com/v2/token"
    token_proxy.on("^/v2/$", challenge=[f'Bearer realm="{bad}",service="{bad}"'])
    run = pull_check(token_proxy, "team/app:1.0", user=ALICE)
    d = failed_at(run, "challenge", "challenge.malformed")
    assert bad in d["message"] and "a comma and a space" in d["message"]
    assert "X-Forwarded-Host" in d["message"] and "X-Forwarded-Host" in d["fix"]
    skopeo_agrees(run, token_proxy, "team/app:1.0", ALICE, succeeds=False)


@pytest.mark.parametrize("realm", ["http://harbor-core.default.svc.cluster.local/service/token",
                                   "https://auth.invalid/token"], ids=["cluster-internal", "invalid"])
def test_br12_realm_host_does_not_resolve(realm, token_proxy):
    token_proxy.on("^/v2/$", challenge=[f'Bearer realm="{realm}",service="harbor-registry"'])
    run = pull_check(token_proxy, "team/app:1.0", user=ALICE)
    d = failed_at(run, "challenge", "challenge.realm-unreachable")
    host = realm.split("/")[2]
    assert f"the token realm host {host}" in d["message"] and "does not resolve" in d["message"]
    assert "not the registry host 127.0.0.1" in d["message"] and "external URL" in d["fix"]
    assert "Harbor" in d["fix"]
    assert "challenge.realm-other-host" in run.codes
    if "cluster" in realm:
        assert "cluster-internal name" in d["message"]
    assert not token_proxy.seen(target="token")  # never tried to send credentials anywhere
    skopeo_agrees(run, token_proxy, "team/app:1.0", ALICE, succeeds=False)


@pytest.mark.parametrize("fields", ["one-field", "two-fields"])
def test_several_challenges_basic_first(fields, token_proxy):
    """Quay-style `Basic …, Bearer …`: regauth takes Bearer (containerd's order) and says who would not."""

    def both(old: list[str]) -> list[str]:
        return ['Basic realm="quay", ' + old[0]] if fields == "one-field" else ['Basic realm="quay"', *old]

    token_proxy.on("^/v2/$", challenge=both)
    run = pull_check(token_proxy, "team/app:1.0", user=ALICE)
    passed(run)
    assert run.step("challenge")["details"]["chosen"] == "bearer"
    shown = facts(run, "challenge")
    if fields == "one-field":
        assert "carries 2 challenges (Basic, Bearer)" in shown and "never see Bearer" in shown
    else:
        assert "ggcr takes the first of Basic/Bearer in header order, so it would use Basic" in shown
        assert "oras-go reads only the first challenge of the first WWW-Authenticate field (Basic)" in shown
    # skopeo 1.9 answers the first challenge, Basic, and the token registry refuses Basic credentials
    skopeo_agrees(run, token_proxy, "team/app:1.0", ALICE, succeeds=False)


@pytest.mark.parametrize("where", ["other-host", "other-scheme"])
def test_realm_on_another_host_or_scheme(where, token_proxy, token_issuer, pki):
    realm = f"http://localhost:{token_proxy.port}/token" if where == "other-host" else \
        f"https://localhost:{token_issuer.https_port}/token"
    token_proxy.tokens_via_proxy = where == "other-host"
    token_proxy.on("^/v2/", challenge=edit_challenge(lambda f: f.replace(token_proxy.realm, realm).replace(
        token_issuer.realm, realm)))
    run = pull_check(token_proxy, "team/app:1.0", "--ca-file", str(pki.ca_file), user=ALICE)
    passed(run)
    d = run.diagnosis("challenge.realm-other-host")
    assert d["severity"] == "info" and "tokens come from localhost, another host than the registry 127.0.0.1" in \
        d["message"] and "your credentials are sent there" in d["message"]
    if where == "other-scheme":
        assert "the realm is https while the registry is plain http" in facts(run, "challenge")
    skopeo_agrees(run, token_proxy, "team/app:1.0", ALICE, succeeds=True)


def _anonymous_token(req: Request) -> bool:
    token = (req.authorization or "")[7:]
    return token.startswith("opaque-") or (req.bearer_claims() or {}).get("sub") == ""


@pytest.mark.parametrize("who", ["with-credentials", "anonymous"])
def test_br15_private_repositories_answer_404(who, token_proxy, issuer):
    # GitHub-Packages style: /v2/ challenges, resource requests without (real) credentials get 404 NAME_UNKNOWN
    hidden = registry_error(404, "NAME_UNKNOWN", "repository name not known to registry")
    token_proxy.on("/manifests/|/tags/list", reply=lambda r: hidden if not r.authorization or _anonymous_token(r)
                   else None)
    if who == "with-credentials":
        run = pull_check(token_proxy, "team/app:1.0", user=ALICE)
        passed(run)
        assert all(s.authorization == "Bearer" for s in token_proxy.seen("/manifests/"))
        skopeo_agrees(run, token_proxy, "team/app:1.0", ALICE, succeeds=True)
    else:
        issuer.behaviour.opaque = True  # GHCR-like opaque tokens: nothing to check client-side
        run = pull_check(token_proxy, "team/app:1.0")
        d = failed_at(run, "manifest", "manifest.name-unknown")
        assert "team/app" in d["message"] and "invisible to anonymous" in d["message"]
        assert "answer 404 instead of 401" in d["message"] and "log in and retry" in d["fix"]
        assert run.diagnosis("jwt.opaque")["severity"] == "info"
        skopeo_agrees(run, token_proxy, "team/app:1.0", succeeds=False)


# =========================================================================== B. token endpoint behaviour


@pytest.mark.parametrize("fields", ["access_token", "token", "both", "differ"])
def test_br16_token_field_variants(fields, token_proxy, issuer):
    issuer.behaviour.token_field = "both" if fields == "differ" else fields
    if fields == "differ":
        token_proxy.on("^/token$", target="token",
                       edit_response=rewrite_token_json(lambda d: d.update(token=d["token"][:-8] + "AAAAAAAA")))
    run = pull_check(token_proxy, "team/app:1.0", user=ALICE)
    passed(run)
    details = run.step("token")["details"]
    shown = facts(run, "token")
    assert details["fields"] == {"access_token": ["access_token"], "token": ["token"]}.get(
        fields, ["token", "access_token"])
    assert ("(regauth uses access_token)" if fields != "token" else "(regauth uses token)") in shown
    if fields == "access_token":
        assert "clients that read only `token` get no token" in shown
    elif fields == "token":
        assert "clients that read only the OAuth2 field access_token fail" in shown
    elif fields == "differ":
        assert "different values in `token` and `access_token`" in run.diagnosis("token.fields-differ")["message"]
    # skopeo prefers `token` when both are present, so a broken `token` breaks it
    skopeo_agrees(run, token_proxy, "team/app:1.0", ALICE, succeeds=fields != "differ")


def _refuse(method: str, answer: Response):
    return dict(path="^/token$", target="token", methods=(method,), reply=answer)


CSRF = registry_error(403, "DENIED", "CSRF token invalid")


@pytest.mark.parametrize("refused, answer", [
    ("GET", CSRF), ("GET", html_page(404, "Not Found")),        # mirrored: regauth starts with GET
    ("POST", CSRF), ("POST", html_page(404, "Not Found")),      # the reported shapes: POST refused, GET works
], ids=["get-403", "get-404-html", "post-403", "post-404-html"])
def test_br18_br19_one_token_method_refused(refused, answer, token_proxy):
    token_proxy.on(**_refuse(refused, answer))
    run = pull_check(token_proxy, "team/app:1.0", user=ALICE)
    passed(run)
    methods = [s.method for s in token_proxy.seen(target="token")]
    if refused == "GET":
        assert methods == ["GET", "POST"]
        d = run.diagnosis("token.method-not-allowed")
        assert d["severity"] == "warning"
        assert f"refused the token GET (HTTP {answer.status}" in d["message"]
        assert "accepted the OAuth2 POST" in d["message"] and "docker fetches tokens with GET only" in d["fix"]
        assert ("CSRF token invalid" if answer is CSRF else "an HTML page (text/html, title '404 Not Found'") \
            in d["message"]
        assert f"the token GET → {answer.status}, the OAuth2 POST → 200" in facts(run, "token")
    else:
        assert methods == ["GET"]  # the Docker token GET works: regauth never needs the POST
    skopeo_agrees(run, token_proxy, "team/app:1.0", ALICE, succeeds=refused == "POST")


def test_br18_identity_token_post_refused(token_proxy, tmp_path, issuer):
    """With a refresh token only the OAuth2 POST is possible: its refusal is reported with the body."""
    token_proxy.on(**_refuse("POST", CSRF))
    refresh = _refresh_token(token_proxy, ALICE)
    (tmp_path / "token").write_text(refresh)
    run = regauth("pull-check", token_proxy.ref("team/app:1.0"), "--plain-http", "--identity-token",
                  str(tmp_path / "token"), "-o", "json")
    d = failed_at(run, "token", "token.forbidden")
    assert "the OAuth2 POST → 403" in d["message"] and "CSRF token invalid" in d["message"]
    assert refresh not in run.stdout
    authfile = tmp_path / "auth.json"  # skopeo with the same refresh token (containers/image POSTs it too)
    authfile.write_text(json.dumps({"auths": {token_proxy.host: {"auth": base64.b64encode(b"<token>:").decode(),
                                                                 "identitytoken": refresh}}}))
    assert skopeo_inspect(token_proxy, "team/app:1.0", authfile=authfile).returncode != 0


def _refresh_token(target: FaultProxy, user) -> str:
    import httpx

    resp = httpx.get(target.realm, params={"service": SERVICE, "offline_token": "true", "client_id": "test",
                                           "scope": "repository:team/app:pull"},
                     auth=(user.name, user.password), trust_env=False, timeout=10)
    return resp.json()["refresh_token"]


def test_br27_identity_token_in_auth_file(token_proxy, tmp_path):
    """ACR style: auth = base64('00000000-…:') and identitytoken = a refresh token → OAuth2 POST (refresh_token)."""
    null_user = "00000000-0000-0000-0000-000000000000"
    authfile = tmp_path / "auth.json"
    authfile.write_text(json.dumps({"auths": {token_proxy.host: {
        "auth": base64.b64encode(f"{null_user}:".encode()).decode(),
        "identitytoken": _refresh_token(token_proxy, ALICE)}}}))
    token_proxy.log.clear()
    run = regauth("pull-check", token_proxy.ref("team/app:1.0"), "--plain-http", "--authfile", str(authfile),
                  "-o", "json")
    passed(run)
    assert run.step("token")["details"]["method"] == "POST"
    assert [s.method for s in token_proxy.seen(target="token")] == ["POST"]
    proc = skopeo_inspect(token_proxy, "team/app:1.0", authfile=authfile)
    assert proc.returncode == 0, proc.stderr  # containers/image exchanges the identity token the same way


@pytest.mark.parametrize("status", [404, 200])
def test_br20_realm_routed_to_a_web_page(status, token_proxy):
    token_proxy.on("^/token$", target="token", reply=html_page(status, "Not Found" if status == 404 else "OK"))
    run = pull_check(token_proxy, "team/app:1.0", user=ALICE)
    d = failed_at(run, "token", "token.bad-response")
    if status == 404:
        assert "answered with HTML pages, not as a token service" in d["message"]
        assert "the token GET → 404 (an HTML page (text/html, title '404 Not Found', Server nginx" in d["message"]
        assert "the OAuth2 POST → 404" in d["message"] and "reverse-proxy routing" in d["fix"]
    else:
        assert "answered 200 with an HTML page" in d["message"] and "wrong backend" in d["fix"]
    skopeo_agrees(run, token_proxy, "team/app:1.0", ALICE, succeeds=False)


def test_br22_token_service_keeps_one_scope(token_proxy):
    both = "repository:team/app:pull repository:team/multi:pull"
    token_proxy.on("^/v2/$", challenge=edit_challenge(lambda f: f + f',scope="{both}"'))

    def first_scope_only(req: Request) -> None:
        pairs, seen = [], False
        for k, v in req.params:
            if k == "scope":
                if seen:
                    continue
                seen = True
            pairs.append((k, v))
        req.params = pairs

    token_proxy.on("^/token$", target="token", edit_request=first_scope_only)
    run = pull_check(token_proxy, "team/app:1.0", user=ALICE)
    passed(run)  # team/app is what the pull needs; the lost scope is a warning
    sent = token_proxy.seen(target="token")[0].query
    assert sent.count("scope=") == 2
    d = run.diagnosis("jwt.insufficient-access")
    assert d["severity"] == "warning"
    assert "requested 2 resources, the token covers 1" in d["message"] and "team/multi" in d["message"]
    assert "keeps only one of the repeated scope parameters" in d["message"]
    skopeo_agrees(run, token_proxy, "team/app:1.0", ALICE, succeeds=True)


def test_br23_wrong_credentials_silently_anonymous(token_proxy):
    """Harbor style: a wrong password still gets a 200 and a token, issued anonymously with empty actions."""

    def harbor_fallback(req: Request) -> None:
        auth = req.authorization or ""
        if auth.startswith("Basic ") and base64.b64decode(auth[6:]).decode() != ALICE.creds:
            req.set_header("Authorization", None)

    token_proxy.on("^/token$", target="token", edit_request=harbor_fallback)
    run = pull_check(token_proxy, "team/app:1.0", user=ALICE, password="wrong-password")
    d = failed_at(run, "jwt", "jwt.no-access")
    assert "credentials of 'alice' were sent, but the token has no subject" in d["message"]
    assert "silently issued an anonymous token" in d["message"] and "team/app" in d["message"]
    assert "username and password of 'alice'" in d["fix"]
    assert "wrong-password" not in run.stdout
    skopeo_agrees(run, token_proxy, "team/app:1.0", "alice:wrong-password", succeeds=False)


# =========================================================================== C. provider-specific answers


ECR_TEXT = "Your Authorization Token has expired. Please run 'aws ecr get-login' to fetch a new one."


@pytest.mark.parametrize("variant", ["ecr-plain-text", "ecr-json", "ghcr-sso"])
def test_br25_br33_registry_denies_after_authentication(variant, basic_proxy, token_proxy):
    if variant == "ghcr-sso":
        target = token_proxy
        target.on("/manifests/", reply=registry_error(403, "DENIED", "Resource protected by organization SAML "
                                                      "enforcement. You must grant your access token to this org."))
    else:
        target = basic_proxy
        target.on("/manifests/", reply=reply(403, ECR_TEXT, "text/plain") if variant == "ecr-plain-text" else
                  registry_error(403, "DENIED", "Your authorization token has expired. Reauthenticate and try again."))
    run = pull_check(target, "team/app:1.0", user=ALICE)
    d = failed_at(run, "manifest", "manifest.denied")
    assert "'alice'" in d["message"] and "team/app:1.0" in d["message"] and "HTTP 403" in d["message"]
    if variant == "ghcr-sso":
        assert "SAML enforcement" in d["message"] and "issued a token, but the registry refuses it" in d["message"]
        assert "SSO" in d["fix"]
    else:
        assert ("Your Authorization Token has expired" if variant == "ecr-plain-text" else "DENIED: Your") \
            in d["message"]
        assert "ECR passwords last 12 hours" in d["message"] and "get-login-password" in d["fix"]
    skopeo_agrees(run, target, "team/app:1.0", ALICE, succeeds=False)


def test_br35_artifactory_cannot_map_the_host(open_proxy):
    unsupported = {"errors": [{"status": 400, "message": "Unsupported docker v2 repository request for 'null'"}]}
    open_proxy.on("^/v2/$", reply=reply(400, unsupported))
    run = pull_check(open_proxy, "team/app:1.0")
    d = failed_at(run, "ping", "ping.unexpected-status")
    assert "answered 400" in d["message"] and "request for 'null'" in d["message"]
    assert "Artifactory" in d["message"] and "repository key" in d["message"] and "subdomain" in d["fix"]
    skopeo_agrees(run, open_proxy, "team/app:1.0", succeeds=False)


def test_br36_email_address_as_username(token_proxy):
    token_proxy.on("^/token$", target="token", edit_response=lambda req, resp: resp.set_json(
        {"details": "incorrect username or password"}) if resp.status == 401 else None)
    run = pull_check(token_proxy, "team/app:1.0", user=type(ALICE)("alice@example.com", ALICE.password))
    d = failed_at(run, "token", "token.bad-credentials")
    assert "'alice@example.com'" in d["message"] and "details: incorrect username or password" in d["message"]
    assert "looks like an e-mail address" in d["message"] and "account name" in d["fix"]
    skopeo_agrees(run, token_proxy, "team/app:1.0", f"alice@example.com:{ALICE.password}", succeeds=False)


# =========================================================================== D. scope and repository naming


@pytest.mark.parametrize("variant", ["missing-library-prefix", "near-name", "case"])
def test_br37_token_grants_nothing_for_the_name(variant, token_proxy, issuer):
    if variant == "missing-library-prefix":
        image, user = "hello-world:latest", None
    else:  # a token service that lists every grant of the user, whatever was asked
        granted = "team/app" if variant == "near-name" else "team/App"
        issuer.behaviour.access = [{"type": "repository", "name": granted, "actions": ["pull"]}]
        image, user = "team/ap:1.0" if variant == "near-name" else "team/app:1.0", BOB
    run = pull_check(token_proxy, image, user=user)
    d = failed_at(run, "jwt", "jwt.no-access")
    if user is None:
        assert "for an anonymous request; it grants nothing at all" in d["message"]
        assert "for an anonymous request" in d["message"]
        assert "'library/hello-world'" in d["message"] and "proxy or mirror" in d["message"]
    elif variant == "near-name":
        assert "no pull on team/ap for 'bob'" in d["message"] and "it grants repository:team/app:pull" in d["message"]
        assert "did you mean 'team/app'?" in d["message"]
    else:
        assert "the token grants 'team/App', which differs only in case" in d["message"]
    skopeo_agrees(run, token_proxy, image, user, succeeds=False)


# =========================================================================== E. JWT claims and clocks


@pytest.mark.parametrize("nbf_offset", [30, 300])
def test_br39_nbf_ahead_of_the_registry_clock(nbf_offset, token_proxy, issuer):
    issuer.behaviour.nbf_offset = nbf_offset
    run = pull_check(token_proxy, "team/app:1.0", user=ALICE)
    if nbf_offset < 60:  # inside distribution's leeway: works here, fails on a registry without leeway
        passed(run)
        shown = facts(run, "jwt")
        assert "nbf is" in shown and "after the registry's clock (Date header)" in shown
        assert "a registry node without leeway" in shown
    else:
        d = failed_at(run, "jwt", "jwt.not-yet-valid")
        assert "nbf" in d["message"] and "in the future of the registry's Date header" in d["message"]
        assert "NTP" in d["fix"]
    skopeo_agrees(run, token_proxy, "team/app:1.0", ALICE, succeeds=nbf_offset < 60)


def test_br41_token_expires_during_the_pull(token_proxy, issuer):
    # 300 s advertised, but the token is already 30 s past exp: the registry's leeway lets the manifest through,
    # then a blob request is refused as the token's time runs out
    issuer.behaviour.exp_offset = -30
    expired = registry_error(401, "UNAUTHORIZED", "authentication required", headers={
        "WWW-Authenticate": f'Bearer realm="{token_proxy.realm}",service="{SERVICE}",'
                            'scope="repository:team/app:pull",error="invalid_token"'})
    refused: set[str] = set()

    def first_token_runs_out(req: Request):  # the first token used on a blob has run out; later ones work
        token = req.authorization or ""
        if not refused:
            refused.add(token)
        return expired if token in refused else None

    token_proxy.on("/blobs/", reply=first_token_runs_out)
    run = pull_check(token_proxy, "team/app:1.0", user=ALICE)
    passed(run)
    shown = facts(run, "jwt")
    assert "expires_in 300 s" in shown and "s past its exp" in shown and "must fetch a new token" in shown
    d = run.diagnosis("blob.token-expired")
    assert d["severity"] == "warning" and "error=invalid_token" in d["message"]
    assert "the token had expired" in d["message"] and "the retry with a new token got 200" in d["message"]
    assert len(token_proxy.seen(target="token")) == 2
    refused.clear()
    skopeo_agrees(run, token_proxy, "team/app:1.0", ALICE, succeeds=False)  # it does not refresh and retry


# =========================================================================== F. manifest Accept negotiation


@pytest.mark.parametrize("image, where, stored, step", [
    ("team/app:1.0", "/manifests/", "application/vnd.oci.image.manifest.v1+json", "manifest"),     # BR-43
    ("team/multi:1.0", "/manifests/", "application/vnd.oci.image.index.v1+json", "manifest"),      # BR-42
    ("team/multi:1.0", "/manifests/sha256:", "application/vnd.oci.image.manifest.v1+json", "platform"),  # BR-45
], ids=["br43-oci-manifest", "br42-oci-index", "br45-child-by-digest"])
def test_br42_br43_br45_accept_header_lost_on_the_way(image, where, stored, step, token_proxy):
    token_proxy.on(where, edit_request=lambda r: r.set_header("Accept", None))
    run = pull_check(token_proxy, image, user=ALICE)
    d = failed_at(run, step, "manifest.not-acceptable")
    assert f"exists as {stored}" in d["message"] and "accept header does not support" in d["message"]
    assert "drops or rewrites the Accept header" in d["message"] and "not a missing tag" in d["fix"]
    skopeo_agrees(run, token_proxy, image, ALICE, succeeds=False)


def _only_as(media_type: str, body: dict, star: bool):
    """Serve the manifest only to requests that accept `media_type` (and `*/*` if `star`)."""
    data = json.dumps(body).encode()

    def answer(req: Request):
        accept = req.header("Accept") or ""
        if media_type in accept or (star and "*/*" in accept):
            import hashlib

            return reply(200, data, media_type, headers={
                "Docker-Content-Digest": "sha256:" + hashlib.sha256(data).hexdigest()})
        return registry_error(404, "MANIFEST_UNKNOWN", "manifest unknown")

    return answer


SCHEMA1_BODY = {"schemaVersion": 1, "name": "team/app", "tag": "1.0", "architecture": "amd64",
                "fsLayers": [{"blobSum": "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"}],
                "history": [{"v1Compatibility": json.dumps({"id": "a" * 64, "architecture": "amd64", "os": "linux",
                                                            "created": "2024-01-01T00:00:00Z"})}]}
ARTIFACT_BODY = {"mediaType": ARTIFACT, "artifactType": "application/vnd.example.sbom.v1",
                 "blobs": [{"mediaType": "application/json", "size": 2,
                            "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}]}


@pytest.mark.parametrize("media_type", [SCHEMA1, ARTIFACT], ids=["schema1", "artifact"])
def test_manifest_only_in_a_type_the_client_did_not_accept(media_type, token_proxy):
    body = SCHEMA1_BODY if media_type == SCHEMA1 else ARTIFACT_BODY
    token_proxy.on("/manifests/1.0$", reply=_only_as(media_type, body, star=media_type == SCHEMA1))
    run = pull_check(token_proxy, "team/app:1.0", user=ALICE)
    if media_type == SCHEMA1:  # found by asking with */*, then fetched with schema 1 accepted: a legacy warning
        passed(run)
        assert run.diagnosis("manifest.schema1")["severity"] == "warning"
        assert f"stored only as {SCHEMA1}" in facts(run, "manifest")
    else:
        d = failed_at(run, "manifest", "manifest.not-acceptable")
        assert f"exists only as {ARTIFACT} (found with Accept: {ARTIFACT})" in d["message"]
        assert "artifact, not a runnable image" in d["fix"] and "oras" in d["fix"]
    skopeo_agrees(run, token_proxy, "team/app:1.0", ALICE, succeeds=media_type == SCHEMA1)


# =========================================================================== G. rate limiting


HUB_LIMITS = {"ratelimit-limit": "100;w=21600", "ratelimit-remaining": "0;w=21600",
              "docker-ratelimit-source": "203.0.113.7", "Retry-After": "1"}


@pytest.mark.parametrize("who", ["anonymous", "alice"])
def test_br47_unauthenticated_rate_limit(who, open_proxy, token_proxy):
    target = open_proxy if who == "anonymous" else token_proxy
    target.on("/manifests/", reply=registry_error(429, "TOOMANYREQUESTS", "You have reached your unauthenticated "
                                                  "pull rate limit. https://www.docker.com/increase-rate-limit",
                                                  headers=HUB_LIMITS))
    user = None if who == "anonymous" else ALICE
    run = pull_check(target, "team/app:1.0", user=user)
    d = failed_at(run, "manifest", "manifest.rate-limited")
    assert "HTTP 429: TOOMANYREQUESTS" in d["message"]
    assert "0 of 100 pulls left per 21600 s" in d["message"] and "source 203.0.113.7" in d["message"]
    assert "Retry-After 1" in d["message"]
    if user is None:
        assert "rate-limited anonymous" in d["message"] and "no credentials were found" in d["message"]
        assert "as the user that runs the pull" in d["fix"]
    else:
        assert "although the credentials of 'alice' were sent" in d["message"]
        return
    # skopeo retries a 429 five times, honouring Retry-After (1 s here), then fails
    skopeo_agrees(run, target, "team/app:1.0", user, succeeds=False)


def test_br48_rate_limit_headers_on_success(open_proxy):
    open_proxy.on("/manifests/", headers={"ratelimit-limit": "100;w=21600", "ratelimit-remaining": "0;w=21600",
                                          "docker-ratelimit-source": "2001:db8:1::"})
    run = pull_check(open_proxy, "team/app:1.0")
    passed(run)
    assert run.step("manifest")["details"]["rate_limit"] == {"limit": 100, "remaining": 0, "window_s": 21600,
                                                              "source": "2001:db8:1::"}
    d = run.diagnosis("manifest.rate-limit")
    assert d["severity"] == "info" and "for anonymous" in d["message"] and "0 of 100 pulls left" in d["message"]
    assert "IPv6 /64 prefix" in d["message"] and "shared with every host in that subnet" in d["message"]
    skopeo_agrees(run, open_proxy, "team/app:1.0", succeeds=True)


# =========================================================================== H. blob redirects


def test_br50_presigned_redirect_never_gets_authorization(token_proxy, store):
    token_proxy.on("/blobs/", redirect_to=store)
    run = pull_check(token_proxy, "team/app:1.0", user=ALICE)
    passed(run)
    hops = run.step("blob")["details"]["hops"]
    assert [(h["host"], h["status"], h["authorization_sent"], h["presigned"]) for h in hops] == [
        (token_proxy.host, 307, True, False), (store.host, 200, False, True)]
    assert "X-Amz-Signature=<redacted" in hops[1]["url"]
    assert "regauth never sends Authorization there" in facts(run, "blob")
    assert store.requests and not any(r.authorization for r in store.requests)
    skopeo_agrees(run, token_proxy, "team/app:1.0", ALICE, succeeds=True)
    assert not any(r.authorization for r in store.requests)  # nor does skopeo


def test_br50_store_rejects_authorization_like_s3(store):
    import httpx

    url = store.put(b"{}", method="GET")
    assert httpx.get(url, trust_env=False).status_code == 200
    refused = httpx.get(url, headers={"Authorization": "Bearer x"}, trust_env=False)
    assert refused.status_code == 400 and b"Only one auth mechanism allowed" in refused.content


def test_br52_redirect_to_a_registry_with_its_own_challenge(open_proxy, registry_token_http):
    # a vendor front host, open at /v2/, that redirects repository requests to another (token) registry
    open_proxy.on("/(manifests|blobs)/", reply=lambda r: reply(307, b"", headers={
        "Location": f"{registry_token_http.url}{r.path}"}))
    run = pull_check(open_proxy, "public/hello:latest")
    passed(run)
    d = run.diagnosis("manifest.redirect-challenge")
    assert registry_token_http.host in d["message"] and f"service {SERVICE}" in d["message"]
    assert "anonymously, never with the credentials" in d["message"]
    assert "which challenged on its own" in facts(run, "manifest")
    assert run.step("blob")["details"]["hops"][-1]["authorization_sent"] is True  # bound to the target's origin
    # skopeo 1.9 does not run the token flow for a redirect target (containerd's bug before 1.5)
    skopeo_agrees(run, open_proxy, "public/hello:latest", succeeds=False)


# =========================================================================== K. TLS, plain HTTP and proxies


def _tls_front(request, upstream, pair, **kw) -> FaultProxy:
    """A TLS front (certificate `pair`) for one test, in front of `upstream`."""
    return _proxy(request, upstream, tls=pair, **kw)


@pytest.mark.parametrize("name", ["harbor.example.com", "*.unrelated.example.com"], ids=["br65", "br71"])
def test_br65_br71_certificate_for_other_names(name, request, registry_noauth_http, pki):
    front = _tls_front(request, registry_noauth_http, pki.wrong_name_server(name))
    run = pull_check(front, "team/app:1.0")
    d = failed_at(run, "ping", "ping.tls-hostname")
    assert "the certificate does not name 127.0.0.1" in d["message"]
    assert f"a certificate for [{name}] (CN {name}), issued by 'regauth test CA', valid" in d["message"]
    assert "from 127.0.0.1" in d["message"]
    assert "subjectAltName" in d["fix"] and "TLS-intercepting proxy" in d["fix"] and "hosts file" in d["fix"]
    skopeo_agrees(run, front, "team/app:1.0", succeeds=False)


def test_tls_unknown_ca_names_the_issuer(request, registry_noauth_http, pki):
    front = _tls_front(request, registry_noauth_http, pki.other_ca_server())
    run = regauth("pull-check", front.ref("team/app:1.0"), "--ca-file", str(pki.ca_file), "-o", "json")
    d = failed_at(run, "ping", "ping.tls-unknown-ca")
    assert "certificate signed by an unknown authority" in d["message"]
    assert "issued by 'regauth other CA'" in d["message"] and "--ca-file" in d["fix"]
    proc = run_skopeo(["inspect", "--no-creds", "--no-tags", "--cert-dir", str(pki.cert_dir),
                       f"docker://{front.ref('team/app:1.0')}"])
    assert proc.returncode != 0 and "certificate signed by unknown authority" in proc.stderr


@pytest.fixture(scope="module")
def expired_registry(request, tier_dir, pki):
    """A real registry serving an expired certificate."""
    reg = RegistryProcess(tier_dir / "faults-expired", tls_pair=pki.expired_server(), name="faults-expired")
    request.addfinalizer(reg.stop)
    return reg.start()


def test_code_ping_tls_expired(expired_registry):
    run = pull_check(expired_registry, "team/app:1.0")
    d = failed_at(run, "ping", "ping.tls-expired")
    assert f"the certificate of {expired_registry.host} is valid" in d["message"]
    assert "and this machine's clock says" in d["message"] and "'regauth test CA'" in d["message"]
    assert "renew" in d["fix"]
    skopeo_agrees(run, expired_registry, "team/app:1.0", succeeds=False)


def _client_pair(pki, directory: Path) -> tuple[Path, Path]:
    """client.cert / client.key signed by the tier CA, for clientAuth."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    from tests.support.pki import cert_pem, key_pem, new_key

    key = new_key()
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "regauth test client")]))
            .issuer_name(pki.ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(pki.ca_key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "client.cert").write_bytes(cert_pem(cert))
    (directory / "client.key").write_bytes(key_pem(key))
    return directory / "client.cert", directory / "client.key"


@pytest.mark.parametrize("layout", ["host-port", "host-without-port", "client-cert", "client-cert-missing"])
def test_br67_certs_dir(layout, request, tmp_path, pki, registry_noauth_tls, registry_noauth_http):
    """docker's per-registry directories (`--certs-dir DIR` → DIR/HOST:PORT/ca.crt, client.cert, client.key)."""
    if layout.startswith("client-cert"):
        target = _tls_front(request, registry_noauth_http, pki.server, client_ca=pki.ca_file)
    else:
        target = registry_noauth_tls
    host, port = target.host.split(":")
    folder = tmp_path / "certs.d" / (host if layout == "host-without-port" else target.host)
    folder.mkdir(parents=True)
    shutil.copy(pki.ca_file, folder / "ca.crt")
    if layout == "client-cert":
        _client_pair(pki, folder)
    run = regauth("pull-check", target.ref("team/app:1.0"), "--certs-dir", str(tmp_path / "certs.d"), "-o", "json")
    if layout in ("host-port", "client-cert"):
        passed(run)
        tls = run.step("ping")["details"]["tls_files"]
        assert f"CA {folder / 'ca.crt'}" in tls
        if layout == "client-cert":
            assert f"client cert {folder / 'client.cert'}" in tls
    elif layout == "host-without-port":
        d = failed_at(run, "ping", "ping.tls-unknown-ca")
        assert f"{folder} exists but the registry is {target.host}" in d["fix"]
        assert f"ignores {host}/" in d["fix"] and "must be exactly host:port" in d["fix"]
    else:
        d = failed_at(run, "ping", "ping.tls-client-cert")
        assert f"{target.host} demands a client certificate and none was sent" in d["message"]
        assert f"{target.host}/client.cert" in d["fix"]
    # skopeo with the same layout where containers/image looks by itself: ~/.config/containers/certs.d/HOST:PORT
    skopeo_certs = _sandbox() / "home" / ".config" / "containers" / "certs.d"
    shutil.copytree(folder, skopeo_certs / folder.name)
    try:
        proc = run_skopeo(["inspect", "--no-creds", "--no-tags", f"docker://{target.ref('team/app:1.0')}"])
    finally:
        shutil.rmtree(skopeo_certs / folder.name)
    assert (proc.returncode == 0) is (layout in ("host-port", "client-cert")), proc.stderr
    if proc.returncode == 0:
        assert run.code == 0


@pytest.mark.parametrize("store_ca", ["in-registry-dir", "in-own-dir"])
def test_br67_redirect_target_is_verified_with_the_registry_trust(store_ca, request, tmp_path, pki,
                                                                  token_tls_proxy):
    """Blobs redirect to storage under another CA: its CA must be trusted for the registry (system store or
    certs.d/REGISTRY/), because clients verify redirects with the registry's transport; certs.d/STORAGE/ is not
    looked at (skopeo proves it)."""
    other = pki.other_ca_server()
    tls_store = ObjectStore(tls=other)
    request.addfinalizer(tls_store.stop)
    tls_store.start()
    token_tls_proxy.on("/blobs/", redirect_to=tls_store)
    certs = tmp_path / "certs.d"
    (certs / token_tls_proxy.host).mkdir(parents=True)
    shutil.copy(pki.ca_file, certs / token_tls_proxy.host / "ca.crt")
    store_dir = certs / (token_tls_proxy.host if store_ca == "in-registry-dir" else tls_store.host)
    store_dir.mkdir(exist_ok=True)
    shutil.copy(other.ca, store_dir / "storage-ca.crt")
    run = regauth("pull-check", token_tls_proxy.ref("team/app:1.0"), "--certs-dir", str(certs), "-u", ALICE.name,
                  "--password-stdin", "-o", "json", input=ALICE.password + "\n")
    if store_ca == "in-registry-dir":
        passed(run)
        assert f"200 from {tls_store.host} (Authorization not sent, presigned URL; TLS verified with the " \
               f"registry's trust: system roots, CA {store_dir / 'ca.crt'}, CA {store_dir / 'storage-ca.crt'})" \
               in facts(run, "blob")
    else:
        d = failed_at(run, "blob", "blob.unexpected-status")
        assert f"failed at the redirect target {tls_store.host}" in d["message"]
        assert "certificate signed by an unknown authority" in d["message"] and "regauth other CA" in d["message"]
        assert f"put the CA of {tls_store.host} in certs.d/{token_tls_proxy.host}/" in d["fix"]
        assert f"certs.d: {store_dir} holds storage-ca.crt" in facts(run, "blob")
    skopeo_certs = _sandbox() / "home" / ".config" / "containers" / "certs.d"
    dirs = sorted({token_tls_proxy.host, store_dir.name})
    for name in dirs:
        shutil.copytree(certs / name, skopeo_certs / name)
    try:
        proc = run_skopeo(["inspect", "--creds", ALICE.creds, "--no-tags",
                           f"docker://{token_tls_proxy.ref('team/app:1.0')}"])
    finally:
        for name in dirs:
            shutil.rmtree(skopeo_certs / name)
    assert (proc.returncode == 0) is (store_ca == "in-registry-dir"), proc.stderr


def test_br68_https_to_a_plain_http_registry(registry_noauth_http):
    run = regauth("pull-check", registry_noauth_http.ref("team/app:1.0"), "-o", "json")
    d = failed_at(run, "ping", "ping.tls-on-plain-http")
    assert f"{registry_noauth_http.host} speaks plain HTTP: a plain request got 'HTTP/1.1 200 OK'" in d["message"]
    assert f'"{registry_noauth_http.host}" to insecure-registries' in d["fix"] and "--plain-http" in d["fix"]
    proc = run_skopeo(["inspect", "--no-creds", "--no-tags", f"docker://{registry_noauth_http.ref('team/app:1.0')}"])
    assert proc.returncode != 0 and "server gave HTTP response to HTTPS client" in proc.stderr


def test_code_ping_tls_on_plain_http_reverse(registry_noauth_tls):
    """--plain-http against a TLS registry (the other direction). skopeo has no "plain HTTP only" switch."""
    run = regauth("pull-check", registry_noauth_tls.ref("team/app:1.0"), "--plain-http", "-o", "json")
    d = failed_at(run, "ping", "ping.tls-on-plain-http")
    assert "speaks HTTPS but regauth used plain HTTP" in d["message"]
    assert "Client sent an HTTP request to an HTTPS server" in d["message"] and "drop --plain-http" in d["fix"]


def _proxy_env(**proxies: str) -> dict[str, str]:
    env = isolated_env(**proxies)
    for k in ("NO_PROXY", "no_proxy"):
        env.pop(k, None)
    return env


def test_br70_https_proxy_url_for_a_plain_http_proxy(open_proxy, registry_noauth_tls):
    proxy = f"https://127.0.0.1:{open_proxy.port}"
    run = regauth("pull-check", registry_noauth_tls.ref("team/app:1.0"), "--ca-file",
                  str(registry_noauth_tls.ca_file), "-o", "json", env=_proxy_env(HTTPS_PROXY=proxy))
    d = failed_at(run, "ping", "ping.tls-on-plain-http")
    assert f"the proxy {proxy}" in d["message"] and "written with https://" in d["message"]
    assert "speaks plain HTTP" in d["message"] and "it answered 'HTTP/1" in d["message"]
    assert f"http://127.0.0.1:{open_proxy.port}" in d["fix"] and "CONNECT" in d["fix"]
    assert proxy in run.diagnosis("ping.proxy-in-use")["message"]


@pytest.mark.parametrize("kind", ["http-forward", "https-connect"])
def test_proxy_from_the_environment_is_reported(kind, open_proxy, registry_noauth_http, registry_noauth_tls):
    proxy = f"http://127.0.0.1:{open_proxy.port}"
    if kind == "http-forward":
        target, env = registry_noauth_http, _proxy_env(HTTP_PROXY=proxy)
    else:
        target, env = registry_noauth_tls, _proxy_env(HTTPS_PROXY=proxy)
    run = regauth("pull-check", target.ref("team/app:1.0"), *transport_flags(target), "-o", "json", env=env)
    passed(run)
    assert run.step("ping")["details"]["proxy"] == proxy
    d = run.diagnosis("ping.proxy-in-use")
    assert d["severity"] == "info" and proxy in d["message"] and target.host in d["message"]
    assert "container runtime" in d["fix"]
    if kind == "http-forward":
        assert f"GET http://{target.host}/v2/" in open_proxy.forwarded
    else:
        assert open_proxy.forwarded == [f"CONNECT {target.host}"]


def test_a_proxy_password_never_shows_however_short(open_proxy, registry_noauth_http):
    """Too short for the last-line scrub (which leaves values under 6 characters alone): the URL is redacted."""
    proxy = f"http://bob:pw12@127.0.0.1:{open_proxy.port}"
    env = _proxy_env(HTTP_PROXY=proxy)
    ref, flags = registry_noauth_http.ref("team/app:1.0"), transport_flags(registry_noauth_http)
    run = regauth("pull-check", ref, *flags, "-o", "json", env=env)
    passed(run)
    shown = run.step("ping")["details"]["proxy"]
    assert shown.startswith("http://bob:<redacted sha256:") and shown.endswith(f"@127.0.0.1:{open_proxy.port}")
    assert shown in run.diagnosis("ping.proxy-in-use")["message"]
    text = regauth("pull-check", ref, *flags, "-v", env=env)
    assert text.code == 0 and f"through proxy {shown}" in text.stdout
    for out in (run.stdout, run.stderr, text.stdout, text.stderr):
        assert "pw12" not in out
    assert f"GET http://{registry_noauth_http.host}/v2/" in open_proxy.forwarded  # it was used, credentials and all


# =========================================================================== contract codes, one by one


def test_code_ping_dns():
    run = regauth("pull-check", "registry.invalid:5000/team/app:1.0", "-o", "json")
    d = failed_at(run, "ping", "ping.dns")
    assert "https://registry.invalid:5000/v2/" in d["message"] and "does not resolve" in d["message"]
    assert "DNS" in d["fix"]
    proc = run_skopeo(["inspect", "--no-creds", "--no-tags", "docker://registry.invalid:5000/team/app:1.0"])
    assert proc.returncode != 0 and "registry.invalid" in proc.stderr


def test_code_ping_timeout():
    sock, port = silent_listener()
    try:
        run = regauth("pull-check", f"127.0.0.1:{port}/team/app:1.0", "--plain-http", "--timeout", "0.5",
                      "-o", "json")
    finally:
        sock.close()
    d = failed_at(run, "ping", "ping.timeout")
    assert f"no answer from 127.0.0.1:{port} within 0.5 s" in d["message"] and "--timeout" in d["fix"]


@pytest.mark.parametrize("page", [html_page(404, "Not Found"), html_page(200, "Registry UI")],
                         ids=["nginx-404", "web-ui-200"])
def test_code_ping_not_registry(page, open_proxy):
    open_proxy.on("^/v2/$", reply=page)
    run = pull_check(open_proxy, "team/app:1.0")
    if page.status == 404:
        d = failed_at(run, "ping", "ping.not-registry")
    else:  # 200 is enough for skopeo and containerd to go on; the repository itself answers as a registry
        passed(run)
        d = run.diagnosis("ping.not-registry")
        assert d["severity"] == "warning" and run.step("ping")["status"] == "warn"
        assert "going on to the repository" in d["message"]
    assert f"answered {page.status} with an HTML page" in d["message"] and "nginx/1.25.3" in d["message"]
    assert "not as a v2 registry" in d["message"] and "/v2/ route" in d["fix"]
    skopeo_agrees(run, open_proxy, "team/app:1.0", succeeds=page.status == 200)


def test_code_challenge_missing(token_proxy):
    token_proxy.on("^/v2/$", headers={"WWW-Authenticate": None})
    run = pull_check(token_proxy, "team/app:1.0", user=ALICE)
    d = failed_at(run, "challenge", "challenge.missing")
    assert "/v2/ answered 401 without any WWW-Authenticate header" in d["message"] and "proxy" in d["fix"]
    skopeo_agrees(run, token_proxy, "team/app:1.0", ALICE, succeeds=False)


def test_code_challenge_malformed(token_proxy):
    token_proxy.on("^/v2/$", challenge=[f'Bearer realm="{token_proxy.realm},service={SERVICE}'])
    run = pull_check(token_proxy, "team/app:1.0", user=ALICE)
    d = failed_at(run, "challenge", "challenge.malformed")
    assert "does not parse: unterminated quoted string (value of 'realm')" in d["message"]
    assert token_proxy.realm in d["message"] and "RFC 7235" in d["fix"]
    skopeo_agrees(run, token_proxy, "team/app:1.0", ALICE, succeeds=False)


def test_code_challenge_unsupported_scheme(token_proxy):
    token_proxy.on("^/v2/$", challenge=["Negotiate", 'NTLM realm="corp"'])
    run = pull_check(token_proxy, "team/app:1.0", user=ALICE)
    d = failed_at(run, "challenge", "challenge.unsupported-scheme")
    assert "offers only Negotiate, NTLM" in d["message"] and "Bearer or Basic" in d["fix"]
    skopeo_agrees(run, token_proxy, "team/app:1.0", ALICE, succeeds=False)


def test_code_challenge_realm_insecure(token_tls_proxy, token_issuer):
    token_tls_proxy.tokens_via_proxy = False  # the registry's own realm, downgraded to the issuer's http listener
    token_tls_proxy.on("^/v2/", challenge=edit_challenge(lambda f: f.replace(token_issuer.https_realm,
                                                                             token_issuer.realm)))
    run = pull_check(token_tls_proxy, "team/app:1.0", user=ALICE)
    passed(run)  # a warning: the pull works, the password travelled in clear
    d = run.diagnosis("challenge.realm-insecure")
    assert d["severity"] == "warning" and token_issuer.realm in d["message"] and "in clear" in d["message"]
    assert run.step("challenge")["status"] == "warn"
    skopeo_agrees(run, token_tls_proxy, "team/app:1.0", ALICE, succeeds=True)


def test_code_challenge_realm_unreachable_refused(token_proxy):
    realm = f"http://127.0.0.1:{free_port()}/token"
    token_proxy.on("^/v2/$", challenge=[f'Bearer realm="{realm}",service="{SERVICE}"'])
    run = pull_check(token_proxy, "team/app:1.0", user=ALICE)
    d = failed_at(run, "token", "challenge.realm-unreachable")
    assert f"the token realm {realm}" in d["message"] and "connection refused" in d["message"]
    skopeo_agrees(run, token_proxy, "team/app:1.0", ALICE, succeeds=False)


def test_code_token_forbidden(token_proxy, issuer):
    issuer.behaviour.status = 403
    run = pull_check(token_proxy, "team/app:1.0", user=ALICE)
    d = failed_at(run, "token", "token.forbidden")
    assert "refused 'alice'" in d["message"]
    assert "the token GET → 403 (FORCED: forced status 403)" in d["message"]
    assert "the OAuth2 POST → 403" in d["message"] and "SSO" in d["fix"]
    skopeo_agrees(run, token_proxy, "team/app:1.0", ALICE, succeeds=False)


def test_code_token_anonymous_denied(token_proxy, issuer):
    issuer.behaviour.require_auth = True
    run = pull_check(token_proxy, "public/hello:latest")
    d = failed_at(run, "token", "token.anonymous-denied")
    assert "refuses anonymous tokens for repository:public/hello:pull" in d["message"]
    assert "UNAUTHORIZED: authentication required" in d["message"] and "log in" in d["fix"]
    skopeo_agrees(run, token_proxy, "public/hello:latest", succeeds=False)


@pytest.mark.parametrize("who", ["alice", "anonymous"])
def test_code_token_method_not_allowed(who, token_proxy, issuer):
    issuer.behaviour.allow_get = False  # an OAuth2-only token service
    user = ALICE if who == "alice" else None
    run = pull_check(token_proxy, "team/app:1.0" if user else "public/hello:latest", user=user)
    if user:
        passed(run)
        d = run.diagnosis("token.method-not-allowed")
        assert d["severity"] == "warning" and "refused the token GET (HTTP 405" in d["message"]
        assert "accepted the OAuth2 POST" in d["message"]
    else:
        d = failed_at(run, "token", "token.method-not-allowed")
        assert "refused the token GET → 405" in d["message"] and "it allows POST" in d["message"]
        assert "the OAuth2 POST needs credentials" in d["message"]
    skopeo_agrees(run, token_proxy, "team/app:1.0" if user else "public/hello:latest", user, succeeds=False)


def test_code_token_bad_response(token_proxy, issuer):
    issuer.behaviour.token_field = "none"
    run = pull_check(token_proxy, "team/app:1.0", user=ALICE)
    d = failed_at(run, "token", "token.bad-response")
    assert "answered 200 with JSON without a token (fields: expires_in, issued_at)" in d["message"]
    assert "did not include a token" in d["fix"]
    skopeo_agrees(run, token_proxy, "team/app:1.0", ALICE, succeeds=False)


def test_code_jwt_malformed(token_proxy):
    broken = "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.bm90IGpzb24.c2lnbmF0dXJl"  # header ok, claims "not json"
    token_proxy.on("^/token$", target="token",
                   edit_response=rewrite_token_json(lambda d: d.update(token=broken, access_token=broken)))
    run = pull_check(token_proxy, "team/app:1.0", user=ALICE)
    d = failed_at(run, "jwt", "jwt.malformed")
    assert "looks like a JWT but the claims segment does not decode" in d["message"]
    skopeo_agrees(run, token_proxy, "team/app:1.0", ALICE, succeeds=False)


def test_code_jwt_expired(token_proxy, issuer):
    issuer.behaviour.exp_offset = -600
    run = pull_check(token_proxy, "team/app:1.0", user=ALICE)
    d = failed_at(run, "jwt", "jwt.expired")
    assert "s ago by the registry's Date header" in d["message"] and "60 s of leeway" in d["message"]
    skopeo_agrees(run, token_proxy, "team/app:1.0", ALICE, succeeds=False)


def test_code_jwt_audience_mismatch(token_proxy, issuer):
    issuer.behaviour.audience = "some-other-registry"
    run = pull_check(token_proxy, "team/app:1.0", user=ALICE)
    d = failed_at(run, "jwt", "jwt.audience-mismatch")
    assert "aud is 'some-other-registry'" in d["message"] and f"service '{SERVICE}'" in d["message"]
    assert "invalid_token" in d["message"]
    skopeo_agrees(run, token_proxy, "team/app:1.0", ALICE, succeeds=False)


@pytest.mark.parametrize("fault", ["untrusted-key", "authorization-stripped"])
def test_code_manifest_unauthorized(fault, token_proxy, issuer, pki):
    if fault == "untrusted-key":
        issuer.behaviour.untrusted_key = True
    else:
        token_proxy.on("/manifests/", edit_request=lambda r: r.set_header("Authorization", None))
    run = pull_check(token_proxy, "team/app:1.0", user=ALICE)
    d = failed_at(run, "manifest", "manifest.unauthorized")
    assert "team/app:1.0 → 401 with a Bearer token for 'alice'" in d["message"]
    if fault == "untrusted-key":
        untrusted = libtrust_kid(pki.untrusted_signing_key.public_key())
        assert "error=invalid_token" in d["message"] and f"signed with kid '{untrusted}'" in d["message"]
        assert f"issuer '{issuer.issuer}'" in d["message"] and "rootcertbundle" in d["fix"]
    else:
        assert "error=" not in d["message"] and "a proxy may strip Authorization" in d["message"]
    skopeo_agrees(run, token_proxy, "team/app:1.0", ALICE, succeeds=False)


@pytest.mark.parametrize("answer", [registry_error(503, "UNAVAILABLE", "service unavailable"),
                                    html_page(502, "Bad Gateway")], ids=["503-unavailable", "502-html"])
def test_code_manifest_unexpected_status(answer, token_proxy):
    token_proxy.on("/manifests/", reply=answer)
    run = pull_check(token_proxy, "team/app:1.0", user=ALICE)
    d = failed_at(run, "manifest", "manifest.unexpected-status")
    assert f"answered HTTP {answer.status}" in d["message"]
    assert ("UNAVAILABLE: service unavailable" if answer.status == 503 else "title '502 Bad Gateway'") in d["message"]
    skopeo_agrees(run, token_proxy, "team/app:1.0", ALICE, succeeds=False)


@pytest.fixture(scope="module")
def broken_registry(request, tier_dir, oci_layout):
    """A registry whose team/app:1.0 lost its config blob (the repository's link to it was deleted)."""
    reg = RegistryProcess(tier_dir / "faults-broken", name="faults-broken")
    request.addfinalizer(reg.stop)
    reg.start()
    push(reg, oci_layout, APP, user=None)
    config = oci_layout.images[APP.source_ref]["amd64"].config_digest.split(":")[1]
    shutil.rmtree(reg.storage_dir / "docker/registry/v2/repositories/team/app/_layers/sha256" / config)
    return reg


def test_code_blob_unknown(broken_registry, oci_layout):
    run = pull_check(broken_registry, "team/app:1.0")
    d = failed_at(run, "blob", "blob.unknown")
    config = oci_layout.images[APP.source_ref]["amd64"].config_digest
    assert config in d["message"] and "BLOB_UNKNOWN" in d["message"] and "team/app" in d["message"]
    skopeo_agrees(run, broken_registry, "team/app:1.0", succeeds=False)


def test_code_blob_redirect_rejected(token_proxy, store):
    store.expire_all = True
    token_proxy.on("/blobs/", redirect_to=store)
    run = pull_check(token_proxy, "team/app:1.0", user=ALICE)
    d = failed_at(run, "blob", "blob.redirect-rejected")
    assert f"the storage host {store.host} refused" in d["message"] and "AccessDenied: Request has expired" in \
        d["message"]
    assert "the presigned URL has expired" in d["message"] and "Authorization was not sent to it" in d["message"]
    assert f"chain: {token_proxy.host} (307) → {store.host} (403)" in d["message"]
    assert not any(r.authorization for r in store.requests)
    skopeo_agrees(run, token_proxy, "team/app:1.0", ALICE, succeeds=False)


def test_code_blob_denied(token_proxy):
    token_proxy.on("/blobs/", reply=registry_error(403, "DENIED", "blob is quarantined by policy"))
    run = pull_check(token_proxy, "team/app:1.0", user=ALICE)
    d = failed_at(run, "blob", "blob.denied")
    assert "refused the config blob" in d["message"] and "to 'alice' (HTTP 403" in d["message"]
    assert "DENIED: blob is quarantined by policy" in d["message"] and "although the manifest was served" in d[
        "message"]
    skopeo_agrees(run, token_proxy, "team/app:1.0", ALICE, succeeds=False)
