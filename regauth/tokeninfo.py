"""`regauth decode-token`: explain a bearer token's header and claims offline."""

from __future__ import annotations

import time

from regauth import redact
from regauth.errors import InputError
from regauth.report import CheckResult, Report, StepResult
from regauth.secret import fingerprint, remember


def explain_token(token: str, show_secrets: bool = False) -> Report:
    from regauth.steps.jwt import decode

    if not token or any(c.isspace() for c in token):
        raise InputError("the token is empty or contains whitespace")
    remember(token)
    result = CheckResult(input=token if show_secrets else f"token {fingerprint(token)}")
    try:
        decoded = decode(token)
    except ValueError as e:
        raise InputError(f"the token looks like a JWT but {e}") from None
    if decoded is None:
        result.steps.append(StepResult("jwt", "ok", "opaque token (not a JWT): nothing to decode"))
        return Report("decode-token", [result])
    header, claims = decoded
    header, claims = redact.json_value(header, show_secrets), redact.json_value(claims, show_secrets)
    facts = [f"header: {header}"]
    now = time.time()
    for name in ("iss", "sub", "aud", "jti"):
        if name in claims:
            facts.append(f"{name}: {claims[name]}")
    for name in ("iat", "nbf", "exp"):
        if _number(claims.get(name)):
            facts.append(f"{name}: {_when(claims[name], now)}")
    access = claims.get("access")
    if isinstance(access, list):
        if not access:
            facts.append("access: [] — this token grants nothing")
        for a in access:
            if isinstance(a, dict):
                actions = a.get("actions")
                names = [str(x) for x in actions] if isinstance(actions, list) else [str(actions)] if actions else []
                facts.append(f"grants {','.join(names) or 'no actions'} on {a.get('type')}:{a.get('name')}")
    status = "ok"
    summary = f"JWT {header.get('alg')} issued by {claims.get('iss')!r} for {claims.get('sub') or 'anonymous'}"
    if _number(claims.get("exp")) and claims["exp"] < now:
        status, summary = "warn", summary + " — expired"
    result.steps.append(StepResult("jwt", status, summary, details={"header": header, "claims": claims},
                                   facts=facts))
    return Report("decode-token", [result])


def _number(value: object) -> bool:
    """A usable NumericDate: a finite number (not a bool)."""
    import math

    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _when(value: float, now: float) -> str:
    """`2024-01-01 00:00:00 UTC (in 30 s)`, or the raw number when it is no representable date."""
    try:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(value))
        delta = int(value - now)
    except (OverflowError, OSError, ValueError):
        return f"{value} (not a representable date)"
    return f"{stamp} ({'in ' + str(delta) + ' s' if delta >= 0 else str(-delta) + ' s ago'})"
