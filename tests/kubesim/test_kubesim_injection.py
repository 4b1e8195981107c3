"""Simulated Istio sidecar injection driven by a MutatingWebhookConfiguration and istiod's availability."""
from __future__ import annotations

import json

import pytest

from tests.kubesim.kubesim_helpers import CHARTS, api, apply_yaml, helm, kubectl, kubectl_json, wait_until

APP = """
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {ns}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}{extra_labels}}}}}
    spec:
      nodeSelector: {{role: worker}}
      containers: [{{name: api, image: "example/{name}:1.0", ports: [{{containerPort: 8000}}]}}]
"""


def _deploy(sim, name: str, ns: str, extra_labels: str = "") -> None:
    apply_yaml(sim, APP.format(name=name, ns=ns, extra_labels=extra_labels))


def _pods(sim, ns: str, app: str) -> list[dict]:
    return kubectl_json(sim, "-n", ns, "get", "pods", "-l", f"app={app}")["items"]


def _containers(pod: dict) -> list[str]:
    return [c["name"] for c in pod["spec"]["containers"]]


# The scenario moves forward in stages; each test asks for the stage it needs, so the module also works
# when pytest-xdist spreads its tests over several workers (each worker builds the stages it uses, in order).
@pytest.fixture(scope="module")
def namespaces(sim):
    kubectl(sim, "create", "namespace", "scan")
    kubectl(sim, "label", "namespace", "scan", "istio-injection=enabled")
    kubectl(sim, "create", "namespace", "plain")
    kubectl(sim, "create", "namespace", "revved")
    kubectl(sim, "label", "namespace", "revved", "istio.io/rev=default")
    _deploy(sim, "before", "scan")
    kubectl(sim, "-n", "scan", "rollout", "status", "deploy/before", "--timeout=20s")


@pytest.fixture(scope="module")
def webhook_without_istiod(sim, namespaces):
    # istiod cannot be placed (no toleration for the control-plane taint), so the webhook has no endpoint
    helm(sim, "install", "istiod", str(CHARTS / "mini-istiod"), "-n", "istio-system", "--create-namespace",
         "--set", "pilot.tolerations=null")
    _deploy(sim, "refused", "scan")
    wait_until(lambda: [r for r in kubectl_json(sim, "-n", "scan", "get", "rs", "-l", "app=refused")["items"]
                        if r.get("status", {}).get("conditions")])


@pytest.fixture(scope="module")
def istiod_ready(sim, webhook_without_istiod):
    helm(sim, "upgrade", "istiod", str(CHARTS / "mini-istiod"), "-n", "istio-system", "--reset-values", "--wait",
         "--timeout", "30s")
    kubectl(sim, "-n", "scan", "rollout", "status", "deploy/refused", "--timeout=20s")


@pytest.fixture(scope="module")
def gateway(sim, istiod_ready):
    helm(sim, "install", "istio-ingressgateway", str(CHARTS / "mini-gateway"), "-n", "istio-system", "--wait",
         "--timeout", "30s")


def test_1_without_a_webhook_nothing_is_injected(sim, namespaces):
    assert _containers(_pods(sim, "scan", "before")[0]) == ["api"]


def test_2_webhook_without_ready_istiod_refuses_pods(sim, webhook_without_istiod):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "direct", "labels": {"app": "direct"}},
           "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}}
    status, err = api(sim, "POST", "/api/v1/namespaces/scan/pods", pod)
    assert status == 500 and err["reason"] == "InternalError"
    svc_ip = kubectl_json(sim, "-n", "istio-system", "get", "svc", "istiod")["spec"]["clusterIP"]
    assert err["message"] == (
        'Internal error occurred: failed calling webhook "namespace.sidecar-injector.istio.io": failed to call '
        'webhook: Post "https://istiod.istio-system.svc:443/inject?timeout=10s": '
        f'dial tcp {svc_ip}:443: connect: connection refused')
    # a namespace the webhook does not select is unaffected
    assert api(sim, "POST", "/api/v1/namespaces/plain/pods", pod)[0] == 201


def test_3_controller_created_pods_fail_with_replica_failure(sim, webhook_without_istiod):
    rs = wait_until(lambda: [r for r in kubectl_json(sim, "-n", "scan", "get", "rs", "-l", "app=refused")["items"]
                             if r.get("status", {}).get("conditions")])[0]
    cond = rs["status"]["conditions"][0]
    assert cond["type"] == "ReplicaFailure" and cond["reason"] == "FailedCreate"
    assert "failed calling webhook" in cond["message"]
    events = kubectl_json(sim, "-n", "scan", "get", "events", "--field-selector", "reason=FailedCreate")["items"]
    assert any("failed calling webhook" in e["message"] and e["involvedObject"]["name"] == rs["metadata"]["name"]
               for e in events)
    dep = kubectl_json(sim, "-n", "scan", "get", "deploy", "refused")
    conds = {c["type"]: c for c in dep["status"]["conditions"]}
    assert conds["Available"]["status"] == "False" and conds["ReplicaFailure"]["status"] == "True"
    assert _pods(sim, "scan", "refused") == []


def test_4_ready_istiod_injects_sidecars_and_retries_failed_pods(sim, istiod_ready):
    pod = _pods(sim, "scan", "refused")[0]
    assert _containers(pod) == ["api", "istio-proxy"]
    assert [c["name"] for c in pod["spec"]["initContainers"]] == ["istio-init"]
    proxy = pod["spec"]["containers"][1]
    assert proxy["image"] == "docker.io/istio/proxyv2:1.24.1"
    assert {"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"} in proxy["ports"]
    assert proxy["readinessProbe"]["httpGet"]["port"] == 15021
    assert proxy["readinessProbe"]["httpGet"]["path"] == "/healthz/ready"
    status = json.loads(pod["metadata"]["annotations"]["sidecar.istio.io/status"])
    assert status["containers"] == ["istio-proxy"] and status["initContainers"] == ["istio-init"]
    out = kubectl(sim, "-n", "scan", "get", "pods", "-l", "app=refused").stdout
    assert "2/2" in out and "Running" in out
    dep = kubectl_json(sim, "-n", "scan", "get", "deploy", "refused")
    assert "ReplicaFailure" not in {c["type"] for c in dep["status"]["conditions"]}


def test_5_restart_gives_existing_workloads_sidecars(sim, istiod_ready):
    assert _containers(_pods(sim, "scan", "before")[0]) == ["api"]
    kubectl(sim, "-n", "scan", "rollout", "restart", "deploy/before")
    kubectl(sim, "-n", "scan", "rollout", "status", "deploy/before", "--timeout=20s")
    pods = _pods(sim, "scan", "before")
    assert len(pods) == 1 and _containers(pods[0]) == ["api", "istio-proxy"]


def test_6_unlabelled_namespace_and_opt_out_are_not_injected(sim, istiod_ready):
    _deploy(sim, "noinject", "plain")
    _deploy(sim, "optout", "scan", extra_labels=', sidecar.istio.io/inject: "false"')
    kubectl(sim, "-n", "plain", "rollout", "status", "deploy/noinject", "--timeout=20s")
    kubectl(sim, "-n", "scan", "rollout", "status", "deploy/optout", "--timeout=20s")
    assert _containers(_pods(sim, "plain", "noinject")[0]) == ["api"]
    assert _containers(_pods(sim, "scan", "optout")[0]) == ["api"]


def test_7_revision_label_selects_the_revision_webhook(sim, istiod_ready):
    _deploy(sim, "revapp", "revved")
    kubectl(sim, "-n", "revved", "rollout", "status", "deploy/revapp", "--timeout=20s")
    pod = _pods(sim, "revved", "revapp")[0]
    assert _containers(pod) == ["api", "istio-proxy"]
    assert pod["metadata"]["labels"]["security.istio.io/tlsMode"] == "istio"


def test_8_gateway_image_auto_is_replaced(sim, gateway):
    pods = _pods(sim, "istio-system", "istio-ingressgateway")
    assert len(pods) == 1
    pod = pods[0]
    assert _containers(pod) == ["istio-proxy"]
    assert pod["spec"]["containers"][0]["image"] == "docker.io/istio/proxyv2:1.24.1"
    assert pod["spec"]["nodeName"] == "k8s-ingress-gateway" and pod["metadata"]["labels"]["istio"] == "ingressgateway"
    svc = kubectl_json(sim, "-n", "istio-system", "get", "svc", "istio-ingressgateway")
    assert svc["spec"]["type"] == "NodePort"
    assert all(30000 <= p["nodePort"] <= 32767 for p in svc["spec"]["ports"])
    hpa = wait_until(lambda: (h := kubectl_json(sim, "-n", "istio-system", "get", "hpa",
                                                "istio-ingressgateway")).get("status", {}).get("currentReplicas")
                     and h)
    assert hpa["status"]["desiredReplicas"] == 1


def test_9_istiod_pdb_blocks_disruption_with_one_replica(sim, istiod_ready):
    pdb = wait_until(lambda: (p := kubectl_json(sim, "-n", "istio-system", "get", "pdb", "istiod"))
                     .get("status", {}).get("currentHealthy") == 1 and p)
    assert pdb["status"]["currentHealthy"] == 1 and pdb["status"]["disruptionsAllowed"] == 0


def test_10_istiod_going_away_refuses_new_pods_again(sim, istiod_ready):
    kubectl(sim, "-n", "istio-system", "scale", "deploy/istiod", "--replicas=0")
    wait_until(lambda: not kubectl_json(sim, "-n", "istio-system", "get", "endpoints", "istiod").get("subsets"))
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "late", "labels": {"app": "late"}},
           "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}}
    status, err = api(sim, "POST", "/api/v1/namespaces/scan/pods", pod)
    assert status == 500 and "connection refused" in err["message"]
    # already running injected pods keep their sidecar
    assert _containers(_pods(sim, "scan", "refused")[0]) == ["api", "istio-proxy"]
    kubectl(sim, "-n", "istio-system", "scale", "deploy/istiod", "--replicas=1")
    kubectl(sim, "-n", "istio-system", "rollout", "status", "deploy/istiod", "--timeout=20s")
    wait_until(lambda: api(sim, "POST", "/api/v1/namespaces/scan/pods", pod)[0] == 201)


def test_11_failure_policy_ignore_admits_pods_unmodified(sim, istiod_ready):
    helm(sim, "upgrade", "istiod", str(CHARTS / "mini-istiod"), "-n", "istio-system", "--set",
         "failurePolicy=Ignore", "--set", "pilot.replicaCount=0")
    wait_until(lambda: not kubectl_json(sim, "-n", "istio-system", "get", "endpoints", "istiod").get("subsets"))
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "ignored", "labels": {"app": "ignored"}},
           "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}}
    status, obj = api(sim, "POST", "/api/v1/namespaces/scan/pods", pod)
    assert status == 201 and _containers(obj) == ["c"]


def test_12_running_istiod_rewrites_its_webhook_ca_bundle(sim, istiod_ready):
    # like the real istiod: the chart ships no caBundle, the running istiod injects its CA
    helm(sim, "upgrade", "istiod", str(CHARTS / "mini-istiod"), "-n", "istio-system", "--reset-values", "--wait",
         "--timeout", "30s")
    mwc = wait_until(lambda: (m := kubectl_json(sim, "get", "mutatingwebhookconfiguration",
                                                "istio-sidecar-injector"))["webhooks"][0]["clientConfig"]
                     .get("caBundle") and m)
    assert all(h["clientConfig"]["caBundle"] for h in mwc["webhooks"])
    events = kubectl(sim, "-n", "scan", "get", "events").stdout.splitlines()
    assert events[0].split()[:4] == ["LAST", "SEEN", "TYPE", "REASON"]
    assert any("FailedCreate" in line and "replicaset/refused-" in line for line in events)
