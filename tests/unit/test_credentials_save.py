"""save_credentials(): where docker would store, what it writes, and that a failed write leaves the old file intact."""

import base64
import json
import os
import stat
import sys
from pathlib import Path

import pytest

from regauth.credentials.keys import HUB_KEY
from regauth.credentials.model import CredentialOptions
from regauth.credentials.resolve import lookup
from regauth.credentials.save import save_credentials
from regauth.secret import Secret
from tests.support.fake_helpers import hermetic_env, store_helper, stored, write_helper

OTHER = {
    "auths": {"other.example.com": {"auth": base64.b64encode(b"o:o-pw").decode(), "email": "o@example.com"}},
    "HttpHeaders": {"X-Meta": "x"},
    "proxies": {"default": {"httpProxy": "http://proxy:3128"}},
    "currentContext": "desktop-linux",
    "psFormat": "table {{.ID}}",
}


@pytest.fixture
def env(tmp_path):
    return hermetic_env(tmp_path)


def config(env) -> Path:
    return Path(env["HOME"]) / ".docker" / "config.json"


def write_config(env, data) -> None:
    path = config(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))


def save(env, registry="registry.example.com", username="user1", password="pw-S3CRET", token=None, **kw):
    return save_credentials(registry, username, Secret(password) if password else None,
                            Secret(token) if token else None, CredentialOptions(), env=env, **kw)


def test_round_trip_creates_the_directory_and_file(env):
    outcome = save(env)
    path = config(env)
    assert outcome.ok and outcome.where == str(path) and outcome.key == "registry.example.com"
    assert "not encrypted" in outcome.message and "S3CRET" not in outcome.message
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    found = lookup("registry.example.com", "team/app", CredentialOptions(), env=env)
    assert found.credential.password.reveal() == "pw-S3CRET" and found.credential.username == "user1"


def test_other_content_is_preserved(env):
    write_config(env, OTHER)
    save(env, registry="docker.io")
    data = json.loads(config(env).read_text())
    assert data["auths"][HUB_KEY] == {"auth": base64.b64encode(b"user1:pw-S3CRET").decode()}
    del data["auths"][HUB_KEY]
    assert data == OTHER
    assert config(env).read_text().startswith("{\n\t\"auths\"")  # docker's tab indent


def test_replacing_an_entry_keeps_its_position(env):
    write_config(env, {"auths": {"a.example.com": {"auth": "YTph"}, "registry.example.com": {"auth": "old"},
                                 "z.example.com": {}}})
    save(env)
    assert list(json.loads(config(env).read_text())["auths"]) == ["a.example.com", "registry.example.com",
                                                                    "z.example.com"]


def test_identity_token_clears_the_password(env):
    save(env, password="pw-S3CRET", token="refresh-S3CRET")
    entry = json.loads(config(env).read_text())["auths"]["registry.example.com"]
    assert entry == {"auth": base64.b64encode(b"user1:").decode(), "identitytoken": "refresh-S3CRET"}


def test_crash_before_rename_leaves_the_original_untouched(env, monkeypatch):
    write_config(env, OTHER)
    before = config(env).read_bytes()

    def crash(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    outcome = save(env)
    assert not outcome.ok and outcome.code == "save.failed" and "No space left on device" in outcome.message
    assert config(env).read_bytes() == before
    assert os.listdir(config(env).parent) == ["config.json"]


def test_symlinked_config_is_written_through(env, tmp_path):
    real = tmp_path / "dotfiles" / "docker.json"
    real.parent.mkdir()
    real.write_text(json.dumps(OTHER))
    config(env).parent.mkdir(parents=True)
    config(env).symlink_to(real)
    assert save(env).ok
    assert config(env).is_symlink()
    assert "registry.example.com" in json.loads(real.read_text())["auths"]


def test_broken_config_is_not_overwritten(env):
    path = config(env)
    path.parent.mkdir(parents=True)
    path.write_text("{ broken")
    outcome = save(env)
    assert not outcome.ok and "not valid JSON" in outcome.message
    assert path.read_text() == "{ broken"


def test_cred_helpers_entry_stores_in_that_helper(env, tmp_path):
    write_config(env, {"credHelpers": {"registry.example.com": "special"}, "credsStore": "general"})
    store_helper(tmp_path / "bin", "special", {})
    outcome = save(env)
    assert outcome.ok and outcome.where == "docker-credential-special"
    assert stored(tmp_path / "bin", "special") == {"registry.example.com": {"Username": "user1",
                                                                             "Secret": "pw-S3CRET"}}
    assert json.loads(config(env).read_text())["auths"] == {"registry.example.com": {}}


def test_creds_store_replaces_a_plaintext_entry_with_a_placeholder(env, tmp_path):
    write_config(env, {"credsStore": "fake", "auths": {HUB_KEY: {"auth": "b2xkOm9sZA=="}}})
    store_helper(tmp_path / "bin", "fake", {})
    assert save(env, registry="docker.io", token="refresh-S3CRET").ok
    assert stored(tmp_path / "bin", "fake") == {HUB_KEY: {"Username": "<token>", "Secret": "refresh-S3CRET"}}
    assert json.loads(config(env).read_text())["auths"] == {HUB_KEY: {}}


@pytest.mark.skipif(sys.platform != "linux", reason="the default store is platform specific")
def test_default_store_is_used_and_recorded(env, tmp_path):
    store_helper(tmp_path / "bin", "secretservice", {})
    outcome = save(env)
    assert outcome.ok and outcome.where == "docker-credential-secretservice"
    assert json.loads(config(env).read_text()) == {"auths": {"registry.example.com": {}},
                                                   "credsStore": "secretservice"}


def test_missing_store_helper_refuses_plaintext(env):
    write_config(env, {"credsStore": "desktop"})
    outcome = save(env)
    assert not outcome.ok and outcome.refused and outcome.code == "save.plaintext-refused"
    assert "docker-credential-desktop" in outcome.message and "not on PATH" in outcome.message
    assert json.loads(config(env).read_text()) == {"credsStore": "desktop"}


def test_missing_store_helper_with_plaintext_allowed(env):
    write_config(env, {"credsStore": "desktop"})
    outcome = save(env, allow_plaintext=True)
    assert outcome.ok and outcome.where == str(config(env))
    assert "registry.example.com" in json.loads(config(env).read_text())["auths"]


def test_helper_store_failure(env, tmp_path):
    write_config(env, {"credsStore": "broken"})
    write_helper(tmp_path / "bin", "broken", "fail", message="keyring locked")
    outcome = save(env)
    assert not outcome.ok and outcome.code == "save.failed" and "keyring locked" in outcome.message


def test_nothing_to_save_is_a_programming_error(env):
    with pytest.raises(ValueError):
        save(env, password=None)
