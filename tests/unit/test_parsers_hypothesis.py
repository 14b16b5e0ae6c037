"""Property-based tests: the three parsers fail only with their defined error, and round-trip where they should."""

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from regauth.challenge import ChallengeSyntaxError, parse_challenges
from regauth.reference import Reference, ReferenceError, parse_reference
from regauth.scope import Scope, clean_scopes, missing_actions, parse_scope

MANY = settings(max_examples=500, deadline=None)

TCHAR = "!#$%&'*+-.^_`|~" + string.ascii_letters + string.digits
TOKEN68 = "-._~+/" + string.ascii_letters + string.digits
HEX = "0123456789abcdef"

# Arbitrary text, plus text biased towards the characters each grammar cares about.
REFERENCE_TEXT = st.one_of(st.text(), st.text(alphabet="aAz09./:@_-[]!" + HEX, max_size=40))
HEADER_TEXT = st.one_of(st.text(), st.text(alphabet=' \t,="\\Bearer/:;@abc\x01\x7f\u00e9', max_size=40))
SCOPE_TEXT = st.one_of(st.text(), st.text(alphabet="repository():/,*pul \t\n", max_size=30))


# --- references -------------------------------------------------------------------------------------------------

def _target(ref: Reference) -> tuple:
    return ref.registry, ref.repository, ref.tag, ref.digest


@MANY
@given(REFERENCE_TEXT)
def test_reference_any_text_parses_or_raises_reference_error(text):
    try:
        ref = parse_reference(text)
    except ReferenceError as error:
        assert str(error) and "\n" not in str(error)
        return
    again = parse_reference(ref.canonical)
    assert _target(again) == _target(ref)
    assert again.canonical == ref.canonical
    assert (ref.tag is None) != (ref.digest is None)
    assert ref.api_base().startswith("https://")


PATH = st.lists(
    st.from_regex(r"[a-z0-9]{1,4}(?:(?:[._]|__|-{1,3})[a-z0-9]{1,4}){0,2}", fullmatch=True), min_size=1, max_size=4
).map("/".join)
DOMAIN = st.one_of(
    st.sampled_from(["ghcr.io", "localhost", "localhost:5000", "127.0.0.1:5000", "[::1]:5000", "[fe80::1]", "Reg.IO"]),
    st.builds(
        "{}.{}:{}".format,
        st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True),
        st.sampled_from(["com", "io", "example"]),
        st.integers(1, 65535),
    ),
)
TAG = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,30}", fullmatch=True)
DIGEST = st.text(alphabet=HEX, min_size=64, max_size=64).map("sha256:{}".format)


@MANY
@given(DOMAIN, PATH, st.none() | TAG, st.none() | DIGEST)
def test_reference_grammar_valid_input_parses_exactly(domain, path, tag, digest):
    text = f"{domain}/{path}" + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
    ref = parse_reference(text)
    assert (ref.registry, ref.repository, ref.digest, ref.given_tag) == (domain, path, digest, tag)
    assert ref.tag == (None if digest else tag or "latest")
    assert _target(parse_reference(ref.canonical)) == _target(ref)


@MANY
@given(PATH, st.none() | TAG)
def test_reference_familiar_names_normalise_like_docker(path, tag):
    text = path + (f":{tag}" if tag else "")
    first = path.split("/")[0]
    if "/" in path and "." in first:
        return  # the first component is a host then; covered above
    ref = parse_reference(text)
    assert ref.registry == "docker.io"
    assert ref.repository == (path if "/" in path else f"library/{path}")
    assert ref.is_docker_hub and ref.api_host == "registry-1.docker.io"


# --- challenges -------------------------------------------------------------------------------------------------

@MANY
@given(st.lists(HEADER_TEXT, max_size=3))
def test_challenges_any_text_parse_or_raise_syntax_error(fields):
    try:
        result = parse_challenges(fields)
    except ChallengeSyntaxError as error:
        assert " at column " in str(error)
        return
    assert all(isinstance(q, str) and q for q in result.quirks)
    for challenge in result.challenges:
        assert challenge.scheme and all(key == key.lower() for key in challenge.params)


TOKEN = st.text(alphabet=TCHAR, min_size=1, max_size=10)
VALUE = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")) | st.just("\t"), max_size=15)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@st.composite
def challenge_text(draw):
    """One challenge as (text, expected (scheme, params, token68))."""
    scheme = draw(TOKEN)
    form = draw(st.sampled_from(["bare", "token68", "params"]))
    if form == "bare":
        return scheme, (scheme, {}, None)
    if form == "token68":
        blob = draw(st.text(alphabet=TOKEN68, min_size=1, max_size=12)) + draw(st.sampled_from(["", "=", "=="]))
        return f"{scheme} {blob}", (scheme, {}, blob)
    params: dict[str, str] = {}
    parts = []
    for name, value in draw(st.lists(st.tuples(TOKEN, VALUE), min_size=1, max_size=4)):
        as_token = value and all(c in TCHAR for c in value) and draw(st.booleans())
        bws = draw(st.sampled_from(["", " ", "\t "]))
        parts.append(f"{name}{bws}={bws}{value if as_token else _quote(value)}")
        params[name.lower()] = value
    separator = draw(st.sampled_from([",", ", ", " , ", ",,", ", ,\t"]))
    return f"{scheme}{draw(st.sampled_from([' ', '  ', chr(9)]))}{separator.join(parts)}", (scheme, params, None)


@st.composite
def header_fields(draw):
    fields, expected = [], []
    for _ in range(draw(st.integers(1, 3))):
        challenges = draw(st.lists(challenge_text(), min_size=1, max_size=3))
        fields.append(draw(st.sampled_from([", ", ",", " ,, "])).join(text for text, _ in challenges))
        expected.extend(shape for _, shape in challenges)
    return fields, expected


def _shape(fields):
    return [(c.scheme, c.params, c.token68) for c in parse_challenges(fields).challenges]


@MANY
@given(header_fields())
def test_challenges_serialised_from_parts_parse_back(case):
    fields, expected = case
    assert _shape(fields) == expected


@MANY
@given(header_fields())
def test_challenges_joined_fields_parse_like_separate_fields(case):
    fields, _ = case
    assert _shape([", ".join(fields)]) == _shape(fields)  # what httpx Headers.get() does to repeated fields


# --- scopes -----------------------------------------------------------------------------------------------------

@MANY
@given(SCOPE_TEXT)
def test_scope_any_text_parses_or_raises_value_error(text):
    try:
        scope = parse_scope(text)
    except ValueError as error:
        assert "invalid scope" in str(error)
        return
    assert parse_scope(str(scope)) == scope


SCOPE = st.builds(
    Scope,
    st.sampled_from(["repository", "registry", "repository(plugin)"]),
    st.one_of(PATH, st.builds("{}/{}".format, DOMAIN, PATH)),
    st.lists(st.sampled_from(["pull", "push", "delete", "*", "metadata_read"]), max_size=4).map(tuple),
)


@MANY
@given(SCOPE)
def test_scope_str_round_trips(scope):
    assert parse_scope(str(scope)) == scope


@MANY
@given(st.lists(SCOPE, max_size=6))
def test_clean_scopes_normal_form(scopes):
    cleaned = clean_scopes(scopes)
    assert clean_scopes(cleaned) == cleaned
    assert [str(s) for s in cleaned] == sorted(str(s) for s in cleaned)
    assert len({(s.type, s.name) for s in cleaned}) == len(cleaned)
    for scope in cleaned:
        assert scope.actions and list(scope.actions) == sorted(set(scope.actions))
        assert "*" not in scope.actions or scope.actions == ("*",)
        wanted = {a for s in scopes if (s.type, s.name) == (scope.type, scope.name) for a in s.actions}
        assert set(scope.actions) == ({"*"} if "*" in wanted else wanted)


@MANY
@given(SCOPE, st.lists(st.sampled_from(["pull", "push", "delete", "*"]), max_size=3))
def test_missing_actions_is_wanted_minus_granted(wanted, granted_actions):
    granted = [{"type": wanted.type, "name": wanted.name, "actions": granted_actions}]
    missing = missing_actions(granted, wanted)
    if "*" in granted_actions:
        assert missing == []
    else:
        assert missing == [a for a in dict.fromkeys(wanted.actions) if a not in granted_actions]
    assert missing_actions([], wanted) == list(dict.fromkeys(wanted.actions))
