"""Step `ping`: `GET /v2/` — DNS, TCP, TLS, proxies, and whether a v2 registry answers at all."""

from __future__ import annotations

import re
import time
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from regauth.context import Check, PingOutcome
from regauth.http import (Response, TransportError, certs_dir_report, client_offers, host_port, negotiated_tls,
                          peer_certificate, plain_http_answer, proxy_for)
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
    "tls-on-plain-http": "the server speaks plain HTTP: use --plain-http (and add \"{hp}\" to insecure-registries in "
                         "docker's daemon.json on the pulling host), or enable TLS on the registry",
    "tls-client-cert": "put the client certificate and key as /etc/docker/certs.d/{hp}/client.cert and client.key "
                       "(or point --certs-dir at a directory holding {hp}/client.cert and client.key)",
    "tls-failed": "check the TLS configuration of the registry and of any proxy in between",
    "connect-failed": "check the address and network path to the registry",
    "protocol": "the server closed the connection or spoke something other than HTTP: check the port and proxies",
    "reset": "the server, or a proxy or load balancer in between, dropped the connection in the middle of the "
             "response: check their logs and their idle-time and body-size limits",
    "deadline": "the registry or its token service answers too slowly for the whole check to finish: check their load "
                "and the network path, or raise --deadline (default: 4 × --timeout) for a slow link",
    "redirect-loop": "the server redirects in a loop (or more than 10 times): check the redirect rules of the registry "
                     "and of any proxy in front of it (http/https, host names, trailing slashes)",
    "redirect-invalid": "the server redirects to something that is not an http(s) URL: fix the Location it sends "
                        "(behind a proxy, check how it rewrites Location)",
    "redirect-downgrade": "the server redirects from https to http, which registry clients refuse: make the redirect "
                          "stay on https (behind a proxy, check X-Forwarded-Proto)",
}
KIND_TO_CODE = {"tls-failed": "ping.tls-failed", "protocol": "ping.connect-failed",
                "reset": "ping.connection-reset", "deadline": "check.deadline-exceeded",
                "redirect-invalid": "ping.connect-failed",
                "redirect-downgrade": "ping.connect-failed", "redirect-loop": "ping.connect-failed"}
TLS_KINDS = ("tls-hostname", "tls-expired", "tls-unknown-ca")


def _plain(kind: str) -> str:
    return {"dns": "the host name does not resolve", "refused": "connection refused",
            "timeout": "no answer in time", "tls-unknown-ca": "certificate signed by an unknown authority",
            "tls-hostname": "the certificate does not name this host", "tls-expired":
            "the certificate has expired or is not yet valid", "reset":
            "the connection was reset or closed in the middle of the response", "deadline": "the check ran out of time",
            "redirect-loop": "too many redirects", "redirect-downgrade": "redirect from https to http refused",
            "redirect-invalid": "a redirect to an invalid URL",
            "protocol": "the server closed the connection without a complete HTTP answer",
            "tls-failed": "the TLS handshake failed",
            "tls-on-plain-http":
            "TLS handshake against a server that speaks plain HTTP", "tls-client-cert":
            "the server demands a client certificate"}.get(kind, kind)


def _cert_text(cert: dict) -> str:
    names = ", ".join(cert["sans"]) or "none"
    return (f"it presents a certificate for [{names}] (CN {cert['subject_cn'] or 'empty'}), issued by "
            f"'{cert['issuer']}', valid {cert['not_before']} to {cert['not_after']}, from {cert['ip']}")


def explain_transport(check: Check, err: TransportError) -> tuple[str, str, list[str]]:
    """(message detail, fix, facts) for a transport failure: what the server presented, proxies, certs.d."""
    hp = host_port(err.url)
    host = urlsplit(err.url).hostname or hp
    fix = TRANSPORT_FIXES.get(err.kind, TRANSPORT_FIXES["connect-failed"]).format(hp=hp, host=host)
    detail = f"{_plain(err.kind)} ({err.detail})"
    facts: list[str] = []
    proxy = proxy_for(err.url, check.options.transport.show_secrets)
    timeout = check.options.transport.timeout
    if proxy:
        facts.append(f"through the proxy {proxy} (from the environment)")
    if err.kind == "timeout":
        detail = f"no answer from {hp} within {timeout:g} s" + (f" (through the proxy {proxy})" if proxy else "")
    elif err.kind in TLS_KINDS and not proxy:
        cert = peer_certificate(err.url, timeout=min(timeout, 5.0))
        if cert:
            detail += "; " + _cert_text(cert)
            if err.kind == "tls-hostname":
                detail = (f"the certificate does not name {host}: " + _cert_text(cert)
                          + f" ({err.detail})")
                fix = (f"connect with a name the certificate covers, or reissue it with {host} in subjectAltName; if "
                       f"those names are not the registry's at all, something else answers for {host}: check DNS "
                       "and the hosts file, a VPN, or a TLS-intercepting proxy")
            elif err.kind == "tls-expired":
                now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
                detail = (f"the certificate of {hp} is valid {cert['not_before']} to {cert['not_after']} and this "
                          f"machine's clock says {now} (issued by '{cert['issuer']}', CN {cert['subject_cn']}; "
                          f"{err.detail})")
    elif err.kind == "tls-failed" and not proxy:
        offer = negotiated_tls(err.url, timeout=min(timeout, 5.0))
        version, cipher = offer or ("", "")
        if version in ("SSLv3", "TLSv1", "TLSv1.1"):
            detail = (f"{hp} speaks only {version} (a client that allows everything got {version} with {cipher}); "
                      f"regauth, like docker and containerd, requires TLS 1.2 or later ({err.detail})")
            fix = (f"enable TLS 1.2 or 1.3 on {hp}, or on the load balancer or proxy that terminates TLS for it: "
                   "docker and containerd refuse TLS 1.0 and 1.1")
        elif cipher and not client_offers(cipher):
            detail = (f"{hp} accepts {version} only with cipher suites regauth does not offer: a client that allows "
                      f"everything got {cipher}; docker, containerd and regauth offer ECDHE with AES-GCM, "
                      f"ChaCha20-Poly1305 or AES-CBC-SHA ({err.detail})")
            fix = (f"enable an ECDHE suite with AES-GCM or ChaCha20-Poly1305 on {hp}, or on the load balancer or "
                   "proxy that terminates TLS for it")
    elif err.kind == "tls-on-plain-http":
        if proxy and proxy.startswith("https://"):
            answer = plain_http_answer(proxy, timeout=min(timeout, 5.0))
            detail = (f"the proxy {proxy} (from HTTPS_PROXY/https_proxy) is written with https://, so the TLS "
                      f"handshake went to the proxy itself, which speaks plain HTTP"
                      + (f" (it answered '{answer}')" if answer else "") + f" ({err.detail})")
            fix = (f"write the proxy URL as http://{host_port(proxy)}: the registry connection stays TLS, tunnelled "
                   "through the proxy with CONNECT")
        elif not proxy:
            answer = plain_http_answer(err.url, timeout=min(timeout, 5.0))
            if answer:
                detail = (f"{hp} speaks plain HTTP: a plain request got '{answer}', a TLS handshake got "
                          f"{err.detail}")
    if err.kind in ("tls-unknown-ca", "tls-client-cert", "tls-hostname"):
        notes = certs_dir_report(check.http.config.certs_dirs, hp)
        facts.extend(notes)
        if err.kind == "tls-unknown-ca" and any("ignores" in n for n in notes):
            fix = next(n for n in notes if "ignores" in n) + "; " + fix
    if err.kind == "tls-client-cert":
        loaded = [n for n in check.http.tls_notes.get(hp, []) if n.startswith("client cert")]
        detail = (f"{hp} demands a client certificate and "
                  + (f"refused the one sent ({', '.join(loaded)})" if loaded else "none was sent")
                  + f" ({err.detail})")
    return detail, fix, facts


def transport_failure(check: Check, err: TransportError, step: str, what: str) -> StepResult:
    """Turn a transport error into the step's failure with a specific diagnosis."""
    detail, fix, facts = explain_transport(check, err)
    if step == "ping":
        code = KIND_TO_CODE.get(err.kind, f"ping.{err.kind}")
        message = f"{what} {err.url} failed: {detail}"
    else:
        code = "challenge.realm-unreachable"
        message = f"the token realm {err.url} cannot be reached: {detail}"
        fix = (f"the realm comes from the registry's challenge: make the token service at {host_port(err.url)} "
               f"reachable from here, or fix the realm the registry advertises ({fix})")
    if err.kind == "deadline":  # whatever step was running, the check as a whole ran out of time
        code = "check.deadline-exceeded"
    proxy = proxy_for(err.url, check.options.transport.show_secrets)
    if proxy:
        check.add("ping.proxy-in-use", f"requests to {host_port(err.url)} go through the proxy {proxy} (from the "
                  "environment)", "check the proxy, or add the host to NO_PROXY if it should be reached directly")
    check.add(code, message, fix)
    result = StepResult(step, "fail", message, details={"error": err.kind, "url": err.url}, facts=facts)
    result.http.extend(err.exchanges)
    return result


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
    proxy = check.shared.memo(("proxy", url), lambda: proxy_for(url, check.options.transport.show_secrets))
    if proxy:
        details["proxy"] = proxy
        facts.append(f"through proxy {proxy} (from the environment; docker's daemon and kubelet's runtime use "
                     "their own environment)")
        check.add("ping.proxy-in-use", f"requests to {host_port(url)} go through the proxy {proxy} (from the "
                  "environment)", "make sure the container runtime has the same proxy settings (dockerd and "
                  "containerd read their own environment), or add the host to NO_PROXY")
    notes = check.http.tls_notes.get(host_port(url))
    if notes:
        details["tls_files"] = notes
        facts.extend(f"TLS: {n}" for n in notes)
    if resp.headers.get("server"):
        details["server"] = resp.headers["server"]
    if resp.headers.get("date"):
        try:
            check.server_date = parsedate_to_datetime(resp.headers["date"]).timestamp()
        except (TypeError, ValueError):
            pass
    summary = f"GET {url} → {resp.status}{' (cached)' if cached else ''}"
    result = StepResult("ping", "ok", summary, details=details, facts=facts)
    if not cached:
        result.http.extend(resp.exchanges)
    text = resp.text.strip()
    if resp.status == 400 and "https" in text.lower() and check.api_base.startswith("http:"):
        check.add("ping.tls-on-plain-http", f"{host_port(url)} speaks HTTPS but regauth used plain HTTP "
                  f"(--plain-http): the server answered 400 '{text[:120]}'",
                  "drop --plain-http (and pass --ca-file, or use certs.d, if the registry's CA is private)")
        result.status = "fail"
        return result
    if resp.status in (200, 401):
        if not details["api_version"]:
            facts.append("no Docker-Distribution-API-Version header (allowed, but unusual for a registry)")
        if resp.status == 200 and not details["api_version"] and "json" not in resp.content_type:
            return _not_registry(check, result, resp, url, fatal=False)
        return result
    if resp.status == 404 or "html" in resp.content_type:
        return _not_registry(check, result, resp, url)
    body = describe_body(resp)
    hint = ""
    fix = f"check that {host_port(url)} is the registry's API endpoint and that it is healthy"
    if "unsupported docker v2 repository request" in text.lower():
        hint = (" — Artifactory could not map this host/port to a Docker repository (the repository key resolved "
                "to null)")
        fix = ("fix the reverse proxy in front of Artifactory so the subdomain or port maps to the Docker repository "
               "(subdomain / port / repository-path method), or use the repository-path form of the image name")
    check.add("ping.unexpected-status", f"GET {url} answered {resp.status}, neither 200 nor 401: {body}{hint}", fix)
    result.status = "fail"
    return result


def describe_body(resp: Response, limit: int = 160) -> str:
    """A one-line account of a response body: registry error, HTML page (with its title), or the first bytes."""
    from regauth.steps.manifest import registry_errors

    errors = registry_errors(resp)
    if errors:
        return "; ".join(f"{e.get('code') or e.get('status') or 'error'}: {e.get('message', '')}".strip(": ")
                         for e in errors)[:limit]
    text = resp.text.strip()
    if is_html(resp):
        title = re.search(r"<title>(.*?)</title>", text, re.I | re.S)
        return (f"an HTML page ({resp.content_type or 'no Content-Type'}"
                + (f", title '{title.group(1).strip()[:80]}'" if title else "")
                + (f", Server {resp.headers['server']}" if resp.headers.get("server") else "") + ")")
    if not text:
        return f"an empty body ({resp.content_type or 'no Content-Type'})"
    return f"'{text[:limit]}'".replace("\n", " ") + (f" ({resp.content_type})" if resp.content_type else "")


def is_html(resp: Response) -> bool:
    return "html" in resp.content_type or resp.text.lstrip()[:15].lower().startswith(("<!doctype", "<html"))


def _not_registry(check: Check, result: StepResult, resp, url: str, fatal: bool = True) -> StepResult:
    """/v2/ is not a registry's. A 200 is enough for docker, containerd and skopeo to go on, so it is a warning
    and the repository request decides; anything else stops here."""
    what = describe_body(resp) if is_html(resp) else f"status {resp.status} ({describe_body(resp)})"
    check.add("ping.not-registry", f"GET {url} answered {resp.status} with {what}, not as a v2 registry (no API "
              "version header, no challenge)" + ("" if fatal else "; going on to the repository, as other clients "
                                                 "do on a 200"),
              f"check host and port: {host_port(url)} looks like a web server or a proxy without a /v2/ route, not "
              "the registry API", severity=None if fatal else "warning")
    result.status = "fail" if fatal else "warn"
    return result

