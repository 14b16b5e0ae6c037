"""Pull-secret decoding and lints: one fixture per secret.* code, kubelet's auth decoding, and no password leaks."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from regauth.errors import InputError
from regauth.kube.secrets import decode_secret_report, load_secrets
from regauth.render.secret_text import render_secret_report
from regauth.secret import fingerprint

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "secrets"


def decode(name: str, image: str | None = None):
    return decode_secret_report((FIXTURES / name).read_text(), name, image)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def secret_yaml(payload: str, type_: str = "kubernetes.io/dockerconfigjson", key: str = ".dockerconfigjson",
                field: str = "stringData") -> str:
    return yaml.safe_dump({"apiVersion": "v1", "kind": "Secret", "type": type_,
                           "metadata": {"name": "regcred", "namespace": "app1"}, field: {key: payload}})


# (fixture, code, severity, facts the message must state)
LINTS = [
    ("not_a_secret_configmap.yaml", "secret.not-a-secret", "error", ["ConfigMap", "registry-settings"]),
    ("wrong_type_opaque.yaml", "secret.wrong-type", "error", ["Opaque", ".dockerconfigjson", "ignores"]),
    ("wrong_type_dockercfg_key_mismatch.yaml", "secret.wrong-type", "error",
     ["kubernetes.io/dockercfg", "under .dockerconfigjson", ".dockercfg is required"]),
    ("wrong_type_dockercfg_auths_wrapper.yaml", "secret.wrong-type", "error",
     ["auths wrapper", "literally named 'auths'", "registry.example.com:5000"]),
    ("missing_key_from_file.yaml", "secret.missing-key", "error", ["no .dockerconfigjson key", "config.json"]),
    ("bad_base64_data.yaml", "secret.bad-base64", "error", ["data[.dockerconfigjson]", "not base64"]),
    ("data_plain_json.yaml", "secret.bad-base64", "error", ["plain JSON, not base64"]),
    ("bad_base64_auth.json", "secret.bad-base64", "error",
     ["auth field of entry 'registry.example.com'", "keyring of every pod", "even from other registries"]),
    ("bad_base64_auth_no_colon.json", "secret.bad-base64", "error",
     ["without ':'", "must be formatted as base64(username:password)"]),
    ("double_base64.yaml", "secret.double-base64", "error", ["base64-encoded twice", "'eyJ'"]),
    ("bad_json.yaml", "secret.bad-json", "error", ["is not JSON", "line 2"]),
    ("yaml_payload.yaml", "secret.bad-json", "error", ["YAML, not JSON"]),
    ("missing_auths_flat_map.yaml", "secret.missing-auths", "error",
     ["flat map", "registry.example.com", "without the auths wrapper"]),
    ("empty_auths.json", "secret.empty-auths", "error", ["no registry entries"]),
    ("auth_mismatch.json", "secret.auth-mismatch", "error",
     ["username 'user1'", "says 'user2'", "password field (13 chars, sha256:", "uses auth"]),
    ("no_credentials_credsstore.yaml", "secret.no-credentials", "error",
     ["https://index.docker.io/v1/", "registry.gitlab.example.com", "credsStore 'osxkeychain'"]),
    ("whitespace_echo_newline.json", "secret.whitespace", "warning",
     ["password (6 chars", "decoded from auth", "newline (0x0A)", "`echo` without -n"]),
    ("ignored_identitytoken.json", "secret.ignored-field", "warning", ["identitytoken", "kubelet ignores"]),
    ("key_normalized_v2.json", "secret.key-normalized", "info",
     ["'https://registry.example.com/v2/'", "as 'registry.example.com'"]),
    ("hub_key_no_slash.json", "secret.key-normalized", "warning", ["'index.docker.io/v1'", "no Docker Hub image"]),
    ("registry1_key.json", "secret.key-normalized", "warning", ["registry-1.docker.io", "never matches"]),
    ("invalid_key.json", "secret.invalid-key", "error", ["'registry.example.com /team'", "skips the entry"]),
    ("no_password_username_only.json", "secret.no-password", "warning",
     ["username 'deploy' with an empty password", "no password"]),
    ("no_password_user_colon.json", "secret.no-password", "error",
     ["'deploy:<redacted sha256:", "USER:PASSWORD in one field", "user 'deploy' with the wrong password"]),
    ("control_characters.json", "secret.whitespace", "warning",
     ["password (17 chars", "control characters ESC (0x1B), BEL (0x07)"]),
    ("double_base64_auth.json", "secret.double-base64", "error",
     ["auth field of entry 'registry.example.com'", "base64-encoded twice", "username 'user1'",
      "password (13 chars, sha256:", "keyring of every pod"]),
]


@pytest.mark.parametrize("fixture, code, severity, facts", LINTS, ids=[case[0] for case in LINTS])
def test_each_fixture_reports_its_code(fixture, code, severity, facts):
    report = decode(fixture)
    found = [d for result in report.results for d in result.diagnoses if d.code == code]
    assert found, [d.code for r in report.results for d in r.diagnoses]
    diagnosis = found[0]
    assert diagnosis.severity == severity
    assert diagnosis.step == "secret"
    for fact in facts:
        assert fact in diagnosis.message
    assert diagnosis.fix
    errors = any(d.severity == "error" for r in report.results for d in r.diagnoses)
    assert report.ok is not errors
    assert report.results[0].step("secret").status == ("fail" if errors else "warn" if severity == "warning"
                                                       else "ok")


def test_every_secret_code_has_a_fixture():
    from regauth.diagnoses import CATALOGUE
    covered = {case[1] for case in LINTS} | {"secret.no-match"}  # no-match needs --image: tested below
    assert {code for code in CATALOGUE if code.startswith("secret.")} == covered


def test_fixes_name_the_secret_and_use_placeholders():
    diagnosis = decode("no_credentials_credsstore.yaml").results[0].diagnoses[-1]
    assert ("kubectl create secret docker-registry regcred --docker-server=https://index.docker.io/v1/ "
            "--docker-username=USER --docker-password=PASSWORD -n app1") in diagnosis.fix
    wrong = decode("wrong_type_opaque.yaml").results[0].diagnoses[0]
    assert "--type=kubernetes.io/dockerconfigjson --from-file=.dockerconfigjson=PATH -n app1" in wrong.fix
    missing = decode("missing_key_from_file.yaml").results[0].diagnoses[0]
    assert "--from-file=.dockerconfigjson=config.json" in missing.fix


def test_kubectl_get_output_decodes_like_kubectl_created_it():
    report = decode("valid_kubectl_get.yaml")
    assert report.ok
    result = report.results[0]
    assert result.input == "app1/regcred"
    assert result.target["type"] == "kubernetes.io/dockerconfigjson"
    [entry] = result.extra["entries"]
    assert entry["key"] == "https://index.docker.io/v1/"
    assert entry["kubelet_key"] == "index.docker.io"
    assert entry["username"] == "user"
    assert entry["password"] == {"length": 4, "fingerprint": fingerprint("pass")}
    assert entry["auth_source"] == "auth"
    assert result.step("secret").details["usable"] is True


@pytest.mark.parametrize("fixture, fmt, keys", [
    ("base64_payload.txt", "dockerconfigjson", ["registry.example.com"]),
    ("data_map_jsonpath.json", "data", ["quay.io"]),
    ("legacy_dockercfg.json", "dockercfg", ["https://index.docker.io/v1/"]),
])
def test_bare_payload_shapes(fixture, fmt, keys):
    [secret] = load_secrets((FIXTURES / fixture).read_text(), fixture)
    assert secret.format == fmt
    assert [e.key for e in secret.entries] == keys
    assert secret.usable


def test_legacy_dockercfg_keeps_email():
    [secret] = load_secrets((FIXTURES / "legacy_dockercfg.json").read_text(), "x")
    assert secret.entries[0].email == "hubuser@example.com"
    assert secret.entries[0].username == "hubuser"


def test_list_and_multi_document_inputs_give_one_result_per_secret():
    listed = decode("list_of_secrets.json")
    assert [r.input for r in listed.results] == ["app1/gitlab", "app1/quay"]
    multi = decode("multi_doc.yaml")
    assert [r.ok for r in multi.results] == [True, False]
    assert multi.results[1].codes() == ["secret.wrong-type"]


def test_dockercfg_secret_with_flat_map_is_read():
    payload = json.dumps({"registry.example.com": {"auth": b64("user1:pw-for-cfg")}})
    [secret] = load_secrets(secret_yaml(payload, "kubernetes.io/dockercfg", ".dockercfg"), "x")
    assert secret.read_by_kubelet and secret.usable and not secret.diagnoses


def test_string_data_wins_over_data():
    text = yaml.safe_dump({"kind": "Secret", "type": "kubernetes.io/dockerconfigjson", "metadata": {"name": "r"},
                           "data": {".dockerconfigjson": b64('{"auths":{"old.example.com":{"auth":"dTpw"}}}')},
                           "stringData": {".dockerconfigjson": '{"auths":{"new.example.com":{"auth":"dTpw"}}}'}})
    [secret] = load_secrets(text, "x")
    assert [e.key for e in secret.entries] == ["new.example.com"]


def test_data_with_newlines_is_fine_but_missing_padding_is_an_error():
    payload = '{"auths":{"registry.example.com":{"auth":"dXNlcjpwYQ"}}}'
    wrapped = "\n".join(b64(payload)[i:i + 20] for i in range(0, len(b64(payload)), 20))
    [ok] = load_secrets(secret_yaml(wrapped, field="data"), "x")
    assert ok.usable and not ok.diagnoses
    padded = next(b64(payload + " " * n) for n in range(3) if b64(payload + " " * n).endswith("="))
    [unpadded] = load_secrets(secret_yaml(padded.rstrip("="), field="data"), "x")
    assert unpadded.diagnoses[0].code == "secret.bad-base64"
    assert "padding" in unpadded.diagnoses[0].message
    assert unpadded.entries[0].username == "user"  # decoded anyway, to show the entries


@pytest.mark.parametrize("auth, username, password", [
    ("dXNlcjpwYXNz", "user", "pass"),
    ("dXNlcjpwYQ==", "user", "pa"),
    ("dXNlcjpwYQ", "user", "pa"),  # kubelet also accepts unpadded
    ("OnBhc3M=", "", "pass"),
    ("dXNlcjpwOmE=", "user", "p:a"),
    ("QVdTOnNlY3JldA==", "AWS", "secret"),
])
def test_kubelet_auth_decoding(auth, username, password):
    [secret] = load_secrets(json.dumps({"auths": {"r.example.com": {"auth": auth}}}), "x")
    [entry] = secret.entries
    assert (entry.username, entry.password.reveal()) == (username, password)
    assert secret.keyring_error is None


@pytest.mark.parametrize("auth", ["dXNlcg==", "dXNlcjpwYQ=", "dXNl cjpwYXNz", "dXNlcjpwYXNzA"])
def test_auth_kubelet_cannot_decode_breaks_the_keyring(auth):
    [secret] = load_secrets(json.dumps({"auths": {"r.example.com": {"auth": auth},
                                                   "other.example.com": {"auth": "dXNlcjpwYXNz"}}}), "x")
    assert secret.keyring_error
    assert not secret.usable
    assert secret.diagnoses[0].code == "secret.bad-base64"


def test_config_json_pasted_as_dockercfg_breaks_the_keyring():
    payload = json.dumps({"registry.example.com": {"auth": "dXNlcjpwYXNz"}, "credsStore": "desktop"})
    [secret] = load_secrets(secret_yaml(payload, "kubernetes.io/dockercfg", ".dockercfg"), "x")
    assert secret.keyring_error and "credsStore" in secret.keyring_error
    assert "config.json" in secret.diagnoses[0].message


def test_field_names_are_case_insensitive_like_go():
    [secret] = load_secrets('{"Auths":{"r.example.com":{"Username":"u","Password":"pw-case"}}}', "x")
    assert secret.usable and secret.entries[0].username == "u"


def test_no_match_with_image():
    report = decode("valid_kubectl_get.yaml", image="ghcr.io/org/app:1")
    result = report.results[0]
    assert result.extra["matches"] == []
    [diagnosis] = [d for d in result.diagnoses if d.code == "secret.no-match"]
    assert diagnosis.severity == "error" and not report.ok
    assert "ghcr.io/org/app" in diagnosis.message and "anonymously" in diagnosis.message
    assert "label 'index' does not match 'ghcr'" not in diagnosis.message  # label counts differ first
    assert "--docker-server=ghcr.io" in diagnosis.fix


def test_hub_image_uses_the_index_docker_io_entry_as_fallback():
    result = decode("valid_kubectl_get.yaml", image="nginx").results[0]
    assert result.extra["image"] == "docker.io/library/nginx"
    [match] = result.extra["matches"]
    assert match["kubelet_key"] == "index.docker.io" and match["via"] == "docker-hub-fallback"
    assert "secret.no-match" not in result.codes()


def test_no_match_is_info_when_another_secret_in_the_input_matches():
    report = decode("list_of_secrets.json", image="quay.io/org/app:2")
    gitlab, quay = report.results
    assert [d.severity for d in gitlab.diagnoses if d.code == "secret.no-match"] == ["info"]
    assert quay.extra["matches"][0]["username"] == "org+robot"
    assert report.ok


def test_unread_secret_says_which_entry_would_match_once_fixed():
    result = decode("wrong_type_opaque.yaml", image="registry.example.com/team/app").results[0]
    [diagnosis] = [d for d in result.diagnoses if d.code == "secret.no-match"]
    assert "does not read this secret" in diagnosis.message and "registry.example.com would match" in diagnosis.message


def test_broken_secret_gives_no_matches_and_says_why():
    result = decode("bad_base64_auth.json", image="ghcr.io/octocat/app").results[0]
    assert result.extra["matches"] == []
    assert result.codes() == ["secret.bad-base64"]
    assert result.step("secret").summary.startswith("kubelet's keyring build fails")


def test_invalid_image_is_an_input_error():
    with pytest.raises(InputError):
        decode("valid_kubectl_get.yaml", image="Foo/Bar:?")


@pytest.mark.parametrize("text", ["", "---\n---\n", "{unclosed: [", "\tkey: value"])
def test_unparseable_or_empty_input_is_an_input_error(text):
    with pytest.raises(InputError):
        load_secrets(text, "in.yaml")


def test_input_error_does_not_echo_the_input():
    with pytest.raises(InputError) as err:
        load_secrets('password: "Hunter2-Secret\n  : [', "in.yaml")
    assert "Hunter2" not in str(err.value)


_YAMLISH = st.text(alphabet=":-{}[],\n \t\"'#&*!|>%@`?=.aZ09\\", max_size=40)


@settings(max_examples=400, deadline=None)
@given(st.text() | _YAMLISH)
def test_any_text_gives_secrets_or_an_input_error(text):
    try:
        secrets = load_secrets(text, "fuzz")
    except InputError:
        return
    assert isinstance(secrets, list)


_json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=12),
                            lambda inner: st.lists(inner, max_size=3)
                            | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=12)
_MARK = "Zx9-"  # every generated password starts with it, so a leak check cannot trip over a username
_entry = st.fixed_dictionaries({}, optional={
    "password": st.text(max_size=12).map(_MARK.__add__) | _json_values,
    "auth": st.sampled_from(["dXNlcjpwYXNz", "dXNlcg==", "OnBhc3M=", "dXNlcjpwYQ", "!!"]) | _json_values,
    "username": st.text(max_size=12) | _json_values,
    "Auth": st.text(max_size=12),
    "email": _json_values,
    "identitytoken": st.text(max_size=12)})
_payload = st.fixed_dictionaries({}, optional={
    "auths": st.dictionaries(st.sampled_from(["reg.example.com", "https://index.docker.io/v1/", "*.x.io", "a b",
                                              "[x]", "h:1/v2/p"]), _entry | _json_values, max_size=3),
    "credsStore": _json_values})


@settings(max_examples=300, deadline=None)
@given(_payload, st.sampled_from(["kubernetes.io/dockerconfigjson", "kubernetes.io/dockercfg", "Opaque"]),
       st.sampled_from(["data", "stringData"]), st.sampled_from([".dockerconfigjson", ".dockercfg"]),
       st.booleans())
def test_structured_secrets_never_crash_and_never_leak(payload, type_, field, key, twice):
    text = json.dumps(payload)
    value = b64(b64(text) if twice else text) if field == "data" else text
    report = decode_secret_report(secret_yaml(value, type_, key, field), "fuzz", image="reg.example.com/a/b")
    dumped = json.dumps(report.to_json())
    for secret in load_secrets(secret_yaml(value, type_, key, field), "fuzz"):
        for entry in secret.entries:
            if entry.password is not None and entry.password.reveal().startswith(_MARK):
                assert entry.password.reveal() not in dumped


def _passwords(name: str) -> list[str]:
    values = {e.password.reveal().strip() for s in load_secrets((FIXTURES / name).read_text(), name)
              for e in s.entries if e.password is not None}
    return [v for v in values if len(v) >= 5]


ALL_FIXTURES = sorted(p.name for p in FIXTURES.iterdir())


@pytest.mark.parametrize("fixture", ALL_FIXTURES)
def test_no_password_in_json_or_text(fixture):
    secrets = _passwords(fixture) + ["Rr3fr3sh-Token-Sig"]  # the identitytoken fixture's token, too
    report = decode(fixture, image="registry.example.com/team/app")
    dumped = json.dumps(report.to_json())
    out = io.StringIO()
    render_secret_report(report, Console(file=out, width=200))
    rendered = out.getvalue()
    for value in secrets:
        assert value not in dumped
        assert value not in rendered


def test_rendered_text_shows_entries_lints_and_matches():
    report = decode("whitespace_echo_newline.json", image="registry.example.com/team/app:1")
    out = io.StringIO()
    render_secret_report(report, Console(file=out, width=200))
    text = out.getvalue()
    assert "registry.example.com" in text and "user1" in text
    assert "6 chars, sha256:" in text
    assert "warning secret.whitespace" in text and "fix:" in text
    assert "1. registry.example.com → registry.example.com" in text


# --- review fixes: passwords in usernames, empty passwords, control characters, double base64 in auth, no-match ---

def _outputs(report) -> str:
    out = io.StringIO()
    render_secret_report(report, Console(file=out, width=200))
    return json.dumps(report.to_json()) + out.getvalue()


def test_a_password_pasted_into_the_username_is_never_shown():
    report = decode("no_password_user_colon.json", image="registry.example.com/team/app")
    text = _outputs(report)
    assert "Pasted-Passw0rd" not in text and "Passw0rd" not in text
    [entry] = report.results[0].extra["entries"]
    assert entry["username"] == f"deploy:<redacted {fingerprint('Pasted-Passw0rd')}>"
    assert report.results[0].extra["matches"][0]["username"] == entry["username"]
    assert report.results[0].step("secret").status == "fail"
    # kubelet (and a live check) still get the username as written: that is what is sent
    [secret] = load_secrets((FIXTURES / "no_password_user_colon.json").read_text(), "x")
    assert secret.entries[0].username == "deploy:Pasted-Passw0rd"


def test_a_short_password_pasted_into_the_username_is_redacted_too():
    [result] = decode_secret_report('{"auths":{"r.example.com":{"username":"u:pw1"}}}', "x").results
    assert "pw1" not in _outputs(decode_secret_report('{"auths":{"r.example.com":{"username":"u:pw1"}}}', "x"))
    assert result.extra["entries"][0]["username"].startswith("u:<redacted sha256:")


def test_username_only_is_not_silently_usable():
    result = decode("no_password_username_only.json").results[0]
    assert result.codes() == ["secret.no-password"]
    assert result.step("secret").status == "warn"


def test_auth_with_an_empty_password_warns():
    [result] = decode_secret_report(json.dumps({"auths": {"r.example.com": {"auth": b64("user:")}}}), "x").results
    [diagnosis] = [d for d in result.diagnoses if d.code == "secret.no-password"]
    assert "auth decodes to a username and an empty password" in diagnosis.message
    assert result.step("secret").status == "warn"


def test_identity_token_entries_are_not_reported_twice_for_the_empty_password():
    result = decode("ignored_identitytoken.json").results[0]
    assert "secret.no-password" not in result.codes() and "secret.ignored-field" in result.codes()


@pytest.mark.parametrize("username, password, names", [
    ("user", "pass\x00word", ["NUL (0x00)"]),
    ("us\x1ber", "password", ["ESC (0x1B)"]),
    ("user", "pass\tword", ["TAB (0x09)"]),
    ("user", "password\x07", ["BEL (0x07)"]),
])
def test_control_characters_are_flagged(username, password, names):
    for entry in ({"username": username, "password": password}, {"auth": b64(f"{username}:{password}")}):
        [result] = decode_secret_report(json.dumps({"auths": {"r.example.com": entry}}), "x").results
        found = [d for d in result.diagnoses if d.code == "secret.whitespace" and "control character" in d.message]
        assert found, result.codes()
        assert all(name in found[0].message for name in names)
        assert result.step("secret").status == "warn"
        assert "\x1b" not in _outputs(decode_secret_report(json.dumps({"auths": {"r.example.com": entry}}), "x"))


def test_trailing_newline_is_reported_once_as_whitespace():
    [result] = decode_secret_report(json.dumps({"auths": {"r.example.com": {"auth": b64("user:pass\n")}}}),
                                    "x").results
    assert result.codes() == ["secret.whitespace"]
    assert "newline" in result.diagnoses[0].message


def test_double_base64_auth_does_not_show_the_password():
    report = decode("double_base64_auth.json")
    assert "Tw1ce-Encoded" not in _outputs(report)
    [secret] = load_secrets((FIXTURES / "double_base64_auth.json").read_text(), "x")
    assert secret.keyring_error and not secret.usable


def test_auth_without_colon_that_is_not_base64_stays_bad_base64():
    [result] = decode_secret_report(json.dumps({"auths": {"r.example.com": {"auth": b64("justtext")}}}),
                                    "x").results
    assert result.codes() == ["secret.bad-base64"]


def test_no_match_fix_says_to_fix_the_other_error_first_when_an_entry_would_match():
    result = decode("wrong_type_opaque.yaml", image="registry.example.com/team/app").results[0]
    [diagnosis] = [d for d in result.diagnoses if d.code == "secret.no-match"]
    assert "once that is fixed, registry.example.com would match" in diagnosis.message
    assert diagnosis.fix.startswith("no new entry is needed: fix secret.wrong-type first")
    assert "add an entry" not in diagnosis.fix


def test_no_match_fix_of_an_unread_secret_without_a_matching_entry_asks_for_both():
    result = decode("wrong_type_opaque.yaml", image="ghcr.io/org/app").results[0]
    [diagnosis] = [d for d in result.diagnoses if d.code == "secret.no-match"]
    assert "fix secret.wrong-type first" in diagnosis.fix and "add an entry for ghcr.io" in diagnosis.fix
