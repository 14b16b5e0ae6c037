"""`--trace` and `--trace-file`: a HAR from a real-registry run is valid HAR 1.2 (checked against the schema written
from the spec) and holds no secret; presigned redirects are redacted in URLs, Location headers and bodies."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import stat
from pathlib import Path

import jsonschema
import pytest

from tests.support import badservers as bad
from tests.support.cli import regauth, transport_flags
from tests.support.users import ALICE

SCHEMA = json.loads((Path(__file__).parents[1] / "fixtures" / "har-1.2.schema.json").read_text())
WHOLE_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{16,}")


def load_valid(path: Path) -> dict:
    har = json.loads(path.read_text())
    jsonschema.Draft7Validator(SCHEMA).validate(har)
    return har


def secrets_in(text: str, *values: str) -> list[str]:
    return [v for v in values if v in text] + WHOLE_JWT.findall(text)


@pytest.mark.registry
def test_har_of_a_real_registry_run_is_valid_and_secret_free(registry_token_tls, tmp_path):
    har_path = tmp_path / "pull.har"
    run = regauth("pull-check", registry_token_tls.ref("team/multi:1.0"), *transport_flags(registry_token_tls),
                  "-u", ALICE.name, "--password-stdin", "--trace-file", str(har_path), "-o", "json",
                  input=ALICE.password + "\n")
    assert run.code == 0, run.stdout + run.stderr
    assert stat.S_IMODE(har_path.stat().st_mode) == 0o600
    har = load_valid(har_path)
    entries = har["log"]["entries"]
    paths = [e["request"]["url"].split("?")[0].split("/", 3)[3] for e in entries]
    assert paths[0] == "v2/" and "token" in paths
    assert any("/manifests/" in p for p in paths) and any("/blobs/" in p for p in paths)
    assert [e["startedDateTime"] for e in entries] == sorted(e["startedDateTime"] for e in entries)
    token_entry = next(e for e in entries if e["request"]["url"].split("?")[0].endswith("/token"))
    assert token_entry["response"]["status"] == 200
    assert json.loads(token_entry["response"]["content"]["text"])["token"].startswith("<redacted sha256:")
    auth = [h["value"] for e in entries for h in e["request"]["headers"] if h["name"].lower() == "authorization"]
    assert auth and all(re.fullmatch(r"(Basic|Bearer) <redacted sha256:[0-9a-f]{8}>", a) for a in auth)
    for e in entries:
        assert sum(v for v in e["timings"].values() if v >= 0) == pytest.approx(e["time"], abs=0.01)
    basic = base64.b64encode(ALICE.creds.encode()).decode()
    assert not secrets_in(har_path.read_text(), ALICE.password, basic)
    # --trace shows the same exchanges on stderr, as redacted
    run = regauth("pull-check", registry_token_tls.ref("team/app:1.0"), *transport_flags(registry_token_tls),
                  "-u", ALICE.name, "--password-stdin", "--trace", input=ALICE.password + "\n")
    assert run.code == 0
    assert "← 401 Unauthorized (HTTP/1.1)" in run.stderr and "authorization: Basic <redacted sha256:" in run.stderr
    assert not secrets_in(run.stderr, ALICE.password, basic)


@pytest.mark.registry
def test_har_of_a_failed_login_is_valid(registry_token_http, tmp_path):
    har_path = tmp_path / "login.har"
    run = regauth("login", registry_token_http.host, "--plain-http", "-u", ALICE.name, "--password-stdin",
                  "--trace-file", str(har_path), input="wrong-password-123\n")
    assert run.code == 1
    har = load_valid(har_path)
    assert [e["response"]["status"] for e in har["log"]["entries"]][-1] == 401
    assert "wrong-password-123" not in har_path.read_text()


def test_har_of_a_transport_failure_is_valid(tmp_path):
    with bad.BadServer(bad.route({"/v2/": bad.reset_mid_body()})) as server:
        har_path = tmp_path / "reset.har"
        run = regauth("pull-check", server.ref(), "--plain-http", "--timeout", "2", "--trace-file", str(har_path))
    assert run.code == 1
    failed = load_valid(har_path)["log"]["entries"][-1]
    assert failed["_error"].startswith("reset") and failed["response"]["status"] == 200


def test_trace_file_in_a_missing_directory_is_an_input_error(tmp_path):
    run = regauth("pull-check", "127.0.0.1:1/a/b", "--trace-file", str(tmp_path / "no" / "x.har"))
    assert run.code == 2 and run.stderr.count("\n") == 1 and "does not exist" in run.stderr


SIGNATURE = "f3c0ffee" * 8
CREDENTIAL = "AKIAEXAMPLE%2F20240101%2Fus-east-1%2Fs3%2Faws4_request"


@pytest.mark.parametrize("redirected", ["blob", "manifest"])
def test_presigned_redirect_is_redacted_everywhere(tmp_path, redirected):
    """The registry redirects to object storage with a presigned URL: the signature must appear in no URL, no
    Location header, no redirect body, no report detail."""
    config = b'{"architecture":"amd64","os":"linux"}'
    digest = "sha256:" + hashlib.sha256(config).hexdigest()
    oci = "application/vnd.oci.image.manifest.v1+json"
    manifest = json.dumps({"schemaVersion": 2, "mediaType": oci,
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest,
                                      "size": len(config)}, "layers": []})
    stored = {"blob": bad.respond(200, {}, config, "application/octet-stream"),
              "manifest": bad.respond(200, {}, manifest, oci)}[redirected]
    with bad.BadServer(bad.route({"/": stored})) as storage:
        presigned = (f"{storage.url}/objects/{digest[7:]}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
                     f"{CREDENTIAL}&X-Amz-Date=20240101T000000Z&X-Amz-Expires=1200&X-Amz-SignedHeaders=host"
                     f"&X-Amz-Signature={SIGNATURE}")
        html = f'<a href="{presigned.replace("&", "&amp;")}">Temporary Redirect</a>.\n'
        to_storage = bad.respond(307, {"Location": presigned, **bad.API_HEADERS}, html, "text/html; charset=utf-8")
        registry = bad.BadServer(bad.route({
            "/v2/": bad.registry_ping(),
            "/v2/team/app/manifests/": to_storage if redirected == "manifest" else
            bad.respond(200, bad.API_HEADERS, manifest, oci),
            "/v2/team/app/blobs/": to_storage if redirected == "blob" else
            bad.respond(200, bad.API_HEADERS, config, "application/octet-stream"),
        })).start()
        try:
            har_path = tmp_path / "redirect.har"
            run = regauth("pull-check", registry.ref(), "--plain-http", "-o", "json", "--trace", "-v",
                          "--trace-file", str(har_path))
        finally:
            registry.stop()
        assert storage.requests and "X-Amz-Signature=" + SIGNATURE in storage.requests[0].path  # it was followed
    assert run.code == 0, run.stdout + run.stderr
    har_text = har_path.read_text()
    load_valid(har_path)
    for where, text in (("stdout", run.stdout), ("stderr", run.stderr), ("HAR", har_text)):
        assert SIGNATURE not in text, where
        assert "AKIAEXAMPLE" not in text, where
    assert "location: " in run.stderr and "X-Amz-Date=20240101T000000Z" in run.stderr  # the rest stays readable
    if redirected == "blob":
        hops = run.step("blob")["details"]["hops"]
        assert hops[-1]["presigned"] and "X-Amz-Signature=<redacted sha256:" in hops[-1]["url"]
