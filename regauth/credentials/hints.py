"""Provider-specific remarks about a credential (ECR expiry, ACR refresh tokens, GCR JSON keys, Hub e-mail logins).

Hints never quote a secret: they report only its shape, an expiry time or a non-secret field.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from typing import Any

from regauth.credentials.keys import is_hub
from regauth.credentials.model import Credential

ACR_NULL_USER = "00000000-0000-0000-0000-000000000000"
_ECR_HOST = re.compile(r"\d{12}\.dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?")
ECR_LIFETIME_HOURS = 12


def credential_hints(registry: str, credential: Credential, now: float | None = None) -> list[str]:
    """Short remarks about `credential` for `registry`; empty when there is nothing to say."""
    user = credential.username or ""
    password = credential.password.reveal() if credential.password else ""
    hints = []
    if is_hub(registry) and "@" in user:
        hints.append("the username looks like an e-mail address, but Docker Hub expects the Docker ID")
    if user == ACR_NULL_USER and credential.identity_token:
        hints.append("ACR refresh-token login: the identity token is exchanged with an OAuth2 POST "
                     "(grant_type=refresh_token)")
    elif user == ACR_NULL_USER and password:
        hints.append("the password is an ACR refresh token (as printed by `az acr login --expose-token`), which is "
                     "exchanged at /oauth2/token")
    if user == "AWS" and _ECR_HOST.fullmatch(registry) and password:
        hints.extend(_ecr_expiry(password, time.time() if now is None else now))
    if user in ("_json_key", "_json_key_base64") and password:
        hints.append(_gcr_key(user, password))
    return hints


def _ecr_expiry(password: str, now: float) -> list[str]:
    document = _json(_b64(password))
    expires = document.get("expiration") if isinstance(document, dict) else None
    if not isinstance(expires, (int, float)):
        return []
    hours = (expires - now) / 3600
    if hours <= 0:
        return [f"the ECR token expired {-hours:.1f} h ago (ECR tokens last {ECR_LIFETIME_HOURS} h)"]
    return [f"the ECR token expires in {hours:.1f} h"]


def _gcr_key(user: str, password: str) -> str:
    text = _b64(password) if user == "_json_key_base64" else password
    key = _json(text)
    if isinstance(key, dict) and key.get("type") == "service_account":
        email = key.get("client_email")
        domain = email.rpartition("@")[2] if isinstance(email, str) else "unknown"
        return f"{user} password is a service-account JSON key (client_email domain {domain})"
    first = text.lstrip()[:1]
    shape = "starts with a quote character" if first in ("'", '"') else "is not a service-account JSON object"
    return f"{user} password must be the service-account JSON key file byte for byte, but it {shape}"


def _b64(text: str) -> str:
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return ""


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None
