from __future__ import annotations

from ansible_collections.eco2.mesh.plugins.module_utils import injection

NAMESPACES = [{"metadata": {"name": "auth", "labels": {"istio-injection": "enabled"}}},
              {"metadata": {"name": "scan"}},
              {"metadata": {"name": "chat", "labels": {"istio-injection": "enabled", "istio.io/rev": "canary"}}}]
WANT = {"istio-injection": "enabled", "istio.io/rev": None}


def test_relabel_plan_lists_only_namespaces_whose_labels_differ():
    plan = injection.relabel_plan(NAMESPACES, ["auth", "scan", "chat", "missing"], WANT)
    assert [p["name"] for p in plan] == ["scan", "chat"]
    assert plan[1] == {"name": "chat", "before": {"istio-injection": "enabled", "istio.io/rev": "canary"},
                       "after": {"istio-injection": "enabled"}}
    off = injection.relabel_plan(NAMESPACES, ["auth"], {"istio-injection": None, "istio.io/rev": None})
    assert off == [{"name": "auth", "before": {"istio-injection": "enabled"}, "after": {}}]


def test_missing_namespaces_keep_the_given_order():
    assert injection.missing_namespaces(NAMESPACES, ["zeta", "auth", "alpha"]) == ["zeta", "alpha"]


def test_patches_are_merge_patches_a_null_removes_the_label():
    assert injection.label_patch(WANT) == {"metadata": {"labels": {"istio-injection": "enabled", "istio.io/rev": None}}}
    assert injection.restart_patch("2026-12-01T00:00:00Z") == {
        "spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-12-01T00:00:00Z"}}}}}


def _pod(ns, name, containers, rs):
    return {"metadata": {"name": name, "namespace": ns, "ownerReferences": [{"kind": "ReplicaSet", "name": rs}]},
            "spec": {"containers": [{"name": c} for c in containers]},
            "status": {"phase": "Running", "containerStatuses": [{"name": c, "ready": True} for c in containers]}}


def test_reports_group_cluster_wide_lists_by_namespace_and_name_the_restarts():
    pods = [_pod("scan", "scan-api-1", ["api"], "scan-api-rs"), _pod("auth", "auth-api-1", ["api"], "auth-api-rs"),
            _pod("other", "x-1", ["api"], "x-rs")]
    rss = [{"metadata": {"name": "%s-api-rs" % ns, "namespace": ns,
                         "ownerReferences": [{"kind": "Deployment", "name": "%s-api" % ns}]}} for ns in ("scan", "auth")]
    deps = [{"metadata": {"name": "scan-api", "namespace": "scan"}, "spec": {"replicas": 1}, "status": {"availableReplicas": 1}}]
    reports = injection.namespace_reports(["scan", "auth", "empty"], pods, rss, deps)
    assert [r["namespace"] for r in reports] == ["scan", "auth", "empty"]
    assert [p["name"] for p in reports[0]["pods"]] == ["scan-api-1"]
    assert injection.restart_list(reports) == [{"namespace": "scan", "deployment": "scan-api"},
                                               {"namespace": "auth", "deployment": "auth-api"}]
    assert reports[2]["ready"] is True and reports[2]["pods"] == []


class _Cluster:
    """Lists that turn ready on the `ready_at`-th look."""

    def __init__(self, ready_at):
        self.looks, self.ready_at = 0, ready_at

    def list_objects(self, api_version, kind):
        if kind == "Pod":
            self.looks += 1
            containers = ["api", "istio-proxy"] if self.looks >= self.ready_at else ["api"]
            pod = _pod("scan", "scan-api-1", containers, "scan-api-rs")
            pod["metadata"]["annotations"] = {"sidecar.istio.io/status": "{}"}
            return [pod]
        if kind == "ReplicaSet":
            return [{"metadata": {"name": "scan-api-rs", "namespace": "scan",
                                  "ownerReferences": [{"kind": "Deployment", "name": "scan-api"}]}}]
        return []


def test_wait_ready_looks_again_until_ready():
    cluster = _Cluster(ready_at=3)
    reports, waited = injection.wait_ready(cluster, ["scan"], timeout=5, delay=0.01)
    assert reports[0]["ready"] and cluster.looks == 3 and waited < 5


def test_wait_ready_with_no_time_looks_once_and_reports_not_ready():
    cluster = _Cluster(ready_at=2)
    reports = injection.wait_ready(cluster, ["scan"], timeout=0, delay=3)[0]
    assert not reports[0]["ready"] and cluster.looks == 1
    assert reports[0]["restart"] == ["scan-api"]
