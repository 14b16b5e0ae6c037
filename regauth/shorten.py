"""User input echoed in messages and headings, cut to a readable length (JSON keeps the input itself whole)."""

from __future__ import annotations

import re

#: Characters of user input shown in a message or heading before it is cut with "…": room for any valid reference
#: (a name of at most 255 characters with a 128-character tag, or with a sha512 digest), not for a 5 MB line.
ECHO_LIMIT = 400

_LONG_WORD = re.compile(r"\S{%d,}" % (ECHO_LIMIT + 1))


def clip(text: str, limit: int = ECHO_LIMIT) -> str:
    """`text`, or its first `limit` characters and "…" when it is longer."""
    return text if len(text) <= limit else text[:limit] + "…"


def clip_words(text: str, limit: int = ECHO_LIMIT, total: int = 4 * ECHO_LIMIT) -> str:
    """A message that quotes user input: each overlong run of non-blanks cut to `limit`, then the whole to `total`,
    so the end of a message ("… must be lowercase") survives a long quoted part."""
    return clip(_LONG_WORD.sub(lambda m: clip(m.group(0), limit), text), total)
