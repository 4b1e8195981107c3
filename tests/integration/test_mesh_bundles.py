"""The routing and NetworkPolicy bundles on the local cluster, through playbooks/istio.yml.

Each test gets its own local cluster with Istio's real CRDs (from the base chart, so the API
server checks every Gateway and VirtualService against Istio's schemas); the eco2
namespaces/Services the routes point at come from tests/integration/fixtures.
"""
from __future__ import annotations

import json

import pytest
import yaml

from tests.lib.ansible_run import REPO, run_playbook
from tests.lib.bundle_cluster import BOTH, RENDER_PLAYBOOK, assert_noop, play, prepare

pytestmark = pytest.mark.slow

DOMAINS = ["auth", "my", "scan", "character", "location", "image", "chat"]
SHARED = yaml.safe_load((REPO / "inventory/shared/group_vars/all/mesh.yml").read_text())


def names(kube, kind, namespace=None):
    ns = ["-n", namespace] if namespace else ["-A"]
    out = kube.kubectl("get", kind, *ns, "-l", "app.kubernetes.io/managed-by=eco2.mesh", "-o", "json").stdout
    return sorted("%s/%s" % (o["metadata"]["namespace"], o["metadata"]["name"]) for o in json.loads(out)["items"])


READ_POLICIES = """
- hosts: localhost
  gather_facts: false
  vars:
    ansible_connection: local
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - eco2.mesh.mesh_info: {api_version: networking.k8s.io/v1, kind: NetworkPolicy, namespace: chat}
      register: plain
    - eco2.mesh.mesh_info: {api_version: networking.k8s.io/v1, kind: NetworkPolicy, namespace: chat,
                            managed_fields: true}
      register: full
    - eco2.mesh.mesh_info: {api_version: networking.k8s.io/v1, kind: NetworkPolicy, namespace: chat,
                            outside_bundle: network-policies}
      register: others
    - ansible.builtin.copy: {content: "{{ {'plain': plain, 'full': full, 'others': others} | to_json }}",
                             dest: "{{ out }}"}
"""


def assert_mesh_info_reads_what_is_asked(kube, tmp_path):
    playbook, out = tmp_path / "read.yml", tmp_path / "read.json"
    playbook.write_text(READ_POLICIES)
    kube.kubectl("apply", "-f", "-", input=json.dumps({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "theirs", "namespace": "chat"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}))
    result = run_playbook(str(playbook), extra_vars={"out": str(out)}, env=kube.env())
    kube.kubectl("delete", "networkpolicy", "-n", "chat", "theirs")
    assert result.rc == 0, result
    read = json.loads(out.read_text())
    assert [p["metadata"]["name"] for p in read["others"]["resources"]] == ["theirs"]
    plain = [p for p in read["plain"]["resources"] if p["metadata"]["name"] != "theirs"]
    full = [p for p in read["full"]["resources"] if p["metadata"]["name"] != "theirs"]
    assert len(plain) == 11 and [p["metadata"]["name"] for p in plain] == [p["metadata"]["name"] for p in full]
    assert not any("managedFields" in p["metadata"] for p in plain)
    assert all("eco2.mesh" in {m["manager"] for m in p["metadata"]["managedFields"]} for p in full)
    assert [dict(p, metadata={k: v for k, v in p["metadata"].items() if k != "managedFields"}) for p in full] == plain


@pytest.fixture
def kube(cluster):
    prepare(cluster)
    return cluster


def test_apply_second_run_is_a_noop_and_removed_domain_is_pruned(kube, tmp_path):
    first = play(kube)
    assert first.rc == 0, first
    assert first.changed > 0
    vs = names(kube, "virtualservices.networking.istio.io")
    assert "chat/chat-vs" in vs and "istio-system/gateway-health-check" in vs and len(vs) == 10
    assert names(kube, "gateways.networking.istio.io") == ["istio-system/eco2-gateway"]
    assert names(kube, "ingress") == ["istio-system/istio-ingress"]
    pols = names(kube, "networkpolicy")
    assert len(pols) == 7 * 11 + 2 and "character/mesh-flow-ingress-from-scan-8000-tcp" in pols
    ing = json.loads(kube.kubectl("get", "ingress", "-n", "istio-system", "istio-ingress", "-o", "json",
                                 "--show-managed-fields").stdout)
    assert ing["metadata"]["annotations"]["external-dns.alpha.kubernetes.io/hostname"] == \
        "api.local.growbin.app,argocd.local.growbin.app,grafana.local.growbin.app"
    managers = {m["manager"] for m in ing["metadata"].get("managedFields") or []}
    assert "eco2.mesh" in managers

    assert_noop(kube, lambda: play(kube))
    assert_mesh_info_reads_what_is_asked(kube, tmp_path)

    kube.clear_requests()
    without_chat = [{"name": d} for d in DOMAINS if d != "chat"]
    third = play(kube, BOTH, {"mesh_domains": without_chat})
    assert third.rc == 0, third
    writes = kube.writes()
    assert writes and all(w["verb"] == "delete" for w in writes), writes
    deleted = sorted(w["path"].rsplit("/", 3)[-3] + "/" + w["path"].rsplit("/", 1)[-1] for w in writes)
    assert all("/chat/" in w["path"] for w in writes), deleted
    assert len(writes) == 1 + 11  # chat-vs and chat's eleven NetworkPolicies
    assert "chat/chat-vs" not in names(kube, "virtualservices.networking.istio.io")
    assert names(kube, "networkpolicy", "chat") == []
    assert len(names(kube, "networkpolicy")) == 6 * 11 + 2
    assert len(names(kube, "virtualservices.networking.istio.io")) == 9


def test_an_unchanged_bundle_is_not_dry_run_and_a_drifted_object_is_repaired(kube):
    assert play(kube).rc == 0
    assert_noop(kube, lambda: play(kube))
    assert kube.dry_runs() == []  # every object still as applied: one list per kind, no dry run

    def hosts():
        return json.loads(kube.kubectl("get", "virtualservice", "-n", "chat", "chat-vs", "-o", "json").stdout)["spec"]["hosts"]
    applied = hosts()
    kube.kubectl("patch", "virtualservice", "-n", "chat", "chat-vs", "--type=merge", "-p",
                 json.dumps({"spec": {"hosts": ["drifted.example"]}}))
    kube.clear_requests()
    repaired = play(kube)
    assert repaired.rc == 0 and repaired.changed > 0, repaired
    assert [d["name"] for d in kube.dry_runs()] == ["chat-vs"]
    assert [(w["verb"], w["name"]) for w in kube.writes()] == [("patch", "chat-vs")]
    assert hosts() == applied
    # The forced apply took the field back from the editor: the object is only ours again, and not dry-run.
    assert_noop(kube, lambda: play(kube))
    assert kube.dry_runs() == []


def test_check_diff_shows_changes_and_writes_nothing(kube):
    kube.clear_requests()
    result = play(kube, BOTH, None, "--check", "--diff")
    assert result.rc == 0, result
    assert kube.writes() == []
    assert "create Gateway istio-system/eco2-gateway" in result.stdout
    assert "create NetworkPolicy scan/mesh-flow-egress-to-character-8000-tcp" in result.stdout
    assert names(kube, "networkpolicy") == []

    assert play(kube).rc == 0
    kube.clear_requests()
    changed = play(kube, "routing", {"mesh_alb": dict(SHARED["mesh_alb"], group_order=2)}, "--check", "--diff")
    assert changed.rc == 0, changed
    assert kube.writes() == []
    assert "update Ingress istio-system/istio-ingress" in changed.stdout
    assert "alb.ingress.kubernetes.io/group.order: '2'" in changed.stdout


LEFTOVER_VS = {
    "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
    "metadata": {"name": "auth-legacy", "namespace": "auth"},
    "spec": {"hosts": ["*"], "gateways": ["istio-system/eco2-gateway"],
             "http": [{"match": [{"uri": {"prefix": "/api/v1/auth"}}],
                       "route": [{"destination": {"host": "auth-api.auth.svc.cluster.local", "port": {"number": 8000}}}]}]}}
HALF_FLOW = {
    "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
    "metadata": {"name": "image-to-chat", "namespace": "image"},
    "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{
        "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "chat"}}}],
        "ports": [{"protocol": "TCP", "port": 8000}]}]}}


def _domains(**over):
    return [dict({"name": d}, **over.get(d, {})) for d in DOMAINS]


# (id, tags, extra vars, setup, expected object, expected field)
FAILURES = [
    ("external-dns", "routing",
     {"mesh_alb": dict(SHARED["mesh_alb"], extra_annotations={"external-dns.alpha.kubernetes.io/hostname": None})},
     None, "Ingress istio-system/istio-ingress", 'metadata.annotations["external-dns.alpha.kubernetes.io/hostname"]'),
    ("external-dns-missing-host", "routing",
     {"mesh_alb": dict(SHARED["mesh_alb"],
                       extra_annotations={"external-dns.alpha.kubernetes.io/hostname": "api.local.growbin.app"})},
     None, "Ingress istio-system/istio-ingress", 'metadata.annotations["external-dns.alpha.kubernetes.io/hostname"]'),
    ("alb-health-check", "routing", {"mesh_health_check_route": False, "mesh_gateway_extra_hosts": []},
     None, "Gateway istio-system/eco2-gateway", "spec.servers[0].hosts"),
    ("alb-health-check-no-route", "routing", {"mesh_health_check_route": False},
     None, "Ingress istio-system/istio-ingress", 'metadata.annotations["alb.ingress.kubernetes.io/healthcheck-path"]'),
    ("gateway-selector", "routing", {"mesh_gateway_selector": {"istio": "gateway"}},
     None, "Gateway istio-system/eco2-gateway", "spec.selector"),
    ("vs-destination-service", "routing", None,
     lambda kube: kube.kubectl("delete", "service", "-n", "chat", "chat-api"),
     "VirtualService chat/chat-vs", "spec.http[0].route[0].destination.host"),
    ("vs-destination-port", "routing", {"mesh_domains": _domains(chat={"port": 8080})},
     None, "VirtualService chat/chat-vs", "spec.http[0].route[0].destination.port.number"),
    ("vs-gateway", "routing", {"mesh_domains": _domains(chat={"gateways": ["istio-system/other-gateway"]})},
     None, "VirtualService chat/chat-vs", "spec.gateways[0]"),
    ("vs-conflict", "routing", None,
     lambda kube: kube.kubectl("apply", "-f", "-", input=json.dumps(LEFTOVER_VS)),
     "VirtualService auth/auth-vs", "spec.http[0].match[0]"),
    # Policy findings need isolation: without default-deny the bundle keeps every namespace open.
    ("istiod-egress", "network_policies", {"mesh_istiod": {"ports": [15010, 15014]}, "mesh_network_policy_default_deny": True},
     None, "NetworkPolicy scan/mesh-allow-istiod-egress", "spec.egress"),
    ("default-deny-dns", "network_policies",
     {"mesh_dns": {"pod_labels": {"k8s-app": "coredns"}}, "mesh_network_policy_default_deny": True},
     None, "NetworkPolicy scan/mesh-default-deny", "spec.policyTypes"),
    ("newly-denied", "network_policies", {"mesh_network_policy_default_deny": True},
     None, "NetworkPolicy auth/mesh-default-deny", "spec.policyTypes"),
    ("flow-one-sided", "network_policies", {"mesh_network_policy_default_deny": True},
     lambda kube: kube.kubectl("apply", "-f", "-", input=json.dumps(HALF_FLOW)),
     "NetworkPolicy chat/mesh-allow-gateway-ingress", "spec.ingress"),
]


@pytest.mark.parametrize("tags,extra_vars,setup,obj,field", [f[1:] for f in FAILURES], ids=[f[0] for f in FAILURES])
def test_analysis_blocks_the_run_without_writing(kube, tags, extra_vars, setup, obj, field):
    if setup:
        setup(kube)
    kube.clear_requests()
    result = play(kube, tags, extra_vars)
    assert result.rc != 0, result
    assert "mesh analysis:" in result.stdout, result
    assert "%s %s:" % (obj, field) in result.stdout, result
    assert kube.writes() == []


def test_force_applies_despite_findings(kube):
    result = play(kube, "routing", {"mesh_gateway_selector": {"istio": "gateway"}, "mesh_routing_force": True})
    assert result.rc == 0, result
    assert "gateway-selector" in result.stdout
    gw = json.loads(kube.kubectl("get", "gateways.networking.istio.io", "-n", "istio-system", "eco2-gateway",
                                "-o", "json").stdout)
    assert gw["spec"]["selector"] == {"istio": "gateway"}


def test_invalid_spec_fails_naming_the_variable(kube):
    kube.clear_requests()
    flows = [{"from": "scan", "to": "character", "port": 8000, "protocol": "TPC"}]
    result = play(kube, "network_policies", {"mesh_flows": flows})
    assert result.rc != 0
    assert "mesh_flows[0].protocol: 'TPC' is not one of TCP, UDP, SCTP" in result.stdout, result
    assert kube.writes() == []


@pytest.mark.parametrize("env,zone", [("dev", "dev.growbin.app"), ("prod", "growbin.app")])
def test_render_mode_writes_the_manifests(tmp_path, env, zone):
    out = tmp_path / "render"
    result = run_playbook(RENDER_PLAYBOOK, "--tags", BOTH, inventory="inventory/%s" % env,
                          extra_vars={"mesh_render_dir": str(out)},
                          env={"K8S_AUTH_KUBECONFIG": str(tmp_path / "no-such-kubeconfig")})
    assert result.rc == 0, result
    policies = list(yaml.safe_load_all((out / "manifests/07-network-policies.yaml").read_text()))
    routing = list(yaml.safe_load_all((out / "manifests/50-routing.yaml").read_text()))
    # mesh_auth (on in dev/prod): 4 auth flow policies and istio-system's 2 allow-undeclared; 3 auth objects.
    # mesh_telemetry (on in dev/prod): prometheus' 2 allow-undeclared; in the 8 sidecar namespaces (7 domains and
    # istio-system) Prometheus may come in on 15020 and 15090 and traces go out to 9411; 11 one-sided pairs (Kiali to istiod,
    # Jaeger and Prometheus: 6; Prometheus to istiod: 2, to the sidecars: 2; the collector's ingress: 1).
    telemetry = 2 + 8 * 3 + 11
    assert len(policies) == 7 * 11 + 2 + 6 + telemetry and {p["kind"] for p in policies} == {"NetworkPolicy"}
    assert len([p for p in policies if p["metadata"]["name"].startswith("mesh-telemetry-")]) == 8 * 3 + 11
    kinds = [o["kind"] for o in routing]
    assert kinds[:3] == ["Gateway", "Ingress", "VirtualService"] and len(routing) == 12 + 3
    assert kinds[-3:] == ["RequestAuthentication", "AuthorizationPolicy", "EnvoyFilter"]
    gateway = routing[0]
    assert gateway["spec"]["servers"][0]["hosts"][:3] == ["api.%s" % zone, "argocd.%s" % zone, "grafana.%s" % zone]
    assert "*" in gateway["spec"]["servers"][0]["hosts"]
    ann = routing[1]["metadata"]["annotations"]
    assert ann["external-dns.alpha.kubernetes.io/hostname"] == "api.%s,argocd.%s,grafana.%s" % (zone, zone, zone)
    assert ("00000000dev0" if env == "dev" else "0000000prod0") in ann["alb.ingress.kubernetes.io/certificate-arn"]


OVERRIDES = [  # issue 11: the analysis must read these from the model, not from constants of its own
    ("istiod-ports", {"mesh_istiod": {"ports": [15010, 15012, 15017]}}, "mesh-allow-istiod-egress",
     lambda pol: [p["port"] for p in pol["spec"]["egress"][0]["ports"]] == [15010, 15012, 15017]),
    ("dns-labels", {"mesh_dns": {"pod_labels": {"k8s-app": "coredns"}}}, "mesh-allow-dns-egress",
     lambda pol: pol["spec"]["egress"][0]["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "coredns"}}),
]


@pytest.mark.parametrize("override,policy,carries", [o[1:] for o in OVERRIDES], ids=[o[0] for o in OVERRIDES])
def test_spec_override_renders(tmp_path, override, policy, carries):
    out = tmp_path / "render"
    result = run_playbook(RENDER_PLAYBOOK, "--tags", "network_policies", inventory="inventory/dev",
                          extra_vars=dict(override, mesh_render_dir=str(out)),
                          env={"K8S_AUTH_KUBECONFIG": str(tmp_path / "no-such-kubeconfig")})
    assert result.rc == 0, result
    policies = [p for p in yaml.safe_load_all((out / "manifests/07-network-policies.yaml").read_text())
                if p["metadata"]["name"] == policy]
    assert len(policies) == 7 and all(carries(p) for p in policies)


@pytest.mark.parametrize("override,policy,carries", [o[1:] for o in OVERRIDES], ids=[o[0] for o in OVERRIDES])
def test_spec_override_applies(kube, override, policy, carries):
    result = play(kube, "network_policies", override)
    assert result.rc == 0, result
    live = json.loads(kube.kubectl("get", "networkpolicy", "-A", "--field-selector", "metadata.name=" + policy,
                                   "-o", "json").stdout)["items"]
    assert len(live) == 7 and all(carries(p) for p in live)
