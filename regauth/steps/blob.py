"""Step `blob`: HEAD the config blob, following redirects to storage without ever forwarding Authorization."""

from __future__ import annotations

from regauth.context import Check
from regauth.http import TransportError, host_port
from regauth.report import StepResult
from regauth.steps.manifest import error_summary


def run(check: Check) -> StepResult:
    config = (check.image_manifest or {}).get("config") or {}
    digest = config.get("digest")
    if not isinstance(digest, str):
        return StepResult("blob", "skip", "the manifest names no config blob")
    url = f"{check.api_base}/v2/{check.repository}/blobs/{digest}"
    try:
        resp = check.http.request("HEAD", url, auth=check.auth)
        if resp.status in (401, 403, 404) and len(resp.hops) == 1:
            resp = check.http.request("GET", url, auth=check.auth, cap=64 * 1024)  # HEAD has no error body
    except TransportError as e:
        result = StepResult("blob", "fail", f"blob request failed: {e.detail}", http=list(e.exchanges))
        check.add("blob.unexpected-status", f"fetching config blob {digest[:19]}… failed: {e.kind} ({e.detail})",
                  f"check that the storage host {host_port(e.url)} is reachable from here")
        return result
    hops = [h.to_json(check.options.transport.show_secrets) for h in resp.hops]
    result = StepResult("blob", "ok", "", details={"digest": digest, "hops": hops}, http=list(resp.exchanges))
    for hop in resp.hops:
        result.facts.append(f"{hop.status} from {hop.host} (Authorization {'sent' if hop.authorization_sent else 'not sent'}"
                            + (", presigned URL" if hop.presigned else "") + ")")
    redirected = len(resp.hops) > 1
    final = resp.hops[-1]
    if resp.status in (200, 206):
        result.summary = f"config blob {digest[:19]}… available" + (
            f" via {final.host}" if redirected else "")
        return result
    result.status = "fail"
    summary = error_summary(resp) if resp.body else f"HTTP {resp.status}"
    if redirected and final.host != resp.hops[0].host:
        check.add("blob.redirect-rejected", f"the storage host {final.host} refused the redirected blob request "
                  f"(HTTP {resp.status}: {summary}); Authorization was "
                  f"{'sent' if final.authorization_sent else 'not sent'}"
                  + (", and the URL is presigned" if final.presigned else ""),
                  "check the storage's presign expiry and clock, and that nothing between forwards Authorization "
                  "to it" if final.presigned else "check access from this network to the storage host")
    elif resp.status == 404:
        check.add("blob.unknown", f"the config blob {digest} named by the manifest is missing from "
                  f"{check.repository} ({summary})", "re-push the image: the push was partial or the blob was "
                  "garbage-collected")
    elif resp.status in (401, 403):
        check.add("blob.denied", f"the registry refused the config blob {digest[:19]}… of {check.repository} "
                  f"(HTTP {resp.status}: {summary})", "the token allows the manifest but not the blob: check "
                  "repository permissions and cross-repository mounts")
    else:
        check.add("blob.unexpected-status", f"the config blob {digest[:19]}… answered HTTP {resp.status}: {summary}",
                  "check the registry and its storage backend")
    result.summary = f"config blob → {resp.status}"
    return result
