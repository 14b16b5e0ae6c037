"""The `credentials` step end to end: credentials found in every place docker and podman look, against the real
registry (token and htpasswd modes), with skopeo as the reference for what containers/image does with the same
files.

Each test has its own HOME, XDG_RUNTIME_DIR, docker config dir (passed as ``--config``) and a PATH holding only
its fake ``docker-credential-*`` helpers. Secrets are only ever asserted absent from output.
"""

from __future__ import annotations

import pytest

from tests.support.cli import Run, pull_check, regauth
from tests.support.fake_helpers import calls, store_helper, write_helper
from tests.support.homes import Home, auth_value, issue_refresh_token
from tests.support.registry import free_port
from tests.support.skopeo import run_skopeo, skopeo_inspect, tls_flags
from tests.support.users import ALICE, CAROL

pytestmark = pytest.mark.registry

HUB_KEY = "https://index.docker.io/v1/"
SECRETS = (ALICE.password, CAROL.password, auth_value(ALICE), auth_value(CAROL))


@pytest.fixture(params=["token-tls", "htpasswd-http"])
def live(request):
    """A token registry over TLS and an htpasswd registry over plain HTTP."""
    return request.getfixturevalue("registry_" + request.param.replace("-", "_"))


@pytest.fixture
def home(tmp_path) -> Home:
    return Home(tmp_path)


def check(home: Home, registry, image: str, *extra: str, env: dict[str, str] | None = None) -> Run:
    """pull-check with the test's docker config dir, JSON output."""
    run = pull_check(registry, image, "--config", str(home.config_dir), *extra, env=env or home.env())
    assert "Traceback" not in run.stderr, run.stderr
    for secret in SECRETS:
        assert secret not in run.stdout + run.stderr
    return run


def credential(run: Run) -> dict:
    return run.step("credentials")["details"]


def assert_pulls(run: Run) -> None:
    assert run.code == 0, run.stdout + run.stderr
    assert run.result["ok"] is True and run.step("manifest")["status"] == "ok"


def assert_skopeo_ok(proc) -> None:
    assert proc.returncode == 0, proc.stderr


def assert_denied(run: Run, registry) -> None:
    """What an anonymous (or unauthorised) pull of team/* looks like in each mode."""
    assert run.code == 1
    if registry.mode == "token":
        assert run.result["failed_step"] == "jwt" and "jwt.no-access" in run.codes
    else:
        assert run.result["failed_step"] == "challenge" and "challenge.credentials-required" in run.codes


# --------------------------------------------------------------------------- docker config.json `auths`


def test_auths_auth_form(live, home):
    home.write_config({"auths": {live.host: {"auth": auth_value(ALICE)}}})
    run = check(home, live, "team/app:1.0")
    assert_pulls(run)
    cred = credential(run)
    assert (cred["source"], cred["origin"], cred["key"], cred["kind"], cred["username"]) == \
        ("docker-config", str(home.config), live.host, "password", "alice")
    assert run.step("credentials")["status"] == "ok" and run.result["diagnoses"] == []
    assert_skopeo_ok(skopeo_inspect(live, "team/app:1.0", authfile=home.config))


def test_auths_username_password_form(live, home):
    """docker reads `username`/`password` fields; containers/image reads only `auth` — regauth predicts both."""
    home.write_config({"auths": {live.host: {"username": ALICE.name, "password": ALICE.password}}})
    run = check(home, live, "team/app:1.0")
    assert_pulls(run)
    cred = credential(run)
    assert (cred["source"], cred["key"], cred["username"]) == ("docker-config", live.host, "alice")
    # skopeo ignores the two fields, goes anonymous and is refused; regauth said podman would use nothing
    assert skopeo_inspect(live, "team/app:1.0", authfile=home.config).returncode != 0
    assert_skopeo_ok(skopeo_inspect(live, "team/app:1.0", creds=ALICE))  # same credentials, given as skopeo can
    assert "no credentials" in cred["tools"]["podman"]
    d = run.diagnosis("credentials.tools-disagree")
    assert d["severity"] == "info" and '"auth"' in d["fix"]


# --------------------------------------------------------------------------- credential helpers


def test_cred_helpers(live, home, monkeypatch):
    store_helper(home.bin, "fake", {live.host: (ALICE.name, ALICE.password)})
    home.write_config({"credHelpers": {live.host: "fake"}, "auths": {live.host: {}}})
    run = check(home, live, "team/app:1.0")
    assert_pulls(run)
    cred = credential(run)
    assert (cred["source"], cred["origin"], cred["key"], cred["username"]) == \
        ("credential-helper", "docker-credential-fake", live.host, "alice")
    assert f"credHelpers['{live.host}']" in next(c for c in cred["candidates"] if c["used"])["reason"]
    assert calls(home.bin, "fake") == [{"action": "get", "server": live.host}]  # asked once, with docker's key
    # containers/image honours credHelpers in the file it reads, too
    monkeypatch.setenv("PATH", f"{home.bin}:/usr/bin:/bin")
    assert_skopeo_ok(skopeo_inspect(live, "team/app:1.0", authfile=home.config))
    assert len(calls(home.bin, "fake")) == 2


def test_creds_store(live, home, monkeypatch):
    store_helper(home.bin, "fake", {live.host: (ALICE.name, ALICE.password)})
    home.write_config({"credsStore": "fake", "auths": {live.host: {}}})
    run = check(home, live, "team/app:1.0")
    assert_pulls(run)
    cred = credential(run)
    assert (cred["source"], cred["origin"], cred["key"], cred["username"]) == \
        ("credential-helper", "docker-credential-fake", live.host, "alice")
    assert "credsStore" in next(c for c in cred["candidates"] if c["used"])["reason"]
    # containers/image has no credsStore (its helpers are set in registries.conf): regauth says podman would
    # go anonymous, and skopeo with the same file does exactly that and is refused
    assert "credsStore" not in cred["tools"]["podman"] and "no credentials" in cred["tools"]["podman"]
    assert "credentials.tools-disagree" in run.codes
    monkeypatch.setenv("PATH", f"{home.bin}:/usr/bin:/bin")
    assert skopeo_inspect(live, "team/app:1.0", authfile=home.config).returncode != 0
    assert len(calls(home.bin, "fake")) == 1  # skopeo never asked it


# --------------------------------------------------------------------------- containers auth.json


@pytest.mark.parametrize("how", ["--authfile", "REGISTRY_AUTH_FILE"])
def test_authjson_most_specific_namespace_key_wins(live, home, how):
    authfile = home.write_json("auth.json", {"auths": {live.host: {"auth": auth_value(CAROL)},
                                                       f"{live.host}/team/app": {"auth": auth_value(ALICE)}}})
    extra, env = ((["--authfile", str(authfile)], home.env()) if how == "--authfile"
                  else ([], home.env(REGISTRY_AUTH_FILE=str(authfile))))
    run = check(home, live, "team/app:1.0", *extra, env=env)
    assert_pulls(run)
    cred = credential(run)
    assert (cred["source"], cred["origin"], cred["key"], cred["username"]) == \
        ("auth.json", str(authfile), f"{live.host}/team/app", "alice")
    assert "most specific" in next(c for c in cred["candidates"] if c["used"])["reason"]
    assert_skopeo_ok(skopeo_inspect(live, "team/app:1.0", authfile=authfile))
    if how != "--authfile":
        return
    # another repository falls back to the registry key: carol, who may pull nothing on the token registry
    other = check(home, live, "team/multi:1.0", *extra, env=env)
    assert (credential(other)["key"], credential(other)["username"]) == (live.host, "carol")
    carol_pulls = skopeo_inspect(live, "team/multi:1.0", authfile=authfile).returncode == 0
    assert carol_pulls == (live.mode == "htpasswd") == (other.code == 0)
    if live.mode == "token":
        assert "'carol'" in other.diagnosis("jwt.no-access")["message"]


# --------------------------------------------------------------------------- tokens in config.json


def test_identitytoken_is_used_as_a_refresh_token(registry_token_tls, issuer, home):
    reg = registry_token_tls
    refresh = issue_refresh_token(issuer, ALICE)
    home.write_config({"auths": {reg.host: {"auth": auth_value("alice:"), "identitytoken": refresh}}})
    mark = issuer.mark()
    run = check(home, reg, "team/app:1.0")
    assert_pulls(run)
    assert refresh not in run.stdout + run.stderr
    cred = credential(run)
    assert (cred["kind"], cred["key"], cred["username"]) == ("identity-token", reg.host, "alice")
    seen = issuer.requests_since(mark)
    assert [(r.method, r.grant_type, r.principal, r.status) for r in seen] == \
        [("POST", "refresh_token", "alice", 200)]
    assert not any(r.basic for r in seen)  # no password went anywhere
    assert run.step("token")["details"]["method"] == "POST"
    mark = issuer.mark()
    assert_skopeo_ok(skopeo_inspect(reg, "team/app:1.0", authfile=home.config))
    assert [(r.method, r.grant_type, r.principal) for r in issuer.requests_since(mark)] == \
        [("POST", "refresh_token", "alice")]


def test_registrytoken_is_sent_as_the_bearer_token(registry_token_tls, issuer, home):
    reg = registry_token_tls
    token = issuer.make_token(ALICE.name, [{"type": "repository", "name": "team/app", "actions": ["pull"]}])
    home.write_config({"auths": {reg.host: {"registrytoken": token}}})
    mark = issuer.mark()
    run = check(home, reg, "team/app:1.0")
    assert_pulls(run)
    assert token not in run.stdout + run.stderr
    assert credential(run)["kind"] == "registry-token"
    assert "registry token" in run.step("token")["summary"] and "no token exchange" in run.step("token")["summary"]
    assert issuer.requests_since(mark) == []  # never went to the token service
    # the same token through skopeo's own flag
    proc = run_skopeo(["inspect", *tls_flags(reg), "--no-tags", "--registry-token", token,
                       f"docker://{reg.ref('team/app:1.0')}"])
    assert_skopeo_ok(proc)
    assert issuer.requests_since(mark) == []


# --------------------------------------------------------------------------- Docker Hub (offline)


@pytest.mark.parametrize("key", [HUB_KEY, "docker.io"])
def test_docker_hub_key(home, key):
    """Offline: the ping fails, but the credentials step already says which entry docker uses for `alpine`.

    A proxy on a dead local port makes sure nothing (least of all a credential) leaves the machine even where
    Docker Hub is reachable.
    """
    home.write_config({"auths": {key: {"auth": auth_value(ALICE)}}})
    dead = f"http://127.0.0.1:{free_port()}"
    run = regauth("pull-check", "alpine", "--timeout", "1", "-o", "json", "--config", str(home.config_dir),
                  env=home.env(HTTPS_PROXY=dead, HTTP_PROXY=dead))
    assert run.code == 1 and run.result["failed_step"] == "ping"
    assert run.result["target"]["registry"] == "docker.io"
    cred = credential(run)
    if key == HUB_KEY:
        assert run.step("credentials")["status"] == "ok"
        assert (cred["source"], cred["key"], cred["username"]) == ("docker-config", HUB_KEY, "alice")
    else:  # docker reads Hub credentials only under the v1 URL
        assert cred["kind"] == "anonymous"
        d = run.diagnosis("credentials.key-mismatch")
        assert "'docker.io'" in d["message"] and HUB_KEY in d["message"]
    for secret in SECRETS:
        assert secret not in run.stdout


# --------------------------------------------------------------------------- diagnoses


def test_helper_missing(live, home):
    home.write_config({"credsStore": "nothere", "auths": {live.host: {}}})
    run = check(home, live, "team/app:1.0")
    assert run.code == 1 and run.result["failed_step"] == "credentials"
    d = run.diagnosis("credentials.helper-missing")
    assert d["severity"] == "error"
    assert "docker-credential-nothere" in d["message"] and "PATH" in d["message"]
    assert "credentials.not-found" not in run.codes  # not an anonymous check: docker would fail the pull


def test_helper_failed_shows_its_message_but_no_secret(live, home):
    leaked = "ghp_0123456789abcdefABCDEF0123456789abcd"
    write_helper(home.bin, "broken", "fail", exit_code=1,
                 message=f"error getting credentials - err: keychain locked (last token {leaked})")
    # docker asks the helper and never reads the entry in auths
    home.write_config({"credHelpers": {live.host: "broken"}, "auths": {live.host: {"auth": auth_value(ALICE)}}})
    run = check(home, live, "team/app:1.0")
    assert run.code == 1 and run.result["failed_step"] == "credentials"
    d = run.diagnosis("credentials.helper-failed")
    assert d["severity"] == "error"
    assert "docker-credential-broken" in d["message"]
    assert "error getting credentials - err: keychain locked" in d["message"]
    assert "status 1" in d["message"]
    assert leaked not in run.stdout + run.stderr
    assert calls(home.bin, "broken") == [{"action": "get", "server": live.host}]


def test_config_invalid(live, home):
    home.write_config('{"auths": {"%s": {"auth": "%s"}}' % (live.host, auth_value(ALICE)))  # one brace short
    run = check(home, live, "team/app:1.0")
    assert run.code == 1 and run.result["failed_step"] == "credentials"
    d = run.diagnosis("credentials.config-invalid")
    assert d["severity"] == "error"
    assert str(home.config) in d["message"] and "not valid JSON" in d["message"]


def test_key_mismatch_url_key_is_used_with_a_warning(live, home):
    key = f"https://{live.host}/v2/"
    home.write_config({"auths": {key: {"auth": auth_value(ALICE)}}})
    run = check(home, live, "team/app:1.0")
    assert_pulls(run)
    assert (credential(run)["key"], credential(run)["username"]) == (key, "alice")
    assert run.step("credentials")["status"] == "warn"
    d = run.diagnosis("credentials.key-mismatch")
    assert d["severity"] == "warning"
    assert f"'{key}'" in d["message"] and f"'{live.host}'" in d["message"] + d["fix"]
    assert_skopeo_ok(skopeo_inspect(live, "team/app:1.0", authfile=home.config))  # c/image normalises it too


def test_key_mismatch_missing_port(live, home):
    host = live.host.rsplit(":", 1)[0]
    home.write_config({"auths": {host: {"auth": auth_value(ALICE)}}})
    run = check(home, live, "team/app:1.0")
    assert_denied(run, live)
    assert credential(run)["kind"] == "anonymous"
    d = run.diagnosis("credentials.key-mismatch")
    assert f"'{host}'" in d["message"] and "port" in d["message"]
    assert f"'{live.host}'" in d["fix"]  # names the key that would match
    assert "credentials.not-found" not in run.codes
    assert skopeo_inspect(live, "team/app:1.0", authfile=home.config).returncode != 0  # skopeo misses it too


def test_not_found_is_a_warning_and_the_check_runs_anonymously(live, home):
    run = check(home, live, "public/hello:latest")
    d = run.diagnosis("credentials.not-found")
    assert d["severity"] == "warning" and str(home.config) in d["message"]
    assert run.step("credentials")["status"] == "warn"
    assert credential(run)["kind"] == "anonymous"
    anonymous = skopeo_inspect(live, "public/hello:latest")
    if live.mode == "token":  # anonymous may pull public/* there
        assert_pulls(run)
        assert_skopeo_ok(anonymous)
    else:
        assert_denied(run, live)
        assert anonymous.returncode != 0
