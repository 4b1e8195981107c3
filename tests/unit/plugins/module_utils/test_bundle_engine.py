"""The bundle engine's decisions: what is created, updated, pruned, reported, and that check mode writes nothing.

The API server is a small in-memory stand-in here (an apply merges the object in and stamps
our field set); the real server-side behaviour is covered by tests/integration/test_mesh_bundles.py.
"""
from __future__ import annotations

import copy

import pytest

from ansible_collections.eco2.mesh.plugins.module_utils import bundle_engine as be
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_spec as ms


def vs(name, ns="chat", host="chat", labels=None):
    meta = {"name": name, "namespace": ns}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": meta,
            "spec": {"hosts": [host]}}


class Server:
    def __init__(self, objects=()):
        self.store = {be.key(o): o for o in objects}
        self.writes = []

    def _stamp(self, obj):
        obj = copy.deepcopy(obj)
        obj["metadata"]["resourceVersion"] = "1"
        obj["metadata"]["managedFields"] = [{"manager": ms.FIELD_MANAGER, "operation": "Apply",
                                             "fieldsV1": sorted(obj.get("spec", {}))}]
        return obj

    def list_bundle(self, kinds, selector):
        wanted = dict(part.split("=") for part in selector.split(","))
        return [copy.deepcopy(o) for o in self.store.values() if (o.get("apiVersion"), o.get("kind")) in kinds
                and all((o["metadata"].get("labels") or {}).get(k) == v for k, v in wanted.items())]

    def dry_run(self, obj):
        return self._stamp(obj)

    def apply(self, obj):
        self.writes.append(("apply", be.ref(obj)))
        self.store[be.key(obj)] = self._stamp(obj)

    def delete(self, obj):
        self.writes.append(("delete", be.ref(obj)))
        self.store.pop(be.key(obj))


def test_creates_then_second_run_writes_nothing():
    server = Server()
    first = be.reconcile(server, "routing", [vs("chat-vs"), vs("scan-vs", "scan", "scan")])
    assert first["changed"] and [c["action"] for c in first["changes"]] == ["create", "create"]
    assert first["report"] == ["create VirtualService chat/chat-vs", "create VirtualService scan/scan-vs"]
    assert server.store[("VirtualService", "chat", "chat-vs")]["metadata"]["labels"] == ms.ownership_labels("routing")
    assert first["missing"] == [] and first["extra"] == []
    server.writes.clear()
    second = be.reconcile(server, "routing", [vs("chat-vs"), vs("scan-vs", "scan", "scan")])
    assert not second["changed"] and server.writes == [] and second["report"] == []


def test_update_reports_a_yaml_diff_and_applies_only_what_differs():
    server = Server()
    be.reconcile(server, "routing", [vs("chat-vs"), vs("scan-vs", "scan", "scan")])
    server.writes.clear()
    result = be.reconcile(server, "routing", [vs("chat-vs", host="chat.example"), vs("scan-vs", "scan", "scan")])
    assert result["report"][0] == "update VirtualService chat/chat-vs"
    assert "    -  - chat" in result["report"] and "    +  - chat.example" in result["report"]
    assert server.writes == [("apply", "VirtualService chat/chat-vs")]


def test_prunes_what_left_the_bundle_and_only_the_bundle():
    foreign = vs("theirs", labels={"app": "x"})
    other_bundle = vs("np", "scan", labels=ms.ownership_labels("network-policies"))
    server = Server([foreign, other_bundle])
    be.reconcile(server, "routing", [vs("chat-vs"), vs("scan-vs", "scan", "scan")])
    server.writes.clear()
    result = be.reconcile(server, "routing", [vs("scan-vs", "scan", "scan")])
    assert result["report"] == ["delete VirtualService chat/chat-vs"]
    assert server.writes == [("delete", "VirtualService chat/chat-vs")]
    assert ("VirtualService", "chat", "theirs") in server.store and ("VirtualService", "scan", "np") in server.store
    kept = be.reconcile(server, "routing", [], prune=False)
    assert kept["changes"] == [] and ("VirtualService", "scan", "scan-vs") in server.store


def test_check_mode_reports_and_writes_nothing():
    server = Server()
    result = be.reconcile(server, "routing", [vs("chat-vs")], check_mode=True)
    assert result["changed"] and result["report"] == ["create VirtualService chat/chat-vs"]
    assert server.writes == [] and server.store == {} and "missing" not in result
    assert result["diff"][0]["after_header"] == "VirtualService chat/chat-vs" and "chat" in result["diff"][0]["after"]


def test_removed_field_is_a_change_even_when_the_rest_is_a_subset():
    server = Server()
    obj = vs("chat-vs")
    obj["spec"]["gateways"] = ["istio-system/eco2-gateway"]
    be.reconcile(server, "routing", [obj])
    server.writes.clear()
    result = be.reconcile(server, "routing", [vs("chat-vs")])
    assert result["report"][0] == "update VirtualService chat/chat-vs" and server.writes


def test_the_same_object_twice_is_refused_before_any_write():
    server = Server()
    with pytest.raises(be.BundleError, match="holds the same object twice: VirtualService chat/chat-vs"):
        be.reconcile(server, "routing", [vs("chat-vs"), vs("chat-vs", host="other")])
    assert server.writes == []


def test_out_of_sync_after_apply_is_reported():
    class Lossy(Server):
        def apply(self, obj):
            self.writes.append(("apply", be.ref(obj)))  # accepted but never stored
    result = be.reconcile(Lossy(), "routing", [vs("chat-vs")])
    assert result["missing"] == ["VirtualService chat/chat-vs"]
