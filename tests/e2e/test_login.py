"""`regauth login` end to end against the real registry (token and htpasswd modes), with skopeo as the reference.

Each test has its own HOME and docker config dir (``--config``). Secrets are only asserted absent from output.
"""

from __future__ import annotations

import json
import resource
import signal
import stat
import subprocess
import sys

import pytest

from tests.support.cli import REGAUTH, Run, pull_check, regauth, transport_flags
from tests.support.fake_helpers import calls, store_helper, stored
from tests.support.homes import Home, auth_value, issue_refresh_token
from tests.support.skopeo import run_skopeo, skopeo_inspect, tls_flags
from tests.support.users import ALICE, BOB, User

pytestmark = pytest.mark.registry

LOGIN_STEPS = ["credentials", "ping", "challenge", "token", "jwt"]


@pytest.fixture(params=["token-http", "htpasswd-tls"])
def live(request):
    """A token registry over plain HTTP and an htpasswd registry over TLS."""
    return request.getfixturevalue("registry_" + request.param.replace("-", "_"))


@pytest.fixture
def home(tmp_path) -> Home:
    return Home(tmp_path)


def login(registry, home: Home, *extra: str, user: User | None = ALICE, password: str | None = None,
          output: str = "json", stdin: str | None = None) -> Run:
    args = ["login", registry.host, *transport_flags(registry), "--config", str(home.config_dir), "-o", output,
            *extra]
    if user is not None:
        args += ["-u", user.name, "--password-stdin"]
        stdin = (password if password is not None else user.password) + "\n"
    run = regauth(*args, input=stdin, env=home.env())
    assert "Traceback" not in run.stderr, run.stderr
    secrets = {ALICE.password, BOB.password, auth_value(ALICE), auth_value(BOB)} | ({password} if password else set())
    for secret in secrets:
        assert secret not in run.stdout + run.stderr
    return run


def statuses(run: Run) -> dict[str, str]:
    return {s["name"]: s["status"] for s in run.result["steps"]}


# --------------------------------------------------------------------------- success


def test_login_succeeds(live, home):
    text = login(live, home, output="text")
    assert text.code == 0, text.stdout + text.stderr
    lines = [line for line in text.stdout.splitlines() if line.strip()]
    for step in ("credentials", "ping", "challenge"):
        assert any(line.strip().startswith(f"✔ {step}") for line in lines), text.stdout
    token_mark = "✔" if live.mode == "token" else "·"
    assert any(line.strip().startswith(f"{token_mark} token") for line in lines)
    assert any(line.strip().startswith(f"{token_mark} jwt") for line in lines)
    assert lines[-1].strip() == "✔ OK"

    run = login(live, home)
    assert run.code == 0 and run.report["ok"] is True and run.result["failed_step"] is None
    assert list(statuses(run)) == LOGIN_STEPS
    assert run.step("credentials")["details"]["username"] == "alice"
    if live.mode == "token":
        assert statuses(run)["token"] == "ok" and statuses(run)["jwt"] == "ok"
        assert run.step("token")["details"]["scopes"] == []  # docker login asks for no scope
    else:
        assert statuses(run)["token"] == "skip" and run.step("challenge")["details"]["chosen"] == "basic"
    assert not home.config.exists()  # no --save, nothing written


PRE_EXISTING = {
    "auths": {"other.example:5000": {"auth": auth_value("someone:their-pass")}},
    "credHelpers": {"gcr.example": "gcloud"},
    "HttpHeaders": {"User-Agent": "Docker-Client/24.0 (linux)", "X-Meta": "kept"},
    "psFormat": "table {{.ID}}\\t{{.Names}}",
    "someFutureKey": {"nested": [1, 2, {"x": None}], "flag": True},
}


def test_login_save_round_trips(live, home, issuer):
    home.write_config(PRE_EXISTING)
    run = login(live, home, "--save")
    assert run.code == 0, run.stdout
    assert run.step("save")["status"] == "ok"
    assert run.step("save")["details"] == {"where": str(home.config), "key": live.host}
    assert stat.S_IMODE(home.config.stat().st_mode) == 0o600
    saved = json.loads(home.config.read_text())
    entry = saved["auths"].pop(live.host)
    assert saved == PRE_EXISTING  # every other key, value and entry survives
    assert list(json.loads(home.config.read_text())["auths"]) == ["other.example:5000", live.host]
    if live.mode == "token":  # the refresh token the token service returned replaces the password, as docker does
        assert set(entry) == {"auth", "identitytoken"} and entry["auth"] == auth_value("alice:")
    else:
        assert entry == {"auth": auth_value(ALICE)}

    mark = issuer.mark()
    check = pull_check(live, "team/app:1.0", "--config", str(home.config_dir), env=home.env())
    assert check.code == 0, check.stdout
    cred = check.step("credentials")["details"]
    assert (cred["source"], cred["key"], cred["username"]) == ("docker-config", live.host, "alice")
    if live.mode == "token":
        assert cred["kind"] == "identity-token"
        assert [(r.method, r.grant_type, r.principal, r.status) for r in issuer.requests_since(mark)] == \
            [("POST", "refresh_token", "alice", 200)]
        assert entry["identitytoken"] not in check.stdout
    assert skopeo_inspect(live, "team/app:1.0", authfile=home.config).returncode == 0
    # and `regauth login` without -u logs in with what was saved, as `docker login HOST` does
    again = login(live, home, user=None)
    assert again.code == 0, again.stdout
    assert (again.step("credentials")["details"]["source"], again.step("credentials")["details"]["key"]) == \
        ("docker-config", live.host)


def test_login_save_through_the_configured_cred_helper(registry_token_http, home, monkeypatch):
    reg = registry_token_http
    store_helper(home.bin, "fake", {})
    home.write_config({"credHelpers": {reg.host: "fake"}})
    run = login(reg, home, "--save")
    assert run.code == 0, run.stdout
    assert run.step("save")["details"] == {"where": "docker-credential-fake", "key": reg.host}
    held = stored(home.bin, "fake")[reg.host]
    assert held["Username"] == "<token>"  # a refresh token is stored as an identity token, as docker does
    assert ALICE.password not in home.config.read_text() + json.dumps(held)
    assert json.loads(home.config.read_text()) == {"credHelpers": {reg.host: "fake"}, "auths": {reg.host: {}}}
    check = pull_check(reg, "team/app:1.0", "--config", str(home.config_dir), env=home.env())
    assert check.code == 0, check.stdout
    assert check.step("credentials")["details"]["kind"] == "identity-token"
    monkeypatch.setenv("PATH", f"{home.bin}:/usr/bin:/bin")
    assert skopeo_inspect(reg, "team/app:1.0", authfile=home.config).returncode == 0
    assert [c["action"] for c in calls(home.bin, "fake")] == ["store", "get", "get"]


# --------------------------------------------------------------------------- failures


def test_login_wrong_password(live, home):
    run = login(live, home, "--save", password="not-her-password")
    assert run.code == 1
    if live.mode == "token":
        assert run.result["failed_step"] == "token"
        d = run.diagnosis("token.bad-credentials")
    else:
        assert run.result["failed_step"] == "challenge"
        d = run.diagnosis("challenge.basic-rejected")
    assert "alice" in d["message"]
    assert statuses(run)["save"] == "skip" and not home.config.exists()
    assert run_skopeo(["login", *tls_flags(live), "--authfile", str(home.root / "auth.json"), "-u", "alice",
                       "-p", "not-her-password", live.host]).returncode != 0


def test_repo_without_read_access_fails_although_docker_login_succeeds(registry_token_http, home):
    reg = registry_token_http
    plain = login(reg, home, user=BOB)
    assert plain.code == 0 and plain.report["ok"] is True  # what `docker login` checks: Login Succeeded
    skopeo = run_skopeo(["login", *tls_flags(reg), "--authfile", str(home.root / "auth.json"), "-u", "bob",
                         "-p", BOB.password, reg.host])
    assert skopeo.returncode == 0 and "Login Succeeded" in skopeo.stdout
    run = login(reg, home, "--repo", "team/multi", user=BOB)
    assert run.code == 1 and run.result["failed_step"] == "jwt"
    d = run.diagnosis("jwt.no-access")
    assert "'bob'" in d["message"] and "team/multi" in d["message"]
    assert run.step("token")["details"]["scopes"] == ["repository:team/multi:pull"]
    assert skopeo_inspect(reg, "team/multi:1.0", authfile=home.root / "auth.json").returncode != 0


def test_push_access_is_checked_with_push(registry_token_http, home):
    reg = registry_token_http
    assert login(reg, home, "--repo", "team/app", user=BOB).code == 0
    run = login(reg, home, "--repo", "team/app", "--push", user=BOB)
    assert run.code == 1 and run.result["failed_step"] == "jwt"
    d = run.diagnosis("jwt.insufficient-access")
    assert "pull" in d["message"] and "push" in d["message"] and "team/app" in d["message"]
    assert login(reg, home, "--repo", "team/app", "--push", user=ALICE).code == 0


# --------------------------------------------------------------------------- token service methods


def test_token_service_refusing_get_is_reached_with_the_oauth2_post(registry_token_http, issuer, home):
    reg = registry_token_http
    issuer.behaviour.allow_get = False
    mark = issuer.mark()
    run = login(reg, home, "--repo", "team/app")
    assert run.code == 0, run.stdout
    assert statuses(run)["token"] == "warn" and statuses(run)["jwt"] == "ok"
    assert [(a["method"], a["status"]) for a in run.step("token")["details"]["attempts"]] == \
        [("GET", 405), ("POST", 200)]
    d = run.diagnosis("token.method-not-allowed")
    assert d["severity"] == "warning"
    assert "refused the token GET (HTTP 405" in d["message"] and "accepted the OAuth2 POST" in d["message"]
    seen = [(r.method, r.grant_type, r.basic_user or r.form.get("username"), r.status)
            for r in issuer.requests_since(mark)]
    assert seen == [("GET", None, "alice", 405), ("POST", "password", "alice", 200)]


@pytest.mark.parametrize("allow_get", [True, False])
def test_login_with_identity_token_from_stdin(registry_token_http, issuer, home, allow_get):
    reg = registry_token_http
    refresh = issue_refresh_token(issuer, ALICE)
    issuer.behaviour.allow_get = allow_get
    mark = issuer.mark()
    run = login(reg, home, "--identity-token", "-", "--repo", "team/app", user=None, stdin=refresh + "\n")
    assert run.code == 0, run.stdout
    assert refresh not in run.stdout + run.stderr
    assert run.step("credentials")["details"]["kind"] == "identity-token"
    assert run.step("token")["details"]["method"] == "POST"
    assert [(r.method, r.grant_type, r.principal, r.status) for r in issuer.requests_since(mark)] == \
        [("POST", "refresh_token", "alice", 200)]
    assert "token.method-not-allowed" not in run.codes  # GET was never needed


def test_identity_token_login_saves_an_entry_every_tool_reads(registry_token_http, issuer, home):
    """No username was given: the saved entry still carries `auth` (the token's subject), as docker writes it —
    containers/image skips an `identitytoken` without `auth`."""
    reg = registry_token_http
    refresh = issue_refresh_token(issuer, ALICE)
    run = login(reg, home, "--identity-token", "-", "--save", user=None, stdin=refresh + "\n")
    assert run.code == 0, run.stdout
    entry = json.loads(home.config.read_text())["auths"][reg.host]
    assert entry["auth"] == auth_value("alice:") and entry["identitytoken"]
    check = pull_check(reg, "team/app:1.0", "--config", str(home.config_dir), env=home.env())
    assert check.code == 0 and "credentials.tools-disagree" not in check.codes
    assert skopeo_inspect(reg, "team/app:1.0", authfile=home.config).returncode == 0


def test_identity_token_against_a_service_without_the_oauth2_post(registry_token_http, issuer, home):
    reg = registry_token_http
    refresh = issue_refresh_token(issuer, ALICE)
    issuer.behaviour.allow_post = False
    run = login(reg, home, "--identity-token", "-", user=None, stdin=refresh + "\n")
    assert run.code == 1 and run.result["failed_step"] == "token"
    d = run.diagnosis("token.method-not-allowed")
    assert "OAuth2 POST" in d["message"] and "404" in d["message"]
    assert refresh not in run.stdout + run.stderr


# --------------------------------------------------------------------------- a save that fails mid-write


def _login_save_with_file_size_limit(reg, home: Home) -> Run:
    """`login --save` where files may not grow past 16 bytes: writing the temp file fails half-way (EFBIG)."""

    def limit() -> None:  # in the child, before exec (CPython ignores SIGXFSZ, so write() fails with EFBIG)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (16, 16))

    proc = subprocess.run([REGAUTH, "login", reg.host, *transport_flags(reg), "--config", str(home.config_dir),
                           "-u", ALICE.name, "--password-stdin", "--save", "-o", "json"],
                          input=ALICE.password + "\n", capture_output=True, text=True, timeout=60, cwd=home.root,
                          env=home.env(PYTHONDONTWRITEBYTECODE="1"), preexec_fn=limit)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def test_save_failing_mid_write_leaves_the_original_intact(registry_htpasswd_tls, home):
    """End to end: the login works, the save fails half-way through the write; exit 1, old file untouched."""
    original = home.write_config(PRE_EXISTING).read_bytes()
    run = _login_save_with_file_size_limit(registry_htpasswd_tls, home)
    assert run.code == 1, run.stdout + run.stderr
    assert run.result["failed_step"] == "save"
    assert [s["name"] for s in run.result["steps"] if s["status"] == "ok"] == ["credentials", "ping", "challenge"]
    d = run.diagnosis("save.failed")
    assert str(home.config) in d["message"] and "File too large" in d["message"]
    assert home.config.read_bytes() == original
    assert sorted(p.name for p in home.config_dir.iterdir()) == ["config.json"]  # no temp file left
    assert ALICE.password not in run.stdout + run.stderr


_KILL_DURING_SAVE = """
import os, signal, sys
from pathlib import Path
from regauth.credentials.model import CredentialOptions
from regauth.credentials.save import save_credentials
from regauth.secret import Secret

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

setattr(os, sys.argv[2], die)
save_credentials(sys.argv[3], "alice", Secret(sys.stdin.read()), None,
                 CredentialOptions(config_dir=Path(sys.argv[1])))
"""


@pytest.mark.parametrize("dies_in", ["fsync", "replace"])
def test_save_killed_mid_write_leaves_the_original_intact(registry_htpasswd_tls, home, dies_in):
    """A process SIGKILLed inside the save (after writing the temp file, before or at the rename) leaves the
    original byte for byte; at most its private 0600 temp file stays behind, and the next save works."""
    reg = registry_htpasswd_tls
    original = home.write_config(PRE_EXISTING).read_bytes()
    proc = subprocess.run([sys.executable, "-c", _KILL_DURING_SAVE, str(home.config_dir), dies_in, reg.host],
                          input=ALICE.password, capture_output=True, text=True, timeout=30, cwd=home.root)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert home.config.read_bytes() == original
    leftovers = [p for p in home.config_dir.iterdir() if p.name != "config.json"]
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".config.json.")
    assert stat.S_IMODE(leftovers[0].stat().st_mode) == 0o600
    # a later login --save replaces the original cleanly
    again = login(reg, home, "--save")
    assert again.code == 0
    saved = json.loads(home.config.read_text())
    assert saved["auths"].pop(reg.host) == {"auth": auth_value(ALICE)} and saved == PRE_EXISTING
    assert pull_check(reg, "team/app:1.0", "--config", str(home.config_dir), env=home.env()).code == 0


def test_login_to_an_open_registry_says_nothing_was_checked(registry_noauth_http):
    from tests.support.users import BOB

    run = regauth("login", registry_noauth_http.host, "--plain-http", "-u", BOB.name, "--password-stdin", "-o",
                  "json", input="not-bobs-password\n")
    assert run.code == 0
    assert run.step("challenge")["status"] == "warn"
    assert "'bob' were not checked" in run.diagnosis("challenge.credentials-not-checked")["message"]
    strict = regauth("login", registry_noauth_http.host, "--plain-http", "-u", BOB.name, "--password-stdin",
                     "--strict", input="x\n")
    assert strict.code == 1


@pytest.mark.parametrize("repo", ["team/app:1.0", "team/app@sha256:" + "a" * 64, "Team/App", ""])
def test_login_repo_must_be_a_repository_path(registry_token_http, repo):
    run = regauth("login", registry_token_http.host, "--plain-http", "-u", "alice", "--password-stdin",
                  "--repo", repo, input="alice-pass\n")
    assert run.code == 2
    assert "Traceback" not in run.stderr
    assert run.stderr.startswith("regauth: --repo") and len(run.stderr.strip().splitlines()) == 1
