"""Step `jwt`: decode the bearer token without trusting it, and check what it grants and when it is valid."""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timezone
from typing import Any

from regauth.context import Check
from regauth.report import StepResult

LEEWAY = 60  # distribution's leeway on exp/nbf


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def decode(token: str) -> tuple[dict, dict] | None:
    """(header, claims) of a JWT, or None for an opaque token. Raises ValueError when it looks like a JWT but
    does not decode."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header = json.loads(_b64(parts[0]))
    except ValueError:
        return None
    if not isinstance(header, dict) or "alg" not in header:
        return None
    try:
        claims = json.loads(_b64(parts[1]))
    except ValueError as e:
        raise ValueError(f"the claims segment does not decode: {e}") from None
    if not isinstance(claims, dict):
        raise ValueError("the claims segment is not a JSON object")
    return header, claims


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def run(check: Check) -> StepResult:
    token = check.token
    if token is None:
        return StepResult("jwt", "skip", "no bearer token")
    try:
        decoded = decode(token.value)
    except ValueError as e:
        check.add("jwt.malformed", f"the token looks like a JWT but {e}",
                  "the token service produces broken tokens, or something rewrote the token in transit")
        return StepResult("jwt", "fail", f"malformed JWT: {e}")
    if decoded is None:
        check.add("jwt.opaque", "the token is opaque (not a JWT): what it grants cannot be checked client-side",
                  "nothing to fix: registries such as GHCR, GCR and Artifact Registry issue opaque tokens")
        return StepResult("jwt", "ok", "opaque token (not a JWT)", details={"jwt": False})
    header, claims = decoded
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
    if not isinstance(exp, (int, float)):
        check.add("jwt.expired", "the token has no exp claim: distribution treats it as expired",
                  "configure the token service to set exp")
        return
    result.facts.append(f"valid until {_when(exp)} ({int(exp - ref_now)} s from the server's now)")
    if ref_now > exp + LEEWAY or local > exp + LEEWAY:
        basis = "the server's Date" if ref_now > exp + LEEWAY else "the local clock"
        check.add("jwt.expired", f"the token expired at {_when(exp)}, {int(max(ref_now, local) - exp)} s ago by "
                  f"{basis}", "if the token is fresh from the token service, its clock is wrong; otherwise a stale "
                  "token was cached: fetch a new one")
    for name, value in (("nbf", nbf), ("iat", iat)):
        if isinstance(value, (int, float)) and value - LEEWAY > ref_now:
            check.add("jwt.not-yet-valid", f"the token's {name} is {_when(value)}, {int(value - ref_now)} s in the "
                      "future of the registry's clock: the token service's clock runs ahead",
                      "sync the clocks (NTP) of the token service and the registry")
            break


def _check_audience(check: Check, claims: dict, result: StepResult) -> None:
    service = check.challenge.service if check.challenge else None
    aud = claims.get("aud")
    auds = aud if isinstance(aud, list) else [aud] if aud is not None else []
    if service and service not in auds:
        check.add("jwt.audience-mismatch", f"the token's aud is {aud!r} but the registry's challenge names "
                  f"service {service!r}: the registry will reject it as invalid_token",
                  "make the token service issue tokens for the registry's service name (or fix the registry's "
                  "auth.token.service)")


def _check_access(check: Check, claims: dict, result: StepResult) -> None:
    from regauth.scope import missing_actions, parse_scope

    access = claims.get("access")
    if not check.scopes:
        return
    if not isinstance(access, list):
        result.facts.append("no access claim: what the token grants cannot be checked")
        return
    granted = [f"{a.get('type')}:{a.get('name')}:{','.join(a.get('actions'))}" for a in access
               if isinstance(a, dict) and a.get("actions")]
    result.details["granted"] = granted
    for text in check.scopes:
        wanted = parse_scope(text)
        missing = missing_actions(access, wanted)
        if not missing:
            result.facts.append(f"grants {','.join(wanted.actions)} on {wanted.name}")
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


def _no_access(check: Check, wanted: Any, granted: list[str], claims: dict) -> None:
    name = wanted.name
    hints = []
    anonymous = check.credential is None or check.credential.anonymous
    if name.startswith("library/") and check.ref and not check.ref.is_docker_hub:
        hints.append(f"'library/' is a Docker Hub convention: on {check.registry} the name may be "
                     f"'{name[len('library/'):]}'")
    what = f"it grants {', '.join(granted)}" if granted else "it grants nothing at all"
    message = (f"the token grants no {','.join(wanted.actions)} on {name} for {_subject(check, claims)}; {what}"
               + (f" ({'; '.join(hints)})" if hints else ""))
    if anonymous:
        fix = f"log in to {check.registry} (or pass --username and --password-stdin): the repository is private " \
              "or does not exist"
    else:
        fix = f"check that {name} is spelled exactly as on the registry and that {_subject(check, claims)} may " \
              f"{','.join(wanted.actions)} it"
    check.add("jwt.no-access", message, fix)
