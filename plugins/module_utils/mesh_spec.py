# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mesh spec: inventory variables -> one validated, normalised model.

The spec is a set of separate top-level inventory variables (group_vars do not deep-merge, so an environment file
overrides a whole variable), each declared with its nested keys in mesh_spec_schema.SPEC (the reference:
docs/spec-reference.md).

`build_spec(variables)` takes a dict keyed by those names (a missing or None value means "use the default"), checks
it against the schema and returns the normalised model, or raises MeshSpecError listing every problem with the
variable path and allowed values, e.g. ``mesh_flows[0].protocol: 'TPC' is not one of TCP, UDP, SCTP``.
"""
from __future__ import annotations

from ansible_collections.eco2.mesh.plugins.module_utils.mesh_spec_schema import (
    DEFAULT_GATEWAY_RELEASE, PROTOCOLS, SPEC, SPEC_OPTIONS)
from ansible_collections.eco2.mesh.plugins.module_utils.mesh_spec_schema import gateway_pod_labels as gateway_pod_labels_for_release
from ansible_collections.eco2.mesh.plugins.module_utils.mesh_spec_schema import gateway_selector as default_gateway_selector
from ansible_collections.eco2.mesh.plugins.module_utils.schema import Checker, Scope, defaults, field
from ansible_collections.eco2.mesh.plugins.module_utils.sequences import unique_in_order

__all__ = ["PROTOCOLS", "default_gateway_selector"]  # re-exported for the phase checks and the Istio roles

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "eco2.mesh"
BUNDLE_LABEL = "mesh.eco2.io/bundle"
FIELD_MANAGER = "eco2.mesh"
# The digest of the object as we last applied it (bundle_engine): a re-run skips the dry run of an object
# that still carries it and every field we set.
APPLIED_ANNOTATION = "mesh.eco2.io/applied"
BUNDLES = ("network-policies", "routing", "mtls-telemetry")
# What each bundle may hold: listed for pruning even when the spec no longer yields one of them.
BUNDLE_KINDS = {
    "network-policies": [("networking.k8s.io/v1", "NetworkPolicy")],
    "routing": [("networking.istio.io/v1", "Gateway"), ("networking.istio.io/v1", "VirtualService"),
                ("networking.k8s.io/v1", "Ingress"),
                # auth offloading (mesh_auth) at the gateway
                ("security.istio.io/v1", "RequestAuthentication"), ("security.istio.io/v1", "AuthorizationPolicy"),
                ("networking.istio.io/v1alpha3", "EnvoyFilter")],
    # mTLS stages (mesh_mtls) and telemetry (mesh_telemetry); the monitors only where their CRDs are served
    "mtls-telemetry": [("security.istio.io/v1", "PeerAuthentication"), ("telemetry.istio.io/v1", "Telemetry"),
                       ("monitoring.coreos.com/v1", "PodMonitor"), ("monitoring.coreos.com/v1", "ServiceMonitor")],
}

# Istio's sidecar ports: Envoy's merged metrics (15090), the agent's merged Prometheus endpoint (15020), health (15021).
SIDECAR_PORTS = (15020, 15021, 15090)
ISTIOD_XDS_PORT = 15012  # xDS and certificates over TLS: no sidecar starts without it, whatever the spec says


class MeshSpecError(ValueError):
    """Invalid mesh spec; `errors` holds one message per problem."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("invalid mesh spec:\n  - " + "\n  - ".join(self.errors))


def managed_labels(bundle):
    if bundle not in BUNDLES:
        raise ValueError("bundle %r is not one of %s" % (bundle, ", ".join(BUNDLES)))
    return ownership_labels(bundle)


def ownership_labels(bundle):
    """The labels that make an object part of a bundle (and prunable with it)."""
    return {MANAGED_BY_LABEL: MANAGED_BY, BUNDLE_LABEL: bundle}


def bundle_selector(bundle):
    """Label selector string finding the objects of one bundle."""
    return "%s=%s,%s=%s" % (MANAGED_BY_LABEL, MANAGED_BY, BUNDLE_LABEL, bundle)


# -- derivations of the validated model (pure; an empty model gives the schema's defaults) --
def istiod_endpoint(spec):
    """Where sidecars reach istiod: {namespace, labels, ports}."""
    istiod = (spec or {}).get("istiod") or defaults(SPEC["mesh_istiod"])
    ports = list(istiod["ports"]) + ([] if ISTIOD_XDS_PORT in istiod["ports"] else [ISTIOD_XDS_PORT])
    return {"namespace": istiod["namespace"], "labels": dict(istiod["pod_labels"]), "ports": ports}


def dns_endpoint(spec):
    """Where pods resolve names: {namespace, labels, port}."""
    dns = (spec or {}).get("dns") or defaults(SPEC["mesh_dns"])
    return {"namespace": dns["namespace"], "labels": dict(dns["pod_labels"]), "port": dns["port"]}


def gateway_endpoint(spec):
    """The ingress gateway pods: {namespace, labels, release, service, selector}."""
    gw = (spec or {}).get("gateway") or {}
    release = gw.get("release") or DEFAULT_GATEWAY_RELEASE
    return {"namespace": gw.get("namespace", defaults(SPEC["mesh_gateway"])["namespace"]),
            "labels": dict(gw.get("pod_labels") or gateway_pod_labels_for_release(release)),
            "release": release, "service": gw.get("service") or release,
            "selector": dict(gw.get("selector") or default_gateway_selector(release))}


def public_hosts(zone, domains, platform):
    """api.<zone>, the platform routes' hosts, then the domains' hosts without a wildcard."""
    hosts = ["api.%s" % zone] + [p["host"] for p in platform]
    for d in domains:
        hosts += [h for h in d["hosts"] if "*" not in h]
    return hosts


def gateway_hosts(public, gateway, alb, health_route):
    """The Gateway's hosts: the public ones, the extras, and '*' for the ALB's probe (its Host is the target's IP)."""
    hosts = list(public) + gateway["extra_hosts"]
    if health_route and alb["healthcheck_port"] == "traffic-port":
        hosts.append("*")
    return unique_in_order(hosts)


def check_section(node, path, value):
    """One section checked on its own (no context: what it reads of the rest of the spec must not matter).
    Raises MeshSpecError."""
    c = Checker()
    checked = node.check(c, path, value, Scope({}))
    if c.errors:
        raise MeshSpecError(c.errors)
    return checked


def build_spec(variables, whole=True):
    """Validate and normalise the mesh inventory variables against the schema. Raises MeshSpecError.

    whole=False: for a role that reads only parts of the spec (istiod, the gateway) the zone, the domains and the
    certificate are not required; whatever is set is still checked.
    """
    v = {k: val for k, val in (variables or {}).items() if val is not None}
    c = Checker()
    context = {"whole": whole}
    scope = Scope(context)

    def var(name):
        context[name] = value = field(c, name, SPEC[name], v, name, scope)
        return value

    zone = var("mesh_zone") or "invalid.zone"
    context.update(zone=zone, api_host="api.%s" % zone)

    gateway = var("mesh_gateway")
    context["gateway_extra_hosts"] = gateway["extra_hosts"]
    gateway["extra_hosts"] = var("mesh_gateway_extra_hosts")
    gateway["ref"] = context["gateway_ref"] = "%s/%s" % (gateway["namespace"], gateway["name"])
    gateway["release"] = var("istio_gateway_release_name")
    gateway["selector"] = var("mesh_gateway_selector")
    gateway["service"] = var("mesh_gateway_service")
    gateway["pod_labels"] = var("mesh_gateway_pod_labels")

    default_deny = var("mesh_network_policy_default_deny")
    domains = var("mesh_domains")
    context.update(domains=domains, domain_by_name={d["name"]: d for d in domains},
                   port_of={d["name"]: d["port"] for d in domains},
                   meshed_domains=[d["name"] for d in domains if d["meshed"]])
    platform = var("mesh_platform_routes") + var("mesh_ui_routes")
    context["derived_public_hosts"] = public_hosts(zone, domains, platform)
    public = unique_in_order(var("mesh_public_hosts"))
    flows = var("mesh_flows")

    alb = var("mesh_alb")
    if "mesh_alb_certificate_arn" in v:
        alb["certificate_arn"] = v["mesh_alb_certificate_arn"]
    if any("HTTPS" in listener for listener in alb["listen_ports"]) or alb["certificate_arn"] is not None:
        certificate = SPEC["mesh_alb_certificate_arn"]
        alb["certificate_arn"] = certificate.check(c, "mesh_alb_certificate_arn", alb["certificate_arn"], scope)
    health_route = var("mesh_health_check_route")
    external_dns = var("mesh_external_dns")

    istiod = var("mesh_istiod")
    context["root_namespace"] = istiod["namespace"]
    dns = var("mesh_dns")
    peers = var("mesh_peers")
    acknowledged = var("mesh_network_policy_acknowledged_denials")
    gateway["hosts"] = gateway_hosts(public, gateway, alb, health_route)

    # imported here: these build on this module
    from ansible_collections.eco2.mesh.plugins.module_utils.mesh_auth import auth_spec
    from ansible_collections.eco2.mesh.plugins.module_utils.mesh_mtls import mtls_spec
    from ansible_collections.eco2.mesh.plugins.module_utils.mesh_telemetry import telemetry_spec
    # A section switched off is neither checked nor built: its objects and flows are pruned.
    auth = auth_spec(c, var("mesh_auth"), domains) if var("mesh_auth_enabled") else None
    mtls = mtls_spec(var("mesh_mtls_mode"), var("mesh_mtls"), istiod["namespace"]) if var("mesh_mtls_enabled") else None
    telemetry = telemetry_spec(var("mesh_telemetry"), istiod) if var("mesh_telemetry_enabled") else None

    if c.errors:
        raise MeshSpecError(c.errors)
    return {
        "zone": zone,
        "api_host": context["api_host"],
        "public_hosts": public,
        "gateway": gateway,
        "domains": domains,
        "platform_routes": platform,
        "flows": flows,
        "alb": alb,
        "external_dns": external_dns,
        "health_check_route": health_route,
        "istiod": istiod,
        "dns": dns,
        "default_deny": default_deny,
        "peers": peers,
        "acknowledged_denials": acknowledged,
        "auth": auth,
        "mtls": mtls,
        "telemetry": telemetry,
    }


# The spec's variables and their types, from the schema.
SPEC_TYPES = {name: option["type"] for name, option in SPEC_OPTIONS.items()}
SPEC_VARIABLES = tuple(SPEC_TYPES)
