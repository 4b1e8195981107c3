"""Fast unit checks of kubesim's pure parts (patches, apply field sets, selectors, scheduler text, protobuf)."""
from __future__ import annotations

import pytest

from kubesim import patch, protobuf, scheduler, selectors, ssa  # the package at the repo root
from kubesim.errors import ApiError


def test_strategic_merge_retain_keys_and_primitive_list_directives():
    orig = {"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
                     "finalizers": ["a", "b", "c"]}}
    p = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"},
                  "$deleteFromPrimitiveList/finalizers": ["b"]}}
    out = patch.strategic_merge(orig, p)
    assert out["spec"]["strategy"] == {"type": "Recreate"}
    assert out["spec"]["finalizers"] == ["a", "c"]
    assert patch.strategic_merge({"metadata": {"finalizers": ["x"]}},
                                 {"metadata": {"finalizers": ["y"]}})["metadata"]["finalizers"] == ["x", "y"]
    assert patch.strategic_merge({"a": {"b": 1}}, {"a": {"$patch": "delete"}}) == {}
    svc = {"spec": {"ports": [{"port": 80, "name": "http"}, {"port": 443, "name": "https"}]}}
    out = patch.strategic_merge(svc, {"spec": {"ports": [{"port": 443, "targetPort": 8443}]}})
    assert out["spec"]["ports"][1] == {"port": 443, "name": "https", "targetPort": 8443}


def test_json_patch_move_copy_and_errors():
    doc = {"a": {"b": 1}, "l": [1, 2]}
    out = patch.json_patch(doc, [{"op": "copy", "from": "/a/b", "path": "/c"},
                                 {"op": "move", "from": "/a", "path": "/d"},
                                 {"op": "add", "path": "/l/-", "value": 3},
                                 {"op": "add", "path": "/l/0", "value": 0}])
    assert out == {"c": 1, "d": {"b": 1}, "l": [0, 1, 2, 3]}
    assert doc == {"a": {"b": 1}, "l": [1, 2]}  # input untouched
    with pytest.raises(ApiError) as e:
        patch.json_patch(doc, [{"op": "remove", "path": "/nope"}])
    assert e.value.code == 422


def test_apply_field_paths_round_trip_fields_v1():
    obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x", "labels": {"a": "b"}},
           "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}},
           "status": {"replicas": 1}}
    paths = ssa.field_paths(obj)
    tree = ssa.to_fields_v1(paths)
    assert tree["f:metadata"] == {"f:labels": {"f:a": {}}}
    assert tree["f:spec"]["f:template"]["f:spec"]["f:containers"] == {
        'k:{"name":"c"}': {".": {}, "f:image": {}, "f:name": {}}}
    assert "f:status" not in tree
    assert ssa.from_fields_v1(tree) == paths


def test_apply_conflict_force_and_prune():
    live = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "managedFields": []}, "data": {}}
    a1 = ssa.server_side_apply(live, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                                      "data": {"x": "1", "y": "1"}}, "a", False, "v1", "t1", "", "configmaps")
    assert a1["data"] == {"x": "1", "y": "1"}
    same = ssa.server_side_apply(a1, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                                      "data": {"x": "1", "y": "1"}}, "a", False, "v1", "t2", "", "configmaps")
    assert same is a1
    with pytest.raises(ApiError) as e:
        ssa.server_side_apply(a1, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                                   "data": {"x": "2"}}, "b", False, "v1", "t3", "", "configmaps")
    assert e.value.code == 409 and 'conflict with "a"' in e.value.message and ".data.x" in e.value.message
    b = ssa.server_side_apply(a1, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                                   "data": {"x": "2"}}, "b", True, "v1", "t3", "", "configmaps")
    pruned = ssa.server_side_apply(b, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                                       "data": {}}, "a", False, "v1", "t4", "", "configmaps")
    assert pruned["data"] == {"x": "2"}  # y pruned (only a owned it), x kept (now b's)


def test_label_selector_parsing():
    reqs = selectors.parse_label_selector("app=web,tier!=db,env in (prod, dev),!legacy,team")
    labels = {"app": "web", "env": "dev", "team": "a"}
    assert selectors.matches_requirements(labels, reqs)
    assert not selectors.matches_requirements(dict(labels, legacy="1"), reqs)
    assert selectors.selector_to_string({"matchLabels": {"b": "2", "a": "1"},
                                         "matchExpressions": [{"key": "c", "operator": "Exists"}]}) == "a=1,b=2,c"
    with pytest.raises(ApiError):
        selectors.parse_label_selector("a===b")


def test_scheduler_message_format():
    nodes = [{"metadata": {"name": f"n{i}", "labels": {"role": r}},
              "spec": {"taints": t}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
             for i, (r, t) in enumerate([("ingress-gateway", [{"key": "role", "value": "ingress-gateway",
                                                                 "effect": "NoSchedule"}]),
                                         ("api", []), ("worker", [])])]
    pod = {"spec": {"nodeSelector": {"role": "ingress-gateway"}}}
    node, msg = scheduler.schedule(pod, nodes, {})
    assert node is None
    assert msg == ("0/3 nodes are available: 1 node(s) had untolerated taint {role: ingress-gateway}, "
                   "2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: "
                   "3 Preemption is not helpful for scheduling.")
    pod["spec"]["tolerations"] = [{"key": "role", "operator": "Equal", "value": "ingress-gateway",
                                   "effect": "NoSchedule"}]
    assert scheduler.schedule(pod, nodes, {})[0] == "n0"
    assert scheduler.tolerates([{"operator": "Exists"}], {"key": "any", "effect": "NoExecute"})
    assert not scheduler.tolerates([{"key": "k", "operator": "Exists", "effect": "NoSchedule"}],
                                   {"key": "k", "effect": "NoExecute"})


def _v(n: int) -> bytes:
    out = b""
    while True:
        b, n = n & 0x7F, n >> 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def _f(num: int, payload) -> bytes:
    if isinstance(payload, int):
        return _v(num << 3) + _v(payload)
    payload = payload.encode() if isinstance(payload, str) else payload
    return _v(num << 3 | 2) + _v(len(payload)) + payload


def test_protobuf_deployment_with_nested_messages_and_int_or_string():
    meta = _f(1, "web") + _f(3, "default") + _f(7, 0)
    container = _f(1, "web") + _f(2, "nginx:1.27") + _f(6, _f(3, 80) + _f(4, "TCP")) + _f(5, "")
    template = _f(1, _f(11, _f(1, "app") + _f(2, "web"))) + _f(2, _f(2, container))
    strategy = _f(1, "RollingUpdate") + _f(2, _f(1, _f(1, 1) + _f(3, "25%")))
    spec = _f(1, 0) + _f(2, _f(1, _f(1, "app") + _f(2, "web"))) + _f(3, template) + _f(4, strategy)
    body = b"k8s\x00" + _f(1, _f(1, "apps/v1") + _f(2, "Deployment")) + _f(2, _f(1, meta) + _f(2, spec))
    obj = protobuf.decode(body)
    assert obj["apiVersion"] == "apps/v1" and obj["kind"] == "Deployment"
    assert obj["metadata"] == {"name": "web", "namespace": "default"}
    assert obj["spec"]["replicas"] == 0  # a pointer field: zero is kept
    assert obj["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    assert obj["spec"]["template"]["spec"]["containers"] == [
        {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80, "protocol": "TCP"}]}]
    assert obj["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%"}}


def test_protobuf_unknown_kind_is_unsupported_media_type():
    body = b"k8s\x00" + _f(1, _f(1, "example.com/v1") + _f(2, "Widget")) + _f(2, b"")
    with pytest.raises(ApiError) as e:
        protobuf.decode(body)
    assert e.value.code == 415


def test_inventory_without_k8s_cluster_group_uses_all_hosts(tmp_path):
    from kubesim.inventory import nodes_from_inventory
    inv = tmp_path / "hosts.ini"
    inv.write_text("[web]\nnode-a private_ip=10.1.0.5 instance_type=t3.micro "
                   "node_profile_labels='{\"tier\": \"web\"}'\nnode-b\n")
    nodes = {n["metadata"]["name"]: n for n in nodes_from_inventory(str(inv), "v1.30.6")}
    assert set(nodes) == {"node-a", "node-b"}
    a = nodes["node-a"]
    assert a["metadata"]["labels"]["tier"] == "web"
    assert a["status"]["allocatable"] == {"cpu": "2", "memory": "1Gi", "pods": "110", "ephemeral-storage": "20Gi"}
    assert nodes["node-b"]["status"]["capacity"]["memory"] == "4Gi"  # unknown instance type: the default
    assert "taints" not in nodes["node-b"]["spec"]
