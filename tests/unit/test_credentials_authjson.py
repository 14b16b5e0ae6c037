"""containers auth.json: file order (--authfile, $REGISTRY_AUTH_FILE, XDG paths) and containers/image key matching."""

import base64
import json
from pathlib import Path

import pytest

from regauth.credentials.authjson import AuthFile, chain, find_in_file, search
from regauth.credentials.dockerconfig import load_config
from regauth.credentials.keys import HUB_KEY
from regauth.credentials.model import CredentialOptions


def auth(user: str, password: str) -> dict:
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}


def authfile(tmp_path: Path, data: dict, name: str = "auth.json") -> AuthFile:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return AuthFile(path, "auth.json")


def pick(file: AuthFile, registry: str, repository: str):
    return find_in_file(file, load_config(file.path, file.legacy), registry, repository)


def test_explicit_files_are_read_alone(tmp_path):
    docker = tmp_path / "d" / "config.json"
    env = {"HOME": str(tmp_path), "REGISTRY_AUTH_FILE": str(tmp_path / "env.json"), "XDG_RUNTIME_DIR": "/run/u"}
    assert chain(CredentialOptions(authfile=tmp_path / "flag.json"), env, docker) == [
        AuthFile(tmp_path / "flag.json", "auth.json", explicit=True)]
    assert chain(CredentialOptions(), env, docker) == [AuthFile(tmp_path / "env.json", "auth.json", explicit=True)]


def test_default_chain_on_linux(tmp_path, monkeypatch):
    monkeypatch.setattr("sys.platform", "linux")
    docker = tmp_path / "d" / "config.json"
    env = {"HOME": str(tmp_path), "XDG_RUNTIME_DIR": "/run/user/1000", "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    assert [(f.path, f.kind) for f in chain(CredentialOptions(), env, docker)] == [
        (Path("/run/user/1000/containers/auth.json"), "auth.json"),
        (tmp_path / "cfg" / "containers" / "auth.json", "auth.json"),
        (docker, "docker-config"),
        (tmp_path / ".dockercfg", "dockercfg"),
    ]
    no_xdg = chain(CredentialOptions(), {"HOME": str(tmp_path)}, docker)
    assert no_xdg[0].path.parent.parent == Path("/run/containers")
    assert no_xdg[1].path == tmp_path / ".config" / "containers" / "auth.json"


def test_namespace_keys_most_specific_first(tmp_path):
    file = authfile(tmp_path, {"auths": {
        "my-registry.local": auth("reg", "p1"),
        "my-registry.local/namespace": auth("ns", "p2"),
        "my-registry.local/namespace/user/image": auth("repo", "p3"),
    }})
    assert pick(file, "my-registry.local", "namespace/user/image").entry.username == "repo"
    assert pick(file, "my-registry.local", "namespace/user/other").entry.username == "ns"
    assert pick(file, "my-registry.local", "elsewhere/image").entry.username == "reg"
    match = pick(file, "my-registry.local", "namespace/user/other")
    assert (match.key, match.how) == ("my-registry.local/namespace", "namespace")


@pytest.mark.parametrize("key, found", [
    (HUB_KEY, True),
    ("https://index.docker.io/v1", True),
    ("index.docker.io", True),
    ("docker.io", True),
    ("registry-1.docker.io", True),
    ("docker.io/library/alpine", True),
    ("docker.io/library/busybox", False),
    ("quay.io", False),
])
def test_hub_keys_podman_column(tmp_path, key, found):
    """§7.8, c/image column, for docker.io/library/alpine."""
    file = authfile(tmp_path, {"auths": {key: auth("user1", "pw1")}})
    match = pick(file, "docker.io", "library/alpine")
    assert (match is not None and match.key == key) is found


def test_exact_key_beats_normalised_one(tmp_path):
    file = authfile(tmp_path, {"auths": {"https://quay.io/": auth("url", "p1"), "quay.io": auth("plain", "p2")}})
    assert pick(file, "quay.io", "ns/app").entry.username == "plain"
    file = authfile(tmp_path, {"auths": {"https://quay.io/v1/": auth("url", "p1")}})
    match = pick(file, "quay.io", "ns/app")
    assert (match.entry.username, match.how) == ("url", "normalised")


def test_namespace_key_of_another_repository_does_not_match(tmp_path):
    file = authfile(tmp_path, {"auths": {"quay.io/team": auth("team", "p1")}})
    assert pick(file, "quay.io", "other/app") is None


def test_cred_helpers_by_registry_win(tmp_path):
    file = authfile(tmp_path, {"credHelpers": {"docker.io": "secretservice"},
                               "auths": {"docker.io/library/alpine": auth("u", "p")}})
    match = pick(file, "docker.io", "library/alpine")
    assert (match.helper, match.key, match.how) == ("secretservice", "docker.io", "helper")


def test_search_skips_files_without_usable_entries(tmp_path):
    first = authfile(tmp_path, {"auths": {"quay.io": {}}}, "first.json")
    second = authfile(tmp_path, {"auths": {"quay.io": auth("user2", "pw2")}}, "second.json")
    match, seen = search([first, second], lambda f: load_config(f.path, f.legacy), "quay.io", "ns/app")
    assert match.file == second and match.entry.username == "user2"
    assert [(f, m is not None and m.usable) for f, m in seen] == [(first, False), (second, True)]


def test_legacy_dockercfg_cuts_paths(tmp_path):
    path = tmp_path / ".dockercfg"
    path.write_text(json.dumps({"https://quay.io/v1/": auth("legacy", "pw")}))
    file = AuthFile(path, "dockercfg")
    assert pick(file, "quay.io", "ns/app").entry.username == "legacy"


@pytest.mark.parametrize("entry", [{"username": "u", "password": "p"}, {"identitytoken": "refresh-S3CRET"},
                                   {"registrytoken": "bearer-S3CRET"}])
def test_containers_image_reads_only_the_auth_field(tmp_path, entry):
    """c/image's dockerAuthConfig has only `auth` and `identitytoken`; an entry without `auth` is skipped."""
    first = authfile(tmp_path, {"auths": {"quay.io": entry}}, "first.json")
    second = authfile(tmp_path, {"auths": {"quay.io": auth("user2", "pw2")}}, "second.json")
    match, seen = search([first, second], lambda f: load_config(f.path, f.legacy), "quay.io", "ns/app")
    assert match.file == second
    assert seen[0][1].docker_only and not seen[0][1].usable


def test_identity_token_beside_auth_is_used(tmp_path):
    file = authfile(tmp_path, {"auths": {"quay.io": {**auth("u", ""), "identitytoken": "refresh-S3CRET"}}})
    match = pick(file, "quay.io", "ns/app")
    assert match.usable and not match.docker_only
    assert (match.entry.username, match.entry.identity_token.reveal()) == ("u", "refresh-S3CRET")
