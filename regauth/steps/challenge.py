"""Step `challenge`: read `WWW-Authenticate`, pick the scheme, and check the realm is sane."""

from __future__ import annotations

import base64
import re
from urllib.parse import urlsplit

from regauth.context import Check
from regauth.http import Auth, Response, TransportError, host_port, proxy_for, resolves
from regauth.report import StepResult

_INTERNAL_HOST = re.compile(r"(\.svc(\.cluster\.local)?|\.cluster\.local|\.local|\.internal|\.lan|\.corp)$")
_HOST_OK = re.compile(r"^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$")


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
        server = resp.headers.get("server")
        check.add("challenge.missing", f"{where} answered 401 without any WWW-Authenticate header"
                  + (f" (Server: {server})" if server else "") + ": a client cannot know how to authenticate",
                  "the registry or a proxy in front of it strips or never sends the challenge: check the proxy "
                  "configuration (it must pass WWW-Authenticate through on 401)")
        return StepResult("challenge", "fail", "401 without WWW-Authenticate")
    try:  # a batch sees the same challenge for every image of a registry: parse it once
        parsed = check.shared.memo(("challenges", tuple(fields)), lambda: parse_challenges(fields))
    except ChallengeSyntaxError as e:
        check.add("challenge.malformed", f"the WWW-Authenticate header from {where} does not parse: {e} "
                  f"(header: {' | '.join(fields)[:200]})",
                  "fix the challenge the registry or its proxy emits (RFC 7235 syntax)")
        return StepResult("challenge", "fail", f"malformed challenge: {e}", details={"headers": fields})
    check.challenges = parsed
    details: dict = {"headers": fields, "challenges": [{"scheme": c.scheme, "params": c.params}
                                                       for c in parsed.challenges], "quirks": parsed.quirks}
    facts = [f"client quirk: {q}" for q in parsed.quirks] + _header_facts(fields, parsed)
    chosen = parsed.preferred()
    if chosen is None:
        schemes = ", ".join(c.scheme for c in parsed.challenges)
        check.add("challenge.unsupported-scheme", f"the registry offers only {schemes} (WWW-Authenticate: "
                  f"{' | '.join(fields)[:160]}); registry clients speak Basic and Bearer",
                  "configure the registry (or the proxy or SSO gateway in front of it) to offer Bearer or Basic auth "
                  "on /v2/")
        return StepResult("challenge", "fail", f"no Basic or Bearer challenge ({schemes})", details=details,
                          facts=facts)
    check.challenge = chosen
    details["chosen"] = chosen.kind
    if chosen.scheme not in ("Basic", "Bearer"):
        facts.append(f"scheme={chosen.scheme.capitalize()} (sent as {chosen.scheme!r}; schemes are case-insensitive)")
    if chosen.kind == "basic":
        return _basic(check, resp, details, facts)
    return _bearer(check, chosen, details, facts)


def _header_facts(fields: list[str], parsed) -> list[str]:
    """Lines that help compare with what another client saw: odd spacing, commas inside quoted values."""
    facts = []
    for text in fields:
        if re.search(r"  |, |\s=|=\s|^\s|\s$|\t", text):
            visible = text.replace("\t", "→").replace(" ", "·")
            facts.append(f"raw header with visible separators (· space, → tab): {visible}")
    for c in parsed.challenges:
        for key, value in c.params.items():
            if "," in value:
                head, _, tail = value.partition(",")
                facts.append(f"{key} contains a comma inside quotes ({value!r}): parsed as one value; parsers that "
                             f"split the header on every comma truncate it to {head!r} and leave a stray {tail!r} "
                             "parameter")
    return facts


def _registry_token_auth(check: Check) -> Auth | None:
    cred = check.credential
    if cred and cred.registry_token:
        return Auth.for_url(check.api_base, "Bearer", cred.registry_token.reveal())
    return None


def _nexus(check: Check, realm: str | None) -> bool:
    server = (check.ping.response.headers.get("server", "") if check.ping and check.ping.response else "")
    return "nexus" in server.lower() or "nexus" in (realm or "").lower()


def _basic(check: Check, resp: Response, details: dict, facts: list[str]) -> StepResult:
    realm = check.challenge.realm if check.challenge else None
    nexus = _nexus(check, realm)
    nexus_hint = ("Nexus answers Basic when the Docker repository has forceBasicAuth=true (the default for new "
                  "repositories, visible only through the REST API): set docker.forceBasicAuth=false and activate "
                  "the 'Docker Bearer Token Realm' for token or anonymous pulls")
    if nexus:
        facts.append(f"server looks like Sonatype Nexus: {nexus_hint}")
    auth = basic_auth(check, check.api_base)
    if auth is None:
        check.add("challenge.credentials-required", f"{check.registry} uses Basic authentication "
                  f"(realm {realm!r}) and no credentials were found for it"
                  + ("; the server is a Nexus repository, which offers Basic only when forceBasicAuth is on"
                     if nexus else ""),
                  (f"{nexus_hint}; or " if nexus else "")
                  + f"log in first (`regauth login {check.registry}` or `docker login {check.registry}`) or pass "
                  "--username with --password-stdin")
        return StepResult("challenge", "fail", "Basic auth required, no credentials", details=details, facts=facts)
    check.auth = auth
    url = f"{check.api_base}/v2/"
    try:
        again = check.http.request("GET", url, auth=auth)
    except TransportError as e:
        from regauth.steps.ping import transport_failure

        return transport_failure(check, e, "ping", "GET")
    result = StepResult("challenge", "ok", f"Basic (realm {realm!r}): credentials accepted for "
                        f"{check.credential.username}", details=details, facts=facts)
    result.http.extend(again.exchanges)
    if again.status == 401:
        check.add("challenge.basic-rejected", f"{check.registry} rejected the Basic credentials of user "
                  f"{check.credential.username!r} (GET /v2/ → 401)",
                  "check the username and password (or token); re-run `regauth login` to verify a new one")
        result.status = "fail"
        result.summary = f"Basic credentials of {check.credential.username!r} rejected"
    elif again.status != 200:
        result.facts.append(f"authenticated GET /v2/ answered {again.status}")
    else:
        result.facts.append("registry uses Basic auth on every request: no token step")
    return result


def _bearer(check: Check, chosen, details: dict, facts: list[str]) -> StepResult:
    realm = chosen.realm
    if not realm:
        check.add("challenge.malformed", "the Bearer challenge has no realm: clients cannot know where to get a "
                  "token", "configure the registry's auth.token.realm")
        return StepResult("challenge", "fail", "Bearer challenge without realm", details=details, facts=facts)
    try:
        parts = urlsplit(realm)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        parts = urlsplit("")  # reported as not an absolute URL just below
    if parts.scheme not in ("http", "https") or not parts.netloc:
        check.add("challenge.malformed", f"the Bearer realm {realm!r} is not an absolute http(s) URL",
                  "configure the registry's token realm as a full URL, e.g. https://auth.example.com/token")
        return StepResult("challenge", "fail", f"realm {realm!r} is not an absolute URL", details=details,
                          facts=facts)
    netloc = parts.netloc.rpartition("@")[2]
    hostpart = netloc.rsplit(":", 1)[0] if re.search(r":\d*$", netloc) else netloc
    if not _HOST_OK.match(hostpart):
        looks = ""
        if "," in netloc:
            looks = (" — it looks like a multi-valued X-Forwarded-Host (\"hostA, hostB\") was pasted into the "
                     "challenge")
        check.add("challenge.malformed", f"the Bearer realm {realm!r} is not a valid URL: its host {netloc!r} "
                  f"contains {'a comma and a space' if ', ' in netloc else 'characters a host name cannot have'}"
                  + looks, "fix the proxy or CDN in front of the registry so it forwards a single host (one "
                  "X-Forwarded-Host value), or configure the registry's external URL explicitly")
        return StepResult("challenge", "fail", f"realm {realm!r} is not a valid URL", details=details, facts=facts)
    status = "ok"
    registry_host = (urlsplit(check.api_base).hostname or "").lower()
    realm_host = (parts.hostname or "").lower()
    if parts.scheme == "http" and check.api_base.startswith("https"):
        check.add("challenge.realm-insecure", f"the token realm {realm} is plain http behind the https registry "
                  f"{check.registry}: the credentials sent for a token travel in clear",
                  "serve the token service over https (and fix the realm the registry advertises)")
        status = "warn"
    elif parts.scheme == "http" and check.credential and not check.credential.anonymous:
        facts.append("the realm is plain http: credentials travel in clear (fine on loopback, not elsewhere)")
    elif parts.scheme == "https" and check.api_base.startswith("http:"):
        facts.append("the realm is https while the registry is plain http")
    who = "your credentials are sent there" if check.credential and not check.credential.anonymous \
        else "no credentials are sent"
    if host_port(realm) != host_port(check.api_base):
        facts.append(f"token service at {host_port(realm)}, not the registry's {host_port(check.api_base)} ({who})")
    if realm_host != registry_host:
        check.add("challenge.realm-other-host", f"tokens come from {realm_host}, another host than the registry "
                  f"{registry_host} ({who})", "nothing to fix if that host is expected; it must resolve and be "
                  "reachable from wherever pulls run (proxy, firewall, NO_PROXY)")
        unresolved = check.shared.memo(("realm-resolves", realm, realm_host),  # one DNS lookup per run
                                       lambda: None if proxy_for(realm) else resolves(realm_host))
        if unresolved:
            internal = bool(_INTERNAL_HOST.search(realm_host)) or "." not in realm_host
            check.add("challenge.realm-unreachable", f"the token realm host {realm_host} (from the challenge of "
                      f"{check.registry}) does not resolve from here ({unresolved}); it is not the registry host "
                      f"{registry_host}" + (" and looks like a cluster-internal name" if internal else ""),
                      "the registry advertises a realm built from an internal or proxy-only host name: configure its "
                      "external URL (Harbor: external_url / externalURL; distribution: auth.token.realm), or make "
                      "the proxy pass the external Host and X-Forwarded-Proto")
            return StepResult("challenge", "fail", f"realm host {realm_host} does not resolve", details=details,
                              facts=facts)
    if chosen.scope:
        ours = set(check.scopes)
        extra = [s for s in chosen.scopes if s not in ours and _is_scope(s)]
        if extra and check.repository:
            check.extra_scopes = extra
            facts.append(f"the challenge asks for {chosen.scope!r}: regauth requests "
                         f"{' '.join(check.scopes + extra)}")
    elif check.scopes:
        facts.append(f"no scope in the challenge: regauth requests {' '.join(check.scopes)} itself")
    summary = f"Bearer realm={realm}" + (f" service={chosen.service}" if chosen.service else " (no service)")
    if not chosen.service:
        facts.append("the challenge carries no service (optional per RFC 6750): the token request omits it")
        _probe_repository(check, facts)
    return StepResult("challenge", status, summary, details=details, facts=facts)


def _is_scope(text: str) -> bool:
    from regauth.scope import parse_scope

    try:
        parse_scope(text)
    except ValueError:
        return False
    return True


def _probe_repository(check: Check, facts: list[str]) -> None:
    """When /v2/'s challenge lacks service, show what the repository's own challenge carries (GAR style)."""
    from regauth.challenge import ChallengeSyntaxError, parse_challenges
    from regauth.steps.manifest import ACCEPT

    if not check.repository or not check.ref:
        return
    url = f"{check.api_base}/v2/{check.repository}/manifests/{check.ref.reference}"
    try:
        resp = check.http.request("HEAD", url, headers={"Accept": ACCEPT})
        parsed = parse_challenges(resp.headers.get_list("www-authenticate")) if resp.status == 401 else None
    except (TransportError, ChallengeSyntaxError):
        return
    repo = parsed.find("bearer") if parsed else None
    if repo is None:
        return
    check.repo_challenge = repo
    if repo.service:
        facts.append(f"the repository's own challenge (HEAD {urlsplit(url).path} → 401) does carry "
                     f"service={repo.service!r}" + (f" and scope={repo.scope!r}" if repo.scope else ""))
