"""WWW-Authenticate against RFC 7235's grammar, production by production, and every header shape of cases.md.

tests/unit/test_challenge.py holds the specs §2.2 table, the client-quirk notes and the malformed-input messages;
this file walks the ABNF (RFC 7235 §2.1 and §4.1, RFC 7230 §3.2.3/§3.2.6/§7) with inputs that file does not use,
the examples printed in RFC 7235, RFC 7617 and RFC 6750, and copies every WWW-Authenticate value that appears in
../shared/cases.md verbatim, checking what the handshake needs from it and that it survives a canonical
re-serialisation.

    challenge     = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
    auth-param    = token BWS "=" BWS ( token / quoted-string )
    token68       = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
    qdtext        = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
    quoted-pair   = "\\" ( HTAB / SP / VCHAR / obs-text )
"""

from __future__ import annotations

import string

import pytest

from regauth.challenge import ChallengeSyntaxError, parse_challenges

TCHAR = "!#$%&'*+-.^_`|~" + string.digits + string.ascii_letters
TOKEN68 = "-._~+/" + string.digits + string.ascii_letters


def shape(fields):
    return [(c.scheme, c.params, c.token68) for c in parse_challenges(fields).challenges]


def ch(scheme, token68=None, **params):
    return (scheme, params, token68)


# --------------------------------------------------------------------------- the grammar, production by production

GRAMMAR = [
    # auth-scheme = token (any tchar, any case)
    (["X-Auth_1.0~ realm=\"x\""], [ch("X-Auth_1.0~", realm="x")], "scheme-with-tchars"),
    (["a!#$%&'*+-.^_`|~ realm=x"], [ch("a!#$%&'*+-.^_`|~", realm="x")], "scheme-every-symbol-tchar"),
    (["bEaReR realm=\"x\""], [ch("bEaReR", realm="x")], "scheme-mixed-case"),
    # auth-param name = token
    (['Bearer x-a.b_c~="v"'], [ch("Bearer", **{"x-a.b_c~": "v"})], "param-name-tchars"),
    # BWS around "=" may be tabs too
    (['Bearer realm\t=\t"x"'], [ch("Bearer", realm="x")], "bws-tabs"),
    # OWS around the list comma
    (['Bearer realm="x"\t,\tservice="y"'], [ch("Bearer", realm="x", service="y")], "ows-tabs-around-comma"),
    (['Bearer realm="x" ,Basic realm="y"'], [ch("Bearer", realm="x"), ch("Basic", realm="y")],
     "ows-before-comma-new-challenge"),
    # #rule: empty list elements anywhere are ignored (RFC 7230 §7)
    (['Bearer realm="x", , ,'], [ch("Bearer", realm="x")], "trailing-empty-elements"),
    (['Bearer,Basic realm="y"'], [ch("Bearer"), ch("Basic", realm="y")], "bare-scheme-then-challenge"),
    # token68: at least one character, then any number of "="
    (["Negotiate abc==="], [ch("Negotiate", "abc===")], "token68-three-pads"),
    ([f"Negotiate {TOKEN68}"], [ch("Negotiate", TOKEN68)], "token68-every-character"),
    (['Bearer realm="x", Negotiate abc==, Basic realm="y"'],
     [ch("Bearer", realm="x"), ch("Negotiate", "abc=="), ch("Basic", realm="y")], "token68-between-challenges"),
    # quoted-string: qdtext ranges, quoted-pair of SP / HTAB / VCHAR, obs-text, the empty string
    (['Bearer realm="!#[]~"'], [ch("Bearer", realm="!#[]~")], "qdtext-range-edges"),
    (['Bearer realm="a\\ b\\\tc"'], [ch("Bearer", realm="a b\tc")], "quoted-pair-sp-htab"),
    (['Bearer realm="\x80\xff"'], [ch("Bearer", realm="\x80\xff")], "obs-text-edges"),
    (['Bearer realm="", service=""'], [ch("Bearer", realm="", service="")], "empty-quoted-values"),
    # the same scheme twice: two challenges, both kept in order
    (['Basic realm="a", Basic realm="b"'], [ch("Basic", realm="a"), ch("Basic", realm="b")], "same-scheme-twice"),
    # token form values: every tchar is allowed unquoted
    ([f"Bearer realm={TCHAR}"], [ch("Bearer", realm=TCHAR)], "token-value-every-tchar"),
]

RFC_EXAMPLES = [
    # RFC 7235 §4.1: two challenges in one field, a quoted-pair inside a value, a token value
    (['Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"'],
     [ch("Newauth", realm="apps", type="1", title='Login to "apps"'), ch("Basic", realm="simple")],
     "rfc7235-4.1"),
    # RFC 7617 §2 and §2.1
    (['Basic realm="WallyWorld"'], [ch("Basic", realm="WallyWorld")], "rfc7617-2"),
    (['Basic realm="foo", charset="UTF-8"'], [ch("Basic", realm="foo", charset="UTF-8")], "rfc7617-2.1"),
    # RFC 6750 §3
    (['Bearer realm="example"'], [ch("Bearer", realm="example")], "rfc6750-3-no-token"),
    (['Bearer realm="example", error="invalid_token", error_description="The access token expired"'],
     [ch("Bearer", realm="example", error="invalid_token", error_description="The access token expired")],
     "rfc6750-3-invalid-token"),
    # RFC 4559-style token68 challenge
    (["Negotiate a87421000492aa874209af8bc028"], [ch("Negotiate", "a87421000492aa874209af8bc028")],
     "token68-negotiate"),
]


@pytest.mark.parametrize(("fields", "expected"), [pytest.param(f, e, id=i) for f, e, i in GRAMMAR + RFC_EXAMPLES])
def test_grammar(fields, expected):
    assert shape(fields) == expected


@pytest.mark.parametrize("char", sorted(set(TCHAR)))
def test_every_tchar_in_scheme_and_param_name(char):
    scheme, name = f"S{char}s", f"p{char}p"
    assert shape([f'{scheme} {name}="v"']) == [ch(scheme, **{name.lower(): "v"})]


@pytest.mark.parametrize("char", sorted(set(string.printable[:94]) - set(TCHAR) - {'"', ","}))
def test_a_separator_cannot_be_part_of_a_scheme(char):
    with pytest.raises(ChallengeSyntaxError):
        parse_challenges([f"Bear{char}er realm=\"x\""])


@pytest.mark.parametrize("char", [chr(c) for c in (0x21, 0x23, 0x5B, 0x5D, 0x7E, 0x20, 0x09)])
def test_qdtext_characters(char):
    assert shape([f'Bearer realm="a{char}b"'])[0][1]["realm"] == f"a{char}b"


@pytest.mark.parametrize("char", [chr(c) for c in range(0x21, 0x7F)])
def test_quoted_pair_of_every_vchar_is_that_char(char):
    assert shape([f'Bearer realm="\\{char}"'])[0][1]["realm"] == char


@pytest.mark.parametrize("text, where", [
    ('Bearer realm="a"b"', "after the value of 'realm'"),                   # DQUOTE is not qdtext
    ('Bearer realm="\\"', "unterminated quoted string"),                    # the quoted-pair eats the DQUOTE
    ('Bearer realm="x",error=', "has no value"),                             # a value is required
    ('Bearer realm="x",=', "expected an auth-scheme token"),                 # a name is required
    ("Negotiate =", "found parameter 'Negotiate'"),                          # token68 needs one char before "="
    ('Bear(er realm="x"', "expected a space after auth-scheme 'Bear'"),       # "(" is a delimiter
    ('Bearer ...,error="insufficient_scope"', "cannot follow the token68"),  # cases.md BR-23's elided form
], ids=["dquote-in-value", "escaped-closing-quote", "missing-value", "missing-name", "token68-only-pads",
        "delimiter-in-scheme", "params-after-token68"])
def test_not_in_the_grammar(text, where):
    with pytest.raises(ChallengeSyntaxError, match=where.replace("(", r"\(").replace(".", r"\.")):
        parse_challenges([text])


def test_names_are_case_insensitive_values_are_not():
    parsed = parse_challenges(['BEARER REALM="HTTPS://A/T",Service="S"'])
    assert parsed.preferred() is parsed.challenges[0] and parsed.preferred().kind == "bearer"
    assert parsed.preferred().realm == "HTTPS://A/T" and parsed.preferred().service == "S"


def test_several_fields_are_one_list():
    """RFC 7230 §3.2.2: several fields equal one comma-joined field (what httpx's Headers.get() returns)."""
    fields = ['Basic realm="a"', 'Bearer realm="b",service="s"']
    assert shape(fields) == shape([", ".join(fields)])


# --------------------------------------------------------------------------- every header shape in cases.md

# (case, header value exactly as cases.md prints it, preferred scheme, params of the preferred challenge)
CASES = [
    ("BR-01", 'Bearer realm="https://auth.example.com/v2/auth",service="registry.example.com",'
              'scope="repository:team1/app1:pull,push"',
     "bearer", {"realm": "https://auth.example.com/v2/auth", "service": "registry.example.com",
                "scope": "repository:team1/app1:pull,push"}),
    ("BR-03a", 'Bearer realm="https://registry.example.com/v2/auth",service="registry.example.com",'
               'scope=repository:vendor1/base1:pull',
     "bearer", {"realm": "https://registry.example.com/v2/auth", "service": "registry.example.com",
                "scope": "repository:vendor1/base1:pull"}),
    ("BR-03b", 'Bearer realm="https://gcr.example.com/v2/token",service=gcr.example.com',
     "bearer", {"realm": "https://gcr.example.com/v2/token", "service": "gcr.example.com"}),
    ("BR-03c", "Basic realm=Registry", "basic", {"realm": "Registry"}),
    ("BR-05", 'Bearer realm="https://registry.example.com/auth", service="registry.example.com", scope=""',
     "bearer", {"realm": "https://registry.example.com/auth", "service": "registry.example.com", "scope": ""}),
    ("BR-06", 'BASIC realm="Example Nexus Repository Manager"', "basic",
     {"realm": "Example Nexus Repository Manager"}),
    ("BR-06-harbor", 'Basic realm="harbor"', "basic", {"realm": "harbor"}),
    ("BR-07b", 'Bearer realm="https://nexus.example.com/v2/token",service="https://nexus.example.com/v2/token"',
     "bearer", {"realm": "https://nexus.example.com/v2/token", "service": "https://nexus.example.com/v2/token"}),
    ("BR-08-v2", 'Bearer realm="https://region1-docker.pkg.example.dev/v2/token"', "bearer",
     {"realm": "https://region1-docker.pkg.example.dev/v2/token"}),
    ("BR-08-repo", 'Bearer realm="https://region1-docker.pkg.example.dev/v2/token",'
                   'service="region1-docker.pkg.example.dev",scope="repository:proj1/repo1/app1:pull"',
     "bearer", {"realm": "https://region1-docker.pkg.example.dev/v2/token",
                "service": "region1-docker.pkg.example.dev", "scope": "repository:proj1/repo1/app1:pull"}),
    ("BR-09", 'Bearer realm="https://artifactory.example.com/artifactory/api/docker/docker-local/v2/token",'
              'service="artifactory.example.com"',
     "bearer", {"realm": "https://artifactory.example.com/artifactory/api/docker/docker-local/v2/token",
                "service": "artifactory.example.com"}),
    ("BR-11", 'Bearer realm="https://cdn.example.com, nexus.example.com/v2/token",'
              'service="https://cdn.example.com, nexus.example.com/v2/token"',
     "bearer", {"realm": "https://cdn.example.com, nexus.example.com/v2/token",
                "service": "https://cdn.example.com, nexus.example.com/v2/token"}),
    ("BR-12", 'Bearer realm="http://harbor-core.default.svc.cluster.local/service/token",service="harbor-registry"',
     "bearer", {"realm": "http://harbor-core.default.svc.cluster.local/service/token", "service": "harbor-registry"}),
    ("BR-15", 'Bearer realm="https://pkg.example.com/token",service="pkg.example.com"',
     "bearer", {"realm": "https://pkg.example.com/token", "service": "pkg.example.com"}),
    ("BR-20", 'Bearer realm="https://registry.example.com/auth",service="registry.example.com"',
     "bearer", {"realm": "https://registry.example.com/auth", "service": "registry.example.com"}),
    ("BR-28", 'Bearer realm="https://myregistry.azurecr.io/oauth2/token",service="myregistry.azurecr.io",'
              'scope="registry:catalog:*"',
     "bearer", {"realm": "https://myregistry.azurecr.io/oauth2/token", "service": "myregistry.azurecr.io",
                "scope": "registry:catalog:*"}),
    ("BR-37", 'Bearer realm="https://proxy.example.com/v2/auth",service="registry.docker.io",'
              'scope="repository:hello-world:pull"',
     "bearer", {"realm": "https://proxy.example.com/v2/auth", "service": "registry.docker.io",
                "scope": "repository:hello-world:pull"}),
    ("BR-41", 'Bearer realm=...,error="invalid_token"', "bearer", {"realm": "...", "error": "invalid_token"}),
    ("BR-52", 'Bearer realm="https://auth.docker.example/token",service="registry.docker.io",'
              'scope="repository:vendor1/app1:pull"',
     "bearer", {"realm": "https://auth.docker.example/token", "service": "registry.docker.io",
                "scope": "repository:vendor1/app1:pull"}),
]
# BR-23 prints the elided `Bearer ...,error="insufficient_scope"`: outside the grammar (see test_not_in_the_grammar).


def _serialise(challenges) -> str:
    """Canonical form: every value as a quoted-string with `\\` and `"` escaped."""
    def quote(v: str) -> str:
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return ", ".join(c.scheme + (" " + c.token68 if c.token68 else "")
                     + ("" if not c.params else " " + ", ".join(f"{k}={quote(v)}" for k, v in c.params.items()))
                     for c in challenges)


@pytest.mark.parametrize(("header", "kind", "params"), [pytest.param(h, k, p, id=i) for i, h, k, p in CASES])
def test_cases_md_header_shapes(header, kind, params):
    parsed = parse_challenges([header])
    chosen = parsed.preferred()
    assert chosen is not None and chosen.kind == kind and chosen.params == params
    assert len(parsed.challenges) == 1  # no stray challenge from a comma or a space inside a value
    if "scope" in params:
        assert chosen.scopes == params["scope"].split()
    again = parse_challenges([_serialise(parsed.challenges)])
    assert [(c.kind, c.params, c.token68) for c in again.challenges] == \
        [(c.kind, c.params, c.token68) for c in parsed.challenges]
