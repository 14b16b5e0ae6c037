"""Step `blob`: HEAD the config blob, following redirects to storage without ever forwarding Authorization."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

from regauth.context import Check
from regauth.http import Response, TransportError, host_port
from regauth.report import StepResult
from regauth.steps.manifest import error_summary


def _request(check: Check, url: str) -> Response:
    resp = check.http.request("HEAD", url, auth=check.auths())
    if resp.status >= 400:
        resp = check.http.request("GET", url, auth=check.auths(), cap=64 * 1024)  # HEAD has no error body
    return resp


def _challenge_error(resp: Response) -> str | None:
    from regauth.challenge import ChallengeSyntaxError, parse_challenges

    try:
        chosen = parse_challenges(resp.headers.get_list("www-authenticate")).preferred()
    except ChallengeSyntaxError:
        return None
    return chosen.error if chosen else None


def _expired_by(check: Check, resp: Response) -> tuple[float, str] | None:
    """(seconds, basis) the bearer token is past its expiry at the time of `resp`, or None."""
    token = check.token
    if token is None or token.method == "configured":
        return None
    from regauth.steps.jwt import decode

    try:
        decoded = decode(token.value)
    except ValueError:
        decoded = None
    exp = decoded[1].get("exp") if decoded else None
    expires = exp if isinstance(exp, (int, float)) else token.expires_at
    try:
        now, basis = parsedate_to_datetime(resp.headers["date"]).timestamp(), "the registry's Date"
    except (KeyError, TypeError, ValueError):
        now, basis = time.time(), "the local clock"
    return (now - expires, basis) if now > expires else None


def run(check: Check) -> StepResult:
    config = (check.image_manifest or {}).get("config") or {}
    digest = config.get("digest")
    if not isinstance(digest, str):
        return StepResult("blob", "skip", "the manifest names no config blob")
    url = f"{check.api_base}/v2/{check.repository}/blobs/{digest}"
    result = StepResult("blob", "ok", "", details={"digest": digest})
    try:
        resp = _request(check, url)
        result.http.extend(resp.exchanges)
        expired = _expired_by(check, resp) if resp.status == 401 else None
        if expired is not None:
            resp = _refresh_and_retry(check, url, resp, expired, result)
    except TransportError as e:
        from regauth.steps.ping import explain_transport

        detail, fix, facts = explain_transport(check, e)
        result.status, result.summary = "fail", f"blob request failed: {e.detail}"
        result.http.extend(e.exchanges)
        result.facts.extend(facts)
        redirected = host_port(e.url) != host_port(url)
        if redirected and e.kind in ("tls-unknown-ca", "tls-hostname", "tls-expired"):
            fix = (f"redirect targets are verified with the registry's trust (system roots, --ca-file and "
                   f"certs.d/{host_port(url)}/), as docker, containerd and skopeo do: put the CA of "
                   f"{host_port(e.url)} in certs.d/{host_port(url)}/ or the system store; a certs.d/"
                   f"{host_port(e.url)}/ directory of its own is not consulted for a redirect")
        check.add("blob.unexpected-status", f"fetching config blob {digest[:19]}… failed at "
                  f"{'the redirect target ' if redirected else ''}{host_port(e.url)}: {detail}",
                  fix if not redirected else f"{fix} (the storage host {host_port(e.url)} needs its own network "
                  "path too: proxy, firewall, CDN allow-list)")
        return result
    hops = [h.to_json(check.options.transport.show_secrets) for h in resp.hops]
    result.details["hops"] = hops
    registry_trust = check.http.tls_notes.get(host_port(url))
    for hop in resp.hops:
        trust = ""
        if hop.url.startswith("https") and hop.host != host_port(url):
            trust = "; TLS verified with the registry's trust: system roots" + (
                f", {', '.join(registry_trust)}" if registry_trust else "")
        result.facts.append(f"{hop.status} from {hop.host} (Authorization "
                            f"{'sent' if hop.authorization_sent else 'not sent'}"
                            + (", presigned URL" if hop.presigned else "") + trust + ")")
    redirected = len(resp.hops) > 1
    final = resp.hops[-1]
    if resp.status in (200, 206):
        result.summary = f"config blob {digest[:19]}… available" + (
            f" via {final.host}" if redirected else "")
        if redirected and final.host != resp.hops[0].host:
            result.facts.append(f"redirected to another host ({final.host}"
                                + (", presigned URL" if final.presigned else "") + "): regauth never sends "
                                "Authorization there; storage such as S3 answers 400 'Only one auth mechanism "
                                "allowed' to clients that do")
        return result
    result.status = "fail"
    summary = error_summary(resp) if resp.body else f"HTTP {resp.status}"
    if redirected and final.host != resp.hops[0].host:
        chain = " → ".join(f"{h.host} ({h.status})" for h in resp.hops)
        why = ""
        if "only one auth mechanism" in summary.lower():
            why = (": the storage got both a presigned URL and an Authorization header" if final.authorization_sent
                   else ": the storage says it got an Authorization header, which regauth did not send — a proxy "
                        "in between adds it")
        elif "expired" in summary.lower():
            why = ": the presigned URL has expired (check the clocks of the registry and of this machine)"
        check.add("blob.redirect-rejected", f"the storage host {final.host} refused the redirected blob request "
                  f"(HTTP {resp.status}: {summary}){why}; Authorization was "
                  f"{'sent' if final.authorization_sent else 'not sent'} to it"
                  + (", and the URL is presigned" if final.presigned else "") + f"; chain: {chain}",
                  "check the storage's presign expiry and clock, and that nothing between forwards Authorization "
                  "to it" if final.presigned else "check access from this network to the storage host (proxy, "
                  "firewall, CDN allow-list)")
    elif resp.status == 404:
        check.add("blob.unknown", f"the config blob {digest} named by the manifest is missing from "
                  f"{check.repository} ({summary})", "re-push the image: the push was partial or the blob was "
                  "garbage-collected")
    elif resp.status in (401, 403):
        error = _challenge_error(resp)
        identity = "anonymous" if check.credential is None or check.credential.anonymous else \
            repr(check.credential.username)
        check.add("blob.denied", f"the registry refused the config blob {digest[:19]}… of {check.repository} to "
                  f"{identity} (HTTP {resp.status}" + (f", error={error}" if error else "") + f": {summary}) "
                  "although the manifest was served", "the token allows the manifest but not the blob: check "
                  "repository permissions, cross-repository mounts, and per-blob policies (e.g. quarantine)")
    else:
        check.add("blob.unexpected-status", f"the config blob {digest[:19]}… answered HTTP {resp.status}: {summary}",
                  "check the registry and its storage backend")
    result.summary = f"config blob → {resp.status}"
    return result


def _refresh_and_retry(check: Check, url: str, resp: Response, expired: tuple[float, str],
                       result: StepResult) -> Response:
    """A 401 with an expired token: fetch a new token once and retry (R3.7.1), and say what happened."""
    from regauth.steps import token as token_step

    seconds, basis = expired
    error = _challenge_error(resp)
    fresh = token_step.refresh(check, result)
    if fresh is None:
        result.facts.append(f"the token expired {seconds:.0f} s ago by {basis}; getting a new one failed")
        return resp
    again = _request(check, url)
    result.http.extend(again.exchanges)
    outcome = f"the retry with a new token got {again.status}"
    if again.status in (200, 206):
        check.add("blob.token-expired", "the blob request got 401" + (f" error={error}" if error else "")
                  + f": the token had expired {seconds:.0f} s earlier by {basis}; {outcome} — clients that reuse "
                  "one token for a whole pull fail mid-transfer", "nothing to fix for regauth; clients must "
                  "re-run the token request when the token's expires_in/exp has passed (and on 401), then retry")
    else:
        result.facts.append(f"the token had expired {seconds:.0f} s earlier by {basis}; {outcome}")
    return again
