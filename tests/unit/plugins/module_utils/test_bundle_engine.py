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
        self.dry_runs = []

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
        self.dry_runs.append(be.ref(obj))
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


def test_a_rerun_skips_the_dry_run_of_objects_applied_as_they_are():
    server = Server()
    objects = [vs("chat-vs"), vs("scan-vs", "scan", "scan")]
    be.reconcile(server, "routing", objects)
    applied = server.store[("VirtualService", "chat", "chat-vs")]
    wanted, = be.owned([vs("chat-vs")], "routing")
    assert applied["metadata"]["annotations"] == wanted["metadata"]["annotations"]
    assert len(wanted["metadata"]["annotations"][ms.APPLIED_ANNOTATION]) == 64
    server.writes.clear()
    server.dry_runs.clear()
    again = be.reconcile(server, "routing", objects)
    assert not again["changed"] and server.dry_runs == [] and server.writes == []


def test_the_digest_is_of_the_object_and_keeps_other_annotations():
    one = vs("chat-vs")
    one["metadata"]["annotations"] = {"team": "chat"}
    first, = be.owned([one], "routing")
    assert first["metadata"]["annotations"]["team"] == "chat"
    assert be.owned([first], "routing")[0] == first  # owning an owned object changes nothing
    other, = be.owned([vs("chat-vs", host="chat.example")], "routing")
    assert other["metadata"]["annotations"][ms.APPLIED_ANNOTATION] != first["metadata"]["annotations"][ms.APPLIED_ANNOTATION]


@pytest.mark.parametrize("drift", ["value", "removed", "no digest", "other digest", "type", "deleting"])
def test_anything_but_the_object_as_applied_goes_through_the_dry_run(drift):
    server = Server()
    be.reconcile(server, "routing", [vs("chat-vs")])
    live = server.store[("VirtualService", "chat", "chat-vs")]
    if drift == "value":
        live["spec"]["hosts"] = ["elsewhere"]
    elif drift == "removed":
        del live["spec"]["hosts"]
    elif drift == "no digest":  # applied by a version without it
        del live["metadata"]["annotations"]
    elif drift == "other digest":
        live["metadata"]["annotations"][ms.APPLIED_ANNOTATION] = "0" * 64
    elif drift == "type":  # the server's normalised form: left to the dry run
        live["spec"]["hosts"] = [1]
    else:
        live["metadata"]["deletionTimestamp"] = "2026-12-03T00:00:00Z"
    server.dry_runs.clear()
    server.writes.clear()
    result = be.reconcile(server, "routing", [vs("chat-vs")])
    assert server.dry_runs == ["VirtualService chat/chat-vs"]
    assert result["changed"] and server.writes == [("apply", "VirtualService chat/chat-vs")]


def test_an_edit_inside_an_atomic_list_is_dry_run_and_undone():
    """A key added inside a list item (atomic for server-side apply, like a NetworkPolicy's `from`): the wanted
    fields still hold, but the editor's managedFields entry sends the object through the dry run."""
    obj = vs("chat-vs")
    obj["spec"]["http"] = [{"route": [{"destination": {"host": "chat"}}]}]
    server = Server()
    be.reconcile(server, "routing", [obj])
    live = server.store[("VirtualService", "chat", "chat-vs")]
    live["spec"]["http"][0]["route"][0]["destination"]["port"] = {"number": 1}
    live["metadata"]["managedFields"].append({"manager": "kubectl-edit", "operation": "Update", "fieldsV1": ["http"]})
    assert be.holds(live, be.owned([obj], "routing")[0])  # the fields alone do not show the edit
    server.dry_runs.clear()
    server.writes.clear()
    result = be.reconcile(server, "routing", [obj])
    assert server.dry_runs == ["VirtualService chat/chat-vs"] and result["changed"]
    assert server.writes == [("apply", "VirtualService chat/chat-vs")]
    assert "port" not in server.store[("VirtualService", "chat", "chat-vs")]["spec"]["http"][0]["route"][0]["destination"]


def test_an_object_another_manager_applied_is_dry_run():
    server = Server()
    be.reconcile(server, "routing", [vs("chat-vs")])
    live = server.store[("VirtualService", "chat", "chat-vs")]
    live["metadata"]["managedFields"].append({"manager": "argocd-controller", "operation": "Apply", "fieldsV1": ["hosts"]})
    server.dry_runs.clear()
    be.reconcile(server, "routing", [vs("chat-vs")])
    assert server.dry_runs == ["VirtualService chat/chat-vs"]


def test_status_written_by_others_does_not_force_a_dry_run():
    server = Server()
    be.reconcile(server, "routing", [vs("chat-vs")])
    live = server.store[("VirtualService", "chat", "chat-vs")]
    live["metadata"]["labels"]["team"] = "chat"
    live["metadata"]["annotations"]["kubectl.kubernetes.io/note"] = "x"
    live["spec"]["http"] = [{"route": []}]
    live["status"] = {"observedGeneration": 1}
    live["metadata"]["managedFields"].append({"manager": "pilot-discovery", "operation": "Update", "subresource": "status"})
    server.dry_runs.clear()
    assert not be.reconcile(server, "routing", [vs("chat-vs")])["changed"] and server.dry_runs == []


@pytest.mark.parametrize("live,wanted,expected", [
    ({"a": 1, "b": 2}, {"a": 1}, True),
    ({"a": [1, 2]}, {"a": [1]}, False),
    ({"a": [{"x": 1, "y": 2}]}, {"a": [{"x": 1}]}, True),
    ({"a": True}, {"a": 1}, False),
    ({"a": 1.0}, {"a": 1}, False),
    ({}, {"a": None}, False),
    ({"a": None}, {"a": None}, True),
])
def test_holds(live, wanted, expected):
    assert be.holds(live, wanted) is expected
