"""Step `platform`: pick the requested platform from an index, and fetch that image manifest."""

from __future__ import annotations

import json

from regauth.context import Check
from regauth.http import TransportError
from regauth.report import StepResult
from regauth.steps.manifest import INDEX_TYPES, fetch, interpret


def _platform_of(entry: dict) -> str:
    p = entry.get("platform") or {}
    text = f"{p.get('os', '?')}/{p.get('architecture', '?')}"
    return text + (f"/{p['variant']}" if p.get("variant") else "")


def _matches(entry: dict, wanted: str) -> bool:
    os_, _, rest = wanted.partition("/")
    arch, _, variant = rest.partition("/")
    p = entry.get("platform") or {}
    if p.get("os") != os_ or p.get("architecture") != arch:
        return False
    return not variant or p.get("variant") == variant


def run(check: Check) -> StepResult:
    doc = check.manifest_json or {}
    media = check.manifest.content_type if check.manifest else ""
    if media not in INDEX_TYPES and doc.get("mediaType") not in INDEX_TYPES:
        check.image_manifest = doc
        return StepResult("platform", "skip", "single-platform manifest")
    wanted = check.options.platform
    entries = [m for m in doc.get("manifests") or [] if isinstance(m, dict)]
    available = [_platform_of(m) for m in entries if (m.get("platform") or {}).get("os") != "unknown"]
    chosen = next((m for m in entries if _matches(m, wanted)), None)
    details = {"requested": wanted, "available": available}
    if chosen is None:
        check.add("platform.not-found", f"the index of {check.repository} has no manifest for {wanted}; it has: "
                  f"{', '.join(available) or 'nothing usable'}",
                  f"pull with --platform set to one of: {', '.join(available) or '(none)'}, or publish a "
                  f"{wanted} image")
        return StepResult("platform", "fail", f"{wanted} not in the index", details=details)
    digest = chosen.get("digest", "")
    details["digest"] = digest
    try:
        resp = fetch(check, digest)
    except TransportError as e:
        from regauth.steps.ping import transport_failure

        return transport_failure(check, e, "ping", "GET")
    result = StepResult("platform", "ok", "", http=list(resp.exchanges))
    inner = interpret(check, resp, digest, StepResult("platform", "ok", ""))
    result.facts = inner.facts
    if inner.status == "fail":
        result.status, result.summary = "fail", f"{wanted}: {inner.summary}"
        result.details = {**details, **inner.details}
        return result
    try:
        check.image_manifest = json.loads(resp.body)
    except (ValueError, RecursionError):
        check.image_manifest = {}
    result.details = {**details, **inner.details}
    result.summary = f"{wanted} → {digest[:19]}… (of {len(available)} platforms)"
    return result
