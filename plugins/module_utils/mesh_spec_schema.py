# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mesh spec's schema: every variable and nested key, its type, allowed values, default and documentation.

`SPEC` maps each inventory variable to its node (plugins/module_utils/schema.py); mesh_spec.build_spec checks
the variables against it, then derives the model. A derived default reads the scope: the enclosing item
(`name`, `service`, ...) or the context build_spec gives (`zone`, `api_host`, `domains`, ...).
scripts/sync_schema_docs.py writes the roles' argument specs (`SPEC_OPTIONS`) and docs/spec-reference.md
from it; tests/unit/plugins/test_argument_specs.py fails when they differ.
"""
from __future__ import annotations

from ansible_collections.eco2.mesh.plugins.module_utils import istio_helm
from ansible_collections.eco2.mesh.plugins.module_utils.mesh_ui import UI_SERVICES
from ansible_collections.eco2.mesh.plugins.module_utils.patterns import (
    ACM_CERTIFICATE_ARN, ALB_GROUP_NAME, CIDR, COOKIE_NAME, DECIMAL_DURATION, DNS1035_LABEL, DNS1123_LABEL,
    DNS1123_SUBDOMAIN, HEADER_NAME, HOST_OR_WILDCARD, HTTP_URL_PARTS, REQUEST_PATH, SERVICE_HOST, SUCCESS_CODES,
    TAG_NAME, WHOLE_DURATION)
from ansible_collections.eco2.mesh.plugins.module_utils.schema import (
    Bool, Choice, Custom, Derived, Dict, Either, Labels, List, Matching, Number, Port, Prefix, Raw, Str, fmt)

PROTOCOLS = ("TCP", "UDP", "SCTP")
SCHEMES = ("internet-facing", "internal")
TARGET_TYPES = ("instance", "ip")
BACKEND_PROTOCOLS = ("HTTP", "HTTPS")
LISTENER_PROTOCOLS = ("HTTP", "HTTPS")
# Gateway server protocols Istio accepts without TLS settings (the generated Gateway carries none: TLS ends at the ALB).
GATEWAY_PROTOCOLS = ("HTTP", "HTTP2", "GRPC", "GRPC-WEB")
GATEWAY_TLS_PROTOCOLS = ("HTTPS", "TLS")
PEER_DIRECTIONS = ("egress", "ingress")
PROVIDER_TYPES = ("envoyExtAuthzGrpc", "envoyExtAuthzHttp")
MTLS_MODES = ("permissive", "strict")
MTLS_EXCEPTION_MODES = ("permissive", "strict", "disable")
TRACING_TYPES = ("zipkin", "opentelemetry")
TAG_SOURCES = ("header", "literal", "environment")
DEFAULT_GATEWAY_RELEASE = istio_helm.DEFAULT_RELEASES["gateway"]
ISTIO_NAMESPACE = "istio-system"

NAMESPACE = dict(pattern=DNS1123_LABEL, what="namespace name")
SERVICE = dict(pattern=DNS1035_LABEL, what="Service name")
OBJECT_NAME = dict(pattern=DNS1123_LABEL, what="object name")
PROVIDER_NAME = dict(pattern=DNS1123_LABEL, what="provider name (DNS-1123 label)")
SERVICE_HOST_WHAT = "in-cluster Service host (<service>.<namespace>.svc.cluster.local)"


def gateway_pod_labels(release=None):
    """Pod labels the Istio gateway chart derives from its release name."""
    return istio_helm.gateway_pod_labels(release or DEFAULT_GATEWAY_RELEASE)


def gateway_selector(release=None):
    """What the routing Gateway selects unless told otherwise: the chart's `istio` label of the release."""
    return {"istio": gateway_pod_labels(release)["istio"]}


def _release(scope):
    release = scope.context.get("istio_gateway_release_name")
    return release if isinstance(release, str) else DEFAULT_GATEWAY_RELEASE


def svc_parts(host):
    """('auth-api', 'auth') from 'auth-api.auth.svc.cluster.local' (or 'auth-api.auth'); None otherwise."""
    parts = host.split(".")
    if len(parts) == 2 or (len(parts) >= 3 and parts[2] == "svc"):
        return parts[0], parts[1]
    return None


def _provider_post(c, path, p, scope):
    """The provider's Service host in full, and its name and namespace apart."""
    svc = p["service"]
    if svc:
        parts = svc_parts(svc)
        if not parts:
            c.err(path + ".service", "%r is not an in-cluster Service host (<service>.<namespace>.svc.cluster.local)"
                  % svc)
        else:
            p["service_name"], p["service_namespace"] = parts
            if p["namespace"] not in (None, parts[1]):
                c.err(path + ".namespace", "%r differs from the namespace %r of %s.service"
                      % (p["namespace"], parts[1], path))
            p["namespace"] = parts[1]
            p["service"] = "%s.%s.svc.cluster.local" % parts
    return p


_GATEWAY_PROTOCOL = Choice(GATEWAY_PROTOCOLS)
_LISTENER_PROTOCOL = Choice(LISTENER_PROTOCOLS)
_PORT = Port()


def _gateway_protocol(c, path, value, scope):
    if value in GATEWAY_TLS_PROTOCOLS:
        c.err(path, "%r needs TLS settings, which the generated Gateway does not carry (TLS ends at the ALB); use one "
              "of %s" % (value, ", ".join(GATEWAY_PROTOCOLS)))
        return None
    return _GATEWAY_PROTOCOL.check(c, path, value, scope)


def _listener(c, path, value, scope):
    if not isinstance(value, dict) or len(value) != 1:
        c.err(path, "must be a one-key mapping like {HTTPS: 443}")
        return None
    (proto, port), = value.items()
    known = _LISTENER_PROTOCOL.check(c, path, proto, scope)
    _PORT.check(c, "%s.%s" % (path, proto), port, scope)
    # kept with a bad port: an HTTPS listener still requires the certificate
    return {proto: port} if known else None


def _annotations(c, path, value, scope):
    # imported here: node_profile is the label-key rule's one home
    from ansible_collections.eco2.mesh.plugins.module_utils.node_profile import label_key_problem
    if not isinstance(value, dict):
        c.err(path, "must be a mapping of annotation to string (null removes one)")
        return {}
    for key, val in value.items():
        problem = label_key_problem(key)
        if problem:
            c.err("%s.%s" % (path, key), "invalid annotation key: %s" % problem)
        # Integers are written as their digits; a float would lose them (1.10 -> '1.1').
        if isinstance(val, (float, dict, list)):
            c.err("%s.%s" % (path, key), "%s must be a string (quote it in YAML) or null" % fmt(val))
    return value


def _custom_tags(c, path, value, scope):
    if not isinstance(value, dict):
        c.err(path, "must be a mapping of tag name to {header|literal|environment: value}")
        return {}
    out = {}
    for name, source in value.items():
        tag_path = "%s.%s" % (path, name)
        if not isinstance(name, str) or not TAG_NAME.match(name):
            c.err(tag_path, "%r is not a tag name" % (name,))
            continue
        if not isinstance(source, dict) or len(source) != 1 or next(iter(source)) not in TAG_SOURCES \
                or not isinstance(next(iter(source.values())), str):
            c.err(tag_path, "must be one of {header: <name>}, {literal: <value>}, {environment: <variable>}")
            continue
        out[name] = dict(source)
    return out


def _auth_domains(c, path, value, scope):
    """mesh_auth.domains: per-domain additions, keyed by domain name."""
    names = [d["name"] for d in scope.context["domains"]]
    value = {} if value is None else value
    if not isinstance(value, dict):
        c.err(path, "must be a mapping")
        return {}
    out = {}
    for key in value:
        if key not in names:
            c.err("%s.%s" % (path, key), "unknown key; allowed keys: %s" % (", ".join(sorted(names)) or "(no domains)"))
    for name in names:
        out[name] = AUTH_DOMAIN.check(c, "%s.%s" % (path, name), value.get(name) or {}, scope)
    return out


def _relative_path(value):
    return bool(value) and not value.startswith("/") and " " not in value and "*" not in value.rstrip("*")


def _one_line(value):
    return "\n" not in value and '"' not in value and "\\" not in value


def workload_labels(domains, namespace):
    """The pods of the domain in `namespace`: its pod labels, or app=<service>; {} outside the domains."""
    for d in domains:
        if d["namespace"] == namespace:
            return dict(d["pod_labels"] or {"app": d["service"]})
    return {}


def _workload_labels(scope):
    return workload_labels(scope.context["domains"], scope["namespace"])


# -- rules between the keys of one item (they need the item's path) --
def _route_post(c, path, route, scope):
    return route if all(route[k] for k in ("prefix", "service", "namespace", "port")) else None


def _domain_post(c, path, domain, scope):
    """The prefixes become routes to the domain's own Service, after the explicit routes."""
    domain["namespace"] = domain["namespace"] or domain["name"]
    domain["service"] = domain["service"] or domain["name"]
    routes = domain["routes"] + [{"prefix": p, "service": domain["service"], "namespace": domain["namespace"],
                                  "port": domain["port"]} for p in domain.pop("prefixes")]
    if not routes:
        c.err(path + ".prefixes", "a domain needs at least one prefix or route")
    domain["routes"] = routes
    return domain


def _flow_post(c, path, flow, scope):
    if not (flow["from"] and flow["to"] and flow["port"] and flow["protocol"]):
        return None
    source, target = (scope.context["domain_by_name"][flow[end]] for end in ("from", "to"))
    if source["namespace"] == target["namespace"]:
        c.err(path, "from and to are the same namespace %r; flows are cross-namespace" % target["namespace"])
        return None
    return dict(flow, from_namespace=source["namespace"], to_namespace=target["namespace"])


def _peer_post(c, path, peer, scope):
    if peer["namespace"] is not None:
        peer["except"] = []
    else:
        peer["pod_labels"] = {}
    return peer


def _ui_route_post(c, path, route, scope):
    ui = route.pop("ui")
    return dict(UI_SERVICES[ui], name=ui, **route)


def _mtls_namespace_post(c, path, item, scope):
    if item["namespace"] == scope.context["root_namespace"]:
        c.err(path + ".namespace", "%r is the root namespace: its mode is mesh_mtls_mode" % item["namespace"])
        return None
    return item if item["mode"] else None


def _mtls_ports_post(c, path, item, scope):
    if not item["pod_labels"]:
        item["pod_labels"] = _workload_labels(scope.inner(item))
    if item["namespace"] and not item["pod_labels"]:
        c.err(path + ".pod_labels", "is required outside the domains' namespaces: Istio's portLevelMtls needs a "
                                    "workload selector")
    return item if all(item[k] for k in ("namespace", "pod_labels", "ports", "mode")) else None


HOST = Str(HOST_OR_WILDCARD, "host name")
HOST_OR_WILDCARD_NODE = Str(HOST_OR_WILDCARD, "host name or wildcard")
REQUEST_PATHS = Matching(REQUEST_PATH, "%r must be a path starting with '/' (a trailing '*' matches a prefix)",
                         "a path starting with / (a trailing * matches a prefix)")
RELATIVE_PATHS = Matching(None, "%r must be a path relative to the domain prefix, like 'docs' or 'kakao/*'",
                          "a path relative to the domain prefix (docs, kakao/*)",
                          accept=_relative_path)
DOMAIN_NAMES = Choice(lambda s: [d["name"] for d in s.context["domains"]], none_doc="(no domains)")
AUTH_DOMAIN = Dict({
    "public_paths": List(RELATIVE_PATHS, doc="Paths under the domain's prefixes that skip ext_authz."),
    "protected": Bool(default=True, doc="False makes the whole domain public."),
})

ROUTE = Dict({
    "prefix": Prefix(doc="URI prefix routed to the Service."),
    "service": Str(default=Derived(lambda s: s["service"], "the domain's service"), **SERVICE),
    "namespace": Str(default=Derived(lambda s: s["namespace"], "the domain's namespace"), **NAMESPACE),
    "port": Port(default=Derived(lambda s: s["port"], "the domain's port")),
}, post=_route_post)

DOMAIN = Dict({
    "name": Str(DNS1123_LABEL, "DNS-1123 label", doc="The domain (also a bare string item)."),
    "namespace": Str(default=Derived(lambda s: s["name"], "the name"), **NAMESPACE),
    "service": Str(default=Derived(lambda s: "%s-api" % s["name"], "<name>-api"), **SERVICE),
    "port": Port(default=8000, doc="The Service port."),
    "prefixes": List(Prefix(), default=Derived(lambda s: ["/api/v1/%s" % s["name"]], "[/api/v1/<name>]"),
                     doc="URI prefixes routed to the domain's Service."),
    "routes": List(ROUTE, doc="Extra routes to other Services."),
    "hosts": List(HOST_OR_WILDCARD_NODE, default=Derived(lambda s: [s.context["api_host"]], "[api.<zone>]"),
                  min_message="must list at least one host (Istio refuses a VirtualService without hosts)",
                  doc="Hosts of the domain's VirtualService."),
    "gateways": List(Str(what="gateway reference"), default=Derived(lambda s: [s.context["gateway_ref"]],
                                                                    "[<gateway namespace>/<gateway name>]"),
                     doc="Gateways the VirtualService binds to."),
    "meshed": Bool(default=True, doc="False leaves the namespace out of injection and policies."),
    "pod_labels": Labels(doc="Labels of the domain's pods (default the namespace's pods)."),
    "default_deny": Bool(default=Derived(lambda s: s.context["mesh_network_policy_default_deny"],
                                         "mesh_network_policy_default_deny"),
                         doc="Isolate this namespace."),
}, post=_domain_post)

PLATFORM_ROUTE = Dict({
    "name": Str(DNS1123_LABEL, "DNS-1123 label", doc="The route."),
    "host": Str(HOST_OR_WILDCARD, "host name",
                default=Derived(lambda s: "%s.%s" % (s["name"], s.context["zone"]), "<name>.<zone>")),
    "namespace": Str(default=Derived(lambda s: s["name"], "the name"), **NAMESPACE),
    "service": Str(default=Derived(lambda s: s["name"], "the name"), **SERVICE),
    "port": Port(default=80),
    "prefix": Prefix(default="/"),
})

UI_ROUTE = Dict({
    "ui": Choice(tuple(sorted(UI_SERVICES)), doc="Which UI; the route goes to its chart's Service."),
    "host": Str(HOST_OR_WILDCARD, "host name", default=Derived(lambda s: "%s.%s" % (s["ui"], s.context["zone"]), "<ui>.<zone>")),
    "namespace": Str(default=ISTIO_NAMESPACE, **NAMESPACE),
    "prefix": Prefix(default="/"),
}, post=_ui_route_post)

FLOW = Dict({
    "from": DOMAIN_NAMES,
    "to": DOMAIN_NAMES,
    "port": Port(default=Derived(lambda s: s.context["port_of"].get(s["to"]), "the target domain's port")),
    "protocol": Choice(PROTOCOLS, default="TCP"),
}, post=_flow_post)

ALB = Dict({
    "scheme": Choice(SCHEMES, default="internet-facing"),
    "target_type": Choice(TARGET_TYPES, default="instance"),
    "listen_ports": List(Custom(_listener, allowed="{HTTP|HTTPS: port}"), default=[{"HTTPS": 443}],
                         min_message="must list at least one listener, e.g. [{HTTPS: 443}]"),
    "certificate_arn": Raw(doc="ACM certificate ARN; mesh_alb_certificate_arn wins."),
    "group_name": Str(ALB_GROUP_NAME, "ALB group name", default="ecoeco-main"),
    "group_order": Number(1, 1000, "%r is not an integer between 1 and 1000", integer=True, default=1),
    "backend_protocol": Choice(BACKEND_PROTOCOLS, default="HTTP"),
    "healthcheck_path": Prefix(default="/healthz/ready"),
    "healthcheck_port": Either(("traffic-port",), Port(), default="traffic-port"),
    "success_codes": Matching(SUCCESS_CODES, "%r is not a list of HTTP codes like '200' or '200,204' or '200-299'",
                              "HTTP codes like 200, 200,204 or 200-299",
                              coerce=True, default="200"),
    "extra_annotations": Custom(_annotations, kind="dict", default={},
                                doc="Annotations added to the bridge Ingress (null removes one)."),
}, doc="ALB settings of the bridge Ingress (AWS Load Balancer Controller annotations).")

GATEWAY = Dict({
    "name": Str(default="eco2-gateway", **OBJECT_NAME),
    "namespace": Str(default=ISTIO_NAMESPACE, **NAMESPACE),
    "port": Port(default=80),
    "port_name": Str(what="port name", default="http"),
    "protocol": Custom(_gateway_protocol, kind="str", allowed=", ".join(GATEWAY_PROTOCOLS), default="HTTP"),
    "extra_hosts": List(HOST_OR_WILDCARD_NODE, doc="Hosts added besides the public ones (see mesh_gateway_extra_hosts)."),
}, doc="The Istio Gateway the routes bind to.")

ISTIOD = Dict({
    "namespace": Str(default=ISTIO_NAMESPACE, **NAMESPACE),
    "pod_labels": Labels(non_empty=True, default={"app": "istiod"}),
    "ports": List(Port(), default=[15010, 15012, 15014, 15017, 443], doc="15012 (xDS) is always added."),
}, doc="The istiod endpoint the egress policies open.")

DNS = Dict({
    "namespace": Str(default="kube-system", **NAMESPACE),
    "pod_labels": Labels(default={"k8s-app": "kube-dns"}),
    "port": Port(default=53),
}, doc="The DNS endpoint the egress policies open.")

PEER = Dict({
    "name": Str(DNS1123_LABEL, "DNS-1123 label"),
    "direction": Choice(PEER_DIRECTIONS, default="egress",
                        doc="egress - the domains call it; ingress - it calls the domains (a scraper)."),
    "namespace": Str(doc="An in-cluster peer's namespace.", **NAMESPACE),
    "pod_labels": Labels(doc="An in-cluster peer's pods (default the namespace's)."),
    "cidr": Str(CIDR, "CIDR like 0.0.0.0/0 or 10.0.0.0/16", doc="Addresses outside the cluster."),
    "except": List(Str(CIDR, "CIDR"), doc="Addresses left out of cidr."),
    "ports": List(Port(), min_message="must list at least one port"),
    "protocol": Choice(PROTOCOLS, default="TCP"),
    "domains": List(Choice(lambda s: s.context["meshed_domains"]),
                    default=Derived(lambda s: s.context["meshed_domains"], "every meshed domain")),
}, post=_peer_post, one_of=("namespace", "cidr"),
    one_of_message="needs exactly one of namespace (an in-cluster peer) or cidr (addresses outside the cluster)")

ACK_END = Either(("*", "external"), Str(**NAMESPACE), "%s is not a namespace name, 'external' or '*'", default="*")
ACKNOWLEDGED = Dict({"from": ACK_END, "to": ACK_END, "port": Either(("*",), Port(), default="*")})

AUTH_PROVIDER = Dict({
    "name": Str(default="eco2-ext-authz", **PROVIDER_NAME),
    "type": Choice(PROVIDER_TYPES, default="envoyExtAuthzGrpc"),
    "service": Str(DNS1123_SUBDOMAIN, "Service host (<service>.<namespace>.svc.cluster.local)",
                   doc="The ext_authz server's in-cluster Service host."),
    "namespace": Raw(doc="Must equal the service's namespace when given."),
    "port": Port(default=9001),
    "timeout": Matching(DECIMAL_DURATION, "%r is not a duration like 2s, 500ms, 1m", "a duration like 2s, 500ms, 1m",
                        default="2s"),
    "fail_open": Bool(default=False),
    "check_headers": List(Str(HEADER_NAME, "HTTP header name", lower=True),
                          doc="Headers sent to an envoyExtAuthzHttp server."),
    "pod_labels": Labels(doc="The auth server's pods, for the NetworkPolicies (default the namespace's)."),
}, post=_provider_post)

ONE_LINE = {"message": "%r must be a one-line string without quotes or backslashes",
            "allowed": "one line, no quotes or backslashes", "accept": _one_line}

JWT_RULE = Dict({
    "issuer": Str(),
    "jwks_uri": Str(HTTP_URL_PARTS, "http(s) URL"),
    "forward_original_token": Bool(default=True),
    "audiences": List(Raw()),
    "from_headers": List(Dict({
        "name": Str(HEADER_NAME, "HTTP header name", lower=True),
        "prefix": Matching(None, default="", doc="Text before the token, e.g. 'Bearer ' (default none).", **ONE_LINE),
    }), key="name", doc="Headers the token is read from (Istio fromHeaders). With this or from_cookies set, Istio "
                        "reads the token only there: list authorization with prefix 'Bearer ' to keep it."),
    "from_cookies": List(Str(COOKIE_NAME, "cookie name"), doc="Cookies the token is read from (Istio fromCookies)."),
})

COOKIE = Dict({
    "cookie": Str(COOKIE_NAME, "cookie name"),
    "header": Str(HEADER_NAME, "HTTP header name", lower=True),
    "prefix": Matching(None, default="Bearer ", **ONE_LINE),
})

AUTH_NAMES = Dict({
    "request_authentication": Str(default="eco2-jwt", **OBJECT_NAME),
    "authorization_policy": Str(default="eco2-ext-authz", **OBJECT_NAME),
    "envoy_filter": Str(default="eco2-cookie-to-header", **OBJECT_NAME),
})


def _auth_hosts(scope):
    hosts = []
    for d in scope.context["domains"]:
        hosts += [h for h in d["hosts"] if h not in hosts]
    return hosts or [scope.context["api_host"]]


AUTH = Dict({
    "provider": AUTH_PROVIDER,
    "jwt": List(JWT_RULE, min_message="must list at least one rule {issuer, jwks_uri}"),
    "hosts": List(Str(), default=Derived(_auth_hosts, "the domains' hosts, or [api.<zone>]", when_null=True)),
    "protected_paths": List(REQUEST_PATHS, default=["/api/v1/*"], min_message="must list at least one path, e.g. /api/v1/*",
                            min_valid=True, doc="What goes through ext_authz."),
    "domain_public_paths": List(RELATIVE_PATHS, default=["docs", "openapi.json", "health", "ready", "metrics"],
                                doc="Public under every domain prefix."),
    "public_paths": List(REQUEST_PATHS, default=["/health", "/ready", "/metrics"]),
    "domains": Custom(_auth_domains, kind="dict", default={}, values=AUTH_DOMAIN, doc="Per domain name."),
    "cookie_to_header": Bool(default=True, doc="False removes the EnvoyFilter."),
    "cookies": List(COOKIE, key="header", claim_first=False, taken_message="%r is set by two cookies"),
    "names": AUTH_NAMES,
}, optional=True, doc=(
    'Auth offloading at the gateway (README "Auth offloading"); the provider also goes into istiod\'s '
    "C(meshConfig.extensionProviders). Absent means no auth objects and no auth flows."))

MTLS_NAMESPACE = Dict({
    "namespace": Str(**NAMESPACE),
    "mode": Choice(MTLS_EXCEPTION_MODES, lower=True),
}, post=_mtls_namespace_post)


MTLS_PORTS = Dict({
    "namespace": Str(**NAMESPACE),
    "pod_labels": Labels(default=Derived(_workload_labels, "the domain's pod labels, or app=<service>")),
    "ports": List(Port(), min_message="must list at least one port (the container port)"),
    "mode": Choice(MTLS_EXCEPTION_MODES, lower=True),
}, post=_mtls_ports_post)

MTLS = Dict({
    "name": Str(default="default", **OBJECT_NAME),
    "namespaces": List(MTLS_NAMESPACE, key="namespace", claim_first=False, doc="A namespace-wide mode."),
    "ports": List(MTLS_PORTS, doc="portLevelMtls on a workload."),
}, doc='mTLS exceptions (README "Mutual TLS in stages"): a namespace-wide mode, or ports of a workload.')

TRACING = Dict({
    "provider": Str(default="jaeger", **PROVIDER_NAME),
    "type": Choice(TRACING_TYPES, default="zipkin"),
    "service": Str(SERVICE_HOST, SERVICE_HOST_WHAT, doc="The collector's Service."),
    "port": Port(default=9411),
    "sampling": Number(0, 100, "%r is not a percentage between 0 and 100", default=1.0),
    "custom_tags": Custom(_custom_tags, kind="dict", default={}, allowed="{header|literal|environment: value}"),
    "pod_labels": Labels(doc="The collector's pods."),
}, optional=True)

PROMETHEUS = Dict({
    "service": Str(SERVICE_HOST, SERVICE_HOST_WHAT),
    "port": Port(default=9090),
    "pod_labels": Labels(non_empty=True, default={"app.kubernetes.io/name": "prometheus"}),
    "monitors": Bool(default=True, doc="PodMonitor and ServiceMonitor where their CRDs are served."),
    "monitor_namespace": Str(default=Derived(lambda s: s.context["root_namespace"], "istiod's namespace", when_null=True), **NAMESPACE),
    "monitor_labels": Labels(),
    "scrape_interval": Matching(WHOLE_DURATION, "%r is not a duration like 15s, 1m", "a duration like 15s, 1m",
                                default="15s"),
}, optional=True)

KIALI = Dict({
    "namespace": Str(default=Derived(lambda s: s.context["root_namespace"], "istiod's namespace", when_null=True), **NAMESPACE),
    "pod_labels": Labels(non_empty=True, default={"app.kubernetes.io/name": "kiali"}),
}, optional=True)

JAEGER = Dict({
    "namespace": Str(default=Derived(lambda s: s.context["root_namespace"], "istiod's namespace", when_null=True), **NAMESPACE),
    "pod_labels": Labels(non_empty=True, default={"app.kubernetes.io/name": "jaeger"}),
    "query_port": Port(default=16686),
}, optional=True)

TELEMETRY = Dict({
    "name": Str(default="mesh-default", **OBJECT_NAME),
    "access_logging": Bool(default=True),
    "tracing": TRACING,
    "prometheus": PROMETHEUS,
    "kiali": KIALI,
    "jaeger": JAEGER,
}, optional=True, doc=(
    'Telemetry (README "Telemetry"): access logs, tracing (its provider also goes into istiod\'s '
    "C(meshConfig.extensionProviders)), Prometheus monitors, and where Kiali and Jaeger run. Absent means no "
    "Telemetry, no monitors and no telemetry flows."))

SPEC = {
    "mesh_zone": Str(HOST_OR_WILDCARD, "DNS zone (e.g. dev.growbin.app)", required=lambda s: s.context["whole"], doc=(
        "DNS zone of the environment, for example C(dev.growbin.app); public hosts are C(api.<zone>) and "
        "C(<platform route>.<zone>).")),
    "mesh_public_hosts": List(HOST, default=Derived(lambda s: s.context["derived_public_hosts"], (
        "api.<zone>, the platform routes' hosts and the domains' hosts without a wildcard"), check=False),
        doc="Override the derived public hosts (Gateway hosts and the ExternalDNS annotation)."),
    "mesh_domains": List(DOMAIN, key="name", string_key="name", default=None, required=lambda s: s.context["whole"] and (
        "is required (a list of {name, namespace, service, port, prefixes})"), required_doc="at least one",
        doc="One entry per business domain."),
    "mesh_platform_routes": List(PLATFORM_ROUTE, key="name", taken="route_names", default=[
        {"name": "argocd", "namespace": "argocd", "service": "argocd-server", "port": 80},
        {"name": "grafana", "namespace": "grafana", "service": "grafana", "port": 80},
    ], doc="Routes by host."),
    "mesh_flows": List(FLOW, doc="Cross-domain calls; both sides get a NetworkPolicy."),
    "mesh_alb": ALB,
    "mesh_alb_certificate_arn": Str(
        ACM_CERTIFICATE_ARN,
        "ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>); set it per environment in mesh_env.yml",
        required=lambda s: s.context["whole"], required_doc="with an HTTPS listener",
        doc="ACM certificate ARN of the HTTPS listener (per environment)."),
    "mesh_external_dns": Bool(default=True, doc="Annotate the bridge Ingress for ExternalDNS with every public host."),
    "mesh_gateway": GATEWAY,
    "mesh_gateway_extra_hosts": List(HOST_OR_WILDCARD_NODE, default=Derived(
        lambda s: s.context["gateway_extra_hosts"], "mesh_gateway.extra_hosts", check=False),
        doc="Hosts added to the Gateway besides the public ones, for example C(*) in dev."),
    "mesh_gateway_selector": Labels(non_empty=True, default=Derived(
        lambda s: gateway_selector(_release(s)), "istio=<release without istio->"),
        doc="Labels the Gateway selects; must match the gateway pods."),
    "mesh_gateway_service": Str(default=Derived(_release, "the gateway release name"),
                                doc="The gateway Service, backend of the bridge Ingress.", **SERVICE),
    "mesh_gateway_pod_labels": Labels(non_empty=True, default=Derived(
        lambda s: gateway_pod_labels(_release(s)), "derived from istio_gateway_release_name"),
        doc="Labels of the gateway pods."),
    "istio_gateway_release_name": Str(DNS1123_LABEL, "Helm release name", default=DEFAULT_GATEWAY_RELEASE,
                                      doc="Gateway Helm release name; the gateway pod labels and Service name derive "
                                          "from it."),
    "mesh_health_check_route": Bool(default=True, doc=(
        "Generate the health-check VirtualService and add C(*) to the Gateway hosts for the ALB probe.")),
    "mesh_network_policy_default_deny": Bool(default=False, doc=(
        "Isolate every meshed namespace (default-deny) with allowances for istiod, DNS, the gateway, the "
        "namespace itself, the flows and the peers. Off, the bundle keeps each namespace open and only adds.")),
    "mesh_istiod": ISTIOD,
    "mesh_dns": DNS,
    "mesh_peers": List(PEER, key="name", claim_first=False, doc=(
        "What the domains talk to besides each other (data stores, external APIs, scrapers), so policies keep it "
        "open.")),
    "mesh_network_policy_acknowledged_denials": List(ACKNOWLEDGED, doc=(
        "Connections open today that you accept to lose when the policies land; any other newly denied connection "
        "stops the run before anything is written.")),
    "mesh_auth": AUTH,
    "mesh_auth_enabled": Bool(default=True, doc=(
        "Switch C(mesh_auth) off without deleting it (its objects and flows are then pruned).")),
    "mesh_mtls_mode": Choice(MTLS_MODES, lower=True, default="permissive", doc=(
        "The mesh-wide mTLS stage - C(permissive) (sidecars accept mTLS and plaintext; the first stage) or "
        "C(strict) (plaintext into a sidecar is refused). STRICT is refused before any write while a pod of a "
        "STRICT namespace runs no ready sidecar or a caller without one is declared into a STRICT port.")),
    "mesh_mtls": MTLS,
    "mesh_mtls_enabled": Bool(default=True, doc="Switch the mTLS objects off (they are then pruned)."),
    "mesh_telemetry": TELEMETRY,
    "mesh_telemetry_enabled": Bool(default=True, doc=(
        "Switch C(mesh_telemetry) off without deleting it (its objects and flows are then pruned).")),
    "mesh_ui_routes": List(UI_ROUTE, key="ui", taken="route_names",
                           taken_message="%r already has a platform route (mesh_platform_routes or mesh_ui_routes)",
                           doc="Opt-in platform routes to the mesh UIs."),
}


def _option(node):
    """The argument-spec entry of a spec variable: its type and what it is; the nested keys are in the reference."""
    option = {"type": node.kind}
    fields = getattr(node, "fields", None)
    if isinstance(node, List):
        option["elements"] = "raw" if node.string_key else ("dict" if isinstance(node.item, Dict) else node.item.kind)
        fields = getattr(node.item, "fields", None)
    text = node.doc
    default = node.default_doc()
    if default and not fields:
        text += (" Default: %s." if isinstance(node.default, Derived) else " Default C(%s).") % default
    if fields:
        text += " Keys - %s (docs/spec-reference.md)." % ", ".join("C(%s)" % name for name in fields)
    option["description"] = text
    return option


SPEC_OPTIONS = {name: _option(node) for name, node in SPEC.items()}
