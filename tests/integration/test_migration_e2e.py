"""Issue 7: the whole migration (playbooks/istio.yml) on the local cluster seeded like the eco2 cluster.

Runs it, runs it again (changed=0, zero writes), then breaks one thing at a time
and checks the run stops in the right phase with the right message, having written
nothing of that phase.
"""
from __future__ import annotations

import json
import re

import yaml

import pytest

from tests.lib import chart_repo, cluster as local_cluster
from tests.lib.ansible_run import REPO, run_playbook

pytestmark = pytest.mark.slow

PLAYBOOK = "playbooks/istio.yml"
RENDER = "playbooks/render.yml"
INVENTORY = "inventory/local"
DOMAINS = ["auth", "my", "scan", "character", "location", "image", "chat"]


@pytest.fixture(scope="session")
def e2e_charts(tmp_path_factory):
    with chart_repo.ChartRepo(tmp_path_factory.mktemp("charts"), versions=(chart_repo.LOCAL_RELEASE,)) as repo:
        yield repo


@pytest.fixture
def charts(e2e_charts):
    return e2e_charts


def seeded_cluster(workdir, charts):
    kube = local_cluster.start(inventory=str(REPO / INVENTORY), workdir=str(workdir))
    seed = run_playbook("scripts/demo/seed_apps.yml", inventory=INVENTORY, env=kube.env())
    if seed.rc != 0:
        kube.stop()
        raise AssertionError(str(seed))
    kube.clear_requests()
    return kube


def migrate(kube, charts, *args, **extra):
    extra_vars = {"istio_chart_repo_url": charts.url}
    extra_vars.update(extra)
    return run_playbook(PLAYBOOK, *args, inventory=INVENTORY, extra_vars=extra_vars, env=kube.env())


def summary(result) -> str:
    """The lines of the closing summary task."""
    out = result.stdout
    start = out.index("== eco2.mesh migration summary ==")
    return out[start:out.index("]", start)]


def failed_task(result) -> str:
    task = None
    for line in result.stdout.splitlines():
        if line.startswith("TASK ["):
            task = line[len("TASK ["):line.rindex("]")]
        elif line.startswith("fatal:"):
            return task
    return ""


# Session scope: if another module's test runs between these on the same worker, a module-scoped
# cluster would be torn down and migrated again.
@pytest.fixture(scope="session")
def migrated(tmp_path_factory, e2e_charts):
    kube = seeded_cluster(tmp_path_factory.mktemp("e2e"), e2e_charts)
    first = migrate(kube, e2e_charts)
    yield kube, first
    kube.stop()


def test_migration_places_istio_and_meshes_every_domain(migrated):
    kube, first = migrated
    assert first.rc == 0, first
    text = summary(first)
    assert "istiod runs on:  k8s-master (Running)" in text
    assert "gateway runs on: k8s-ingress-gateway (Running)" in text
    for release in ("istio-base", "istiod", "istio-ingressgateway"):
        assert release in text
    for domain in DOMAINS:
        assert f"prefix /api/v1/{domain}" in text and f"{domain}-api.{domain}.svc.cluster.local:8000" in text
        assert re.search(rf'"  {domain}: 1/1 pods with a ready sidecar injected by istiod \({domain}-api-[a-z0-9-]+ 2/2\)"', text), domain
    assert "Findings: none" in text
    pods = json.loads(kube.kubectl("get", "pods", "-A", "-l", "domain", "-o", "json").stdout)["items"]
    meshed = [p for p in pods if p["metadata"]["namespace"] in DOMAINS and not p["metadata"].get("deletionTimestamp")]
    assert len(meshed) == len(DOMAINS)
    for pod in meshed:
        names = [c["name"] for c in pod["spec"]["containers"]]
        assert names == ["api", "istio-proxy"], (pod["metadata"]["name"], names)
        assert all(s["ready"] for s in pod["status"]["containerStatuses"])
    ns = json.loads(kube.kubectl("get", "ns", "scan", "-o", "json").stdout)
    assert ns["metadata"]["labels"]["istio-injection"] == "enabled"


def test_second_run_changes_nothing_and_writes_nothing(migrated, charts):
    kube, first = migrated
    assert first.rc == 0, first
    kube.clear_requests()
    second = migrate(kube, charts)
    assert second.rc == 0, second
    assert second.changed == 0, second
    assert kube.writes() == []


def test_check_mode_on_a_migrated_cluster_predicts_no_change(migrated, charts):
    kube, first = migrated
    assert first.rc == 0, first
    kube.clear_requests()
    check = migrate(kube, charts, "--check", "--diff")
    assert check.rc == 0, check
    assert check.changed == 0, check
    assert kube.writes() == []


def test_gateway_node_without_its_label_stops_before_any_install(tmp_path, charts):
    kube = seeded_cluster(tmp_path / "kube", charts)
    try:
        kube.kubectl("label", "node", "k8s-ingress-gateway", "role-")
        kube.clear_requests()
        # node_join would repair the label; skip it to see what guards the Istio phases.
        result = migrate(kube, charts, "--skip-tags", "node_join")
        assert result.rc != 0, result
        assert "role=ingress-gateway" in result.stdout, result
        # The first Istio phase's preflight stops the run, before any helm install.
        assert failed_task(result).startswith("eco2.mesh.istio_base : Preflight the Istio install"), failed_task(result)
        assert kube.writes() == [], kube.writes()
    finally:
        kube.stop()


def test_node_join_repairs_the_gateway_node_label_before_istio(tmp_path, charts):
    kube = seeded_cluster(tmp_path / "kube", charts)
    try:
        kube.kubectl("label", "node", "k8s-ingress-gateway", "role-")
        result = migrate(kube, charts, "--tags", "node_join,istio")
        assert result.rc == 0, result
        node = json.loads(kube.kubectl("get", "node", "k8s-ingress-gateway", "-o", "json").stdout)
        assert node["metadata"]["labels"]["role"] == "ingress-gateway"
        gw = json.loads(kube.kubectl("get", "pods", "-n", "istio-system", "-l", "app=istio-ingressgateway",
                                    "-o", "json").stdout)["items"]
        assert {p["spec"]["nodeName"] for p in gw} == {"k8s-ingress-gateway"}
    finally:
        kube.stop()


def test_policy_without_istiod_egress_stops_injection(tmp_path, charts):
    """The seed's failure 3: a whitelist egress policy that only allows the database port."""
    kube = seeded_cluster(tmp_path / "kube", charts)
    try:
        kube.kubectl("apply", "-f", "-", input=json.dumps({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "allow-postgres-only", "namespace": "scan"},
            "spec": {"podSelector": {}, "policyTypes": ["Egress"],
                     "egress": [{"ports": [{"protocol": "TCP", "port": 5432}]}]}}))
        # The eco2 bundle would add istiod egress; here policies come from elsewhere (e.g. Argo CD).
        result = migrate(kube, charts, "--skip-tags", "network_policies")
        assert result.rc != 0, result
        assert "Sidecar injection refused" in result.stdout, result
        assert "scan" in result.stdout and "15012" in result.stdout, result
        labels = json.loads(kube.kubectl("get", "ns", "scan", "-o", "json").stdout)["metadata"].get("labels", {})
        assert "istio-injection" not in labels
        # The Istio phases ran (helm creates istio-system); no namespace was labelled for injection.
        assert not [w for w in kube.writes() if w["resource"] == "namespaces" and w["verb"] == "patch"], kube.writes()
        assert failed_task(result).endswith("Stop before labelling when sidecars could not reach istiod or DNS"), result
    finally:
        kube.stop()


def test_gateway_without_the_health_check_host_stops_routing(tmp_path, charts):
    """The seed's failure 2: Gateway hosts only api/argocd/grafana, so the ALB probe matches no route."""
    kube = seeded_cluster(tmp_path / "kube", charts)
    try:
        result = migrate(kube, charts, mesh_gateway_extra_hosts=[], mesh_health_check_route=False)
        assert result.rc != 0, result
        assert "alb-health-check" in result.stdout and "Gateway istio-system/eco2-gateway" in result.stdout, result
        assert "spec.servers" in result.stdout, result
        routing_writes = [w for w in kube.writes() if w["resource"] in ("gateways", "virtualservices", "ingresses")]
        assert routing_writes == []
    finally:
        kube.stop()


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_whole_playbook_renders_every_phase_without_a_cluster(tmp_path, env):
    out = tmp_path / "render"
    result = run_playbook(RENDER, inventory=f"inventory/{env}", extra_vars={"mesh_render_dir": str(out)},
                          env={"K8S_AUTH_KUBECONFIG": str(tmp_path / "no-such-kubeconfig")})
    assert result.rc == 0, result
    assert set(result.recap) == {"localhost"}, result.recap  # no inventory host was contacted
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert files == ["helm/istio-base.values.yaml", "helm/istio-ingressgateway.values.yaml", "helm/istiod.values.yaml",
                     "helm/releases.yaml", "manifests/07-network-policies.yaml", "manifests/50-routing.yaml",
                     "manifests/60-sidecar-injection.yaml", "manifests/70-mtls-telemetry.yaml",
                     "nodes/k8s-ingress-gateway.kubelet.conf",
                     "topology/topology.mmd", "topology/topology.svg"]
    namespaces = list(yaml.safe_load_all((out / "manifests/60-sidecar-injection.yaml").read_text()))
    assert [n["metadata"]["name"] for n in namespaces] == DOMAINS
    assert all(n["metadata"]["labels"] == {"istio-injection": "enabled"} for n in namespaces)
    # mesh_mtls_mode permissive (the first stage), the mesh-default Telemetry and the Prometheus Operator monitors
    mtls = list(yaml.safe_load_all((out / "manifests/70-mtls-telemetry.yaml").read_text()))
    assert [(o["kind"], o["metadata"]["namespace"]) for o in mtls] == [
        ("PeerAuthentication", "istio-system"), ("Telemetry", "istio-system"), ("PodMonitor", "istio-system"),
        ("ServiceMonitor", "istio-system")]
    assert mtls[0]["spec"]["mtls"] == {"mode": "PERMISSIVE"}
