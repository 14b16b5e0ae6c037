"""Redaction of secrets in headers, URLs, bodies and JWTs, for every output regauth produces.

Redacted values become `<redacted sha256:xxxxxxxx>` so two runs can be compared. Nothing here ever returns the
original secret unless `show` is true (the `--show-secrets` flag).
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from regauth.secret import redacted

SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie"}
SECRET_FIELDS = {"token", "access_token", "refresh_token", "password", "identitytoken", "registrytoken", "auth",
                 "secret", "id_token"}
SIGNATURE_PARAMS = {"x-amz-signature", "x-amz-credential", "x-amz-security-token", "sig", "signature",
                    "x-goog-signature", "x-goog-credential"}
_JWT = re.compile(r"\b(eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)\.([A-Za-z0-9_-]{8,})")


def redact_jwts(text: str) -> str:
    """Keep a JWT's header and claims readable, replace its signature."""
    return _JWT.sub(lambda m: f"{m.group(1)}.{redacted(m.group(2))}", text)


def header_value(name: str, value: str, show: bool = False) -> str:
    if show or name.lower() not in SECRET_HEADERS:
        return value
    scheme, _, credentials = value.partition(" ")
    if credentials and name.lower().endswith("authorization"):
        return f"{scheme} {redacted(credentials)}"
    return redacted(value)


def headers(pairs: list[tuple[str, str]], show: bool = False) -> list[tuple[str, str]]:
    return [(k, header_value(k, v, show)) for k, v in pairs]


def url(value: str, show: bool = False) -> str:
    """Redact signature-bearing query parameters (presigned object-storage URLs)."""
    if show or "?" not in value:
        return value
    parts = urlsplit(value)
    query = [(k, redacted(v) if k.lower() in SIGNATURE_PARAMS else v)
             for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(query, safe="<>: ")))


def _walk(value: object) -> object:
    if isinstance(value, dict):
        return {k: (redacted(str(v)) if k.lower() in SECRET_FIELDS and isinstance(v, str) and v else _walk(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v) for v in value]
    return value


def body(text: str | None, content_type: str = "", show: bool = False) -> str | None:
    """Redact secret fields in JSON or form bodies, and JWT signatures anywhere."""
    if text is None or show:
        return text
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            return json.dumps(_walk(json.loads(text)))
        except ValueError:
            pass
    if "x-www-form-urlencoded" in content_type:
        pairs = parse_qsl(text, keep_blank_values=True)
        return urlencode([(k, redacted(v) if k.lower() in SECRET_FIELDS and v else v) for k, v in pairs],
                         safe="<>: ")
    return redact_jwts(text)
