from __future__ import annotations

from ansible_collections.eco2.mesh.plugins.module_utils import sidecar


def pod(name, containers, ready=None, phase="Running", rs="api-abc", node="k8s-api-scan", scheduled=None,
        injected=True):
    ready = containers if ready is None else ready
    annotations = {"sidecar.istio.io/status": '{"containers":["istio-proxy"]}'} if injected and "istio-proxy" in containers else {}
    conditions = []
    if scheduled:
        conditions.append({"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": scheduled})
    return {
        "metadata": {"name": name, "namespace": "scan", "annotations": annotations,
                     "ownerReferences": [{"kind": "ReplicaSet", "name": rs}]},
        "spec": {"nodeName": None if scheduled else node, "containers": [{"name": c} for c in containers]},
        "status": {"phase": phase, "conditions": conditions,
                   "containerStatuses": [{"name": c, "ready": c in ready} for c in containers]},
    }


RS = [{"metadata": {"name": "api-abc", "ownerReferences": [{"kind": "Deployment", "name": "scan-api"}]}}]
DEPLOY = [{"metadata": {"name": "scan-api"}, "spec": {"replicas": 1}, "status": {"availableReplicas": 1}}]


def test_pod_with_ready_sidecar_is_ok():
    row = sidecar.pod_report(pod("p", ["app", "istio-proxy"]))
    assert row["ok"] and row["ready"] == "2/2" and row["sidecar"] and row["reason"] == ""


def test_sidecar_not_injected_by_istiod_is_not_ok():
    row = sidecar.pod_report(pod("p", ["app", "istio-proxy"], injected=False))
    assert not row["ok"] and row["sidecar"] and not row["injected"]
    assert row["reason"] == "istio-proxy was not injected by istiod (no sidecar.istio.io/status annotation)"


def test_pod_without_sidecar_needs_restart_of_its_deployment():
    rep = sidecar.namespace_report("scan", [pod("p", ["app"])], RS, DEPLOY)
    assert rep["restart"] == ["scan-api"]
    assert not rep["ready"]
    assert "no istio-proxy container" in rep["pods"][0]["reason"]


def test_pending_pod_reports_the_scheduler_message_and_is_not_restarted():
    msg = "0/3 nodes are available: 3 node(s) had untolerated taint {domain: scan}."
    rep = sidecar.namespace_report("scan", [pod("p", ["app"], phase="Pending", scheduled=msg)], RS, DEPLOY)
    assert rep["restart"] == []
    assert rep["pods"][0]["reason"] == "Pending: " + msg


def test_sidecar_not_ready_is_named():
    row = sidecar.pod_report(pod("p", ["app", "istio-proxy"], ready=["app"]))
    assert not row["ok"] and row["ready"] == "1/2" and row["reason"] == "containers not ready: istio-proxy"


def test_webhook_refusal_shows_on_the_deployment():
    rs = [dict(RS[0], status={"conditions": [{"type": "ReplicaFailure", "status": "True",
                                              "message": 'failed calling webhook "namespace.sidecar-injector.istio.io"'}]})]
    deploy = [{"metadata": {"name": "scan-api"}, "spec": {"replicas": 1}, "status": {}}]
    rep = sidecar.namespace_report("scan", [], rs, deploy)
    assert not rep["ready"]
    lines = sidecar.summary_lines([rep])
    assert "deployment scan-api cannot create pods" in lines[-1] and "sidecar-injector" in lines[-1]


def test_terminating_pods_are_ignored():
    old = pod("old", ["app"])
    old["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    rep = sidecar.namespace_report("scan", [old, pod("new", ["app", "istio-proxy"])], RS, DEPLOY)
    assert rep["ready"] and rep["restart"] == [] and [p["name"] for p in rep["pods"]] == ["new"]


def test_empty_namespace_with_no_deployments_is_ready():
    assert sidecar.namespace_report("x", [], [], [])["ready"]


def test_summary_lines_show_each_pods_ready_count():
    rep = sidecar.namespace_report("scan", [pod("scan-api-1", ["app", "istio-proxy"])], RS, DEPLOY)
    assert sidecar.summary_lines([rep]) == ["scan: 1/1 pods with a ready sidecar injected by istiod (scan-api-1 2/2)"]
