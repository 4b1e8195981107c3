"""Issue 5: the three Istio releases through the real playbook, helm and kubernetes.core, on the local cluster.

The charts are Istio's own (1.24.0 and 1.24.2, packaged from the istio.io/istio module), served
by a loopback chart repository and installed through the "repository URL + chart + version" path;
istiod's webhooks are served by the local istiod.
"""
from __future__ import annotations

import json
import os

import pytest
import yaml

from tests.lib import chart_repo
from tests.lib.ansible_run import run_playbook

pytestmark = pytest.mark.slow

PLAYBOOK = "playbooks/istio.yml"
RENDER = "playbooks/render.yml"
INVENTORY = "inventory/local"
ISTIO_CRDS = 14
# The real base chart marks 13 of its CRDs `helm.sh/resource-policy: keep`; WorkloadGroup's lacks
# it (Istio 1.24.0 and 1.24.2), so `helm uninstall istio-base` deletes that one with the release.
NOT_KEPT = {"workloadgroups.networking.istio.io"}


@pytest.fixture(scope="module")
def charts(tmp_path_factory):
    with chart_repo.ChartRepo(tmp_path_factory.mktemp("charts"), versions=chart_repo.DEFAULT_VERSIONS) as repo:
        yield repo


def istio(kube, charts, *args, **extra):
    extra_vars = {"istio_chart_repo_url": charts.url}
    extra_vars.update(extra)
    return run_playbook(PLAYBOOK, "--tags", "istio", *args, inventory=INVENTORY, extra_vars=extra_vars, env=kube.env())


def changed_tasks(result):
    """Names of the tasks that reported `changed`, in run order."""
    names, task = [], None
    for line in result.stdout.splitlines():
        if line.startswith("TASK ["):
            task = line[len("TASK ["):line.rindex("]")]
        elif line.startswith("changed:") and task:
            names.append(task)
    return names


def helm_releases(kube):
    from tests.lib.ansible_run import TOOLS_BIN
    import subprocess
    out = subprocess.run([str(TOOLS_BIN / "helm"), "list", "-A", "-o", "json"], env=kube.env(), text=True,
                         capture_output=True, check=True).stdout
    return {r["name"]: r for r in json.loads(out)}


def pods(kube, selector):
    out = kube.kubectl("get", "pods", "-n", "istio-system", "-l", selector, "-o", "json").stdout
    return [p for p in json.loads(out)["items"] if not p["metadata"].get("deletionTimestamp")]


def istio_crds(kube):
    out = json.loads(kube.kubectl("get", "crd", "-o", "json").stdout)["items"]
    return sorted(c["metadata"]["name"] for c in out if c["spec"]["group"].endswith("istio.io"))


def test_install_places_pods_and_second_run_writes_nothing(cluster_eco2, charts):
    kube = cluster_eco2
    first = istio(kube, charts)
    assert first.rc == 0, first
    assert first.changed >= 3, first

    releases = helm_releases(kube)
    assert {n: (r["chart"], r["status"], r["namespace"]) for n, r in releases.items()} == {
        "istio-base": ("base-1.24.2", "deployed", "istio-system"),
        "istiod": ("istiod-1.24.2", "deployed", "istio-system"),
        "istio-ingressgateway": ("gateway-1.24.2", "deployed", "istio-system"),
    }
    [istiod] = pods(kube, "app=istiod")
    assert istiod["spec"]["nodeName"] == "k8s-master"
    gateways = pods(kube, "app=istio-ingressgateway,istio=ingressgateway")
    assert gateways and {p["spec"]["nodeName"] for p in gateways} == {"k8s-ingress-gateway"}
    assert all(c["image"] != "auto" for p in gateways for c in p["spec"]["containers"])  # injected by istiod

    svc = json.loads(kube.kubectl("get", "svc", "istio-ingressgateway", "-n", "istio-system", "-o", "json").stdout)
    assert svc["spec"]["type"] == "NodePort"
    assert {p["name"]: p["port"] for p in svc["spec"]["ports"]} == {"status-port": 15021, "http2": 80, "https": 443}
    assert all(p.get("nodePort") for p in svc["spec"]["ports"])
    assert len(istio_crds(kube)) == ISTIO_CRDS
    # The verification report is in the output.
    assert "[ok] gateway_placement" in first.stdout and "[ok] deployment/istiod" in first.stdout

    kube.clear_requests()
    second = istio(kube, charts)
    assert second.rc == 0, second
    assert second.changed == 0, second
    assert kube.writes() == []


def test_preflight_fails_before_any_write_without_the_gateway_label(cluster_eco2, charts):
    kube = cluster_eco2
    kube.kubectl("label", "node", "k8s-ingress-gateway", "role-")
    kube.clear_requests()
    result = istio(kube, charts)
    assert result.rc != 0, result
    assert "role=ingress-gateway" in result.stdout
    assert "k8s-ingress-gateway (missing label role=ingress-gateway)" in result.stdout
    assert "k8s-master" in result.stdout  # the nodes considered are listed
    assert kube.writes() == []
    assert helm_releases(kube) == {}


def test_preflight_role_alone_in_check_mode_is_read_only(cluster_eco2, charts):
    kube = cluster_eco2
    kube.clear_requests()
    result = istio(kube, charts, "--check", "--diff")
    assert result.rc == 0, result
    assert kube.writes() == []
    assert helm_releases(kube) == {}


def test_patch_upgrade_in_place_then_absent_keeps_crds(cluster_eco2, charts):
    kube = cluster_eco2
    assert istio(kube, charts, istio_version=chart_repo.OLDER_RELEASE).rc == 0
    upgraded = istio(kube, charts, istio_version="1.24.2")
    assert upgraded.rc == 0, upgraded
    releases = helm_releases(kube)
    assert {n: (r["chart"], r["app_version"], r["revision"]) for n, r in releases.items()} == {
        "istio-base": ("base-1.24.2", "1.24.2", "2"),
        "istiod": ("istiod-1.24.2", "1.24.2", "2"),
        "istio-ingressgateway": ("gateway-1.24.2", "1.24.2", "2"),
    }
    assert {p["spec"]["nodeName"] for p in pods(kube, "app=istio-ingressgateway")} == {"k8s-ingress-gateway"}

    removed = istio(kube, charts, istio_state="absent")
    assert removed.rc == 0, removed
    assert helm_releases(kube) == {}
    kept = istio_crds(kube)  # helm.sh/resource-policy: keep
    assert len(kept) == ISTIO_CRDS - len(NOT_KEPT) and not NOT_KEPT & set(kept), kept
    # Reverse order: the gateway goes first, istio-base last.
    assert changed_tasks(removed) == [
        "eco2.mesh.istio_release : Uninstall the release - istio-ingressgateway",
        "eco2.mesh.istio_release : Uninstall the release - istiod",
        "eco2.mesh.istio_release : Uninstall the release - istio-base",
    ]

    kube.clear_requests()
    again = istio(kube, charts, istio_state="absent")
    assert again.rc == 0 and again.changed == 0, again
    assert kube.writes() == []

    # Later, purge the CRDs too (the summary then reads a cluster whose Istio kinds are gone).
    purged = istio(kube, charts, istio_state="absent", istio_base_remove_crds=True)
    assert purged.rc == 0, purged
    assert istio_crds(kube) == []


def test_absent_with_remove_crds_deletes_them(cluster_eco2, charts):
    kube = cluster_eco2
    assert istio(kube, charts).rc == 0
    purged = istio(kube, charts, istio_state="absent", istio_base_remove_crds=True)
    assert purged.rc == 0, purged
    assert istio_crds(kube) == []
    assert helm_releases(kube) == {}


@pytest.mark.parametrize("inventory,zone", [("inventory/dev", "dev"), ("inventory/prod", "prod")])
def test_render_mode_contacts_no_cluster(tmp_path, inventory, zone):
    out = tmp_path / "render"
    env = {"K8S_AUTH_KUBECONFIG": str(tmp_path / "no-such-kubeconfig"), "KUBECONFIG": str(tmp_path / "none")}
    result = run_playbook(RENDER, "--tags", "istio", inventory=inventory,
                          extra_vars={"mesh_render_dir": str(out)}, env=env)
    assert result.rc == 0, result
    releases = yaml.safe_load((out / "helm/releases.yaml").read_text())
    assert releases == [
        {"release": "istio-base", "chart": "base", "version": "1.24.1", "namespace": "istio-system",
         "repository": "https://istio-release.storage.googleapis.com/charts"},
        {"release": "istiod", "chart": "istiod", "version": "1.24.1", "namespace": "istio-system",
         "repository": "https://istio-release.storage.googleapis.com/charts"},
        {"release": "istio-ingressgateway", "chart": "gateway", "version": "1.24.1", "namespace": "istio-system",
         "repository": "https://istio-release.storage.googleapis.com/charts"},
    ]
    istiod = yaml.safe_load((out / "helm/istiod.values.yaml").read_text())
    assert istiod["pilot"]["nodeSelector"] == {"role": "control-plane"}
    assert istiod["pilot"]["autoscaleEnabled"] is False and istiod["pilot"]["replicaCount"] == 1
    assert istiod["pilot"]["resources"] == {"requests": {"cpu": "100m", "memory": "512Mi"},
                                            "limits": {"cpu": "500m", "memory": "1Gi"}}
    # the spec's providers, each declared once in inventory/shared: ext_authz (mesh_auth), tracing (mesh_telemetry)
    assert istiod["meshConfig"]["extensionProviders"] == [
        {"name": "eco2-ext-authz", "envoyExtAuthzGrpc": {
            "service": "auth-api.auth.svc.cluster.local", "port": 9001, "timeout": "2s", "failOpen": False}},
        {"name": "jaeger", "zipkin": {"service": "jaeger-collector.istio-system.svc.cluster.local", "port": 9411}}]
    gateway = yaml.safe_load((out / "helm/istio-ingressgateway.values.yaml").read_text())
    assert gateway["nodeSelector"] == {"role": "ingress-gateway"}
    assert gateway["service"]["type"] == "NodePort"
    assert [(p["name"], p["port"]) for p in gateway["service"]["ports"]] == [
        ("status-port", 15021), ("http2", 80), ("https", 443)]
    assert yaml.safe_load((out / "helm/istio-base.values.yaml").read_text()) == {}
    # Rendering again changes nothing.
    again = run_playbook(RENDER, "--tags", "istio", inventory=inventory,
                         extra_vars={"mesh_render_dir": str(out)}, env=env)
    assert again.rc == 0 and again.changed == 0, again
    assert not os.path.exists(tmp_path / "kube-cache")


def test_check_diff_shows_the_values_change_and_writes_nothing(cluster_eco2, charts):
    kube = cluster_eco2
    assert istio(kube, charts).rc == 0
    kube.clear_requests()
    same = istio(kube, charts, "--check", "--diff")
    assert same.rc == 0 and same.changed == 0, same
    planned = istio(kube, charts, "--check", "--diff", istiod_replicas=2)
    assert planned.rc == 0, planned
    assert '-        "replicaCount": 1,' in planned.stdout and '+        "replicaCount": 2,' in planned.stdout, planned
    assert "eco2.mesh.istio_release : Install or upgrade the release and wait until it is available - istiod" in changed_tasks(planned)
    assert kube.writes() == []
