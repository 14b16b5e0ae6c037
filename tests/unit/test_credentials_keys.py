"""Key normalisation: docker's getAuthConfigKey / ConvertToHostname, containers/image keys, mismatch explanations."""

import pytest

from regauth.credentials.keys import (HUB_KEY, containers_keys, containers_normalize_key, convert_to_hostname,
                                      docker_key, explain_mismatch, split_host_port)


@pytest.mark.parametrize("registry, key", [
    ("docker.io", HUB_KEY),
    ("index.docker.io", HUB_KEY),
    ("registry-1.docker.io", "registry-1.docker.io"),  # docker keeps an explicit API host literally
    ("ghcr.io", "ghcr.io"),
    ("127.0.0.1:5000", "127.0.0.1:5000"),
    ("registry.example.com:443", "registry.example.com:443"),
    ("https://registry.example.com/v2/", "registry.example.com"),  # like `docker login https://…`
])
def test_docker_key(registry, key):
    assert docker_key(registry) == key


@pytest.mark.parametrize("key, host", [
    ("https://index.docker.io/v1/", "index.docker.io"),
    ("https://127.0.0.1:5000/v2/", "127.0.0.1:5000"),
    ("http://registry.example.com", "registry.example.com"),
    ("registry.example.com/team", "registry.example.com"),
    ("registry.example.com:5000", "registry.example.com:5000"),
    ("https://user:pw@registry.example.com:8443/x", "registry.example.com:8443"),
    ("https://[::1]:5000/v2/", "[::1]:5000"),
    ("https://[::1]/v2/", "::1"),
    ("https://Registry.Example.com/", "Registry.Example.com"),  # Go keeps the case
    ("://nohost/x", ":"),  # url.Parse fails: cut at the first '/'
    ("https://host:notaport/", "https:"),
    ("plainhost", "plainhost"),
])
def test_convert_to_hostname_matches_docker(key, host):
    assert convert_to_hostname(key) == host


def test_split_host_port():
    assert split_host_port("h:5000") == ("h", "5000")
    assert split_host_port("h") == ("h", None)
    assert split_host_port("[::1]:5000") == ("::1", "5000")
    assert split_host_port("[::1]") == ("::1", None)


@pytest.mark.parametrize("key, legacy, normalised", [
    ("https://index.docker.io/v1/", False, "index.docker.io"),
    ("https://index.docker.io/v1", False, "index.docker.io"),
    ("docker.io", False, "index.docker.io"),
    ("registry-1.docker.io", False, "index.docker.io"),
    ("quay.io/ns/repo", False, "quay.io/ns/repo"),  # namespace keys keep their path
    ("quay.io/ns/repo", True, "quay.io"),  # …except in the legacy format
    ("http://quay.io/v1/", False, "quay.io"),
])
def test_containers_normalize_key(key, legacy, normalised):
    assert containers_normalize_key(key, legacy) == normalised


def test_containers_keys_most_specific_first():
    assert containers_keys("my-registry.local", "namespace/user/image") == [
        "my-registry.local/namespace/user/image", "my-registry.local/namespace/user", "my-registry.local/namespace",
        "my-registry.local"]
    assert containers_keys("index.docker.io", "library/alpine")[0] == "docker.io/library/alpine"
    assert containers_keys("quay.io", "") == ["quay.io"]


@pytest.mark.parametrize("registry, key, docker_matches, words", [
    ("127.0.0.1:5000", "https://127.0.0.1:5000/v2/", True, "strips the scheme and path"),
    ("127.0.0.1:5000", "127.0.0.1", False, "no port"),
    ("127.0.0.1:5000", "https://127.0.0.1/v2/", False, "no port"),
    ("127.0.0.1:5000", "127.0.0.1:5001", False, "port 5001, not 5000"),
    ("registry.example.com", "registry.example.com:443", False, "port 443"),
    ("registry.example.com", "Registry.Example.com", False, "case-sensitively"),
    ("docker.io", "docker.io", False, HUB_KEY),
    ("docker.io", "index.docker.io", False, HUB_KEY),
    ("docker.io", "registry-1.docker.io", False, HUB_KEY),
    ("docker.io", "https://index.docker.io/v1", False, HUB_KEY),
    ("docker.io", "docker.io/library/alpine", False, HUB_KEY),
    ("registry-1.docker.io", HUB_KEY, False, "literally"),
    ("registry-1.docker.io", "https://registry-1.docker.io/", True, "strips the scheme"),
])
def test_explain_mismatch(registry, key, docker_matches, words):
    info = explain_mismatch(registry, key)
    assert info is not None
    assert info.docker_matches is docker_matches
    assert words in info.why
    assert info.wanted == docker_key(registry)


@pytest.mark.parametrize("registry, key", [
    ("127.0.0.1:5000", "127.0.0.1:5000"),
    ("docker.io", HUB_KEY),
    ("gcr.example.io", "eu.gcr.example.io"),  # a different registry, not a spelling
    ("docker.io", "quay.io"),
    ("ghcr.io", "docker.io"),
])
def test_explain_mismatch_ignores_exact_and_unrelated_keys(registry, key):
    assert explain_mismatch(registry, key) is None
