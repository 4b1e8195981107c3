# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Telemetry: the `mesh_telemetry` spec section, its objects and the flows it needs (pure).

`telemetry_spec` completes the section checked against mesh_spec_schema.TELEMETRY (called by
mesh_spec.build_spec); `telemetry_objects` gives the mesh-default `Telemetry` (access logs, tracing) and, when the monitoring.coreos.com
CRDs exist, a `PodMonitor` for the sidecars' merged metrics and a `ServiceMonitor` for istiod;
`validate_provider` gives the tracing provider for istiod's `meshConfig.extensionProviders`
(merged like mesh_auth's ext_authz provider); `telemetry_flows` the connections the
NetworkPolicy bundle opens, in the shape of mesh_auth.auth_flows.
"""
from __future__ import annotations

import copy

from ansible_collections.eco2.mesh.plugins.module_utils.mesh_spec import check_section, managed_labels
from ansible_collections.eco2.mesh.plugins.module_utils.mesh_spec_schema import TRACING

BUNDLE = "mtls-telemetry"
TELEMETRY_API = "telemetry.istio.io/v1"
MONITORING_API = "monitoring.coreos.com/v1"
# Istio's built-in access log provider (stdout); istiod merges it with the declared ones.
ACCESS_LOG_PROVIDER = "envoy"
MERGED_METRICS_PORT = 15020  # the agent's merged endpoint: Envoy's stats plus the app's own
MERGED_METRICS_PATH = "/stats/prometheus"
ENVOY_STATS_PORT = 15090
ISTIOD_MONITORING_PORT = 15014
ISTIOD_MONITORING_PORT_NAME = "http-monitoring"  # the istiod chart's Service port name for 15014
SIDECAR_SELECTOR = {"matchExpressions": [{"key": "security.istio.io/tlsMode", "operator": "Exists"}]}


def _service(section):
    """<service>.<namespace>[.svc.cluster.local] in full, and its name and namespace apart."""
    if section["service"]:
        name, namespace = section["service"].split(".")[:2]
        section.update(service="%s.%s.svc.cluster.local" % (name, namespace), service_name=name, namespace=namespace)
    else:
        section.update(service_name=None, namespace=None)
    return section


def telemetry_spec(t, istiod):
    """The normalised telemetry section from the checked one (mesh_spec_schema.TELEMETRY), or None when absent."""
    if t is None:
        return None
    t["root_namespace"] = istiod["namespace"]
    t["istiod"] = {"namespace": istiod["namespace"], "pod_labels": dict(istiod["pod_labels"])}
    for key in ("tracing", "prometheus"):
        if t[key] is not None:
            _service(t[key])
    return t


def extension_provider(tracing):
    return {"name": tracing["provider"], tracing["type"]: {"service": tracing["service"], "port": tracing["port"]}}


def validate_provider(raw, enabled=True):
    """meshConfig.extensionProviders entries for istiod, from `mesh_telemetry` alone."""
    if not isinstance(raw, dict) or not enabled or raw.get("tracing") is None:
        return []
    return [extension_provider(_service(check_section(TRACING, "mesh_telemetry.tracing", raw["tracing"])))]


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
