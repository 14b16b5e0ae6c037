"""`regauth decode-token`: explain a bearer token's header and claims offline."""

from __future__ import annotations

import time

from regauth.errors import InputError
from regauth.report import CheckResult, Report, StepResult
from regauth.secret import fingerprint


def explain_token(token: str, show_secrets: bool = False) -> Report:
    from regauth.steps.jwt import decode

    if not token or any(c.isspace() for c in token):
        raise InputError("the token is empty or contains whitespace")
    result = CheckResult(input=token if show_secrets else f"token {fingerprint(token)}")
    try:
        decoded = decode(token)
    except ValueError as e:
        raise InputError(f"the token looks like a JWT but {e}") from None
    if decoded is None:
        result.steps.append(StepResult("jwt", "ok", "opaque token (not a JWT): nothing to decode"))
        return Report("decode-token", [result])
    header, claims = decoded
    facts = [f"header: {header}"]
    now = time.time()
    for name in ("iss", "sub", "aud", "jti"):
        if name in claims:
            facts.append(f"{name}: {claims[name]}")
    for name in ("iat", "nbf", "exp"):
        if isinstance(claims.get(name), (int, float)):
            delta = int(claims[name] - now)
            facts.append(f"{name}: {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(claims[name]))} "
                         f"({'in ' + str(delta) + ' s' if delta >= 0 else str(-delta) + ' s ago'})")
    access = claims.get("access")
    if isinstance(access, list):
        if not access:
            facts.append("access: [] — this token grants nothing")
        for a in access:
            if isinstance(a, dict):
                facts.append(f"grants {','.join(a.get('actions') or []) or 'no actions'} on "
                             f"{a.get('type')}:{a.get('name')}")
    status = "ok"
    summary = f"JWT {header.get('alg')} issued by {claims.get('iss')!r} for {claims.get('sub') or 'anonymous'}"
    if isinstance(claims.get("exp"), (int, float)) and claims["exp"] < now:
        status, summary = "warn", summary + " — expired"
    result.steps.append(StepResult("jwt", status, summary, details={"header": header, "claims": claims},
                                   facts=facts))
    return Report("decode-token", [result])
