# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mesh spec: inventory variables -> one validated, normalised model.

The spec is a set of separate top-level inventory variables (group_vars do not
deep-merge, so an environment file overrides a whole variable):

    mesh_zone, mesh_public_hosts, mesh_domains, mesh_platform_routes, mesh_flows,
    mesh_alb, mesh_alb_certificate_arn, mesh_external_dns, mesh_gateway,
    mesh_gateway_extra_hosts, mesh_gateway_selector, mesh_gateway_service,
    mesh_gateway_pod_labels, istio_gateway_release_name, mesh_health_check_route,
    mesh_network_policy_default_deny, mesh_istiod, mesh_dns, mesh_peers,
    mesh_network_policy_acknowledged_denials, mesh_auth, mesh_auth_enabled,
    mesh_mtls_mode, mesh_mtls, mesh_mtls_enabled, mesh_telemetry, mesh_telemetry_enabled, mesh_ui_routes

`build_spec(variables)` takes a dict keyed by those names (a missing or None
value means "use the default") and returns the normalised model, or raises
MeshSpecError listing every problem with the variable path and allowed values,
e.g. ``mesh_flows[0].protocol: 'TPC' is not one of TCP, UDP, SCTP``.
"""
from __future__ import annotations

import copy

from ansible_collections.eco2.mesh.plugins.module_utils import istio_helm
from ansible_collections.eco2.mesh.plugins.module_utils.mesh_spec_schema import SPEC_OPTIONS
from ansible_collections.eco2.mesh.plugins.module_utils.node_profile import label_key_problem
from ansible_collections.eco2.mesh.plugins.module_utils.patterns import (
    ACM_CERTIFICATE_ARN, ALB_GROUP_NAME, CIDR, DNS1035_LABEL, DNS1123_LABEL, HOST_OR_WILDCARD, LABEL_KEY, LABEL_VALUE,
    SUCCESS_CODES)
from ansible_collections.eco2.mesh.plugins.module_utils.sequences import unique_in_order

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "eco2.mesh"
BUNDLE_LABEL = "mesh.eco2.io/bundle"
FIELD_MANAGER = "eco2.mesh"
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

PROTOCOLS = ("TCP", "UDP", "SCTP")
SCHEMES = ("internet-facing", "internal")
TARGET_TYPES = ("instance", "ip")
BACKEND_PROTOCOLS = ("HTTP", "HTTPS")
# Gateway server protocols Istio accepts without TLS settings (the generated Gateway carries none: TLS ends at the ALB).
GATEWAY_PROTOCOLS = ("HTTP", "HTTP2", "GRPC", "GRPC-WEB")
GATEWAY_TLS_PROTOCOLS = ("HTTPS", "TLS")

DEFAULT_ISTIOD_PORTS = [15010, 15012, 15014, 15017, 443]
ISTIOD_XDS_PORT = 15012  # xDS and certificates over TLS: no sidecar starts without it, whatever the spec says

DEFAULT_ALB = {
    "scheme": "internet-facing",
    "target_type": "instance",
    "listen_ports": [{"HTTPS": 443}],
    "certificate_arn": None,
    "group_name": "ecoeco-main",
    "group_order": 1,
    "backend_protocol": "HTTP",
    "healthcheck_path": "/healthz/ready",
    "healthcheck_port": "traffic-port",
    "success_codes": "200",
    "extra_annotations": {},
}

DEFAULT_GATEWAY = {
    "name": "eco2-gateway",
    "namespace": "istio-system",
    "port": 80,
    "port_name": "http",
    "protocol": "HTTP",
    "extra_hosts": [],
}

DEFAULT_PLATFORM_ROUTES = [
    {"name": "argocd", "namespace": "argocd", "service": "argocd-server", "port": 80},
    {"name": "grafana", "namespace": "grafana", "service": "grafana", "port": 80},
]

PEER_DIRECTIONS = ("egress", "ingress")
# What a meshed pod's sidecar serves besides the app: Envoy's merged metrics (15090),
# the agent's merged Prometheus endpoint (15020) and health (15021).
SIDECAR_PORTS = (15020, 15021, 15090)

DEFAULT_ISTIOD = {"namespace": "istio-system", "pod_labels": {"app": "istiod"}, "ports": list(DEFAULT_ISTIOD_PORTS)}
DEFAULT_DNS = {"namespace": "kube-system", "pod_labels": {"k8s-app": "kube-dns"}, "port": 53}


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


DEFAULT_GATEWAY_RELEASE = istio_helm.DEFAULT_RELEASES["gateway"]


def gateway_pod_labels_for_release(release):
    """Pod labels the Istio gateway chart derives from its release name."""
    return istio_helm.gateway_pod_labels(release or DEFAULT_GATEWAY_RELEASE)


def default_gateway_selector(release=None):
    """What the routing Gateway selects unless told otherwise: the chart's `istio` label of the release."""
    return {"istio": gateway_pod_labels_for_release(release)["istio"]}


# -- derivations of the validated model (pure; an empty model gives the defaults) --
def istiod_endpoint(spec):
    """Where sidecars reach istiod: {namespace, labels, ports}."""
    istiod = dict(DEFAULT_ISTIOD, **((spec or {}).get("istiod") or {}))
    ports = list(istiod["ports"]) + ([] if ISTIOD_XDS_PORT in istiod["ports"] else [ISTIOD_XDS_PORT])
    return {"namespace": istiod["namespace"], "labels": dict(istiod["pod_labels"]), "ports": ports}


def dns_endpoint(spec):
    """Where pods resolve names: {namespace, labels, port}."""
    dns = dict(DEFAULT_DNS, **((spec or {}).get("dns") or {}))
    return {"namespace": dns["namespace"], "labels": dict(dns["pod_labels"]), "port": dns["port"]}


def gateway_endpoint(spec):
    """The ingress gateway pods: {namespace, labels, release, service, selector}."""
    gw = (spec or {}).get("gateway") or {}
    release = gw.get("release") or DEFAULT_GATEWAY_RELEASE
    return {"namespace": gw.get("namespace", DEFAULT_GATEWAY["namespace"]),
            "labels": dict(gw.get("pod_labels") or gateway_pod_labels_for_release(release)),
            "release": release, "service": gw.get("service") or release,
            "selector": dict(gw.get("selector") or default_gateway_selector(release))}


def _fmt(value):
    return repr(value) if isinstance(value, str) else str(value)


class _Checker:
    def __init__(self):
        self.errors = []

    def err(self, path, msg):
        self.errors.append("%s: %s" % (path, msg))

    def str_(self, path, value, pattern=None, what=None, required=True):
        if value is None:
            if required:
                self.err(path, "is required")
            return None
        if not isinstance(value, str) or not value:
            self.err(path, "%s must be a non-empty string" % _fmt(value))
            return None
        if pattern is not None and not pattern.match(value):
            self.err(path, "%s is not a valid %s" % (_fmt(value), what or "value"))
            return None
        too_long = _length_problem(value, pattern)
        if too_long:
            self.err(path, "%s is not a valid %s: %s" % (_fmt(value), what or "value", too_long))
            return None
        return value

    def choice(self, path, value, choices, upper=False):
        if isinstance(value, str) and upper:
            value = value.upper() if value.upper() in choices else value
        if value not in choices:
            self.err(path, "%s is not one of %s" % (_fmt(value), ", ".join(choices)))
            return None
        return value

    def port(self, path, value):
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, str) and value.isdigit():
                value = int(value)
            else:
                self.err(path, "%s is not a port number (1-65535)" % _fmt(value))
                return None
        if not 1 <= value <= 65535:
            self.err(path, "%s is not a port number (1-65535)" % _fmt(value))
            return None
        return value

    def bool_(self, path, value, default):
        if value is None:
            return default
        if not isinstance(value, bool):
            self.err(path, "%s is not one of true, false" % _fmt(value))
            return default
        return value

    def labels(self, path, value, allow_empty=True):
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.err(path, "must be a mapping of label key to value")
            return {}
        out = {}
        for key, val in value.items():
            if not isinstance(key, str) or not LABEL_KEY.match(key):
                self.err("%s.%s" % (path, key), "%s is not a valid label key" % _fmt(key))
                continue
            if not isinstance(val, str) or not LABEL_VALUE.match(val):
                hint = "; quote it in YAML ('1.10' unquoted reads as 1.1)" if not isinstance(val, str) else ""
                self.err("%s.%s" % (path, key), "%s is not a valid label value (a string of at most 63 characters%s)"
                         % (_fmt(val), hint))
                continue
            out[key] = val
        if not out and not allow_empty:
            self.err(path, "must not be empty")
        return out

    def dict_(self, path, value, allowed_keys):
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.err(path, "must be a mapping")
            return {}
        for key in value:
            if key not in allowed_keys:
                self.err("%s.%s" % (path, key), "unknown key; allowed keys: %s" % ", ".join(sorted(allowed_keys)))
        return value

    def list_(self, path, value):
        if value is None:
            return []
        if not isinstance(value, list):
            self.err(path, "must be a list")
            return []
        return value

    def mappings(self, var, raw_list, keys, string_key=None):
        """(path, mapping) of each item of the list `var`; an item that is no mapping is reported and reads as {}.

        With `string_key`, an item given as a string stands for {string_key: item}.
        """
        for i, raw in enumerate(self.list_(var, raw_list)):
            path = "%s[%d]" % (var, i)
            yield path, self.dict_(path, {string_key: raw} if string_key and isinstance(raw, str) else raw, keys)

    def named(self, var, raw_list, keys, taken, strings=False):
        """(path, item, name) of each mapping of `var` whose name is valid and not yet in `taken` (which grows)."""
        for path, raw in self.mappings(var, raw_list, keys, "name" if strings else None):
            name = self.str_(path + ".name", raw.get("name"), DNS1123_LABEL, "DNS-1123 label")
            if name and self.claim(path + ".name", name, taken):
                yield path, raw, name

    def claim(self, path, name, taken, taken_msg="%r is declared twice"):
        """Add `name` to `taken` and say True; an error instead when it is there already."""
        if name in taken:
            self.err(path, taken_msg % (name,))
            return False
        taken.append(name)
        return True

    def prefix(self, path, value):
        if not isinstance(value, str) or not value.startswith("/"):
            self.err(path, "%s must be a URI path prefix starting with '/'" % _fmt(value))
            return None
        return value


def _length_problem(value, pattern):
    """DNS names: a label has at most 63 characters, a name at most 253."""
    if pattern in (DNS1123_LABEL, DNS1035_LABEL) and len(value) > 63:
        return "%d characters, at most 63" % len(value)
    if pattern is HOST_OR_WILDCARD:
        if len(value) > 253:
            return "%d characters, at most 253" % len(value)
        longest = max(value.split("."), key=len)
        if len(longest) > 63:
            return "the label %r has %d characters, at most 63" % (longest[:20] + "...", len(longest))
    return None


def _gateway_port(c, gateway):
    """Istio's rules for the Gateway server the routing bundle generates."""
    protocol = gateway["protocol"]
    if protocol in GATEWAY_TLS_PROTOCOLS:
        c.err("mesh_gateway.protocol", "%r needs TLS settings, which the generated Gateway does not carry (TLS ends at "
              "the ALB); use one of %s" % (protocol, ", ".join(GATEWAY_PROTOCOLS)))
    else:
        c.choice("mesh_gateway.protocol", protocol, GATEWAY_PROTOCOLS)
    c.str_("mesh_gateway.port_name", gateway["port_name"], what="port name")


def _annotations(c, path, annotations):
    for key, value in annotations.items():
        problem = label_key_problem(key)
        if problem:
            c.err("%s.%s" % (path, key), "invalid annotation key: %s" % problem)
        # Integers are written as their digits; a float would lose them (1.10 -> '1.1').
        if isinstance(value, (float, dict, list)):
            c.err("%s.%s" % (path, key), "%s must be a string (quote it in YAML) or null" % _fmt(value))


def build_spec(variables, whole=True):
    """Validate and normalise the mesh inventory variables. Raises MeshSpecError.

    whole=False: for a role that reads only parts of the spec (istiod, the gateway) the zone, the domains and the
    certificate are not required; whatever is set is still checked.
    """
    v = {k: val for k, val in (variables or {}).items() if val is not None}
    c = _Checker()

    zone = c.str_("mesh_zone", v.get("mesh_zone"), HOST_OR_WILDCARD, "DNS zone (e.g. dev.growbin.app)", required=whole)
    zone = zone or "invalid.zone"

    # -- gateway identity ------------------------------------------------
    gw_in = c.dict_("mesh_gateway", v.get("mesh_gateway"), set(DEFAULT_GATEWAY))
    gateway = dict(DEFAULT_GATEWAY)
    gateway.update(gw_in)
    c.str_("mesh_gateway.name", gateway["name"], DNS1123_LABEL, "object name")
    c.str_("mesh_gateway.namespace", gateway["namespace"], DNS1123_LABEL, "namespace name")
    gateway["port"] = c.port("mesh_gateway.port", gateway["port"]) or 80
    _gateway_port(c, gateway)
    extra_hosts = v.get("mesh_gateway_extra_hosts", gateway.get("extra_hosts"))
    extra_hosts = c.list_("mesh_gateway_extra_hosts", extra_hosts)
    for i, host in enumerate(extra_hosts):
        c.str_("mesh_gateway_extra_hosts[%d]" % i, host, HOST_OR_WILDCARD, "host name or wildcard")
    gateway["extra_hosts"] = [h for h in extra_hosts if isinstance(h, str)]
    gateway["ref"] = "%s/%s" % (gateway["namespace"], gateway["name"])

    release = v.get("istio_gateway_release_name") or DEFAULT_GATEWAY_RELEASE
    c.str_("istio_gateway_release_name", release, DNS1123_LABEL, "Helm release name")
    selector = v.get("mesh_gateway_selector", default_gateway_selector(release if isinstance(release, str) else None))
    gateway["selector"] = c.labels("mesh_gateway_selector", selector, allow_empty=False)
    gateway["service"] = c.str_("mesh_gateway_service", v.get("mesh_gateway_service", release), DNS1035_LABEL,
                                "Service name") or release
    if "mesh_gateway_pod_labels" in v:
        gateway["pod_labels"] = c.labels("mesh_gateway_pod_labels", v["mesh_gateway_pod_labels"], allow_empty=False)
    else:
        gateway["pod_labels"] = gateway_pod_labels_for_release(release)
    gateway["release"] = release

    # -- public hosts ----------------------------------------------------
    api_host = "api.%s" % zone

    # -- domains ---------------------------------------------------------
    domains = []
    names = []
    default_deny = c.bool_("mesh_network_policy_default_deny", v.get("mesh_network_policy_default_deny"), False)
    if "mesh_domains" not in v and whole:
        c.err("mesh_domains", "is required (a list of {name, namespace, service, port, prefixes})")
    domain_keys = {"name", "namespace", "service", "port", "prefixes", "routes", "hosts", "meshed",
                   "pod_labels", "default_deny", "gateways"}
    for path, raw, name in c.named("mesh_domains", v.get("mesh_domains"), domain_keys, names, strings=True):
        ns = c.str_(path + ".namespace", raw.get("namespace", name), DNS1123_LABEL, "namespace name") or name
        svc = c.str_(path + ".service", raw.get("service", "%s-api" % name), DNS1035_LABEL, "Service name") or name
        port = c.port(path + ".port", raw.get("port", 8000)) or 8000
        prefixes = c.list_(path + ".prefixes", raw.get("prefixes", ["/api/v1/%s" % name]))
        prefixes = [p for j, p in enumerate(prefixes) if c.prefix("%s.prefixes[%d]" % (path, j), p)]
        routes = []
        for rpath, route in c.mappings(path + ".routes", raw.get("routes"), {"prefix", "service", "namespace", "port"}):
            prefix = c.prefix(rpath + ".prefix", route.get("prefix"))
            rsvc = c.str_(rpath + ".service", route.get("service", svc), DNS1035_LABEL, "Service name")
            rns = c.str_(rpath + ".namespace", route.get("namespace", ns), DNS1123_LABEL, "namespace name")
            rport = c.port(rpath + ".port", route.get("port", port))
            if prefix and rsvc and rns and rport:
                routes.append({"prefix": prefix, "service": rsvc, "namespace": rns, "port": rport})
        for prefix in prefixes:
            routes.append({"prefix": prefix, "service": svc, "namespace": ns, "port": port})
        if not routes:
            c.err(path + ".prefixes", "a domain needs at least one prefix or route")
        hosts = c.list_(path + ".hosts", raw.get("hosts", [api_host]))
        for j, host in enumerate(hosts):
            c.str_("%s.hosts[%d]" % (path, j), host, HOST_OR_WILDCARD, "host name or wildcard")
        if "hosts" in raw and not hosts:
            c.err(path + ".hosts", "must list at least one host (Istio refuses a VirtualService without hosts)")
        gateways = c.list_(path + ".gateways", raw.get("gateways", [gateway["ref"]]))
        domains.append({
            "name": name,
            "namespace": ns,
            "service": svc,
            "port": port,
            "routes": routes,
            "hosts": [h for h in hosts if isinstance(h, str)],
            "gateways": [g for g in gateways if isinstance(g, str)],
            "meshed": c.bool_(path + ".meshed", raw.get("meshed"), True),
            "pod_labels": c.labels(path + ".pod_labels", raw.get("pod_labels")),
            "default_deny": c.bool_(path + ".default_deny", raw.get("default_deny"), default_deny),
        })

    # -- platform routes -------------------------------------------------
    platform = []
    raw_platform = v.get("mesh_platform_routes", DEFAULT_PLATFORM_ROUTES)
    pnames = []
    keys = {"name", "host", "namespace", "service", "port", "prefix"}
    for path, raw, name in c.named("mesh_platform_routes", raw_platform, keys, pnames):
        platform.append({
            "name": name,
            "host": c.str_(path + ".host", raw.get("host", "%s.%s" % (name, zone)), HOST_OR_WILDCARD, "host name") or name,
            "namespace": c.str_(path + ".namespace", raw.get("namespace", name), DNS1123_LABEL, "namespace name") or name,
            "service": c.str_(path + ".service", raw.get("service", name), DNS1035_LABEL, "Service name") or name,
            "port": c.port(path + ".port", raw.get("port", 80)) or 80,
            "prefix": c.prefix(path + ".prefix", raw.get("prefix", "/")) or "/",
        })
    # imported here: mesh_ui builds on this module
    from ansible_collections.eco2.mesh.plugins.module_utils.mesh_ui import ui_routes
    platform += ui_routes(c, v.get("mesh_ui_routes"), zone, pnames)

    # -- public hosts ----------------------------------------------------
    if "mesh_public_hosts" in v:
        public = c.list_("mesh_public_hosts", v["mesh_public_hosts"])
        for i, host in enumerate(public):
            c.str_("mesh_public_hosts[%d]" % i, host, HOST_OR_WILDCARD, "host name")
        public = [h for h in public if isinstance(h, str)]
    else:
        public = [api_host] + [p["host"] for p in platform]
        for d in domains:
            public += [h for h in d["hosts"] if "*" not in h]
    public = unique_in_order(public)

    # -- flows -----------------------------------------------------------
    by_name = {d["name"]: d for d in domains}
    flows = []
    for path, raw in c.mappings("mesh_flows", v.get("mesh_flows"), {"from", "to", "port", "protocol"}):
        ends = {}
        for end in ("from", "to"):
            val = raw.get(end)
            if not isinstance(val, str) or val not in by_name:
                c.err("%s.%s" % (path, end), "%s is not one of %s" % (_fmt(val), ", ".join(names) or "(no domains)"))
            else:
                ends[end] = by_name[val]
        proto = c.choice(path + ".protocol", raw.get("protocol", "TCP"), PROTOCOLS, upper=False)
        port = None
        if "to" in ends:
            port = c.port(path + ".port", raw.get("port", ends["to"]["port"]))
        if len(ends) == 2 and proto and port:
            if ends["from"]["namespace"] == ends["to"]["namespace"]:
                c.err(path, "from and to are the same namespace %r; flows are cross-namespace" % ends["to"]["namespace"])
                continue
            flows.append({"from": ends["from"]["name"], "to": ends["to"]["name"],
                          "from_namespace": ends["from"]["namespace"], "to_namespace": ends["to"]["namespace"],
                          "port": port, "protocol": proto})

    # -- ALB -------------------------------------------------------------
    alb_in = c.dict_("mesh_alb", v.get("mesh_alb"), set(DEFAULT_ALB))
    alb = copy.deepcopy(DEFAULT_ALB)
    alb.update(alb_in)
    if v.get("mesh_alb_certificate_arn") is not None:
        alb["certificate_arn"] = v["mesh_alb_certificate_arn"]
    c.choice("mesh_alb.scheme", alb["scheme"], SCHEMES)
    c.choice("mesh_alb.target_type", alb["target_type"], TARGET_TYPES)
    c.choice("mesh_alb.backend_protocol", alb["backend_protocol"], BACKEND_PROTOCOLS)
    listen = c.list_("mesh_alb.listen_ports", alb["listen_ports"])
    https = False
    for i, item in enumerate(listen):
        if not isinstance(item, dict) or len(item) != 1:
            c.err("mesh_alb.listen_ports[%d]" % i, "must be a one-key mapping like {HTTPS: 443}")
            continue
        (proto, port), = item.items()
        c.choice("mesh_alb.listen_ports[%d]" % i, proto, ("HTTP", "HTTPS"))
        c.port("mesh_alb.listen_ports[%d].%s" % (i, proto), port)
        https = https or proto == "HTTPS"
    if not listen:
        c.err("mesh_alb.listen_ports", "must list at least one listener, e.g. [{HTTPS: 443}]")
    if https or alb["certificate_arn"] is not None:
        c.str_("mesh_alb_certificate_arn", alb["certificate_arn"], ACM_CERTIFICATE_ARN,
               "ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>); set it per environment in mesh_env.yml",
               required=whole)
    c.str_("mesh_alb.group_name", alb["group_name"], ALB_GROUP_NAME, "ALB group name")
    if isinstance(alb["group_order"], bool) or not isinstance(alb["group_order"], int) or not 1 <= alb["group_order"] <= 1000:
        c.err("mesh_alb.group_order", "%s is not an integer between 1 and 1000" % _fmt(alb["group_order"]))
    c.prefix("mesh_alb.healthcheck_path", alb["healthcheck_path"])
    hc_port = alb["healthcheck_port"]
    if hc_port != "traffic-port":
        hc_port = c.port("mesh_alb.healthcheck_port", hc_port)
        alb["healthcheck_port"] = hc_port
    if not isinstance(alb["success_codes"], str):
        alb["success_codes"] = str(alb["success_codes"])
    if not SUCCESS_CODES.match(alb["success_codes"]):
        c.err("mesh_alb.success_codes", "%r is not a list of HTTP codes like '200' or '200,204' or '200-299'"
              % alb["success_codes"])
    if not isinstance(alb["extra_annotations"], dict):
        c.err("mesh_alb.extra_annotations", "must be a mapping of annotation to string (null removes one)")
        alb["extra_annotations"] = {}
    _annotations(c, "mesh_alb.extra_annotations", alb["extra_annotations"])

    health_route = c.bool_("mesh_health_check_route", v.get("mesh_health_check_route"), True)
    external_dns = c.bool_("mesh_external_dns", v.get("mesh_external_dns"), True)

    # -- istiod and DNS endpoints for the policies ------------------------
    istiod = copy.deepcopy(DEFAULT_ISTIOD)
    istiod.update(c.dict_("mesh_istiod", v.get("mesh_istiod"), set(DEFAULT_ISTIOD)))
    c.str_("mesh_istiod.namespace", istiod["namespace"], DNS1123_LABEL, "namespace name")
    istiod["pod_labels"] = c.labels("mesh_istiod.pod_labels", istiod["pod_labels"], allow_empty=False)
    ports = c.list_("mesh_istiod.ports", istiod["ports"])
    istiod["ports"] = [p for i, p in enumerate(ports) if c.port("mesh_istiod.ports[%d]" % i, p)]
    dns = copy.deepcopy(DEFAULT_DNS)
    dns.update(c.dict_("mesh_dns", v.get("mesh_dns"), set(DEFAULT_DNS)))
    c.str_("mesh_dns.namespace", dns["namespace"], DNS1123_LABEL, "namespace name")
    dns["pod_labels"] = c.labels("mesh_dns.pod_labels", dns["pod_labels"])
    dns["port"] = c.port("mesh_dns.port", dns["port"]) or 53

    peers = _peers(c, v.get("mesh_peers"), domains)
    acknowledged = _acknowledged(c, v.get("mesh_network_policy_acknowledged_denials"))

    # -- Gateway hosts: public hosts, extras, and what the ALB probe needs --
    gw_hosts = list(public) + gateway["extra_hosts"]
    if health_route and alb["healthcheck_port"] == "traffic-port":
        # The ALB probes the target with Host = its IP: only '*' matches that.
        gw_hosts.append("*")
    gateway["hosts"] = unique_in_order(gw_hosts)

    # imported here: mesh_auth builds on this module
    from ansible_collections.eco2.mesh.plugins.module_utils.mesh_auth import auth_spec
    auth = auth_spec(c, v.get("mesh_auth"), c.bool_("mesh_auth_enabled", v.get("mesh_auth_enabled"), True),
                     domains, api_host)

    # imported here: both build on this module
    from ansible_collections.eco2.mesh.plugins.module_utils.mesh_mtls import mtls_spec
    from ansible_collections.eco2.mesh.plugins.module_utils.mesh_telemetry import telemetry_spec
    mtls = mtls_spec(c, v.get("mesh_mtls"), v.get("mesh_mtls_mode", "permissive"),
                     c.bool_("mesh_mtls_enabled", v.get("mesh_mtls_enabled"), True), domains, istiod["namespace"])
    telemetry = telemetry_spec(c, v.get("mesh_telemetry"),
                               c.bool_("mesh_telemetry_enabled", v.get("mesh_telemetry_enabled"), True),
                               istiod["namespace"], istiod)

    if c.errors:
        raise MeshSpecError(c.errors)
    return {
        "zone": zone,
        "api_host": api_host,
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


def _peers(c, raw_peers, domains):
    """mesh_peers: what the domains talk to besides each other (data stores, external APIs, scrapers)."""
    names, out = [], []
    meshed = [d["name"] for d in domains if d["meshed"]]
    for path, raw in c.mappings("mesh_peers", raw_peers, {"name", "direction", "namespace", "pod_labels", "cidr", "except",
                                                          "ports", "protocol", "domains"}):
        name = c.str_(path + ".name", raw.get("name"), DNS1123_LABEL, "DNS-1123 label")
        if not c.claim(path + ".name", name, names):
            continue
        direction = c.choice(path + ".direction", raw.get("direction", "egress"), PEER_DIRECTIONS)
        if ("namespace" in raw) == ("cidr" in raw):
            c.err(path, "needs exactly one of namespace (an in-cluster peer) or cidr (addresses outside the cluster)")
            continue
        peer = {"name": name, "direction": direction, "namespace": None, "pod_labels": {}, "cidr": None, "except": []}
        if "namespace" in raw:
            peer["namespace"] = c.str_(path + ".namespace", raw["namespace"], DNS1123_LABEL, "namespace name")
            peer["pod_labels"] = c.labels(path + ".pod_labels", raw.get("pod_labels"))
        else:
            peer["cidr"] = c.str_(path + ".cidr", raw["cidr"], CIDR, "CIDR like 0.0.0.0/0 or 10.0.0.0/16")
            peer["except"] = [e for j, e in enumerate(c.list_(path + ".except", raw.get("except")))
                              if c.str_("%s.except[%d]" % (path, j), e, CIDR, "CIDR")]
        ports = c.list_(path + ".ports", raw.get("ports"))
        if not ports:
            c.err(path + ".ports", "must list at least one port")
        peer["ports"] = [p for j, p in enumerate(ports) if c.port("%s.ports[%d]" % (path, j), p)]
        peer["protocol"] = c.choice(path + ".protocol", raw.get("protocol", "TCP"), PROTOCOLS)
        wanted = c.list_(path + ".domains", raw.get("domains", meshed))
        for j, d in enumerate(wanted):
            if d not in meshed:
                c.err("%s.domains[%d]" % (path, j), "%s is not one of %s" % (_fmt(d), ", ".join(meshed) or "(none)"))
        peer["domains"] = [d for d in wanted if d in meshed]
        out.append(peer)
    return out


def _acknowledged(c, raw):
    """Connections the user accepts to lose when the policies land: {from, to, port}; '*' matches any."""
    out = []
    for path, item in c.mappings("mesh_network_policy_acknowledged_denials", raw, {"from", "to", "port"}):
        ack = {}
        for end in ("from", "to"):
            val = item.get(end, "*")
            if not isinstance(val, str) or not (val in ("*", "external") or DNS1123_LABEL.match(val)):
                c.err("%s.%s" % (path, end), "%s is not a namespace name, 'external' or '*'" % _fmt(val))
            ack[end] = val
        port = item.get("port", "*")
        ack["port"] = port if port == "*" else c.port(path + ".port", port)
        out.append(ack)
    return out


# The spec's variables and their types, from the schema table (documentation there too); the defaults live in
# build_spec only.
SPEC_TYPES = {name: option["type"] for name, option in SPEC_OPTIONS.items()}
SPEC_VARIABLES = tuple(SPEC_TYPES)
