"""Which pull secrets a workload's pods get and which credentials kubelet would try for each image (§8.3)."""

from __future__ import annotations

import json

import yaml

from regauth.kube.workloads import load_objects, parse_objects, plan_workloads

REG = "registry.example.com"


def secret(name: str, namespace: str = "app1", server: str = REG, type_: str = "kubernetes.io/dockerconfigjson",
           auth: str = "dXNlcjE6cGFzc3dvcmQx") -> dict:
    config = json.dumps({"auths": {server: {"auth": auth}}})
    return {"apiVersion": "v1", "kind": "Secret", "type": type_, "metadata": {"name": name, "namespace": namespace},
            "stringData": {".dockerconfigjson": config}}


def account(name: str, namespace: str = "app1", secrets: tuple[str, ...] = ()) -> dict:
    out = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": namespace}}
    if secrets:
        out["imagePullSecrets"] = [{"name": s} for s in secrets]
    return out


def pod_spec(*images: str, secrets: tuple[str, ...] = (), account_name: str | None = None) -> dict:
    spec: dict = {"containers": [{"name": f"c{i}", "image": image} for i, image in enumerate(images)]}
    if secrets:
        spec["imagePullSecrets"] = [{"name": s} for s in secrets]
    if account_name:
        spec["serviceAccountName"] = account_name
    return spec


def pod(name: str, spec: dict, namespace: str | None = "app1", **metadata) -> dict:
    meta = {"name": name, **({"namespace": namespace} if namespace else {}), **metadata}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


def deployment(name: str, spec: dict, namespace: str = "app1") -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": namespace},
            "spec": {"template": {"metadata": {}, "spec": spec}}}


def codes(plan) -> list[str]:
    return [d.code for d in plan.diagnoses]


def test_service_account_secrets_are_used_when_the_pod_lists_none():
    [plan] = plan_workloads([secret("regcred"), account("default", secrets=("regcred",)),
                             deployment("web", pod_spec(f"{REG}/team/app:1"))])
    assert plan.workload.kind == "Deployment" and str(plan.workload) == "Deployment app1/web"
    assert plan.secrets_used == ["regcred"] and plan.secrets_from == "serviceaccount default"
    [credential] = plan.credentials_to_try
    assert (credential.secret, credential.key, credential.via) == ("regcred", REG, "match")
    assert credential.entry.username == "user1"
    assert plan.diagnoses == []


def test_named_service_account_and_missing_account():
    objects = [secret("regcred"), account("builder", secrets=("regcred",)),
               pod("a", pod_spec(f"{REG}/x", account_name="builder")),
               pod("b", pod_spec(f"{REG}/x", account_name="ghost"))]
    named, ghost = plan_workloads(objects)
    assert named.secrets_used == ["regcred"] and named.credentials_to_try
    assert ghost.secrets_used == [] and ghost.secrets_from == "serviceaccount ghost (not in the input)"


def test_pod_own_secrets_win_and_the_service_account_list_is_not_merged():
    objects = [secret("own", server="other.example.com"), secret("from-sa"),
               account("default", secrets=("from-sa",)), pod("web", pod_spec(f"{REG}/team/app", secrets=("own",)))]
    [plan] = plan_workloads(objects)
    assert plan.secrets_used == ["own"] and plan.secrets_from == "pod"
    assert plan.credentials_to_try == []
    ignored = next(d for d in plan.diagnoses if d.code == "kube.serviceaccount-ignored")
    assert "from-sa" in ignored.message and f"{REG}/team/app" in ignored.message
    assert "kube.secret-unused" in codes(plan)  # 'own' serves none of the images


def test_secret_in_another_namespace():
    [plan] = plan_workloads([secret("regcred", namespace="default"),
                             pod("web", pod_spec(f"{REG}/team1/app1:v1", secrets=("regcred",)))])
    missing = plan.diagnoses[0]
    assert missing.code == "kube.secret-missing" and missing.severity == "error"
    assert "namespace app1 (found in: default)" in missing.message
    assert "kubectl get secret regcred -n default" in missing.fix and "kubectl apply -n app1" in missing.fix
    assert plan.credentials_to_try == []


def test_secret_missing_everywhere_and_listed_on_the_account():
    [plan] = plan_workloads([account("default", secrets=("nowhere",)), pod("web", pod_spec(f"{REG}/a"))])
    [missing] = plan.diagnoses
    assert missing.code == "kube.secret-missing"
    assert "listed on its ServiceAccount default" in missing.message and "found in" not in missing.message
    assert "kubectl create secret docker-registry nowhere" in missing.fix


def test_secret_of_the_wrong_type():
    [plan] = plan_workloads([secret("regcred", type_="Opaque"),
                             pod("web", pod_spec(f"{REG}/a", secrets=("regcred",)))])
    wrong = plan.diagnoses[0]
    assert wrong.code == "kube.secret-wrong-type" and "type Opaque" in wrong.message
    assert "--type=kubernetes.io/dockerconfigjson" in wrong.fix
    assert plan.credentials_to_try == []


def test_broken_auth_in_one_secret_fails_every_pull_of_the_pod():
    objects = [secret("good"), secret("broken", server="other.example.com", auth="not*base64"),
               pod("web", pod_spec(f"{REG}/a", "other.example.com/b", secrets=("good", "broken")))]
    plans = plan_workloads(objects)
    assert len(plans) == 2
    for plan in plans:
        assert plan.credentials_to_try == []
        assert codes(plan) == ["kube.keyring-error"]
        assert "every image pull of the pod fails" in plan.diagnoses[0].message


def test_unused_secret_and_public_images():
    objects = [secret("regcred", server="ghcr.io"), pod("web", pod_spec("busybox", secrets=("regcred",)))]
    [plan] = plan_workloads(objects)
    assert set(codes(plan)) == {"kube.secret-unused", "secret.no-match"}
    no_match = next(d for d in plan.diagnoses if d.code == "secret.no-match")
    assert no_match.severity == "info" and "docker.io/library/busybox" in no_match.message


def test_every_container_list_is_planned():
    spec = pod_spec(f"{REG}/app")
    spec["initContainers"] = [{"name": "init", "image": "busybox:1.36"}]
    spec["ephemeralContainers"] = [{"name": "debug", "image": "nicolaka/netshoot"}]
    plans = plan_workloads([pod("web", spec)])
    assert [(p.container_list, p.container, p.image_name) for p in plans] == [
        ("initContainers", "init", "docker.io/library/busybox"),
        ("containers", "c0", f"{REG}/app"),
        ("ephemeralContainers", "debug", "docker.io/nicolaka/netshoot")]


def test_cronjob_uses_the_job_template():
    cronjob = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly", "namespace": "app1"},
               "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": {"spec": pod_spec(
                   f"{REG}/jobs/report", secrets=("regcred",))}}}}}
    [plan] = plan_workloads([secret("regcred"), cronjob])
    assert str(plan.workload) == "CronJob app1/nightly"
    assert [c.secret for c in plan.credentials_to_try] == ["regcred"]


def test_account_without_secrets_while_default_has_them():
    """BR-62: the automation patched the default ServiceAccount, the pods use another one."""
    objects = [secret("regcred"), account("default", secrets=("regcred",)), account("app1-sa"),
               pod("web", pod_spec(f"{REG}/team1/app1:v1", account_name="app1-sa"))]
    [plan] = plan_workloads(objects)
    [diagnosis] = plan.diagnoses
    assert diagnosis.code == "kube.no-pull-secrets" and diagnosis.severity == "warning"
    assert "ServiceAccount app1-sa" in diagnosis.message and "ServiceAccount default has regcred" in diagnosis.message
    assert "kubectl patch serviceaccount app1-sa -n app1" in diagnosis.fix


def test_live_pod_created_before_the_account_got_its_secrets():
    live = pod("web-7c9", pod_spec(f"{REG}/a"), uid="0b6c3a0e-1111-2222-3333-444455556666")
    [plan] = plan_workloads([secret("regcred"), account("default", secrets=("regcred",)), live])
    assert plan.secrets_used == [] and plan.credentials_to_try == []
    [diagnosis] = plan.diagnoses
    assert diagnosis.code == "kube.no-pull-secrets" and "after the pod was created" in diagnosis.message
    assert "kubectl delete pod web-7c9 -n app1" in diagnosis.fix


def test_namespace_defaults_to_default_and_hub_fallback_is_labelled():
    objects = [secret("hub", namespace="default", server="https://index.docker.io/v1/"),
               pod("web", pod_spec("library/nginx:1.27", secrets=("hub",)), namespace=None)]
    [plan] = plan_workloads(objects)
    assert plan.workload.namespace == "default"
    [credential] = plan.credentials_to_try
    assert credential.via == "docker-hub-fallback" and credential.namespace == "default"


def test_invalid_image_reference():
    [plan] = plan_workloads([pod("web", pod_spec("Registry.Example.com/Team/App"))])
    assert plan.image_name is None and codes(plan) == ["reference.invalid"]


def test_plan_json_never_holds_a_password():
    [plan] = plan_workloads([secret("regcred", auth="dXNlcjE6UzNjcmV0LVZhbHVlLTk5"),
                             pod("web", pod_spec(f"{REG}/a", secrets=("regcred",)))])
    dumped = json.dumps(plan.to_json())
    assert "S3cret-Value-99" not in dumped and "dXNlcjE6UzNjcmV0LVZhbHVlLTk5" not in dumped
    assert plan.to_json()["credentials_to_try"][0]["password"]["length"] == 15


def test_load_objects_reads_files_directories_lists_and_multi_documents(tmp_path):
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "app.yaml").write_text(yaml.safe_dump_all([
        account("default", secrets=("regcred",)), deployment("web", pod_spec(f"{REG}/a"))]))
    (tmp_path / "manifests" / "notes.txt").write_text("not a manifest: [")
    listed = tmp_path / "secrets.json"
    listed.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [secret("regcred")]}))
    objects = load_objects([tmp_path / "manifests", listed])
    assert [o["kind"] for o in objects] == ["ServiceAccount", "Deployment", "Secret"]
    [plan] = plan_workloads(objects)
    assert plan.credentials_to_try[0].secret == "regcred"
    assert parse_objects(listed.read_text(), "secrets.json")[0]["kind"] == "Secret"
