"""`decode-token`: what people paste (Bearer, a header line, the token service's JSON), and no silent OK for
tokens a registry refuses (expired, unsigned)."""

from __future__ import annotations

import base64
import json
import time

import pytest

from regauth.errors import InputError
from regauth.tokeninfo import UNVERIFIED, explain_token, unwrap


def b64url(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def jwt(claims: dict, header: dict | None = None, signature: str = "c2lnbmF0dXJlLXNpZ25hdHVyZQ") -> str:
    return f"{b64url(header or {'alg': 'ES256', 'kid': 'AB:CD'})}.{b64url(claims)}.{signature}"


NOW = int(time.time())
GOOD = jwt({"iss": "auth.example", "sub": "alice", "aud": "reg", "exp": NOW + 86400, "iat": NOW})


def step(token: str):
    report = explain_token(token)
    return report, report.results[0].steps[0]


@pytest.mark.parametrize("pasted", [GOOD, f"Bearer {GOOD}", f"bearer {GOOD}", f"BEARER   {GOOD}\n",
                                    f"Authorization: Bearer {GOOD}", f"  {GOOD}\n"])
def test_bearer_prefix_and_header_lines_are_accepted(pasted):
    report, jwt_step = step(pasted)
    assert report.ok and jwt_step.status == "ok"
    assert jwt_step.details["claims"]["sub"] == "alice"
    assert ("read the token after 'Bearer '" in jwt_step.facts) == ("bearer" in pasted.lower())


@pytest.mark.parametrize("field", ["token", "access_token"])
def test_a_pasted_token_service_response_uses_the_token_inside(field):
    response = json.dumps({field: GOOD, "expires_in": 300, "refresh_token": "rt-very-secret"}, indent=2)
    token, notes = unwrap(response)
    assert token == GOOD
    assert notes == [f"the input is a token service response: decoded its {field} field (the response says "
                     "expires_in 300 s)"]
    report, jwt_step = step(response)
    assert report.ok and jwt_step.facts[0] == notes[0]
    assert "rt-very-secret" not in json.dumps(report.to_json())


def test_token_wins_over_access_token_when_both_are_there():
    other = jwt({"sub": "bob", "exp": NOW + 86400})
    assert unwrap(json.dumps({"token": GOOD, "access_token": other}))[0] == GOOD


@pytest.mark.parametrize("pasted, words", [
    ("", "empty"), ("Bearer", "empty"), ("Bearer   ", "empty"), ("two words", "whitespace"),
    ("<html>nope</html>", "'<'"), ('{"token": ', "not JSON"), ('{"foo": "bar"}', "no token or access_token"),
    ('{"token": 7}', "no token or access_token"), ("[1, 2]", "'['"), ("tök", "non-ASCII"), ("a\x1bb", "control"),
])
def test_garbage_is_a_one_line_input_error_that_does_not_quote_the_input(pasted, words):
    with pytest.raises(InputError) as err:
        explain_token(pasted)
    message = str(err.value)
    assert words in message and "\n" not in message
    assert "nope" not in message and "html" not in message


def test_a_valid_token_states_that_the_signature_is_not_verified_and_shows_the_header_as_json():
    _, jwt_step = step(GOOD)
    assert UNVERIFIED in jwt_step.facts and "NOT verified" in UNVERIFIED
    assert 'header: {"alg": "ES256", "kid": "AB:CD"}' in jwt_step.facts
    assert not any("{'alg'" in fact for fact in jwt_step.facts)


def test_missing_claims_are_omitted_not_shown_as_none():
    _, jwt_step = step(jwt({"exp": NOW + 86400}))
    assert jwt_step.summary == "JWT ES256"
    assert not any("None" in fact for fact in jwt_step.facts)
    _, anonymous = step(jwt({"sub": "", "iss": None, "exp": NOW + 86400}))
    assert anonymous.summary == "JWT ES256 for anonymous (empty sub)"


def test_expired_token_is_an_error():
    report, jwt_step = step(jwt({"sub": "alice", "exp": NOW - 3600}))
    assert not report.ok and jwt_step.status == "fail"
    [diagnosis] = report.results[0].diagnoses
    assert diagnosis.code == "jwt.expired" and diagnosis.severity == "error"
    assert "expired" in jwt_step.summary


def test_token_within_the_leeway_is_a_warning():
    report, jwt_step = step(jwt({"sub": "alice", "exp": int(time.time()) - 10}))
    assert report.ok and jwt_step.status == "warn"
    assert report.results[0].diagnoses[0].severity == "warning"


def test_unsigned_token_is_malformed():
    report, jwt_step = step(jwt({"sub": "alice", "exp": NOW + 86400}, header={"alg": "none"}, signature=""))
    assert not report.ok and jwt_step.status == "fail"
    assert report.results[0].codes() == ["jwt.malformed"]
    assert "unsigned" in jwt_step.summary


def test_opaque_token_is_still_fine():
    report, jwt_step = step("Bearer djE6b3BhcXVlLXRva2VuLXZhbHVl")
    assert report.ok and jwt_step.summary.startswith("opaque token")
