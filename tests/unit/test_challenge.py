"""WWW-Authenticate parsing: specs §2.2 table R2.2.1, §2.5 client quirks, cases.md section A, malformed input."""

import pytest

from regauth.challenge import Challenge, ChallengeSet, ChallengeSyntaxError, parse_challenges

DOCKER_HUB = (
    'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
    'scope="repository:samalba/my-app:pull,push"'
)



def c(scheme, token68=None, **params):
    """Expected challenge shape."""
    return (scheme, params, token68)


def row(fields, *expected, id):
    return pytest.param(fields, list(expected), id=id)


REALM_HUB = "https://auth.docker.io/token"
ECR_REALM = "https://111111111111.dkr.ecr.us-east-1.amazonaws.com/"
ARTIFACTORY_REALM = "https://artifactory.example.com/artifactory/api/docker/docker-local/v2/token"
HARBOR_REALM = "http://harbor-core.default.svc.cluster.local/service/token"
NEXUS_BAD = "https://cdn.example.com, nexus.example.com/v2/token"

PARSES = [
    # --- R2.2.1 ---
    row([DOCKER_HUB], c("Bearer", realm=REALM_HUB, service="registry.docker.io",
                        scope="repository:samalba/my-app:pull,push"), id="R2.2.1-hub"),
    row(['Bearer realm="https://gcr.io/v2/token",service=gcr.io'],
        c("Bearer", realm="https://gcr.io/v2/token", service="gcr.io"), id="R2.2.1-token-value"),
    row(['Bearer realm="https://us-docker.pkg.dev/v2/token"'],
        c("Bearer", realm="https://us-docker.pkg.dev/v2/token"), id="R2.2.1-no-service"),
    row([f'Basic realm="{ECR_REALM}",service="ecr.amazonaws.com"'],
        c("Basic", realm=ECR_REALM, service="ecr.amazonaws.com"), id="R2.2.1-ecr-basic"),
    row(['Basic realm="quay.io", Bearer realm="https://quay.io/v2/auth",service="quay.io"'],
        c("Basic", realm="quay.io"), c("Bearer", realm="https://quay.io/v2/auth", service="quay.io"),
        id="R2.2.1-quay-two"),
    row(['Bearer realm = "x" , service = "y"'], c("Bearer", realm="x", service="y"), id="R2.2.1-bws"),
    row(['bearer REALM="x"'], c("bearer", realm="x"), id="R2.2.1-case"),
    row(['Bearer realm="a\\"b"'], c("Bearer", realm='a"b'), id="R2.2.1-escaped-quote"),
    row(['Bearer realm="x",scope="",service="y"'], c("Bearer", realm="x", scope="", service="y"),
        id="R2.2.1-empty-scope"),
    row(["Negotiate YIIJ==", 'Bearer realm="x"'], c("Negotiate", "YIIJ=="), c("Bearer", realm="x"),
        id="R2.2.1-negotiate-then-bearer"),
    row(['Bearer realm="x",,service="y"'], c("Bearer", realm="x", service="y"), id="R2.2.1-empty-element"),
    row(['Bearer realm="x",error="insufficient_scope",scope="repository:a/b:pull"'],
        c("Bearer", realm="x", error="insufficient_scope", scope="repository:a/b:pull"), id="R2.2.1-error"),
    # --- cases.md section A ---
    row(['Bearer realm="https://auth.example.com/v2/auth",service="registry.example.com",'
         'scope="repository:team1/app1:pull,push"'],
        c("Bearer", realm="https://auth.example.com/v2/auth", service="registry.example.com",
          scope="repository:team1/app1:pull,push"), id="BR-01-comma-in-quotes"),
    row(['Bearer realm="https://registry.example.com/v2/auth",service="registry.example.com",'
         "scope=repository:vendor1/base1:pull"],
        c("Bearer", realm="https://registry.example.com/v2/auth", service="registry.example.com",
          scope="repository:vendor1/base1:pull"), id="BR-03-unquoted-scope"),
    row(['Bearer realm="https://gcr.example.com/v2/token",service=gcr.example.com'],
        c("Bearer", realm="https://gcr.example.com/v2/token", service="gcr.example.com"), id="BR-03-unquoted-service"),
    row(["Basic realm=Registry"], c("Basic", realm="Registry"), id="BR-03-unquoted-realm"),
    row(['Bearer realm="https://registry.example.com/auth", service="registry.example.com", scope=""'],
        c("Bearer", realm="https://registry.example.com/auth", service="registry.example.com", scope=""),
        id="BR-05-spaces"),
    row(['Bearer  realm="https://registry.example.com/auth",  service="registry.example.com"'],
        c("Bearer", realm="https://registry.example.com/auth", service="registry.example.com"),
        id="BR-05-double-spaces"),
    row(['BASIC realm="Example Nexus Repository Manager"'], c("BASIC", realm="Example Nexus Repository Manager"),
        id="BR-06-upper-scheme"),
    row(['Bearer realm="https://nexus.example.com/v2/token",service="https://nexus.example.com/v2/token"'],
        c("Bearer", realm="https://nexus.example.com/v2/token", service="https://nexus.example.com/v2/token"),
        id="BR-07-nexus-bearer"),
    row(['Bearer realm="https://region1-docker.pkg.example.dev/v2/token"'],
        c("Bearer", realm="https://region1-docker.pkg.example.dev/v2/token"), id="BR-08-no-service"),
    row([f'Bearer realm="{ARTIFACTORY_REALM}",service="artifactory.example.com"'],
        c("Bearer", realm=ARTIFACTORY_REALM, service="artifactory.example.com"), id="BR-09-no-scope"),
    row([f'Bearer realm="{NEXUS_BAD}",service="{NEXUS_BAD}"'], c("Bearer", realm=NEXUS_BAD, service=NEXUS_BAD),
        id="BR-11-comma-space-in-realm"),
    row([f'Bearer realm="{HARBOR_REALM}",service="harbor-registry"'],
        c("Bearer", realm=HARBOR_REALM, service="harbor-registry"), id="BR-12-internal-realm"),
    row(['Bearer realm="https://pkg.example.com/token",service="pkg.example.com"'],
        c("Bearer", realm="https://pkg.example.com/token", service="pkg.example.com"), id="BR-15"),
    # --- escapes and values ---
    row(['Bearer realm="a\\\\b"'], c("Bearer", realm="a\\b"), id="escaped-backslash"),
    row(['Bearer realm="a\\xb"'], c("Bearer", realm="axb"), id="quoted-pair-any-char"),
    row(['Bearer realm="tab\there"'], c("Bearer", realm="tab\there"), id="tab-in-quotes"),
    row(['Bearer realm="caf\u00e9"'], c("Bearer", realm="caf\u00e9"), id="obs-text"),
    row(['Bearer realm="HTTPS://Auth.Example.com/Token"'], c("Bearer", realm="HTTPS://Auth.Example.com/Token"),
        id="value-case-kept"),
    row(["Bearer realm=x,service=y"], c("Bearer", realm="x", service="y"), id="all-tokens"),
    row(["Bearer realm=!#$%&'*+-.^_`|~9"], c("Bearer", realm="!#$%&'*+-.^_`|~9"), id="token-all-tchars"),
    row(["Bearer realm=https://auth.example.com/token?a=b,service=reg.example.com"],
        c("Bearer", realm="https://auth.example.com/token?a=b", service="reg.example.com"), id="unquoted-url"),
    row(["Bearer realm=/relative/token"], c("Bearer", realm="/relative/token"), id="unquoted-relative-realm"),
    row(["Bearer realm=x,scope=repository:a/b:pull,push"],  # ambiguous: "push" reads as a bare challenge
        c("Bearer", realm="x", scope="repository:a/b:pull"), c("push"), id="unquoted-comma-is-ambiguous"),
    row(['Bearer realm= "x"'], c("Bearer", realm="x"), id="bws-after-equals"),
    row(['Bearer realm="x",realm="y"'], c("Bearer", realm="y"), id="duplicate-last-wins"),
    row(['Bearer Realm="x",SERVICE="y",ScOpE="z"'], c("Bearer", realm="x", service="y", scope="z"),
        id="mixed-case-names"),
    row(['Bearer scope="repository:a/b:pull repository:c/d:push,pull"'],
        c("Bearer", scope="repository:a/b:pull repository:c/d:push,pull"), id="multi-scope"),
    # --- schemes, token68, several challenges ---
    row(["Basic"], c("Basic"), id="scheme-only"),
    row(["Basic   "], c("Basic"), id="scheme-trailing-space"),
    row(["Basic, Bearer"], c("Basic"), c("Bearer"), id="two-bare-schemes"),
    row(["Negotiate a+b/c~d_e.f-g=="], c("Negotiate", "a+b/c~d_e.f-g=="), id="token68-all-chars"),
    row(["Negotiate abc="], c("Negotiate", "abc="), id="token68-one-pad"),
    row(["Bearer realm="], c("Bearer", "realm="), id="dangling-equals-reads-as-token68"),
    row(['Negotiate abc=, Basic realm="r"'], c("Negotiate", "abc="), c("Basic", realm="r"),
        id="token68-then-challenge"),
    row(['Negotiate, NTLM, Bearer realm="x"'], c("Negotiate"), c("NTLM"), c("Bearer", realm="x"),
        id="three-in-one-field"),
    row(['Bearer realm="x", Basic realm="y", Digest realm="z", nonce="n"'],
        c("Bearer", realm="x"), c("Basic", realm="y"), c("Digest", realm="z", nonce="n"), id="three-with-params"),
    row(['Basic realm="a"', 'Bearer realm="b"', "Negotiate"], c("Basic", realm="a"), c("Bearer", realm="b"),
        c("Negotiate"), id="across-fields"),
    # --- whitespace and empty elements ---
    row([',Bearer realm="x",'], c("Bearer", realm="x"), id="leading-trailing-commas"),
    row(['  Bearer realm="x" , , '], c("Bearer", realm="x"), id="surrounding-ows"),
    row(['Bearer\trealm="x",\tservice="y"'], c("Bearer", realm="x", service="y"), id="tabs"),
    row([""], id="empty-field"),
    row([" , ,"], id="only-separators"),
    row([], id="no-fields"),
]


def _shape(result: ChallengeSet):
    return [(c.scheme, c.params, c.token68) for c in result.challenges]


@pytest.mark.parametrize(("fields", "expected"), PARSES)
def test_parses(fields, expected):
    assert _shape(parse_challenges(fields)) == expected


# fields -> fragment the error message must contain
MALFORMED = [
    pytest.param(['Bearer realm="https://auth.example.com/token'], "unterminated quoted string (value of 'realm') at "
                 "column 14", id="unterminated"),
    pytest.param(['Bearer realm="x\\'], "unterminated quoted string", id="unterminated-after-backslash"),
    pytest.param(['Bearer realm="x"', 'Basic realm="oops'], "at column 13 of field 2", id="names-field"),
    pytest.param(['Bearer realm=ab"c"'], "expected ',' after the value of 'realm', found '\"'", id="quote-in-token"),
    pytest.param(["Bearer realm=\x01"], "unexpected '\\x01' as the value of 'realm'", id="ctl-value"),
    pytest.param(["Bearer realm=a\x7fb"], "found '\\x7f'", id="del-in-token"),
    pytest.param(['realm="x"'], "expected an auth-scheme, found parameter 'realm' at column 1", id="no-scheme"),
    pytest.param(['Bearer realm="x", scope=, service="y"'], "parameter 'scope' has no value", id="empty-token-value"),
    pytest.param(['Bearer realm=,service="y"'], "cannot follow the token68 'realm='", id="dangling-equals"),
    pytest.param(['Bearer realm="x" service="y"'], "expected ',' after the value of 'realm', found 's'",
                 id="missing-comma"),
    pytest.param(['Bearer realm="x";service="y"'], "found ';'", id="semicolon"),
    pytest.param(['Bearer="x"'], "found parameter 'Bearer'", id="scheme-with-equals"),
    pytest.param(['"Bearer" realm="x"'], "expected an auth-scheme token, found '\"'", id="quoted-scheme"),
    pytest.param(['Bearer realm="a\nb"'], "control character '\\n'", id="newline-in-quotes"),
    pytest.param(['Bearer realm="a\x00b"'], "control character", id="nul-in-quotes"),
    pytest.param(["Negotiate abc==def"], "after the Negotiate challenge, found 'd'", id="token68-junk"),
    pytest.param(["Negotiate ab cd"], "after the Negotiate challenge, found 'c'", id="token68-space"),
    pytest.param(["Bearer\x01"], "expected a space after auth-scheme 'Bearer'", id="ctl-after-scheme"),
    pytest.param(["Bearer @"], "expected token68 or auth-param after 'Bearer', found '@'", id="junk-after-scheme"),
    pytest.param(['Bearer realm="x", ="y"'], "expected an auth-scheme token, found '='", id="missing-name"),
]


@pytest.mark.parametrize(("fields", "message"), MALFORMED)
def test_malformed(fields, message):
    with pytest.raises(ChallengeSyntaxError) as info:
        parse_challenges(fields)
    assert message in str(info.value)


def test_syntax_error_is_value_error():
    assert issubclass(ChallengeSyntaxError, ValueError)


def test_properties():
    challenge = parse_challenges([DOCKER_HUB + ',error="insufficient_scope"']).challenges[0]
    assert challenge.kind == "bearer"
    assert challenge.realm == "https://auth.docker.io/token"
    assert challenge.service == "registry.docker.io"
    assert challenge.scope == "repository:samalba/my-app:pull,push"
    assert challenge.error == "insufficient_scope"
    assert challenge.scopes == ["repository:samalba/my-app:pull,push"]


def test_missing_properties_are_none():
    challenge = Challenge("Basic", {})
    assert (challenge.realm, challenge.service, challenge.scope, challenge.error) == (None, None, None, None)
    assert challenge.scopes == []


def test_scopes_split_on_spaces():
    challenge = parse_challenges(['Bearer scope="repository:a:pull  repository:b:push "']).challenges[0]
    assert challenge.scopes == ["repository:a:pull", "repository:b:push"]


@pytest.mark.parametrize(
    ("fields", "preferred"),
    [
        (['Basic realm="a", Bearer realm="b"'], "Bearer"),
        (['Basic realm="a"', 'Bearer realm="b"'], "Bearer"),
        (["Negotiate abc", 'BASIC realm="a"'], "BASIC"),
        (["Negotiate abc", "NTLM"], None),
        ([], None),
    ],
)
def test_preferred(fields, preferred):
    chosen = parse_challenges(fields).preferred()
    assert (chosen.scheme if chosen else None) == preferred


def test_find_is_case_insensitive():
    result = parse_challenges(["Negotiate abc", 'BASIC realm="a"'])
    assert result.find("Basic").realm == "a"
    assert result.find("negotiate").token68 == "abc"
    assert result.find("bearer") is None


# --- quirks (R2.5.1): which reference clients would read the header differently ---

QUIRKS = [
    pytest.param(['Bearer realm = "x" , service = "y"'], ["whitespace around '='", "distribution/ggcr and containerd",
                                                          "lose realm, service"], id="bws"),
    pytest.param(['Bearer realm="x",scope="",service="y"'], ["'scope' is empty", "distribution/ggcr",
                                                             "lose scope, service"], id="empty-value"),
    pytest.param(['Basic realm="quay.io", Bearer realm="https://quay.io/v2/auth"'],
                 ["field 1 carries 2 challenges (Basic, Bearer)", "never see Bearer"], id="two-in-one-field"),
    pytest.param(["Negotiate YIIJ==", 'Bearer realm="x"'], ["oras-go reads only the first challenge of the first",
                                                           "(Negotiate)", "Bearer challenge in field 2"],
                 id="bearer-not-first-field"),
    pytest.param(['Basic realm="a"', 'Bearer realm="b"'],
                 ["oras-go", "(Basic)", "ggcr takes the first of Basic/Bearer"], id="basic-field-before-bearer"),
    pytest.param(['Bearer realm="x",realm="y"'], ["'realm' appears more than once", "last value ('y')"],
                 id="duplicate"),
    pytest.param(["Basic realm=Registry"], ["realm sent unquoted", "senders MUST quote realm"], id="unquoted-realm"),
    pytest.param(['Bearer realm="x",service=gcr.io'], ["service sent unquoted"], id="unquoted-service"),
    pytest.param(['BASIC realm="Nexus"'], ["scheme sent as 'BASIC'", "case-sensitively"], id="upper-scheme"),
    pytest.param(['Bearer REALM="x"'], ["'REALM' is not lower-case", "oras-go looks up 'realm'"], id="upper-name"),
    pytest.param(['Bearer realm="x",,service="y"'], ["empty list element", "lose service"], id="empty-element"),
    pytest.param([' Bearer realm="x"'], ["field 1 starts with whitespace", "ignore the whole field"],
                 id="leading-space"),
    pytest.param([',Bearer realm="x"'], ["field 1 starts with a comma"], id="leading-comma"),
    pytest.param(['Bearer realm="a\\/b"'], ["escapes \\/", "oras-go unquotes with Go string rules"], id="odd-escape"),
    pytest.param(['Bearer realm="x",scope=repository:vendor1/base1:pull,service="y"'],
                 ["'scope' is unquoted but holds ':'", "cut it to 'repository'", "losing service"],
                 id="unquoted-non-token"),
    pytest.param(["Bearer realm=https://auth.example.com/token"], ["cut it to 'https'", "losing nothing else"],
                 id="unquoted-url-realm"),
]


@pytest.mark.parametrize(("fields", "fragments"), QUIRKS)
def test_quirks(fields, fragments):
    quirks = " | ".join(parse_challenges(fields).quirks)
    for fragment in fragments:
        assert fragment in quirks


@pytest.mark.parametrize(
    "fields",
    [
        [DOCKER_HUB],
        ['Bearer realm="https://gcr.example.com/v2/token",service="gcr.example.com"'],
        ['Basic realm="Registry Realm"'],
        ['Bearer realm="x"', 'Basic realm="y"'],  # Bearer first: every client picks it
        ['Bearer realm="a\\"b"'],
        ["Negotiate YIIJ=="],
    ],
)
def test_clean_headers_have_no_quirks(fields):
    assert parse_challenges(fields).quirks == []


def test_quirks_are_not_repeated():
    quirks = parse_challenges(['BASIC realm="a"', 'BASIC realm="b"']).quirks
    assert len(quirks) == len(set(quirks)) == 1
