"""Step `reference`: parse the image reference and normalise it the way docker does."""

from __future__ import annotations

import re

from regauth.context import Check
from regauth.errors import InputError
from regauth.report import StepResult
from regauth.shorten import clip, clip_words

FIX = "write it as [REGISTRY[:PORT]/]REPOSITORY[:TAG|@DIGEST] with a lower-case repository path"
MAX_HOST = 253  # characters in a DNS name
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def run(check: Check) -> StepResult:
    from regauth.reference import parse_reference

    try:
        ref = parse_reference(check.input)
        host = ref.registry.rsplit(":", 1)[0] if not ref.registry.endswith("]") else ref.registry
        if len(host) > MAX_HOST:
            raise InputError(f"registry host is {len(host)} characters long; a host name has at most {MAX_HOST}")
    except InputError as e:
        reason = clip_words(str(e))
        scheme = _SCHEME.match(check.input)
        fix = f"drop the scheme: write {clip(check.input[scheme.end():])}" if scheme else FIX
        check.add("reference.invalid", f"'{clip(check.input)}' is not a valid image reference: {reason}", fix)
        return StepResult("reference", "fail", f"invalid reference: {reason}")
    check.ref = ref
    plain = check.options.transport.plain_http
    check.registry = ref.registry
    check.repository = ref.repository
    check.api_base = ref.api_base(plain)
    check.result.target = ref.to_target(plain)
    facts = [f"registry {ref.registry} (API {check.api_base}), repository {ref.repository}, "
             + (f"digest {ref.digest}" if ref.digest else f"tag {ref.tag}")]
    if ref.canonical.split("/")[0] != check.input.split("/")[0] or ref.canonical != check.input:
        facts.append(f"normalised from '{check.input}'")
    if ref.digest and ref.given_tag:
        facts.append(f"tag '{ref.given_tag}' is ignored: the digest wins")
    return StepResult("reference", "ok", ref.canonical, details=ref.to_target(plain), facts=facts)
