"""Step `manifest`: GET the manifest with every modern media type accepted, and tell registry errors apart."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from urllib.parse import urlsplit

from regauth.context import Check
from regauth.http import BODY_CAP, Auth, Response, TransportError, host_port, origin
from regauth.report import StepResult

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
ACCEPTED = (OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST)
ACCEPT = ", ".join(ACCEPTED)
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
SCHEMA1 = ("application/vnd.docker.distribution.manifest.v1+json",
           "application/vnd.docker.distribution.manifest.v1+prettyjws")
OCI_ARTIFACT = "application/vnd.oci.artifact.manifest.v1+json"
PROBE_TYPES = (*SCHEMA1, OCI_ARTIFACT)
# what distribution's negotiation errors name → the stored media type
NEGOTIATION_WORDS = {"oci index": OCI_INDEX, "oci manifest": OCI_MANIFEST,
                     "schema 2 manifest not supported": DOCKER_MANIFEST, "manifest list": DOCKER_LIST}
_RATE = re.compile(r"^\s*(\d+)\s*(?:;\s*w=(\d+))?")


def registry_errors(resp: Response) -> list[dict]:
    """The `errors` array of a registry error body, or [] when the body is not one."""
    try:
        data = json.loads(resp.body)
    except (ValueError, RecursionError):
        return []
    errors = data.get("errors") if isinstance(data, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def error_summary(resp: Response) -> str:
    errors = registry_errors(resp)
    if errors:
        return "; ".join(f"{e.get('code', 'UNKNOWN')}: {e.get('message', '')}".strip(": ") for e in errors)[:300]
    text = resp.text.strip()
    if "html" in resp.content_type or text.lower().startswith(("<!doctype", "<html")):
        from regauth.steps.ping import describe_body

        return describe_body(resp)
    if text.startswith("<?xml") or "<Error>" in text[:200]:
        code = re.search(r"<Code>(.*?)</Code>", text)
        msg = re.search(r"<Message>(.*?)</Message>", text)
        return f"{code.group(1) if code else 'Error'}: {msg.group(1) if msg else text[:120]}"
    if not text:
        return "empty body" + (" (HEAD has none)" if resp.exchanges and resp.exchanges[-1].method == "HEAD" else "")
    return text[:200].replace("\n", " ") + (f" ({resp.content_type})" if resp.content_type else "")


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
        out["source"] = resp.headers["docker-ratelimit-source"].strip()
    if resp.headers.get("retry-after"):
        out["retry_after"] = resp.headers["retry-after"].strip()
    return out or None


def _rate_text(limits: dict) -> str:
    parts = []
    if "remaining" in limits or "limit" in limits:
        window = f" per {limits['window_s']} s" if "window_s" in limits else ""
        parts.append(f"{limits.get('remaining', '?')} of {limits.get('limit', '?')} pulls left{window}")
    if "source" in limits:
        parts.append(f"counted for source {limits['source']}")
    if "retry_after" in limits:
        parts.append(f"Retry-After {limits['retry_after']}")
    return ", ".join(parts)


def _source_note(source: str | None, identity: str) -> str:
    """What `docker-ratelimit-source` says about who is counted: an account id, an address, or an IPv6 /64."""
    if not source:
        return ""
    try:
        ip = ipaddress.ip_address(source)
    except ValueError:
        return " (an account id: the quota is this account's)"
    if identity != "anonymous":
        return (f" ({source} is an address, not an account: the registry counted this pull as anonymous although "
                f"the credentials of {identity} were sent)")
    if ip.version == 6 and int(ip) & ((1 << 64) - 1) == 0:
        return (f" ({source} is an IPv6 /64 prefix: the anonymous quota is shared with every host in that subnet; "
                "authenticate to use a per-account quota)")
    return f" ({source} is the address the registry saw: the anonymous quota is shared by everything behind it)"


def fetch(check: Check, reference: str, accept: str = ACCEPT, method: str = "GET") -> Response:
    url = f"{check.api_base}/v2/{check.repository}/manifests/{reference}"
    return check.http.request(method, url, headers={"Accept": accept}, auth=check.auths(), cap=BODY_CAP)


def run(check: Check) -> StepResult:
    ref = check.ref
    reference = ref.reference if ref else "latest"
    try:
        resp = fetch(check, reference)
        result = StepResult("manifest", "ok", "", http=list(resp.exchanges))
        resp = _foreign_challenge(check, resp, reference, result)
    except TransportError as e:
        from regauth.steps.ping import transport_failure

        return transport_failure(check, e, "ping", "GET")
    return interpret(check, resp, reference, result, announce=True)


def _identity(check: Check) -> str:
    cred = check.credential
    return "anonymous" if cred is None or cred.anonymous else repr(cred.username or cred.kind)


def _foreign_challenge(check: Check, resp: Response, reference: str, result: StepResult) -> Response:
    """A redirect to another origin that challenges on its own: authenticate there (anonymously), then retry.

    Credentials for this registry never go to the redirect target (as ggcr and containerd ≥ 1.5 do)."""
    from regauth.challenge import ChallengeSyntaxError, parse_challenges
    from regauth.steps.token import _realm_url

    if resp.status != 401 or len(resp.hops) < 2 or origin(resp.url) == origin(check.api_base):
        return resp
    try:
        chosen = parse_challenges(resp.headers.get_list("www-authenticate")).find("bearer")
    except ChallengeSyntaxError:
        return resp
    if chosen is None or not chosen.realm:
        return resp
    target = host_port(resp.url)
    match = re.match(r"^/v2/(.+)/manifests/[^/]+$", urlsplit(resp.url).path)
    scopes = chosen.scopes or ([f"repository:{match.group(1)}:pull"] if match else [])
    params = ([("service", chosen.service)] if chosen.service else []) + [("scope", s) for s in scopes]
    token_resp = check.http.request("GET", _realm_url(chosen.realm, params), trust=check.api_base)
    result.http.extend(token_resp.exchanges)
    value = None
    try:
        data = token_resp.json()
        value = (data.get("access_token") or data.get("token")) if isinstance(data, dict) else None
    except (ValueError, RecursionError):
        pass
    result.facts.append(f"redirected to {target}, which challenged on its own (realm {chosen.realm}"
                        + (f", service {chosen.service}" if chosen.service else "") + f"): anonymous token → "
                        f"{token_resp.status}")
    if token_resp.status != 200 or not isinstance(value, str) or not value:
        return resp
    check.extra_auth.append(Auth.for_url(resp.url, "Bearer", value))
    again = fetch(check, reference)
    result.http.extend(again.exchanges)
    if again.status == 200:
        check.add("manifest.redirect-challenge", f"the manifest request to {host_port(check.api_base)} was "
                  f"redirected to {target}, which issued its own challenge (service {chosen.service or 'none'}): "
                  f"regauth authenticated against the redirect target anonymously, never with the credentials of "
                  f"{host_port(check.api_base)}", "nothing to fix for regauth; clients that do not run the token "
                  "flow for a redirect target (containerd before 1.5, some scripts) fail here with 401")
    return again


def interpret(check: Check, resp: Response, reference: str, result: StepResult, announce: bool = False) -> StepResult:
    limits = rate_limit(resp)
    from regauth.redact import url as redact_url

    details: dict = {"url": redact_url(resp.url, check.options.transport.show_secrets), "status": resp.status,
                     "content_type": resp.content_type}
    result.details = details
    if len(resp.hops) > 1:
        details["hops"] = [h.to_json(check.options.transport.show_secrets) for h in resp.hops]
    if limits:
        details["rate_limit"] = limits
        result.facts.append("rate limit: " + ", ".join(f"{k} {v}" for k, v in limits.items())
                            + f" (counted for {_identity(check)})")
    if resp.status == 200:
        if limits and announce:
            anonymous = _identity(check) == "anonymous"
            source = _source_note(limits.get("source"), _identity(check))
            check.add("manifest.rate-limit", f"rate-limit headers for {_identity(check)}: {_rate_text(limits)}"
                      f"{source}; a manifest GET counts as a pull, a HEAD does not",
                      "authenticate so pulls count against an account instead of the shared address" if anonymous
                      else "nothing to fix; watch the remaining count in CI")
        return _ok(check, resp, reference, result)
    result.status = "fail"
    summary = error_summary(resp)
    codes = [e.get("code") for e in registry_errors(resp)]
    where = f"{check.repository}:{reference}" if not reference.startswith("sha256:") else \
        f"{check.repository}@{reference}"
    if resp.status == 401:
        _unauthorized(check, resp, summary, where)
    elif resp.status == 403 or "DENIED" in codes:
        _denied(check, resp, summary, where)
    elif resp.status == 429 or "TOOMANYREQUESTS" in codes:
        _rate_limited(check, summary, where, limits or {})
    elif resp.status in (404, 406) or (resp.status == 400 and "not supported by client" in summary.lower()):
        recovered = _not_found(check, resp, reference, where, summary, codes, result)
        if recovered is not None:
            return recovered
    else:
        check.add("manifest.unexpected-status", f"GET manifest {where} answered HTTP {resp.status}: {summary}"
                  + (f" (from {host_port(resp.url)})" if len(resp.hops) > 1 else ""),
                  "check the registry's health and logs for this request" if resp.status >= 500 else
                  "check the request the registry refuses (name, tag, proxy rewriting) and the registry's logs")
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
    if check.auth and len(resp.hops) > 1 and not resp.hops[-1].authorization_sent:
        presented += f" (not sent to the redirect target {resp.hops[-1].host})"
    reasons = {"invalid_token": "the registry does not trust the token (signature, issuer, audience or expiry): "
                                "the token service and the registry are configured with different keys or names",
               "insufficient_scope": "the token lacks the pull action on this repository"}
    reason = reasons.get(error or "", "the credentials were not accepted or not received (a proxy may strip "
                                      "Authorization)")
    token_facts = ""
    if error == "invalid_token" and check.token:
        from regauth.steps.jwt import decode

        try:
            decoded = decode(check.token.value)
        except ValueError:
            decoded = None
        if decoded:
            header, claims = decoded
            signer = (f"kid {header['kid']!r}" if "kid" in header else "an x5c chain" if "x5c" in header else
                      "an embedded jwk" if "jwk" in header else "no kid, jwk or x5c in its header (nothing the "
                      "registry can pick a verification key by)")
            token_facts = (f"; the token was signed with {signer} by issuer "
                           f"{claims.get('iss')!r} for aud {claims.get('aud')!r}")
    check.add("manifest.unauthorized", f"GET manifest {where} → 401 with {presented} for {_identity(check)}"
              + (f", error={error}" if error else "") + f": {reason}{token_facts} ({summary})",
              "compare the registry's auth.token settings (issuer, service, rootcertbundle/jwks) with the token "
              "service's signing key and names" if error == "invalid_token" else
              f"check that {_identity(check)} may pull {check.repository}")


def _denied(check: Check, resp: Response, summary: str, where: str) -> None:
    low = summary.lower()
    hint = ""
    fix = ("the identity is known but not allowed: check repository permissions, IP allow-lists, quotas, or an "
           "expired cloud token")
    if "token has expired" in low or "token expired" in low:
        hint = " — the registry says the authorization token has expired (ECR passwords last 12 hours)"
        fix = ("get a fresh password (`aws ecr get-login-password`) and log in again; static pull secrets need a "
               "refresher (CronJob or the kubelet credential provider)")
    elif check.token is not None:
        hint = " — the token service issued a token, but the registry refuses it for this repository"
        fix = ("the token was issued but access is denied by the registry's own policy: check the organisation's "
               "SSO authorisation of the token (GHCR: authorise the PAT for the org, `read:packages`), repository "
               "permissions, or IP allow-lists")
    check.add("manifest.denied", f"the registry denied {_identity(check)} access to {where} (HTTP {resp.status}: "
              f"{summary}){hint}", fix)


def _rate_limited(check: Check, summary: str, where: str, limits: dict) -> None:
    identity = _identity(check)
    note = ""
    fix = "wait (see Retry-After), authenticate so pulls count against an account, or use a mirror"
    if "unauthenticated" in summary.lower():
        if identity == "anonymous":
            note = "; the registry counts this as an unauthenticated pull: no credentials were found for it"
            fix = (f"log in to {check.registry} as the user that runs the pull (sudo and CI runners read another "
                   "config.json), so pulls count against the account's larger quota")
        else:
            note = (f"; the registry counts this as unauthenticated although the credentials of {identity} were "
                    "sent: it did not accept or apply them")
            fix = "check the credentials are valid for this registry host (and the token was really used)"
    check.add("manifest.rate-limited", f"the registry rate-limited {identity} pulling {where} (HTTP 429: "
              f"{summary})" + (f"; {_rate_text(limits)}" if limits else "; no rate-limit headers")
              + ("" if note else _source_note(limits.get("source"), identity)) + note, fix)


def _named_type(summary: str) -> str | None:
    low = summary.lower()
    return next((t for words, t in NEGOTIATION_WORDS.items() if words in low), None)


def _not_found(check: Check, resp: Response, reference: str, where: str, summary: str, codes: list,
               result: StepResult) -> StepResult | None:
    """404/406 and negotiation errors; returns a new result when a legacy schema 1 manifest was fetched instead."""
    lowered = summary.lower()
    negotiation = ("accept header does not support" in lowered or "not supported by client" in lowered
                   or resp.status == 406)
    named = _named_type(summary)
    if negotiation and named in ACCEPTED:
        check.add("manifest.not-acceptable", f"{where} exists as {named}, but the registry says the request did not "
                  f"accept it ({summary}) although regauth's Accept lists it: something between (a proxy or CDN) "
                  "drops or rewrites the Accept header", "fix the proxy so it passes Accept through unchanged; "
                  "this is an Accept-negotiation failure, not a missing tag")
        return None
    if not negotiation:
        exists, tags = _repository_exists(check, result)
        if "NAME_UNKNOWN" in codes or exists is False:
            hidden = ""
            if _identity(check) == "anonymous" and check.ping and check.ping.response is not None \
                    and check.ping.response.status == 401:
                hidden = ("; /v2/ demands authentication and this request was anonymous: registries that hide "
                          "private repositories answer 404 instead of 401, so log in and retry before concluding "
                          "it does not exist")
            check.add("manifest.name-unknown", f"the repository {check.repository} does not exist on "
                      f"{check.registry} (or is invisible to {_identity(check)}){hidden}",
                      ("log in and retry; if it still fails, " if hidden else "")
                      + "check the repository path (case, namespace, 'library/' prefix); it is case-sensitive")
            return None
        if tags and not reference.startswith("sha256:") and reference not in tags:
            _unknown(check, reference, summary, tags)
            return None
    else:
        tags = []
    probe, how = _probe_media_type(check, reference, result)
    stored = probe or named
    if stored in SCHEMA1 and probe:
        again = fetch(check, reference, accept=", ".join((*ACCEPTED, *SCHEMA1)))
        result.http.extend(again.exchanges)
        if again.status == 200:
            fresh = StepResult("manifest", "ok", "", http=result.http, facts=result.facts)
            fresh.facts.append(f"{where} is stored only as {stored}: the registry serves it only when schema 1 is "
                               "accepted explicitly (regauth retried with it)")
            return interpret(check, again, reference, fresh, announce=True)
    if stored:
        artifact = stored == OCI_ARTIFACT or not stored.startswith(("application/vnd.oci.image",
                                                                   "application/vnd.docker"))
        check.add("manifest.not-acceptable", f"{where} exists only as {stored}" + (f" (found {how})" if how else "")
                  + f", a media type the request did not accept (Accept: {ACCEPT})"
                  + (f"; the registry said: {summary}" if negotiation else ""),
                  "this is an artifact, not a runnable image: fetch it with an artifact client (oras), or push the "
                  "image as an OCI image manifest" if artifact else
                  f"use a client that supports {stored}, or re-push the image as OCI or Docker schema 2")
        return None
    if negotiation:
        check.add("manifest.not-acceptable", f"{where} exists, but not in a media type the request accepted "
                  f"({summary})", "upgrade the client, or push the image in a common media type")
        return None
    _unknown(check, reference, summary, tags)
    return None


TAGS_SHOWN = 8


def _unknown(check: Check, reference: str, summary: str, tags: list[str]) -> None:
    """manifest.unknown, with the tags that exist and, for a tag, the ones it was probably meant to be."""
    listed = ", ".join(sorted(tags)[:TAGS_SHOWN]) or "none listed"
    if len(tags) > TAGS_SHOWN:
        listed += f", … ({len(tags)} listed)"
    fix = "check the tag or digest: use one of the existing tags"
    near = [] if reference.startswith("sha256:") else close_tags(reference, tags)
    if near:
        case = any(t.lower() == reference.lower() for t in near)
        fix = f"did you mean {' or '.join(near)}?" + (" (tags are case-sensitive)" if case else "")
    check.add("manifest.unknown", f"the repository {check.repository} exists, but {reference} does not "
              f"({summary}); tags: {listed}", fix)


_LOOKALIKE = str.maketrans("oil", "011")  # O/0 and l/1/I, the classic misreadings


def close_tags(tag: str, tags: list[str]) -> list[str]:
    """Existing tags that `tag` is probably a typo of: the same in another case or with look-alike characters
    (O for 0, l for 1) first, then near spellings."""
    import difflib

    def plain(text: str) -> str:
        return text.lower().translate(_LOOKALIKE)

    same = [t for t in tags if plain(t) == plain(tag)]
    return same[:3] or difflib.get_close_matches(tag, tags, n=3, cutoff=0.6)


def _repository_exists(check: Check, result: StepResult) -> tuple[bool | None, list[str]]:
    """distribution answers a manifest GET on a missing repository with MANIFEST_UNKNOWN: ask the tag list."""
    try:
        resp = check.http.request("GET", f"{check.api_base}/v2/{check.repository}/tags/list?n=50",
                                  auth=check.auths())
    except TransportError:
        return None, []
    result.http.extend(resp.exchanges)
    if resp.status == 404 and "NAME_UNKNOWN" in [e.get("code") for e in registry_errors(resp)]:
        return False, []
    if resp.status == 200:
        try:
            tags = resp.json().get("tags") or []
        except (ValueError, AttributeError, RecursionError):
            tags = []
        if not isinstance(tags, list):
            tags = []
        return True, [t for t in tags if isinstance(t, str)]
    return None, []


def _probe_media_type(check: Check, reference: str, result: StepResult) -> tuple[str | None, str]:
    """Find the stored media type: GET with `*/*`, then HEAD with each type regauth does not accept."""
    try:
        resp = fetch(check, reference, accept="*/*")
        result.http.extend(resp.exchanges)
        if resp.status == 200 and resp.content_type and resp.content_type not in ACCEPTED:
            return resp.content_type, "with Accept: */*"
        for media in PROBE_TYPES:
            resp = fetch(check, reference, accept=media, method="HEAD")
            result.http.extend(resp.exchanges)
            if resp.status == 200:
                return resp.content_type or media, f"with Accept: {media}"
    except TransportError:
        pass
    return None, ""


def _ok(check: Check, resp: Response, reference: str, result: StepResult) -> StepResult:
    details = result.details
    if resp.truncated:
        check.add("manifest.too-large", f"the manifest of {check.repository}:{reference} is larger than "
                  f"{BODY_CAP // (1024 * 1024)} MiB; regauth stops reading there (the OCI distribution spec only asks "
                  "registries to accept manifests up to 4 MiB, and many clients refuse larger ones)",
                  "check what answers at the registry URL (a proxy or CDN sending something else), or push a "
                  "smaller manifest (fewer layers or platforms per index)")
        result.status = "fail"
        result.summary = f"manifest larger than {BODY_CAP // (1024 * 1024)} MiB"
        return result
    try:
        doc = json.loads(resp.body)
    except (ValueError, RecursionError):
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
                  "re-push the image with a current client: containerd 2.1+ and docker 28+ refuse schema 1")
        result.status = "warn"
    elif header_digest and header_digest.startswith("sha256:") and header_digest != digest and not resp.truncated:
        check.add("manifest.digest-mismatch", f"the manifest body hashes to {digest} but Docker-Content-Digest "
                  f"says {header_digest}", "a proxy or mirror rewrote the manifest; pull through a clean path")
        result.status = "fail"
    body_type = check.manifest_json.get("mediaType")
    if body_type and resp.content_type and body_type != resp.content_type:
        kinds = {t: "an index" if t in INDEX_TYPES else "an image manifest" for t in ACCEPTED}
        if {kinds.get(body_type), kinds.get(resp.content_type)} == {"an index", "an image manifest"}:
            # an index labelled as a manifest (or the reverse): containerd, docker and skopeo all refuse it
            check.add("manifest.media-type-mismatch", f"Content-Type {resp.content_type} says "
                      f"{kinds[resp.content_type]} but the manifest's mediaType {body_type} says {kinds[body_type]}: "
                      "containerd, docker and skopeo refuse it", "the registry or a proxy mislabels manifests: fix "
                      "it so Content-Type is the stored media type", severity="error")
            result.status = "fail"
        else:
            check.add("manifest.media-type-mismatch", f"Content-Type {resp.content_type} differs from the manifest's "
                      f"mediaType {body_type}: containerd accepts it, skopeo (containers/image: podman, CRI-O) "
                      "refuses it", "the registry or a proxy mislabels manifests; OCI clients should reject this")
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
