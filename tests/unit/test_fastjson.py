"""`fastjson.dumps` writes exactly what `json.dumps(indent=…, default=…)` writes."""

from __future__ import annotations

import enum
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regauth import fastjson


class Colour(str, enum.Enum):
    red = "red"


class Level(enum.IntEnum):
    high = 3


class Opaque:
    def __str__(self) -> str:
        return 'opaque "value"\n'


SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-2**80, max_value=2**80)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text() | st.just(Colour.red) | st.just(Level.high)
           | st.just(Opaque()) | st.just(math.nan) | st.just(-0.0))
KEYS = st.text() | st.integers() | st.floats(allow_nan=True) | st.booleans() | st.none()
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
                      | st.dictionaries(KEYS, inner, max_size=4), max_leaves=30)


@settings(max_examples=500, deadline=None)
@given(VALUES, st.sampled_from([0, 1, 2, 4]))
def test_same_text_as_json(value, indent):
    assert fastjson.dumps(value, indent) == json.dumps(value, indent=indent, default=str)


def test_a_default_that_returns_containers_is_followed():
    def default(obj):
        return {"kind": type(obj).__name__, "items": [1, "two"]}

    value = {"a": Opaque(), "b": [Opaque()]}
    assert fastjson.dumps(value, 2, default) == json.dumps(value, indent=2, default=default)


def test_report_shaped_value():
    value = {"schema": "regauth/v1", "ok": False, "results": [
        {"input": "127.0.0.1:5000/team/app:1.0", "failed_step": None, "steps": [], "diagnoses": [],
         "target": {"digest": None, "port": 5000, "ratio": 0.25, "names": ("a", "b"), "empty": {}, "none": []}}]}
    assert fastjson.dumps(value) == json.dumps(value, indent=2)


def test_keys_json_cannot_write_are_refused_like_json():
    with pytest.raises(TypeError, match="keys must be str, int, float, bool or None, not tuple"):
        fastjson.dumps({(1, 2): "x"})
    with pytest.raises(TypeError):
        json.dumps({(1, 2): "x"})
