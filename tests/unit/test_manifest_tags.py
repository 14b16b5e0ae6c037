"""Which existing tags a missing tag was probably meant to be (manifest.unknown's fix)."""

from __future__ import annotations

import pytest

from regauth.steps.manifest import close_tags

TAGS = [f"t00{i}" for i in range(10)] + ["latest", "1.0", "1.0.1", "v2.3.4", "Latest-dev", "stable"]


@pytest.mark.parametrize("typed, meant", [
    ("t0OO", ["t000"]),  # O for 0
    ("l.0", ["1.0"]),  # l for 1
    ("LATEST", ["latest"]),  # case: tags are case-sensitive
    ("lastest", ["latest"]),
    ("stabel", ["stable"]),
    ("1.0.2", ["1.0.1", "1.0"]),
    ("v2.3", ["v2.3.4"]),
    ("zzz", []),
    ("", []),
])
def test_close_tags(typed, meant):
    assert close_tags(typed, TAGS) == meant


def test_no_tags_no_suggestion():
    assert close_tags("latest", []) == []
