"""Turning user input (YAML or JSON, one or many documents, `List`s) into plain objects."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml

from regauth.errors import InputError


@dataclass
class Documents:
    items: list[Any]
    json: bool  # the text was JSON (one or several concatenated values), not YAML


def parse_json(text: str) -> Any:
    """Strict JSON as Go reads it (no NaN/Infinity). Raises ValueError (json.JSONDecodeError) or RecursionError."""
    def reject(name: str) -> Any:
        raise ValueError(f"invalid JSON literal {name}")
    return json.loads(text, parse_constant=reject)


def _json_documents(text: str) -> list[Any] | None:
    """One or more concatenated JSON values (as `kubectl get -o json` of several objects prints), or None."""
    decoder = json.JSONDecoder()
    items, pos = [], 0
    try:
        while True:
            while pos < len(text) and text[pos].isspace():
                pos += 1
            if pos == len(text):
                return items or None
            item, pos = decoder.raw_decode(text, pos)
            items.append(item)
    except (ValueError, RecursionError):
        return None


def parse_documents(text: str, source: str) -> Documents:
    """All documents in `text`; raises InputError when it is neither JSON nor YAML, or holds nothing."""
    items = _json_documents(text)
    if items is not None:
        return Documents(items, json=True)
    try:
        items = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        # Only the position and the parser's complaint: the offending line may hold a password.
        raise InputError(f"{source}: neither JSON nor YAML ({err.problem or 'syntax error'}{where})") from None
    except RecursionError:
        raise InputError(f"{source}: neither JSON nor YAML (nested too deeply)") from None
    except (yaml.YAMLError, ValueError):
        raise InputError(f"{source}: neither JSON nor YAML") from None
    if not items:
        raise InputError(f"{source}: no YAML or JSON document in the input")
    return Documents(items, json=False)


def flatten(items: list[Any]) -> list[Any]:
    """Expand `List` objects (`kind: List` or `…List` with `items`) and bare arrays into their elements."""
    out: list[Any] = []
    stack = list(reversed(items))
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif (isinstance(item, dict) and isinstance(item.get("items"), list) and isinstance(item.get("kind"), str)
              and item["kind"].endswith("List")):
            stack.extend(reversed(item["items"]))
        else:
            out.append(item)
    return out
