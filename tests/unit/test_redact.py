"""Redaction: headers, URLs (and Location/Link), JSON/form/text bodies, JWT signatures, the last-line scrub."""

from __future__ import annotations

import base64
import copy
import json
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from regauth import redact
from regauth.diagnoses import diagnose
from regauth.report import CheckResult, Diagnosis, Exchange, Report, StepResult
from regauth.secret import Secret, fingerprint, redacted

SIG = "Zm9vYmFyc2lnbmF0dXJlMTIzNDU2Nzg5MA"
JWT = "eyJhbGciOiJFUzI1NiIsImtpZCI6IkFCQyJ9.eyJzdWIiOiJhbGljZSIsImFjY2VzcyI6W119." + SIG


def test_authorization_keeps_the_scheme():
    assert redact.header_value("Authorization", "Basic YWxpY2U6cHc=") == f"Basic {redacted('YWxpY2U6cHc=')}"
    assert redact.header_value("Proxy-Authorization", f"Bearer {JWT}") == f"Bearer {redacted(JWT)}"


def test_cookies_keep_names_and_attributes():
    assert redact.header_value("Cookie", "a=1; session=xyz") == f"a={redacted('1')}; session={redacted('xyz')}"
    out = redact.header_value("Set-Cookie", "session=xyz; Path=/; HttpOnly")
    assert out == f"session={redacted('xyz')}; Path=/; HttpOnly"


@pytest.mark.parametrize("name", ["X-Registry-Auth", "X-Amz-Security-Token", "X-Auth-Token", "X-Api-Key",
                                  "X-Custom-Session-Token", "Private-Token"])
def test_other_secret_headers(name):
    assert redact.header_value(name, "s3cr3t-value") == redacted("s3cr3t-value")


def test_ordinary_headers_stay():
    for name, value in [("Content-Type", "application/json"), ("Access-Control-Allow-Credentials", "true"),
                        ("WWW-Authenticate", 'Bearer realm="https://auth.example/token",service="reg",'
                                             'scope="repository:a:pull",error="invalid_token"'),
                        ("WWW-Authenticate", 'Basic realm="Registry Realm"'),
                        ("Docker-Content-Digest", "sha256:" + "a" * 64)]:
        assert redact.header_value(name, value) == value


PRESIGNED = [
    ("https://bucket.s3.amazonaws.com/blob?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20240101"
     "&X-Amz-Date=20240101T000000Z&X-Amz-Expires=1200&X-Amz-SignedHeaders=host&X-Amz-Signature=abcdef0123456789",
     ["abcdef0123456789", "AKIA"]),
    ("https://acct.blob.core.windows.net/c/blob?sv=2021-08-06&se=2024-01-01T00%3A00%3A00Z&sr=b&sp=r"
     "&sig=AbC%2Bdef%2Fghi%3D", ["AbC", "ghi"]),
    ("https://storage.googleapis.com/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=sa%40p.iam"
     "&X-Goog-Signature=0a1b2c3d4e5f", ["0a1b2c3d4e5f", "sa%40p"]),
    ("https://d111.cloudfront.net/blob?Expires=1700000000&Signature=Zx9-Yw8~Vu7&Key-Pair-Id=K2ABC",
     ["Zx9-Yw8~Vu7"]),
    ("https://oss.aliyuncs.com/blob?OSSAccessKeyId=id&Expires=1&Signature=osssig&security-token=osstok",
     ["osssig", "osstok"]),
    ("https://auth.example/token?access_token=tok123456&service=reg", ["tok123456"]),
    ("https://user:pa%24%24word@registry.example/v2/", ["pa%24%24word", "pa$$word"]),
]


@pytest.mark.parametrize("url, secrets", PRESIGNED)
def test_signed_urls(url, secrets):
    out = redact.url(url)
    for secret in secrets:
        assert secret not in out
    assert "<redacted sha256:" in out
    assert out.split("?")[0].rsplit("@", 1)[-1] == url.split("?")[0].rsplit("@", 1)[-1]  # host and path intact


@pytest.mark.parametrize("url, secrets", PRESIGNED)
def test_signed_urls_in_location_link_and_bodies(url, secrets):
    for out in (redact.header_value("Location", url), redact.header_value("Content-Location", url),
                redact.header_value("Link", f'<{url}>; rel="next"'),
                redact.body(f'<a href="{url.replace("&", "&amp;")}">Temporary Redirect</a>.', "text/html"),
                redact.body(json.dumps({"errors": [{"detail": {"url": url}}]}), "application/json"),
                redact.body(f"redirecting to {url}\n", "text/plain")):
        for secret in secrets:
            assert secret not in out, out


def test_urls_without_secrets_are_left_exactly_as_they_were():
    url = "https://auth.example/token?service=reg&scope=repository%3Ateam%2Fapp%3Apull&scope=x+y&account=bob"
    assert redact.url(url) == url
    assert redact.url("/v2/team/app/blobs/sha256:abc?digest=sha256%3Aabc") == "/v2/team/app/blobs/sha256:abc?" \
                                                                              "digest=sha256%3Aabc"


def test_json_bodies():
    body = {"token": JWT, "access_token": JWT, "refresh_token": "rt-1", "expires_in": 300, "issued_at": "now",
            "accessToken": "acr-1", "refreshToken": "acr-2", "client_secret": "cs-1", "password": 12345678,
            "auths": {"reg": {"auth": "YWxpY2U6cHc=", "identitytoken": "it-1", "email": "a@b"}},
            "Secret": "helper-secret", "nested": [{"id_token": "idt"}], "auth": None}
    out = redact.body(json.dumps(body), "application/json")
    for value in (SIG, "rt-1", "acr-1", "acr-2", "cs-1", "12345678", "YWxpY2U6cHc=", "it-1", "helper-secret",
                  "idt"):
        assert value not in out
    data = json.loads(out)
    assert data["expires_in"] == 300 and data["auths"]["reg"]["email"] == "a@b" and data["auth"] is None


def test_cut_off_json_is_still_redacted():
    text = '{"scope": "repository:a:pull", "token": "' + JWT + '", "refresh_token": "rt-abcdefgh'
    out = redact.body(text, "application/json")
    assert SIG not in out and "rt-abcdefgh" not in out and "repository:a:pull" in out


def test_form_bodies_keep_their_encoding():
    form = "grant_type=password&username=alice&password=p%40ss+word&scope=repository%3Aa%3Apull&refresh_token=rt1"
    out = redact.body(form, "application/x-www-form-urlencoded")
    assert out == (f"grant_type=password&username=alice&password={redacted('p@ss word')}&"
                   f"scope=repository%3Aa%3Apull&refresh_token={redacted('rt1')}")


def test_credentials_and_jwts_in_text():
    text = (f"request had Authorization: Basic {base64.b64encode(b'alice:pw').decode()} and Bearer {JWT}; "
            "Basic authentication required, Bearer realm=https://x/token")
    out = redact.text(text)
    assert "YWxpY2U6cHc=" not in out and SIG not in out
    assert "Basic authentication required" in out and "Bearer realm=https://x/token" in out


def test_jwt_header_and_claims_stay_readable():
    out = redact.redact_jwts(f"token {JWT} end")
    head, claims, sig = out.split()[1].split(".", 2)
    assert JWT.startswith(f"{head}.{claims}.") and SIG not in out


def test_control_characters_become_visible():
    assert redact.text("a\x1b[2Jb\x00c\r\nd") == "a\\x1b[2Jb\\x00c\nd"
    assert redact.printable("\x00" * 10) == "\\x00×10"


def test_show_leaves_secrets():
    assert redact.header_value("Authorization", "Basic abc", show=True) == "Basic abc"
    assert redact.url(PRESIGNED[0][0], show=True) == PRESIGNED[0][0]
    assert redact.body('{"token": "t"}', show=True) == '{"token": "t"}'


def test_diagnosis_messages_are_redacted():
    d = diagnose("token.unexpected-status", f"the token service answered 500: {{\"token\": \"{JWT}\"}}", "fix")
    assert SIG not in d.message


def test_scrub_replaces_every_known_secret_but_not_markers():
    password = "hunter2-" + "x" * 8
    Secret(password)
    marker = redacted("something")
    out = redact.scrub(f"title: login failed for {password} ({marker})")
    assert password not in out and marker in out and f"<redacted {fingerprint(password)}>" in out


def test_short_secrets_are_not_scrubbed_from_free_text():
    Secret("abc")
    assert redact.scrub("abcdef") == "abcdef"


def test_scrub_obj_walks_reports_in_place():
    password = "scrub-me-" + "y" * 8
    Secret(password)
    report = Report("pull-check", [CheckResult(
        input="x", steps=[StepResult("token", "fail", f"summary {password}", details={"k": [password]},
                                     facts=[password], http=[Exchange("GET", "u", 200, 1.0, [("a", password)])])],
        diagnoses=[Diagnosis("c.d", "c", "error", f"message {password}", "fix")])])
    redact.scrub_obj(report)
    assert password not in json.dumps(report.to_json(), default=str)
    assert password not in repr(report.results[0].steps[0].http[0].request_headers)


# --- property: nothing recognisable survives, nothing crashes ---------------------------------------------------

SECRET_VALUE = st.text(alphabet=st.characters(min_codepoint=48, max_codepoint=122, whitelist_categories=("Lu", "Ll",
                                                                                                          "Nd")),
                       min_size=12, max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.text(), SECRET_VALUE, st.sampled_from(["token", "access_token", "refresh_token", "password",
                                                 "identitytoken", "auth", "accessToken"]))
def test_secret_fields_never_survive_in_any_body_shape(noise, value, field):
    assume(value not in noise)
    assume(value not in field and value not in "<redacted sha256:>")  # a value inside the field name is no leak
    bodies = [json.dumps({"noise": noise, field: value}), json.dumps([{field: value, "n": noise}]),
              f'{{"{field}": "{value}", "cut": "{noise[:5]}', f"{field}={value}&n=1",
              f"noise {noise!r} {field}={value}"]
    for body in bodies:
        for ctype in ("application/json", "application/x-www-form-urlencoded", "text/plain", ""):
            assert value not in redact.body(body, ctype), (body, ctype)


@settings(max_examples=300, deadline=None)
@given(st.text(), st.text())
def test_redaction_never_crashes(name, value):
    redact.header_value(name, value)
    redact.url(value)
    redact.body(value, name)
    redact.text(value)
    redact.scrub(value)


# --- the scrub finds a secret in any encoded form --------------------------------------------------------------

WEIRD = 'pa"ss\\wörd<&>/ +💥'  # quote, backslash, non-ASCII, HTML characters, slash, space, plus, astral


def _go_json(value: str) -> str:
    """Go's encoding/json: UTF-8 as is, HTML characters as \\u003c, \\u003e, \\u0026."""
    return (json.dumps(value, ensure_ascii=False)[1:-1].replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026"))


def encoded(value: str) -> dict[str, str]:
    """The forms a server may echo `value` in (computed independently of regauth.redact)."""
    from urllib.parse import quote, quote_plus

    data = value.encode()
    std, url = base64.b64encode(data).decode(), base64.urlsafe_b64encode(data).decode()
    return {"raw": value, "json ensure_ascii": json.dumps(value)[1:-1],
            "json utf-8": json.dumps(value, ensure_ascii=False)[1:-1], "json go": _go_json(value),
            "json go ascii": json.dumps(value)[1:-1].replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026"),
            "json escaped slash": json.dumps(value)[1:-1].replace("/", "\\/"),
            "json upper hex": re.sub(r"(?<!\\)((?:\\\\)*)\\u([0-9a-f]{4})",
                                     lambda m: f"{m.group(1)}\\u{m.group(2).upper()}", json.dumps(value)[1:-1]),
            "quote": quote(value, safe=""), "quote safe /": quote(value), "quote_plus": quote_plus(value),
            "quote lower hex": re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(value, safe="")),
            "base64": std, "base64 unpadded": std.rstrip("="), "base64url": url, "base64url unpadded": url.rstrip("="),
            "hex": data.hex(), "HEX": data.hex().upper()}


@pytest.mark.parametrize("form", list(encoded(WEIRD)))
def test_scrub_finds_every_encoded_form_of_a_secret(form):
    Secret(WEIRD)
    text = encoded(WEIRD)[form]
    out = redact.scrub(f'{{"message": "login failed: {text} is wrong"}}')
    assert text not in out
    assert out == f'{{"message": "login failed: <redacted {fingerprint(WEIRD)}> is wrong"}}'


def test_a_json_body_that_echoes_the_password_is_scrubbed_after_redaction():
    """The body is redacted (re-encoded with ensure_ascii) first: the scrub must find the escaped password."""
    Secret(WEIRD)
    for body in (json.dumps({"errors": [{"message": f"bad password {WEIRD}"}]}),
                 json.dumps({"errors": [{"message": f"bad password {WEIRD}"}]}, ensure_ascii=False),
                 '{"errors":[{"message":"bad password ' + _go_json(WEIRD) + '"}]}'):
        out = redact.scrub(redact.body(body, "application/json"))
        assert all(text not in out for text in encoded(WEIRD).values()), out
        assert f"<redacted {fingerprint(WEIRD)}>" in out


def test_base64_of_user_and_password_is_scrubbed_when_the_user_is_known():
    from regauth.credentials.model import Credential

    Credential(username="alice", password=Secret(WEIRD))
    pair = base64.b64encode(f"alice:{WEIRD}".encode()).decode()
    out = redact.scrub(f"the server says: you sent {pair}")
    assert pair not in out and pair.rstrip("=") not in out and "<redacted sha256:" in out


def test_scrub_keeps_markers_and_takes_the_longest_form():
    Secret("abcdef-123")
    Secret("abcdef-123-longer")
    marker = redacted("abcdef-123")
    out = redact.scrub(f"{marker} abcdef-123-longer abcdef-12 abcdef-123")
    assert out == (f"{marker} <redacted {fingerprint('abcdef-123-longer')}> abcdef-12 "
                   f"<redacted {fingerprint('abcdef-123')}>")


def test_scrub_leaves_text_without_secrets_untouched():
    Secret("s3cr3t-" + "z" * 10)
    text = 'GET /v2/ → 401 {"errors":[{"code":"UNAUTHORIZED","message":"s3cr3t- is not it"}]} \\u00e4 %41'
    assert redact.scrub(text) == text


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=6, max_size=24).filter(lambda v: len(v.strip()) >= 6), st.text(max_size=30),
       st.sampled_from(sorted(encoded("x" * 6))))
def test_any_secret_in_any_form_never_survives_the_scrub(secret, noise, form):
    text = encoded(secret)[form]
    assume(text not in noise and text not in "<redacted sha256:>")  # the marker itself is no leak
    Secret(secret)
    out = redact.scrub(f"{noise}{text}{noise}")
    assert text not in out


# --- scrubbed_json: the JSON output's scrub, skipped only when it would change nothing ------------------------------

def _walked(value) -> str:
    return json.dumps(redact.scrub_obj(copy.deepcopy(value)), indent=2, default=str)


@pytest.mark.parametrize("form", list(encoded(WEIRD)))
def test_scrubbed_json_equals_the_walk_for_every_form(form):
    Secret(WEIRD)
    value = {"steps": [{"summary": f"said {encoded(WEIRD)[form]}!", "details": {encoded(WEIRD)[form]: [1, None]}}]}
    out = redact.scrubbed_json(copy.deepcopy(value))
    assert out == _walked(value)
    assert encoded(WEIRD)[form] not in json.loads(out)["steps"][0]["summary"]


def test_scrubbed_json_redacts_jwt_signatures_and_leaves_clean_values_alone():
    jwt_like = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
    out = json.loads(redact.scrubbed_json({"t": f"token {jwt_like}"}))
    assert "c2lnbmF0dXJlLXNpZ25hdHVyZQ" not in out["t"] and "<redacted sha256:" in out["t"]
    Secret(WEIRD)
    clean = {"a": ["nothing secret here", 1.5, True], "b": {"c": "pa ss wörd"}}
    assert redact.scrubbed_json(clean) == json.dumps(clean, indent=2)


@settings(max_examples=300, deadline=None)
@given(SECRET_VALUE | st.text(min_size=6, max_size=30).filter(lambda s: s.strip() and len(s.strip()) >= 6),
       st.text(max_size=20), st.sampled_from(list(encoded("x"))))
def test_scrubbed_json_is_the_walk_for_any_secret(secret, noise, form):
    from regauth.secret import forget_all

    forget_all()
    Secret(secret)
    try:
        shown = encoded(secret)[form]
    except UnicodeEncodeError:  # a lone surrogate: no UTF-8 form to echo
        shown = secret
    for value in ({"m": noise + shown + noise}, [noise, {shown: noise}], {"k": [{"deep": [shown]}]}, {"m": noise}):
        assert redact.scrubbed_json(copy.deepcopy(value)) == _walked(value)


def test_scrubbed_json_walks_values_json_has_no_type_for():
    """str() of a dataclass escapes unlike JSON (repr quoting): such values always take the walk."""
    import dataclasses

    @dataclasses.dataclass
    class Holder:
        value: str

    Secret(WEIRD)
    value = {"held": Holder(f"x {WEIRD} y")}
    expected = json.dumps({"held": Holder(f"x <redacted {fingerprint(WEIRD)}> y")}, indent=2, default=str)
    assert redact.scrubbed_json(value) == expected



def test_scrubbed_json_scrubs_what_str_gives_for_values_json_cannot_encode():
    """An exception or bytes held in a report is written as str(): that text is scrubbed too."""
    import dataclasses

    @dataclasses.dataclass
    class Raw:
        data: bytes

    password = "opaque-secret-" + "q" * 6  # a bytes repr escapes non-ASCII: no form of WEIRD to find in it
    Secret(password)
    out = redact.scrubbed_json({"error": ValueError(f"rejected {password}"), "raw": Raw(password.encode())})
    assert password not in out and out.count(f"<redacted {fingerprint(password)}>") == 2


def test_scrub_obj_copies_a_frozen_dataclass_that_holds_a_secret():
    import dataclasses

    @dataclasses.dataclass(frozen=True)
    class Pinned:
        note: str
        other: str = "clean"

    password = "frozen-secret-" + "z" * 6
    Secret(password)
    clean, holding = Pinned("nothing here"), Pinned(f"it is {password}")
    report = {"a": clean, "b": holding, "c": [holding]}
    out = redact.scrub_obj(report)
    assert out["a"] is clean  # nothing to scrub: the same object
    assert out["b"] is not holding and password not in out["b"].note and out["b"].other == "clean"
    assert password not in repr(out["c"])
    assert holding.note == f"it is {password}"  # a frozen value is not changed under its other holders
