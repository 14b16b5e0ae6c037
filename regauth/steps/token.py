"""Step `token`: get a bearer token from the realm (Docker token GET with Basic, or OAuth2 POST)."""

from __future__ import annotations

import json
import time
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode, urlsplit, urlunsplit, parse_qsl

from regauth import redact
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
    scopes = check.scopes + [s for s in check.extra_scopes if s not in check.scopes]
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


RETRY_OTHER = (400, 401, 403, 404, 405)  # after a refused OAuth2 POST (containerd's list, plus 403)
RETRY_POST = (400, 403, 404, 405)  # after a refused GET; not 401: the password would just be refused twice


def _fetch(check: Check, key: tuple, realm: str, service: str | None, scopes: list[str]) -> StepResult:
    """Try the flow that fits the credential; when it fails, try the other one and report both."""
    cred = check.credential
    attempts: list[tuple[str, Response]] = []
    result = StepResult("token", "ok", "")
    try:
        if cred and cred.identity_token:
            resp = _post(check, realm, service, scopes, grant="refresh_token")
            attempts.append(("POST", resp))
            if resp.status in RETRY_OTHER and cred.password:
                attempts.append(("GET", _get(check, realm, service, scopes)))
        else:
            resp = _get(check, realm, service, scopes)
            attempts.append(("GET", resp))
            if resp.status in RETRY_POST and cred and cred.password:
                attempts.append(("POST", _post(check, realm, service, scopes, grant="password")))
    except TransportError as e:
        from regauth.steps.ping import transport_failure

        failed = transport_failure(check, e, "token", "")
        failed.http = [x for _, r in attempts for x in r.exchanges] + failed.http
        return failed
    for _, resp in attempts:
        result.http.extend(resp.exchanges)
    details = {"realm": realm, "service": service, "scopes": scopes, "attempts":
               [{"method": m, "status": r.status, "content_type": r.content_type} for m, r in attempts]}
    result.details = details
    ok = next(((m, r) for m, r in attempts if r.status == 200), None)
    if len(attempts) > 1:
        result.facts.append(", ".join(f"{_name(m)} → {r.status}" for m, r in attempts))
    if ok is None:
        return _refused(check, result, attempts, realm)
    method, resp = ok
    if len(attempts) > 1:
        first_m, first = attempts[0]
        check.add("token.method-not-allowed", f"the token service at {realm} refused {_name(first_m)} "
                  f"(HTTP {first.status}: {_body(first)}) but accepted {_name(method)}",
                  _method_fix(first_m, first.status))
        result.status = "warn"  # the step worked, but with a warning (as for short-lifetime)
    return _accept(check, result, resp, method, key, realm)


def _method_fix(refused: str, status: int) -> str:
    if refused == "GET":
        return ("nothing to fix for regauth; docker fetches tokens with GET only and fails against this token "
                "service: make the realm answer the Docker token GET (the flow every token service must support)")
    if status in (400, 401, 404, 405):
        return "nothing to fix: clients that try the OAuth2 POST first fall back to GET on this status"
    return (f"the token service answers the unsupported OAuth2 POST with {status} instead of 404/405: containerd "
            "does not fall back to GET on that status and fails; make the service answer 404 (or support the POST)")


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
    return check.http.request("GET", _realm_url(realm, params), auth=auth, trust=check.api_base)


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
    return check.http.request("POST", realm, data=form, trust=check.api_base)


def _body(resp: Response) -> str:
    """The token service's answer in one line, secrets redacted: registry error, HTML page, or the first bytes."""
    from regauth.steps.ping import describe_body, is_html

    if is_html(resp):
        return describe_body(resp)
    text = resp.text.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            data = None
        if isinstance(data, dict) and isinstance(data.get("errors"), list):
            return describe_body(resp)
        if isinstance(data, dict):
            for k in ("error_description", "details", "message", "error"):
                if isinstance(data.get(k), str):
                    return f"{k}: {redact.redact_jwts(data[k][:200])}"
    shown = redact.body(text[:400], resp.content_type) or ""
    if not shown:
        return f"empty body ({resp.content_type or 'no Content-Type'})"
    return f"'{shown[:200]}'".replace("\n", " ") + (f" ({resp.content_type})" if resp.content_type else "")


def _both(attempts: list[tuple[str, Response]]) -> str:
    return "; ".join(f"{_name(m)} → {r.status} ({_body(r)})" for m, r in attempts)


def _refused(check: Check, result: StepResult, attempts: list[tuple[str, Response]], realm: str) -> StepResult:
    from regauth.steps.ping import is_html

    who = _who(check)
    statuses = [r.status for _, r in attempts]
    answers = _both(attempts)
    scopes = " ".join(result.details.get("scopes") or []) or "this registry"
    result.status = "fail"
    if all(is_html(r) for _, r in attempts):
        check.add("token.bad-response", f"the realm {realm} answered with HTML pages, not as a token service: "
                  f"{answers}", "the realm URL is not served by the token service: check the reverse-proxy routing "
                  "for the realm path (nginx location / proxy_pass) or the registry's external URL")
        result.summary = f"realm answered HTML ({', '.join(map(str, statuses))})"
    elif 401 in statuses and who == "anonymous":
        check.add("token.anonymous-denied", f"the token service {realm} refuses anonymous tokens for {scopes}: "
                  f"{answers}", f"log in to {check.registry} (or pass --username and --password-stdin): this "
                  "repository is not public")
        result.summary = "anonymous token refused (401)"
    elif 401 in statuses:
        email = (" — the username looks like an e-mail address; Docker Hub and most registries expect the account "
                 "name (Docker ID), not the e-mail") if "@" in who else ""
        check.add("token.bad-credentials", f"the token service {realm} rejected the credentials of {who!r}: "
                  f"{answers}{email}",
                  ("log in with the account name instead of the e-mail address; " if email else "")
                  + f"check the password or access token of {who!r} for {check.registry}; re-run "
                  f"`regauth login {check.registry}` to verify a new one")
        result.summary = f"credentials of {who!r} rejected (401)"
    elif 403 in statuses:
        check.add("token.forbidden", f"the token service {realm} refused {who!r}: {answers}",
                  "the account exists but may not get a token: check its permissions, SSO/PAT policy or expiry on "
                  "the registry's side")
        result.summary = f"token refused for {who!r} (403)"
    elif set(statuses) <= {400, 404, 405}:
        if len(attempts) > 1:
            check.add("token.method-not-allowed", f"the token service at {realm} refused both methods: {answers}",
                      "check the realm URL: it may point to the wrong service or path", severity="error")
        else:
            allow = attempts[0][1].headers.get("allow")
            check.add("token.method-not-allowed", f"the token service at {realm} refused {answers}"
                      + (f"; it allows {allow}" if allow else "")
                      + (" — the OAuth2 POST needs credentials, so an anonymous request has no other way"
                         if who == "anonymous" else ""),
                      f"log in to {check.registry} so the OAuth2 POST can be used, or make the token service "
                      "answer the Docker token GET (the flow every token service must support)"
                      if who == "anonymous" else "check the realm URL: it may point to the wrong service or path",
                      severity="error")
        result.summary = "token service refused " + " and ".join(_name(m) for m, _ in attempts)
    else:
        check.add("token.unexpected-status", f"the token service {realm} answered: {answers}",
                  "check the realm URL and the token service's health")
        result.summary = f"token service answered {', '.join(map(str, statuses))}"
    return result


def _accept(check: Check, result: StepResult, resp: Response, method: str, key: tuple, realm: str) -> StepResult:
    try:
        data = resp.json()
    except (ValueError, RecursionError):
        data = None
    value = None
    if isinstance(data, dict):
        value = data.get("access_token") or data.get("token")
    if not isinstance(value, str) or not value:
        what = _body(resp) if not isinstance(data, dict) else \
            f"JSON without a token (fields: {', '.join(sorted(data)) or 'none'})"
        check.add("token.bad-response", f"the token service {realm} answered 200 with {what}",
                  "the realm may be routed to the wrong backend (a web page or proxy), or the token service is "
                  "not Docker-compatible: it must return {\"token\": …} or {\"access_token\": …} "
                  "(distribution: \"authorization server did not include a token in the response\")")
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
    result.facts.append(f"token in field {' and '.join(fields)} (regauth uses "
                        f"{'access_token' if data.get('access_token') else 'token'}); expires_in "
                        f"{expires_in if expires_in is not None else 'absent (60 s assumed)'}"
                        + (f"; issued_at {redact.text(str(data['issued_at']))[:80]}"  # the server's own text
                           if data.get("issued_at") else ""))
    if fields == ["access_token"]:
        result.facts.append("only access_token (ACR style): clients that read only `token` get no token and fail")
    elif fields == ["token"]:
        result.facts.append("only token, no access_token: clients that read only the OAuth2 field access_token fail")
    elif data.get("token") != data.get("access_token"):
        check.add("token.fields-differ", "the token service returned different values in `token` and "
                  "`access_token`; regauth uses access_token (as distribution, containerd, ggcr and oras do), "
                  "clients that read only `token` use the other one", "make the token service return the same "
                  "token in both fields (or only one of them)")
        result.status = "warn"
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


def refresh(check: Check, into: StepResult) -> Token | None:
    """Fetch a new token for the current challenge, bypassing the cache (after a 401 with an expired token).

    The exchanges go into `into`; diagnoses from a failed attempt are kept out of the report."""
    chosen = check.challenge
    if chosen is None or chosen.kind != "bearer" or not chosen.realm:
        return None
    cred = check.credential
    scopes = check.scopes + [s for s in check.extra_scopes if s not in check.scopes]
    key = (chosen.realm, chosen.service, " ".join(scopes), _who(check),
           (cred.password or cred.identity_token).fingerprint if cred and not cred.anonymous else "")
    kept = len(check.result.diagnoses)
    before = check.token
    result = _fetch(check, key, chosen.realm, chosen.service, scopes)
    del check.result.diagnoses[kept:]
    into.http.extend(result.http)
    if result.status == "fail" or check.token is before:
        return None
    return check.token
