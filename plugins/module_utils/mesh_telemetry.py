# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Telemetry: the `mesh_telemetry` spec section, its objects and the flows it needs (pure).

`telemetry_spec` validates the section (called by mesh_spec.build_spec); `telemetry_objects`
gives the mesh-default `Telemetry` (access logs, tracing) and, when the monitoring.coreos.com
CRDs exist, a `PodMonitor` for the sidecars' merged metrics and a `ServiceMonitor` for istiod;
`validate_provider` gives the tracing provider for istiod's `meshConfig.extensionProviders`
(merged like mesh_auth's ext_authz provider); `telemetry_flows` the connections the
NetworkPolicy bundle opens, in the shape of mesh_auth.auth_flows.
"""
from __future__ import annotations

import copy

from ansible_collections.eco2.mesh.plugins.module_utils.mesh_spec import managed_labels
from ansible_collections.eco2.mesh.plugins.module_utils.patterns import DNS1123_LABEL, SERVICE_HOST, TAG_NAME, WHOLE_DURATION

BUNDLE = "mtls-telemetry"
TELEMETRY_API = "telemetry.istio.io/v1"
MONITORING_API = "monitoring.coreos.com/v1"
TRACING_TYPES = ("zipkin", "opentelemetry")
# Istio's built-in access log provider (stdout); istiod merges it with the declared ones.
ACCESS_LOG_PROVIDER = "envoy"
MERGED_METRICS_PORT = 15020  # the agent's merged endpoint: Envoy's stats plus the app's own
MERGED_METRICS_PATH = "/stats/prometheus"
ENVOY_STATS_PORT = 15090
ISTIOD_MONITORING_PORT = 15014
ISTIOD_MONITORING_PORT_NAME = "http-monitoring"  # the istiod chart's Service port name for 15014
SIDECAR_SELECTOR = {"matchExpressions": [{"key": "security.istio.io/tlsMode", "operator": "Exists"}]}

DEFAULT_TELEMETRY = {"name": "mesh-default", "access_logging": True, "tracing": None, "prometheus": None,
                     "kiali": None, "jaeger": None}
DEFAULT_TRACING = {"provider": "jaeger", "type": "zipkin", "service": None, "port": 9411, "sampling": 1.0,
                   "custom_tags": {}, "pod_labels": {}}
DEFAULT_PROMETHEUS = {"service": None, "port": 9090, "pod_labels": {"app.kubernetes.io/name": "prometheus"},
                      "monitors": True, "monitor_namespace": None, "monitor_labels": {}, "scrape_interval": "15s"}
DEFAULT_KIALI = {"namespace": None, "pod_labels": {"app.kubernetes.io/name": "kiali"}}
DEFAULT_JAEGER = {"namespace": None, "pod_labels": {"app.kubernetes.io/name": "jaeger"}, "query_port": 16686}
TAG_SOURCES = ("header", "literal", "environment")


def _service(c, path, value):
    """(host, service, namespace) of <service>.<namespace>[.svc.cluster.local]."""
    host = c.str_(path, value, SERVICE_HOST, "in-cluster Service host (<service>.<namespace>.svc.cluster.local)")
    if not host:
        return None, None, None
    name, namespace = host.split(".")[:2]
    return "%s.%s.svc.cluster.local" % (name, namespace), name, namespace


def _section(c, path, raw, defaults):
    raw = c.dict_(path, raw, set(defaults))
    out = copy.deepcopy(defaults)
    out.update(raw)
    return out


def _tracing(c, raw):
    t = _section(c, "mesh_telemetry.tracing", raw, DEFAULT_TRACING)
    c.str_("mesh_telemetry.tracing.provider", t["provider"], DNS1123_LABEL, "provider name (DNS-1123 label)")
    c.choice("mesh_telemetry.tracing.type", t["type"], TRACING_TYPES)
    t["service"], t["service_name"], t["namespace"] = _service(c, "mesh_telemetry.tracing.service", t["service"])
    t["port"] = c.port("mesh_telemetry.tracing.port", t["port"])
    sampling = t["sampling"]
    if isinstance(sampling, bool) or not isinstance(sampling, (int, float)) or not 0 <= sampling <= 100:
        c.err("mesh_telemetry.tracing.sampling", "%r is not a percentage between 0 and 100" % (sampling,))
    t["pod_labels"] = c.labels("mesh_telemetry.tracing.pod_labels", t["pod_labels"])
    tags = t["custom_tags"]
    t["custom_tags"] = {}
    if not isinstance(tags, dict):
        c.err("mesh_telemetry.tracing.custom_tags", "must be a mapping of tag name to {header|literal|environment: value}")
        return t
    for name, source in tags.items():
        path = "mesh_telemetry.tracing.custom_tags.%s" % name
        if not isinstance(name, str) or not TAG_NAME.match(name):
            c.err(path, "%r is not a tag name" % (name,))
            continue
        if not isinstance(source, dict) or len(source) != 1 or next(iter(source)) not in TAG_SOURCES \
                or not isinstance(next(iter(source.values())), str):
            c.err(path, "must be one of {header: <name>}, {literal: <value>}, {environment: <variable>}")
            continue
        t["custom_tags"][name] = dict(source)
    return t


def telemetry_spec(c, raw, enabled, root_namespace, istiod):
    """The normalised telemetry section, or None when absent or switched off (mesh_telemetry_enabled: false)."""
    if raw is None or not enabled:
        return None
    t = _section(c, "mesh_telemetry", raw, DEFAULT_TELEMETRY)
    c.str_("mesh_telemetry.name", t["name"], DNS1123_LABEL, "object name")
    t["access_logging"] = c.bool_("mesh_telemetry.access_logging", t["access_logging"], True)
    t["root_namespace"] = root_namespace
    t["istiod"] = {"namespace": istiod["namespace"], "pod_labels": dict(istiod["pod_labels"])}
    if t["tracing"] is not None:
        t["tracing"] = _tracing(c, t["tracing"])
    if t["prometheus"] is not None:
        p = _section(c, "mesh_telemetry.prometheus", t["prometheus"], DEFAULT_PROMETHEUS)
        p["service"], p["service_name"], p["namespace"] = _service(c, "mesh_telemetry.prometheus.service", p["service"])
        p["port"] = c.port("mesh_telemetry.prometheus.port", p["port"])
        p["pod_labels"] = c.labels("mesh_telemetry.prometheus.pod_labels", p["pod_labels"], allow_empty=False)
        p["monitors"] = c.bool_("mesh_telemetry.prometheus.monitors", p["monitors"], True)
        p["monitor_namespace"] = c.str_("mesh_telemetry.prometheus.monitor_namespace",
                                        p["monitor_namespace"] or root_namespace, DNS1123_LABEL, "namespace name")
        p["monitor_labels"] = c.labels("mesh_telemetry.prometheus.monitor_labels", p["monitor_labels"])
        if not isinstance(p["scrape_interval"], str) or not WHOLE_DURATION.match(p["scrape_interval"]):
            c.err("mesh_telemetry.prometheus.scrape_interval", "%r is not a duration like 15s, 1m" % (p["scrape_interval"],))
        t["prometheus"] = p
    for key, defaults in (("kiali", DEFAULT_KIALI), ("jaeger", DEFAULT_JAEGER)):
        if t[key] is None:
            continue
        s = _section(c, "mesh_telemetry." + key, t[key], defaults)
        s["namespace"] = c.str_("mesh_telemetry.%s.namespace" % key, s["namespace"] or root_namespace,
                                DNS1123_LABEL, "namespace name")
        s["pod_labels"] = c.labels("mesh_telemetry.%s.pod_labels" % key, s["pod_labels"], allow_empty=False)
        if key == "jaeger":
            s["query_port"] = c.port("mesh_telemetry.jaeger.query_port", s["query_port"])
        t[key] = s
    return t


def extension_provider(tracing):
    return {"name": tracing["provider"], tracing["type"]: {"service": tracing["service"], "port": tracing["port"]}}


def validate_provider(raw, enabled=True):
    """meshConfig.extensionProviders entries for istiod, from `mesh_telemetry` alone."""
    from ansible_collections.eco2.mesh.plugins.module_utils.mesh_spec import MeshSpecError, _Checker
    if not isinstance(raw, dict) or not enabled or raw.get("tracing") is None:
        return []
    c = _Checker()
    tracing = _tracing(c, raw["tracing"])
    if c.errors:
        raise MeshSpecError(c.errors)
    return [extension_provider(tracing)]


# -- objects -----------------------------------------------------------------------
def _meta(name, namespace, extra_labels=None):
    return {"name": name, "namespace": namespace, "labels": dict(extra_labels or {}, **managed_labels(BUNDLE))}


def telemetry_resource(spec):
    t = spec["telemetry"]
    body = {}
    if t["access_logging"]:
        body["accessLogging"] = [{"providers": [{"name": ACCESS_LOG_PROVIDER}]}]
    if t["tracing"]:
        tracing = {"providers": [{"name": t["tracing"]["provider"]}],
                   "randomSamplingPercentage": t["tracing"]["sampling"]}
        if t["tracing"]["custom_tags"]:
            tracing["customTags"] = {name: _tag(source) for name, source in sorted(t["tracing"]["custom_tags"].items())}
        body["tracing"] = [tracing]
    return {"apiVersion": TELEMETRY_API, "kind": "Telemetry", "metadata": _meta(t["name"], t["root_namespace"]),
            "spec": body}


def _tag(source):
    (kind, value), = source.items()
    return {kind: {"value": value} if kind == "literal" else {"name": value}}


def meshed_namespaces(spec):
    return list(dict.fromkeys(d["namespace"] for d in spec["domains"] if d["meshed"]))


def pod_monitor(spec):
    p = spec["telemetry"]["prometheus"]
    return {"apiVersion": MONITORING_API, "kind": "PodMonitor",
            "metadata": _meta("mesh-sidecars", p["monitor_namespace"], p["monitor_labels"]),
            "spec": {"selector": copy.deepcopy(SIDECAR_SELECTOR),
                     "namespaceSelector": {"matchNames": meshed_namespaces(spec)},
                     "podMetricsEndpoints": [{
                         "path": MERGED_METRICS_PATH, "interval": p["scrape_interval"],
                         # The merged port is no declared container port: keep the sidecar's target, point it at 15020.
                         "relabelings": [
                             {"action": "keep", "sourceLabels": ["__meta_kubernetes_pod_container_name"],
                              "regex": "istio-proxy"},
                             {"action": "replace", "sourceLabels": ["__meta_kubernetes_pod_ip"], "regex": "(.+)",
                              "replacement": "$1:%d" % MERGED_METRICS_PORT, "targetLabel": "__address__"}]}]}}


def service_monitor(spec):
    t = spec["telemetry"]
    p = t["prometheus"]
    return {"apiVersion": MONITORING_API, "kind": "ServiceMonitor",
            "metadata": _meta("mesh-istiod", p["monitor_namespace"], p["monitor_labels"]),
            "spec": {"selector": {"matchLabels": dict(t["istiod"]["pod_labels"])},
                     "namespaceSelector": {"matchNames": [t["istiod"]["namespace"]]},
                     "endpoints": [{"port": ISTIOD_MONITORING_PORT_NAME, "interval": p["scrape_interval"]}]}}


def telemetry_objects(spec, monitors=True):
    """Telemetry, plus PodMonitor and ServiceMonitor when `monitors` (the monitoring CRDs exist, or render mode)."""
    t = spec.get("telemetry")
    if not t:
        return []
    objs = [telemetry_resource(spec)]
    if monitors and t["prometheus"] and t["prometheus"]["monitors"]:
        objs += [pod_monitor(spec), service_monitor(spec)]
    return objs


def _end(namespace, labels):
    return {"namespace": namespace, "pod_labels": dict(labels or {})}


def telemetry_flows(spec):
    """Connections telemetry needs, each {name, from, to, port, protocol} (from/to: {namespace, pod_labels})."""
    t = spec.get("telemetry")
    if not t:
        return []
    gw = _end(spec["gateway"]["namespace"], spec["gateway"]["pod_labels"])
    istiod = _end(t["istiod"]["namespace"], t["istiod"]["pod_labels"])
    proxies = [_end(ns, {}) for ns in meshed_namespaces(spec)] + [gw]
    flows = []

    def add(name, src, dst, port):
        flows.append({"name": name, "from": src, "to": dst, "port": port, "protocol": "TCP"})

    prom, tracing, kiali, jaeger = t["prometheus"], t["tracing"], t["kiali"], t["jaeger"]
    if prom:
        scraper = _end(prom["namespace"], prom["pod_labels"])
        for proxy in proxies:
            for port in (MERGED_METRICS_PORT, ENVOY_STATS_PORT):
                add("prometheus-sidecars", scraper, proxy, port)
        add("prometheus-istiod", scraper, istiod, ISTIOD_MONITORING_PORT)
    if tracing:
        collector = _end(tracing["namespace"], tracing["pod_labels"])
        for proxy in proxies:
            add("tracing", proxy, collector, tracing["port"])
    if kiali:
        ui = _end(kiali["namespace"], kiali["pod_labels"])
        if prom:
            add("kiali-prometheus", ui, _end(prom["namespace"], prom["pod_labels"]), prom["port"])
        add("kiali-istiod", ui, istiod, ISTIOD_MONITORING_PORT)
        if jaeger:
            add("kiali-jaeger", ui, _end(jaeger["namespace"], jaeger["pod_labels"]), jaeger["query_port"])
    return flows


def summary_line(spec):
    t = spec.get("telemetry")
    if not t:
        return "telemetry: not managed (mesh_telemetry absent or mesh_telemetry_enabled: false)"
    parts = ["access logs %s" % ("on (envoy)" if t["access_logging"] else "off")]
    if t["tracing"]:
        tr = t["tracing"]
        parts.append("tracing %s (%s %s:%s) at %s%%" % (tr["provider"], tr["type"], tr["service"], tr["port"],
                                                        tr["sampling"]))
    else:
        parts.append("tracing off")
    return "telemetry: " + ", ".join(parts)
