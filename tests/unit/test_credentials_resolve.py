"""lookup(): flags → docker (credHelpers → credsStore → auths) → containers auth.json → anonymous, with
candidates, diagnoses and the docker/podman comparison. Every secret used here contains "S3CRET", and every
lookup is checked for leaks."""

import base64
import json
import shutil
import sys
from pathlib import Path

import pytest

from regauth.credentials.flags import options_with_password_file, validate_flags
from regauth.credentials.keys import HUB_KEY
from regauth.credentials.model import CredentialOptions
from regauth.credentials.resolve import lookup
from regauth.errors import InputError
from regauth.secret import Secret
from tests.support.fake_helpers import calls, hermetic_env, store_helper, write_helper

FIXTURES = Path(__file__).parent.parent / "fixtures" / "credentials"


def auth(user: str, password: str) -> dict:
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}


class World:
    """A hermetic HOME/XDG/PATH under tmp_path."""

    def __init__(self, root: Path):
        self.env = hermetic_env(root)
        self.root = root
        self.bin = root / "bin"
        self.docker_dir = root / "home" / ".docker"

    def docker(self, data: dict) -> Path:
        self.docker_dir.mkdir(parents=True, exist_ok=True)
        path = self.docker_dir / "config.json"
        path.write_text(json.dumps(data))
        return path

    def docker_fixture(self, name: str) -> Path:
        self.docker_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURES / name / "config.json", self.docker_dir / "config.json")
        return self.docker_dir / "config.json"

    def authjson(self, data: dict, path: Path | None = None) -> Path:
        path = path or self.root / "run" / "containers" / "auth.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data))
        return path

    def lookup(self, registry: str, repository: str = "team/app", **options):
        result = lookup(registry, repository, CredentialOptions(**options), env=self.env)
        assert_no_secret(result)
        return result


def assert_no_secret(result) -> None:
    shown = json.dumps({
        "candidates": [c.to_json() for c in result.candidates],
        "diagnoses": [d.to_json() for d in result.diagnoses],
        "credential": result.credential.describe() if result.credential else None,
        "tools": result.tools,
    })
    assert "S3CRET" not in shown
    assert "S3CRET" not in repr(result)


def codes(result) -> list[tuple[str, str]]:
    return [(d.code, d.severity) for d in result.diagnoses]


def used(result):
    [candidate] = [c for c in result.candidates if c.used]
    return candidate


@pytest.fixture
def world(tmp_path) -> World:
    return World(tmp_path)


# -- docker config.json auths ----------------------------------------------------------------------------------

def test_exact_key(world):
    path = world.docker({"auths": {"registry.example.com": auth("user1", "pw-S3CRET")}})
    result = world.lookup("registry.example.com")
    cred = result.credential
    assert (cred.username, cred.password.reveal(), cred.source, cred.origin, cred.key) == (
        "user1", "pw-S3CRET", "docker-config", str(path), "registry.example.com")
    assert used(result).reason == "used: password for user user1"
    assert result.diagnoses == []
    expected = f"the entry 'registry.example.com' in {path} for user user1"
    assert result.tools == {"docker": expected, "podman": expected}


@pytest.mark.parametrize("key", ["https://index.docker.io/v1", "index.docker.io", "docker.io", "registry-1.docker.io",
                                 "docker.io/library/alpine"])
def test_hub_key_variants_docker_ignores(world, key):
    """§7.8, docker column: only https://index.docker.io/v1/ serves docker.io pulls; podman reads the others."""
    world.docker({"auths": {key: auth("user1", "pat-S3CRET")}})
    result = world.lookup("docker.io", "library/alpine")
    assert result.credential is None
    assert codes(result) == [("credentials.key-mismatch", "warning"), ("credentials.tools-disagree", "info")]
    mismatch, disagree = result.diagnoses
    assert f"'{key}'" in mismatch.message and HUB_KEY in mismatch.message and HUB_KEY in mismatch.fix
    assert "docker would use no credentials (anonymous)" in disagree.message
    assert f"would use the entry '{key}'" in disagree.message
    assert f"Rename the key '{key}' to '{HUB_KEY}'" in disagree.fix
    [candidate] = result.candidates[:1]
    assert candidate.reason.startswith(f"entry under '{key}' does not match '{HUB_KEY}'")


def test_hub_key_used(world):
    world.docker({"auths": {HUB_KEY: auth("user1", "pat-S3CRET")}})
    result = world.lookup("docker.io", "library/alpine")
    assert result.credential.key == HUB_KEY and result.diagnoses == []


def test_br49_registry_1_key_only(world):
    world.docker({"auths": {"https://registry-1.docker.io/": auth("user1", "pat-S3CRET")}})
    result = world.lookup("docker.io", "library/alpine")
    assert result.credential is None
    assert "docker reads Docker Hub credentials only under" in result.diagnoses[0].message


@pytest.mark.parametrize("registry, repository, key, user", [
    ("ghcr.example.io", "org1/app1", "ghcr.example.io", "user1"),
    ("registry.example.com", "team1/app1", "https://registry.example.com/", "user1"),
    ("docker.io", "user1/app1", HUB_KEY, "user1"),
])
def test_br54_key_spellings(world, registry, repository, key, user):
    world.docker_fixture("br54-key-spellings")
    result = world.lookup(registry, repository)
    assert (result.credential.key, result.credential.username) == (key, user)
    if key.startswith("https://registry"):
        assert "matched 'registry.example.com' through docker's ConvertToHostname" in used(result).reason
        assert codes(result) == [("credentials.key-mismatch", "warning")]
        assert "only after reducing it to 'registry.example.com'" in result.diagnoses[0].message
    else:
        assert result.diagnoses == []


def test_scheme_and_path_key_for_a_port_registry(world):
    world.docker({"auths": {"https://127.0.0.1:5000/v2/": auth("user1", "pw-S3CRET")}})
    result = world.lookup("127.0.0.1:5000")
    assert result.credential.key == "https://127.0.0.1:5000/v2/"
    assert codes(result) == [("credentials.key-mismatch", "warning")]
    assert "Rename the key 'https://127.0.0.1:5000/v2/' to '127.0.0.1:5000'" in result.diagnoses[0].fix


@pytest.mark.parametrize("key, words", [
    ("127.0.0.1", "it has no port"),
    ("127.0.0.1:5001", "port 5001, not 5000"),
])
def test_port_mismatch(world, key, words):
    path = world.docker({"auths": {key: auth("user1", "pw-S3CRET")}})
    result = world.lookup("127.0.0.1:5000")
    assert result.credential is None
    [mismatch] = [d for d in result.diagnoses if d.code == "credentials.key-mismatch"]
    assert words in mismatch.message and str(path) in mismatch.message
    assert "docker login 127.0.0.1:5000" in mismatch.fix
    assert "credentials.not-found" not in [d.code for d in result.diagnoses]
    assert any(c.reason.startswith(f"entry under '{key}' does not match '127.0.0.1:5000': ") and words in c.reason
               for c in result.candidates)


def test_several_keys_reduce_to_the_same_host(world):
    world.docker({"auths": {"https://r.example.com/": auth("a", "S3CRET-a"),
                            "http://r.example.com": auth("b", "S3CRET-b")}})
    result = world.lookup("r.example.com")
    assert "2 keys match and docker picks one at random" in used(result).reason
    assert any(c.reason.startswith("not used: docker took the entry") for c in result.candidates)


def test_empty_placeholder_entry(world):
    world.docker({"auths": {"r.example.com": {}}})
    result = world.lookup("r.example.com")
    assert result.credential is None
    assert any("placeholder" in c.reason for c in result.candidates)
    [d] = result.diagnoses
    assert d.code == "credentials.not-found" and "the entry 'r.example.com'" in d.message and "is empty" in d.message


def test_registry_token_and_identity_token_entries(world):
    world.docker({"auths": {
        "tok.example.com": {"registrytoken": "rt-S3CRET"},
        "myregistry.azurecr.io": {**auth("00000000-0000-0000-0000-000000000000", ""), "identitytoken": "idt-S3CRET"},
    }})
    token = world.lookup("tok.example.com")
    assert token.credential.kind == "registry-token" and "registry token" in used(token).reason
    acr = world.lookup("myregistry.azurecr.io")
    assert acr.credential.kind == "identity-token" and acr.credential.identity_token.reveal() == "idt-S3CRET"
    assert "ACR refresh-token login" in used(acr).reason


# -- credential helpers ----------------------------------------------------------------------------------------

def test_cred_helpers_entry_wins_over_creds_store_and_auths(world):
    world.docker({"credHelpers": {"r.example.com": "special"}, "credsStore": "general",
                  "auths": {"r.example.com": auth("fileuser", "file-S3CRET")}})
    store_helper(world.bin, "special", {"r.example.com": ("helperuser", "helper-S3CRET")})
    result = world.lookup("r.example.com")
    cred = result.credential
    assert (cred.source, cred.origin, cred.username) == ("credential-helper", "docker-credential-special", "helperuser")
    assert calls(world.bin, "special") == [{"action": "get", "server": "r.example.com"}]
    assert "via credHelpers['r.example.com']" in used(result).reason
    assert any("instead of reading auths" in c.reason for c in result.candidates)


def test_hub_helper_is_asked_with_the_hub_key_and_token_username(world):
    world.docker({"credsStore": "fake"})
    store_helper(world.bin, "fake", {HUB_KEY: ("<token>", "refresh-S3CRET")})
    result = world.lookup("docker.io", "library/alpine")
    assert calls(world.bin, "fake") == [{"action": "get", "server": HUB_KEY}]
    assert result.credential.kind == "identity-token" and result.credential.username is None


def test_br53_creds_store_helper_missing(world):
    path = world.docker_fixture("br53-desktop-missing")
    result = world.lookup("registry.example.com")
    assert result.credential is None
    assert codes(result) == [("credentials.helper-missing", "error")]
    d = result.diagnoses[0]
    assert f"credsStore in {path} names docker-credential-desktop, which is not on PATH" in d.message
    assert "empty placeholders" in d.message
    assert d.fix == f"Install docker-credential-desktop or remove credsStore from {path} and log in again."
    assert any(c.reason == "helper not on PATH" for c in result.candidates)


def test_helper_failure_is_reported_with_exit_code(world):
    world.docker({"credsStore": "pass"})
    write_helper(world.bin, "pass", "fail", exit_code=1, message="pass not initialized: exec: \"pass\": not found")
    result = world.lookup("r.example.com")
    assert codes(result) == [("credentials.helper-failed", "error")]
    assert "exited with status 1: pass not initialized" in result.diagnoses[0].message


@pytest.mark.parametrize("mode, words", [("hang", "within 0.5 s"), ("garbage", "did not print JSON")])
def test_helper_timeout_and_garbage(world, mode, words):
    world.docker({"credHelpers": {"r.example.com": "odd"}})
    write_helper(world.bin, "odd", mode)
    result = world.lookup("r.example.com", helper_timeout=0.5)
    assert codes(result) == [("credentials.helper-failed", "error")] and words in result.diagnoses[0].message


def test_helper_has_nothing(world):
    world.docker({"credsStore": "fake", "auths": {"r.example.com": {}}})
    store_helper(world.bin, "fake", {})
    result = world.lookup("r.example.com")
    assert codes(result) == [("credentials.not-found", "warning")]
    assert "docker-credential-fake (credsStore in" in result.diagnoses[0].message


def test_creds_store_hides_plaintext_entry_that_podman_reads(world):
    world.docker({"credsStore": "fake", "auths": {"r.example.com": auth("fileuser", "file-S3CRET")}})
    store_helper(world.bin, "fake", {})
    result = world.lookup("r.example.com")
    assert result.credential is None
    assert [c for c, _ in codes(result)] == ["credentials.tools-disagree", "credentials.not-found"]
    assert "would use the entry 'r.example.com'" in result.diagnoses[0].message


def test_cred_helpers_key_spelled_docker_io(world):
    world.docker({"credHelpers": {"docker.io": "gcloud"}})
    result = world.lookup("docker.io", "library/alpine")
    assert result.candidates[0].reason.startswith("credHelpers key not used: docker reads Docker Hub credentials")
    assert codes(result)[0] == ("credentials.key-mismatch", "warning")
    assert "credHelpers entry 'docker.io'" in result.diagnoses[0].message


@pytest.mark.skipif(sys.platform != "linux", reason="the default store is platform specific")
def test_default_store_when_config_has_no_auth(world):
    store_helper(world.bin, "secretservice", {"r.example.com": ("user1", "S3CRET")})
    result = world.lookup("r.example.com")
    assert result.credential.origin == "docker-credential-secretservice"
    assert "docker's default store" in used(result).reason


# -- containers auth.json ----------------------------------------------------------------------------------------

def test_auth_json_namespace_key_used_when_docker_has_nothing(world):
    path = world.authjson({"auths": {"quay.io/team": auth("teamuser", "team-S3CRET"),
                                     "quay.io": auth("other", "o-S3CRET")}})
    result = world.lookup("quay.io", "team/app")
    cred = result.credential
    assert (cred.source, cred.origin, cred.key, cred.username) == ("auth.json", str(path), "quay.io/team", "teamuser")
    assert "namespace key" in used(result).reason
    assert codes(result) == [("credentials.tools-disagree", "info")]
    assert "docker would use no credentials" in result.diagnoses[0].message
    assert "docker login quay.io" in result.diagnoses[0].fix


@pytest.mark.parametrize("where", ["REGISTRY_AUTH_FILE", "XDG_CONFIG_HOME", "--authfile"])
def test_auth_json_locations(world, where):
    path = world.root / "elsewhere" / "auth.json"
    options = {}
    if where == "--authfile":
        options["authfile"] = path
    elif where == "REGISTRY_AUTH_FILE":
        world.env["REGISTRY_AUTH_FILE"] = str(path)
    else:
        world.env["XDG_CONFIG_HOME"] = str(path.parent.parent)
        path = path.parent.parent / "containers" / "auth.json"
    world.authjson({"auths": {"quay.io": auth("user1", "S3CRET")}}, path)
    assert world.lookup("quay.io", **options).credential.origin == str(path)


def test_missing_authfile_is_named(world):
    result = world.lookup("quay.io", authfile=world.root / "typo.json")
    assert any(c.reason == "file does not exist (set by --authfile or $REGISTRY_AUTH_FILE)" for c in result.candidates)
    assert [c for c, _ in codes(result)] == ["credentials.not-found"]


def test_docker_wins_and_podman_differs(world):
    world.docker({"auths": {HUB_KEY: auth("dockeruser", "d-S3CRET")}})
    world.authjson({"auths": {"docker.io": auth("podmanuser", "p-S3CRET")}})
    result = world.lookup("docker.io", "library/alpine")
    assert result.credential.username == "dockeruser"
    assert any(c.reason.startswith("not used: docker's credential comes first") for c in result.candidates)
    [d] = result.diagnoses
    assert d.code == "credentials.tools-disagree"
    assert "for user dockeruser" in d.message and "for user podmanuser" in d.message


def test_same_credentials_in_both_tools_agree(world):
    world.docker({"auths": {HUB_KEY: auth("user1", "S3CRET")}})
    world.authjson({"auths": {"docker.io": auth("user1", "S3CRET")}})
    assert world.lookup("docker.io", "library/alpine").diagnoses == []


def test_legacy_dockercfg_is_ignored_by_docker(world):
    shutil.copy(FIXTURES / "legacy-dockercfg-json" / ".dockercfg", world.root / "home" / ".dockercfg")
    result = world.lookup("docker.io", "library/alpine")
    assert result.credential is None
    assert any("docker (since v23) ignores ~/.dockercfg" in c.reason for c in result.candidates)
    assert "credentials.tools-disagree" in [d.code for d in result.diagnoses]


def test_broken_auth_json_is_reported(world):
    path = world.root / "run" / "containers" / "auth.json"
    path.parent.mkdir(parents=True)
    path.write_text("{\"auths\": {")
    result = world.lookup("quay.io")
    assert codes(result) == [("credentials.config-invalid", "error")]
    assert str(path) in result.diagnoses[0].message


# -- nothing found, broken config -------------------------------------------------------------------------------

def test_not_found(world):
    result = world.lookup("quay.io")
    assert result.credential is None
    assert codes(result) == [("credentials.not-found", "warning")]
    assert "runs anonymously" in result.diagnoses[0].message and "docker login quay.io" in result.diagnoses[0].fix
    assert result.tools == {"docker": "no credentials (anonymous)", "podman": "no credentials (anonymous)"}


def test_br30_closest_entry_is_a_different_registry(world):
    world.docker({"auths": {"eu.gcr.example.io": auth("_json_key", "{}S3CRET")}})
    result = world.lookup("gcr.example.io", "proj1/app1")
    assert "the closest entry, 'eu.gcr.example.io', is a different registry" in result.diagnoses[0].message


def test_broken_config_json_is_an_error_not_a_crash(world):
    world.docker_fixture("broken-json")
    result = world.lookup("registry.example.com")
    assert result.credential is None
    assert codes(result) == [("credentials.config-invalid", "error")]


@pytest.mark.parametrize("data, kind", [(None, "null"), ([], "array"), ("x", "string"), (1.5, "number"),
                                        (True, "boolean")])
def test_a_config_that_is_not_an_object_is_named_in_json_terms(world, data, kind):
    world.docker(data)
    result = world.lookup("registry.example.com")
    assert codes(result) == [("credentials.config-invalid", "error")]
    assert f"holds a JSON {kind} instead of an object" in result.diagnoses[0].message


def test_br56_acr_token_output(world):
    world.docker_fixture("br56-acr-token-output")
    result = world.lookup("myregistry.azurecr.io")
    assert "az acr login --expose-token" in result.diagnoses[0].message


# -- flags -----------------------------------------------------------------------------------------------------

def test_flags_win_and_nothing_else_is_asked(world):
    world.docker({"credsStore": "fake"})
    store_helper(world.bin, "fake", {"r.example.com": ("u", "S3CRET-h")})
    result = world.lookup("r.example.com", username="cli", password=Secret("cli-S3CRET"))
    assert (result.credential.source, result.credential.username) == ("flags", "cli")
    assert [c.source for c in result.candidates] == ["flags"]
    assert calls(world.bin, "fake") == []


def test_identity_token_flag(world):
    result = world.lookup("r.example.com", identity_token=Secret("idt-S3CRET"))
    assert result.credential.kind == "identity-token"


def test_username_without_password_is_ignored_by_lookup_and_rejected_by_validate(world):
    result = world.lookup("r.example.com", username="cli")
    assert result.candidates[0].reason == "--username was given without a password, so it is ignored"
    with pytest.raises(InputError):
        validate_flags(CredentialOptions(username="cli"))
    with pytest.raises(InputError):
        validate_flags(CredentialOptions(password=Secret("x")))
    validate_flags(CredentialOptions(username="u", password=Secret("p")))


def test_password_file(tmp_path):
    path = tmp_path / "pw"
    path.write_text("pw-S3CRET\n")
    assert options_with_password_file(CredentialOptions(username="u"), path).password.reveal() == "pw-S3CRET"
    path.write_text("pw-S3CRET\r\n\n")
    assert options_with_password_file(CredentialOptions(), path).password.reveal() == "pw-S3CRET\r\n"
    path.write_text("\n")
    with pytest.raises(InputError, match="empty"):
        options_with_password_file(CredentialOptions(), path)
    with pytest.raises(InputError, match="cannot read password file"):
        options_with_password_file(CredentialOptions(), tmp_path / "missing")
