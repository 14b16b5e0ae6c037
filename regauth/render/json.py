"""`--output json`: the report exactly as the contract defines it."""

from __future__ import annotations

from typing import Any, Callable, TextIO

from regauth import fastjson
from regauth.report import Report

INDENT = 2


def encode(value: Any) -> str:
    return fastjson.dumps(value, INDENT)


def render(report: Report) -> str:
    return encode(report.to_json())


def write(report: Report, stream: TextIO, encode: Callable[[Any], str] = encode) -> None:
    """`render(report)` and a newline, written one result at a time, each as `encode` gives it (the CLI passes
    one that scrubs secrets): the text of a big batch's report never sits in memory whole."""
    if not report.results:
        stream.write(encode(report.to_json()) + "\n")
        return
    head = encode(report.header())  # '{\n  "schema": …,\n  "ok": true\n}'
    stream.write(head[:-2] + ',\n  "results": [\n')
    nested = "\n" + " " * 2 * INDENT  # JSON text holds no raw newline but between tokens: indenting is safe
    last = len(report.results) - 1
    for i, result in enumerate(report.results):
        stream.write(nested[1:] + encode(result.to_json()).replace("\n", nested) + (",\n" if i < last else "\n"))
    stream.write(" " * INDENT + "]\n}\n")
