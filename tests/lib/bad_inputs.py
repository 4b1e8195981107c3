"""The table of plausible mistakes (issue 16): each must be refused before any write, naming its variable path.

A case changes the inventory of `inventory/local` (`changes`: variable paths like ``mesh_domains[2].hosts`` or
``mesh_gateway.protocol`` set on top of the inventory's values; DELETE removes one) or, for the inventory
family, its hosts file (`inventory`: a variant built by `inventory_variant`). `expect` is the variable path the
error must name. The unit layer runs each case alone through module_utils.input_validation; the integration
layer batches cases whose changes do not collide into one real `ansible-playbook` run each.
"""
from __future__ import annotations

import copy
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

DELETE = object()
LONG_LABEL = "a" * 64


@dataclass(frozen=True)
class Case:
    id: str
    family: str
    changes: dict
    expect: str
    inventory: str = ""  # "" = inventory/local as it is; else a variant of inventory_variant()
    playbook: str = "istio"  # or "gitops"


def _c(family, id_, changes, expect, **kw):
    return Case(id_, family, changes, expect, **kw)


_AWS = {"verify_aws_enabled": True}
_AUTH = {"mesh_auth_enabled": True}
_HOST_MODE = {"node_join_mode": "host"}
GATEWAY_HOST = "k8s-ingress-gateway"
_PORTS = [{"name": "status-port", "port": 15021, "targetPort": 15021}, {"name": "http2", "port": 80, "targetPort": 80}]

CASES = [
    # -- the mesh spec --------------------------------------------------------------------------------
    _c("spec", "zone-space", {"mesh_zone": "Dev Zone"}, "mesh_zone"),
    _c("spec", "zone-64-char-label", {"mesh_zone": LONG_LABEL + ".growbin.app"}, "mesh_zone"),
    _c("spec", "zone-number", {"mesh_zone": 42}, "mesh_zone"),
    _c("spec", "domain-uppercase-name", {"mesh_domains[0]": {"name": "Auth"}}, "mesh_domains[0].name"),
    _c("spec", "domain-port-range", {"mesh_domains[1]": {"name": "my", "port": 70000}}, "mesh_domains[1].port"),
    _c("spec", "domain-empty-hosts", {"mesh_domains[2]": {"name": "scan", "hosts": []}}, "mesh_domains[2].hosts"),
    _c("spec", "domain-prefix-no-slash", {"mesh_domains[3]": {"name": "character", "prefixes": ["api/v1/character"]}},
       "mesh_domains[3].prefixes[0]"),
    _c("spec", "domain-service-digit", {"mesh_domains[4]": {"name": "location", "service": "9location"}},
       "mesh_domains[4].service"),
    _c("spec", "domain-label-float", {"mesh_domains[5]": {"name": "image", "pod_labels": {"version": 1.1}}},
       "mesh_domains[5].pod_labels.version"),
    _c("spec", "domain-meshed-string", {"mesh_domains[6]": {"name": "chat", "meshed": "yes"}}, "mesh_domains[6].meshed"),
    _c("spec", "domain-host-double-dot", {"mesh_domains[0]": {"name": "auth", "hosts": ["api..local.growbin.app"]}},
       "mesh_domains[0].hosts[0]"),
    _c("spec", "domain-unknown-key", {"mesh_domains[1]": {"name": "my", "namespac": "my"}}, "mesh_domains[1].namespac"),
    _c("spec", "domain-route-port-name", {"mesh_domains[2]": {"name": "scan", "routes": [{"prefix": "/x", "port": "http"}]}},
       "mesh_domains[2].routes[0].port"),
    _c("spec", "domain-namespace-upper", {"mesh_domains[3]": {"name": "character", "namespace": "Character"}},
       "mesh_domains[3].namespace"),
    _c("spec", "domain-name-64", {"mesh_domains[4]": {"name": "l" * 64}}, "mesh_domains[4].name"),
    _c("spec", "domain-duplicate", {"mesh_domains[5]": {"name": "my"}}, "mesh_domains[5].name"),
    _c("spec", "domain-host-64-label", {"mesh_domains[6]": {"name": "chat", "hosts": [LONG_LABEL + ".growbin.app"]}},
       "mesh_domains[6].hosts[0]"),
    _c("spec", "domains-not-list", {"mesh_domains": "auth,my"}, "mesh_domains"),
    _c("spec", "platform-port-zero", {"mesh_platform_routes[0]": {"name": "argocd", "port": 0}},
       "mesh_platform_routes[0].port"),
    _c("spec", "platform-prefix", {"mesh_platform_routes[1]": {"name": "grafana", "prefix": "grafana"}},
       "mesh_platform_routes[1].prefix"),
    _c("spec", "platform-host-space", {"mesh_platform_routes[0]": {"name": "argocd", "host": "Argo CD"}},
       "mesh_platform_routes[0].host"),
    _c("spec", "flow-typo", {"mesh_flows[0]": {"from": "scan", "to": "charcter"}}, "mesh_flows[0].to"),
    _c("spec", "flow-protocol", {"mesh_flows[0]": {"from": "scan", "to": "character", "protocol": "TPC"}},
       "mesh_flows[0].protocol"),
    _c("spec", "flow-port-name", {"mesh_flows[0]": {"from": "scan", "to": "character", "port": "http"}},
       "mesh_flows[0].port"),
    _c("spec", "peer-no-ports", {"mesh_peers[0]": {"name": "postgresql", "namespace": "postgres", "ports": []}},
       "mesh_peers[0].ports"),
    _c("spec", "peer-cidr", {"mesh_peers[1]": {"name": "redis", "cidr": "everywhere", "ports": [6379]}},
       "mesh_peers[1].cidr"),
    _c("spec", "peer-namespace-and-cidr",
       {"mesh_peers[2]": {"name": "rabbitmq", "namespace": "rabbitmq", "cidr": "10.0.0.0/8", "ports": [5672]}},
       "mesh_peers[2]"),
    _c("spec", "peer-direction", {"mesh_peers[3]": {"name": "external-https", "cidr": "0.0.0.0/0", "ports": [443],
                                                    "direction": "both"}}, "mesh_peers[3].direction"),
    _c("spec", "peer-unknown-domain", {"mesh_peers[4]": {"name": "monitoring", "direction": "ingress",
                                                         "namespace": "prometheus", "ports": [15020], "domains": ["shop"]}},
       "mesh_peers[4].domains[0]"),
    _c("spec", "alb-scheme", {"mesh_alb.scheme": "public"}, "mesh_alb.scheme"),
    _c("spec", "alb-target-type", {"mesh_alb.target_type": "pod"}, "mesh_alb.target_type"),
    _c("spec", "alb-listen-ports", {"mesh_alb.listen_ports": [{"HTTPS": 443, "HTTP": 80}]}, "mesh_alb.listen_ports[0]"),
    _c("spec", "alb-group-order", {"mesh_alb.group_order": 0}, "mesh_alb.group_order"),
    _c("spec", "alb-success-codes", {"mesh_alb.success_codes": "2xx"}, "mesh_alb.success_codes"),
    _c("spec", "alb-healthcheck-path", {"mesh_alb.healthcheck_path": "healthz"}, "mesh_alb.healthcheck_path"),
    _c("spec", "alb-annotation-two-slashes", {"mesh_alb.extra_annotations": {"alb.ingress.kubernetes.io/a/b": "x"}},
       "mesh_alb.extra_annotations.alb.ingress.kubernetes.io/a/b"),
    _c("spec", "alb-backend-protocol", {"mesh_alb.backend_protocol": "GRPC"}, "mesh_alb.backend_protocol"),
    _c("spec", "alb-unknown-key", {"mesh_alb.certificate": "x"}, "mesh_alb.certificate"),
    _c("spec", "certificate-arn", {"mesh_alb_certificate_arn": "my-cert"}, "mesh_alb_certificate_arn"),
    _c("spec", "gateway-protocol-http3", {"mesh_gateway.protocol": "HTTP3"}, "mesh_gateway.protocol"),
    _c("spec", "gateway-https-without-tls", {"mesh_gateway.protocol": "HTTPS"}, "mesh_gateway.protocol"),
    _c("spec", "gateway-empty-port-name", {"mesh_gateway.port_name": ""}, "mesh_gateway.port_name"),
    _c("spec", "gateway-port-zero", {"mesh_gateway.port": 0}, "mesh_gateway.port"),
    _c("spec", "gateway-name", {"mesh_gateway.name": "Eco2_Gateway"}, "mesh_gateway.name"),
    _c("spec", "gateway-tls-key", {"mesh_gateway.tls": {"mode": "SIMPLE"}}, "mesh_gateway.tls"),
    _c("spec", "gateway-extra-host", {"mesh_gateway_extra_hosts": ["bad host"]}, "mesh_gateway_extra_hosts[0]"),
    _c("spec", "gateway-selector-float", {"mesh_gateway_selector": {"istio": 1.1}}, "mesh_gateway_selector.istio"),
    _c("spec", "gateway-service-digit", {"mesh_gateway_service": "9gateway"}, "mesh_gateway_service"),
    _c("spec", "gateway-pod-labels-key", {"mesh_gateway_pod_labels": {"a/b/c": "x"}}, "mesh_gateway_pod_labels.a/b/c"),
    _c("spec", "public-host-upper", {"mesh_public_hosts": ["API.local"]}, "mesh_public_hosts[0]"),
    _c("spec", "istiod-port", {"mesh_istiod.ports": [15012, 70000]}, "mesh_istiod.ports[1]"),
    _c("spec", "istiod-pod-labels-empty", {"mesh_istiod.pod_labels": {}}, "mesh_istiod.pod_labels"),
    _c("spec", "dns-port-name", {"mesh_dns.port": "dns"}, "mesh_dns.port"),
    _c("spec", "dns-namespace", {"mesh_dns.namespace": "Kube-System"}, "mesh_dns.namespace"),
    _c("spec", "default-deny-string", {"mesh_network_policy_default_deny": "sometimes"},
       "mesh_network_policy_default_deny"),
    _c("spec", "health-route-string", {"mesh_health_check_route": "sometimes"}, "mesh_health_check_route"),
    _c("spec", "external-dns-string", {"mesh_external_dns": "maybe"}, "mesh_external_dns"),
    _c("spec", "acknowledged-from", {"mesh_network_policy_acknowledged_denials": [{"from": "Auth"}]},
       "mesh_network_policy_acknowledged_denials[0].from"),
    _c("spec", "release-name", {"istio_gateway_release_name": "Istio_GW"}, "istio_gateway_release_name"),
    # -- auth (mesh_auth) -----------------------------------------------------------------------------
    _c("auth", "provider-type", dict(_AUTH, **{"mesh_auth.provider.type": "grpc"}), "mesh_auth.provider.type"),
    _c("auth", "provider-port", dict(_AUTH, **{"mesh_auth.provider.port": 70000}), "mesh_auth.provider.port"),
    _c("auth", "provider-timeout", dict(_AUTH, **{"mesh_auth.provider.timeout": "2 seconds"}),
       "mesh_auth.provider.timeout"),
    _c("auth", "provider-service", dict(_AUTH, **{"mesh_auth.provider.service": "auth-api.example.com"}),
       "mesh_auth.provider.service"),
    _c("auth", "jwks-uri", dict(_AUTH, **{"mesh_auth.jwt[0].jwks_uri": "auth-api:8000/jwks"}), "mesh_auth.jwt[0].jwks_uri"),
    _c("auth", "protected-paths", dict(_AUTH, **{"mesh_auth.protected_paths": ["api/v1/*"]}),
       "mesh_auth.protected_paths[0]"),
    _c("auth", "unknown-domain", dict(_AUTH, **{"mesh_auth.domains": {"billing": {}}}), "mesh_auth.domains.billing"),
    _c("auth", "cookie-to-header", dict(_AUTH, **{"mesh_auth.cookie_to_header": "off"}), "mesh_auth.cookie_to_header"),
    _c("auth", "hosts-string", dict(_AUTH, **{"mesh_auth.hosts": "api"}), "mesh_auth.hosts"),
    _c("auth", "enabled-string", {"mesh_auth_enabled": "yes please"}, "mesh_auth_enabled"),
    # -- Istio role variables -------------------------------------------------------------------------
    _c("istio", "version-1.25", {"istio_version": "1.25.0"}, "istio_version"),
    _c("istio", "version-latest", {"istio_version": "latest"}, "istio_version"),
    _c("istio", "istiod-version-1.23", {"istiod_version": "1.23.4"}, "istiod_version"),
    _c("istio", "gateway-version-2", {"istio_gateway_version": "2.0.0"}, "istio_gateway_version"),
    _c("istio", "base-version-no-patch", {"istio_base_version": "1.24"}, "istio_base_version"),
    _c("istio", "istiod-memory-MB", {"istiod_resources": {"requests": {"cpu": "100m", "memory": "512MB"}}},
       "istiod_resources.requests.memory"),
    _c("istio", "istiod-resources-section", {"istiod_resources": {"request": {"cpu": "100m"}}}, "istiod_resources.request"),
    _c("istio", "gateway-cpu-space", {"istio_gateway_resources": {"limits": {"cpu": "100 m"}}},
       "istio_gateway_resources.limits.cpu"),
    _c("istio", "gateway-memory-GB", {"istio_gateway_resources": {"requests": {"memory": "1GB"}}},
       "istio_gateway_resources.requests.memory"),
    _c("istio", "gateway-hpa-min-gt-max", {"istio_gateway_autoscaling_min": 6}, "istio_gateway_autoscaling_min"),
    _c("istio", "istiod-hpa-min-gt-max", {"istiod_autoscale_min": 3, "istiod_autoscale_max": 2}, "istiod_autoscale_min"),
    _c("istio", "service-port-duplicate",
       {"istio_gateway_service_ports": _PORTS + [{"name": "http", "port": 80, "targetPort": 8080}]},
       "istio_gateway_service_ports[2].port"),
    _c("istio", "service-port-name-duplicate",
       {"istio_gateway_service_ports": _PORTS + [{"name": "http2", "port": 443, "targetPort": 443}]},
       "istio_gateway_service_ports[2].name"),
    _c("istio", "service-port-name-long",
       {"istio_gateway_service_ports": [{"name": "http2-port-too-long", "port": 80}]}, "istio_gateway_service_ports[0].name"),
    _c("istio", "service-port-protocol", {"istio_gateway_service_ports": [{"name": "http2", "port": 80, "protocol": "HTTP"}]},
       "istio_gateway_service_ports[0].protocol"),
    _c("istio", "service-node-port-range",
       {"istio_gateway_service_ports": [{"name": "http2", "port": 80, "nodePort": 80}]},
       "istio_gateway_service_ports[0].nodePort"),
    _c("istio", "service-port-no-name", {"istio_gateway_service_ports": [{"port": 80}]}, "istio_gateway_service_ports"),
    _c("istio", "gateway-node-selector-float", {"istio_gateway_node_selector": {"role": 1.1}},
       "istio_gateway_node_selector.role"),
    _c("istio", "istiod-node-selector-key", {"istiod_node_selector": {"node-role.kubernetes.io/control-plane/x": ""}},
       "istiod_node_selector.node-role.kubernetes.io/control-plane/x"),
    _c("istio", "gateway-labels-float", {"istio_gateway_labels": {"version": 1.10}}, "istio_gateway_labels.version"),
    _c("istio", "gateway-selector-int", {"istio_gateway_selector": {"istio": 1}}, "istio_gateway_selector.istio"),
    _c("istio", "istiod-replicas-zero", {"istiod_replicas": 0}, "istiod_replicas"),
    _c("istio", "istiod-replicas-word", {"istiod_replicas": "two"}, "istiod_replicas"),
    _c("istio", "gateway-replicas-negative", {"istio_gateway_replicas": -1}, "istio_gateway_replicas"),
    _c("istio", "gateway-service-type", {"istio_gateway_service_type": "Nodeport"}, "istio_gateway_service_type"),
    _c("istio", "istiod-state", {"istiod_state": "installed"}, "istiod_state"),
    _c("istio", "istio-state", {"istio_state": "running"}, "istio_state"),
    _c("istio", "istio-namespace", {"istio_namespace": "Istio-System"}, "istio_namespace"),
    _c("istio", "istiod-release-name", {"istiod_release_name": "istiod_1"}, "istiod_release_name"),
    _c("istio", "chart-repo-url", {"istio_chart_repo_url": "charts.example"}, "istio_chart_repo_url"),
    _c("istio", "istiod-wait-timeout", {"istiod_wait_timeout": "5 minutes"}, "istiod_wait_timeout"),
    _c("istio", "gateway-toleration-operator", {"istio_gateway_tolerations": [{"key": "role", "operator": "Equals"}]},
       "istio_gateway_tolerations"),
    _c("istio", "istiod-toleration-float",
       {"istiod_tolerations": [{"key": "role", "operator": "Equal", "value": 1.1, "effect": "NoSchedule"}]},
       "istiod_tolerations[0].value"),
    _c("istio", "base-preflight-releases", {"istio_base_preflight_releases": ["istiod", "ingress"]},
       "istio_base_preflight_releases"),
    _c("istio", "istiod-extra-values-string", {"istiod_extra_values": "pilot: {replicaCount: 2}"}, "istiod_extra_values"),
    _c("istio", "gateway-pdb-string", {"istio_gateway_pdb": "yes"}, "istio_gateway_pdb"),
    _c("istio", "istiod-autoscale-string", {"istiod_autoscale_enabled": "sometimes"}, "istiod_autoscale_enabled"),
    _c("istio", "allow-unsupported-string", {"istio_allow_unsupported_version": "perhaps"},
       "istio_allow_unsupported_version"),
    # -- routing and NetworkPolicy role variables ----------------------------------------------------
    _c("bundles", "routing-force", {"mesh_routing_force": "please"}, "mesh_routing_force"),
    _c("bundles", "netpol-prune", {"mesh_network_policies_prune": "sometimes"}, "mesh_network_policies_prune"),
    _c("bundles", "routing-verify", {"mesh_routing_verify": "twice"}, "mesh_routing_verify"),
    # -- sidecar injection ----------------------------------------------------------------------------
    _c("injection", "namespace-upper", {"sidecar_injection_namespaces": ["Auth"]}, "sidecar_injection_namespaces[0]"),
    _c("injection", "revision", {"sidecar_injection_revision": "Rev_1"}, "sidecar_injection_revision"),
    _c("injection", "state", {"sidecar_injection_state": "enabled"}, "sidecar_injection_state"),
    _c("injection", "wait-delay", {"sidecar_injection_wait_delay": 0}, "sidecar_injection_wait_delay"),
    _c("injection", "restart-string", {"sidecar_injection_restart": "later"}, "sidecar_injection_restart"),
    # -- the inventory and the node join --------------------------------------------------------------
    _c("node_join", "join-hosts-typo", {"mesh_join_hosts": "ingress_gatway"}, "mesh_join_hosts"),
    _c("node_join", "join-hosts-one-typo", {"mesh_join_hosts": "ingress_gateway:gatway_nodes"}, "mesh_join_hosts"),
    _c("node_join", "join-hosts-empty", {"mesh_join_hosts": ""}, "mesh_join_hosts"),
    _c("node_join", "mode", {"node_join_mode": "ssh"}, "node_join_mode"),
    _c("node_join", "master-host", dict(_HOST_MODE, node_join_master_host="k8s-api-auth"), "node_join_master_host"),
    _c("node_join", "master-host-empty", dict(_HOST_MODE, node_join_master_host=""), "node_join_master_host"),
    _c("node_join", "node-label-float", {"node_profile_labels": {"role": "ingress-gateway", "version": 1.1}},
       GATEWAY_HOST + ": node_profile_labels.version"),
    _c("node_join", "node-label-key", {"node_profile_labels": {"a/b/c": "x"}}, GATEWAY_HOST + ": node_profile_labels.a/b/c"),
    _c("node_join", "node-label-reserved", {"node_profile_labels": {"kubernetes.io/role": "gateway"}},
       GATEWAY_HOST + ": node_profile_labels"),
    _c("node_join", "node-taint-effect", {"node_profile_taints": [{"key": "role", "value": "x", "effect": "NoScheduled"}]},
       GATEWAY_HOST + ": node_profile_taints[0].effect"),
    _c("node_join", "provider-id", {"node_provider_id": "i-0123456789abcdef0"}, GATEWAY_HOST + ": node_provider_id"),
    _c("node_join", "ready-timeout", {"node_join_ready_timeout": "soon"}, "node_join_ready_timeout"),
    _c("node_join", "use-imds", {"node_join_use_imds": "maybe"}, "node_join_use_imds"),
    _c("node_join", "repair", {"node_join_repair": "often"}, "node_join_repair"),
    _c("inventory", "no-ingress-gateway-group", {}, "inventory group [ingress_gateway]", inventory="no_gateway"),
    _c("inventory", "no-masters-group", dict(_HOST_MODE), "node_join_master_group", inventory="no_masters"),
    _c("inventory", "no-k8s-cluster-group", dict(_AWS), "verify_aws_hosts_group", inventory="no_masters"),
    # -- AWS verification -----------------------------------------------------------------------------
    _c("aws", "region", dict(_AWS, verify_aws_region="Seoul"), "verify_aws_region"),
    _c("aws", "endpoint-url", dict(_AWS, verify_aws_endpoint_url="localhost:5000"), "verify_aws_endpoint_url"),
    _c("aws", "alb-interval", dict(_AWS, verify_aws_alb_interval=0), "verify_aws_alb_interval"),
    _c("aws", "hosts-group", dict(_AWS, verify_aws_hosts_group="k8s_clustr"), "verify_aws_hosts_group"),
    _c("aws", "target-group", dict(_AWS, verify_aws_target_hosts_group="ingress"), "verify_aws_target_hosts_group"),
    _c("aws", "alb-timeout", dict(_AWS, verify_aws_alb_timeout=-1), "verify_aws_alb_timeout"),
    _c("aws", "max-attempts", dict(_AWS, verify_aws_max_attempts=0), "verify_aws_max_attempts"),
    _c("aws", "min-days", dict(_AWS, verify_aws_certificate_min_days="thirty"), "verify_aws_certificate_min_days"),
    _c("aws", "connect-timeout", dict(_AWS, verify_aws_connect_timeout=0), "verify_aws_connect_timeout"),
    _c("aws", "dual-stack", dict(_AWS, verify_aws_dual_stack="ipv6"), "verify_aws_dual_stack"),
    _c("aws", "fail-string", dict(_AWS, verify_aws_fail="no way"), "verify_aws_fail"),
    _c("aws", "verify-enabled-string", {"verify_aws_enabled": "sure"}, "verify_aws_enabled"),
    _c("aws", "aws-region", dict(_AWS, aws_region="ap-northeast"), "aws_region"),
    # -- the GitOps export (playbooks/gitops.yml) ----------------------------------------------------
    _c("gitops", "repo-url", {"gitops_export_repo_url": "not a url"}, "gitops_export_repo_url", playbook="gitops"),
    _c("gitops", "environment", {"inventory_environment": "Local Env"}, "inventory_environment", playbook="gitops"),
    _c("gitops", "destination", {"gitops_export_destination_server": "kubernetes.default.svc"},
       "gitops_export_destination_server", playbook="gitops"),
    _c("gitops", "argocd-namespace", {"gitops_export_argocd_namespace": "Argo"}, "gitops_export_argocd_namespace",
       playbook="gitops"),
    _c("gitops", "repo-path", {"gitops_export_repo_path": "/abs/path"}, "gitops_export_repo_path", playbook="gitops"),
    _c("gitops", "no-export-dir", {"mesh_gitops_dir": DELETE}, "mesh_gitops_dir", playbook="gitops"),
    _c("gitops", "spec-in-export", {"mesh_gateway.protocol": "HTTP3"}, "mesh_gateway.protocol", playbook="gitops"),
]

# What the gitops playbook needs besides the inventory (the cases change or remove these).
GITOPS_VARS = {"mesh_gitops_dir": "{tmp}/export", "gitops_export_repo_url": "https://git.example.invalid/eco2/gitops.git"}

_STEP = re.compile(r"\.?([^.\[\]]+)|\[(\d+)\]")


def _steps(path):
    """'mesh_domains[2].hosts' -> ['mesh_domains', 2, 'hosts']; a top-level name may hold dots only after it."""
    steps = []
    for name, index in _STEP.findall(path):
        steps.append(int(index) if index else name)
    return steps


def apply(variables, changes):
    """A deep copy of `variables` with each change set (or removed with DELETE)."""
    out = copy.deepcopy(variables)
    for path, value in changes.items():
        steps = _steps(path)
        node = out
        for step in steps[:-1]:
            if isinstance(step, str) and step not in node:
                node[step] = {}
            node = node[step]
        if value is DELETE:
            node.pop(steps[-1], None)
        else:
            node[steps[-1]] = copy.deepcopy(value)
    return out


def top_names(case):
    return {_steps(path)[0] for path in case.changes}


def batches(cases, size=40):
    """Groups of cases that can share one run: the same playbook and inventory, no two changing one path apart."""
    out = []
    for case in cases:
        for batch in out:
            if len(batch) >= size or (batch[0].playbook, batch[0].inventory) != (case.playbook, case.inventory):
                continue
            if all(_compatible(case, other) for other in batch):
                batch.append(case)
                break
        else:
            out.append([case])
    return out


def _compatible(a, b):
    for pa, va in a.changes.items():
        for pb, vb in b.changes.items():
            if pa == pb and va is not vb and va != vb:
                return False
            if pa != pb and (pb.startswith(pa + ".") or pb.startswith(pa + "[")
                             or pa.startswith(pb + ".") or pa.startswith(pb + "[")):
                return False
    names_a, names_b = top_names(a), top_names(b)
    return not any(names_b & set(DEPENDS.get(n, ())) for n in names_a) and \
        not any(names_a & set(DEPENDS.get(n, ())) for n in names_b)


# A variable whose check needs another one intact: a broken domain hides the flows to it, a typo in
# mesh_join_hosts the hosts whose profiles would be checked, a role's own version the shared istio_version.
DEPENDS = {
    "mesh_flows": ("mesh_domains",), "mesh_peers": ("mesh_domains",), "mesh_auth": ("mesh_domains",),
    "istio_version": ("istio_base_version", "istiod_version", "istio_gateway_version"),
    "node_profile_labels": ("mesh_join_hosts",), "node_profile_taints": ("mesh_join_hosts",),
    "node_provider_id": ("mesh_join_hosts",),
}


def inventory_variant(name, dest, repo):
    """A copy of inventory/local (links resolved) without the group the variant is named after."""
    src = Path(repo) / "inventory/local"
    dest = Path(dest)
    shutil.copytree(src, dest, symlinks=False)
    drop = {"no_gateway": "ingress_gateway", "no_masters": "masters"}[name]
    lines, skip = [], False
    for line in (src / "hosts").read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            skip = stripped == "[%s]" % drop
            if name == "no_masters" and stripped == "[k8s_cluster:children]":
                skip = True  # and the group verify_aws looks hosts up in
        elif stripped == drop:
            continue
        if not skip:
            lines.append(line)
    (dest / "hosts").write_text("\n".join(lines) + "\n")
    return dest


def inventory_facts(inventory, names, list_inventory):
    """(variables of the play on localhost, groups -> all their hosts, hostvars) of an inventory.

    `list_inventory` is tests.lib.ansible_run.inventory_list (the real ansible-inventory); the play's variables
    are the group_vars/all ones every host has, restricted to `names`.
    """
    data = list_inventory(str(inventory))
    hostvars = data.get("_meta", {}).get("hostvars", {})

    def members(group, seen=()):
        entry = data.get(group) or {}
        hosts = list(entry.get("hosts") or [])
        for child in entry.get("children") or []:
            if child not in seen:
                hosts += [h for h in members(child, seen + (group,)) if h not in hosts]
        return hosts

    groups = {g: members(g) for g in data if g != "_meta"}
    groups["all"] = sorted(hostvars)
    any_host = hostvars[groups["masters"][0]] if groups.get("masters") else next(iter(hostvars.values()))
    common = {k: v for k, v in any_host.items() if all(k in hv and hv[k] == v for hv in hostvars.values())}
    variables = {k: v for k, v in common.items() if k in names}
    return variables, groups, hostvars
