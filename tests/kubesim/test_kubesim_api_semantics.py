"""API semantics over raw HTTP: writes, conflicts, patches, dry-run, selectors, paging, watch, errors."""
from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request

import pytest

from tests.kubesim.kubesim_helpers import api, kubectl, wait_until

CM = "/api/v1/namespaces/{ns}/configmaps"


@pytest.fixture(scope="module")
def ns(sim):
    api(sim, "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "sem"}})
    return "sem"


def _cm(name: str, data: dict | None = None, labels: dict | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels or {}},
            "data": data or {}}


def test_create_sets_server_metadata_and_rejects_duplicates(sim, ns):
    status, obj = api(sim, "POST", CM.format(ns=ns), _cm("meta1", {"a": "1"}))
    assert status == 201
    meta = obj["metadata"]
    assert len(meta["uid"]) == 36 and meta["creationTimestamp"].endswith("Z")
    assert meta["resourceVersion"].isdigit()
    assert obj["kind"] == "ConfigMap" and obj["apiVersion"] == "v1"
    status, err = api(sim, "POST", CM.format(ns=ns), _cm("meta1"))
    assert status == 409 and err["kind"] == "Status" and err["reason"] == "AlreadyExists"
    assert err["message"] == 'configmaps "meta1" already exists'
    assert err["details"] == {"name": "meta1", "group": "", "kind": "configmaps"}


def test_resource_versions_are_a_global_increasing_counter(sim, ns):
    _, a = api(sim, "POST", CM.format(ns=ns), _cm("rv-a"))
    _, b = api(sim, "POST", "/api/v1/namespaces/default/secrets",
               {"metadata": {"name": "rv-b"}, "stringData": {"x": "y"}})
    assert int(b["metadata"]["resourceVersion"]) > int(a["metadata"]["resourceVersion"])
    assert b["data"] == {"x": "eQ=="} and b["type"] == "Opaque" and "stringData" not in b


def test_not_found_and_missing_namespace(sim, ns):
    status, err = api(sim, "GET", CM.format(ns=ns) + "/nope")
    assert status == 404 and err["reason"] == "NotFound" and err["message"] == 'configmaps "nope" not found'
    status, err = api(sim, "POST", CM.format(ns="does-not-exist"), _cm("x"))
    assert status == 404 and err["message"] == 'namespaces "does-not-exist" not found'
    status, err = api(sim, "GET", "/apis/apps/v1/namespaces/sem/deployments/none")
    assert err["message"] == 'deployments.apps "none" not found'
    out = kubectl(sim, "-n", ns, "get", "configmap", "nope", check=False)
    assert out.returncode == 1 and 'Error from server (NotFound): configmaps "nope" not found' in out.stderr


def test_put_with_stale_resource_version_conflicts(sim, ns):
    _, obj = api(sim, "POST", CM.format(ns=ns), _cm("putme", {"v": "1"}))
    stale = json.loads(json.dumps(obj))
    obj["data"]["v"] = "2"
    status, updated = api(sim, "PUT", CM.format(ns=ns) + "/putme", obj)
    assert status == 200 and updated["data"]["v"] == "2"
    assert int(updated["metadata"]["resourceVersion"]) > int(obj["metadata"]["resourceVersion"])
    stale["data"]["v"] = "3"
    status, err = api(sim, "PUT", CM.format(ns=ns) + "/putme", stale)
    assert status == 409 and err["reason"] == "Conflict"
    assert "the object has been modified" in err["message"]


def test_noop_update_keeps_resource_version(sim, ns):
    _, obj = api(sim, "POST", CM.format(ns=ns), _cm("noop", {"v": "1"}))
    _, again = api(sim, "PUT", CM.format(ns=ns) + "/noop", obj)
    assert again["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]


def test_generation_bumps_only_on_spec_change(sim, ns):
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "gen", "namespace": ns},
           "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "gen"}},
                    "template": {"metadata": {"labels": {"app": "gen"}},
                                 "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}}}}
    _, obj = api(sim, "POST", f"/apis/apps/v1/namespaces/{ns}/deployments", dep)
    assert obj["metadata"]["generation"] == 1
    path = f"/apis/apps/v1/namespaces/{ns}/deployments/gen"
    _, obj = api(sim, "PATCH", path, {"metadata": {"labels": {"x": "y"}}}, "application/merge-patch+json")
    assert obj["metadata"]["generation"] == 1
    _, obj = api(sim, "PATCH", path, {"spec": {"replicas": 0, "minReadySeconds": 1}}, "application/merge-patch+json")
    assert obj["metadata"]["generation"] == 2


def test_json_patch_and_merge_patch(sim, ns):
    api(sim, "POST", CM.format(ns=ns), _cm("patchy", {"a": "1", "b": "2"}))
    path = CM.format(ns=ns) + "/patchy"
    status, obj = api(sim, "PATCH", path, [{"op": "replace", "path": "/data/a", "value": "10"},
                                          {"op": "remove", "path": "/data/b"},
                                          {"op": "add", "path": "/metadata/labels", "value": {"k": "v"}}],
                      "application/json-patch+json")
    assert status == 200 and obj["data"] == {"a": "10"} and obj["metadata"]["labels"] == {"k": "v"}
    _, obj = api(sim, "PATCH", path, {"data": {"a": None, "c": "3"}}, "application/merge-patch+json")
    assert obj["data"] == {"c": "3"}
    status, err = api(sim, "PATCH", path, [{"op": "test", "path": "/data/c", "value": "nope"}],
                      "application/json-patch+json")
    assert status == 422


def test_strategic_merge_patch_uses_merge_keys_and_directives(sim, ns):
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "smp", "namespace": ns},
           "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "smp"}},
                    "template": {"metadata": {"labels": {"app": "smp"}}, "spec": {
                        "containers": [{"name": "a", "image": "a:1", "env": [{"name": "X", "value": "1"}],
                                        "ports": [{"containerPort": 80}]},
                                       {"name": "b", "image": "b:1"}],
                        "tolerations": [{"key": "k1", "operator": "Exists"}]}}}}
    api(sim, "POST", f"/apis/apps/v1/namespaces/{ns}/deployments", dep)
    path = f"/apis/apps/v1/namespaces/{ns}/deployments/smp"
    patch = {"spec": {"template": {"spec": {
        "containers": [{"name": "a", "image": "a:2", "env": [{"name": "Y", "value": "2"}],
                        "ports": [{"containerPort": 443}]},
                       {"name": "b", "$patch": "delete"}],
        "tolerations": [{"key": "k2", "operator": "Exists"}]}}}}
    status, obj = api(sim, "PATCH", path, patch, "application/strategic-merge-patch+json")
    assert status == 200
    spec = obj["spec"]["template"]["spec"]
    assert [c["name"] for c in spec["containers"]] == ["a"]
    a = spec["containers"][0]
    assert a["image"] == "a:2"
    assert [e["name"] for e in a["env"]] == ["X", "Y"]  # merged by name
    assert [p["containerPort"] for p in a["ports"]] == [80, 443]  # merged by containerPort
    assert spec["tolerations"] == [{"key": "k2", "operator": "Exists"}]  # atomic list: replaced
    patch = {"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "c"}, {"name": "a"}],
                                            "containers": [{"name": "c", "image": "c:1"}]}}}}
    _, obj = api(sim, "PATCH", path, patch, "application/strategic-merge-patch+json")
    assert [c["name"] for c in obj["spec"]["template"]["spec"]["containers"]] == ["c", "a"]
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "z", "image": "z:1"}, {"$patch": "replace"}]}}}}
    _, obj = api(sim, "PATCH", path, patch, "application/strategic-merge-patch+json")
    assert [c["name"] for c in obj["spec"]["template"]["spec"]["containers"]] == ["z"]


def test_strategic_merge_is_refused_for_custom_resources(sim, ns):
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "gadgets.example.org"},
           "spec": {"group": "example.org", "scope": "Namespaced",
                    "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
                    "versions": [{"name": "v1", "served": True, "storage": True,
                                  "schema": {"openAPIV3Schema": {"type": "object"}}}]}}
    assert api(sim, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)[0] == 201
    path = f"/apis/example.org/v1/namespaces/{ns}/gadgets"
    assert api(sim, "POST", path, {"apiVersion": "example.org/v1", "kind": "Gadget",
                                   "metadata": {"name": "g"}, "spec": {"a": 1}})[0] == 201
    status, err = api(sim, "PATCH", path + "/g", {"spec": {"a": 2}}, "application/strategic-merge-patch+json")
    assert status == 415 and err["reason"] == "UnsupportedMediaType"
    status, obj = api(sim, "PATCH", path + "/g", {"spec": {"a": 2}}, "application/merge-patch+json")
    assert status == 200 and obj["spec"]["a"] == 2


def test_dry_run_stores_nothing_and_is_logged(fresh_sim):
    sim = fresh_sim
    sim.clear_requests()
    status, obj = api(sim, "POST", "/api/v1/namespaces/default/configmaps?dryRun=All", _cm("dry", {"a": "b"}))
    assert status == 201 and obj["metadata"]["name"] == "dry"
    assert api(sim, "GET", "/api/v1/namespaces/default/configmaps/dry")[0] == 404
    api(sim, "POST", "/api/v1/namespaces/default/configmaps", _cm("wet", {"a": "b"}))
    _, obj = api(sim, "PATCH", "/api/v1/namespaces/default/configmaps/wet?dryRun=All", {"data": {"a": "c"}},
                 "application/merge-patch+json")
    assert obj["data"]["a"] == "c"
    assert api(sim, "GET", "/api/v1/namespaces/default/configmaps/wet")[1]["data"]["a"] == "b"
    api(sim, "DELETE", "/api/v1/namespaces/default/configmaps/wet?dryRun=All")
    assert api(sim, "GET", "/api/v1/namespaces/default/configmaps/wet")[0] == 200
    out = kubectl(sim, "create", "configmap", "kdry", "--from-literal=a=b", "--dry-run=server")
    assert "created (server dry run)" in out.stdout
    assert api(sim, "GET", "/api/v1/namespaces/default/configmaps/kdry")[0] == 404
    log = sim.requests()
    assert sum(1 for r in log if r["dry_run"]) == 4
    assert [(r["verb"], r["resource"]) for r in sim.writes()] == [("create", "configmaps")]  # only "wet"


def test_label_and_field_selectors(sim, ns):
    for i, tier in enumerate(["web", "web", "db"]):
        api(sim, "POST", CM.format(ns=ns), _cm(f"sel-{i}", labels={"tier": tier, "sel": "yes"}))
    q = CM.format(ns=ns) + "?labelSelector="
    names = lambda r: sorted(o["metadata"]["name"] for o in r[1]["items"])  # noqa: E731
    assert names(api(sim, "GET", q + "tier%3Dweb")) == ["sel-0", "sel-1"]
    assert names(api(sim, "GET", q + "sel%3Dyes,tier!%3Dweb")) == ["sel-2"]
    assert names(api(sim, "GET", q + "tier+in+(db,cache)")) == ["sel-2"]
    assert names(api(sim, "GET", q + "sel,!nothere"))[:3] == ["sel-0", "sel-1", "sel-2"]
    assert names(api(sim, "GET", CM.format(ns=ns) + "?fieldSelector=metadata.name%3Dsel-1")) == ["sel-1"]
    _, pods = api(sim, "GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dk8s-worker-1,status.phase!%3DFailed")
    assert pods["kind"] == "PodList"


def test_limit_and_continue_pages_through_everything(sim, ns):
    for i in range(7):
        api(sim, "POST", CM.format(ns=ns), _cm(f"page-{i}", labels={"paged": "1"}))
    seen, token, pages = [], "", 0
    while True:
        url = CM.format(ns=ns) + "?labelSelector=paged%3D1&limit=3" + (f"&continue={token}" if token else "")
        _, page = api(sim, "GET", url)
        pages += 1
        seen += [o["metadata"]["name"] for o in page["items"]]
        token = page["metadata"].get("continue", "")
        if not token:
            break
        assert page["metadata"]["remainingItemCount"] > 0
    assert pages == 3 and seen == [f"page-{i}" for i in range(7)]


def _watch_lines(sim, path: str, n: int, timeout: float = 10) -> list[dict]:
    out: list[dict] = []
    with urllib.request.urlopen(sim.url + path, timeout=timeout) as resp:
        assert resp.headers["Content-Type"].startswith("application/json")
        for line in resp:
            if line.strip():
                out.append(json.loads(line))
            if len(out) >= n:
                break
    return out


def test_watch_streams_events_from_a_resource_version(sim, ns):
    _, first = api(sim, "POST", CM.format(ns=ns), _cm("watched", {"v": "0"}, {"w": "1"}))
    rv = first["metadata"]["resourceVersion"]
    events: list[dict] = []
    t = threading.Thread(target=lambda: events.extend(_watch_lines(
        sim, CM.format(ns=ns) + f"?watch=true&labelSelector=w%3D1&resourceVersion={rv}&timeoutSeconds=10", 3)))
    t.start()
    time.sleep(0.3)
    api(sim, "PATCH", CM.format(ns=ns) + "/watched", {"data": {"v": "1"}}, "application/merge-patch+json")
    api(sim, "POST", CM.format(ns=ns), _cm("watched-2", labels={"w": "1"}))
    api(sim, "POST", CM.format(ns=ns), _cm("unwatched", labels={"w": "2"}))
    api(sim, "DELETE", CM.format(ns=ns) + "/watched")
    t.join(timeout=15)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("MODIFIED", "watched"), ("ADDED", "watched-2"), ("DELETED", "watched")]
    assert events[0]["object"]["kind"] == "ConfigMap"


def test_watch_without_resource_version_lists_first_and_times_out(sim, ns):
    api(sim, "POST", CM.format(ns=ns), _cm("initial", labels={"init": "1"}))
    t0 = time.time()
    events = _watch_lines(sim, CM.format(ns=ns) + "?watch=1&labelSelector=init%3D1&timeoutSeconds=1", 10)
    assert [e["type"] for e in events] == ["ADDED"]
    assert time.time() - t0 < 5


def test_watch_with_too_old_resource_version_gets_expired(sim, ns):
    # a resourceVersion far older than the kept history is answered with a 410 ERROR event
    events = _watch_lines(sim, CM.format(ns=ns) + "?watch=1&resourceVersion=1&timeoutSeconds=1", 50, timeout=5)
    assert events and (events[0]["type"] != "ERROR" or events[0]["object"]["code"] == 410)


def test_node_port_allocation_and_collision(sim, ns):
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "np1"},
           "spec": {"type": "NodePort", "selector": {"a": "b"}, "ports": [{"port": 80, "nodePort": 30080},
                                                                           {"port": 81, "name": "b"}]}}
    status, obj = api(sim, "POST", f"/api/v1/namespaces/{ns}/services", svc)
    assert status == 201
    ports = obj["spec"]["ports"]
    assert ports[0]["nodePort"] == 30080 and 30000 <= ports[1]["nodePort"] <= 32767
    assert obj["spec"]["clusterIP"].startswith("10.9") and obj["spec"]["clusterIPs"] == [obj["spec"]["clusterIP"]]
    svc["metadata"]["name"] = "np2"
    svc["spec"]["ports"] = [{"port": 80, "nodePort": 30080}]
    status, err = api(sim, "POST", f"/api/v1/namespaces/{ns}/services", svc)
    assert status == 422 and err["reason"] == "Invalid"
    assert "provided port is already allocated" in err["message"]


def test_delete_propagation_and_garbage_collection(sim, ns):
    parent = api(sim, "POST", CM.format(ns=ns), _cm("owner"))[1]
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": parent["metadata"]["uid"]}
    for name in ("child-bg", "child-bg2"):
        body = _cm(name)
        body["metadata"]["ownerReferences"] = [ref]
        api(sim, "POST", CM.format(ns=ns), body)
    api(sim, "DELETE", CM.format(ns=ns) + "/owner?propagationPolicy=Background")
    wait_until(lambda: api(sim, "GET", CM.format(ns=ns) + "/child-bg")[0] == 404)
    # Orphan keeps dependents and drops the owner reference
    parent = api(sim, "POST", CM.format(ns=ns), _cm("owner2"))[1]
    body = _cm("child-orphan")
    body["metadata"]["ownerReferences"] = [dict(ref, name="owner2", uid=parent["metadata"]["uid"])]
    api(sim, "POST", CM.format(ns=ns), body)
    api(sim, "DELETE", CM.format(ns=ns) + "/owner2", {"kind": "DeleteOptions", "apiVersion": "v1",
                                                      "propagationPolicy": "Orphan"})
    time.sleep(0.3)
    status, child = api(sim, "GET", CM.format(ns=ns) + "/child-orphan")
    assert status == 200 and not child["metadata"].get("ownerReferences")


def test_foreground_deletion_of_a_deployment_removes_replicasets_and_pods(sim, ns):
    kubectl(sim, "-n", ns, "apply", "-f", "-", input=json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "fg"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "fg"}},
                 "template": {"metadata": {"labels": {"app": "fg"}},
                              "spec": {"containers": [{"name": "c", "image": "busybox:1"}],
                                       "nodeSelector": {"role": "worker"}}}}}))
    wait_until(lambda: kubectl(sim, "-n", ns, "get", "pods", "-l", "app=fg", "-o", "name").stdout.strip())
    kubectl(sim, "-n", ns, "delete", "deployment", "fg", "--cascade=foreground")
    assert kubectl(sim, "-n", ns, "get", "rs,pods", "-l", "app=fg", "-o", "name").stdout.strip() == ""


def test_deletecollection(sim, ns):
    for i in range(3):
        api(sim, "POST", CM.format(ns=ns), _cm(f"coll-{i}", labels={"coll": "1"}))
    status, lst = api(sim, "DELETE", CM.format(ns=ns) + "?labelSelector=coll%3D1")
    assert status == 200 and lst["kind"] == "ConfigMapList" and len(lst["items"]) == 3
    assert api(sim, "GET", CM.format(ns=ns) + "?labelSelector=coll%3D1")[1]["items"] == []


def test_namespace_deletion_removes_its_objects(sim):
    kubectl(sim, "create", "namespace", "doomed")
    kubectl(sim, "-n", "doomed", "create", "configmap", "c1", "--from-literal=a=b")
    kubectl(sim, "-n", "doomed", "create", "secret", "generic", "s1", "--from-literal=a=b")
    kubectl(sim, "delete", "namespace", "doomed", "--timeout=20s")
    assert api(sim, "GET", "/api/v1/namespaces/doomed")[0] == 404
    assert api(sim, "GET", "/api/v1/namespaces/doomed/configmaps/c1")[0] == 404


def test_validation_errors_are_invalid(sim, ns):
    status, err = api(sim, "POST", CM.format(ns=ns), _cm("Bad_Name"))
    assert status == 422 and err["reason"] == "Invalid" and err["details"]["causes"]
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "nosel"},
           "spec": {"template": {"metadata": {"labels": {"a": "b"}},
                                 "spec": {"containers": [{"name": "c", "image": "i"}]}}}}
    status, err = api(sim, "POST", f"/apis/apps/v1/namespaces/{ns}/deployments", dep)
    assert status == 422 and "spec.selector" in err["message"]
    status, err = api(sim, "POST", CM.format(ns=ns), {"kind": "Secret", "apiVersion": "v1",
                                                      "metadata": {"name": "wrongkind"}})
    assert status == 400 and err["reason"] == "BadRequest"
    status, err = api(sim, "PUT", "/api/v1/namespaces/" + ns + "/configmaps")
    assert status == 405 and err["reason"] == "MethodNotAllowed"


# ---------------------------------------------------------------- protobuf bodies
def _varint(n: int) -> bytes:
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def _field(num: int, payload: bytes | str | int) -> bytes:
    if isinstance(payload, int):
        return _varint(num << 3) + _varint(payload)
    if isinstance(payload, str):
        payload = payload.encode()
    return _varint(num << 3 | 2) + _varint(len(payload)) + payload


def _map_entry(num: int, k: str, v: bytes | str) -> bytes:
    return _field(num, _field(1, k) + _field(2, v))


def _unknown(api_version: str, kind: str, raw: bytes) -> bytes:
    type_meta = _field(1, api_version) + _field(2, kind)
    return b"k8s\x00" + _field(1, type_meta) + _field(2, raw) + _field(3, "") + _field(4, "")


def test_protobuf_secret_configmap_namespace_and_delete_options(sim):
    meta = _field(1, "pb-ns") + _map_entry(11, "from", "protobuf")
    status, obj = api(sim, "POST", "/api/v1/namespaces", raw=_unknown("v1", "Namespace", _field(1, meta)),
                      content_type="application/vnd.kubernetes.protobuf")
    assert status == 201 and obj["metadata"]["labels"]["from"] == "protobuf"
    meta = _field(1, "release.v1") + _field(3, "pb-ns") + _map_entry(11, "owner", "helm")
    secret = _field(1, meta) + _map_entry(2, "release", b"\x00\x01binary") + _field(3, "helm.sh/release.v1")
    status, obj = api(sim, "POST", "/api/v1/namespaces/pb-ns/secrets", raw=_unknown("v1", "Secret", secret),
                      content_type="application/vnd.kubernetes.protobuf")
    assert status == 201 and obj["type"] == "helm.sh/release.v1" and obj["data"]["release"] == "AAFiaW5hcnk="
    meta = _field(1, "pb-cm") + _field(3, "pb-ns")
    cm = _field(1, meta) + _map_entry(2, "key", "value")
    status, obj = api(sim, "POST", "/api/v1/namespaces/pb-ns/configmaps", raw=_unknown("v1", "ConfigMap", cm),
                      content_type="application/vnd.kubernetes.protobuf")
    assert status == 201 and obj["data"] == {"key": "value"}
    opts = _field(4, "Background")
    status, _ = api(sim, "DELETE", "/api/v1/namespaces/pb-ns/configmaps/pb-cm",
                    raw=_unknown("v1", "DeleteOptions", opts), content_type="application/vnd.kubernetes.protobuf")
    assert status == 200
    assert api(sim, "GET", "/api/v1/namespaces/pb-ns/configmaps/pb-cm")[0] == 404


def test_concurrent_clients(sim, ns):
    errors: list = []

    def worker(i: int) -> None:
        for j in range(10):
            s, _ = api(sim, "POST", CM.format(ns=ns), _cm(f"conc-{i}-{j}", labels={"conc": "1"}))
            if s != 201:
                errors.append(s)
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(api(sim, "GET", CM.format(ns=ns) + "?labelSelector=conc%3D1")[1]["items"]) == 50
    s = socket.create_connection(("127.0.0.1", int(sim.url.rsplit(":", 1)[1])))
    s.close()


def test_legacy_watch_path_and_pod_logs(sim, ns):
    api(sim, "POST", CM.format(ns=ns), _cm("legacy-watch"))
    events = _watch_lines(sim, f"/api/v1/watch/namespaces/{ns}/configmaps/legacy-watch?timeoutSeconds=1", 5)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "legacy-watch")]
    kubectl(sim, "-n", ns, "run", "logger", "--image=busybox:1")
    out = kubectl(sim, "-n", ns, "logs", "logger")
    assert out.returncode == 0 and out.stdout == ""
    assert kubectl(sim, "auth", "can-i", "delete", "nodes").stdout.strip() == "yes"


def test_watch_send_initial_events_ends_with_a_bookmark(sim, ns):
    api(sim, "POST", CM.format(ns=ns), _cm("initial-ev", labels={"ie": "1"}))
    events = _watch_lines(sim, CM.format(ns=ns) + "?watch=1&labelSelector=ie%3D1&sendInitialEvents=true"
                                                  "&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan"
                                                  "&timeoutSeconds=2", 2)
    assert [e["type"] for e in events] == ["ADDED", "BOOKMARK"]
    assert events[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_watch_replay_keeps_event_types_and_scale_subresource_put(sim, ns):
    _, obj = api(sim, "POST", CM.format(ns=ns), _cm("replayed", {"v": "0"}, {"rp": "1"}))
    rv = obj["metadata"]["resourceVersion"]
    api(sim, "PATCH", CM.format(ns=ns) + "/replayed", {"data": {"v": "1"}}, "application/merge-patch+json")
    api(sim, "POST", CM.format(ns=ns), _cm("replayed-2", labels={"rp": "1"}))
    api(sim, "DELETE", CM.format(ns=ns) + "/replayed-2")
    events = _watch_lines(sim, CM.format(ns=ns) + f"?watch=1&labelSelector=rp%3D1&resourceVersion={rv}"
                                                  "&timeoutSeconds=1", 3)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("MODIFIED", "replayed"), ("ADDED", "replayed-2"), ("DELETED", "replayed-2")]
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "scaled"},
           "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "scaled"}},
                    "template": {"metadata": {"labels": {"app": "scaled"}},
                                 "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}}}}
    api(sim, "POST", f"/apis/apps/v1/namespaces/{ns}/deployments", dep)
    path = f"/apis/apps/v1/namespaces/{ns}/deployments/scaled/scale"
    status, scale = api(sim, "GET", path)
    assert status == 200 and scale["kind"] == "Scale" and scale["spec"]["replicas"] == 0
    scale["spec"]["replicas"] = 2
    status, scale = api(sim, "PUT", path, scale)
    assert status == 200 and scale["spec"]["replicas"] == 2 and scale["status"]["selector"] == "app=scaled"
    wait_until(lambda: api(sim, "GET", f"/apis/apps/v1/namespaces/{ns}/deployments/scaled")[1]
               .get("status", {}).get("readyReplicas") == 2)
