"""Step `manifest`: GET the manifest with every modern media type accepted, and tell registry errors apart."""

from __future__ import annotations

import hashlib
import json
import re

from regauth.context import Check
from regauth.http import BODY_CAP, Response, TransportError
from regauth.report import StepResult

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
SCHEMA1 = ("application/vnd.docker.distribution.manifest.v1+json",
           "application/vnd.docker.distribution.manifest.v1+prettyjws")
_RATE = re.compile(r"^\s*(\d+)\s*(?:;\s*w=(\d+))?")


def registry_errors(resp: Response) -> list[dict]:
    """The `errors` array of a registry error body, or [] when the body is not one."""
    try:
        data = json.loads(resp.body)
    except ValueError:
        return []
    errors = data.get("errors") if isinstance(data, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def error_summary(resp: Response) -> str:
    errors = registry_errors(resp)
    if errors:
        return "; ".join(f"{e.get('code', 'UNKNOWN')}: {e.get('message', '')}".strip(": ") for e in errors)[:300]
    text = resp.text.strip()
    if "html" in resp.content_type or text.lower().startswith(("<!doctype", "<html")):
        return "an HTML page"
    return text[:200].replace("\n", " ") or "empty body"


def rate_limit(resp: Response) -> dict | None:
    """Docker Hub style rate-limit headers, parsed (R1.7.1)."""
    out: dict = {}
    for name in ("ratelimit-limit", "ratelimit-remaining"):
        match = _RATE.match(resp.headers.get(name, ""))
        if match:
            out[name.split("-")[1]] = int(match.group(1))
            if match.group(2):
                out["window_s"] = int(match.group(2))
    if resp.headers.get("docker-ratelimit-source"):
        out["source"] = resp.headers["docker-ratelimit-source"]
    if resp.headers.get("retry-after"):
        out["retry_after"] = resp.headers["retry-after"]
    return out or None


def fetch(check: Check, reference: str, accept: str = ACCEPT) -> Response:
    url = f"{check.api_base}/v2/{check.repository}/manifests/{reference}"
    return check.http.request("GET", url, headers={"Accept": accept}, auth=check.auth, cap=BODY_CAP)


def run(check: Check) -> StepResult:
    ref = check.ref
    reference = ref.reference if ref else "latest"
    try:
        resp = fetch(check, reference)
    except TransportError as e:
        from regauth.steps.ping import transport_failure

        return transport_failure(check, e, "ping", "GET")
    result = StepResult("manifest", "ok", "", http=list(resp.exchanges))
    return interpret(check, resp, reference, result)


def _identity(check: Check) -> str:
    cred = check.credential
    return "anonymous" if cred is None or cred.anonymous else repr(cred.username or cred.kind)


def interpret(check: Check, resp: Response, reference: str, result: StepResult) -> StepResult:
    limits = rate_limit(resp)
    details: dict = {"url": resp.url, "status": resp.status, "content_type": resp.content_type}
    result.details = details
    if limits:
        details["rate_limit"] = limits
        result.facts.append("rate limit: " + ", ".join(f"{k} {v}" for k, v in limits.items())
                            + f" (counted for {_identity(check)})")
    if resp.status == 200:
        return _ok(check, resp, reference, result)
    result.status = "fail"
    summary = error_summary(resp)
    codes = [e.get("code") for e in registry_errors(resp)]
    where = f"{check.repository}:{reference}" if not reference.startswith("sha256:") else \
        f"{check.repository}@{reference}"
    if resp.status == 401:
        _unauthorized(check, resp, summary, where)
    elif resp.status == 403 or "DENIED" in codes:
        check.add("manifest.denied", f"the registry denied {_identity(check)} access to {where} (HTTP "
                  f"{resp.status}: {summary})", "the identity is known but not allowed: check repository "
                  "permissions, IP allow-lists, quotas, or an expired cloud token")
    elif resp.status == 429 or "TOOMANYREQUESTS" in codes:
        extra = f"; limit {limits}" if limits else ""
        check.add("manifest.rate-limited", f"the registry rate-limited {_identity(check)} pulling {where} "
                  f"(HTTP {resp.status}: {summary}{extra})",
                  "wait (see Retry-After), authenticate so pulls count against an account, or use a mirror")
    elif resp.status == 404:
        _not_found(check, resp, reference, where, summary, codes, result)
    else:
        check.add("manifest.unexpected-status", f"GET manifest {where} answered HTTP {resp.status}: {summary}",
                  "check the registry's health and logs for this request")
    result.summary = f"GET {where} → {resp.status} ({summary[:80]})"
    return result


def _unauthorized(check: Check, resp: Response, summary: str, where: str) -> None:
    from regauth.challenge import ChallengeSyntaxError, parse_challenges

    error = None
    try:
        parsed = parse_challenges(resp.headers.get_list("www-authenticate"))
        chosen = parsed.preferred()
        error = chosen.error if chosen else None
    except ChallengeSyntaxError:
        pass
    presented = "a Bearer token" if check.auth and check.auth.scheme == "Bearer" else \
        "Basic credentials" if check.auth else "no credentials"
    reasons = {"invalid_token": "the registry does not trust the token (signature, issuer, audience or expiry): "
                                "the token service and the registry are configured with different keys or names",
               "insufficient_scope": "the token lacks the pull action on this repository"}
    reason = reasons.get(error or "", "the credentials were not accepted or not received (a proxy may strip "
                                      "Authorization)")
    check.add("manifest.unauthorized", f"GET manifest {where} → 401 with {presented}"
              + (f", error={error}" if error else "") + f": {reason} ({summary})",
              "compare the registry's auth.token settings (issuer, service, rootcertbundle) with the token "
              "service" if error == "invalid_token" else
              f"check that {_identity(check)} may pull {check.repository}")


def _not_found(check: Check, resp: Response, reference: str, where: str, summary: str, codes: list,
               result: StepResult) -> None:
    lowered = summary.lower()
    if "accept header does not support" in lowered or "not supported by client" in lowered:
        check.add("manifest.not-acceptable", f"{where} exists but in a media type the request did not accept "
                  f"({summary})", "upgrade the client, or push the image in a common media type")
        return
    exists, tags = _repository_exists(check, result)
    if "NAME_UNKNOWN" in codes or exists is False:
        check.add("manifest.name-unknown", f"the repository {check.repository} does not exist on "
                  f"{check.registry} (or is invisible to {_identity(check)})",
                  f"check the repository path (case, namespace, 'library/' prefix); it is case-sensitive")
        return
    probe = _probe_media_type(check, reference, result)
    if probe:
        check.add("manifest.not-acceptable", f"{where} exists only as {probe}, a media type the request did not "
                  "accept", f"use a client that supports {probe}, or re-push the image as OCI or Docker schema 2")
        return
    near = ", ".join(tags[:8]) if tags else "none listed"
    check.add("manifest.unknown", f"the repository {check.repository} exists, but {reference} does not "
              f"({summary}); tags: {near}", f"check the tag or digest: use one of the existing tags")


def _repository_exists(check: Check, result: StepResult) -> tuple[bool | None, list[str]]:
    """distribution answers a manifest GET on a missing repository with MANIFEST_UNKNOWN: ask the tag list."""
    try:
        resp = check.http.request("GET", f"{check.api_base}/v2/{check.repository}/tags/list?n=50", auth=check.auth)
    except TransportError:
        return None, []
    result.http.extend(resp.exchanges)
    if resp.status == 404 and "NAME_UNKNOWN" in [e.get("code") for e in registry_errors(resp)]:
        return False, []
    if resp.status == 200:
        try:
            tags = resp.json().get("tags") or []
        except (ValueError, AttributeError):
            tags = []
        return True, [t for t in tags if isinstance(t, str)]
    return None, []


def _probe_media_type(check: Check, reference: str, result: StepResult) -> str | None:
    try:
        resp = fetch(check, reference, accept="*/*")
    except TransportError:
        return None
    result.http.extend(resp.exchanges)
    if resp.status == 200 and resp.content_type and resp.content_type not in ACCEPT:
        return resp.content_type
    return None


def _ok(check: Check, resp: Response, reference: str, result: StepResult) -> StepResult:
    details = result.details
    try:
        doc = json.loads(resp.body)
    except ValueError:
        check.add("manifest.unexpected-status", f"the manifest of {check.repository}:{reference} is not JSON",
                  "check what answers at the registry URL (proxy, CDN)")
        result.status = "fail"
        result.summary = "200 but the body is not JSON"
        return result
    media = resp.content_type or (doc.get("mediaType") if isinstance(doc, dict) else "") or ""
    digest = "sha256:" + hashlib.sha256(resp.body).hexdigest()
    header_digest = resp.headers.get("docker-content-digest")
    details.update({"media_type": media, "digest": digest, "size": len(resp.body),
                    "docker_content_digest": header_digest})
    check.manifest = resp
    check.manifest_json = doc if isinstance(doc, dict) else {}
    if media in SCHEMA1:
        check.add("manifest.schema1", f"{check.repository}:{reference} is a legacy schema 1 image ({media})",
                  "re-push the image with a current client: containerd 2.1+ refuses schema 1")
        result.status = "warn"
    elif header_digest and header_digest.startswith("sha256:") and header_digest != digest and not resp.truncated:
        check.add("manifest.digest-mismatch", f"the manifest body hashes to {digest} but Docker-Content-Digest "
                  f"says {header_digest}", "a proxy or mirror rewrote the manifest; pull through a clean path")
        result.status = "fail"
    body_type = check.manifest_json.get("mediaType")
    if body_type and resp.content_type and body_type != resp.content_type:
        check.add("manifest.media-type-mismatch", f"Content-Type {resp.content_type} differs from the manifest's "
                  f"mediaType {body_type}", "the registry or a proxy mislabels manifests; OCI clients should "
                  "reject this")
        if result.status == "ok":
            result.status = "warn"
    if reference.startswith("sha256:") and digest != reference and media not in SCHEMA1:
        check.add("manifest.digest-mismatch", f"asked for {reference}, got content hashing to {digest}",
                  "a proxy or mirror serves different content for this digest")
        result.status = "fail"
    kind = "index" if media in INDEX_TYPES else "manifest"
    result.summary = f"{kind} {media} ({len(resp.body)} bytes, {digest[:19]}…)"
    for warning in resp.headers.get_list("warning"):
        result.facts.append(f"registry warning: {warning}")
    return result
