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


def test_the_fix_says_tags_are_case_sensitive_only_for_a_case_difference():
    from regauth.steps import manifest

    class FakeCheck:  # `_unknown` only reads the repository and calls add()
        repository = "team/app"

        def __init__(self):
            self.added = []

        def add(self, code, message, fix):
            self.added.append((code, message, fix))

    for typed, fix in (("LATEST", "did you mean latest? (tags are case-sensitive)"), ("t0OO", "did you mean t000?")):
        check = FakeCheck()
        manifest._unknown(check, typed, "MANIFEST_UNKNOWN", TAGS)
        assert check.added[0][2] == fix
        assert "tags: 1.0, 1.0.1, Latest-dev, latest, stable, t000, t001, t002, … (16 listed)" in check.added[0][1]
