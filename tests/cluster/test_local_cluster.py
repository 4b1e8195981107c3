"""Smoke suite of the local cluster (scripts/local-cluster): what every other suite relies on.

A real kube-apiserver 1.31 with etcd, controllers and scheduler; KWOK Nodes from the inventory;
Istio's real charts; a local istiod whose webhooks the API server reaches through the egress proxy.
"""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.lib import chart_repo, cluster as local_cluster, istio_charts, pidfile
from tests.lib.ansible_run import REPO

pytestmark = pytest.mark.slow

CHARTS = REPO / ".tools/charts"
RELEASE = chart_repo.LOCAL_RELEASE


@pytest.fixture(scope="module")
def kube(tmp_path_factory):
    """One cluster for the module: Nodes of inventory/local, Istio's base and istiod charts installed."""
    k = local_cluster.start(inventory=str(REPO / "inventory/local"), workdir=str(tmp_path_factory.mktemp("smoke")))
    try:
        helm(k, "install", "istio-base", str(CHARTS / f"base-{RELEASE}.tgz"), "-n", "istio-system",
             "--create-namespace", "--wait")
        helm(k, "install", "istiod", str(CHARTS / f"istiod-{RELEASE}.tgz"), "-n", "istio-system", "--wait",
             "--timeout", "3m", "--set", "pilot.nodeSelector.role=control-plane",
             "--set", "pilot.tolerations[0].key=role", "--set", "pilot.tolerations[0].operator=Exists")
        k.wait_istiod()
        yield k
    finally:
        k.stop()


def helm(k, *args):
    return subprocess.run([str(REPO / ".tools/bin/helm"), *args], env=k.env(), text=True, capture_output=True,
                          check=True)


def apply(k, obj):
    return k.kubectl("apply", "-f", "-", input=json.dumps(obj), check=False)


def test_version_is_the_built_release(kube):
    version = json.loads(kube.kubectl("version", "-o", "json").stdout)["serverVersion"]
    assert (version["gitVersion"], version["major"], version["minor"]) == ("v1.31.13", "1", "31")


def test_nodes_carry_the_inventory_profiles_and_are_ready(kube):
    nodes = {n["metadata"]["name"]: n for n in json.loads(kube.kubectl("get", "nodes", "-o", "json").stdout)["items"]}
    gw = nodes["k8s-ingress-gateway"]
    assert gw["metadata"]["labels"]["role"] == "ingress-gateway"
    assert gw["spec"]["taints"] == [{"key": "role", "value": "ingress-gateway", "effect": "NoSchedule"}]
    assert gw["spec"]["providerID"] == "aws:///ap-northeast-2a/i-0e5a1c2d3b4f56789"
    assert gw["status"]["capacity"]["memory"] == "4Gi"  # t3.medium
    assert all(any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"]["conditions"])
               for n in nodes.values())


def test_api_server_refuses_what_kubernetes_refuses(kube):
    bad_policy = apply(kube, {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                              "metadata": {"name": "bad", "namespace": "default"},
                              "spec": {"podSelector": {}, "policyTypes": ["Egress", "Sideways"],
                                       "egress": [{"ports": [{"protocol": "TCPX", "port": 99999}]}]}})
    assert bad_policy.returncode != 0
    for text in ('Unsupported value: "Sideways"', 'Unsupported value: "TCPX"', "Invalid value: 99999"):
        assert text in bad_policy.stderr, bad_policy.stderr
    bad_ingress = apply(kube, {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                               "metadata": {"name": "bad", "namespace": "default"},
                               "spec": {"rules": [{"host": "UPPER_case.example", "http": {"paths": [
                                   {"path": "nope", "pathType": "Prefix",
                                    "backend": {"service": {"name": "x", "port": {"number": 80}}}}]}}]}})
    assert bad_ingress.returncode != 0
    assert "spec.rules[0].host" in bad_ingress.stderr and "spec.rules[0].http.paths[0].path" in bad_ingress.stderr


def test_istio_crd_schemas_refuse_unknown_fields_and_wrong_types(kube):
    vs = {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
          "metadata": {"name": "bad", "namespace": "default"},
          "spec": {"hosts": ["x"], "http": [{"route": [{"destination": {"host": "x", "port": {"number": "eighty"}}}]}]}}
    wrong_type = apply(kube, vs)
    assert wrong_type.returncode != 0 and "spec.http[0].route[0].destination.port.number" in wrong_type.stderr
    vs["spec"]["http"][0]["route"][0]["destination"]["port"]["number"] = 80
    vs["spec"]["bogus"] = 1
    unknown = apply(kube, vs)
    assert unknown.returncode != 0 and 'unknown field "spec.bogus"' in unknown.stderr


def test_istiod_validating_webhook_denies_an_invalid_gateway_with_failure_policy_fail(kube):
    deadline = time.time() + 60
    while time.time() < deadline:  # istiod flips Ignore -> Fail after its own check
        hooks = json.loads(kube.kubectl("get", "validatingwebhookconfiguration", "istio-validator-istio-system",
                                        "-o", "json").stdout)["webhooks"]
        if {h["failurePolicy"] for h in hooks} == {"Fail"}:
            break
        time.sleep(1)
    assert {h["failurePolicy"] for h in hooks} == {"Fail"}
    denied = apply(kube, {"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
                          "metadata": {"name": "bad", "namespace": "default"},
                          "spec": {"selector": {"istio": "ingressgateway"},
                                   "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"},
                                                "hosts": []}]}})
    assert denied.returncode != 0
    assert 'admission webhook "validation.istio.io" denied the request' in denied.stderr, denied.stderr


def test_istiod_injects_the_sidecar_into_pods_of_a_labelled_namespace(kube):
    kube.kubectl("create", "namespace", "smoke")
    kube.kubectl("label", "namespace", "smoke", "istio-injection=enabled")
    kube.kubectl("run", "web", "-n", "smoke", "--image=nginx", "--overrides",
                 json.dumps({"spec": {"nodeSelector": {"role": "control-plane"},
                                      "tolerations": [{"key": "role", "operator": "Exists"}]}}))
    kube.kubectl("wait", "-n", "smoke", "--for=condition=Ready", "pod/web", "--timeout=60s")
    pod = json.loads(kube.kubectl("get", "pod", "-n", "smoke", "web", "-o", "json").stdout)
    assert [c["name"] for c in pod["spec"]["containers"]] == ["web", "istio-proxy"]
    status = json.loads(pod["metadata"]["annotations"]["sidecar.istio.io/status"])
    assert "istio-proxy" in status["containers"] and status["revision"] == "default"
    assert pod["spec"]["containers"][1]["image"] == f"docker.io/istio/proxyv2:{RELEASE}"


def test_every_dial_of_the_api_server_ends_on_loopback(kube):
    apply(kube, {"apiVersion": "networking.istio.io/v1", "kind": "Gateway",  # one more webhook call, here
                 "metadata": {"name": "dial-probe", "namespace": "default"},
                 "spec": {"selector": {"istio": "ingressgateway"}, "servers": [
                     {"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": []}]}})
    webhook = kube.config["ports"]["webhook"]
    istiod_ip = json.loads(kube.kubectl("get", "pods", "-n", "istio-system", "-l", "app=istiod", "-o", "json").stdout
                           )["items"][0]["status"]["podIP"]
    lines = (Path(kube.workdir) / "logs/egress.log").read_text().splitlines()
    # The API server dialled istiod's pod IP on the webhook port, and the proxy took it to the local istiod.
    assert any(line.endswith("CONNECT %s:15017 -> 127.0.0.1:%d" % (istiod_ip, webhook)) for line in lines), lines
    for line in lines:
        assert line.endswith("refused") or " -> 127.0.0.1:" in line, line
    # Nothing went around the proxy: the API server never dialled a pod or node address itself.
    assert "dial tcp 10." not in kube.log("kube-apiserver")


def test_audit_log_records_writes_by_client_and_leaves_out_dry_runs(kube):
    kube.clear_requests()
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "audit-probe", "namespace": "default"}}
    kube.kubectl("apply", "--dry-run=server", "-f", "-", input=json.dumps(cm))
    assert kube.writes() == []
    kube.kubectl("apply", "-f", "-", input=json.dumps(cm))
    writes = kube.writes()
    assert [(w["verb"], w["resource"], w["name"], w["user"]) for w in writes] == [
        ("create", "configmaps", "audit-probe", "eco2-admin")]


def test_the_base_chart_renders_istios_fourteen_crds():
    crds = [d for d in yaml.safe_load_all(istio_charts.crds_yaml(RELEASE)) if d]
    assert len(crds) == 14 and all(d["kind"] == "CustomResourceDefinition" for d in crds)


def test_stop_leaves_no_process_behind(tmp_path):
    k = local_cluster.start(workdir=str(tmp_path / "c"))
    pids = {p.name: int(p.read_text()) for p in (tmp_path / "c/pids").iterdir()}
    assert {"supervisor", "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"} <= set(pids)
    k.stop()
    assert [name for name, pid in pids.items() if pidfile.running(pid)] == []
    assert not list((tmp_path / "c/pids").iterdir())
    assert (tmp_path / "c/status").read_text().strip() == "stopped"
    assert not os.path.exists(json.loads((tmp_path / "c/config.json").read_text())["socket_dir"])
