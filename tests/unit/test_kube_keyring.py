"""kubelet keyring semantics (specs §8.4–§8.5): key normalisation, globbing, ports, paths, Docker Hub, ordering."""

from __future__ import annotations

import json

import pytest

from regauth.kube.keyring import (Keyring, glob_match, is_docker_hub_image, kubelet_image_name, normalize_key,
                                  urls_match)
from regauth.kube.secrets import PullSecret, load_secrets


def pull_secret(*keys: str, name: str = "regcred", type_: str = "kubernetes.io/dockerconfigjson") -> PullSecret:
    """A secret with one username/password entry per key (username = the key, to tell entries apart)."""
    config = {"auths": {key: {"username": key, "password": "pw-" + key} for key in keys}}
    text = json.dumps({"kind": "Secret", "type": type_, "metadata": {"name": name, "namespace": "app1"},
                       "stringData": {".dockerconfigjson": json.dumps(config)}})
    [secret] = load_secrets(text, "test")
    return secret


def tried(keyring: Keyring, image: str) -> list[str]:
    return [entry.key for entry, _ in keyring.lookup(kubelet_image_name(image))]


MATCHES = [
    # R8.5.1 oracle rows
    ("registry.example.com", "registry.example.com/team/app:1", True),
    ("https://registry.example.com/v2/", "registry.example.com/team/app", True),
    ("registry.example.com:443", "registry.example.com/app", False),
    ("registry.example.com", "registry.example.com:5000/app", False),
    ("*.example.com", "example.com/app", False),
    ("*.example.com", "a.b.example.com/app", False),
    ("registry.example.com/team", "registry.example.com/teamx/app", True),
    ("docker.io", "nginx", True),
    ("https://index.docker.io/v1/", "nginx", True),
    ("https://index.docker.io/v1/", "docker.io/user/app", True),
    ("registry-1.docker.io", "nginx", False),
    ("https://index.docker.io/v1", "nginx", False),
    ("Registry.Example.com", "registry.example.com/app", False),
    # kubernetes docs, "Interpretation of config.json"
    ("*.kubernetes.io", "kubernetes.io/app", False),
    ("*.kubernetes.io", "abc.kubernetes.io/app", True),
    ("*.*.kubernetes.io", "abc.kubernetes.io/app", False),
    ("*.*.kubernetes.io", "abc.def.kubernetes.io/app", True),
    ("prefix.*.io", "prefix.kubernetes.io/app", True),
    ("*-good.kubernetes.io", "prefix-good.kubernetes.io/app", True),
    ("my-registry.example/images", "my-registry.example/images/my-image", True),
    ("*.my-registry.example/images", "sub.my-registry.example/images/my-image", True),
    ("*.my-registry.example/images", "a.sub.my-registry.example/images/my-image", False),
    ("my-registry.example/images", "sub.my-registry.example/images/my-image", False),
    # ports, schemes, paths
    ("registry.example.com:5000", "registry.example.com:5000/team/app", True),
    ("registry.example.com:5000", "registry.example.com/team/app", False),
    ("http://registry.example.com:5000", "registry.example.com:5000/team/app", True),
    ("localhost:5000", "localhost:5000/app", True),
    ("registry.example.com/team/app", "registry.example.com/team/app:1", True),
    ("registry.example.com/team/app", "registry.example.com/team/other", False),
    ("https://registry.example.com/v1/team", "registry.example.com/team/app", True),
    ("https://registry.example.com/v2", "registry.example.com/app", False),
    ("https://user@registry.example.com", "registry.example.com/app", True),
    ("registry.example.com", "registry.example.com.evil.example/app", False),
    ("reg[0-9].example.com", "reg7.example.com/app", True),
    ("reg[^0-9].example.com", "reg7.example.com/app", False),
    # Docker Hub: the fallback key is index.docker.io, exact host labels otherwise
    ("index.docker.io", "nginx", True),
    ("index.docker.io", "quay.io/org/app", False),
    ("docker.io/library", "nginx", True),
    ("docker.io/library", "user/app", False),
    ("*.io", "docker.io/library/nginx", True),
]


@pytest.mark.parametrize("key, image, expected", MATCHES, ids=[f"{k} ~ {i}" for k, i, _ in MATCHES])
def test_kubelet_matching(key, image, expected):
    keyring = Keyring.from_secrets([pull_secret(key)])
    assert bool(tried(keyring, image)) is expected


@pytest.mark.parametrize("key, normalized", [
    ("https://index.docker.io/v1/", "index.docker.io"),
    ("https://index.docker.io/v1", "index.docker.io/v1"),
    ("https://reg.example.com/v2/team", "reg.example.com/team"),
    ("reg.example.com/", "reg.example.com"),
    ("http://reg:5000", "reg:5000"),
    ("user@reg.example.com", "reg.example.com"),
    ("reg?.example.com", "reg"),  # Go's url.Parse ends the host at '?'
    ("reg.example.com /team", None),
    ("reg.example.com:abc", None),
    ("[ab].example.com", None),
    ("reg.example.com\n", None),
])
def test_key_normalisation(key, normalized):
    assert normalize_key(key) == normalized


@pytest.mark.parametrize("pattern, name, expected", [
    ("a*", "abc", True),
    ("a*", "ab/c", False),
    ("a*/b", "abc/b", True),
    ("*x", "xxx", True),
    ("a?c", "abc", True),
    ("[a-c]", "b", True),
    ("[^a-c]", "b", False),
    ("[^a-c]", "d", True),
    ("a\\*", "a*", True),
    ("a\\*", "ab", False),
    ("[", "a", False),
    ("[]a]", "a", False),
    ("[-]", "-", False),
    ("[a-]", "a", False),
    ("ab\\", "ab", False),
    ("ABC", "abc", False),
])
def test_glob_is_go_filepath_match(pattern, name, expected):
    assert glob_match(pattern, name) is expected


@pytest.mark.parametrize("image_name, expected", [
    ("docker.io/library/nginx", True),
    ("index.docker.io/user/app", True),
    ("nginx", True),
    ("localhost/app", True),  # kubelet's heuristic: no '.' or ':' in the first component
    ("quay.io/org/app", False),
    ("registry:5000/app", False),
    ("/app", False),
])
def test_docker_hub_detection(image_name, expected):
    assert is_docker_hub_image(image_name) is expected


def test_keys_are_tried_in_reverse_lexicographic_order():
    keyring = Keyring.from_secrets([pull_secret("quay.io", "gcr.io", "quay.io/coreos")])
    assert keyring.keys == ["quay.io/coreos", "quay.io", "gcr.io"]
    assert tried(keyring, "quay.io/coreos/etcd") == ["quay.io/coreos", "quay.io"]


def test_order_is_lexicographic_not_by_specificity():
    keyring = Keyring.from_secrets([pull_secret("r*.example.com/team/app", "registry.example.com")])
    assert tried(keyring, "registry.example.com/team/app") == ["registry.example.com", "r*.example.com/team/app"]


def test_secrets_sharing_a_key_are_tried_in_image_pull_secrets_order():
    first, second = pull_secret("reg.example.com", name="first"), pull_secret("https://reg.example.com/", name="second")
    keyring = Keyring.from_secrets([first, second])
    assert [s.name for _, s in keyring.lookup("reg.example.com/app")] == ["first", "second"]


def test_hub_fallback_only_when_nothing_matched():
    keyring = Keyring.from_secrets([pull_secret("docker.io", "https://index.docker.io/v1/")])
    assert tried(keyring, "nginx") == ["docker.io"]
    assert tried(keyring, "docker.io/user/app") == ["docker.io"]
    fallback_only = Keyring.from_secrets([pull_secret("https://index.docker.io/v1/", "quay.io")])
    assert tried(fallback_only, "user/app") == ["https://index.docker.io/v1/"]
    assert tried(fallback_only, "quay.io/org/app") == ["quay.io"]


def test_secrets_kubelet_does_not_read_and_unparsable_keys_are_skipped():
    opaque = pull_secret("reg.example.com", type_="Opaque")
    assert not opaque.read_by_kubelet
    assert Keyring.from_secrets([opaque]).keys == []
    assert Keyring.from_secrets([pull_secret("reg.example.com /x", "reg.example.com")]).keys == ["reg.example.com"]
    [broken] = load_secrets('{"auths":{"reg.example.com":{"auth":"%%%"}}}', "test")
    assert broken.keyring_error and Keyring.from_secrets([broken]).keys == []


def test_urls_match_takes_normalised_strings():
    assert urls_match("reg.example.com/team", "reg.example.com/team/app")
    assert not urls_match("reg.example.com/team", "reg.example.com:5000/team/app")
    assert kubelet_image_name("index.docker.io/ubuntu:22.04") == "docker.io/library/ubuntu"
    assert kubelet_image_name("quay.io/org/app@sha256:" + "a" * 64) == "quay.io/org/app"
