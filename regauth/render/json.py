"""`--output json`: the report exactly as the contract defines it."""

from __future__ import annotations

import json
from typing import Any, TextIO

from regauth.report import Report

_FLUSH_EVERY = 8192  # encoder chunks


def render(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2, default=str)


def write(data: dict[str, Any], stream: TextIO) -> None:
    """The report's JSON (`Report.to_json()`, scrubbed by the caller) and a newline, written while it is encoded:
    the text of a big batch's report never sits in memory whole (nor the encoder's hundreds of thousands of pieces
    of it). Same text as `render`."""
    pieces: list[str] = []
    for piece in json.JSONEncoder(indent=2, default=str).iterencode(data):
        pieces.append(piece)
        if len(pieces) >= _FLUSH_EVERY:
            stream.write("".join(pieces))
            pieces.clear()
    pieces.append("\n")
    stream.write("".join(pieces))
