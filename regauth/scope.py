"""Docker token scopes (`repository:team/app:pull,push`, specs §4): parsing, oras-style normalising, grant checks."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_TYPE_RE = re.compile(r"[a-z0-9]+(?:\([a-z0-9]+\))?")
_BAD_CHAR_RE = re.compile(r"[\s\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Scope:
    """One resource scope; `type` may carry a class, as in `repository(plugin)`."""

    type: str
    name: str
    actions: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.type}:{self.name}:{','.join(self.actions)}"


def parse_scope(text: str) -> Scope:
    """Split one scope per R4.1.1: type before the first `:`, actions after the last (names may hold a port)."""
    type_, sep1, rest = text.partition(":")
    name, sep2, actions = rest.rpartition(":")
    if not (sep1 and sep2):
        raise ValueError(f"invalid scope {text!r}: expected type:name:actions")
    if not _TYPE_RE.fullmatch(type_):
        raise ValueError(f"invalid scope {text!r}: resource type {type_!r} must be [a-z0-9]+ with an optional (class)")
    if not name:
        raise ValueError(f"invalid scope {text!r}: empty resource name")
    if _BAD_CHAR_RE.search(text):
        raise ValueError(f"invalid scope {text!r}: whitespace or control character inside a scope")
    return Scope(type_, name, tuple(a for a in actions.split(",") if a))


def parse_scopes(text: str) -> list[Scope]:
    """Parse a space-separated scope list, as in a challenge's `scope` parameter."""
    return [parse_scope(part) for part in text.split(" ") if part]


def clean_scopes(scopes: Iterable[Scope]) -> list[Scope]:
    """oras `CleanScopes`: merge actions per (type, name), dedupe and sort them, `*` absorbs the rest, drop scopes
    without actions, sort the result (Appendix B)."""
    merged: dict[tuple[str, str], set[str]] = {}
    for scope in scopes:
        merged.setdefault((scope.type, scope.name), set()).update(a for a in scope.actions if a)
    result = [
        Scope(type_, name, ("*",) if "*" in actions else tuple(sorted(actions)))
        for (type_, name), actions in merged.items()
        if actions
    ]
    return sorted(result, key=str)


def repository_scope(repository: str, actions: Iterable[str]) -> Scope:
    """The scope a client requests for a repository, e.g. `repository:library/alpine:pull`."""
    return Scope("repository", repository, tuple(actions))


def missing_actions(granted: list[dict], wanted: Scope) -> list[str]:
    """Actions of `wanted` that the JWT `access` claim does not grant, in `wanted` order.

    Resource classes are ignored (distribution v3 treats `repository(plugin)` as `repository`); `*` grants all.
    """
    have: set[str] = set()
    for entry in granted:
        if not isinstance(entry, dict) or entry.get("name") != wanted.name:
            continue
        if _base_type(str(entry.get("type", ""))) != _base_type(wanted.type):
            continue
        actions = entry.get("actions")
        if isinstance(actions, list):
            have.update(a for a in actions if isinstance(a, str))
    if "*" in have:
        return []
    return [a for a in dict.fromkeys(wanted.actions) if a not in have]


def _base_type(resource_type: str) -> str:
    return resource_type.partition("(")[0]
