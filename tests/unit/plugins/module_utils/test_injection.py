from __future__ import annotations

import os
import signal
import subprocess
import time

from ansible_collections.eco2.mesh.plugins.module_utils import injection
from ansible_collections.eco2.mesh.plugins.module_utils.lifeline import Lifeline

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


def _children(pid):
    with open("/proc/%d/task/%d/children" % (pid, pid)) as handle:
        return [int(p) for p in handle.read().split()]


def test_lifeline_breaks_when_an_ancestor_is_killed():
    # sh forks sleep (the trailing command keeps sh from exec'ing it): sleep's ancestors are sh, then us.
    shell = subprocess.Popen(["sh", "-c", "sleep 30; true"])
    sleeper = None
    try:
        deadline = time.monotonic() + 5
        while not _children(shell.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        sleeper = _children(shell.pid)[0]
        lifeline = Lifeline(pid=sleeper)
        assert [pid for pid, _ in lifeline.chain[:2]] == [shell.pid, os.getpid()]
        assert lifeline.broken() is None
        os.kill(shell.pid, signal.SIGKILL)
        shell.wait()
        assert lifeline.broken() == shell.pid
    finally:
        if shell.poll() is None:
            shell.kill()
            shell.wait()
        if sleeper:
            os.kill(sleeper, signal.SIGKILL)  # orphaned by the kill: no longer our child
