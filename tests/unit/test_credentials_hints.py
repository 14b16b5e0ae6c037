"""Provider hints (BR-25 ECR expiry, BR-27/28 ACR, BR-29 GCR JSON key, BR-36 Hub e-mail); none quotes a secret."""

import base64
import json

import pytest

from regauth.credentials.hints import ACR_NULL_USER, credential_hints
from regauth.credentials.model import Credential
from regauth.secret import Secret

NOW = 1_700_000_000
ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


def ecr_password(expiration: float) -> Secret:
    document = {"payload": "S3CRET-payload", "datakey": "S3CRET-key", "version": "2", "type": "DATA_KEY",
                "expiration": expiration}
    return Secret(base64.b64encode(json.dumps(document).encode()).decode())


@pytest.mark.parametrize("offset, text", [(-13 * 3600, "expired 13.0 h ago (ECR tokens last 12 h)"),
                                          (3 * 3600, "expires in 3.0 h")])
def test_ecr_token_expiry(offset, text):
    [hint] = credential_hints(ECR, Credential(username="AWS", password=ecr_password(NOW + offset)), now=NOW)
    assert text in hint


def test_ecr_password_that_is_not_a_token_gives_no_hint():
    assert credential_hints(ECR, Credential(username="AWS", password=Secret("plain")), now=NOW) == []


def test_acr_refresh_token_forms():
    [login] = credential_hints("r.azurecr.io", Credential(username=ACR_NULL_USER, identity_token=Secret("S3CRET")))
    assert "grant_type=refresh_token" in login
    [exposed] = credential_hints("r.azurecr.io", Credential(username=ACR_NULL_USER, password=Secret("S3CRET")))
    assert "--expose-token" in exposed


@pytest.mark.parametrize("password, text", [
    (json.dumps({"type": "service_account", "client_email": "ci@proj1.iam.gserviceaccount.com",
                 "private_key": "S3CRET"}), "client_email domain proj1.iam.gserviceaccount.com"),
    ("'" + json.dumps({"type": "service_account", "private_key": "S3CRET"}) + "'", "starts with a quote character"),
    ("S3CRET-not-json", "is not a service-account JSON object"),
])
def test_gcr_json_key(password, text):
    [hint] = credential_hints("gcr.io", Credential(username="_json_key", password=Secret(password)))
    assert text in hint and "S3CRET" not in hint


def test_gcr_json_key_base64():
    key = base64.b64encode(json.dumps({"type": "service_account", "client_email": "a@p.iam"}).encode()).decode()
    [hint] = credential_hints("gcr.io", Credential(username="_json_key_base64", password=Secret(key)))
    assert "client_email domain p.iam" in hint


def test_hub_email_username():
    [hint] = credential_hints("docker.io", Credential(username="user1@example.com", password=Secret("S3CRET")))
    assert "Docker ID" in hint
    assert credential_hints("ghcr.io", Credential(username="user1@example.com", password=Secret("S3CRET"))) == []
