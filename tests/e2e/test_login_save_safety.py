"""`login --save` at the command line: refuses plain text when a credential store is configured (unless
--allow-plaintext), never leaves a world-readable or partial file, keeps everything else in the config.

(The happy round trip, helper stores and failures in the middle of the write are in test_login.py; the unit-level
rules in tests/unit/test_credentials_save.py.)
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.support.cli import isolated_env, regauth
from tests.support.users import ALICE

pytestmark = pytest.mark.registry

OTHER = {"auths": {"other.example": {"auth": "b3RoZXI6c2VjcmV0"}}, "psFormat": "table {{.ID}}",
         "proxies": {"default": {"httpProxy": "http://proxy:3128"}}}


@pytest.fixture
def home(tmp_path) -> Path:
    (tmp_path / ".docker").mkdir()
    return tmp_path


def config_path(home: Path) -> Path:
    return home / ".docker" / "config.json"


def save(registry, home: Path, *extra: str):
    return regauth("login", registry.host, "--plain-http", "-u", ALICE.name, "--password-stdin", "--save", "-o",
                   "json", *extra, input=ALICE.password + "\n", env=isolated_env(home, PATH="/usr/bin:/bin"))


def leftovers(home: Path) -> list[str]:
    return sorted(p.name for p in (home / ".docker").iterdir() if p.name != "config.json")


@pytest.mark.parametrize("store", [{"credsStore": "regauth-missing"},
                                   {"credHelpers": {"HOST": "regauth-missing"}}], ids=["credsStore", "credHelpers"])
def test_plaintext_is_refused_when_a_store_is_configured(registry_htpasswd_http, home, store):
    store = json.loads(json.dumps(store).replace("HOST", registry_htpasswd_http.host))
    original = json.dumps({**OTHER, **store}, indent=2)
    config_path(home).write_text(original)
    run = save(registry_htpasswd_http, home)
    assert run.code == 1, run.stdout + run.stderr
    assert run.result["failed_step"] == "save"
    d = run.diagnosis("save.plaintext-refused")
    assert "docker-credential-regauth-missing" in d["message"] and "--allow-plaintext" in d["message"] + d["fix"]
    assert config_path(home).read_text() == original  # untouched, byte for byte
    assert leftovers(home) == []


def test_allow_plaintext_writes_a_private_file_and_keeps_the_rest(registry_htpasswd_http, home):
    config_path(home).write_text(json.dumps({**OTHER, "credsStore": "regauth-missing"}))
    config_path(home).chmod(0o644)
    run = save(registry_htpasswd_http, home, "--allow-plaintext")
    assert run.code == 0, run.stdout + run.stderr
    assert stat.S_IMODE(config_path(home).stat().st_mode) == 0o600
    data = json.loads(config_path(home).read_text())
    entry = data["auths"].pop(registry_htpasswd_http.host)
    assert entry["auth"]  # base64(user:password), as docker writes it
    assert data == {**OTHER, "credsStore": "regauth-missing"}
    assert leftovers(home) == []


def test_a_new_config_is_private_even_with_a_permissive_umask(registry_htpasswd_http, tmp_path):
    home = tmp_path  # no ~/.docker yet
    old = os.umask(0)
    try:
        run = save(registry_htpasswd_http, home)
    finally:
        os.umask(old)
    assert run.code == 0, run.stdout + run.stderr
    assert stat.S_IMODE(config_path(home).stat().st_mode) == 0o600
    assert stat.S_IMODE((home / ".docker").stat().st_mode) == 0o700
    assert ALICE.password not in run.stdout + run.stderr


def test_a_broken_config_is_never_overwritten(registry_htpasswd_http, home):
    config_path(home).write_text('{"auths": {"other.example": ')
    run = save(registry_htpasswd_http, home)
    assert run.code == 1 and run.diagnosis("save.failed")
    assert config_path(home).read_text() == '{"auths": {"other.example": '
    assert leftovers(home) == []
