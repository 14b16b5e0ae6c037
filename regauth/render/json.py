"""`--output json`: the report exactly as the contract defines it."""

from __future__ import annotations

import json

from regauth.report import Report


def render(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2, default=str)
