"""Kubernetes pull secrets checked live against the real registry, the way kubelet would use them."""

from __future__ import annotations

import base64
import json

import pytest

from tests.support.cli import regauth
from tests.support.users import ALICE, BOB

pytestmark = pytest.mark.registry


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def dockerconfigjson(key: str, user) -> str:
    auth = b64(f"{user.name}:{user.password}")
    return json.dumps({"auths": {key: {"username": user.name, "password": user.password, "auth": auth}}})


def secret(name: str, namespace: str, payload: str, encode=b64) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
            "metadata": {"name": name, "namespace": namespace}, "data": {".dockerconfigjson": encode(payload)}}


def deployment(image: str, namespace: str = "apps", service_account: str | None = "puller",
               pull_secrets: list[str] | None = None) -> dict:
    spec: dict = {"containers": [{"name": "app", "image": image}]}
    if service_account:
        spec["serviceAccountName"] = service_account
    if pull_secrets:
        spec["imagePullSecrets"] = [{"name": n} for n in pull_secrets]
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": namespace},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}},
                                                                             "spec": spec}}}


def service_account(name: str, namespace: str, secrets: list[str]) -> dict:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": namespace},
            "imagePullSecrets": [{"name": n} for n in secrets]}


def write(tmp_path, *objects) -> str:
    path = tmp_path / "workload.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)}))
    return str(path)


def test_pulls_with_the_service_accounts_secret(tmp_path, registry_token_http):
    reg = registry_token_http
    path = write(tmp_path, deployment(reg.ref("team/app:1.0")), service_account("puller", "apps", ["regcred"]),
                 secret("regcred", "apps", dockerconfigjson(reg.host, ALICE)))
    run = regauth("kube-check", path, "--plain-http", "-o", "json")
    assert run.code == 0, run.stdout
    result = run.result
    assert result["workload"]["secrets_from"].startswith("serviceaccount puller")
    assert result["kubelet_attempts"] == [{"secret": "apps/regcred", "key": reg.host, "username": "alice", "ok": True,
                                           "failed_step": None, "code": None}]
    assert run.step("credentials")["details"]["source"] == "pull-secret"
    assert ALICE.password not in run.stdout


def test_secret_in_another_namespace_means_anonymous_pull(tmp_path, registry_token_http):
    reg = registry_token_http
    path = write(tmp_path, deployment(reg.ref("team/app:1.0")), service_account("puller", "apps", ["regcred"]),
                 secret("regcred", "default", dockerconfigjson(reg.host, ALICE)))
    run = regauth("kube-check", path, "--plain-http", "-o", "json")
    assert run.code == 1
    missing = run.diagnosis("kube.secret-missing")
    assert "regcred" in missing["message"] and "default" in missing["message"]
    assert run.result["kubelet_attempts"][0]["secret"] is None  # anonymous, as kubelet does
    assert run.result["failed_step"] == "jwt"
    assert "anonymous" in run.diagnosis("jwt.no-access")["message"]


def test_key_without_the_port_matches_nothing(tmp_path, registry_token_http):
    reg = registry_token_http
    host_only = reg.host.split(":")[0]
    path = tmp_path / "secret.json"
    path.write_text(json.dumps(secret("regcred", "apps", dockerconfigjson(host_only, ALICE))))
    offline = regauth("decode-secret", str(path), "--image", reg.ref("team/app:1.0"), "-o", "json")
    assert offline.code == 1
    assert "secret.no-match" in offline.codes
    live = regauth("pull-check", reg.ref("team/app:1.0"), "--plain-http", "--pull-secret", str(path), "-o", "json")
    assert live.code == 1
    assert "secret.no-match" in live.codes
    assert live.result["failed_step"] == "jwt"  # anonymous token grants nothing


def test_double_encoded_secret(tmp_path, registry_token_http):
    reg = registry_token_http
    path = tmp_path / "secret.json"
    path.write_text(json.dumps(secret("regcred", "apps", dockerconfigjson(reg.host, ALICE),
                                      encode=lambda p: b64(b64(p)))))
    offline = regauth("decode-secret", str(path), "-o", "json")
    assert offline.code == 1
    assert "secret.double-base64" in offline.codes
    assert ALICE.password not in offline.stdout
    live = regauth("pull-check", reg.ref("team/app:1.0"), "--plain-http", "--pull-secret", str(path), "-o", "json")
    assert live.code == 1
    assert live.result["kubelet_attempts"][0]["secret"] is None


def test_pull_secret_entries_tried_in_kubelet_order(tmp_path, registry_token_http):
    reg = registry_token_http
    # a namespace-scoped key is more specific: kubelet tries bob's entry first, it cannot pull team/multi,
    # then alice's registry-wide entry works
    auths = {f"{reg.host}/team": {"auth": b64(f"{BOB.name}:{BOB.password}")},
             reg.host: {"auth": b64(f"{ALICE.name}:{ALICE.password}")}}
    path = tmp_path / "secret.json"
    path.write_text(json.dumps(secret("regcred", "apps", json.dumps({"auths": auths}))))
    run = regauth("pull-check", reg.ref("team/multi:1.0"), "--plain-http", "--pull-secret", str(path), "-o", "json")
    assert run.code == 0, run.stdout
    attempts = run.result["kubelet_attempts"]
    assert [(a["username"], a["ok"]) for a in attempts] == [("bob", False), ("alice", True)]
    assert "kube.earlier-entry-failed" in run.codes


def test_entry_without_password_is_an_anonymous_try(tmp_path, registry_token_http):
    reg = registry_token_http
    path = tmp_path / "secret.json"
    path.write_text(json.dumps(secret("regcred", "apps", json.dumps({"auths": {reg.host: {"username": "alice"}}}))))
    run = regauth("pull-check", reg.ref("team/app:1.0"), "--plain-http", "--pull-secret", str(path), "-o", "json")
    assert run.code == 1
    creds = run.step("credentials")
    assert creds["status"] == "warn" and "no password" in creds["summary"]
    assert creds["details"]["candidates"][0]["used"] is False
    assert "anonymous" in run.diagnosis("jwt.no-access")["message"]


def test_secret_lints_and_kubectl_fix_reach_the_live_check(tmp_path, registry_token_http):
    reg = registry_token_http
    path = tmp_path / "secret.json"
    payload = json.dumps({"auths": {reg.host: {"username": "alice", "password": ALICE.password + "\n"}}})
    path.write_text(json.dumps(secret("regcred", "apps", payload)))
    run = regauth("pull-check", reg.ref("team/app:1.0"), "--plain-http", "--pull-secret", str(path), "-o", "json")
    assert run.code == 1
    assert "secret.whitespace" in run.codes  # the echo newline decode-secret finds, shown where it bites
    fix = run.diagnosis("token.bad-credentials")["fix"]
    assert "kubectl create secret docker-registry regcred" in fix and f"--docker-server={reg.host}" in fix
    assert ALICE.password not in run.stdout


def test_kube_check_headline_names_the_failing_steps_cause(tmp_path, registry_token_http):
    reg = registry_token_http
    path = write(tmp_path, deployment(reg.ref("team/app:1.0")), service_account("puller", "apps", ["regcred"]))
    run = regauth("kube-check", path, "--plain-http")
    assert run.code == 1
    assert "FAILED at jwt: jwt.no-access" in run.stdout
    assert "Deployment/apps/web app:" in run.stdout
