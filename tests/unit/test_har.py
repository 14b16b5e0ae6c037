"""The HAR 1.2 writer on synthetic exchanges: valid against the schema written from the spec, and safe."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import jsonschema
import pytest

from regauth.render.har import HarRecorder, document, entry
from regauth.report import Exchange
from regauth.secret import Secret

SCHEMA = json.loads((Path(__file__).parents[1] / "fixtures" / "har-1.2.schema.json").read_text())


def validate(har: dict) -> None:
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    jsonschema.Draft7Validator(SCHEMA).validate(har)


def exchanges() -> list[Exchange]:
    return [
        Exchange("GET", "https://reg.example/v2/", 401, 12.5,
                 [("host", "reg.example"), ("user-agent", "regauth/0")],
                 [("content-type", "application/json"), ("www-authenticate", 'Bearer realm="https://a/token"'),
                  ("set-cookie", "sid=<redacted sha256:00000000>; Path=/")],
                 None, '{"errors": []}', started=1_700_000_000.25, http_version="HTTP/1.1", reason="Unauthorized",
                 response_size=14, wait_ms=10.0),
        Exchange("POST", "https://a/token", 200, 30.0,
                 [("content-type", "application/x-www-form-urlencoded"), ("cookie", "a=<redacted sha256:11111111>")],
                 [("content-type", "application/json")],
                 "grant_type=password&username=bob&password=<redacted sha256:22222222>",
                 '{"access_token": "<redacted sha256:33333333>"}', started=1_700_000_000.5,
                 http_version="HTTP/1.1", reason="OK", response_size=5000, truncated=True, wait_ms=25.0,
                 request_body_size=70),
        Exchange("HEAD", "https://s3.example/b?X-Amz-Signature=<redacted sha256:44444444>&X-Amz-Date=1", 307, 3.0,
                 [], [("location", "https://elsewhere/?sig=<redacted sha256:55555555>")], started=1_700_000_000.75,
                 http_version="HTTP/1.1", reason="Temporary Redirect", response_size=0, wait_ms=3.0),
        Exchange("GET", "http://reg.example/v2/x/manifests/1", None, 1000.0, [("host", "reg.example")],
                 error="reset: connection reset by peer", started=1_700_000_001.0),
    ]


def test_document_is_valid_har_1_2():
    har = document(exchanges())
    validate(har)
    log = har["log"]
    assert log["version"] == "1.2" and log["creator"]["name"] == "regauth"
    assert [e["request"]["method"] for e in log["entries"]] == ["GET", "POST", "HEAD", "GET"]


def test_entry_fields():
    first, post, redirect, failed = (entry(e) for e in exchanges())
    assert first["startedDateTime"] == "2023-11-14T22:13:20.250+00:00"
    assert first["response"]["statusText"] == "Unauthorized" and first["response"]["content"]["size"] == 14
    assert first["response"]["cookies"] == [{"name": "sid", "value": "<redacted sha256:00000000>"}]
    assert first["timings"]["wait"] == 10.0 and first["timings"]["receive"] == 2.5
    assert sum(v for v in first["timings"].values() if v >= 0) == pytest.approx(first["time"])
    assert post["request"]["postData"]["mimeType"] == "application/x-www-form-urlencoded"
    assert post["request"]["cookies"] == [{"name": "a", "value": "<redacted sha256:11111111>"}]
    assert "comment" in post["response"]["content"]
    assert redirect["response"]["redirectURL"].startswith("https://elsewhere/")
    assert {"name": "X-Amz-Date", "value": "1"} in redirect["request"]["queryString"]
    assert failed["response"]["status"] == 0 and failed["_error"].startswith("reset")


def test_known_secrets_are_scrubbed_unless_shown():
    value = "har-secret-" + "z" * 10
    Secret(value)
    ex = Exchange("GET", "https://reg.example/v2/", 500, 1.0, [], [], None, f"error: {value}", started=1.0)
    assert value not in json.dumps(document([ex]))
    assert value in json.dumps(document([ex], show=True))


def test_recorder_writes_a_private_file(tmp_path):
    path = tmp_path / "trace.har"
    recorder = HarRecorder(path)
    for ex in exchanges():
        recorder(ex)
    recorder.write()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    validate(json.loads(path.read_text()))
    assert [p.name for p in tmp_path.iterdir()] == ["trace.har"]  # no temporary file left behind


def test_empty_run_is_still_a_valid_har(tmp_path):
    validate(document([]))


def test_schema_rejects_what_the_spec_forbids():
    har = document(exchanges())
    broken = json.loads(json.dumps(har))
    del broken["log"]["entries"][0]["timings"]["wait"]
    with pytest.raises(jsonschema.ValidationError):
        validate(broken)
    broken = json.loads(json.dumps(har))
    broken["log"]["entries"][0]["request"]["unknown"] = 1  # custom fields must start with "_"
    with pytest.raises(jsonschema.ValidationError):
        validate(broken)
