"""`regauth decode-token` as people use it: pasted `Bearer …`, a token service's JSON on stdin, garbage (one-line
exit 2), and exit 1 for tokens a registry refuses (expired, unsigned)."""

from __future__ import annotations

import base64
import json
import time

import pytest

from tests.support.cli import regauth


def b64url(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def jwt(claims: dict, header: dict | None = None, signature: str = "c2lnbmF0dXJlLXNpZ25hdHVyZQ") -> str:
    return f"{b64url(header or {'alg': 'ES256', 'kid': 'AB:CD'})}.{b64url(claims)}.{signature}"


NOW = int(time.time())
GOOD = jwt({"iss": "auth.example", "sub": "alice", "exp": NOW + 86400, "iat": NOW})


def test_bearer_argument_and_json_response_on_stdin():
    run = regauth("decode-token", f"Bearer {GOOD}")
    assert run.code == 0, run.stderr
    assert "JWT ES256 issued by 'auth.example' for 'alice'" in run.stdout
    assert 'header: {"alg": "ES256", "kid": "AB:CD"}' in run.stdout
    assert "signature is NOT verified" in run.stdout
    response = json.dumps({"token": GOOD, "access_token": GOOD, "expires_in": 300,
                           "refresh_token": "rt-do-not-print-me"}, indent=2)
    run = regauth("decode-token", "-", "-o", "json", input=response + "\n")
    assert run.code == 0, run.stderr
    step = run.step("jwt")
    assert step["details"]["claims"]["sub"] == "alice"
    assert any("token service response" in fact for fact in step["facts"])
    assert "rt-do-not-print-me" not in run.stdout + run.stderr
    assert GOOD.rsplit(".", 1)[1] not in run.stdout  # the signature stays redacted


@pytest.mark.parametrize("stdin", ["", "\n", "<html><body>502 Bad Gateway</body></html>\n", '{"error": "nope"}\n',
                                   "{not json\n", "two words\n"])
def test_garbage_on_stdin_is_one_line_and_exit_2(stdin):
    run = regauth("decode-token", "-", input=stdin)
    assert run.code == 2, (run.stdout, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("regauth: ") and "Traceback" not in run.stderr
    assert "Bad Gateway" not in run.stderr and "nope" not in run.stderr


@pytest.mark.parametrize("token, code", [
    (jwt({"sub": "alice", "exp": NOW - 3600}), "jwt.expired"),
    (jwt({"sub": "alice", "exp": NOW + 86400}, header={"alg": "none"}, signature=""), "jwt.malformed"),
])
def test_tokens_a_registry_refuses_exit_1(token, code):
    run = regauth("decode-token", token, "-o", "json")
    assert run.code == 1, (run.stdout, run.stderr)
    assert run.codes == [code] and run.step("jwt")["status"] == "fail"
    text = regauth("decode-token", token)
    assert text.code == 1 and code in text.stdout and "✔ OK" not in text.stdout
