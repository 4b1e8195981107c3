"""Real helm v3 against kubesim: install/upgrade/--wait/--atomic/rollback/uninstall, CRDs and hooks."""
from __future__ import annotations

import json

import pytest

from tests.kubesim.kubesim_helpers import CHARTS, api, helm, kubectl, kubectl_json

WEBAPP = str(CHARTS / "webapp")


@pytest.fixture(scope="module", autouse=True)
def release(sim):
    helm(sim, "install", "web", WEBAPP, "-n", "shop", "--create-namespace", "--wait", "--timeout", "30s",
         "--set", "replicaCount=2")


def test_install_with_wait_makes_everything_ready(sim):
    dep = kubectl_json(sim, "-n", "shop", "get", "deploy", "web")
    assert dep["status"]["availableReplicas"] == 2
    assert dep["metadata"]["annotations"]["meta.helm.sh/release-name"] == "web"
    assert dep["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"
    cm = kubectl_json(sim, "-n", "shop", "get", "cm", "web-config")
    assert cm["data"]["message"] == "hello"
    secrets = kubectl_json(sim, "-n", "shop", "get", "secrets", "-l", "owner=helm")["items"]
    assert [s["metadata"]["name"] for s in secrets] == ["sh.helm.release.v1.web.v1"]
    assert secrets[0]["type"] == "helm.sh/release.v1"


def test_list_and_status(sim):
    rows = json.loads(helm(sim, "list", "-n", "shop", "-o", "json").stdout)
    assert [(r["name"], r["status"], r["revision"], r["chart"]) for r in rows] == [("web", "deployed", "1",
                                                                                    "webapp-0.1.0")]
    status = json.loads(helm(sim, "status", "web", "-n", "shop", "-o", "json").stdout)
    assert status["info"]["status"] == "deployed" and status["version"] == 1
    assert helm(sim, "list", "-A", "-q").stdout.split() == ["web"]


def test_upgrade_install_changes_values_and_rolls_pods(sim):
    before = {p["metadata"]["name"] for p in kubectl_json(sim, "-n", "shop", "get", "pods", "-l", "app=web")["items"]}
    helm(sim, "upgrade", "--install", "web", WEBAPP, "-n", "shop", "--wait", "--timeout", "30s",
         "--set", "replicaCount=2", "--set", "message=bonjour")
    assert kubectl_json(sim, "-n", "shop", "get", "cm", "web-config")["data"]["message"] == "bonjour"
    after = {p["metadata"]["name"] for p in kubectl_json(sim, "-n", "shop", "get", "pods", "-l", "app=web")["items"]}
    assert len(after) == 2 and not before & after  # checksum annotation changed the template
    assert json.loads(helm(sim, "status", "web", "-n", "shop", "-o", "json").stdout)["version"] == 2


def test_upgrade_install_installs_when_missing(sim):
    helm(sim, "upgrade", "--install", "fresh", WEBAPP, "-n", "fresh", "--create-namespace", "--wait",
         "--timeout", "30s")
    assert kubectl_json(sim, "-n", "fresh", "get", "deploy", "fresh")["status"]["readyReplicas"] == 1


def test_rollback(sim):
    helm(sim, "install", "rb", WEBAPP, "-n", "shop", "--wait", "--timeout", "30s", "--set", "message=one")
    helm(sim, "upgrade", "rb", WEBAPP, "-n", "shop", "--wait", "--timeout", "30s", "--set", "message=two")
    assert kubectl_json(sim, "-n", "shop", "get", "cm", "rb-config")["data"]["message"] == "two"
    helm(sim, "rollback", "rb", "1", "-n", "shop", "--wait", "--timeout", "30s")
    assert kubectl_json(sim, "-n", "shop", "get", "cm", "rb-config")["data"]["message"] == "one"
    hist = json.loads(helm(sim, "history", "rb", "-n", "shop", "-o", "json").stdout)
    assert [h["status"] for h in hist] == ["superseded", "superseded", "deployed"]
    assert hist[-1]["description"] == "Rollback to 1"


def test_atomic_failure_rolls_back(sim):
    out = helm(sim, "upgrade", "web", WEBAPP, "-n", "shop", "--atomic", "--timeout", "3s",
               "--set", "replicaCount=2", "--set", "nodeSelector.role=does-not-exist", check=False)
    assert out.returncode != 0
    assert "rolled back" in out.stderr or "rollback" in out.stderr.lower()
    hist = json.loads(helm(sim, "history", "web", "-n", "shop", "-o", "json").stdout)
    assert hist[-2]["status"] == "failed" and hist[-1]["status"] == "deployed"
    dep = kubectl_json(sim, "-n", "shop", "get", "deploy", "web")
    assert "nodeSelector" not in dep["spec"]["template"]["spec"]
    kubectl(sim, "-n", "shop", "rollout", "status", "deploy/web", "--timeout=20s")


def test_atomic_install_failure_uninstalls(sim):
    out = helm(sim, "install", "broken", WEBAPP, "-n", "shop", "--atomic", "--timeout", "3s",
               "--set", "nodeSelector.role=ingress-gateway", check=False)
    assert out.returncode != 0 and "uninstalled" in out.stderr
    assert kubectl(sim, "-n", "shop", "get", "deploy", "broken", check=False).returncode == 1
    assert "broken" not in helm(sim, "list", "-n", "shop", "-q", "-a").stdout


def test_wait_fails_on_unschedulable_pods(sim):
    out = helm(sim, "install", "pending", WEBAPP, "-n", "shop", "--wait", "--timeout", "2s",
               "--set", "nodeSelector.role=ingress-gateway", check=False)
    assert out.returncode != 0 and "context deadline exceeded" in out.stderr
    pod = kubectl_json(sim, "-n", "shop", "get", "pods", "-l", "app=pending")["items"][0]
    cond = next(c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled")
    assert "untolerated taint {role: ingress-gateway}" in cond["message"]
    helm(sim, "uninstall", "pending", "-n", "shop", "--wait")


def test_chart_with_crds_hooks_and_custom_resources(sim):
    helm(sim, "install", "gw", str(CHARTS / "with-crds"), "-n", "edge", "--create-namespace", "--wait",
         "--timeout", "30s")
    crd = kubectl_json(sim, "get", "crd", "testgateways.networking.kubesim.io")
    assert any(c["type"] == "Established" and c["status"] == "True" for c in crd["status"]["conditions"])
    gw = kubectl_json(sim, "-n", "edge", "get", "testgateways", "gw")
    assert gw["spec"]["servers"][0]["hosts"] == ["demo.example.com"]
    job = kubectl_json(sim, "-n", "edge", "get", "job", "gw-post-install")
    assert job["status"]["succeeded"] == 1
    # a second release of the same chart meets the existing CRD (AlreadyExists is fine for helm)
    helm(sim, "install", "gw2", str(CHARTS / "with-crds"), "-n", "edge", "--wait", "--timeout", "30s",
         "--set", "host=other.example.com")
    assert api(sim, "GET", "/apis/networking.kubesim.io/v1beta1/namespaces/edge/testgateways/gw2")[0] == 200
    helm(sim, "upgrade", "gw", str(CHARTS / "with-crds"), "-n", "edge", "--wait", "--timeout", "30s",
         "--set", "host=changed.example.com")
    assert kubectl_json(sim, "-n", "edge", "get", "testgateways", "gw")["spec"]["servers"][0]["hosts"] == [
        "changed.example.com"]


def test_uninstall_removes_release_objects_but_keeps_crds(sim):
    helm(sim, "install", "gone", WEBAPP, "-n", "gone", "--create-namespace", "--wait", "--timeout", "30s")
    helm(sim, "install", "crd-gone", str(CHARTS / "with-crds"), "-n", "gone", "--wait", "--timeout", "30s")
    helm(sim, "uninstall", "gone", "-n", "gone", "--wait")
    assert kubectl(sim, "-n", "gone", "get", "deploy", "gone", check=False).returncode == 1
    assert [s["metadata"]["name"] for s in kubectl_json(sim, "-n", "gone", "get", "secrets", "-l",
                                                         "owner=helm")["items"]] == ["sh.helm.release.v1.crd-gone.v1"]
    assert [p for p in kubectl_json(sim, "-n", "gone", "get", "pods")["items"]
            if p["metadata"]["labels"].get("app") == "gone"] == []
    helm(sim, "uninstall", "crd-gone", "-n", "gone")
    assert kubectl(sim, "-n", "gone", "get", "testgateways", "crd-gone", check=False).returncode == 1
    # CRDs from crds/ are never deleted by helm
    assert kubectl(sim, "get", "crd", "testgateways.networking.kubesim.io", check=False).returncode == 0


def test_helm_template_validate_against_server(sim):
    out = helm(sim, "template", "v", WEBAPP, "-n", "shop", "--validate")
    assert "kind: Deployment" in out.stdout
