"""mTLS in stages and telemetry (mesh_mtls, mesh_telemetry) on the local cluster, one cluster for the module.

Istio installed by the playbook with the tracing provider in istiod's Helm values, the eco2 workloads, a pod in
scan with the istio-proxy istiod injects (KWOK runs it), then the mtls_telemetry phase: monitors
skipped with a note until the Prometheus Operator's CRDs (from its Go module) exist; check/diff writes nothing;
istiod's validating webhook accepts every object; STRICT stops before any write while the spec declares a caller
without a sidecar, a meshed pod runs none or the NetworkPolicies on the cluster cut a telemetry flow, each named;
STRICT applies without them and a second run writes nothing; switching both sections off prunes the bundle.

inventory/local keeps mesh_telemetry off (no prometheus namespace there): these tests switch it on with -e.
"""
from __future__ import annotations

import json

import pytest
import yaml

from tests.lib import chart_repo, cluster as local_cluster, monitoring_crds
from tests.lib.ansible_run import REPO, run_playbook
from tests.lib.bundle_cluster import FIXTURES, PLAYBOOK, RENDER_PLAYBOOK

pytestmark = pytest.mark.slow

INVENTORY = "inventory/local"
ON = {"mesh_telemetry_enabled": True}
SHARED = yaml.safe_load((REPO / "inventory/shared/group_vars/all/mesh.yml").read_text())
# The Eco² spec's monitoring peer scrapes the apps on 8000 from the unmeshed prometheus namespace: a STRICT blocker.
PEERS_WITHOUT_APP_SCRAPE = [p for p in SHARED["mesh_peers"] if p["name"] != "monitoring"]
KINDS = ("peerauthentications.security.istio.io", "telemetries.telemetry.istio.io",
         "podmonitors.monitoring.coreos.com", "servicemonitors.monitoring.coreos.com")


@pytest.fixture(scope="module")
def kube(tmp_path_factory):
    """Nodes of inventory/local, Istio installed with mesh_telemetry on, the eco2 workloads, an injected scan pod."""
    k = local_cluster.start(inventory=str(REPO / INVENTORY), workdir=str(tmp_path_factory.mktemp("mtls")))
    try:
        with chart_repo.ChartRepo(tmp_path_factory.mktemp("charts"), versions=(chart_repo.LOCAL_RELEASE,)) as charts:
            installed = run_playbook(PLAYBOOK, "--tags", "istio_base,istiod", inventory=INVENTORY,
                                     extra_vars=dict(ON, istio_chart_repo_url=charts.url), env=k.env())
            assert installed.rc == 0, installed
        k.wait_istiod()
        k.wait_webhook_fail()
        k.kubectl("apply", "-f", str(FIXTURES / "eco2-workloads.yaml"))
        k.kubectl("create", "namespace", "prometheus")
        k.kubectl("label", "namespace", "scan", "istio-injection=enabled")
        run_pod(k, "scan-api-1", "app=scan-api")
        pod = json.loads(k.kubectl("get", "pod", "-n", "scan", "scan-api-1", "-o", "json").stdout)
        assert [c["name"] for c in pod["spec"]["containers"]] == ["api", "istio-proxy"]  # injected by istiod
        yield k
    finally:
        k.stop()


def run_pod(k, name, labels, *args):
    k.kubectl("run", name, "-n", "scan", "--image=%s:local" % name, "--labels=" + labels, *args, "--overrides",
              json.dumps({"spec": {"containers": [{"name": "api", "image": "%s:local" % name}],
                                   "tolerations": [{"operator": "Exists"}]}}))
    k.kubectl("wait", "-n", "scan", "--for=condition=Ready", "pod/" + name, "--timeout=60s")


def play(kube, extra=None, *args, tags="mtls_telemetry"):
    return run_playbook(PLAYBOOK, "--tags", tags, *args, inventory=INVENTORY, extra_vars=dict(ON, **(extra or {})),
                        env=kube.env())


def bundle(kube):
    out = []
    for kind in KINDS:
        got = kube.kubectl("get", kind, "-A", "-l", "mesh.eco2.io/bundle=mtls-telemetry", "-o", "json", check=False)
        items = json.loads(got.stdout)["items"] if got.returncode == 0 else []
        out += ["%s %s/%s" % (o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]) for o in items]
    return sorted(out)


def peer_authentication(kube, namespace="istio-system", name="default"):
    return json.loads(kube.kubectl("get", "peerauthentication", "-n", namespace, name, "-o", "json").stdout)


def test_1_permissive_with_telemetry_check_then_apply_accepted_by_istiod(kube):
    kube.clear_requests()
    check = play(kube, None, "--check", "--diff")
    assert check.rc == 0, check
    assert "PodMonitor and ServiceMonitor skipped: the cluster serves no" in check.stdout, check
    for ref in ("PeerAuthentication istio-system/default", "Telemetry istio-system/mesh-default"):
        assert "create " + ref in check.stdout, check
    assert "create PodMonitor" not in check.stdout
    assert "mode: PERMISSIVE" in check.stdout  # --diff shows the objects
    assert kube.writes() == []

    for path in monitoring_crds.monitor_crds():
        kube.kubectl("apply", "--server-side", "-f", str(path))
    kube.kubectl("wait", "--for=condition=Established", "--timeout=30s", "crd/podmonitors.monitoring.coreos.com",
                 "crd/servicemonitors.monitoring.coreos.com")
    first = play(kube)
    assert first.rc == 0, first
    assert bundle(kube) == ["PeerAuthentication istio-system/default", "PodMonitor istio-system/mesh-sidecars",
                            "ServiceMonitor istio-system/mesh-istiod", "Telemetry istio-system/mesh-default"]
    assert "mTLS: mesh-wide PERMISSIVE (PeerAuthentication istio-system/default); exceptions: none" in first.stdout
    assert "tracing jaeger (zipkin jaeger-collector.istio-system.svc.cluster.local:9411) at 50%" in first.stdout
    mesh = yaml.safe_load(json.loads(kube.kubectl("get", "configmap", "istio", "-n", "istio-system", "-o", "json")
                                     .stdout)["data"]["mesh"])
    assert {"name": "jaeger", "zipkin": {"service": "jaeger-collector.istio-system.svc.cluster.local",
                                         "port": 9411}} in mesh["extensionProviders"]
    # istiod's validating webhook (failurePolicy Fail) judged and admitted them
    hooks = json.loads(kube.kubectl("get", "validatingwebhookconfiguration", "istio-validator-istio-system",
                                    "-o", "json").stdout)["webhooks"]
    groups = {g for h in hooks for r in h["rules"] for g in r["apiGroups"]}
    assert {"security.istio.io", "telemetry.istio.io"} <= groups or "*" in groups, groups


def test_2_strict_with_unmeshed_callers_stops_before_any_write_naming_each(kube):
    run_pod(kube, "legacy", "app=legacy", "--annotations=sidecar.istio.io/inject=false")
    lockdown = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": "lockdown", "namespace": "prometheus"},
                "spec": {"podSelector": {}, "policyTypes": ["Egress"]}}
    kube.kubectl("apply", "-f", "-", input=json.dumps(lockdown))
    try:
        kube.clear_requests()
        result = play(kube, {"mesh_mtls_mode": "strict"})
        assert result.rc != 0, result
        assert "mesh analysis:" in result.stdout
        # the caller declared in the spec (mesh_peers monitoring: prometheus -> the domains' port 8000) ...
        assert ("caller prometheus (any pod): mesh_peers monitoring -> scan: prometheus (any pod, no sidecar) -> scan "
                "port 8000, which is STRICT: plaintext is refused.") in result.stdout, result
        # ... the meshed namespace's pod without a sidecar ...
        assert "Pod scan/legacy spec.containers: pod scan/legacy runs no ready istio-proxy" in result.stdout, result
        # ... and a telemetry flow the NetworkPolicies on the cluster cut (the NetworkPolicy bundle opens both sides)
        assert ("prometheus-sidecars: prometheus/app.kubernetes.io/name=prometheus -> auth/app=auth-api on TCP 15020 is "
                "blocked by the NetworkPolicies on the cluster: egress from prometheus (isolated by prometheus/lockdown)"
                ) in result.stdout, result
        assert kube.writes() == []
        assert peer_authentication(kube)["spec"]["mtls"]["mode"] == "PERMISSIVE"
    finally:
        kube.kubectl("delete", "pod", "-n", "scan", "legacy", "--wait=true")
        kube.kubectl("delete", "networkpolicy", "-n", "prometheus", "lockdown")


def test_3_strict_without_them_applies_with_exceptions_then_noop(kube):
    extra = {"mesh_mtls_mode": "strict", "mesh_peers": PEERS_WITHOUT_APP_SCRAPE,
             "mesh_mtls": {"namespaces": [{"namespace": "chat", "mode": "permissive"}],
                           "ports": [{"namespace": "scan", "ports": [9100], "mode": "permissive"}]}}
    first = play(kube, extra)
    assert first.rc == 0, first
    assert peer_authentication(kube)["spec"]["mtls"]["mode"] == "STRICT"
    assert peer_authentication(kube, "chat")["spec"]["mtls"]["mode"] == "PERMISSIVE"
    ports = peer_authentication(kube, "scan", "mesh-mtls-ports")["spec"]
    assert ports == {"selector": {"matchLabels": {"app": "scan-api"}}, "portLevelMtls": {"9100": {"mode": "PERMISSIVE"}}}
    assert ("mTLS: mesh-wide STRICT (PeerAuthentication istio-system/default); exceptions: chat PERMISSIVE; "
            "scan/app=scan-api port 9100 PERMISSIVE") in first.stdout

    kube.clear_requests()
    second = play(kube, extra, tags="mtls_telemetry,verify")
    assert second.rc == 0, second
    assert second.changed == 0, second
    assert kube.writes() == []
    # the migration summary reads what is in force from the cluster
    assert ("mTLS: mesh-wide STRICT (istio-system/default); exceptions: chat/default PERMISSIVE; "
            "scan/mesh-mtls-ports app=scan-api port 9100 PERMISSIVE") in second.stdout, second


def test_4_switched_off_prunes_the_bundle(kube):
    kube.clear_requests()
    off = play(kube, {"mesh_mtls_enabled": False, "mesh_telemetry_enabled": False})
    assert off.rc == 0, off
    assert bundle(kube) == []
    writes = kube.writes()
    assert writes and all(w["verb"] == "delete" for w in writes), writes
    assert "mTLS: not managed (mesh_mtls_enabled: false)" in off.stdout


def test_render_mode_contacts_nothing(tmp_path):
    out = tmp_path / "render"
    rendered = run_playbook(RENDER_PLAYBOOK, "--tags", "mtls_telemetry", inventory="inventory/dev",
                            extra_vars={"mesh_render_dir": str(out), "mesh_mtls_mode": "strict",
                                        "mesh_peers": PEERS_WITHOUT_APP_SCRAPE, "mesh_auth_enabled": False},
                            env={"KUBECONFIG": "/nonexistent", "K8S_AUTH_KUBECONFIG": "/nonexistent"})
    assert rendered.rc == 0, rendered
    docs = [d for d in yaml.safe_load_all((out / "manifests/70-mtls-telemetry.yaml").read_text()) if d]
    assert [(d["kind"], d["metadata"]["name"]) for d in docs] == [
        ("PeerAuthentication", "default"), ("Telemetry", "mesh-default"), ("PodMonitor", "mesh-sidecars"),
        ("ServiceMonitor", "mesh-istiod")]
    assert docs[0]["spec"] == {"mtls": {"mode": "STRICT"}}
