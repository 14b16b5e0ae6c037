"""Image reference parsing: specs §6.2 table R6.2.x, §6.1 grammar, §6.5 digest rules, plus edge cases."""

import pytest

from regauth.errors import InputError
from regauth.reference import Reference, ReferenceError, parse_reference

HEX64 = "a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"
HEX128 = "ab" * 64
HEX96 = "cd" * 48


# input -> (registry, repository, tag, digest, given_tag)
VALID = [
    # R6.2.x table
    ("ubuntu", ("docker.io", "library/ubuntu", "latest", None, None)),
    ("docker.io/ubuntu", ("docker.io", "library/ubuntu", "latest", None, None)),
    ("index.docker.io/ubuntu", ("docker.io", "library/ubuntu", "latest", None, None)),
    ("registry-1.docker.io/ubuntu", ("registry-1.docker.io", "ubuntu", "latest", None, None)),
    ("user/app:1.0", ("docker.io", "user/app", "1.0", None, "1.0")),
    ("localhost/app", ("localhost", "app", "latest", None, None)),
    ("localhost:5000", ("docker.io", "library/localhost", "5000", None, "5000")),
    ("localhost", ("docker.io", "library/localhost", "latest", None, None)),
    ("example.com", ("docker.io", "library/example.com", "latest", None, None)),
    ("myreg:5000/team/app", ("myreg:5000", "team/app", "latest", None, None)),
    ("[::1]:5000/app", ("[::1]:5000", "app", "latest", None, None)),
    ("Foo/bar", ("Foo", "bar", "latest", None, None)),
    (f"app@sha256:{HEX64}", ("docker.io", "library/app", None, f"sha256:{HEX64}", None)),
    (f"app:v1@sha256:{HEX64}", ("docker.io", "library/app", None, f"sha256:{HEX64}", "v1")),
    ("a/b/c/d", ("docker.io", "a/b/c/d", "latest", None, None)),
    # more hosts and ports
    ("ubuntu:22.04", ("docker.io", "library/ubuntu", "22.04", None, "22.04")),
    ("docker.io/library/alpine:3.19", ("docker.io", "library/alpine", "3.19", None, "3.19")),
    ("index.docker.io/library/alpine", ("docker.io", "library/alpine", "latest", None, None)),
    ("index.docker.io/user/app", ("docker.io", "user/app", "latest", None, None)),
    ("ghcr.io/owner/app:main", ("ghcr.io", "owner/app", "main", None, "main")),
    ("ghcr.io/app", ("ghcr.io", "app", "latest", None, None)),  # no library/ outside Docker Hub
    ("127.0.0.1:5000/app:dev", ("127.0.0.1:5000", "app", "dev", None, "dev")),
    ("localhost:5000/team/sub/app", ("localhost:5000", "team/sub/app", "latest", None, None)),
    ("[::1]/app", ("[::1]", "app", "latest", None, None)),
    ("[2001:db8::1]:443/ns/app:1", ("[2001:db8::1]:443", "ns/app", "1", None, "1")),
    ("REG/app", ("REG", "app", "latest", None, None)),
    ("MyReg.Example.COM/app", ("MyReg.Example.COM", "app", "latest", None, None)),
    ("host-with-dash.example.com/app", ("host-with-dash.example.com", "app", "latest", None, None)),
    ("registry.example.com:443/a/b:c", ("registry.example.com:443", "a/b", "c", None, "c")),
    ("123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1",
     ("123456789012.dkr.ecr.us-east-1.amazonaws.com", "app", "v1", None, "v1")),
    ("europe-docker.pkg.dev/proj/repo/img", ("europe-docker.pkg.dev", "proj/repo/img", "latest", None, None)),
    # separators in path components
    ("ns/a.b_c__d-e---f", ("docker.io", "ns/a.b_c__d-e---f", "latest", None, None)),
    ("team/app-name_v2.x", ("docker.io", "team/app-name_v2.x", "latest", None, None)),
    # tags
    ("app:_underscore", ("docker.io", "library/app", "_underscore", None, "_underscore")),
    ("app:UPPER.case-Tag_1", ("docker.io", "library/app", "UPPER.case-Tag_1", None, "UPPER.case-Tag_1")),
    ("app:" + "t" * 128, ("docker.io", "library/app", "t" * 128, None, "t" * 128)),
    # digests
    (f"ghcr.io/o/a@sha512:{HEX128}", ("ghcr.io", "o/a", None, f"sha512:{HEX128}", None)),
    (f"ghcr.io/o/a@sha384:{HEX96}", ("ghcr.io", "o/a", None, f"sha384:{HEX96}", None)),
    (f"localhost:5000/a:t@sha256:{HEX64}", ("localhost:5000", "a", None, f"sha256:{HEX64}", "t")),
    # a 64-hex string is fine as a path component when it is not the whole input
    (f"team/{HEX64}", ("docker.io", f"team/{HEX64}", "latest", None, None)),
    # 255-character path limit counts the path only, domain excluded, library/ included
    ("r.io/" + "a" * 255, ("r.io", "a" * 255, "latest", None, None)),
    ("a" * 247, ("docker.io", "library/" + "a" * 247, "latest", None, None)),
]


@pytest.mark.parametrize(("text", "expected"), VALID, ids=[v[0][:60] for v in VALID])
def test_valid_references(text, expected):
    ref = parse_reference(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest, ref.given_tag) == expected
    assert ref.input == text


CANONICAL = [
    ("ubuntu", "docker.io/library/ubuntu:latest"),
    ("docker.io/ubuntu", "docker.io/library/ubuntu:latest"),
    ("index.docker.io/ubuntu", "docker.io/library/ubuntu:latest"),
    ("user/app:1.0", "docker.io/user/app:1.0"),
    ("localhost:5000", "docker.io/library/localhost:5000"),
    ("localhost", "docker.io/library/localhost:latest"),
    ("example.com", "docker.io/library/example.com:latest"),
    ("a/b/c/d", "docker.io/a/b/c/d:latest"),
    (f"app@sha256:{HEX64}", f"docker.io/library/app@sha256:{HEX64}"),
    (f"app:v1@sha256:{HEX64}", f"docker.io/library/app@sha256:{HEX64}"),
    ("registry-1.docker.io/ubuntu", "registry-1.docker.io/ubuntu:latest"),
    ("[::1]:5000/app", "[::1]:5000/app:latest"),
]


@pytest.mark.parametrize(("text", "canonical"), CANONICAL)
def test_canonical(text, canonical):
    assert parse_reference(text).canonical == canonical
    assert parse_reference(canonical).canonical == canonical


# input -> substring the error message must contain (distribution's wording where it has one, plus the culprit)
INVALID = [
    ("", "repository name must have at least one component"),
    (":tag", "repository name must have at least one component"),
    (f"@sha256:{HEX64}", "repository name must have at least one component"),
    (HEX64, f"invalid repository name ({HEX64}), cannot specify 64-byte hexadecimal strings"),
    ("foo/Bar", "repository name (foo/Bar) must be lowercase"),
    ("Ubuntu", "repository name (library/Ubuntu) must be lowercase"),
    ("ghcr.io/Owner/app", "repository name (Owner/app) must be lowercase"),
    ("app:", "invalid tag format"),
    ("app:.hidden", "invalid tag format: '.hidden'"),
    ("app:-dash", "invalid tag format: '-dash'"),
    ("app:t/a", "registry host (app:t)"),  # ':' followed by '/' is not a tag separator
    ("a.b_c/app", "registry host (a.b_c)"),  # a '.' makes the first component a host
    ("app:" + "t" * 129, "invalid tag format: tag is 129 characters"),
    ("app:tag!", "invalid tag format: 'tag!'"),
    ("app@", "invalid digest format"),
    ("app@sha256", "invalid digest format: 'sha256'"),
    ("app@sha256:abc", "invalid digest format: 'sha256:abc'"),
    (f"app@sha256:{HEX64.upper()}", "sha256 hex must be lower-case"),
    (f"app@sha256:{HEX64}00", "sha256 needs 64 hex characters, got 66"),
    (f"app@sha512:{HEX64}", "sha512 needs 128 hex characters, got 64"),
    (f"app@md5:{HEX64[:32]}", "unsupported digest algorithm: md5"),
    (f"app@SHA256:{HEX64}", "unsupported digest algorithm: SHA256"),
    (f"app@1sha:{HEX64}", "invalid digest format"),
    (f"app@sha256:{HEX64}@sha256:{HEX64}", "invalid digest format"),
    ("foo//bar", "bad path component ''"),
    ("/foo", "bad path component ''"),
    ("foo/", "bad path component ''"),
    ("foo/-bar", "bad path component '-bar'"),
    ("foo/bar-", "bad path component 'bar-'"),
    ("foo/a..b", "bad path component 'a..b'"),
    ("foo/a___b", "bad path component 'a___b'"),
    ("foo bar", "bad path component 'foo bar'"),
    ("ubuntu ", "bad path component"),
    ("foo:bar:baz", "bad path component 'foo:bar'"),
    ("foo/bär", "bad path component 'bär'"),
    ("-reg.io/app", "registry host (-reg.io)"),
    ("reg.io:port/app", "registry host (reg.io:port)"),
    ("reg_io.com/app", "registry host (reg_io.com)"),
    (":5000/app", "registry host (:5000)"),
    ("[::1/app", "registry host ([::1)"),
    ("[::g]:5000/app", "registry host ([::g]:5000)"),
    ("[::1]:5000", "bad path component '[::1]'"),  # no slash: port becomes a tag, name is invalid
    ("r.io/" + "a" * 256, "repository name must not be more than 255 characters"),
    ("a" * 248, "repository name must not be more than 255 characters"),
]


@pytest.mark.parametrize(("text", "message"), INVALID, ids=[i[0][:60] for i in INVALID])
def test_invalid_references(text, message):
    with pytest.raises(ReferenceError) as info:
        parse_reference(text)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_reference_error_is_input_error():
    assert issubclass(ReferenceError, InputError)


def test_hub_properties():
    ref = parse_reference("alpine")
    assert ref.is_docker_hub
    assert ref.api_host == "registry-1.docker.io"
    assert ref.api_base() == "https://registry-1.docker.io"
    assert ref.reference == "latest"
    assert ref.to_target() == {
        "registry": "docker.io",
        "api_base": "https://registry-1.docker.io",
        "repository": "library/alpine",
        "tag": "latest",
        "digest": None,
    }


def test_explicit_hub_api_host_is_docker_hub_but_not_normalised():
    ref = parse_reference("registry-1.docker.io/ubuntu")
    assert ref.is_docker_hub
    assert ref.repository == "ubuntu"
    assert ref.api_host == "registry-1.docker.io"


def test_other_registry_properties():
    ref = parse_reference(f"127.0.0.1:5000/team/app:v1@sha256:{HEX64}")
    assert not ref.is_docker_hub
    assert ref.api_host == "127.0.0.1:5000"
    assert ref.api_base(plain_http=True) == "http://127.0.0.1:5000"
    assert ref.reference == f"sha256:{HEX64}"
    assert ref.given_tag == "v1"
    assert ref.canonical == f"127.0.0.1:5000/team/app@sha256:{HEX64}"
    assert ref.to_target(plain_http=True) == {
        "registry": "127.0.0.1:5000",
        "api_base": "http://127.0.0.1:5000",
        "repository": "team/app",
        "tag": None,
        "digest": f"sha256:{HEX64}",
    }


def test_ipv6_api_base():
    assert parse_reference("[::1]:5000/app").api_base() == "https://[::1]:5000"


def test_reference_is_frozen():
    ref = parse_reference("alpine")
    with pytest.raises(AttributeError):
        ref.tag = "edge"  # type: ignore[misc]
    assert ref == Reference("alpine", "docker.io", "library/alpine", "latest", None)
