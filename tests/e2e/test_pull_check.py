"""pull-check end to end against the real registry, with skopeo as the reference client."""

from __future__ import annotations

import pytest

from tests.support.cli import pull_check, regauth
from tests.support.skopeo import skopeo_inspect
from tests.support.users import ADMIN, ALICE, BOB, CAROL

pytestmark = pytest.mark.registry

IMAGES = {"team/app:1.0": "application/vnd.oci.image.manifest.v1+json",
          "team/multi:1.0": "application/vnd.oci.image.index.v1+json",
          "team/sub/docker:1.0": "application/vnd.docker.distribution.manifest.v2+json"}


def user_for(registry):
    return None if registry.mode is None else ADMIN


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_pull_check_succeeds_where_skopeo_does(registry, image):
    user = user_for(registry)
    reference = skopeo_inspect(registry, image, creds=user)
    assert reference.returncode == 0, reference.stderr
    run = pull_check(registry, image, user=user)
    assert run.code == 0, run.stdout + run.stderr
    result = run.result
    assert result["ok"] is True and result["failed_step"] is None
    steps = {s["name"]: s["status"] for s in result["steps"]}
    assert list(steps) == ["reference", "credentials", "ping", "challenge", "token", "jwt", "manifest", "platform",
                           "blob"]
    assert steps["manifest"] == "ok" and steps["blob"] == "ok"
    assert run.step("manifest")["details"]["media_type"] == IMAGES[image]
    if registry.mode == "token":
        assert steps["challenge"] == "ok" and steps["token"] == "ok" and steps["jwt"] == "ok"
        assert "grants pull on " + image.split(":")[0] in run.step("jwt")["facts"]
    elif registry.mode == "htpasswd":
        assert steps["token"] == "skip" and steps["jwt"] == "skip"
        assert run.step("challenge")["details"]["chosen"] == "basic"
    else:
        assert steps["challenge"] == "skip"
    assert steps["platform"] == ("ok" if "multi" in image else "skip")


def test_multi_platform_picks_requested_platform(registry_token_tls):
    run = pull_check(registry_token_tls, "team/multi:1.0", "--platform", "linux/arm64", user=ALICE)
    assert run.code == 0, run.stdout
    details = run.step("platform")["details"]
    assert details["requested"] == "linux/arm64"
    assert sorted(details["available"]) == ["linux/amd64", "linux/arm64/v8"]
    assert skopeo_inspect(registry_token_tls, "team/multi:1.0", creds=ALICE,
                          extra=["--override-arch", "arm64"]).returncode == 0


def test_platform_not_in_index(registry_noauth_http):
    run = pull_check(registry_noauth_http, "team/multi:1.0", "--platform", "linux/s390x")
    assert run.code == 1
    assert run.result["failed_step"] == "platform"
    d = run.diagnosis("platform.not-found")
    assert "linux/s390x" in d["message"] and "linux/amd64" in d["message"] and "linux/arm64" in d["message"]


def test_wrong_password_on_token_registry(registry_token_http):
    run = pull_check(registry_token_http, "team/app:1.0", user=ALICE, password="not-her-password")
    assert run.code == 1
    assert run.result["failed_step"] == "token"
    d = run.diagnosis("token.bad-credentials")
    assert "alice" in d["message"] and "401" in d["message"]
    assert "not-her-password" not in run.stdout
    assert skopeo_inspect(registry_token_http, "team/app:1.0", creds="alice:not-her-password").returncode != 0


def test_wrong_password_on_htpasswd_registry(registry_htpasswd_tls):
    run = pull_check(registry_htpasswd_tls, "team/app:1.0", user=ALICE, password="nope")
    assert run.code == 1
    assert run.result["failed_step"] == "challenge"
    assert "alice" in run.diagnosis("challenge.basic-rejected")["message"]
    assert skopeo_inspect(registry_htpasswd_tls, "team/app:1.0", creds="alice:nope").returncode != 0


def test_no_credentials_on_basic_registry(registry_htpasswd_http):
    run = pull_check(registry_htpasswd_http, "team/app:1.0")
    assert run.code == 1
    assert "credentials.not-found" in run.codes
    assert run.diagnosis("challenge.credentials-required")["severity"] == "error"


def test_anonymous_on_private_repository_gets_token_granting_nothing(registry_token_http):
    run = pull_check(registry_token_http, "team/app:1.0")
    assert run.code == 1
    assert run.result["failed_step"] == "jwt"
    assert "credentials.not-found" in run.codes
    d = run.diagnosis("jwt.no-access")
    assert "anonymous" in d["message"] and "team/app" in d["message"] and "grants nothing" in d["message"]
    assert skopeo_inspect(registry_token_http, "team/app:1.0").returncode != 0


def test_anonymous_on_public_repository(registry_token_http):
    run = pull_check(registry_token_http, "public/hello:latest")
    assert run.code == 0, run.stdout
    assert skopeo_inspect(registry_token_http, "public/hello:latest").returncode == 0


def test_user_without_rights_to_repository(registry_token_tls):
    run = pull_check(registry_token_tls, "team/multi:1.0", user=BOB)
    assert run.code == 1
    d = run.diagnosis("jwt.no-access")
    assert "'bob'" in d["message"] and "team/multi" in d["message"]
    assert skopeo_inspect(registry_token_tls, "team/multi:1.0", creds=BOB).returncode != 0


def test_valid_login_without_any_rights(registry_token_http):
    run = pull_check(registry_token_http, "team/app:1.0", user=CAROL)
    assert run.code == 1
    assert "grants nothing" in run.diagnosis("jwt.no-access")["message"]


def test_insufficient_access_for_push(registry_token_http):
    run = regauth("login", registry_token_http.host, "--plain-http", "-u", BOB.name, "--password-stdin",
                  "--repo", "team/app", "--push", "-o", "json", input=BOB.password + "\n")
    assert run.code == 1
    d = run.diagnosis("jwt.insufficient-access")
    assert "pull" in d["message"] and "push" in d["message"] and "team/app" in d["message"]


def test_unknown_tag(registry_token_http):
    run = pull_check(registry_token_http, "team/app:9.9", user=ALICE)
    assert run.code == 1
    d = run.diagnosis("manifest.unknown")
    assert "9.9" in d["message"] and "1.0" in d["message"]  # names the tag and lists the existing ones
    assert skopeo_inspect(registry_token_http, "team/app:9.9", creds=ALICE).returncode != 0


def test_a_mistyped_tag_gets_the_tag_it_was_meant_to_be(registry_token_http):
    run = pull_check(registry_token_http, "team/app:l.O", user=ALICE)  # l and O for 1 and 0
    assert run.code == 1
    assert run.diagnosis("manifest.unknown")["fix"].startswith("did you mean 1.0?")
    assert skopeo_inspect(registry_token_http, "team/app:l.O", creds=ALICE).returncode != 0


def test_unknown_repository(registry_token_http):
    # distribution 2.8 says MANIFEST_UNKNOWN here; the tag list tells the repository is missing
    run = pull_check(registry_token_http, "team/nothere:1.0", user=ALICE)
    assert run.code == 1
    assert run.codes[-1] == "manifest.name-unknown"
    assert "team/nothere" in run.diagnosis("manifest.name-unknown")["message"]


def test_tls_without_the_ca(registry_noauth_tls):
    run = regauth("pull-check", registry_noauth_tls.ref("team/app:1.0"), "-o", "json")
    assert run.code == 1
    assert run.result["failed_step"] == "ping"
    assert "ca-file" in run.diagnosis("ping.tls-unknown-ca")["fix"]


def test_nothing_listening():
    from tests.support.registry import free_port

    run = regauth("pull-check", f"127.0.0.1:{free_port()}/team/app:1.0", "-o", "json")
    assert run.code == 1
    assert run.codes[-1] == "ping.refused"


def test_https_against_plain_http_registry(registry_noauth_http):
    run = regauth("pull-check", registry_noauth_http.ref("team/app:1.0"), "-o", "json")
    assert run.code == 1
    assert "--plain-http" in run.diagnosis("ping.tls-on-plain-http")["fix"]


@pytest.mark.parametrize("reference", ["127.0.0.1:5000/Team/App:1.0", "team/app:bad tag", "team/app@sha256:abc",
                                       "UPPER", ""])
def test_malformed_reference_is_an_input_error(reference):
    run = regauth("pull-check", reference, "-o", "json")
    assert run.code == 2
    assert run.result["failed_step"] == "reference"
    assert run.codes == ["reference.invalid"]
    assert "Traceback" not in run.stderr


def test_text_output_reads_well(registry_token_http):
    run = pull_check(registry_token_http, "team/multi:1.0", user=BOB, output="text")
    assert run.code == 1
    lines = run.stdout.splitlines()
    assert lines[0] == registry_token_http.ref("team/multi:1.0")
    assert any(line.strip().startswith("✘ jwt") for line in lines)
    assert any("FAILED at jwt: jwt.no-access" in line for line in lines)
    assert any(line.strip().startswith("fix:") for line in lines)
    assert "bob-pass" not in run.stdout + run.stderr


def test_many_images_keep_input_order(registry_token_http):
    images = ["team/app:1.0", "team/app:nope", "team/multi:1.0", "Bad/Ref", "public/hello:latest"]
    refs = [registry_token_http.ref(i) for i in images]
    run = regauth("pull-check", *refs, "--plain-http", "-u", ALICE.name, "--password-stdin", "-o", "json",
                  input=ALICE.password + "\n")
    results = run.report["results"]
    assert [r["input"] for r in results] == refs
    assert [r["ok"] for r in results] == [True, False, True, False, True]
    assert run.code == 2  # one malformed reference makes it an input error
