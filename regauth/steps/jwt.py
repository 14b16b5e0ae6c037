"""Step `jwt`: decode the bearer token without trusting it, and check what it grants and when it is valid."""

from __future__ import annotations

import base64
import functools
import json
import time
from datetime import datetime, timezone
from typing import Any

from regauth.context import Check
from regauth.report import StepResult

LEEWAY = 60  # distribution's leeway on exp/nbf


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")  # NaN/Infinity: Python reads them, Go (distribution) does not


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text} is out of range")  # Go's decoder refuses it too
    return value


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def decode(token: str) -> tuple[dict, dict] | None:
    """(header, claims) of a JWT, or None for an opaque token. Raises ValueError when it looks like a JWT but
    does not decode."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header = json.loads(_b64(parts[0]), parse_constant=_reject_constant, parse_float=_finite)
    except (ValueError, RecursionError):
        return None
    if not isinstance(header, dict) or "alg" not in header:
        return None
    try:
        claims = json.loads(_b64(parts[1]), parse_constant=_reject_constant, parse_float=_finite)
    except (ValueError, RecursionError) as e:
        raise ValueError(f"the claims segment does not decode: {e}") from None
    if not isinstance(claims, dict):
        raise ValueError("the claims segment is not a JSON object")
    return header, claims


@functools.lru_cache(maxsize=64)  # every image of a batch that reuses a token formats the same exp (strftime is slow)
def _when(ts: float) -> str:
    try:
        return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):  # a hostile or broken token service's number
        return f"{ts} (not a representable date)"


def run(check: Check) -> StepResult:
    token = check.token
    if token is None:
        return StepResult("jwt", "skip", "no bearer token")
    try:  # checks that reuse a cached token share one decoding
        decoded = check.shared.memo(("jwt", token.value), lambda: decode(token.value))
    except ValueError as e:
        check.add("jwt.malformed", f"the token looks like a JWT but {e}",
                  "the token service produces broken tokens, or something rewrote the token in transit")
        return StepResult("jwt", "fail", f"malformed JWT: {e}")
    if decoded is None:
        check.add("jwt.opaque", "the token is opaque (not a JWT): what it grants cannot be checked client-side",
                  "nothing to fix: registries such as GHCR, GCR and Artifact Registry issue opaque tokens")
        return StepResult("jwt", "ok", "opaque token (not a JWT)", details={"jwt": False})
    header, claims = dict(decoded[0]), dict(decoded[1])  # copies: the decoding is shared
    result = StepResult("jwt", "ok", "", details={"jwt": True, "header": header, "claims": _safe(claims)})
    _check_header(check, header, result)
    _check_time(check, claims, result)
    _check_audience(check, claims, result)
    _check_access(check, claims, result)
    errors = [d for d in check.result.diagnoses if d.step == "jwt" and d.severity == "error"]
    if errors:
        result.status = "fail"
        result.summary = errors[0].message.split(";")[0]
    elif any(d.step == "jwt" and d.severity == "warning" for d in check.result.diagnoses):
        result.status = "warn"
    if not result.summary:
        result.summary = f"JWT {header.get('alg')} from {claims.get('iss')!r} for {claims.get('sub') or 'anonymous'}"
    return result


def _safe(claims: dict) -> dict:
    return {k: v for k, v in claims.items() if k in ("iss", "sub", "aud", "exp", "nbf", "iat", "jti", "access")}


def _check_header(check: Check, header: dict, result: StepResult) -> None:
    if str(header.get("alg", "")).lower() == "none":
        check.add("jwt.malformed", "the token is unsigned (alg \"none\"): no registry accepts it",
                  "configure the token service to sign its tokens")
    if not any(k in header for k in ("kid", "jwk", "x5c")):
        check.add("jwt.no-key-id", "the JWT header has no kid, jwk or x5c: distribution cannot pick a key to "
                  "verify it", "configure the token service to put the signing key's kid (or an x5c chain) in the "
                  "header")
    result.facts.append(f"header: alg {header.get('alg')}, " + ", ".join(
        f"{k} {header[k]}" for k in ("kid",) if k in header) + (" x5c chain" if "x5c" in header else ""))


def _check_time(check: Check, claims: dict, result: StepResult) -> None:
    local = time.time()
    server = check.token.server_date if check.token else None
    server = server or check.server_date
    skew = (local - server) if server else None
    if skew is not None:
        result.details["clock_skew_s"] = round(skew, 1)
        if abs(skew) > LEEWAY:
            check.add("jwt.clock-skew", f"this machine's clock is {abs(skew):.0f} s "
                      f"{'ahead of' if skew > 0 else 'behind'} the server's Date header",
                      "sync the clock (NTP) on this machine or on the server")
    exp, nbf, iat = claims.get("exp"), claims.get("nbf"), claims.get("iat")
    ref_now = server or local
    basis = "the registry's Date header" if server else "the local clock"
    if not isinstance(exp, (int, float)):
        check.add("jwt.expired", "the token has no exp claim: distribution treats it as expired",
                  "configure the token service to set exp")
        return
    token = check.token
    lifetime = f"expires in {int(exp - ref_now)} s" if exp >= ref_now else f"expired {int(ref_now - exp)} s ago"
    result.facts.append(f"valid until {_when(exp)} ({lifetime} by {basis})"
                        + (f"; token response: expires_in {token.expires_in} s" if token and token.expires_in
                           is not None else ""))
    if token and token.expires_in is not None and isinstance(iat, (int, float)):
        claimed = (token.issued_at or iat) + max(token.expires_in, 60)
        if abs(claimed - exp) > LEEWAY:
            result.facts.append(f"the response says the token lasts until {_when(claimed)}, its exp says "
                                f"{_when(exp)}: clients trust expires_in and may reuse an expired token")
    if ref_now > exp + LEEWAY or local > exp + LEEWAY:
        which = basis if ref_now > exp + LEEWAY else "the local clock"
        check.add("jwt.expired", f"the token expired at {_when(exp)}, {int(max(ref_now, local) - exp)} s ago by "
                  f"{which} (registries allow {LEEWAY} s of leeway)", "if the token is fresh from the token "
                  "service, its clock is wrong (check NTP there); otherwise a stale token was cached: fetch a new one")
    elif ref_now > exp:
        result.facts.append(f"the token is already {int(ref_now - exp)} s past its exp by {basis}: accepted only "
                            f"thanks to the registry's {LEEWAY} s leeway, and it will be refused within "
                            f"{int(exp + LEEWAY - ref_now)} s — clients must fetch a new token, not reuse it")
    for name, value in (("nbf", nbf), ("iat", iat)):
        if not isinstance(value, (int, float)):
            continue
        if value - LEEWAY > ref_now:
            check.add("jwt.not-yet-valid", f"the token's {name} is {_when(value)}, {int(value - ref_now)} s in the "
                      f"future of {basis}: the token service's clock runs ahead (registries allow {LEEWAY} s)",
                      "sync the clocks (NTP) of the token service and the registry; until then, tokens are refused")
            break
        if name == "nbf" and server and value > server + 1:
            result.facts.append(f"nbf is {int(value - server)} s after the registry's clock (Date header): within "
                                f"distribution's {LEEWAY} s leeway, but a registry node without leeway (or with a "
                                "slower clock) answers 401 until then — token service and registry clocks disagree")


def _check_audience(check: Check, claims: dict, result: StepResult) -> None:
    service = check.challenge.service if check.challenge else None
    repo_service = check.repo_challenge.service if check.repo_challenge else None
    aud = claims.get("aud")
    auds = aud if isinstance(aud, list) else [aud] if aud is not None else []
    if service and service not in auds:
        check.add("jwt.audience-mismatch", f"the token's aud is {aud!r} but the registry's challenge names "
                  f"service {service!r}: the registry will reject it as invalid_token",
                  "make the token service issue tokens for the registry's service name (or fix the registry's "
                  "auth.token.service)")
    elif not service and repo_service and repo_service not in auds:
        check.add("jwt.audience-mismatch", f"the token's aud is {aud!r}: the /v2/ challenge carried no service, so "
                  f"the token request had none, but the repository's challenge names service {repo_service!r}, "
                  "which the registry will expect", f"make the registry send service={repo_service!r} on /v2/ too, "
                  "or make the token service default to it when a request has no service")


def _check_access(check: Check, claims: dict, result: StepResult) -> None:
    from regauth.scope import missing_actions, parse_scope

    access = claims.get("access")
    if not check.scopes:
        return
    if not isinstance(access, list):
        result.facts.append("no access claim: what the token grants cannot be checked")
        return
    granted = [f"{a.get('type')}:{a.get('name')}:{','.join(str(x) for x in a.get('actions'))}" for a in access
               if isinstance(a, dict) and isinstance(a.get("actions"), list) and a.get("actions")]
    result.details["granted"] = granted
    requested = check.scopes + [s for s in check.extra_scopes if s not in check.scopes]
    named = {a.get("name") for a in access if isinstance(a, dict) and isinstance(a.get("name"), str)}
    dropped = [s for s in requested if parse_scope(s).name not in named]
    if len(requested) > 1 and dropped and len(dropped) < len(requested):
        check.add("jwt.insufficient-access", f"requested {len(requested)} resources, the token covers "
                  f"{len(requested) - len(dropped)}: nothing at all about "
                  f"{', '.join(parse_scope(s).name for s in dropped)} — the token service keeps only one of the "
                  "repeated scope parameters", "fix the token service to honour every scope parameter (the spec "
                  "repeats `scope` once per resource)", severity="warning")
    for text in requested:
        wanted = parse_scope(text)
        needed = text in check.scopes
        missing = missing_actions(access, wanted)
        if not missing:
            result.facts.append(f"grants {','.join(wanted.actions)} on {wanted.name}")
            continue
        if not needed:
            if text not in dropped:
                result.facts.append(f"the challenge also asked for {text}; the token lacks {','.join(missing)} "
                                    "there (not needed for this pull)")
            continue
        if len(missing) == len(wanted.actions):
            _no_access(check, wanted, granted, claims)
        else:
            has = [a for a in wanted.actions if a not in missing]
            check.add("jwt.insufficient-access", f"the token grants {','.join(has)} but not {','.join(missing)} on "
                      f"{wanted.name} for {_subject(check, claims)}",
                      f"give {_subject(check, claims)} the {','.join(missing)} permission on {wanted.name}")


def _subject(check: Check, claims: dict) -> str:
    cred = check.credential
    if cred is None or cred.anonymous:
        return "an anonymous request"
    return repr(claims.get("sub") or cred.username)


def _name_hints(check: Check, name: str, granted_names: list[str]) -> list[str]:
    """Why the name may be wrong: library/ prefix, case, a near name the token does grant."""
    import difflib

    hints = []
    hub = bool(check.ref and check.ref.is_docker_hub)
    if name.startswith("library/") and not hub:
        hints.append(f"'library/' is a Docker Hub convention: on {check.registry} the name may be "
                     f"'{name[len('library/'):]}'")
    elif "/" not in name and not hub:
        hints.append(f"'{name}' has a single path component: Docker Hub keeps official images under library/ "
                     f"('library/{name}'), and a proxy or mirror in front of Docker Hub must add that prefix itself")
    same_case = [g for g in granted_names if g != name and g.lower() == name.lower()]
    if same_case:
        hints.append(f"the token grants {same_case[0]!r}, which differs only in case: repository names are "
                     "case-sensitive")
    else:
        near = difflib.get_close_matches(name, [g for g in granted_names if g != name], n=2, cutoff=0.6)
        if near:
            hints.append(f"did you mean {' or '.join(repr(n) for n in near)}? the token grants access there")
    return hints


def _no_access(check: Check, wanted: Any, granted: list[str], claims: dict) -> None:
    name = wanted.name
    anonymous = check.credential is None or check.credential.anonymous
    hints = _name_hints(check, name, [g.rsplit(":", 1)[0].split(":", 1)[1] for g in granted])
    what = f"it grants {', '.join(granted)}" if granted else "it grants nothing at all"
    silent_anonymous = not anonymous and not claims.get("sub")
    who = (f"; the credentials of {check.credential.username!r} were sent, but the token has no subject: the "
           "token service did not accept them and silently issued an anonymous token") if silent_anonymous else ""
    message = (f"the token grants no {','.join(wanted.actions)} on {name} for {_subject(check, claims)}; {what}"
               f"{who}" + (f" ({'; '.join(hints)})" if hints else ""))
    if silent_anonymous:
        fix = f"check the username and password of {check.credential.username!r}: the token service treats " \
              "them as wrong (Harbor and others fall back to anonymous instead of answering 401)"
    elif anonymous:
        fix = f"log in to {check.registry} (or pass --username and --password-stdin): the repository is private " \
              "or does not exist"
    else:
        fix = f"check that {name} is spelled exactly as on the registry and that {_subject(check, claims)} may " \
              f"{','.join(wanted.actions)} it"
    check.add("jwt.no-access", message, fix)
