"""Hostile input at the command line: malformed files, certificates, tokens, secrets, headers and token replies.

Bad input from the user ends in one line on stderr and exit 2; bad answers from a server end in a diagnosis and
exit 1. Never a traceback, never exit 3.
"""

from __future__ import annotations

import base64
import json

import pytest

from tests.support import badservers as bad
from tests.support.cli import isolated_env, regauth

JUNK = bytes(range(256)) * 3
REFUSED = "127.0.0.1:1/team/app:1.0"  # nothing listens on port 1: the network part fails fast


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(header: object, claims: str) -> str:
    return f"{b64url(json.dumps(header).encode())}.{b64url(claims.encode())}.c2lnbmF0dXJlc2lnbmF0dXJl"


def assert_input_error(run, *words: str) -> None:
    assert run.code == 2, f"exit {run.code}\n{run.stdout}\n{run.stderr}"
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("regauth: "), run.stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture
def files(tmp_path):
    def make(name: str, data: bytes | str) -> str:
        path = tmp_path / name
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return str(path)

    return make


PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n"


@pytest.mark.parametrize("content", ["not a certificate\n", JUNK, b"",
                                     "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", PRIVATE_KEY],
                         ids=["text", "binary", "empty", "broken-pem", "private-key"])
def test_ca_file_that_is_not_pem(files, content):
    assert_input_error(regauth("pull-check", REFUSED, "--ca-file", files("ca.pem", content)), "--ca-file")


def test_ca_file_that_does_not_exist(tmp_path):
    assert_input_error(regauth("pull-check", REFUSED, "--ca-file", str(tmp_path / "nope.pem")), "no such file")


def test_certs_dir_with_a_broken_ca(tmp_path):
    (tmp_path / "certs" / "127.0.0.1:1").mkdir(parents=True)
    (tmp_path / "certs" / "127.0.0.1:1" / "ca.crt").write_bytes(JUNK)
    assert_input_error(regauth("pull-check", REFUSED, "--certs-dir", str(tmp_path / "certs")), "certificate")


@pytest.mark.parametrize("token", [
    "eyJhbGciOiJub25lIn0.!!!.x",
    jwt({"alg": "ES256"}, "[" * 100_000),
    jwt({"alg": "ES256"}, '{"exp": 1e400}'),
    jwt({"alg": "ES256"}, '{"exp": NaN}'),
    jwt({"alg": "ES256"}, '"just a string"'),
    "two words",
], ids=["bad-base64", "deep-nesting", "infinite-exp", "nan-exp", "claims-not-object", "whitespace"])
def test_decode_token_garbage(token):
    if len(token) < 10_000:
        assert_input_error(regauth("decode-token", token))
    assert_input_error(regauth("decode-token", "-", input=token + "\n"))


@pytest.mark.parametrize("claims", ['{"exp": 1e300, "iat": -1e300, "nbf": 99999999999999999999999}',
                                    '{"access": [{"actions": [1, null, {}]}, 7, "x"], "exp": "soon"}'])
def test_decode_token_odd_but_valid_claims(claims):
    for extra in ([], ["-o", "json"]):
        run = regauth("decode-token", jwt({"alg": "ES256", "kid": "k"}, claims), *extra)
        assert run.code == 0 and "Traceback" not in run.stderr, run.stderr


def test_decode_token_binary_on_stdin():
    run = regauth("decode-token", "-", input=JUNK.decode("latin-1"))
    assert run.code == 2 and "Traceback" not in run.stderr


@pytest.mark.parametrize("content", [JUNK, "[" * 100_000, "--- !!python/object/apply:os.system ['true']\n",
                                     "a: *undefined\n", b"", "{\"kind\": \"Secret\", \"data\": [1, 2]}"],
                         ids=["binary", "deep-nesting", "python-tag", "bad-alias", "empty", "data-not-a-map"])
def test_decode_secret_junk(files, content):
    run = regauth("decode-secret", files("secret.yaml", content))
    assert run.code in (1, 2) and "Traceback" not in run.stderr and "internal error" not in run.stderr, run.stderr
    if run.code == 2:
        assert len(run.stderr.strip().splitlines()) == 1


def test_decode_secret_binary_on_stdin():
    run = regauth("decode-secret", "-", input=JUNK.decode("latin-1"))
    assert run.code in (1, 2) and "Traceback" not in run.stderr


@pytest.mark.parametrize("args", [["decode-secret", "-"], ["decode-secret"]])
def test_decode_secret_calls_its_standard_input_stdin(args):
    run = regauth(*args, input="garbage: [")
    assert run.code == 2 and run.stderr.startswith("regauth: stdin: "), run.stderr


@pytest.mark.parametrize("args, words", [
    (["-f", "@binary"], ["--file"]),
    (["-u", "x", "--password-file", "@binary"], ["password"]),
    (["--identity-token", "/nonexistent/token"], []),
    (["--platform", "linux"], ["--platform"]),
    (["--timeout", "0"], ["--timeout"]),
    (["--deadline", "-1"], ["--deadline"]),
    (["--trace-file", "/nonexistent/dir/x.har"], ["--trace-file"]),
    (["--trace-file", "@dir"], ["--trace-file"]),
], ids=["file", "password-file", "identity-token", "platform", "timeout", "deadline", "trace-file-dir-missing",
        "trace-file-is-dir"])
def test_bad_options(files, tmp_path, args, words):
    binary = files("binary", JUNK)
    args = [binary if a == "@binary" else str(tmp_path) if a == "@dir" else a for a in args]
    assert_input_error(regauth("pull-check", REFUSED, *args), *words)


@pytest.mark.parametrize("content", [JUNK, "[" * 100_000, '{"auths": {"127.0.0.1:1": {"auth": 12}}}',
                                     '{"auths": {"127.0.0.1:1": {"auth": "!!!notbase64"}}}', '{"credsStore": 7}'],
                         ids=["binary", "deep-nesting", "auth-not-string", "auth-not-base64", "store-not-string"])
def test_broken_docker_config_is_a_diagnosis(tmp_path, content):
    (tmp_path / ".docker").mkdir()
    (tmp_path / ".docker" / "config.json").write_bytes(content.encode("latin-1") if isinstance(content, str)
                                                       else content)
    run = regauth("pull-check", REFUSED, "--plain-http", "-o", "json", env=isolated_env(tmp_path))
    assert run.code == 1 and "Traceback" not in run.stderr, run.stderr
    assert "credentials.config-invalid" in run.codes


CHALLENGES = ["Bearer", 'Bearer realm=""', 'Bearer realm="ftp://x/token"', 'Bearer realm="http://[::1"',
              "Negotiate", "Basic realm=" + "x" * 8000, 'Bearer realm="http://127.0.0.1:1/token",,,=,"',
              'Bearer realm="\u00e9\u00e8"']


@pytest.mark.parametrize("header", CHALLENGES)
def test_hostile_challenge_header(header):
    challenge = bad.respond_json(401, {"errors": []}, {**bad.API_HEADERS, "WWW-Authenticate":
                                                      header.encode("utf-8").decode("latin-1")})
    with bad.BadServer(bad.route({"/v2/": challenge})) as server:
        run = regauth("pull-check", server.ref(), "--plain-http", "--timeout", "2", "-o", "json")
    assert run.code == 1 and "Traceback" not in run.stderr, run.stderr
    assert run.result["failed_step"] in ("challenge", "token", "ping")


@pytest.mark.parametrize("reply, code", [
    ({"token": 123}, "token.bad-response"),
    ({"token": ""}, "token.bad-response"),
    ({"token": jwt({"alg": "ES256"}, '{"exp": 1e400}'), "expires_in": "never"}, "jwt.malformed"),
    ({"token": jwt({"alg": "ES256", "kid": "k"}, '{"exp": 99999999999999999999, "access": {"x": 1}}'),
      "expires_in": 10 ** 20, "issued_at": "yesterday"}, None),
    ({"access_token": jwt({"alg": "none"}, '{"access": [{"type": "repository", "name": ["team/app"], '
                                           '"actions": "pull"}]}'), "refresh_token": {"nested": True}}, None),
    ([1, 2, 3], "token.bad-response"),
], ids=["token-number", "token-empty", "infinite-exp", "huge-numbers", "odd-access", "not-an-object"])
def test_hostile_token_reply(reply, code):
    routes = {"/v2/": bad.bearer_ping(), "/token": bad.respond_json(200, reply)}
    with bad.BadServer(bad.route(routes)) as server:
        run = regauth("pull-check", server.ref(), "--plain-http", "--timeout", "2", "-o", "json")
    assert run.code == 1 and "Traceback" not in run.stderr and "internal error" not in run.stderr, run.stderr
    if code:
        assert code in run.codes


def test_a_token_service_cannot_drive_the_terminal():
    """Escape sequences in what a token service sends are shown as visible text, never sent to the terminal."""
    reply = {"token": jwt({"alg": "ES256", "kid": "k"}, '{"exp": 99999999999, "access": []}'),
             "issued_at": "\x1b[2J\x1b]0;pwned\x07EVIL"}
    routes = {"/v2/": bad.bearer_ping(), "/token": bad.respond_json(200, reply)}
    with bad.BadServer(bad.route(routes)) as server:
        run = regauth("pull-check", server.ref(), "--plain-http", "--timeout", "2")
    assert run.code == 1 and "Traceback" not in run.stderr, run.stderr
    assert "issued_at \\x1b[2J\\x1b]0;pwned\\x07EVIL" in run.stdout, run.stdout
    assert not any(c in run.stdout + run.stderr for c in "\x1b\x07")
