"""Step `ping`: `GET /v2/` — DNS, TCP, TLS, and whether a v2 registry answers at all."""

from __future__ import annotations

import urllib.request
from email.utils import parsedate_to_datetime

from regauth.context import Check, PingOutcome
from regauth.http import TransportError, host_port
from regauth.report import StepResult

TRANSPORT_FIXES = {
    "dns": "check the host name for typos, your DNS/VPN, and whether the registry needs a private endpoint",
    "refused": "check the port, that the registry is running, and any firewall in between",
    "timeout": "check network reachability and proxies (HTTPS_PROXY/NO_PROXY); raise --timeout if the link is slow",
    "tls-unknown-ca": "pass the registry's CA with --ca-file, or put it in /etc/docker/certs.d/{hp}/ca.crt "
                      "(the directory name must include the port)",
    "tls-hostname": "use the name the certificate was issued for, or reissue the certificate with {host} in its "
                    "subjectAltName",
    "tls-expired": "renew the registry's certificate, or check this machine's clock",
    "tls-on-plain-http": "the server speaks plain HTTP: use --plain-http (and insecure-registries in docker's "
                         "daemon.json), or enable TLS on the registry",
    "tls-failed": "check the TLS configuration of the registry and of any proxy in between",
    "connect-failed": "check the address and network path to the registry",
    "protocol": "the server closed the connection or spoke something other than HTTP: check the port and proxies",
}
KIND_TO_CODE = {"tls-failed": "ping.tls-failed", "protocol": "ping.connect-failed",
                "redirect-downgrade": "ping.connect-failed", "redirect-loop": "ping.connect-failed"}


def transport_failure(check: Check, err: TransportError, step: str, what: str) -> StepResult:
    """Turn a transport error into the step's failure with a specific diagnosis."""
    hp = host_port(err.url)
    host = hp.rsplit(":", 1)[0] if not hp.endswith("]") else hp
    fix = TRANSPORT_FIXES.get(err.kind, TRANSPORT_FIXES["connect-failed"]).format(hp=hp, host=host)
    if step == "ping":
        code = KIND_TO_CODE.get(err.kind, f"ping.{err.kind}")
        message = f"{what} {err.url} failed: {_plain(err.kind)} ({err.detail})"
    else:
        code = "challenge.realm-unreachable"
        message = f"the token realm {err.url} cannot be reached: {_plain(err.kind)} ({err.detail})"
    check.add(code, message, fix)
    result = StepResult(step, "fail", message, details={"error": err.kind, "url": err.url})
    result.http.extend(err.exchanges)
    return result


def _plain(kind: str) -> str:
    return {"dns": "the host name does not resolve", "refused": "connection refused",
            "timeout": "no answer in time", "tls-unknown-ca": "certificate signed by an unknown authority",
            "tls-hostname": "the certificate does not name this host", "tls-expired":
            "the certificate has expired or is not yet valid", "tls-on-plain-http":
            "TLS handshake against a server that speaks plain HTTP"}.get(kind, kind)


def proxy_for(url: str) -> str | None:
    """The proxy httpx would use for this URL, from the environment."""
    proxies = urllib.request.getproxies()
    if not proxies:
        return None
    host = host_port(url).rsplit(":", 1)[0]
    if urllib.request.proxy_bypass_environment(host, proxies):
        return None
    return proxies.get(url.split(":", 1)[0]) or proxies.get("all")


def run(check: Check) -> StepResult:
    url = f"{check.api_base}/v2/"
    with check.shared.lock(("ping", url)):
        outcome = check.shared.cached_ping(url)
        cached = outcome is not None
        if outcome is None:
            check.shared.stats["pings"] += 1
            try:
                outcome = PingOutcome(url, check.http.request("GET", url))
            except TransportError as e:
                outcome = PingOutcome(url, None, e)
            check.shared.store_ping(outcome)
    check.ping = outcome
    if outcome.error is not None:
        err: TransportError = outcome.error
        if err.kind == "tls-on-plain-http" or err.kind == "protocol":
            err.kind = "tls-on-plain-http" if check.api_base.startswith("https") else err.kind
        return transport_failure(check, err, "ping", "GET")
    resp = outcome.response
    assert resp is not None
    facts: list[str] = []
    details = {"url": url, "status": resp.status, "cached": cached,
               "api_version": resp.headers.get("docker-distribution-api-version")}
    proxy = proxy_for(url)
    if proxy:
        details["proxy"] = proxy
        facts.append(f"through proxy {proxy} (from the environment; docker's daemon and kubelet's runtime use "
                     "their own environment)")
        check.add("ping.proxy-in-use", f"requests to {host_port(url)} go through the proxy {proxy}",
                  "make sure the container runtime has the same proxy settings, or add the host to NO_PROXY")
    notes = check.http.tls_notes.get(host_port(url))
    if notes:
        details["tls_files"] = notes
        facts.extend(f"TLS: {n}" for n in notes)
    if resp.headers.get("date"):
        try:
            check.server_date = parsedate_to_datetime(resp.headers["date"]).timestamp()
        except (TypeError, ValueError):
            pass
    summary = f"GET {url} → {resp.status}{' (cached)' if cached else ''}"
    result = StepResult("ping", "ok", summary, details=details, facts=facts)
    if not cached:
        result.http.extend(resp.exchanges)
    if resp.status == 400 and "https" in resp.text.lower() and check.api_base.startswith("http:"):
        check.add("ping.tls-on-plain-http", f"{host_port(url)} speaks HTTPS but regauth used plain HTTP "
                  f"(the server said: {resp.text.strip()[:120]})", "drop --plain-http and use --ca-file if needed")
        result.status = "fail"
        return result
    if resp.status in (200, 401):
        if not details["api_version"]:
            facts.append("no Docker-Distribution-API-Version header (allowed, but unusual for a registry)")
        if resp.status == 200 and not details["api_version"] and "json" not in resp.content_type:
            return _not_registry(check, result, resp, url)
        return result
    if resp.status == 404 or "html" in resp.content_type:
        return _not_registry(check, result, resp, url)
    check.add("ping.unexpected-status", f"GET {url} answered {resp.status}, neither 200 nor 401: "
              f"{resp.text.strip()[:160] or 'empty body'}",
              f"check that {host_port(url)} is the registry's API endpoint and that it is healthy")
    result.status = "fail"
    return result


def _not_registry(check: Check, result: StepResult, resp, url: str) -> StepResult:
    what = "an HTML page" if "html" in resp.content_type else f"status {resp.status}"
    check.add("ping.not-registry", f"GET {url} answered with {what}, not as a v2 registry (no API version "
              "header, no challenge)", f"check host and port: {host_port(url)} looks like a web server or a proxy "
              "without a /v2/ route, not the registry API")
    result.status = "fail"
    return result
