# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helm values and chart sources for the three Istio releases (base, istiod, gateway).

Pure functions over plain dicts, shared by the filter plugin (roles), the
preflight module and the unit tests. The values returned here are exactly
what `helm get values` gives back after an install (plain dicts, lists, str,
int, bool; no None, no empty optional sections), so kubernetes.core.helm's
comparison settles and a second run changes nothing.
"""
from __future__ import annotations

import copy
import os

from ansible_collections.eco2.mesh.plugins.module_utils.plain import plain


# Chart name -> position in the install order (uninstall is the reverse).
CHART_ORDER = ("base", "istiod", "gateway")
DEFAULT_RELEASES = {"base": "istio-base", "istiod": "istiod", "gateway": "istio-ingressgateway"}

# The options each chart's values are built from. Their defaults live in the roles' defaults only
# (roles/<role>/defaults/main.yml): a builder is given every option.
ISTIOD_OPTIONS = ("node_selector", "tolerations", "required_node_affinity", "resources", "replicas",
                  "autoscale_enabled", "autoscale_min", "autoscale_max", "pdb_enabled", "mesh_config", "extension_providers",
                  "extra_values")
GATEWAY_OPTIONS = ("node_selector", "tolerations", "required_node_affinity", "resources", "replicas",
                   "autoscaling_enabled", "autoscaling_min", "autoscaling_max", "pdb", "service_type", "service_ports",
                   "labels", "extra_values")
BASE_OPTIONS = ("default_revision", "extra_values")


def deep_merge(base, override):
    """Merge override into a copy of base: dicts recursively, anything else (lists too) replaced."""
    result = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def _spec(options, spec):
    spec = dict(spec or {})
    unknown = sorted(set(spec) - set(options))
    if unknown:
        raise ValueError("unknown option %r (known: %s)" % (unknown[0], ", ".join(sorted(options))))
    missing = [key for key in options if key not in spec]
    if missing:
        raise ValueError("missing option(s) %s (the role defaults give every option)" % ", ".join(missing))
    return spec


def node_affinity(terms):
    """Required node affinity from a list of nodeSelectorTerms (each {matchExpressions: [...]})."""
    if not terms:
        return None
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": plain(terms)}}}


def _toleration(tol):
    out = {}
    for key in ("key", "operator", "value", "effect", "tolerationSeconds"):
        if tol.get(key) not in (None, ""):
            out[key] = plain(tol[key])
    return out


def _placement(s):
    """nodeSelector, tolerations and affinity from the options (istiod takes them under `pilot`, the gateway at the top)."""
    out = {}
    if s["node_selector"]:
        out["nodeSelector"] = {str(k): str(v) for k, v in s["node_selector"].items()}
    if s["tolerations"]:
        out["tolerations"] = [_toleration(t) for t in s["tolerations"]]
    affinity = node_affinity(s["required_node_affinity"])
    if affinity:
        out["affinity"] = affinity
    return out


def _port(port):
    if "name" not in port or "port" not in port:
        raise ValueError("every service port needs a name and a port: %r" % (port,))
    out = {"name": str(port["name"]), "port": int(port["port"]), "protocol": str(port.get("protocol") or "TCP")}
    target = port.get("targetPort")
    out["targetPort"] = int(target) if target not in (None, "") and str(target).isdigit() else (
        str(target) if target not in (None, "") else int(port["port"]))
    if port.get("nodePort") not in (None, "", 0):
        out["nodePort"] = int(port["nodePort"])
    return out


def istiod_values(spec):
    """Helm values for the istiod chart from the role's options (ISTIOD_OPTIONS)."""
    s = _spec(ISTIOD_OPTIONS, spec)
    pilot = {}
    if s["autoscale_enabled"]:
        pilot["autoscaleEnabled"] = True
        pilot["autoscaleMin"] = int(s["autoscale_min"])
        pilot["autoscaleMax"] = int(s["autoscale_max"])
    else:
        pilot["autoscaleEnabled"] = False
        pilot["replicaCount"] = int(s["replicas"])
    if s["resources"]:
        pilot["resources"] = plain(s["resources"])
    pilot.update(_placement(s))
    values = {"pilot": pilot}
    if s["pdb_enabled"] is not None:
        values["global"] = {"defaultPodDisruptionBudget": {"enabled": bool(s["pdb_enabled"])}}
    if s["mesh_config"]:
        values["meshConfig"] = plain(s["mesh_config"])
    if s["extension_providers"]:
        values["meshConfig"] = with_extension_providers(values.get("meshConfig") or {}, s["extension_providers"])
    return deep_merge(values, plain(s["extra_values"] or {}))


def with_extension_providers(mesh_config, providers):
    """mesh_config with `providers` in extensionProviders; a spec provider replaces one of the same name."""
    providers = plain(providers)
    names = {p.get("name") for p in providers}
    mesh = copy.deepcopy(mesh_config)
    kept = [p for p in mesh.get("extensionProviders") or [] if p.get("name") not in names]
    mesh["extensionProviders"] = kept + providers
    return mesh


def gateway_values(spec):
    """Helm values for the gateway chart from the role's options (GATEWAY_OPTIONS)."""
    s = _spec(GATEWAY_OPTIONS, spec)
    values = {}
    if s["replicas"] is not None:
        values["replicaCount"] = int(s["replicas"])
    if s["autoscaling_enabled"] is not None:
        auto = {"enabled": bool(s["autoscaling_enabled"])}
        if s["autoscaling_enabled"]:
            auto["minReplicas"] = int(s["autoscaling_min"])
            auto["maxReplicas"] = int(s["autoscaling_max"])
        values["autoscaling"] = auto
    if s["resources"]:
        values["resources"] = plain(s["resources"])
    if s["pdb"]:
        values["podDisruptionBudget"] = plain(s["pdb"])
    if s["labels"]:
        values["labels"] = {str(k): str(v) for k, v in s["labels"].items()}
    values["service"] = {"type": str(s["service_type"]), "ports": [_port(p) for p in s["service_ports"]]}
    values.update(_placement(s))
    return deep_merge(values, plain(s["extra_values"] or {}))


def base_values(spec):
    """Helm values for the base chart (CRDs): empty unless a default revision or extra values are given."""
    s = _spec(BASE_OPTIONS, spec)
    values = {}
    if s["default_revision"] not in (None, ""):
        values["defaultRevision"] = str(s["default_revision"])
    return deep_merge(values, plain(s["extra_values"] or {}))


def helm_values(spec, chart):
    builders = {"base": base_values, "istiod": istiod_values, "gateway": gateway_values}
    if chart not in builders:
        raise ValueError("unknown Istio chart %r (expected one of: %s)" % (chart, ", ".join(CHART_ORDER)))
    return builders[chart](spec)


def chart_source(chart, version, repo_url, chart_path=None, chart_dir=None):
    """Where helm gets a chart from.

    Precedence: an explicit chart_path (directory or .tgz) > chart_dir (a directory holding
    `<chart>-<version>.tgz` or `<chart>/`) > repo_url (http(s) repository or `oci://` registry).
    Returns chart_ref / chart_repo_url / chart_version as kubernetes.core.helm takes them
    (None for "omit") and `repository`, the human-readable origin for releases.yaml.
    """
    version = str(version) if version not in (None, "") else None
    if not chart_path and chart_dir:
        tgz = os.path.join(chart_dir, "%s-%s.tgz" % (chart, version))
        chart_path = tgz if version and os.path.isfile(tgz) else os.path.join(chart_dir, chart)
    if chart_path:
        return {"chart_ref": str(chart_path), "chart_repo_url": None, "chart_version": None,
                "repository": "file://" + os.path.abspath(str(chart_path)), "kind": "path",
                "chart": chart, "version": version}
    if not repo_url:
        raise ValueError("no chart source: set a repository URL or a chart path for chart %r" % chart)
    repo_url = str(repo_url).rstrip("/")
    if repo_url.startswith("oci://"):
        return {"chart_ref": "%s/%s" % (repo_url, chart), "chart_repo_url": None, "chart_version": version,
                "repository": repo_url, "kind": "oci", "chart": chart, "version": version}
    if not repo_url.startswith(("http://", "https://")):
        raise ValueError("chart repository URL must start with https://, http:// or oci://: %r" % repo_url)
    return {"chart_ref": chart, "chart_repo_url": repo_url, "chart_version": version,
            "repository": repo_url, "kind": "repo", "chart": chart, "version": version}


def gateway_pod_labels(release_name, labels=None):
    """Pod labels the gateway chart derives from the release name (`istio-` prefix stripped), `labels` win."""
    name = str(release_name)
    derived = {"app": name, "istio": name[len("istio-"):] if name.startswith("istio-") else name}
    derived.update({str(k): str(v) for k, v in (labels or {}).items()})
    return derived


def release_entry(release, chart, namespace, source):
    return {"release": str(release), "chart": str(chart), "version": source.get("version"),
            "namespace": str(namespace), "repository": source.get("repository")}


def merge_releases(existing, entry):
    """Replace or add one release in a releases.yaml list, kept in install order (base, istiod, gateway)."""
    items = [dict(e) for e in (existing or []) if isinstance(e, dict) and e.get("chart") != entry.get("chart")]
    items.append(dict(entry))

    def order(item):
        chart = item.get("chart")
        return (CHART_ORDER.index(chart) if chart in CHART_ORDER else len(CHART_ORDER), str(item.get("release")))
    return sorted(items, key=order)


def verify_ports(ports):
    """Chart service ports -> the `gateway_service_ports` option of mesh_istio_verify."""
    out = []
    for port in ports or []:
        item = {"name": str(port["name"]), "port": int(port["port"])}
        if port.get("nodePort") not in (None, "", 0):
            item["node_port"] = int(port["nodePort"])
        out.append(item)
    return out
