# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pre-apply analysis of auth offloading (mesh_auth), run by mesh_analysis.analyze (pure).

Checks (error unless noted):
  auth-provider-unknown   a CUSTOM AuthorizationPolicy names a provider istiod's mesh config does not declare
                          (istiod then denies every request the policy matches)
  auth-service-missing    the ext_authz provider or an in-cluster JWKS Service, or its port, does not exist
  auth-flow-blocked       NetworkPolicies block gateway -> ext_authz or istiod -> JWKS
  auth-public-caught      the ALB health route or a public path is matched by a CUSTOM policy on the gateway
  auth-single-replica     (warning) failOpen false and at most one auth server replica

Context keys (read from the cluster by the mesh_analyze module; absent in render mode):
  istiod_mesh_config      istiod's mesh config (ConfigMap istio, key mesh), {} when the ConfigMap is missing
  auth_network_policies   every NetworkPolicy on the cluster (for the routing run)
  auth_replicas           ready-to-serve replicas of the Deployments behind the provider Service
"""
from __future__ import annotations

from ansible_collections.eco2.mesh.plugins.module_utils import mesh_netpol as netpol
from ansible_collections.eco2.mesh.plugins.module_utils.analysis_common import blocked_flows
from ansible_collections.eco2.mesh.plugins.module_utils.analysis_common import finding as _finding
from ansible_collections.eco2.mesh.plugins.module_utils.analysis_common import ref as _ref
from ansible_collections.eco2.mesh.plugins.module_utils.analysis_routing import PROBE_HOST
from ansible_collections.eco2.mesh.plugins.module_utils.mesh_auth import auth_flows


def _meta(obj):
    return obj.get("metadata") or {}


def _custom_policies(world):
    return [o for o in world.all if o.get("kind") == "AuthorizationPolicy"
            and (o.get("spec") or {}).get("action") == "CUSTOM"]


def check_provider_declared(world):
    config = world.context.get("istiod_mesh_config")
    if config is None:
        return []
    declared = [p.get("name") for p in config.get("extensionProviders") or [] if isinstance(p, dict)]
    out = []
    for pol in _custom_policies(world):
        name = ((pol.get("spec") or {}).get("provider") or {}).get("name")
        if name not in declared:
            out.append(_finding(
                "auth-provider-unknown", _ref(pol), "spec.provider.name",
                "CUSTOM policy names provider %r, which istiod's mesh config does not declare (declared: %s); "
                "istiod rejects the policy's ext_authz filter and the gateway denies every request it matches."
                % (name, ", ".join(d for d in declared if d) or "none"),
                "install istiod with the provider in its Helm values (eco2.mesh.istiod puts mesh_auth.provider into "
                "meshConfig.extensionProviders; an IstioOperator object is ignored by a Helm-installed istiod), then "
                "re-run"))
    return out


def _service_ports(svc):
    return [p.get("port") for p in (svc.get("spec") or {}).get("ports") or []]


def check_services(world):
    auth = world.spec.get("auth")
    if not auth or world.services is None:
        return []
    provider = auth["provider"]
    wanted = [("ext_authz provider %s" % provider["name"], provider["service_namespace"], provider["service_name"],
               provider["port"], "mesh_auth.provider")]
    for i, rule in enumerate(auth["jwt"]):
        if rule["jwks_service"]:
            j = rule["jwks_service"]
            wanted.append(("JWKS of issuer %s" % rule["issuer"], j["namespace"], j["service"], j["port"],
                           "mesh_auth.jwt[%d].jwks_uri" % i))
    out = []
    for what, ns, name, port, path in wanted:
        svc = world.services.get((ns, name))
        if svc is None:
            out.append(_finding(
                "auth-service-missing", "Service %s/%s" % (ns, name), "metadata.name",
                "%s: Service %s/%s does not exist; with failOpen false every protected request is denied."
                % (what, ns, name), "deploy the auth server first, or correct %s" % path))
        elif port not in _service_ports(svc):
            out.append(_finding(
                "auth-service-missing", "Service %s/%s" % (ns, name), "spec.ports",
                "%s: Service %s/%s has no port %s (ports: %s)."
                % (what, ns, name, port, ", ".join(str(p) for p in _service_ports(svc)) or "none"),
                "add port %s to the Service, or correct %s" % (port, path)))
    return out


def _pod(end, spec):
    labels = dict(end["pod_labels"])
    if not labels:
        provider = spec["auth"]["provider"]
        if end["namespace"] == provider["namespace"]:
            labels = {"app": provider["service_name"]}
    return {"namespace": end["namespace"], "labels": labels}


def _flow_findings(world, policies, where):
    out = []
    flows = auth_flows(world.spec)
    for flow, src, dst, blocked in blocked_flows(flows, lambda end: _pod(end, world.spec), policies, world.namespaces):
        what = ("gateway -> ext_authz %s/%s:%s" if flow["name"] == "ext-authz" else "istiod -> JWKS %s/%s:%s") % (
            dst["namespace"], flow["protocol"], flow["port"])
        out.append(_finding(
            "auth-flow-blocked", "Namespace %s" % dst["namespace"], "NetworkPolicy",
            "%s is blocked %s: %s; %s." % (what, where, "; ".join(blocked),
                                           "every protected request fails" if flow["name"] == "ext-authz"
                                           else "istiod cannot fetch the JWKS and every token is rejected"),
            "apply the network-policies bundle (wave 7), which opens both sides of this flow, before routing"))
    return out


def check_flows_live(world):
    """Routing run: the NetworkPolicies on the cluster now (the network-policies bundle lands earlier, wave 7)."""
    policies = world.context.get("auth_network_policies")
    if not world.spec.get("auth") or policies is None:
        return []
    return _flow_findings(world, policies, "by the NetworkPolicies on the cluster")


def check_flows_bundle(world):
    """NetworkPolicy run: the policies after the apply."""
    if not world.spec.get("auth"):
        return []
    policies = [o for o in world.all if o.get("kind") == "NetworkPolicy"]
    return _flow_findings(world, policies, "by the NetworkPolicies after this apply")


def _value_matches(pattern, value):
    if pattern == "*":
        return True
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    if pattern.startswith("*"):
        return value.endswith(pattern[1:])
    return pattern == value


def _field_matches(values, not_values, value):
    if values and not any(_value_matches(v, value) for v in values):
        return False
    return not any(_value_matches(v, value) for v in not_values or [])


def _operation_matches(op, host, path):
    hosts = [h.lower() for h in op.get("hosts") or []]
    not_hosts = [h.lower() for h in op.get("notHosts") or []]
    return (_field_matches(hosts, not_hosts, host.lower())
            and _field_matches(op.get("paths"), op.get("notPaths"), path))


def policy_matches(policy, host, path):
    """Whether an AuthorizationPolicy's rules match a request (rules with `from`/`when` count as matching)."""
    for rule in (policy.get("spec") or {}).get("rules") or []:
        tos = rule.get("to") or []
        if not tos or any(_operation_matches(t.get("operation") or {}, host, path) for t in tos):
            return True
    return False


def concrete_path(path):
    """A request path a path pattern matches: '/a/*' -> '/a/x'."""
    return path[:-1] + "x" if path.endswith("*") else path


def _on_gateway(policy, spec):
    gw = spec["gateway"]
    ns = _meta(policy).get("namespace")
    selector = ((policy.get("spec") or {}).get("selector") or {}).get("matchLabels")
    if ns not in (gw["namespace"], spec["istiod"]["namespace"]):
        return False
    return netpol.selector_matches({"matchLabels": selector or {}}, gw["pod_labels"])


def check_public_caught(world):
    spec = world.spec
    auth = spec.get("auth")
    if not auth:
        return []
    probes = []
    if spec.get("health_check_route"):
        probes.append(("the ALB health check", PROBE_HOST,
                       spec["alb"]["healthcheck_path"]))
    for path in auth["public_paths"]:
        probes += [("public path %s" % path, host, concrete_path(path)) for host in auth["hosts"]]
    out = []
    for pol in _custom_policies(world):
        if not _on_gateway(pol, spec):
            continue
        for what, host, path in probes:
            if policy_matches(pol, host, path):
                out.append(_finding(
                    "auth-public-caught", _ref(pol), "spec.rules",
                    "%s (Host %s, path %s) goes through ext_authz: without a token it is denied%s."
                    % (what, host, path, " and the ALB marks every target unhealthy"
                       if what.startswith("the ALB") else ""),
                    "narrow the policy's hosts/paths (mesh_auth.hosts, mesh_auth.protected_paths) or list the path "
                    "in mesh_auth.public_paths"))
    return out


def check_single_replica(world):
    auth = world.spec.get("auth")
    replicas = world.context.get("auth_replicas")
    if not auth or replicas is None or auth["provider"]["fail_open"] or replicas > 1:
        return []
    p = auth["provider"]
    return [_finding(
        "auth-single-replica", "Service %s/%s" % (p["service_namespace"], p["service_name"]), "spec.selector",
        "ext_authz provider %s fails closed (failOpen: false) and %d auth server replica(s) serve it: when the auth "
        "server is down or restarting, every protected API request is denied." % (p["name"], replicas),
        "run at least 2 replicas with a PodDisruptionBudget, or set mesh_auth.provider.fail_open for read-only paths",
        severity="warning")]


ROUTING_CHECKS = (check_provider_declared, check_services, check_flows_live, check_public_caught,
                  check_single_replica)
POLICY_CHECKS = (check_flows_bundle,)


def read_cluster(kube, spec, context, ours):
    """Fill the context keys above from the cluster (kube: module_utils.kube client). Returns {kind: count}."""
    import yaml  # istiod's mesh config is YAML; PyYAML comes with ansible-core on the controller

    read = {}
    policies = kube.list_objects("security.istio.io/v1", "AuthorizationPolicy")
    read["AuthorizationPolicy"] = len(policies)
    context["live"] = list(context.get("live") or []) + [o for o in policies if not ours(o)]
    context["live_ours"] = list(context.get("live_ours") or []) + [o for o in policies if ours(o)]
    netpols = kube.list_objects("networking.k8s.io/v1", "NetworkPolicy")
    read["NetworkPolicy"] = len(netpols)
    context["auth_network_policies"] = netpols
    config_map = kube.get_object("v1", "ConfigMap", "istio", spec["istiod"]["namespace"])
    mesh = yaml.safe_load(((config_map or {}).get("data") or {}).get("mesh") or "") or {}
    context["istiod_mesh_config"] = mesh if isinstance(mesh, dict) else {}
    provider = spec["auth"]["provider"]
    svc = kube.get_object("v1", "Service", provider["service_name"], provider["service_namespace"])
    selector = ((svc or {}).get("spec") or {}).get("selector")
    if selector:
        replicas = 0
        for dep in kube.list_objects("apps/v1", "Deployment", namespace=provider["service_namespace"]):
            labels = ((((dep.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels")) or {}
            if netpol.selector_matches({"matchLabels": selector}, labels):
                replicas += (dep.get("spec") or {}).get("replicas", 1)
        context["auth_replicas"] = replicas
    return read
