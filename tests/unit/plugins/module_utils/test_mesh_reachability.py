"""Issue 18: the NetworkPolicy bundle only adds unless isolation is asked for, and says what it would cut."""
from __future__ import annotations

import pytest

from ansible_collections.eco2.mesh.plugins.module_utils import mesh_analysis as ma
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_netpol as netpol
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_policies as mp
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_spec as ms

from .test_mesh_spec import inventory_vars

AUTH = {"namespace": "auth", "labels": {"app": "auth-api"}}
# The five connections the issue found cut by the old bundle.
FIVE = [
    (AUTH, {"namespace": "postgres", "labels": {"app": "postgres"}}, 5432),
    (AUTH, {"namespace": "redis", "labels": {"app": "redis"}}, 6379),
    (AUTH, {"namespace": "auth", "labels": {"app": "auth-worker"}}, 8000),
    (AUTH, {"namespace": None, "ip": "198.51.100.7"}, 443),
    ({"namespace": "prometheus", "labels": {"app": "prometheus"}}, AUTH, 15090),
]


def spec_of(**over):
    v = inventory_vars("dev")
    v.update(over)
    return ms.build_spec(v)


def newly_denied(spec, live=None):
    objs = mp.network_policy_objects(spec, mp.isolated_directions(live or []))
    context = {"spec": spec, "checks": ["network_policies"], "live": live or [],
               "gateway_pod_labels": [spec["gateway"]["pod_labels"]]}
    return [f for f in ma.analyze(objs, context) if f["check"] == "newly-denied"], objs


@pytest.mark.parametrize("src,dst,port", FIVE)
def test_without_default_deny_the_five_connections_stay_open(src, dst, port):
    policies = mp.network_policy_objects(spec_of())
    assert netpol.allowed(src, dst, port, "TCP", policies)


def test_without_default_deny_nothing_open_today_is_cut():
    found = newly_denied(spec_of())[0]
    assert found == []


@pytest.mark.parametrize("src,dst,port", FIVE)
def test_with_default_deny_the_declared_peers_stay_open(src, dst, port):
    policies = mp.network_policy_objects(spec_of(mesh_network_policy_default_deny=True))
    assert netpol.allowed(src, dst, port, "TCP", policies)


def test_with_default_deny_undeclared_connections_are_named_before_the_write():
    found, objs = newly_denied(spec_of(mesh_network_policy_default_deny=True))
    assert found and all(f["severity"] == "error" for f in found)
    # auth -> an address outside the cluster on 80 is not declared (only 443 is).
    (external,) = [f["message"] for f in found
                   if f["message"].startswith("applying the bundle would deny auth/app=auth-api (auth) -> external")]
    assert " 80, " in external and " 443," not in external
    assert "mesh_network_policy_acknowledged_denials" in found[0]["fix"]
    policies = [o for o in objs if o["kind"] == "NetworkPolicy"]
    assert not netpol.allowed(AUTH, {"namespace": None, "ip": "198.51.100.7"}, 80, "TCP", policies)


def test_acknowledged_denials_are_accepted():
    spec = spec_of(mesh_network_policy_default_deny=True,
                   mesh_network_policy_acknowledged_denials=[{"from": "*", "to": "*", "port": "*"}])
    found = newly_denied(spec)[0]
    assert found == []
    partial = spec_of(mesh_network_policy_default_deny=True,
                      mesh_network_policy_acknowledged_denials=[{"from": "*", "to": "external"}])
    found = newly_denied(partial)[0]
    assert found and not any("-> external" in f["message"] for f in found)


def test_where_others_already_isolate_our_policies_only_add():
    spec = spec_of()
    theirs = [{"kind": "NetworkPolicy", "metadata": {"name": "db-only", "namespace": "scan"},
               "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"ports": [{"port": 5432}]}]}}]
    found, objs = newly_denied(spec, theirs)
    names = {o["metadata"]["name"] for o in objs if o["metadata"]["namespace"] == "scan"}
    assert "mesh-allow-undeclared-egress" not in names and "mesh-allow-undeclared-ingress" in names
    assert found == []
    scan = {"namespace": "scan", "labels": {"app": "scan-api"}}
    istiod = {"namespace": "istio-system", "labels": {"app": "istiod", "istio": "pilot"}}
    assert not netpol.allowed(scan, istiod, 15012, "TCP", theirs)
    assert netpol.allowed(scan, istiod, 15012, "TCP", theirs + objs)  # the allowance the sidecars need


def test_a_foreign_isolation_of_some_pods_only_is_not_undone_and_the_cut_is_reported():
    spec = spec_of()
    theirs = [{"kind": "NetworkPolicy", "metadata": {"name": "lock-batch", "namespace": "scan"},
               "spec": {"podSelector": {"matchLabels": {"app": "batch"}}, "policyTypes": ["Egress"], "egress": []}}]
    found, objs = newly_denied(spec, theirs)
    # Our egress allowances select every scan pod: scan-api loses what is not declared, and the run says so.
    assert any(f["message"].startswith("applying the bundle would deny scan/app=scan-api") for f in found)


FOREIGN_ISOLATIONS = [
    [],
    [{"kind": "NetworkPolicy", "metadata": {"name": "db-only", "namespace": "scan"},
      "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"ports": [{"port": 5432}]}]}}],
    [{"kind": "NetworkPolicy", "metadata": {"name": "lock-batch", "namespace": "scan"},
      "spec": {"podSelector": {"matchLabels": {"app": "batch"}}, "policyTypes": ["Egress"], "egress": []}}],
    [{"kind": "NetworkPolicy", "metadata": {"name": "from-gw", "namespace": "auth"},
      "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": [{"namespaceSelector": {}}]}]}}],
]


@pytest.mark.parametrize("default_deny", [False, True])
@pytest.mark.parametrize("theirs", FOREIGN_ISOLATIONS)
def test_skipping_the_connections_left_open_finds_what_evaluating_every_port_finds(monkeypatch, default_deny, theirs):
    spec = spec_of(mesh_network_policy_default_deny=default_deny)
    pruned = newly_denied(spec, theirs)[0]
    assert bool(pruned) is (default_deny or theirs is FOREIGN_ISOLATIONS[2])  # something to find, or rightly nothing
    monkeypatch.setattr(netpol, "allows_everything", lambda *args: False)
    assert newly_denied(spec, theirs)[0] == pruned


@pytest.mark.parametrize("policy,direction,expected", [
    (None, "Egress", True),  # not isolated
    ({"podSelector": {}, "policyTypes": ["Egress"], "egress": [{}]}, "Egress", True),  # allow-all rule
    ({"podSelector": {}, "policyTypes": ["Egress"], "egress": [{}]}, "Ingress", True),  # other direction
    ({"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{}]}, "Ingress", True),
    ({"podSelector": {}, "policyTypes": ["Egress"]}, "Egress", False),  # isolated, no rule
    ({"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"ports": [{"port": 53}]}]}, "Egress", False),
    ({"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": [{"podSelector": {}}]}]}, "Ingress", False),
    ({"podSelector": {"matchLabels": {"app": "other"}}, "policyTypes": ["Egress"]}, "Egress", True),  # selects others
])
def test_allows_everything_only_when_no_policy_isolates_or_one_rule_allows_all(policy, direction, expected):
    pod = {"namespace": "auth", "labels": {"app": "auth-api"}}
    policies = [] if policy is None else [{"kind": "NetworkPolicy", "metadata": {"name": "p", "namespace": "auth"},
                                           "spec": policy}]
    assert netpol.allows_everything(pod, direction, netpol.index(policies)) is expected
    if expected:
        assert all(netpol.evaluate(pod, other, port, proto, policies).egress.allowed if direction == "Egress"
                   else netpol.evaluate(other, pod, port, proto, policies).ingress.allowed
                   for other in ({"namespace": "x", "labels": {}}, {"namespace": None, "ip": "192.0.2.1"})
                   for port in (53, 8000) for proto in ("TCP", "UDP"))


@pytest.mark.parametrize("peers,error", [
    ([{"name": "db", "namespace": "postgres", "cidr": "10.0.0.0/8", "ports": [5432]}],
     "mesh_peers[0]: needs exactly one of namespace"),
    ([{"name": "db", "namespace": "postgres", "ports": []}], "mesh_peers[0].ports: must list at least one port"),
    ([{"name": "db", "namespace": "postgres", "ports": [70000]}], "mesh_peers[0].ports[0]: 70000 is not a port number"),
    ([{"name": "ext", "cidr": "everywhere", "ports": [443]}], "mesh_peers[0].cidr: 'everywhere' is not a valid CIDR"),
    ([{"name": "db", "direction": "sideways", "namespace": "p", "ports": [1]}],
     "mesh_peers[0].direction: 'sideways' is not one of egress, ingress"),
    ([{"name": "db", "namespace": "p", "ports": [1], "domains": ["nope"]}], "mesh_peers[0].domains[0]: 'nope' is not one of"),
])
def test_bad_peers_name_the_variable_and_what_is_allowed(peers, error):
    with pytest.raises(ms.MeshSpecError) as exc:
        spec_of(mesh_peers=peers)
    assert error in str(exc.value)


def test_summary_says_what_is_open_in_and_out():
    from ansible_collections.eco2.mesh.plugins.module_utils import mesh_reachability as mr
    pod = {"metadata": {"labels": {"app": "auth-api"}}}
    open_ns = mr.open_lines({"auth": [pod]}, mp.network_policy_objects(spec_of()))
    assert open_ns == ["auth - in: open | out: open"]
    isolated = mr.open_lines({"auth": [pod]}, mp.network_policy_objects(spec_of(mesh_network_policy_default_deny=True)))
    (line,) = isolated
    assert line.startswith("auth - in: only ")
    assert "postgres:5432" in line and "0.0.0.0/0:443" in line and "prometheus:15020,15090,8000" in line
    assert "same namespace" in line and "istio-system:15010,15012,15014,15017,443" in line
