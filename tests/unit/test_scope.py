"""Scopes: specs §4 grammar (R4.1.1 split), Appendix B CleanScopes table, grant checks against JWT `access`."""

import pytest

from regauth.scope import Scope, clean_scopes, missing_actions, parse_scope, parse_scopes, repository_scope

PARSES = [
    ("repository:samalba/my-app:pull,push", Scope("repository", "samalba/my-app", ("pull", "push"))),
    ("repository:library/alpine:pull", Scope("repository", "library/alpine", ("pull",))),
    ("repository:reg.io:5000/foo:pull", Scope("repository", "reg.io:5000/foo", ("pull",))),
    ("repository:localhost:5000/a/b/c:push,pull", Scope("repository", "localhost:5000/a/b/c", ("push", "pull"))),
    ("registry:catalog:*", Scope("registry", "catalog", ("*",))),
    ("repository(plugin):vieux/sshfs:pull", Scope("repository(plugin)", "vieux/sshfs", ("pull",))),
    ("repository:foo:", Scope("repository", "foo", ())),
    ("repository:foo:pull,,push", Scope("repository", "foo", ("pull", "push"))),
    ("repository:foo:metadata_read", Scope("repository", "foo", ("metadata_read",))),
    ("repository:foo:*", Scope("repository", "foo", ("*",))),
    ("repository:foo:pull,push,delete", Scope("repository", "foo", ("pull", "push", "delete"))),
]


@pytest.mark.parametrize(("text", "scope"), PARSES)
def test_parse_scope(text, scope):
    assert parse_scope(text) == scope


@pytest.mark.parametrize(
    "text",
    [
        "repository:samalba/my-app:pull,push",
        "repository:reg.io:5000/foo:pull",
        "registry:catalog:*",
        "repository(plugin):vieux/sshfs:pull",
        "repository:foo:",
    ],
)
def test_str_round_trips(text):
    assert str(parse_scope(text)) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected type:name:actions"),
        ("repository", "expected type:name:actions"),
        ("repository:foo", "expected type:name:actions"),
        (":foo:pull", "resource type ''"),
        ("Repository:foo:pull", "resource type 'Repository'"),
        ("repo sitory:foo:pull", "resource type"),
        ("repository(:foo:pull", "resource type"),
        ("repository():foo:pull", "resource type"),
        ("repository::pull", "empty resource name"),
        ("repository:foo bar:pull", "whitespace or control character"),
        ("repository:foo:pull push", "whitespace or control character"),
        ("repository:foo\n:pull", "whitespace or control character"),
    ],
)
def test_parse_scope_rejects_garbage(text, message):
    with pytest.raises(ValueError, match="invalid scope") as info:
        parse_scope(text)
    assert message in str(info.value)


def test_parse_scopes_space_separated():
    assert parse_scopes("repository:a/b:pull  repository:c:push,pull ") == [
        Scope("repository", "a/b", ("pull",)),
        Scope("repository", "c", ("push", "pull")),
    ]
    assert parse_scopes("") == []


def test_parse_scopes_propagates_errors():
    with pytest.raises(ValueError):
        parse_scopes("repository:a:pull garbage")


# Appendix B (oras CleanScopes semantics), plus a few more
CLEAN = [
    (["repository:foo:pull", "repository:foo:push"], ["repository:foo:pull,push"]),
    (["repository:foo:push,pull,pull"], ["repository:foo:pull,push"]),
    (["repository:foo:*", "repository:foo:pull"], ["repository:foo:*"]),
    (["repository:reg.io:5000/foo:pull", "repository:reg.io:5000/foo:push"], ["repository:reg.io:5000/foo:pull,push"]),
    (["registry:catalog:*", "repository:a/b:pull"], ["registry:catalog:*", "repository:a/b:pull"]),
    (["repository:a/b:pull", "registry:catalog:*"], ["registry:catalog:*", "repository:a/b:pull"]),
    (["repository:foo:", "repository:bar:pull"], ["repository:bar:pull"]),
    ([], []),
    (["repository:foo:"], []),
    (["repository:b:pull", "repository:a:push", "repository:b:delete"], ["repository:a:push",
                                                                          "repository:b:delete,pull"]),
    (["repository(plugin):x:pull", "repository:x:push"], ["repository(plugin):x:pull", "repository:x:push"]),
    (["repository:foo:pull,*,push"], ["repository:foo:*"]),
]


@pytest.mark.parametrize(("scopes", "expected"), CLEAN)
def test_clean_scopes(scopes, expected):
    assert [str(s) for s in clean_scopes(parse_scope(s) for s in scopes)] == expected


def test_repository_scope():
    scope = repository_scope("library/alpine", ["pull"])
    assert scope == Scope("repository", "library/alpine", ("pull",))
    assert str(repository_scope("team/app", ("pull", "push"))) == "repository:team/app:pull,push"


WANT = Scope("repository", "team/app", ("pull", "push"))

MISSING = [
    ([{"type": "repository", "name": "team/app", "actions": ["pull", "push"]}], []),
    ([{"type": "repository", "name": "team/app", "actions": ["push", "pull", "delete"]}], []),
    ([{"type": "repository", "name": "team/app", "actions": ["pull"]}], ["push"]),
    ([{"type": "repository", "name": "team/app", "actions": []}], ["pull", "push"]),
    ([], ["pull", "push"]),
    ([{"type": "repository", "name": "team/app", "actions": ["*"]}], []),
    ([{"type": "repository", "name": "team/app", "actions": ["pull"]},
      {"type": "repository", "name": "team/app", "actions": ["push"]}], []),
    ([{"type": "repository", "name": "other/app", "actions": ["*"]}], ["pull", "push"]),
    ([{"type": "registry", "name": "team/app", "actions": ["*"]}], ["pull", "push"]),
    ([{"type": "repository", "name": "team/app", "class": "image", "actions": ["pull", "push"]}], []),
    ([{"type": "repository(plugin)", "name": "team/app", "actions": ["pull", "push"]}], []),
    ([{"type": "repository", "name": "Team/App", "actions": ["pull", "push"]}], ["pull", "push"]),
    ([{"type": "repository", "name": "team/app", "actions": None}], ["pull", "push"]),
    ([{"type": "repository", "name": "team/app"}], ["pull", "push"]),
    (["garbage", None, {"name": "team/app", "actions": ["pull"]}], ["pull", "push"]),
]


@pytest.mark.parametrize(("granted", "missing"), MISSING)
def test_missing_actions(granted, missing):
    assert missing_actions(granted, WANT) == missing


def test_missing_actions_class_on_wanted_is_ignored():
    wanted = Scope("repository(plugin)", "vieux/sshfs", ("pull",))
    assert missing_actions([{"type": "repository", "name": "vieux/sshfs", "actions": ["pull"]}], wanted) == []


def test_missing_actions_keeps_wanted_order_without_duplicates():
    wanted = Scope("repository", "a", ("push", "delete", "pull", "push"))
    assert missing_actions([{"type": "repository", "name": "a", "actions": ["pull"]}], wanted) == ["push", "delete"]


def test_missing_star_needs_star():
    wanted = Scope("registry", "catalog", ("*",))
    assert missing_actions([{"type": "registry", "name": "catalog", "actions": ["pull"]}], wanted) == ["*"]
    assert missing_actions([{"type": "registry", "name": "catalog", "actions": ["*"]}], wanted) == []
