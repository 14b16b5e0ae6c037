"""Redaction of secrets in headers, URLs, bodies and JWTs, for every output regauth produces.

Redacted values become `<redacted sha256:xxxxxxxx>` so two runs can be compared. Nothing here ever returns the
original secret unless `show` is true (the `--show-secrets` flag).

Two layers:

- structured redaction where a secret is recognisable by its place: secret headers, secret JSON/form fields,
  signature parameters of presigned URLs (in URLs, in `Location`/`Link` headers and in bodies), `Basic`/`Bearer`
  credentials and JWT signatures in any text;
- `scrub`, the last line of defence applied to every report, trace and HAR before it is written: any value that
  was ever wrapped in a `Secret` or redacted anywhere (see `secret.remember`) is replaced wherever else it shows up.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from regauth.secret import known_secrets, redacted, remember

SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-registry-auth",
                  "x-registry-config", "x-auth-token", "x-api-key", "x-amz-security-token",
                  "x-goog-iam-authorization-token"}
_SECRET_HEADER_WORDS = re.compile(r"token|secret|api-?key|passw(or)?d|session-?id")
_COOKIE_HEADERS = {"cookie", "set-cookie"}
SECRET_FIELDS = {"token", "access_token", "refresh_token", "password", "identitytoken", "registrytoken", "auth",
                 "secret", "id_token"}
# Field names compared without case, '_' and '-': accessToken, access-token and access_token are the same field.
_SECRET_FIELD_KEYS = {"token", "accesstoken", "refreshtoken", "password", "passwd", "identitytoken",
                      "registrytoken", "auth", "secret", "idtoken", "clientsecret", "sessiontoken",
                      "securitytoken", "apikey", "authorization", "proxyauthorization", "cookie"}
SIGNATURE_PARAMS = {"x-amz-signature", "x-amz-credential", "x-amz-security-token", "sig", "signature",
                    "x-goog-signature", "x-goog-credential", "x-goog-security-token", "x-oss-signature",
                    "x-oss-credential", "x-oss-security-token", "security-token", "q-signature",
                    "x-cos-security-token", "x-ms-signature"}
_JWT = re.compile(r"\b(eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)\.([A-Za-z0-9_-]{8,})")
_REDACTED = r"<redacted sha256:[0-9a-f]{8}>"
# `"password": "…"` in JSON-ish text that did not parse (cut off, or not quite JSON); the closing quote is optional
# so that a value cut off by a length cap is still caught.
_JSON_FIELD = re.compile(r'("([A-Za-z_-]+)"\s*:\s*")((?:[^"\\]|\\.)*)("?)')
# `name=value` for secret fields and signature parameters in query strings, form bodies, headers, HTML.
_PARAM = re.compile(r"(?i)(^|[?&;#\s\"'(,])([A-Za-z][A-Za-z0-9_.-]*)=([^&#\s\"'<>,;)]*)")
# `Basic <token68>` / `Bearer <token68>` credentials echoed in text (not auth-params like `Bearer realm=…`).
_CREDENTIALS = re.compile(r"(?i)\b(basic|bearer)(\s+)([A-Za-z0-9\-._~+/]{8,}=*)(?=$|[\s,;\"'<)\]}])")
# `user:password@` in URLs written in text.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@<>\"']*):([^/\s@<>\"']+)@")


def _key(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


def is_secret_field(name: str) -> bool:
    return _key(name) in _SECRET_FIELD_KEYS


def _is_secret_param(name: str) -> bool:
    return name.lower() in SIGNATURE_PARAMS or is_secret_field(name)


def redact_jwts(text: str) -> str:
    """Keep a JWT's header and claims readable, replace its signature."""
    if "eyJ" not in text:  # every JWT starts so; a substring test is far cheaper than the regex scan
        return text
    return _JWT.sub(lambda m: f"{m.group(1)}.{redacted(m.group(2))}", text)


_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f\x7f-\x9f])\1*")


def printable(value: str) -> str:
    """Control characters (terminal escapes, NULs, lone CRs) as visible `\\xNN` text; tabs and newlines stay."""
    def one(m: re.Match[str]) -> str:
        code, count = ord(m.group(1)), len(m.group(0))
        return f"\\x{code:02x}" * count if count < 4 else f"\\x{code:02x}×{count}"

    return _CONTROL.sub(one, value.replace("\r\n", "\n")) if value else value


def text(value: str, show: bool = False) -> str:
    """Redact everything recognisable as a secret in free text: JWT signatures, `Basic`/`Bearer` credentials,
    secret JSON fields, secret and signature parameters (`password=…`, `X-Amz-Signature=…`), URL passwords.
    Control characters become visible escapes (what a server sends must not drive the terminal)."""
    if not value:
        return value
    if show:
        return printable(value)
    out = _JSON_FIELD.sub(_json_field, printable(value))
    out = _CREDENTIALS.sub(_credentials, out)
    out = _PARAM.sub(_param, out)
    out = _USERINFO.sub(lambda m: f"{m.group(1)}:{redacted(unquote_plus(m.group(2)))}@", out)
    return redact_jwts(out)


def _credentials(m: re.Match[str]) -> str:
    word = m.group(3)
    looks_random = any(c.isdigit() or c in "+/=_-.~" for c in word) or (
        len(word) >= 20 and any(c.isupper() for c in word) and any(c.islower() for c in word))
    return f"{m.group(1)}{m.group(2)}{redacted(word)}" if looks_random else m.group(0)


def _json_field(m: re.Match[str]) -> str:
    if not is_secret_field(m.group(2)) or not m.group(3) or m.group(3).startswith("<redacted "):
        return m.group(0)
    return f"{m.group(1)}{redacted(m.group(3))}{m.group(4)}"


def _param(m: re.Match[str]) -> str:
    name, value = m.group(2), m.group(3)
    if not value or not _is_secret_param(name) or value.startswith("<redacted") or value.startswith("%3Credacted"):
        return m.group(0)
    remember(value)
    return f"{m.group(1)}{name}={redacted(unquote_plus(value))}"


def _cookies(name: str, value: str) -> str:
    """Keep cookie names (and Set-Cookie attributes), redact cookie values."""
    def one(pair: str) -> str:
        key, sep, val = pair.strip().partition("=")
        return f"{key}={redacted(val)}" if sep and val else pair.strip()

    if name == "cookie":
        return "; ".join(one(p) for p in value.split(";"))
    first, sep, attributes = value.partition(";")
    return one(first) + (sep + attributes if sep else "")


def header_value(name: str, value: str, show: bool = False) -> str:
    if show:
        return value
    low = name.lower()
    if low in _COOKIE_HEADERS:
        return _cookies(low, value)
    if low in SECRET_HEADERS or (_SECRET_HEADER_WORDS.search(low) and not low.startswith("access-control-")):
        scheme, _, credentials = value.partition(" ")
        if credentials and low.endswith("authorization"):
            return f"{scheme} {redacted(credentials)}"
        return redacted(value)
    if low in ("location", "content-location"):
        return url(value)
    return text(value)


def headers(pairs: list[tuple[str, str]], show: bool = False) -> list[tuple[str, str]]:
    return [(k, header_value(k, v, show)) for k, v in pairs]


def _query(raw: str) -> str:
    """Redact secret parameters of a raw query (or fragment), leaving every other byte as it was."""
    pieces = []
    for piece in raw.split("&"):
        name, sep, value = piece.partition("=")
        if sep and value and _is_secret_param(unquote_plus(name)):
            remember(value)  # as written (percent-encoded) too, for the scrub
            piece = f"{name}={redacted(unquote_plus(value))}"
        pieces.append(piece)
    return "&".join(pieces)


def url(value: str, show: bool = False) -> str:
    """Redact signature-bearing query parameters (presigned object-storage URLs), secret parameters such as
    `access_token`, and the password of `user:password@`; everything else is left exactly as it was."""
    if show or not value:
        return value
    try:
        parts = urlsplit(value)
    except ValueError:
        return text(value)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, sep, password = userinfo.partition(":")
        if sep and password:
            netloc = f"{user}:{redacted(unquote_plus(password))}@{hostport}"
    out = urlunsplit(parts._replace(netloc=netloc, query=_query(parts.query), fragment=_query(parts.fragment)))
    return redact_jwts(out)


def _walk(value: object) -> object:
    if isinstance(value, dict):
        return {k: (redacted(str(v)) if isinstance(k, str) and is_secret_field(k) and _scalar(v) else _walk(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v) for v in value]
    if isinstance(value, str):
        return text(value)
    return value


def _scalar(value: object) -> bool:
    """A value worth redacting under a secret field name (not null, not a flag, not empty, not a container)."""
    return isinstance(value, (str, int, float)) and not isinstance(value, bool) and value != ""


def json_value(value: Any, show: bool = False) -> Any:
    """A decoded JSON value with secret fields (and secrets inside strings) redacted."""
    return value if show else _walk(value)


def body(text_: str | None, content_type: str = "", show: bool = False) -> str | None:
    """Redact secret fields in JSON or form bodies, signature parameters and JWT signatures anywhere."""
    if text_ is None or show:
        return text_
    stripped = text_.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            return json.dumps(_walk(json.loads(text_)))
        except (ValueError, RecursionError):
            pass
    if "x-www-form-urlencoded" in content_type:
        return text(_query(text_))  # and whatever else it holds, when the label is wrong
    return text(text_)


# --- the last line of defence ------------------------------------------------------------------------------------

_Scrubber = tuple[tuple[str, ...], "re.Pattern[str] | None"]
_scrub_cache: tuple[frozenset[str], _Scrubber] = (frozenset(), ((), None))


def _scrubber() -> _Scrubber:
    """(the known secrets, longest first; one pattern matching any of them or an existing redaction marker)."""
    global _scrub_cache
    secrets = known_secrets()
    if secrets != _scrub_cache[0]:
        values = tuple(sorted(secrets, key=len, reverse=True))
        pattern = re.compile(f"({_REDACTED})|(" + "|".join(re.escape(v) for v in values) + ")") if values else None
        _scrub_cache = (secrets, (values, pattern))
    return _scrub_cache[1]


def scrub(value: str) -> str:
    """Replace every known secret value (see `secret.remember`) and JWT signature in `value`."""
    return _scrub(value, _scrubber())


def _scrub(value: str, scrubber: _Scrubber) -> str:
    if not value:
        return value
    secrets, pattern = scrubber
    # plain substring tests first: the alternation is slow to scan, and almost every string holds no secret
    if pattern is not None and any(secret in value for secret in secrets):
        value = pattern.sub(lambda m: m.group(1) or redacted(m.group(2)), value)
    return redact_jwts(value)


def scrub_obj(value: Any) -> Any:
    """`scrub` applied to every string inside dicts, lists, tuples and dataclasses (dataclasses in place)."""
    return _scrub_obj(value, _scrubber())  # the secrets known now: one lookup for the whole walk


def _scrub_obj(value: Any, scrubber: _Scrubber) -> Any:
    if isinstance(value, str):
        return _scrub(value, scrubber)
    if isinstance(value, dict):
        return {_scrub_obj(k, scrubber): _scrub_obj(v, scrubber) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_obj(v, scrubber) for v in value]
    if isinstance(value, tuple):
        return tuple(_scrub_obj(v, scrubber) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            setattr(value, f.name, _scrub_obj(getattr(value, f.name), scrubber))
        return value
    return value
