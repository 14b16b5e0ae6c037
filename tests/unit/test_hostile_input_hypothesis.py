"""Property-based tests on hostile input: the JWT decoder (and the jwt step that judges a token service's answer),
`decode-token`, the pull-secret decoder, and the docker config / containers auth.json readers.

Any input yields a result or the defined input error (InputError, or a diagnosis from the catalogue) — never
another exception — and whatever comes out renders as JSON and as text. (The reference, challenge and scope
parsers have their own properties in test_parsers_hypothesis.py.)
"""

from __future__ import annotations

import base64
import io
import json
import os
import tempfile
import time
from pathlib import Path

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rich.console import Console

from regauth.challenge import parse_challenges
from regauth.context import Check, RunOptions, Shared, Token
from regauth.credentials.authjson import AuthFile, find_in_file, search
from regauth.credentials.dockerconfig import DockerConfig, load_config
from regauth.credentials.model import CredentialOptions
from regauth.credentials.resolve import lookup
from regauth.diagnoses import CATALOGUE
from regauth.errors import InputError
from regauth.http import Http, TransportConfig
from regauth.kube.secrets import decode_secret_report, load_secrets
from regauth.render.json import render as render_json
from regauth.render.secret_text import render_secret_report
from regauth.render.text import render as render_text
from regauth.report import CheckResult, Report, StepResult
from regauth.steps import jwt as jwt_step
from regauth.steps.jwt import decode
from regauth.tokeninfo import explain_token

MANY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- value strategies ------------------------------------------------------------------------------------------

def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


NUMBERS = st.one_of(st.integers(), st.integers(min_value=-(10 ** 30), max_value=10 ** 30),
                    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([0, -1, 1e308, 2 ** 63, True]))
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, st.text(max_size=20))
JSON = st.recursive(SCALARS, lambda children: st.one_of(st.lists(children, max_size=4),
                                                        st.dictionaries(st.text(max_size=8), children, max_size=4)),
                    max_leaves=12)
ACCESS = st.lists(st.one_of(JSON, st.fixed_dictionaries({}, optional={
    "type": st.one_of(st.just("repository"), JSON), "name": st.one_of(st.just("team/app"), JSON),
    "actions": st.one_of(st.lists(st.one_of(st.sampled_from(["pull", "push", "*"]), JSON), max_size=3), JSON)})),
    max_size=3)
CLAIMS = st.one_of(JSON, st.fixed_dictionaries({}, optional={
    "iss": JSON, "sub": st.one_of(st.text(max_size=10), JSON), "aud": st.one_of(st.just("svc"), JSON),
    "exp": st.one_of(NUMBERS, JSON), "nbf": NUMBERS, "iat": NUMBERS, "jti": JSON, "access": st.one_of(ACCESS, JSON),
    "password": st.text(max_size=10)}))
HEADERS = st.one_of(JSON, st.fixed_dictionaries({"alg": st.one_of(st.sampled_from(["ES256", "none", "RS256"]), JSON)},
                                                optional={"kid": JSON, "typ": JSON, "x5c": JSON, "jwk": JSON}))
SEGMENT = st.one_of(st.text(alphabet="ABCDEFabcdef0123456789-_=.", max_size=30), st.text(max_size=20))


def _segment(value: object) -> str:
    return b64url(json.dumps(value).encode())


TOKENS = st.one_of(
    st.text(max_size=80),
    st.builds(lambda h, c, s: f"{_segment(h)}.{_segment(c)}.{s}", HEADERS, CLAIMS, SEGMENT),
    st.builds(lambda h, c, s: f"{_segment(h)}.{c}.{s}", HEADERS, SEGMENT, SEGMENT),
    st.builds(lambda h, c: f"{_segment(h)}.{b64url(c)}.sig", HEADERS, st.binary(max_size=30)),
    st.builds(lambda c: f"{_segment({'alg': 'ES256'})}.{b64url(c.encode('utf-8', 'surrogatepass'))}.sig",
              st.one_of(st.integers(3000, 20000).map(lambda n: "[" * n), st.integers(3000, 20000).map(
                  lambda n: '{"a":' * n), st.sampled_from(['{"exp": 1e400}', '{"exp": NaN}', '"\ud800"',
                                                            '{"exp": -1e400, "nbf": 1e400}']))),
)

# JWTs a token service could really send: a header with alg, claims that are an object with the registry claims,
# each of any JSON type (hostile services get the shapes wrong, not the syntax).
STRUCTURED_TOKENS = st.builds(
    lambda h, c, s: f"{_segment(h)}.{_segment(c)}.{s}",
    st.fixed_dictionaries({"alg": st.one_of(st.sampled_from(["ES256", "none"]), JSON)},
                          optional={"kid": JSON, "x5c": JSON}),
    st.fixed_dictionaries({}, optional={
        "iss": JSON, "sub": JSON, "aud": JSON, "exp": st.one_of(NUMBERS, JSON), "nbf": st.one_of(NUMBERS, JSON),
        "iat": st.one_of(NUMBERS, JSON), "access": st.one_of(st.lists(st.fixed_dictionaries({}, optional={
            "type": st.one_of(st.just("repository"), JSON), "name": st.one_of(st.just("team/app"), JSON),
            "actions": st.one_of(st.lists(st.one_of(st.sampled_from(["pull", "*"]), JSON), max_size=3), JSON)}),
            max_size=3), JSON)}),
    SEGMENT)

_HTTP = Http(TransportConfig())


def _console() -> Console:
    return Console(file=io.StringIO(), width=120, no_color=True)


def _renders(report: Report) -> None:
    json.loads(render_json(report))
    render_text(report, _console(), verbose=True)


def _catalogued(codes: list[str]) -> None:
    unknown = [c for c in codes if c not in CATALOGUE]
    assert not unknown, unknown


# --- JWT ---------------------------------------------------------------------------------------------------------

@MANY
@given(TOKENS)
def test_jwt_decode_returns_or_raises_value_error(token):
    try:
        out = decode(token)
    except ValueError as e:
        assert str(e)
        return
    assert out is None or (isinstance(out[0], dict) and isinstance(out[1], dict))


@MANY
@given(st.one_of(TOKENS, STRUCTURED_TOKENS), st.booleans())
def test_decode_token_gives_a_report_or_an_input_error(token, show):
    try:
        report = explain_token(token, show)
    except InputError as e:
        assert str(e) and "\n" not in str(e)
        return
    assert report.results[0].steps[0].name == "jwt"
    _renders(report)


@MANY
@given(st.one_of(TOKENS, STRUCTURED_TOKENS, STRUCTURED_TOKENS), st.booleans(), st.one_of(st.none(), NUMBERS))
def test_jwt_step_judges_any_token_service_answer(token, with_challenge, server_date):
    """What a hostile token service hands back reaches the jwt step unfiltered: it must judge, not crash."""
    check = Check("reg.example/team/app:1", RunOptions(), Shared(_HTTP), CheckResult("reg.example/team/app:1"))
    check.registry, check.repository = "reg.example", "team/app"
    check.scopes = ["repository:team/app:pull"]
    now = time.time()
    check.token = Token(token, now + 300, "GET", expires_in=300, issued_at=now,
                        server_date=server_date if isinstance(server_date, float) and abs(server_date) < 1e11
                        else None)
    if with_challenge:
        check.challenge = parse_challenges(['Bearer realm="https://a/token",service="svc"']).preferred()
    result = jwt_step.run(check)
    assert isinstance(result, StepResult) and result.status in ("ok", "warn", "fail")
    _catalogued(check.result.codes())
    check.result.steps.append(result)
    _renders(Report("pull-check", [check.result]))


# --- pull secrets ------------------------------------------------------------------------------------------------

B64ISH = st.one_of(
    st.builds(lambda u, p: base64.b64encode(f"{u}:{p}".encode()).decode(), st.text(max_size=8), st.text(max_size=8)),
    st.builds(lambda b: base64.b64encode(b).decode().rstrip("="), st.binary(max_size=20)),
    st.text(alphabet="ABCxyz019+/=\n \t", max_size=20),
)
ENTRY = st.one_of(JSON, st.fixed_dictionaries({}, optional={
    "auth": st.one_of(B64ISH, JSON), "username": st.one_of(st.text(max_size=8), JSON),
    "password": st.one_of(st.text(max_size=8), JSON), "email": JSON, "identitytoken": st.one_of(st.text(max_size=8),
                                                                                                JSON),
    "registrytoken": JSON, "serveraddress": JSON}))
KEYS = st.one_of(st.sampled_from(["reg.example", "https://index.docker.io/v1/", "*.example.com", "127.0.0.1:5000",
                                  "reg.example/team", "http://reg.example:5000/v2/", "", "docker.io"]),
                 st.text(max_size=15))
DOCKER_CONFIG = st.one_of(JSON, st.fixed_dictionaries({}, optional={
    "auths": st.one_of(st.dictionaries(KEYS, ENTRY, max_size=4), JSON), "credsStore": st.one_of(st.text(max_size=8),
                                                                                                JSON),
    "credHelpers": st.one_of(st.dictionaries(KEYS, st.one_of(st.text(max_size=8), JSON), max_size=3), JSON),
    "accessToken": JSON, "loginServer": JSON, "proxies": JSON}))
DOCKERCFG = st.one_of(st.dictionaries(KEYS, ENTRY, max_size=3), JSON)


def _payload(value: object, how: str) -> object:
    raw = json.dumps(value).encode()
    return {"b64": base64.b64encode(raw).decode(), "double": base64.b64encode(base64.b64encode(raw)).decode(),
            "text": raw.decode(), "junk": value}[how]


SECRET_OBJECTS = st.builds(
    lambda kind, type_, key, payload, how, where, extra: {
        "apiVersion": "v1", "kind": kind, "type": type_, "metadata": {"name": "regcred", "namespace": "ns"},
        where: {key: _payload(payload, how), **extra}},
    st.one_of(st.sampled_from(["Secret", "List", "ConfigMap"]), st.text(max_size=6)),
    st.one_of(st.sampled_from(["kubernetes.io/dockerconfigjson", "kubernetes.io/dockercfg", "Opaque"]), JSON),
    st.sampled_from([".dockerconfigjson", ".dockercfg", "config.json"]),
    st.one_of(DOCKER_CONFIG, DOCKERCFG),
    st.sampled_from(["b64", "double", "text", "junk"]),
    st.sampled_from(["data", "stringData"]),
    st.dictionaries(st.text(max_size=6), JSON, max_size=2),
)
SECRET_TEXTS = st.one_of(
    st.text(max_size=200),
    SECRET_OBJECTS.map(json.dumps),
    SECRET_OBJECTS.map(lambda o: yaml.safe_dump(o, allow_unicode=True)),
    st.lists(SECRET_OBJECTS, min_size=2, max_size=3).map(lambda docs: yaml.safe_dump_all(docs)),
    st.lists(SECRET_OBJECTS, max_size=3).map(lambda items: json.dumps({"apiVersion": "v1", "kind": "List",
                                                                       "items": items})),
    st.one_of(DOCKER_CONFIG, DOCKERCFG).map(json.dumps),
    st.one_of(DOCKER_CONFIG, DOCKERCFG).map(lambda c: base64.b64encode(json.dumps(c).encode()).decode()),
    st.sampled_from(["a: &a [x]\nb: *c\n", "--- !!python/object:os.system 'x'", "\x00\xff", "{}", ""]),
)


DEEP = "[" * 5000  # nested past the recursion limit: slow to refuse (about a second), so once, not at random


@MANY
@given(SECRET_TEXTS)
@example(DEEP)
def test_secret_decoder_gives_secrets_or_an_input_error(text):
    try:
        secrets = load_secrets(text, "input.yaml")
    except InputError as e:
        assert str(e) and "\n" not in str(e)
        return
    for secret in secrets:
        _catalogued([d.code for d in secret.diagnoses])


@MANY
@given(SECRET_TEXTS, st.one_of(st.none(), st.sampled_from(["reg.example/team/app:1", "nginx", "127.0.0.1:5000/a"]),
                               st.text(max_size=20)))
@example(DEEP, None)
def test_decode_secret_report_renders(text, image):
    try:
        report = decode_secret_report(text, "input.yaml", image)
    except InputError:
        return
    for result in report.results:
        _catalogued(result.codes())
    json.loads(render_json(report))
    render_secret_report(report, _console())


# --- docker config.json, ~/.dockercfg and containers auth.json ---------------------------------------------------

CONFIG_BYTES = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    DOCKER_CONFIG.map(lambda c: json.dumps(c).encode()),
    DOCKERCFG.map(lambda c: json.dumps(c).encode()),
    st.builds(lambda a, e: f"auth = {a}\nemail = {e}\n".encode(), B64ISH, st.text(max_size=8)),
    st.integers(3000, 50000).map(lambda n: b"[" * n),
    st.integers(3000, 20000).map(lambda n: b'{"auths": ' * n),
    st.sampled_from([b"\xef\xbb\xbf{}", b"{\"auths\": {\"a\": {\"auth\": 1}}}"]),
)
_DIR = Path(tempfile.mkdtemp(prefix="regauth-hostile-config-"))


@MANY
@given(CONFIG_BYTES, st.booleans())
def test_config_reader_never_raises(data, legacy):
    path = _DIR / "config.json"
    path.write_bytes(data)
    config = load_config(path, legacy=legacy)
    assert isinstance(config, DockerConfig) and config.exists
    _catalogued([d.code for d in config.diagnoses])
    assert all(d.code == "credentials.config-invalid" for d in config.diagnoses)


@MANY
@given(CONFIG_BYTES, KEYS, st.text(max_size=15), st.sampled_from(["auth.json", "docker-config", "dockercfg"]))
def test_auth_json_lookup_never_raises(data, registry, repository, kind):
    path = _DIR / "auth.json"
    path.write_bytes(data)
    file = AuthFile(path, kind)
    config = load_config(path, legacy=file.legacy)
    match = find_in_file(file, config, registry, repository)
    assert match is None or match.file == file
    found, seen = search([file], lambda f: config, registry, repository)
    assert len(seen) == 1 and (found is None or found.usable)


@MANY
@given(CONFIG_BYTES, CONFIG_BYTES, KEYS, st.text(max_size=15))
def test_credential_lookup_over_hostile_files_never_raises(docker_bytes, authfile_bytes, registry, repository):
    home = _DIR / "home"
    (home / ".docker").mkdir(parents=True, exist_ok=True)
    (home / ".docker" / "config.json").write_bytes(docker_bytes)
    (home / "auth.json").write_bytes(authfile_bytes)
    empty_path = _DIR / "empty-path"
    empty_path.mkdir(exist_ok=True)
    env = {"HOME": str(home), "PATH": str(empty_path)}  # no credential helper can run
    options = CredentialOptions(config_dir=home / ".docker", authfile=home / "auth.json" if len(repository) % 2
                                else None)
    found = lookup(registry, repository, options, env)
    _catalogued([d.code for d in found.diagnoses])
    json.dumps([c.to_json() for c in found.candidates])
    if found.credential is not None:
        json.dumps(found.credential.describe())


def teardown_module() -> None:
    for root, dirs, files in os.walk(_DIR, topdown=False):
        for name in files:
            os.unlink(os.path.join(root, name))
        for name in dirs:
            os.rmdir(os.path.join(root, name))
    os.rmdir(_DIR)
