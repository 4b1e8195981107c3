"""Process contract, discovery, version/openapi/health, request log, faults, state file."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from tests.kubesim.kubesim_helpers import INVENTORY, REPO, api, kubectl, kubectl_json
from tests.lib import kubesim_proc

AGG = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"


def test_kubeconfig_points_at_loopback_with_token_and_context(sim):
    cfg = yaml.safe_load(Path(sim.kubeconfig).read_text())
    assert cfg["current-context"] == "kubesim"
    server = cfg["clusters"][0]["cluster"]["server"]
    assert server.startswith("http://127.0.0.1:") and int(server.rsplit(":", 1)[1]) > 0
    assert cfg["users"][0]["user"]["token"]


def test_version_health_and_openapi(sim):
    status, version = api(sim, "GET", "/version")
    assert status == 200 and version["gitVersion"] == "v1.30.6" and version["minor"] == "30"
    for path in ("/healthz", "/readyz", "/livez"):
        assert api(sim, "GET", path)[0] == 200
    assert api(sim, "GET", "/openapi/v2")[0] == 200
    status, doc = api(sim, "GET", "/openapi/v3")
    assert status == 200 and "paths" in doc
    out = kubectl(sim, "version", "-o", "json").stdout
    assert json.loads(out)["serverVersion"]["gitVersion"] == "v1.30.6"


def test_kube_version_is_configurable(tmp_path):
    s = kubesim_proc.start(workdir=str(tmp_path / "ks"), extra_args=["--kube-version", "v1.31.2"])
    try:
        assert api(s, "GET", "/version")[1]["gitVersion"] == "v1.31.2"
    finally:
        s.stop()


def test_legacy_discovery_documents(sim):
    _, core = api(sim, "GET", "/api")
    assert core["kind"] == "APIVersions" and core["versions"] == ["v1"]
    _, v1 = api(sim, "GET", "/api/v1")
    assert v1["groupVersion"] == "v1"
    pods = next(r for r in v1["resources"] if r["name"] == "pods")
    assert pods["namespaced"] and pods["kind"] == "Pod" and "po" in pods["shortNames"]
    nodes = next(r for r in v1["resources"] if r["name"] == "nodes")
    assert nodes["namespaced"] is False
    _, groups = api(sim, "GET", "/apis")
    names = {g["name"] for g in groups["groups"]}
    assert {"apps", "batch", "policy", "rbac.authorization.k8s.io", "networking.k8s.io",
            "admissionregistration.k8s.io", "apiextensions.k8s.io", "coordination.k8s.io"} <= names
    _, apps = api(sim, "GET", "/apis/apps/v1")
    assert {r["name"] for r in apps["resources"]} >= {"deployments", "deployments/status", "deployments/scale",
                                                      "replicasets", "daemonsets", "statefulsets"}


def test_aggregated_discovery_answers_v2(sim):
    status, doc = api(sim, "GET", "/apis", headers={"Accept": AGG})
    assert status == 200 and doc["kind"] == "APIGroupDiscoveryList"
    assert doc["apiVersion"] == "apidiscovery.k8s.io/v2"
    apps = next(i for i in doc["items"] if i["metadata"]["name"] == "apps")
    deploy = next(r for r in apps["versions"][0]["resources"] if r["resource"] == "deployments")
    assert deploy["scope"] == "Namespaced" and deploy["responseKind"]["kind"] == "Deployment"
    _, core = api(sim, "GET", "/api", headers={"Accept": AGG})
    assert core["items"][0]["versions"][0]["version"] == "v1"
    # kubectl api-resources uses exactly this discovery
    out = kubectl(sim, "api-resources", "--api-group=apps").stdout
    assert "deployments" in out and "deploy" in out


def test_scope_and_list_kinds(sim):
    _, nodes = api(sim, "GET", "/api/v1/nodes")
    assert nodes["kind"] == "NodeList" and nodes["apiVersion"] == "v1"
    assert int(nodes["metadata"]["resourceVersion"]) > 0
    assert all(n["kind"] == "Node" and n["apiVersion"] == "v1" for n in nodes["items"])
    # a cluster-scoped kind has no namespaced URL
    assert api(sim, "GET", "/api/v1/namespaces/default/nodes")[0] == 404
    _, sas = api(sim, "GET", "/api/v1/serviceaccounts")
    assert sas["kind"] == "ServiceAccountList"
    assert {"default"} <= {s["metadata"]["name"] for s in sas["items"]}


def test_default_namespaces_and_service_accounts(sim):
    names = {n["metadata"]["name"] for n in kubectl_json(sim, "get", "namespaces")["items"]}
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= names
    sa = kubectl_json(sim, "-n", "kube-system", "get", "serviceaccount", "default")
    assert sa["metadata"]["uid"]
    svc = kubectl_json(sim, "get", "service", "kubernetes")
    assert svc["spec"]["clusterIP"] == "10.96.0.1"


def test_request_log_records_verbs_and_control_calls_are_not_logged(fresh_sim):
    sim = fresh_sim
    sim.clear_requests()
    kubectl(sim, "create", "configmap", "logme", "--from-literal=a=b")
    kubectl(sim, "get", "configmap", "logme")
    kubectl(sim, "get", "configmaps")
    kubectl(sim, "delete", "configmap", "logme")
    log = sim.requests()
    assert not any(r["path"].startswith("/_kubesim") for r in log)
    verbs = [(r["verb"], r["resource"], r["name"], r["status"]) for r in log if r["resource"] == "configmaps"]
    assert ("create", "configmaps", None, 201) in verbs
    assert ("get", "configmaps", "logme", 200) in verbs
    assert ("list", "configmaps", None, 200) in verbs
    assert ("delete", "configmaps", "logme", 200) in verbs
    entry = next(r for r in log if r["verb"] == "create")
    assert entry["namespace"] == "default" and entry["user_agent"].startswith("kubectl")
    assert entry["dry_run"] is False
    sim.clear_requests()
    assert sim.requests() == []


def test_faults_fail_then_clear(fresh_sim):
    sim = fresh_sim
    sim.fault(verb="list", resource="pods", status=500, count=2)
    assert api(sim, "GET", "/api/v1/namespaces/default/pods")[0] == 500
    status, body = api(sim, "GET", "/api/v1/namespaces/default/pods")
    assert status == 500 and body["reason"] == "InternalError"
    assert api(sim, "GET", "/api/v1/namespaces/default/pods")[0] == 200
    sim.fault(delay_s=0.6, count=1)
    t0 = time.time()
    assert api(sim, "GET", "/api/v1/namespaces")[0] == 200
    assert time.time() - t0 >= 0.5
    sim.fault(verb="create", resource="configmaps", status=503, count=5)
    sim.clear_faults()
    assert api(sim, "POST", "/api/v1/namespaces/default/configmaps",
               {"metadata": {"name": "after-clear"}})[0] == 201
    failed = [r for r in sim.requests() if r["status"] == 500]
    assert len(failed) == 2


def test_sigterm_stops_cleanly_and_state_file_round_trips(tmp_path):
    state = tmp_path / "state.json"
    s = kubesim_proc.start(workdir=str(tmp_path / "a"), extra_args=["--state-file", str(state)])
    kubectl(s, "create", "namespace", "persisted")
    kubectl(s, "-n", "persisted", "create", "configmap", "kept", "--from-literal=k=v")
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(timeout=10) == 0
    s.stop()
    assert state.exists()
    s2 = kubesim_proc.start(workdir=str(tmp_path / "b"), extra_args=["--state-file", str(state)])
    try:
        cm = kubectl_json(s2, "-n", "persisted", "get", "configmap", "kept")
        assert cm["data"] == {"k": "v"}
    finally:
        s2.stop()


def test_inventory_nodes(sim):
    nodes = {n["metadata"]["name"]: n for n in kubectl_json(sim, "get", "nodes")["items"]}
    assert set(nodes) == {"k8s-master", "k8s-api-scan", "k8s-ingress-gateway", "k8s-worker-1"}  # not bastion-1
    gw = nodes["k8s-ingress-gateway"]
    assert gw["metadata"]["labels"]["role"] == "ingress-gateway"
    assert gw["metadata"]["labels"]["node.kubernetes.io/instance-type"] == "t3.medium"
    assert gw["metadata"]["labels"]["kubernetes.io/hostname"] == "k8s-ingress-gateway"
    assert gw["spec"]["taints"] == [{"key": "role", "value": "ingress-gateway", "effect": "NoSchedule"}]
    assert gw["spec"]["providerID"] == "aws:///ap-northeast-2a/i-0123456789abcdef0"
    assert gw["status"]["allocatable"]["memory"] == "4Gi"
    assert {"type": "InternalIP", "address": "10.0.1.12"} in gw["status"]["addresses"]
    # Without node_provider_id, the ID node_join would build from the instance ID and zone.
    assert nodes["k8s-master"]["spec"]["providerID"] == "aws:///ap-northeast-2c/i-0aaa1111bbbb2222c"
    assert "providerID" not in nodes["k8s-api-scan"]["spec"]
    scan = nodes["k8s-api-scan"]
    # "{{ domain }}" in group_vars is templated from the host's inventory variable
    assert scan["metadata"]["labels"]["domain"] == "scan"
    assert scan["spec"]["taints"][0]["value"] == "scan"
    assert scan["status"]["capacity"]["memory"] == "2Gi"
    ready = [c for c in nodes["k8s-master"]["status"]["conditions"] if c["type"] == "Ready"]
    assert ready[0]["status"] == "True"


def test_cli_help_runs():
    out = subprocess.run([sys.executable, "-m", "kubesim", "serve", "--help"], cwd=REPO, capture_output=True,
                         text=True)
    assert out.returncode == 0 and "--kubeconfig-out" in out.stdout and "--inventory" in out.stdout
    assert INVENTORY.exists()


def test_state_file_keeps_custom_resource_definitions(tmp_path):
    state = tmp_path / "state.json"
    s = kubesim_proc.start(workdir=str(tmp_path / "a"), extra_args=["--state-file", str(state)])
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "things.example.net"},
           "spec": {"group": "example.net", "scope": "Cluster",
                    "names": {"plural": "things", "singular": "thing", "kind": "Thing"},
                    "versions": [{"name": "v1", "served": True, "storage": True,
                                  "schema": {"openAPIV3Schema": {"type": "object"}}}]}}
    assert api(s, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)[0] == 201
    assert api(s, "POST", "/apis/example.net/v1/things", {"apiVersion": "example.net/v1", "kind": "Thing",
                                                          "metadata": {"name": "t1"}})[0] == 201
    s.stop()
    s2 = kubesim_proc.start(workdir=str(tmp_path / "b"), extra_args=["--state-file", str(state)])
    try:
        status, thing = api(s2, "GET", "/apis/example.net/v1/things/t1")
        assert status == 200 and thing["kind"] == "Thing"
        assert "things" in kubectl(s2, "api-resources", "--api-group=example.net").stdout
    finally:
        s2.stop()
