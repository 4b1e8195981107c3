# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The migration's closing summary, built from live objects (plain dicts)."""
from __future__ import annotations

from ansible_collections.eco2.mesh.plugins.module_utils.k8s_objects import labels_match

import base64
import gzip
import json


def helm_releases(secrets):
    """Deployed Helm releases from helm's storage Secrets: name -> {revision, chart, version, app_version, status}."""
    latest = {}
    for secret in secrets:
        labels = (secret.get("metadata") or {}).get("labels") or {}
        if labels.get("owner") != "helm" or labels.get("status") != "deployed":
            continue
        revision = int(labels.get("version", "0"))
        name = labels.get("name")
        if name in latest and latest[name]["revision"] >= revision:
            continue
        chart = decode_release(secret).get("chart", {}).get("metadata", {})
        latest[name] = {
            "name": name,
            "namespace": secret["metadata"].get("namespace"),
            "revision": revision,
            "chart": chart.get("name", "?"),
            "version": chart.get("version", "?"),
            "status": labels.get("status"),
        }
    return [latest[k] for k in sorted(latest)]


def decode_release(secret):
    """Helm 3 stores a release as base64(gzip(json)) inside the Secret's base64 `data.release`."""
    raw = ((secret.get("data") or {}).get("release")) or ""
    try:
        payload = base64.b64decode(base64.b64decode(raw))
        if payload[:2] == b"\x1f\x8b":
            payload = gzip.decompress(payload)
        return json.loads(payload)
    except (ValueError, OSError):
        return {}


def pod_placement(pods, selector):
    """Nodes of the running pods whose labels include `selector`."""
    nodes = []
    for pod in pods:
        labels = (pod.get("metadata") or {}).get("labels") or {}
        if labels_match(selector, labels):
            node = (pod.get("spec") or {}).get("nodeName") or "(unscheduled)"
            phase = (pod.get("status") or {}).get("phase", "?")
            nodes.append("%s (%s)" % (node, phase))
    return sorted(nodes)


def routes(virtual_services):
    """One row per HTTP route: hosts, match, destination."""
    rows = []
    for vs in virtual_services:
        meta = vs.get("metadata") or {}
        spec = vs.get("spec") or {}
        hosts = ",".join(spec.get("hosts") or [])
        for http in spec.get("http") or []:
            matches = []
            for match in http.get("match") or [{}]:
                uri = match.get("uri") or {}
                kind = next(iter(uri), None)
                matches.append("%s %s" % (kind, uri[kind]) if kind else "any")
            dests = []
            for route in http.get("route") or []:
                dest = route.get("destination") or {}
                port = (dest.get("port") or {}).get("number")
                dests.append("%s:%s" % (dest.get("host"), port) if port else str(dest.get("host")))
            if http.get("directResponse"):
                dests.append("direct %s" % http["directResponse"].get("status"))
            rows.append({"virtualservice": "%s/%s" % (meta.get("namespace"), meta.get("name")),
                         "hosts": hosts, "match": " | ".join(matches), "destination": ", ".join(dests)})
    return sorted(rows, key=lambda r: (r["hosts"], r["match"], r["virtualservice"]))


def ext_authz(authorization_policies):
    """One row per CUSTOM AuthorizationPolicy operation: what the gateway sends to the ext_authz provider."""
    rows = []
    for pol in authorization_policies:
        spec = pol.get("spec") or {}
        if spec.get("action") != "CUSTOM":
            continue
        meta = pol.get("metadata") or {}
        for rule in spec.get("rules") or []:
            for to in rule.get("to") or [{}]:
                op = to.get("operation") or {}
                rows.append({"policy": "%s/%s" % (meta.get("namespace"), meta.get("name")),
                             "provider": (spec.get("provider") or {}).get("name"),
                             "hosts": ",".join(op.get("hosts") or ["*"]), "paths": ",".join(op.get("paths") or ["*"]),
                             "public": len(op.get("notPaths") or [])})
    return sorted(rows, key=lambda r: (r["policy"], r["hosts"], r["paths"]))


def mtls(peer_authentications, root_namespace):
    """One line: the mesh-wide mTLS mode in force (istiod's root namespace) and every exception."""
    mesh, exceptions = "PERMISSIVE (Istio's default: no mesh-wide PeerAuthentication)", []
    for pa in sorted(peer_authentications, key=lambda o: (o["metadata"].get("namespace"), o["metadata"].get("name"))):
        meta, spec = pa.get("metadata") or {}, pa.get("spec") or {}
        where = "%s/%s" % (meta.get("namespace"), meta.get("name"))
        mode = (spec.get("mtls") or {}).get("mode") or "UNSET"
        selector = (spec.get("selector") or {}).get("matchLabels")
        if meta.get("namespace") == root_namespace and not selector:
            mesh = "%s (%s)" % (mode, where)
            continue
        what = where if not selector else "%s %s" % (where, ",".join("%s=%s" % kv for kv in sorted(selector.items())))
        ports = ", ".join("port %s %s" % (port, (v or {}).get("mode", "UNSET"))
                          for port, v in sorted((spec.get("portLevelMtls") or {}).items()))
        exceptions.append("%s %s" % (what, ports or mode))
    return "mTLS: mesh-wide %s; exceptions: %s" % (mesh, "; ".join(exceptions) or "none")


def policy_counts(policies):
    counts = {}
    for pol in policies:
        ns = (pol.get("metadata") or {}).get("namespace")
        counts[ns] = counts.get(ns, 0) + 1
    return dict(sorted(counts.items()))


def summary_lines(data):
    """A page a person reads in a glance."""
    lines = ["== eco2.mesh migration summary =="]
    lines.append("istiod runs on:  %s" % (", ".join(data["istiod_nodes"]) or "NOWHERE"))
    lines.append("gateway runs on: %s" % (", ".join(data["gateway_nodes"]) or "NOWHERE"))
    lines.append("Helm releases:")
    for rel in data["releases"] or [{"name": "(none)", "chart": "", "version": "", "namespace": "", "revision": 0}]:
        lines.append("  %-22s %s-%s in %s (revision %s)" % (
            rel["name"], rel["chart"], rel["version"], rel["namespace"], rel["revision"]))
    lines.append("Routes (host + match -> destination):")
    for row in data["routes"]:
        lines.append("  %-34s %-26s -> %s" % (row["hosts"], row["match"], row["destination"]))
    if data.get("ext_authz"):
        lines.append("Through ext_authz (host + paths -> provider, public paths excepted):")
        for row in data["ext_authz"]:
            lines.append("  %-34s %-26s -> %s (%d public paths; %s)" % (
                row["hosts"], row["paths"], row["provider"], row["public"], row["policy"]))
    if data.get("mtls"):
        lines.append(data["mtls"])
    lines.append("NetworkPolicies: %d in %d namespaces (%s)" % (
        sum(data["policies"].values()), len(data["policies"]),
        ", ".join("%s=%d" % kv for kv in data["policies"].items())))
    if data.get("reach"):
        lines.append("Open in and out (all NetworkPolicies in force):")
        lines.extend("  " + line for line in data["reach"])
    lines.append("Sidecars:")
    lines.extend("  " + line for line in data["sidecars"])
    if data.get("findings"):
        lines.append("Findings:")
        lines.extend("  " + f for f in data["findings"])
    else:
        lines.append("Findings: none")
    return lines
