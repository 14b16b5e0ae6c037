"""Redaction of secrets in headers, URLs, bodies and JWTs, for every output regauth produces.

Redacted values become `<redacted sha256:xxxxxxxx>` so two runs can be compared. Nothing here ever returns the
original secret unless `show` is true (the `--show-secrets` flag).

Two layers:

- structured redaction where a secret is recognisable by its place: secret headers, secret JSON/form fields,
  signature parameters of presigned URLs (in URLs, in `Location`/`Link` headers and in bodies), `Basic`/`Bearer`
  credentials and JWT signatures in any text;
- `scrub`, the last line of defence applied to every report, trace and HAR before it is written: any value that
  was ever wrapped in a `Secret` or redacted anywhere (see `secret.remember`) is replaced wherever else it shows up,
  as it is or JSON-escaped, URL-encoded, base64- or hex-encoded (`forms`).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import threading
from typing import Any
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from regauth import fastjson
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
#
# A secret echoed by a server is rarely written as it was sent: a JSON body escapes `"`, `\` and non-ASCII
# (`\u00e4`; Go also `<>&` as `\u003c`…), a URL percent-encodes it, a config or a debug page base64- or hex-encodes
# it. The scrub looks for every such form of every known secret. To stay fast with thousands of strings and
# secrets, one compiled trie-shaped alternation of the forms' first characters finds candidate positions (a C scan
# over each string); only there are the whole forms compared.

_PREFIX = 8  # characters of each form in the candidate finder
_PLAIN_JSON = re.compile(r"[ !#-%'-.0-;=?-\[\]-~]*")  # printable ASCII that no JSON encoder escapes (not "\/<>&)
_PLAIN_URL = re.compile(r"[A-Za-z0-9_.~-]*")  # what no URL encoder escapes
_JSON_SHORT = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_JSON_SHORT_BF = {"\b": "\\b", "\f": "\\f"}  # Python and Go ≥ 1.22; older Go writes \u0008 and \u000c
_JSON_HTML = "<>&\u2028\u2029"  # what Go's encoding/json escapes by default (HTML-safe output)
_PERCENT = re.compile(r"%[0-9A-F]{2}")
_forms_cache: dict[str, tuple[str, ...]] = {}


def _json_escape(value: str, ascii_only: bool, html: bool, slash: bool, upper: bool, short_bf: bool) -> str:
    out = []
    for ch in value:
        code = ord(ch)
        if ch in _JSON_SHORT:
            out.append(_JSON_SHORT[ch])
        elif short_bf and ch in _JSON_SHORT_BF:
            out.append(_JSON_SHORT_BF[ch])
        elif slash and ch == "/":
            out.append("\\/")
        elif code < 0x20 or (html and ch in _JSON_HTML) or (ascii_only and code > 0x7E):  # DEL too
            units = [code] if code <= 0xFFFF else [0xD800 + ((code - 0x10000) >> 10), 0xDC00 + (code & 0x3FF)]
            out.extend(("\\u%04X" if upper else "\\u%04x") % unit for unit in units)
        else:
            out.append(ch)
    return "".join(out)


def _json_forms(value: str) -> set[str]:
    """`value` inside a JSON string as Python (ensure_ascii or not), Go (HTML-safe), PHP (escaped slashes) and
    Java/.NET (upper-case hex) encoders write it."""
    def options(present: bool) -> tuple[bool, ...]:
        return (False, True) if present else (False,)

    escaped = any(ord(c) < 0x20 or c in _JSON_HTML or ord(c) > 0x7E for c in value)
    return {_json_escape(value, a, h, s, u, b)
            for a in options(any(ord(c) > 0x7E for c in value)) for h in options(any(c in _JSON_HTML for c in value))
            for s in options("/" in value) for u in options(escaped) for b in options("\b" in value or "\f" in value)}


def _url_forms(data: bytes) -> set[str]:
    """`data` percent-encoded: quote and quote_plus, with the safe sets of Python, JavaScript and path encoders,
    upper- or lower-case hex."""
    from urllib.parse import quote, quote_plus

    out = set()
    for safe in ("", "/", "!'()*"):
        for form in (quote(data, safe=safe), quote_plus(data, safe=safe)):
            out.add(form)
            out.add(_PERCENT.sub(lambda m: m.group(0).lower(), form))
    return out


def forms(secret: str) -> tuple[str, ...]:
    """Every way `secret` is commonly written: as is, JSON-escaped, URL-encoded, base64 (standard and URL-safe,
    padded or not) and hex."""
    cached = _forms_cache.get(secret)
    if cached is not None:
        return cached
    import base64

    data = secret.encode("utf-8", "surrogatepass")
    out = {secret, data.hex(), data.hex().upper()}
    for encoded in (base64.b64encode(data).decode(), base64.urlsafe_b64encode(data).decode()):
        out.update((encoded, encoded.rstrip("=")))
    if not _PLAIN_JSON.fullmatch(secret):
        out |= _json_forms(secret)
    if not _PLAIN_URL.fullmatch(secret):
        out |= _url_forms(data)
    result = tuple(sorted(out, key=len, reverse=True))
    _forms_cache[secret] = result
    return result


def _trie_pattern(words: set[str]) -> str:
    """A regex matching any of `words`, factored as a trie (Python's re tries an alternation's branches one by
    one; a trie makes that a handful of character tests per position)."""
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:
        if "" in node:  # a word ends here: that is a candidate whatever follows
            return ""
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items())]
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return emit(trie)


@dataclasses.dataclass(eq=False)
class _Scrubber:
    """Finders for every form of the secrets known at one moment (see `_build`)."""

    prefilter: "re.Pattern[str] | None"  # any form's prefix; None when no secret is known
    finder: "re.Pattern[str] | None"  # an existing redaction marker (group 1), or any form's prefix
    by_prefix: dict[str, tuple[tuple[str, str], ...]]  # prefix -> (form, secret), longest form first
    lengths: tuple[int, ...] = ()  # the distinct prefix lengths
    shortest: int = 0  # the shortest form
    in_json: "re.Pattern[str] | None" = None  # any form's prefix as it reads inside a JSON string json.dumps wrote


_scrub_cache: tuple[frozenset[str], _Scrubber] = (frozenset(), _Scrubber(None, None, {}))
_build_lock = threading.Lock()


def _scrubber() -> _Scrubber:
    """The finder for every form of the secrets known now (rebuilt when a secret was learnt since)."""
    secrets = known_secrets()
    cached = _scrub_cache
    if secrets == cached[0]:
        return cached[1]
    with _build_lock:  # trace printing and the report scrub may both find the cache stale
        if secrets != _scrub_cache[0]:
            _build(secrets)
        return _scrub_cache[1]


def _build(secrets: frozenset[str]) -> None:
    global _scrub_cache
    for gone in _forms_cache.keys() - secrets:  # forgotten secrets (tests) do not pile up
        del _forms_cache[gone]
    by_form: dict[str, str] = {}
    for secret in sorted(secrets, key=len, reverse=True):
        for form in forms(secret):
            by_form.setdefault(form, secret)
    grouped: dict[str, list[tuple[str, str]]] = {}
    for form, secret in by_form.items():
        grouped.setdefault(form[:_PREFIX], []).append((form, secret))
    by_prefix = {prefix: tuple(sorted(pairs, key=lambda p: len(p[0]), reverse=True))
                 for prefix, pairs in grouped.items()}
    if by_prefix:
        trie = _trie_pattern(set(by_prefix))
        in_json = _trie_pattern({json.dumps(prefix)[1:-1] for prefix in by_prefix})
        scrubber = _Scrubber(re.compile(trie), re.compile(f"({_REDACTED})|{trie}"), by_prefix,
                             tuple(sorted({len(p) for p in by_prefix}, reverse=True)), min(map(len, by_form)),
                             re.compile(in_json))
    else:
        scrubber = _Scrubber(None, None, {})
    _scrub_cache = (secrets, scrubber)


def scrub(value: str) -> str:
    """Replace every known secret value (see `secret.remember`), in any of its encoded forms, and JWT signatures."""
    return _scrub(value, _scrubber())


def _scrub(value: str, scrubber: _Scrubber) -> str:
    if not value:
        return value
    if scrubber.prefilter is not None and len(value) >= scrubber.shortest and scrubber.prefilter.search(value):
        value = _replace(value, scrubber)
    return redact_jwts(value)


def _replace(value: str, scrubber: _Scrubber) -> str:
    assert scrubber.finder is not None
    out: list[str] = []
    done = pos = 0
    while (m := scrubber.finder.search(value, pos)) is not None:
        start = m.start()
        if m.group(1):  # an earlier redaction: left as it is
            pos = m.end()
            continue
        hit: tuple[str, str] | None = None
        for length in scrubber.lengths:
            for form, secret in scrubber.by_prefix.get(value[start:start + length], ()):
                if (hit is None or len(form) > len(hit[0])) and value.startswith(form, start):
                    hit = (form, secret)
                    break  # longest first within a prefix
        if hit is None:
            pos = start + 1
            continue
        out += (value[done:start], redacted(hit[1]))
        done = pos = start + len(hit[0])
    out.append(value[done:])
    return "".join(out)


def scrubbed_json(value: Any, indent: int = 2) -> str:
    """`json.dumps(scrub_obj(value), indent=indent, default=scrubbed str)` — without the walk when the encoding holds
    nothing a scrub would change. JSON escapes character by character, so a string holding a secret's form encodes
    to text holding that form's escape (the `in_json` finder), and a string holding a JWT to text holding "eyJ".
    A value JSON has no type for (a dataclass, say) always takes the walk."""
    scrubber = _scrubber()
    opaque: list[Any] = []  # values JSON has no type for: written as str(), which escapes unlike JSON

    def as_text(obj: Any) -> str:
        opaque.append(obj)
        return str(obj)

    text = fastjson.dumps(value, indent, as_text)
    if not opaque and "eyJ" not in text and (scrubber.in_json is None or not scrubber.in_json.search(text)):
        return text
    return fastjson.dumps(_scrub_obj(value, scrubber), indent, lambda obj: _scrub(str(obj), scrubber))


def scrub_obj(value: Any) -> Any:
    """`scrub` applied to every string inside dicts, lists, tuples and dataclasses (dataclasses in place, frozen ones
    copied)."""
    return _scrub_obj(value, _scrubber())  # the secrets known now: one lookup for the whole walk


_NOTHING_TO_SCRUB = frozenset({int, float, bool, type(None)})
_layouts: dict[type, tuple[tuple[str, ...], bool]] = {}  # dataclass -> (field names, frozen): fields() is slow


def _scrub_obj(value: Any, scrubber: _Scrubber) -> Any:
    kind = type(value)
    if kind in _NOTHING_TO_SCRUB:
        return value
    if isinstance(value, str):
        return _scrub(value, scrubber)
    if isinstance(value, dict):
        return {_scrub_obj(k, scrubber): _scrub_obj(v, scrubber) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_obj(v, scrubber) for v in value]
    if isinstance(value, tuple):
        return tuple(_scrub_obj(v, scrubber) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        layout = _layouts.get(kind)
        if layout is None:
            layout = _layouts[kind] = (tuple(f.name for f in dataclasses.fields(value)),
                                       value.__dataclass_params__.frozen)  # type: ignore[attr-defined]
        names, frozen = layout
        out = value
        for name in names:
            old = getattr(value, name)
            new = _scrub_obj(old, scrubber)
            if new is not old:  # strings and scalars that need nothing come back as they are
                if frozen and out is value:  # a frozen value is not changed under its other holders: a copy is
                    out = copy.copy(value)
                object.__setattr__(out, name, new)
        return out
    return value
