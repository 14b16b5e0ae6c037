"""Step `challenge`: read `WWW-Authenticate`, pick the scheme, and check the realm is sane."""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

from regauth.context import Check
from regauth.http import Auth, Response, TransportError, host_port
from regauth.report import StepResult


def basic_auth(check: Check, url: str) -> Auth | None:
    cred = check.credential
    if cred is None or not cred.username or not cred.password:
        return None
    raw = f"{cred.username}:{cred.password.reveal()}".encode()
    return Auth.for_url(url, "Basic", base64.b64encode(raw).decode())


def run(check: Check, resp: Response | None = None) -> StepResult:
    """Parse the 401 from the ping (or from a resource, when /v2/ was open) and prepare authentication."""
    from regauth.challenge import ChallengeSyntaxError, parse_challenges

    resp = resp or (check.ping.response if check.ping else None)
    if resp is None or resp.status != 401:
        check.auth = _registry_token_auth(check)
        return StepResult("challenge", "skip", "/v2/ answered 200: no authentication asked for at the base route")
    fields = resp.headers.get_list("www-authenticate")
    where = urlsplit(resp.url).path
    if not fields:
        check.add("challenge.missing", f"{where} answered 401 without any WWW-Authenticate header",
                  "the registry or a proxy in front of it strips the challenge: check the proxy configuration")
        return StepResult("challenge", "fail", "401 without WWW-Authenticate")
    try:
        parsed = parse_challenges(fields)
    except ChallengeSyntaxError as e:
        check.add("challenge.malformed", f"the WWW-Authenticate header from {where} does not parse: {e} "
                  f"(header: {' | '.join(fields)[:200]})",
                  "fix the challenge the registry or its proxy emits (RFC 7235 syntax)")
        return StepResult("challenge", "fail", f"malformed challenge: {e}", details={"headers": fields})
    check.challenges = parsed
    details: dict = {"headers": fields, "challenges": [{"scheme": c.scheme, "params": c.params}
                                                       for c in parsed.challenges], "quirks": parsed.quirks}
    facts = [f"client quirk: {q}" for q in parsed.quirks]
    chosen = parsed.preferred()
    if chosen is None:
        schemes = ", ".join(c.scheme for c in parsed.challenges)
        check.add("challenge.unsupported-scheme", f"the registry offers only {schemes}; registry clients speak "
                  "Basic and Bearer", "configure the registry (or its proxy) to offer Bearer or Basic auth")
        return StepResult("challenge", "fail", f"no Basic or Bearer challenge ({schemes})", details=details,
                          facts=facts)
    check.challenge = chosen
    details["chosen"] = chosen.kind
    if chosen.kind == "basic":
        return _basic(check, details, facts)
    return _bearer(check, chosen, details, facts)


def _registry_token_auth(check: Check) -> Auth | None:
    cred = check.credential
    if cred and cred.registry_token:
        return Auth.for_url(check.api_base, "Bearer", cred.registry_token.reveal())
    return None


def _basic(check: Check, details: dict, facts: list[str]) -> StepResult:
    realm = check.challenge.realm if check.challenge else None
    auth = basic_auth(check, check.api_base)
    if auth is None:
        check.add("challenge.credentials-required", f"{check.registry} uses Basic authentication "
                  f"(realm {realm!r}) and no credentials were found for it",
                  f"log in first (`regauth login {check.registry}` or `docker login {check.registry}`) or pass "
                  "--username with --password-stdin")
        return StepResult("challenge", "fail", "Basic auth required, no credentials", details=details, facts=facts)
    check.auth = auth
    url = f"{check.api_base}/v2/"
    try:
        resp = check.http.request("GET", url, auth=auth)
    except TransportError as e:
        from regauth.steps.ping import transport_failure

        return transport_failure(check, e, "ping", "GET")
    result = StepResult("challenge", "ok", f"Basic (realm {realm!r}): credentials accepted for "
                        f"{check.credential.username}", details=details, facts=facts)
    result.http.extend(resp.exchanges)
    if resp.status == 401:
        check.add("challenge.basic-rejected", f"{check.registry} rejected the Basic credentials of user "
                  f"{check.credential.username!r} (GET /v2/ → 401)",
                  "check the username and password (or token); re-run `regauth login` to verify a new one")
        result.status = "fail"
        result.summary = f"Basic credentials of {check.credential.username!r} rejected"
    elif resp.status != 200:
        result.facts.append(f"authenticated GET /v2/ answered {resp.status}")
    return result


def _bearer(check: Check, chosen, details: dict, facts: list[str]) -> StepResult:
    realm = chosen.realm
    if not realm:
        check.add("challenge.malformed", "the Bearer challenge has no realm: clients cannot know where to get a "
                  "token", "configure the registry's auth.token.realm")
        return StepResult("challenge", "fail", "Bearer challenge without realm", details=details, facts=facts)
    parts = urlsplit(realm)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        check.add("challenge.malformed", f"the Bearer realm {realm!r} is not an absolute http(s) URL",
                  "configure the registry's token realm as a full URL, e.g. https://auth.example.com/token")
        return StepResult("challenge", "fail", f"realm {realm!r} is not an absolute URL", details=details,
                          facts=facts)
    status = "ok"
    if parts.scheme == "http" and check.api_base.startswith("https"):
        check.add("challenge.realm-insecure", f"the token realm {realm} is plain http behind an https registry: "
                  "credentials sent for a token travel in clear", "serve the token service over https")
        status = "warn"
    elif parts.scheme == "http" and check.credential and not check.credential.anonymous:
        facts.append("the realm is plain http: credentials travel in clear (fine on loopback, not elsewhere)")
    realm_host = host_port(realm)
    if realm_host != host_port(check.api_base):
        who = "your credentials are sent there" if check.credential and not check.credential.anonymous \
            else "no credentials are sent"
        facts.append(f"token service at {realm_host}, not the registry's {host_port(check.api_base)} ({who})")
    if (parts.hostname or "").lower() != (urlsplit(check.api_base).hostname or "").lower():
        check.add("challenge.realm-other-host", f"tokens come from {parts.hostname}, another host than the "
                  f"registry {urlsplit(check.api_base).hostname}", "nothing to fix if that host is expected; it must "
                  "resolve and be reachable from wherever pulls run (proxy, firewall, NO_PROXY)")
    summary = f"Bearer realm={realm}" + (f" service={chosen.service}" if chosen.service else " (no service)")
    if not chosen.service:
        facts.append("the challenge carries no service: the token request will omit it")
    return StepResult("challenge", status, summary, details=details, facts=facts)
