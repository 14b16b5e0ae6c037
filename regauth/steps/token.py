"""Step `token`: get a bearer token from the realm (Docker token GET with Basic, or OAuth2 POST)."""

from __future__ import annotations

import time
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode, urlsplit, urlunsplit, parse_qsl

from regauth.context import Check, Token
from regauth.http import Auth, Response, TransportError
from regauth.report import StepResult
from regauth.steps.challenge import basic_auth

CLIENT_ID = "regauth"
MIN_LIFETIME = 60
POST_FALLBACK = (400, 401, 404, 405)


def _realm_url(realm: str, params: list[tuple[str, str]]) -> str:
    """Merge our parameters into any query the realm already has (as every reference client does)."""
    parts = urlsplit(realm)
    query = parse_qsl(parts.query, keep_blank_values=True) + params
    return urlunsplit(parts._replace(query=urlencode(query)))


def _who(check: Check) -> str:
    cred = check.credential
    if cred is None or cred.anonymous:
        return "anonymous"
    return cred.username or cred.kind


def run(check: Check) -> StepResult:
    chosen = check.challenge
    if chosen is None or chosen.kind != "bearer":
        return StepResult("token", "skip", "no token needed" + (" (Basic auth)" if chosen else ""))
    cred = check.credential
    if cred and cred.registry_token:
        check.token = Token(cred.registry_token.reveal(), time.time() + 300, "configured")
        check.auth = Auth.for_url(check.api_base, "Bearer", check.token.value)
        return StepResult("token", "ok", f"using the registry token from {cred.origin or cred.source} directly "
                          "(no token exchange)")
    realm, service = chosen.realm, chosen.service
    scopes = check.scopes
    key = (realm, service, " ".join(scopes), _who(check),
           (cred.password or cred.identity_token).fingerprint if cred and not cred.anonymous else "")
    with check.shared.lock(("token", key)):
        cached = check.shared.cached_token(key)
        if cached:
            check.token = cached
            check.auth = Auth.for_url(check.api_base, "Bearer", cached.value)
            return StepResult("token", "ok", f"reused a token for {' '.join(scopes) or 'login'} "
                              f"(expires in {int(cached.expires_at - time.time())} s)",
                              details={"cached": True, "method": cached.method})
        return _fetch(check, key, realm, service, scopes)


def _fetch(check: Check, key: tuple, realm: str, service: str | None, scopes: list[str]) -> StepResult:
    cred = check.credential
    attempts: list[tuple[str, Response]] = []
    result = StepResult("token", "ok", "")
    try:
        if cred and cred.identity_token:
            resp = _post(check, realm, service, scopes, grant="refresh_token")
            attempts.append(("POST", resp))
            if resp.status in POST_FALLBACK and cred.password:
                attempts.append(("GET", _get(check, realm, service, scopes)))
        else:
            resp = _get(check, realm, service, scopes)
            attempts.append(("GET", resp))
            if resp.status == 405 or (resp.status in (400, 404) and cred and cred.password):
                attempts.append(("POST", _post(check, realm, service, scopes, grant="password")))
    except TransportError as e:
        from regauth.steps.ping import transport_failure

        failed = transport_failure(check, e, "token", "")
        failed.http = [x for _, r in attempts for x in r.exchanges] + failed.http
        return failed
    for _, resp in attempts:
        result.http.extend(resp.exchanges)
    method, resp = attempts[-1]
    details = {"realm": realm, "service": service, "scopes": scopes, "attempts":
               [{"method": m, "status": r.status} for m, r in attempts]}
    result.details = details
    if len(attempts) > 1:
        first_m, first = attempts[0]
        if resp.status == 200:
            check.add("token.method-not-allowed", f"the token service refused {_name(first_m)} "
                      f"(HTTP {first.status}) but accepted {_name(method)}",
                      f"nothing to fix for regauth; clients that only use {_name(first_m)} fail against this "
                      "token service")
            result.facts.append(f"{_name(first_m)} → {first.status}, {_name(method)} → 200")
        else:
            result.facts.append(f"{_name(first_m)} → {first.status}, {_name(method)} → {resp.status}")
            if {first.status, resp.status} <= {400, 404, 405}:
                check.add("token.method-not-allowed", f"the token service at {realm} refused both "
                          f"{_name(first_m)} (HTTP {first.status}) and {_name(method)} (HTTP {resp.status})",
                          "check the realm URL: it may point to the wrong service or path")
                result.status = "fail"
                result.summary = "token service refused GET and POST"
                return result
    if resp.status != 200:
        return _refused(check, result, resp, realm)
    return _accept(check, result, resp, method, key, realm)


def _name(method: str) -> str:
    return "the OAuth2 POST" if method == "POST" else "the token GET"


def _get(check: Check, realm: str, service: str | None, scopes: list[str]) -> Response:
    params = [("service", service)] if service else []
    params += [("scope", s) for s in scopes]
    auth = basic_auth(check, realm)
    if auth is not None:
        params.append(("account", check.credential.username))
    if check.options.offline_token:  # login: ask for a refresh token like docker login does
        params += [("offline_token", "true"), ("client_id", CLIENT_ID)]
    check.shared.stats["token_requests"] += 1
    return check.http.request("GET", _realm_url(realm, params), auth=auth)


def _post(check: Check, realm: str, service: str | None, scopes: list[str], grant: str) -> Response:
    cred = check.credential
    form = {"grant_type": grant, "client_id": CLIENT_ID, "access_type": "offline"}
    if service:
        form["service"] = service
    if scopes:
        form["scope"] = " ".join(scopes)
    if grant == "refresh_token":
        form["refresh_token"] = cred.identity_token.reveal()
    else:
        form["username"] = cred.username or ""
        form["password"] = cred.password.reveal() if cred.password else ""
    check.shared.stats["token_requests"] += 1
    return check.http.request("POST", realm, data=form)


def _error_text(resp: Response) -> str:
    from regauth import redact

    text = resp.text.strip()
    if "html" in resp.content_type or text.lower().startswith(("<!doctype", "<html")):
        return "an HTML page"
    return (redact.body(text[:200], resp.content_type) or "empty body").replace("\n", " ")


def _refused(check: Check, result: StepResult, resp: Response, realm: str) -> StepResult:
    who = _who(check)
    body = _error_text(resp)
    result.status = "fail"
    if resp.status == 401 and who == "anonymous":
        check.add("token.anonymous-denied", f"the token service {realm} refuses anonymous tokens for "
                  f"{' '.join(check.scopes) or 'this registry'} (HTTP 401: {body})",
                  f"log in to {check.registry} (or pass --username and --password-stdin): this repository is not "
                  "public")
        result.summary = "anonymous token refused (401)"
    elif resp.status == 401:
        check.add("token.bad-credentials", f"the token service {realm} rejected the credentials of "
                  f"{who!r} (HTTP 401: {body})",
                  f"check the password or access token of {who!r} for {check.registry}; re-run "
                  f"`regauth login {check.registry}` to verify a new one")
        result.summary = f"credentials of {who!r} rejected (401)"
    elif resp.status == 403:
        check.add("token.forbidden", f"the token service {realm} refused {who!r} (HTTP 403: {body})",
                  "the account exists but may not get a token: check its permissions, SSO/PAT policy or "
                  "expiry on the registry's side")
        result.summary = f"token refused for {who!r} (403)"
    else:
        check.add("token.unexpected-status", f"the token service {realm} answered HTTP {resp.status}: {body}",
                  "check the realm URL and the token service's health")
        result.summary = f"token service answered {resp.status}"
    return result


def _accept(check: Check, result: StepResult, resp: Response, method: str, key: tuple, realm: str) -> StepResult:
    try:
        data = resp.json()
    except ValueError:
        data = None
    value = None
    if isinstance(data, dict):
        value = data.get("access_token") or data.get("token")
    if not isinstance(value, str) or not value:
        what = _error_text(resp) if not isinstance(data, dict) else \
            f"JSON without a token (fields: {', '.join(sorted(data)) or 'none'})"
        check.add("token.bad-response", f"the token service {realm} answered 200 with {what}",
                  "the realm may be routed to the wrong backend (a web page or proxy), or the token service is "
                  "not Docker-compatible: it must return {\"token\": …} or {\"access_token\": …}")
        result.status = "fail"
        result.summary = "200 without a token"
        return result
    now = time.time()
    server_date = _date(resp)
    issued = _issued_at(data.get("issued_at"))
    raw_expires = data.get("expires_in")
    expires_in = raw_expires if isinstance(raw_expires, int) and not isinstance(raw_expires, bool) else None
    lifetime = max(expires_in or 0, MIN_LIFETIME)
    token = Token(value, (issued or now) + lifetime, method, data.get("refresh_token"), server_date, issued,
                  expires_in)
    check.token = token
    check.auth = Auth.for_url(check.api_base, "Bearer", value)
    check.shared.store_token(key, token)
    fields = [f for f in ("token", "access_token") if data.get(f)]
    result.details.update({"method": method, "fields": fields, "expires_in": expires_in,
                           "issued_at": data.get("issued_at"), "refresh_token": bool(token.refresh_token)})
    result.summary = f"{method} {realm} → 200 as {_who(check)}, token valid {lifetime} s"
    result.facts.append(f"token in field {' and '.join(fields)}; expires_in "
                        f"{expires_in if expires_in is not None else 'absent (60 s assumed)'}")
    if expires_in is not None and expires_in < MIN_LIFETIME:
        check.add("token.short-lifetime", f"the token service grants tokens for {expires_in} s, under the 60 s "
                  "minimum clients assume", "raise the token lifetime on the token service")
        result.status = "warn"
    return result


def _date(resp: Response) -> float | None:
    try:
        return parsedate_to_datetime(resp.headers["date"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return None


def _issued_at(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
