"""Simulated scheduling: nodeSelector, affinity, taints/tolerations, cordon, resources, retries."""
from __future__ import annotations

import pytest

from tests.kubesim.kubesim_helpers import apply_yaml, kubectl, kubectl_json, wait_until


def _pod(name: str, spec_extra: str = "", ns: str = "sched") -> str:
    return (f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {ns}, labels: {{app: {name}}}}}\n"
            f"spec:\n  containers: [{{name: c, image: busybox:1}}]\n{spec_extra}")


@pytest.fixture(scope="module", autouse=True)
def namespace(sim):
    kubectl(sim, "create", "namespace", "sched")


def _scheduled(sim, name: str) -> dict:
    return kubectl_json(sim, "-n", "sched", "get", "pod", name)


def _pending_message(sim, name: str) -> str:
    def cond():
        pod = _scheduled(sim, name)
        c = [c for c in pod["status"].get("conditions", []) if c["type"] == "PodScheduled"]
        return c and c[0]["status"] == "False" and c[0]
    c = wait_until(cond)
    assert c["reason"] == "Unschedulable"
    return c["message"]


def test_pod_without_tolerations_lands_on_the_untainted_worker(sim):
    apply_yaml(sim, _pod("plain"))
    pod = wait_until(lambda: (p := _scheduled(sim, "plain"))["status"].get("phase") == "Running" and p)
    assert pod["spec"]["nodeName"] == "k8s-worker-1"


def test_unplaceable_pod_stays_pending_with_the_scheduler_message(sim):
    apply_yaml(sim, _pod("gw-no-toleration", "  nodeSelector: {role: ingress-gateway}\n"))
    msg = _pending_message(sim, "gw-no-toleration")
    assert msg == ("0/4 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
                   "1 node(s) had untolerated taint {domain: scan}, "
                   "1 node(s) had untolerated taint {role: control-plane}, "
                   "1 node(s) had untolerated taint {role: ingress-gateway}. "
                   "preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.")
    pod = _scheduled(sim, "gw-no-toleration")
    assert pod["status"]["phase"] == "Pending" and not pod["spec"].get("nodeName")
    out = kubectl(sim, "-n", "sched", "get", "pod", "gw-no-toleration").stdout
    assert "Pending" in out and "0/1" in out


def test_toleration_and_selector_place_the_pod_on_the_gateway_node(sim):
    apply_yaml(sim, _pod("gw", "  nodeSelector: {role: ingress-gateway}\n"
                               "  tolerations: [{key: role, operator: Equal, value: ingress-gateway, effect: NoSchedule}]\n"))
    pod = wait_until(lambda: (p := _scheduled(sim, "gw"))["status"].get("phase") == "Running" and p)
    assert pod["spec"]["nodeName"] == "k8s-ingress-gateway" and pod["status"]["hostIP"] == "10.0.1.12"


def test_required_node_affinity_operators(sim):
    aff = ("  tolerations: [{operator: Exists}]\n  affinity:\n    nodeAffinity:\n"
           "      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms:\n")
    apply_yaml(sim, _pod("aff-in", aff + "        - matchExpressions: [{key: domain, operator: In, values: [scan]}]\n"))
    apply_yaml(sim, _pod("aff-fields", aff + "        - matchFields: [{key: metadata.name, operator: In, "
                                             "values: [k8s-master]}]\n"))
    apply_yaml(sim, _pod("aff-gt", aff + "        - matchExpressions: [{key: phase, operator: Gt, values: ['1']}]\n"))
    apply_yaml(sim, _pod("aff-none", aff + "        - matchExpressions: [{key: role, operator: DoesNotExist}]\n"))
    node = lambda n: wait_until(lambda: _scheduled(sim, n)["spec"].get("nodeName"))  # noqa: E731
    assert node("aff-in") == "k8s-api-scan"
    assert node("aff-fields") == "k8s-master"
    assert node("aff-gt") == "k8s-api-scan"
    assert "4 node(s) didn't match Pod's node affinity/selector" in _pending_message(sim, "aff-none")


def test_tolerate_everything_with_empty_key_exists(sim):
    apply_yaml(sim, _pod("tol-all", "  nodeSelector: {role: control-plane}\n  tolerations: [{operator: Exists}]\n"))
    assert wait_until(lambda: _scheduled(sim, "tol-all")["spec"].get("nodeName")) == "k8s-master"


def test_prefer_no_schedule_is_ignored(sim):
    kubectl(sim, "taint", "node", "k8s-worker-1", "soft=yes:PreferNoSchedule")
    try:
        apply_yaml(sim, _pod("soft"))
        assert wait_until(lambda: _scheduled(sim, "soft")["spec"].get("nodeName")) == "k8s-worker-1"
    finally:
        kubectl(sim, "taint", "node", "k8s-worker-1", "soft-")


def test_pending_pod_is_retried_when_a_node_label_changes(sim):
    apply_yaml(sim, _pod("waits-for-label", "  nodeSelector: {disk: ssd}\n"))
    assert "1 node(s) didn't match Pod's node affinity/selector" in _pending_message(sim, "waits-for-label")
    kubectl(sim, "label", "node", "k8s-worker-1", "disk=ssd")
    try:
        assert wait_until(lambda: _scheduled(sim, "waits-for-label")["spec"].get("nodeName")) == "k8s-worker-1"
        pod = wait_until(lambda: (p := _scheduled(sim, "waits-for-label"))["status"]["phase"] == "Running" and p)
        assert pod["status"]["containerStatuses"][0]["ready"]
    finally:
        kubectl(sim, "label", "node", "k8s-worker-1", "disk-")


def test_pending_pod_is_retried_when_a_node_is_added(sim):
    apply_yaml(sim, _pod("waits-for-node", "  nodeSelector: {role: batch}\n"))
    _pending_message(sim, "waits-for-node")
    apply_yaml(sim, "apiVersion: v1\nkind: Node\nmetadata: {name: k8s-batch-1, labels: {role: batch}}\n")
    try:
        assert wait_until(lambda: _scheduled(sim, "waits-for-node")["spec"].get("nodeName")) == "k8s-batch-1"
        node = kubectl_json(sim, "get", "node", "k8s-batch-1")
        assert any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"]["conditions"])
    finally:
        kubectl(sim, "delete", "pod", "-n", "sched", "waits-for-node")
        kubectl(sim, "delete", "node", "k8s-batch-1")


def test_cordoned_node_is_skipped(sim):
    kubectl(sim, "cordon", "k8s-worker-1")
    try:
        apply_yaml(sim, _pod("cordoned", "  nodeSelector: {role: worker}\n"))
        assert "1 node(s) were unschedulable" in _pending_message(sim, "cordoned")
    finally:
        kubectl(sim, "uncordon", "k8s-worker-1")
    assert wait_until(lambda: _scheduled(sim, "cordoned")["spec"].get("nodeName")) == "k8s-worker-1"


def test_insufficient_memory(sim):
    apply_yaml(sim, _pod("huge", "  nodeSelector: {role: worker}\n").replace(
        "image: busybox:1}", "image: busybox:1, resources: {requests: {memory: 64Gi}}}"))
    msg = _pending_message(sim, "huge")
    assert "1 node(s) had untolerated taint {role: control-plane}" in msg
    assert "1 Insufficient memory" in msg and "No preemption victims found for incoming pod" in msg


def test_deployment_with_unplaceable_pods_is_unavailable(sim):
    apply_yaml(sim, """
apiVersion: apps/v1
kind: Deployment
metadata: {name: nowhere, namespace: sched}
spec:
  replicas: 1
  selector: {matchLabels: {app: nowhere}}
  template:
    metadata: {labels: {app: nowhere}}
    spec:
      nodeSelector: {role: ingress-gateway}
      containers: [{name: c, image: busybox:1}]
""")
    dep = wait_until(lambda: (d := kubectl_json(sim, "-n", "sched", "get", "deploy", "nowhere"))
                     .get("status", {}).get("conditions") and d)
    conds = {c["type"]: c for c in dep["status"]["conditions"]}
    assert conds["Available"]["status"] == "False" and conds["Available"]["reason"] == "MinimumReplicasUnavailable"
    assert dep["status"]["unavailableReplicas"] == 1
    # tolerating the taint lets the pods land and the deployment become available
    kubectl(sim, "-n", "sched", "patch", "deployment", "nowhere", "--type=strategic", "-p",
            '{"spec":{"template":{"spec":{"tolerations":[{"key":"role","operator":"Equal",'
            '"value":"ingress-gateway","effect":"NoSchedule"}]}}}}')
    kubectl(sim, "-n", "sched", "rollout", "status", "deployment/nowhere", "--timeout=20s")


def test_daemonset_runs_on_tolerated_nodes(sim):
    apply_yaml(sim, """
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: sched}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      tolerations: [{key: role, operator: Exists, effect: NoSchedule}]
      containers: [{name: c, image: busybox:1}]
""")
    ds = wait_until(lambda: (d := kubectl_json(sim, "-n", "sched", "get", "ds", "agent")).get("status", {})
                    .get("numberReady") == 3 and d)
    assert ds["status"]["desiredNumberScheduled"] == 3
    nodes = sorted(p["spec"]["nodeName"] for p in kubectl_json(sim, "-n", "sched", "get", "pods", "-l",
                                                                   "app=agent")["items"])
    assert nodes == ["k8s-ingress-gateway", "k8s-master", "k8s-worker-1"]  # not the domain=scan tainted node
    out = kubectl(sim, "-n", "sched", "rollout", "status", "ds/agent", "--timeout=10s").stdout
    assert "successfully rolled out" in out


def test_statefulset_pods_are_ordinal_and_ready(sim):
    apply_yaml(sim, """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: sched}
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: c, image: postgres:16}]
""")
    kubectl(sim, "-n", "sched", "rollout", "status", "sts/db", "--timeout=20s")
    names = sorted(p["metadata"]["name"] for p in kubectl_json(sim, "-n", "sched", "get", "pods", "-l",
                                                                   "app=db")["items"])
    assert names == ["db-0", "db-1"]
    assert kubectl_json(sim, "-n", "sched", "get", "sts", "db")["status"]["readyReplicas"] == 2


def test_job_completes_and_pdb_status(sim):
    apply_yaml(sim, """
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: sched}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox:1}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: guarded, namespace: sched}
spec:
  replicas: 2
  selector: {matchLabels: {app: guarded}}
  template:
    metadata: {labels: {app: guarded}}
    spec:
      containers: [{name: c, image: busybox:1}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: guarded, namespace: sched}
spec:
  minAvailable: 1
  selector: {matchLabels: {app: guarded}}
""")
    out = kubectl(sim, "-n", "sched", "wait", "--for=condition=complete", "job/migrate", "--timeout=10s").stdout
    assert "condition met" in out
    assert kubectl_json(sim, "-n", "sched", "get", "job", "migrate")["status"]["succeeded"] == 1
    kubectl(sim, "-n", "sched", "rollout", "status", "deploy/guarded", "--timeout=20s")
    pdb = wait_until(lambda: (p := kubectl_json(sim, "-n", "sched", "get", "pdb", "guarded")).get("status", {})
                     .get("currentHealthy") == 2 and p)
    assert pdb["status"]["currentHealthy"] == 2 and pdb["status"]["desiredHealthy"] == 1
    assert pdb["status"]["disruptionsAllowed"] == 1


def test_drain_respects_pod_disruption_budgets(sim):
    apply_yaml(sim, """
apiVersion: apps/v1
kind: Deployment
metadata: {name: critical, namespace: sched}
spec:
  replicas: 1
  selector: {matchLabels: {app: critical}}
  template:
    metadata: {labels: {app: critical}}
    spec:
      nodeSelector: {role: control-plane}
      tolerations: [{key: role, operator: Equal, value: control-plane, effect: NoSchedule}]
      containers: [{name: c, image: busybox:1}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: critical, namespace: sched}
spec:
  minAvailable: 1
  selector: {matchLabels: {app: critical}}
""")
    kubectl(sim, "-n", "sched", "rollout", "status", "deploy/critical", "--timeout=20s")
    wait_until(lambda: kubectl_json(sim, "-n", "sched", "get", "pdb", "critical").get("status", {})
               .get("currentHealthy") == 1)
    out = kubectl(sim, "drain", "k8s-master", "--ignore-daemonsets", "--delete-emptydir-data", "--force", "--timeout=3s",
                  check=False)
    assert out.returncode != 0
    assert "Cannot evict pod as it would violate the pod's disruption budget" in out.stderr
    assert kubectl_json(sim, "get", "node", "k8s-master")["spec"]["unschedulable"] is True
    kubectl(sim, "-n", "sched", "delete", "pdb", "critical")
    out = kubectl(sim, "drain", "k8s-master", "--ignore-daemonsets", "--delete-emptydir-data", "--force", "--timeout=10s")
    assert "drained" in out.stdout
    # the replacement pod cannot go anywhere while the only control-plane node is cordoned
    pods = wait_until(lambda: [p for p in kubectl_json(sim, "-n", "sched", "get", "pods", "-l", "app=critical")["items"]
                               if not p["spec"].get("nodeName")])
    cond = next(c for c in pods[0]["status"].get("conditions", []) if c["type"] == "PodScheduled")
    assert "1 node(s) were unschedulable" in cond["message"]
    kubectl(sim, "uncordon", "k8s-master")
    kubectl(sim, "-n", "sched", "rollout", "status", "deploy/critical", "--timeout=20s")


def test_scheduler_events_show_in_describe(sim):
    apply_yaml(sim, _pod("described", "  nodeSelector: {role: nowhere}\n"))
    msg = _pending_message(sim, "described")
    out = kubectl(sim, "-n", "sched", "describe", "pod", "described").stdout
    assert "FailedScheduling" in out and "default-scheduler" in out and "didn't match Pod's node affinity" in out
    events = kubectl_json(sim, "-n", "sched", "get", "events", "--field-selector",
                          "involvedObject.name=described")["items"]
    assert [(e["reason"], e["type"], e["message"]) for e in events] == [("FailedScheduling", "Warning", msg)]
    apply_yaml(sim, _pod("placed"))
    wait_until(lambda: _scheduled(sim, "placed")["spec"].get("nodeName"))
    events = kubectl_json(sim, "-n", "sched", "get", "events", "--field-selector", "involvedObject.name=placed")
    assert events["items"][0]["message"] == "Successfully assigned sched/placed to k8s-worker-1"
