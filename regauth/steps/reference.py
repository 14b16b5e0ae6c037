"""Step `reference`: parse the image reference and normalise it the way docker does."""

from __future__ import annotations

from regauth.context import Check
from regauth.errors import InputError
from regauth.report import StepResult


def run(check: Check) -> StepResult:
    from regauth.reference import parse_reference

    try:
        ref = parse_reference(check.input)
    except InputError as e:
        check.add("reference.invalid", f"'{check.input}' is not a valid image reference: {e}",
                  "write it as [REGISTRY[:PORT]/]REPOSITORY[:TAG|@DIGEST] with a lower-case repository path")
        return StepResult("reference", "fail", f"invalid reference: {e}")
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
