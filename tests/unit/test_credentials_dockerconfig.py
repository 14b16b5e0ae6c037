"""config.json / ~/.dockercfg location and parsing; broken input becomes credentials.config-invalid, never a crash."""

import base64
import json
from pathlib import Path

import pytest

from regauth.credentials.dockerconfig import config_dir, decode_auth, legacy_path, load_config
from regauth.credentials.keys import HUB_KEY
from regauth.credentials.model import CredentialOptions

FIXTURES = Path(__file__).parent.parent / "fixtures" / "credentials"


def b64(text: str, pad: bool = True) -> str:
    value = base64.b64encode(text.encode()).decode()
    return value if pad else value.rstrip("=")


def write(tmp_path: Path, data) -> Path:
    path = tmp_path / "config.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def codes(config):
    return [(d.code, d.severity) for d in config.diagnoses]


def test_config_dir_precedence(tmp_path):
    env = {"HOME": str(tmp_path / "home"), "DOCKER_CONFIG": str(tmp_path / "dc")}
    assert config_dir(CredentialOptions(config_dir=tmp_path / "flag"), env) == tmp_path / "flag"
    assert config_dir(CredentialOptions(), env) == tmp_path / "dc"
    assert config_dir(CredentialOptions(), {"HOME": str(tmp_path / "home")}) == tmp_path / "home" / ".docker"
    assert legacy_path({"HOME": str(tmp_path)}) == tmp_path / ".dockercfg"


def test_missing_and_empty_files_are_empty_configs(tmp_path):
    missing = load_config(tmp_path / "nope.json")
    assert not missing.exists and not missing.entries and not missing.diagnoses
    empty = load_config(write(tmp_path, "  \n"))
    assert empty.exists and not empty.entries and not empty.diagnoses


def test_entry_forms(tmp_path):
    path = write(tmp_path, {
        "auths": {
            "padded.example.com": {"auth": b64("user1:pw1-S3CRET")},
            "fields.example.com": {"username": "user2", "password": "pw2-S3CRET"},
            "both.example.com": {"auth": b64("authuser:authpw"), "username": "x", "password": "y"},
            "acr.azurecr.io": {"auth": b64("00000000-0000-0000-0000-000000000000:"), "identitytoken": "idt-S3CRET"},
            "token.example.com": {"registrytoken": "rt-S3CRET"},
            "nul.example.com": {"auth": b64("user3:pw3\x00\x00")},
            "colon.example.com": {"auth": b64("user4:pa:ss")},
            "placeholder.example.com": {},
            "email.example.com": {"auth": b64("user5:pw5"), "email": "user5@example.com"},
        },
        "credsStore": "desktop",
        "credHelpers": {"123456789012.dkr.ecr.us-east-1.amazonaws.com": "ecr-login"},
        "HttpHeaders": {"X-Meta": "x"},
    })
    config = load_config(path)
    assert not config.diagnoses
    e = config.entries
    assert (e["padded.example.com"].username, e["padded.example.com"].password.reveal()) == ("user1", "pw1-S3CRET")
    assert (e["fields.example.com"].username, e["fields.example.com"].password.reveal()) == ("user2", "pw2-S3CRET")
    assert (e["both.example.com"].username, e["both.example.com"].password.reveal()) == ("authuser", "authpw")
    acr = e["acr.azurecr.io"]
    assert acr.username == "00000000-0000-0000-0000-000000000000" and acr.password is None
    assert acr.identity_token.reveal() == "idt-S3CRET"
    assert e["token.example.com"].registry_token.reveal() == "rt-S3CRET"
    assert e["nul.example.com"].password.reveal() == "pw3"
    assert e["colon.example.com"].password.reveal() == "pa:ss"
    assert not e["placeholder.example.com"].has_secret
    assert e["email.example.com"].username == "user5"
    assert config.creds_store == "desktop"
    assert config.cred_helpers == {"123456789012.dkr.ecr.us-east-1.amazonaws.com": "ecr-login"}
    assert list(e) == list(json.loads(path.read_text())["auths"])  # file order is kept


def test_unpadded_auth_is_used_with_a_warning(tmp_path):
    config = load_config(write(tmp_path, {"auths": {"r.example.com": {"auth": b64("user1:pw12", pad=False)}}}))
    assert config.entries["r.example.com"].password.reveal() == "pw12"
    assert codes(config) == [("credentials.config-invalid", "warning")]
    assert "without '=' padding" in config.diagnoses[0].message


def test_broken_json_names_file_line_and_column():
    config = load_config(FIXTURES / "broken-json" / "config.json")
    assert config.exists and not config.entries
    [d] = config.diagnoses
    assert d.code == "credentials.config-invalid" and d.severity == "error"
    assert str(FIXTURES / "broken-json" / "config.json") in d.message
    assert "line 5, column 2" in d.message  # where "credsStore" follows without a comma
    assert "dXNlcjE6cGFzc3dvcmQ=" not in d.message + d.fix


def test_malformed_auth_entries_are_skipped_and_reported():
    config = load_config(FIXTURES / "malformed-auth" / "config.json")
    assert list(config.entries) == ["good.example.com"]
    messages = [d.message for d in config.diagnoses]
    assert len(messages) == 2
    assert "bad-base64.example.com" in messages[0] and "not valid base64" in messages[0]
    assert "no-colon.example.com" in messages[1] and "without a ':'" in messages[1]
    assert all("S3CRET" not in m for m in messages)


@pytest.mark.parametrize("data, words", [
    ([1, 2], "JSON array instead of an object"),
    ({"auths": []}, "\"auths\""),
    ({"auths": {"r.example.com": "dXNlcjpwdw=="}}, "not an object"),
    ({"auths": {"r.example.com": {"auth": 5}}}, "\"auth\" field"),
    ({"credsStore": 3}, "credsStore"),
    ({"credHelpers": {"r.example.com": ""}}, "does not name a helper"),
    ({"credHelpers": ["x"]}, "credHelpers"),
])
def test_malformed_structure(tmp_path, data, words):
    config = load_config(write(tmp_path, data))
    assert [d.code for d in config.diagnoses] == ["credentials.config-invalid"]
    assert words in config.diagnoses[0].message


def test_unreadable_file(tmp_path):
    path = tmp_path / "config.json"
    path.mkdir()
    config = load_config(path)
    assert [d.code for d in config.diagnoses] == ["credentials.config-invalid"]
    assert "cannot be read" in config.diagnoses[0].message


def test_acr_expose_token_output_saved_as_config():
    config = load_config(FIXTURES / "br56-acr-token-output" / "config.json")
    [d] = config.diagnoses
    assert "az acr login --expose-token" in d.message
    assert "docker login myregistry.azurecr.io -u 00000000-0000-0000-0000-000000000000" in d.fix
    assert "ACR-S3CRET" not in d.message + d.fix


def test_contains_auth(tmp_path):
    assert not load_config(write(tmp_path, {"currentContext": "default"})).contains_auth
    assert load_config(write(tmp_path, {"auths": {}})).contains_auth is True
    assert load_config(write(tmp_path, {"credsStore": "pass"})).contains_auth


@pytest.mark.parametrize("fixture, user", [("legacy-dockercfg-json", "legacy1"), ("legacy-dockercfg-lines", "legacy2")])
def test_legacy_dockercfg_formats(fixture, user):
    config = load_config(FIXTURES / fixture / ".dockercfg", legacy=True)
    assert not config.diagnoses
    assert config.entries[HUB_KEY].username == user


def test_decode_auth_rejects_what_docker_rejects():
    with pytest.raises(ValueError):
        decode_auth(b64(":password"))
    with pytest.raises(ValueError):
        decode_auth("a")
    assert decode_auth(b64("u:p") + "\n") == ("u", "p", True)

