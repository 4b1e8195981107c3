"""Node profiles: validation, kubelet flags both ways, drop-in, drift/repair patch."""
from __future__ import annotations

import pytest

from ansible_collections.eco2.mesh.plugins.module_utils import node_profile as np

GATEWAY = {
    "labels": {"role": "ingress-gateway", "domain": "gateway", "infra-type": "istio", "workload": "gateway",
               "tier": "network", "phase": 5},
    "taints": [{"key": "role", "value": "ingress-gateway", "effect": "NoSchedule"}],
}
GATEWAY_FLAGS = ("--node-labels=role=ingress-gateway,domain=gateway,infra-type=istio,workload=gateway,tier=network,"
                 "phase=5 --register-with-taints=role=ingress-gateway:NoSchedule")


def test_flags_from_profile():
    assert np.kubelet_flags(GATEWAY) == GATEWAY_FLAGS


def test_flags_accept_inventory_form_and_provider_id():
    prof = {"node_profile_labels": GATEWAY["labels"], "node_profile_taints": GATEWAY["taints"]}
    assert np.kubelet_flags(prof, provider_id="aws:///ap-northeast-2a/i-1") == GATEWAY_FLAGS + \
        " --provider-id=aws:///ap-northeast-2a/i-1"


def test_round_trip():
    parsed = np.parse_kubelet_flags(GATEWAY_FLAGS)
    assert parsed["labels"] == {k: str(v) for k, v in GATEWAY["labels"].items()}
    assert parsed["taints"] == GATEWAY["taints"]
    assert np.kubelet_flags(parsed) == GATEWAY_FLAGS


def test_parse_space_form_extra_args_and_valueless_taint():
    parsed = np.parse_kubelet_flags('KUBELET_EXTRA_ARGS=--node-labels a=b,c= --register-with-taints k:NoExecute --v=2')
    assert parsed["labels"] == {"a": "b", "c": ""}
    assert parsed["taints"] == [{"key": "k", "value": "", "effect": "NoExecute"}]
    assert parsed["other"] == ["--v=2"]
    assert np.kubelet_flags(parsed) == "--node-labels=a=b,c= --register-with-taints=k:NoExecute"


@pytest.mark.parametrize("key", ["example.com/role", "a", "a.b_c-d", "x" * 63, ("a" * 63 + ".") * 3 + "b/c"])
def test_valid_label_keys(key):
    assert np.label_key_problem(key) is None


@pytest.mark.parametrize("key,fragment", [
    ("", "empty"),
    ("-role", "start and end"),
    ("role-", "start and end"),
    ("ro le", "alphanumeric"),
    ("x" * 64, "at most 63"),
    ("Example.com/role", "DNS subdomain"),
    ("a/b/c", "more than one"),
    ("/role", "empty prefix"),
    (("a" * 63 + ".") * 4 + "bb/c", "at most 253"),
])
def test_invalid_label_keys(key, fragment):
    assert fragment in np.label_key_problem(key)


@pytest.mark.parametrize("value", ["", "a", "ingress-gateway", "A.b_c", "z" * 63])
def test_valid_label_values(value):
    assert np.label_value_problem(value) is None


@pytest.mark.parametrize("value", ["-a", "a-", "a b", "z" * 64, "a/b"])
def test_invalid_label_values(value):
    assert np.label_value_problem(value)


def test_error_names_host_and_field_for_label():
    with pytest.raises(np.NodeProfileError) as err:
        np.normalize_profile({"node_profile_labels": {"role": "ingress gateway"}}, host="k8s-ingress-gateway")
    msg = str(err.value)
    assert msg.startswith("k8s-ingress-gateway: node_profile_labels['role']")
    assert "'ingress gateway'" in msg


def test_error_names_host_and_field_for_taint_effect():
    with pytest.raises(np.NodeProfileError) as err:
        np.normalize_profile({"node_profile_taints": [{"key": "role", "value": "x", "effect": "NoScheduel"}]},
                             host="k8s-ingress-gateway")
    msg = str(err.value)
    assert "k8s-ingress-gateway: node_profile_taints[0].effect" in msg
    assert "'NoScheduel'" in msg and "NoSchedule, PreferNoSchedule, NoExecute" in msg


def test_duplicate_taint_and_label():
    taints = [{"key": "a", "value": "1", "effect": "NoSchedule"}, {"key": "a", "value": "2", "effect": "NoSchedule"}]
    with pytest.raises(np.NodeProfileError, match=r"h: node_profile_taints\[1\]: duplicate taint a:NoSchedule"):
        np.normalize_profile({"node_profile_taints": taints}, host="h")
    with pytest.raises(np.NodeProfileError, match="h: --node-labels: duplicate label key 'a'"):
        np.parse_kubelet_flags("--node-labels=a=1,a=2", host="h")
    with pytest.raises(np.NodeProfileError, match="given more than once"):
        np.parse_kubelet_flags("--node-labels=a=1 --node-labels=b=2", host="h")


def test_taint_unknown_field_and_missing_key():
    with pytest.raises(np.NodeProfileError, match="unknown fields effects"):
        np.normalize_taints([{"key": "a", "effects": "NoSchedule"}], host="h")
    with pytest.raises(np.NodeProfileError, match=r"h: node_profile_taints\[0\].key"):
        np.normalize_taints([{"value": "a", "effect": "NoSchedule"}], host="h")


def test_reserved_prefix_and_types():
    with pytest.raises(np.NodeProfileError, match="reserved for Kubernetes"):
        np.normalize_labels({"node-role.kubernetes.io/gateway": ""}, host="h")
    with pytest.raises(np.NodeProfileError, match="must be a dict"):
        np.normalize_labels(["role=api"], host="h")
    with pytest.raises(np.NodeProfileError, match="must be a list"):
        np.normalize_taints({"key": "a"}, host="h")
    with pytest.raises(np.NodeProfileError, match="neither labels"):
        np.normalize_profile({"role": "api"}, host="h")


def test_dropin_round_trip():
    text = np.render_dropin(GATEWAY, provider_id="aws:///ap-northeast-2a/i-0abc")
    assert text.startswith(np.DROPIN_HEADER)
    assert "[Service]\nEnvironment=\"KUBELET_EXTRA_ARGS=" + GATEWAY_FLAGS in text
    parsed = np.parse_dropin(text)
    assert parsed["provider_id"] == "aws:///ap-northeast-2a/i-0abc"
    assert np.kubelet_flags(parsed) == GATEWAY_FLAGS


def test_provider_id():
    assert np.provider_id("ap-northeast-2a", "i-0abc") == "aws:///ap-northeast-2a/i-0abc"
    assert np.provider_id("", "i-0abc") is None


def _node(labels=None, taints=None, provider_id=None):
    node = {"metadata": {"name": "n", "labels": labels if labels is not None else {}},
            "spec": {}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    if taints is not None:
        node["spec"]["taints"] = taints
    if provider_id:
        node["spec"]["providerID"] = provider_id
    return node


def test_no_drift_when_node_matches_and_system_labels_are_left_alone():
    labels = {k: str(v) for k, v in GATEWAY["labels"].items()}
    labels.update({"kubernetes.io/hostname": "n", "node-role.kubernetes.io/control-plane": "",
                   "topology.ebs.csi.aws.com/zone": "a"})
    taints = GATEWAY["taints"] + [{"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}]
    drift = np.node_drift(_node(labels, taints, "aws:///z/i-1"), GATEWAY, provider_id="aws:///z/i-1")
    assert drift["patch"] == []
    assert np.node_ready(_node())


def test_drift_repair_patch():
    labels = {"role": "api", "domain": "gateway", "stale": "x", "kubernetes.io/hostname": "n"}
    taints = [{"key": "role", "value": "api", "effect": "NoSchedule"},
              {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}]
    drift = np.node_drift(_node(labels, taints), GATEWAY, provider_id="aws:///z/i-1")
    assert drift["labels_change"] == {"role": "ingress-gateway"}
    assert drift["labels_remove"] == ["stale"]
    assert set(drift["labels_add"]) == {"infra-type", "workload", "tier", "phase"}
    assert drift["taints_changed"] and drift["provider_id_set"]
    ops = {(op["op"], op["path"]) for op in drift["patch"]}
    assert ("replace", "/metadata/labels/role") in ops
    assert ("remove", "/metadata/labels/stale") in ops
    assert ("add", "/spec/providerID") in ops
    (taint_op,) = [op for op in drift["patch"] if op["path"] == "/spec/taints"]
    assert taint_op["value"] == [{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"},
                                 {"key": "role", "value": "ingress-gateway", "effect": "NoSchedule"}]


def test_drift_provider_id_conflict_and_prefixed_key_escape():
    prof = {"labels": {"example.com/team": "mesh"}, "taints": []}
    drift = np.node_drift(_node({}, None, "aws:///z/i-other"), prof, provider_id="aws:///z/i-1")
    assert drift["provider_id_conflict"] and not drift["provider_id_set"]
    assert drift["patch"] == [{"op": "add", "path": "/metadata/labels/example.com~1team", "value": "mesh"}]
    # an owned prefix makes other labels under it removable
    drift = np.node_drift(_node({"example.com/old": "1"}), prof, owned_prefixes=("example.com",))
    assert {"op": "remove", "path": "/metadata/labels/example.com~1old"} in drift["patch"]
