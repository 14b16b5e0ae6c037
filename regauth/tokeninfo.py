"""`regauth decode-token`: explain a bearer token's header and claims offline.

It takes what people paste: the token itself, `Bearer TOKEN` (or a whole `Authorization: Bearer TOKEN` header line),
or the token service's JSON response (`{"token": …}` / `{"access_token": …}`). The signature is never verified
(regauth has no key for it): a JWT is decoded, not trusted.
"""

from __future__ import annotations

import json
import re
import time

from regauth import redact
from regauth.diagnoses import diagnose
from regauth.errors import InputError
from regauth.report import CheckResult, Report, StepResult
from regauth.secret import fingerprint, remember

LEEWAY = 60  # distribution's leeway on exp/nbf, as the jwt step applies it
_BEARER = re.compile(r"(?i)^(?:(?:proxy-)?authorization\s*:\s*)?bearer(?:\s+|$)")
_TOKEN68 = re.compile(r"[A-Za-z0-9._~+/-]+=*")  # RFC 6750 b64token: what a bearer token can be made of
_RESPONSE_FIELDS = ("token", "access_token")
_PROBLEMS = {"jwt.malformed": "unsigned (alg none)", "jwt.expired": "expired"}
UNVERIFIED = ("the signature is NOT verified: regauth has no key for it, so a forged or altered token decodes just "
              "the same — only the registry can tell whether it accepts it")


def explain_token(token: str, show_secrets: bool = False) -> Report:
    from regauth.steps.jwt import decode

    token, notes = unwrap(token)
    remember(token)
    result = CheckResult(input=token if show_secrets else f"token {fingerprint(token)}")
    try:
        decoded = decode(token)
    except ValueError as e:
        raise InputError(f"the token looks like a JWT but {e}") from None
    if decoded is None:
        result.steps.append(StepResult("jwt", "ok", "opaque token (not a JWT): nothing to decode", facts=notes))
        return Report("decode-token", [result])
    header, claims = decoded
    header, claims = redact.json_value(header, show_secrets), redact.json_value(claims, show_secrets)
    facts = notes + [f"header: {json.dumps(header, ensure_ascii=False)}", UNVERIFIED]
    now = time.time()
    for name in ("iss", "sub", "aud", "jti"):
        if claims.get(name) not in (None, ""):
            facts.append(f"{name}: {_shown(claims[name])}")
    for name in ("iat", "nbf", "exp"):
        if _number(claims.get(name)):
            facts.append(f"{name}: {_when(claims[name], now)}")
    if not _number(claims.get("exp")):
        facts.append("no usable exp claim: distribution treats such a token as expired")
    access = claims.get("access")
    if isinstance(access, list):
        if not access:
            facts.append("access: [] — this token grants nothing")
        for a in access:
            if isinstance(a, dict):
                actions = a.get("actions")
                names = [str(x) for x in actions] if isinstance(actions, list) else [str(actions)] if actions else []
                facts.append(f"grants {','.join(names) or 'no actions'} on {a.get('type')}:{a.get('name')}")
    _judge(result, header, claims, now)
    severities = {d.severity for d in result.diagnoses}
    status = "fail" if "error" in severities else "warn" if "warning" in severities else "ok"
    result.steps.append(StepResult("jwt", status, _summary(header, claims, result), details={"header": header,
                                   "claims": claims}, facts=facts))
    return Report("decode-token", [result])


def unwrap(text: str) -> tuple[str, list[str]]:
    """The token inside what was pasted, and what was done to get at it; InputError (one line, never quoting the
    input) when it cannot be a bearer token."""
    notes: list[str] = []
    text = text.strip()
    if text.startswith("{"):
        text, note = _from_response(text)
        notes.append(note)
    bare = _BEARER.sub("", text, count=1)
    if bare != text:
        notes.append("read the token after 'Bearer '")
        text = bare.strip()
    if not text:
        raise InputError("the token is empty: pass it as the argument, or - and pipe it in")
    if not _TOKEN68.fullmatch(text):
        raise InputError(f"this is not a bearer token: it contains {_odd_character(text)} (a token is one word of "
                         "letters, digits and -._~+/=)")
    return text, notes


def _from_response(text: str) -> tuple[str, str]:
    """The token of a pasted token service response (docker's `token`, OAuth2's `access_token`)."""
    try:
        response = json.loads(text)
    except (ValueError, RecursionError):
        raise InputError("the input starts with '{' but is not JSON: paste the token, or the token service's "
                         "whole JSON response") from None
    if not isinstance(response, dict):
        raise InputError("the input is not a token service response (a JSON object)")
    for name in _RESPONSE_FIELDS:  # remember every token it carries (refresh_token too) before anything is shown
        value = response.get(name)
        if isinstance(value, str):
            remember(value)
    if isinstance(response.get("refresh_token"), str):
        remember(response["refresh_token"])
    field = next((name for name in _RESPONSE_FIELDS if isinstance(response.get(name), str) and response[name]), None)
    if field is None:
        raise InputError("the pasted JSON has no token or access_token field: it is not a token service response")
    note = f"the input is a token service response: decoded its {field} field"
    expires_in = response.get("expires_in")
    if _number(expires_in):
        note += f" (the response says expires_in {expires_in} s)"
    return response[field].strip(), note


def _odd_character(text: str) -> str:
    """What makes `text` no token, without quoting it."""
    for char in text:
        if char.isspace():
            return "whitespace"
        if not char.isprintable():
            return "control characters"
        if not char.isascii():
            return "non-ASCII characters"
        if not _TOKEN68.fullmatch(char) and char != "=":
            return f"the character {char!r}"
    return "'=' before its end"


def _judge(result: CheckResult, header: dict, claims: dict, now: float) -> None:
    """What makes a registry refuse the token, as diagnoses (only what can be told offline)."""
    if str(header.get("alg", "")).lower() == "none":
        result.diagnoses.append(diagnose(
            "jwt.malformed", "the token is unsigned (alg \"none\"): no registry accepts it",
            "configure the token service to sign its tokens"))
    exp = claims.get("exp")
    if _number(exp) and exp < now:
        ago = int(now - exp)
        if now > exp + LEEWAY:
            result.diagnoses.append(diagnose(
                "jwt.expired", f"the token expired at {_when(exp, now)} by this machine's clock: registries refuse "
                f"it (they allow {LEEWAY} s of leeway)", "fetch a new token; if it is fresh from the token service, "
                "that service's clock (or this machine's) is wrong: check NTP"))
        else:
            result.diagnoses.append(diagnose(
                "jwt.expired", f"the token expired {ago} s ago by this machine's clock: registries still accept it "
                f"for at most {LEEWAY - ago} s (their {LEEWAY} s leeway)", "fetch a new token", severity="warning"))


def _summary(header: dict, claims: dict, result: CheckResult) -> str:
    alg = header.get("alg")
    parts = [f"JWT {alg}" if isinstance(alg, str) and alg else "JWT without a usable alg"]
    if claims.get("iss") not in (None, ""):
        parts.append(f"issued by {_shown(claims['iss'], quote=True)}")
    if "sub" in claims:
        sub = claims["sub"]
        parts.append(f"for {_shown(sub, quote=True)}" if sub not in (None, "") else "for anonymous (empty sub)")
    summary = " ".join(parts)
    problems = dict.fromkeys(_PROBLEMS[d.code] for d in result.diagnoses if d.code in _PROBLEMS)
    return summary + (" — " + ", ".join(problems) if problems else "")


def _shown(value: object, quote: bool = False) -> str:
    """A claim for text: strings as they are (quoted with `quote`), anything else as JSON."""
    if isinstance(value, str):
        return repr(value) if quote else value
    return json.dumps(value, ensure_ascii=False)


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
