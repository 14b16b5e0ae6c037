"""The credential-helper protocol against fake docker-credential-* programs."""

import json
import subprocess
import time

from regauth.credentials import helpers
from regauth.secret import Secret
from tests.support.fake_helpers import calls, hermetic_env, store_helper, stored, write_helper


def test_get_returns_username_and_secret(tmp_path):
    env = hermetic_env(tmp_path)
    bindir = tmp_path / "bin"
    store_helper(bindir, "fake", {"registry.example.com": ("user1", "pw-S3CRET-1")})
    result = helpers.get("fake", "registry.example.com", 10, env)
    assert result.status == "ok" and result.username == "user1" and result.secret.reveal() == "pw-S3CRET-1"
    assert not result.is_identity_token
    assert calls(bindir, "fake") == [{"action": "get", "server": "registry.example.com"}]
    assert "S3CRET" not in repr(result)


def test_token_username_marks_an_identity_token(tmp_path):
    env = hermetic_env(tmp_path)
    store_helper(tmp_path / "bin", "fake", {"r.example.com": ("<token>", "refresh-S3CRET")})
    result = helpers.get("fake", "r.example.com", 10, env)
    assert result.status == "ok" and result.is_identity_token


def test_not_found(tmp_path):
    env = hermetic_env(tmp_path)
    store_helper(tmp_path / "bin", "fake", {})
    result = helpers.get("fake", "r.example.com", 10, env)
    assert result.status == "not-found" and "r.example.com" in result.detail


def test_missing_helper(tmp_path):
    env = hermetic_env(tmp_path)
    result = helpers.get("desktop", "r.example.com", 10, env)
    assert result.status == "missing" and result.program == "docker-credential-desktop"
    assert str(tmp_path / "bin") in result.detail


def test_failure_reports_exit_code_and_redacts_token_like_text(tmp_path):
    env = hermetic_env(tmp_path)
    write_helper(tmp_path / "bin", "broken", "fail", exit_code=3,
                 message="pass not initialized: token AKIAxyz0123456789abcdefSECRET rejected")
    result = helpers.get("broken", "r.example.com", 10, env)
    assert result.status == "failed"
    assert result.detail.startswith("exited with status 3: pass not initialized")
    assert "AKIAxyz0123456789abcdefSECRET" not in result.detail and "<redacted sha256:" in result.detail


def test_failure_with_credentials_json_on_stdout_is_not_echoed(tmp_path):
    env = hermetic_env(tmp_path)
    write_helper(tmp_path / "bin", "leaky", "fail", message='{"Username": "u", "Secret": "pw"}')
    result = helpers.get("leaky", "r.example.com", 10, env)
    assert result.status == "failed" and result.detail == "exited with status 1: printed JSON"


def test_non_json_output(tmp_path):
    env = hermetic_env(tmp_path)
    write_helper(tmp_path / "bin", "garbage", "garbage")
    result = helpers.get("garbage", "r.example.com", 10, env)
    assert result.status == "failed" and result.detail == "exited 0 but did not print JSON"


def test_timeout_kills_the_helper(tmp_path):
    env = hermetic_env(tmp_path)
    write_helper(tmp_path / "bin", "slow", "hang")
    started = time.monotonic()
    result = helpers.get("slow", "r.example.com", 0.5, env)
    assert time.monotonic() - started < 5
    assert result.status == "failed" and "within 0.5 s" in result.detail


def test_store_then_get_round_trip(tmp_path):
    env = hermetic_env(tmp_path)
    bindir = tmp_path / "bin"
    store_helper(bindir, "fake", {})
    assert helpers.store("fake", "r.example.com", "user1", Secret("pw-S3CRET"), 10, env).status == "ok"
    assert stored(bindir, "fake") == {"r.example.com": {"Username": "user1", "Secret": "pw-S3CRET"}}
    assert helpers.get("fake", "r.example.com", 10, env).secret.reveal() == "pw-S3CRET"


def test_store_failure_never_echoes_the_secret(tmp_path):
    env = hermetic_env(tmp_path)
    write_helper(tmp_path / "bin", "echo", "fail", message="cannot store pw")
    result = helpers.store("echo", "r.example.com", "user1", Secret("pw"), 10, env)
    assert result.status == "failed" and "pw" not in result.detail.replace("cannot store", "")


def test_redact_text_keeps_paths_and_words():
    text = helpers.redact_text("open /home/user1/.password-store/docker-credential-helpers: no such file",
                               known=("hunter2",))
    assert text == "open /home/user1/.password-store/docker-credential-helpers: no such file"
    assert "hunter2" not in helpers.redact_text("bad password hunter2", known=("hunter2",))
    assert len(helpers.redact_text("x " * 400)) <= 300


def test_default_store_needs_its_helper(tmp_path):
    env = hermetic_env(tmp_path)
    assert helpers.default_store(env) is None
    write_helper(tmp_path / "bin", "secretservice", "store")
    assert helpers.default_store(env) == "secretservice"


def test_fake_helper_list_and_erase(tmp_path):
    """The fake follows the protocol beyond get/store, so other tests can rely on it."""
    program = store_helper(tmp_path / "bin", "fake", {"a.example.com": ("user1", "s1")})
    listed = subprocess.run([program, "list"], input="unused", capture_output=True, text=True, check=True)
    assert json.loads(listed.stdout) == {"a.example.com": "user1"}
    erased = subprocess.run([program, "erase"], input="a.example.com\n", capture_output=True, text=True)
    assert erased.returncode == 0
    again = subprocess.run([program, "get"], input="a.example.com", capture_output=True, text=True)
    assert again.returncode == 1 and again.stdout.strip() == helpers.NOT_FOUND
