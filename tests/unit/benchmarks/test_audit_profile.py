"""make bench: requests counted from audit events, and the per-task profile."""
from __future__ import annotations

import json

from benchmarks import audit_counts, profile


def event(audit_id, verb, user="eco2-admin", uri="/api/v1/namespaces", stage="ResponseComplete"):
    return json.dumps({"auditID": audit_id, "verb": verb, "user": {"username": user}, "requestURI": uri,
                       "stage": stage})


def test_requests_writes_and_dry_runs_counted_apart_per_request():
    lines = [event("1", "get", stage="RequestReceived"), event("1", "get"),
             event("2", "patch", uri="/api/v1/namespaces/a?fieldManager=x"),
             event("3", "patch", uri="/api/v1/namespaces/a?dryRun=All&fieldManager=x"),
             event("4", "list"), event("5", "create", user="system:kube-controller-manager"),
             "{not json"]
    assert audit_counts.count(lines, "eco2-admin") == {"requests": 4, "writes": 1, "dry_runs": 1, "reads": 2}


def test_profile_sums_repeated_tasks_and_sorts_slowest_first():
    tasks = [{"task": "Label", "role": "sidecar_injection", "path": "a.yml:3", "seconds": 2.0, "items": 7},
             {"task": "Install", "role": "istiod", "path": "b.yml:1", "seconds": 3.0},
             {"task": "Label", "role": "sidecar_injection", "path": "a.yml:3", "seconds": 2.5, "items": 7},
             {"task": "Gathering", "role": "", "seconds": 0.5}]
    entries = profile.by_task(tasks)
    assert [(e["task"], e["seconds"], e["runs"], e["items"]) for e in entries] == [
        ("Label", 4.5, 2, 14), ("Install", 3.0, 1, 0), ("Gathering", 0.5, 1, 0)]
    lines = profile.top(tasks, 2)
    assert len(lines) == 2
    assert lines[0] == "   4.50 s  56.2%  sidecar_injection : Label  (runs=2 items=14)"
    assert lines[1].endswith("istiod : Install  (runs=1 items=0)")


def test_profile_label_does_not_repeat_the_role_ansible_already_prefixed():
    entry = {"role": "eco2.mesh.istiod", "task": "eco2.mesh.istiod : Install", "seconds": 1.0}
    assert profile.label(entry) == "eco2.mesh.istiod : Install"
