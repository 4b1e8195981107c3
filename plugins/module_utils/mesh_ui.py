# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helm values for the mesh UIs (Kiali, Jaeger), their optional platform routes, and Kiali's auth check.

Pure functions over plain dicts, like istio_helm.py. The key paths are those the targeted charts read:
kiali-server 1.89.0 (the chart passes its values through as Kiali's config.yaml, so `auth.*` and
`external_services.*` are Kiali 1.89 config keys) and jaeger 3.4.1 (the last chart release of Jaeger v1,
whose all-in-one image reads MEMORY_MAX_TRACES). A builder takes every option; the defaults live in the
roles' defaults only.
"""
from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.eco2.mesh.plugins.module_utils.istio_helm import _spec, deep_merge
from ansible_collections.eco2.mesh.plugins.module_utils.plain import plain

KIALI_AUTH_STRATEGIES = ("token", "anonymous", "openid", "openshift", "header")
KIALI_OPTIONS = ("auth_strategy", "view_only_mode", "istio_namespace", "prometheus_url", "grafana_url",
                 "grafana_external_url", "tracing_url", "tracing_external_url", "resources", "extra_values")
JAEGER_OPTIONS = ("max_traces", "resources", "extra_values")

# What each UI's platform route points at: the Service the chart creates for release `kiali`
# (deployment.instance_name) and for the all-in-one release `jaeger` (<fullname>-query).
UI_SERVICES = {"kiali": {"service": "kiali", "port": 20001}, "jaeger": {"service": "jaeger-query", "port": 16686}}


def kiali_values(spec):
    """Helm values for kiali-server 1.89 from the role's options (KIALI_OPTIONS)."""
    s = _spec(KIALI_OPTIONS, spec)
    strategy = str(s["auth_strategy"])
    if strategy not in KIALI_AUTH_STRATEGIES:
        raise ValueError("kiali_auth_strategy must be one of %s (got %r)" % (", ".join(KIALI_AUTH_STRATEGIES), strategy))
    if not s["prometheus_url"]:
        raise ValueError("kiali_prometheus_url must be the in-cluster URL of Prometheus (got an empty value)")
    # Routes go through the Istio gateway (platform routes): never the chart's nginx Ingress.
    deployment = {"ingress": {"enabled": False}, "view_only_mode": boolean(s["view_only_mode"], strict=True)}
    if s["resources"]:
        deployment["resources"] = plain(s["resources"])
    services = {"prometheus": {"url": str(s["prometheus_url"])},
                "grafana": _linked(s["grafana_url"], s["grafana_external_url"]),
                "tracing": _linked(s["tracing_url"], s["tracing_external_url"])}
    if s["tracing_url"]:
        # The query port 16686 speaks HTTP; gRPC would be 16685.
        services["tracing"].update({"provider": "jaeger", "use_grpc": False})
    values = {"auth": {"strategy": strategy}, "deployment": deployment, "external_services": services}
    if s["istio_namespace"]:
        values["istio_namespace"] = str(s["istio_namespace"])
    return deep_merge(values, plain(s["extra_values"] or {}))


def _linked(in_cluster_url, external_url):
    """An external service Kiali reads from in-cluster and links to from the browser; off without a URL."""
    if not in_cluster_url:
        return {"enabled": False}
    out = {"enabled": True, "in_cluster_url": str(in_cluster_url)}
    if external_url:
        out["url"] = str(external_url)
    return out


def jaeger_values(spec):
    """Helm values for jaeger 3.4.1: all-in-one with in-memory storage (JAEGER_OPTIONS)."""
    s = _spec(JAEGER_OPTIONS, spec)
    if int(s["max_traces"]) < 1:
        raise ValueError("jaeger_max_traces must be >= 1 (got %r)" % s["max_traces"])
    all_in_one = {"enabled": True, "extraEnv": [{"name": "MEMORY_MAX_TRACES", "value": str(int(s["max_traces"]))}]}
    if s["resources"]:
        all_in_one["resources"] = plain(s["resources"])
    values = {
        "provisionDataStore": {"cassandra": False, "elasticsearch": False, "kafka": False},
        "storage": {"type": "memory"},
        "allInOne": all_in_one,
        # The all-in-one pod is agent, collector and query at once: the separate components stay off.
        "agent": {"enabled": False},
        "collector": {"enabled": False},
        "query": {"enabled": False},
    }
    return deep_merge(values, plain(s["extra_values"] or {}))


def ui_values(spec, chart):
    builders = {"kiali-server": kiali_values, "jaeger": jaeger_values}
    if chart not in builders:
        raise ValueError("unknown UI chart %r (expected one of: %s)" % (chart, ", ".join(sorted(builders))))
    return builders[chart](spec)


def public_route_hosts(spec, ui, namespace):
    """Hosts of the spec's platform routes to the `ui` Service in `namespace` that are public (public_hosts)."""
    if ui not in UI_SERVICES:
        raise ValueError("unknown UI %r (expected one of: %s)" % (ui, ", ".join(sorted(UI_SERVICES))))
    service = UI_SERVICES[ui]["service"]
    public = set(spec.get("public_hosts") or [])
    return sorted({r["host"] for r in spec.get("platform_routes") or []
                   if r["namespace"] == namespace and r["service"] == service and r["host"] in public})
