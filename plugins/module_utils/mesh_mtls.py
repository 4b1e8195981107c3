# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mutual TLS in stages: the `mesh_mtls` spec section, its PeerAuthentications and the STRICT blockers (pure).

Stages: `mesh_mtls_mode: permissive` first (sidecars accept mTLS and plaintext), then `strict`
once every pod of every STRICT namespace runs a ready sidecar and no caller without a sidecar
reaches into a STRICT namespace. Exceptions: a namespace with its own mode, and ports of a
workload with their own mode (`portLevelMtls`, which Istio only accepts with a workload selector:
an exception names `pod_labels`, default the domain's pod labels or `app: <service>`).
"""
from __future__ import annotations

from ansible_collections.eco2.mesh.plugins.module_utils.mesh_spec import SIDECAR_PORTS, managed_labels
from ansible_collections.eco2.mesh.plugins.module_utils.mesh_spec_schema import workload_labels

BUNDLE = "mtls-telemetry"
SECURITY_API = "security.istio.io/v1"
PORTS_NAME = "mesh-mtls-ports"
SIDECAR_CONTAINER = "istio-proxy"


def mtls_spec(mode, section, root_namespace):
    """The normalised mTLS section from the checked mesh_mtls_mode and mesh_mtls (mesh_spec_schema.MTLS)."""
    return {"mode": mode, "root_namespace": root_namespace, "name": section["name"],
            "namespaces": section["namespaces"], "ports": section["ports"]}


def namespace_mode(mtls, namespace):
    for ex in mtls["namespaces"]:
        if ex["namespace"] == namespace:
            return ex["mode"]
    return mtls["mode"]


def port_mode(mtls, namespace, labels, port):
    """The mode a connection to `port` of a pod with `labels` in `namespace` meets."""
    for ex in mtls["ports"]:
        if ex["namespace"] == namespace and port in ex["ports"] and all(
                (labels or {}).get(k) == v for k, v in ex["pod_labels"].items()):
            return ex["mode"]
    return namespace_mode(mtls, namespace)


# -- objects -----------------------------------------------------------------------
def _peer_authentication(name, namespace, spec):
    return {"apiVersion": SECURITY_API, "kind": "PeerAuthentication",
            "metadata": {"name": name, "namespace": namespace, "labels": managed_labels(BUNDLE)}, "spec": spec}


def peer_authentications(spec):
    """Mesh-wide PeerAuthentication in the root namespace, one per namespace exception, one per port group."""
    mtls = spec.get("mtls")
    if not mtls:
        return []
    objs = [_peer_authentication(mtls["name"], mtls["root_namespace"], {"mtls": {"mode": mtls["mode"].upper()}})]
    for ex in mtls["namespaces"]:
        objs.append(_peer_authentication(mtls["name"], ex["namespace"], {"mtls": {"mode": ex["mode"].upper()}}))
    groups = []
    for ex in mtls["ports"]:
        key = (ex["namespace"], ex["pod_labels"])
        if key not in [g[0] for g in groups]:
            groups.append((key, {}))
        ports = next(g[1] for g in groups if g[0] == key)
        for port in ex["ports"]:
            ports[str(port)] = {"mode": ex["mode"].upper()}
    for (ns, labels), ports in groups:
        same_ns = [g for g in groups if g[0][0] == ns]
        name = PORTS_NAME if len(same_ns) == 1 else "%s-%d" % (PORTS_NAME, same_ns.index(((ns, labels), ports)))
        # No `mtls` here: the workload's other ports keep the namespace's (or mesh's) mode.
        objs.append(_peer_authentication(name, ns, {"selector": {"matchLabels": dict(labels)},
                                                    "portLevelMtls": dict(sorted(ports.items()))}))
    return objs


def summary_line(spec):
    """Which mode is in force and where the exceptions are."""
    mtls = spec.get("mtls")
    if not mtls:
        return "mTLS: not managed (mesh_mtls_enabled: false)"
    parts = ["%s %s" % (ex["namespace"], ex["mode"].upper()) for ex in mtls["namespaces"]]
    parts += ["%s/%s port %s %s" % (ex["namespace"], ",".join("%s=%s" % kv for kv in sorted(ex["pod_labels"].items())),
                                    ",".join(str(p) for p in ex["ports"]), ex["mode"].upper()) for ex in mtls["ports"]]
    return "mTLS: mesh-wide %s (PeerAuthentication %s/%s); exceptions: %s" % (
        mtls["mode"].upper(), mtls["root_namespace"], mtls["name"], "; ".join(parts) or "none")


# -- STRICT blockers -----------------------------------------------------------------
def sidecar_ready(pod):
    """Whether a pod runs a ready istio-proxy: a container, or a native sidecar (init container, restartPolicy Always)."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    if any(c.get("name") == SIDECAR_CONTAINER for c in spec.get("containers") or []):
        statuses = status.get("containerStatuses") or []
    elif any(c.get("name") == SIDECAR_CONTAINER and c.get("restartPolicy") == "Always"
             for c in spec.get("initContainers") or []):
        statuses = status.get("initContainerStatuses") or []
    else:
        return False
    return any(s.get("name") == SIDECAR_CONTAINER and s.get("ready") for s in statuses)


def _meshed_ends(spec):
    """(namespace, labels or None) of the pods that run a proxy: meshed domains' namespaces and the gateway pods."""
    ends = [(d["namespace"], None) for d in spec["domains"] if d["meshed"]]
    return ends + [(spec["gateway"]["namespace"], spec["gateway"]["pod_labels"])]


def _is_meshed(spec, namespace, labels):
    for ns, want in _meshed_ends(spec):
        if ns == namespace and (want is None or all((labels or {}).get(k) == v for k, v in want.items())):
            return True
    return False


def spec_callers(spec, extra_flows=()):
    """Every connection the spec declares into a domain or elsewhere: {name, from, to, port}.

    from/to: {namespace, labels}. extra_flows: flows of other sections (auth, telemetry) in the same shape
    as mesh_auth.auth_flows ({name, from: {namespace, pod_labels}, to: ..., port, protocol}).
    """
    by_name = {d["name"]: d for d in spec["domains"]}
    out = []
    for f in spec["flows"]:
        src, dst = by_name[f["from"]], by_name[f["to"]]
        out.append({"name": "mesh_flows %s -> %s" % (f["from"], f["to"]), "port": f["port"],
                    "from": {"namespace": src["namespace"], "labels": dict(src["pod_labels"])},
                    "to": {"namespace": dst["namespace"], "labels": workload_labels([dst], dst["namespace"])}})
    for peer in spec.get("peers") or []:
        if peer["direction"] != "ingress" or not peer["namespace"]:
            continue
        for name in peer["domains"]:
            d = by_name[name]
            for port in peer["ports"]:
                out.append({"name": "mesh_peers %s -> %s" % (peer["name"], name), "port": port,
                            "from": {"namespace": peer["namespace"], "labels": dict(peer["pod_labels"])},
                            "to": {"namespace": d["namespace"], "labels": workload_labels([d], d["namespace"])}})
    for f in extra_flows:
        out.append({"name": f["name"], "port": f["port"],
                    "from": {"namespace": f["from"]["namespace"], "labels": dict(f["from"]["pod_labels"])},
                    "to": {"namespace": f["to"]["namespace"], "labels": dict(f["to"]["pod_labels"])}})
    return out


def strict_blockers(spec, pods, extra_flows=()):
    """What stops STRICT: pods without a ready sidecar in a STRICT meshed namespace, unmeshed callers into STRICT.

    pods: every Pod of the cluster (one list call), or None when unknown (render mode: only the flows are checked).
    Returns [{namespace, pod, flow, reason}], empty when no namespace ends up STRICT.
    """
    mtls = spec.get("mtls")
    if not mtls:
        return []
    meshed = [d["namespace"] for d in spec["domains"] if d["meshed"]]
    strict_ns = [ns for ns in dict.fromkeys(meshed + [ex["namespace"] for ex in mtls["namespaces"]])
                 if namespace_mode(mtls, ns) == "strict"]
    out = []
    for pod in pods or []:
        meta = pod.get("metadata") or {}
        if meta.get("namespace") not in strict_ns or meta.get("deletionTimestamp"):
            continue
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        if not sidecar_ready(pod):
            out.append({"namespace": meta["namespace"], "pod": meta.get("name"), "flow": None,
                        "reason": "pod %s/%s runs no ready %s: under STRICT its calls to meshed workloads leave in "
                                  "plaintext and are refused" % (
                                      meta["namespace"], meta.get("name"), SIDECAR_CONTAINER)})
    for call in spec_callers(spec, extra_flows):
        src, dst = call["from"], call["to"]
        # The sidecar's own ports are not intercepted, and a destination without a proxy takes plaintext.
        if (call["port"] in SIDECAR_PORTS or _is_meshed(spec, src["namespace"], src["labels"])
                or not _is_meshed(spec, dst["namespace"], dst["labels"])):
            continue
        if port_mode(mtls, dst["namespace"], dst["labels"], call["port"]) != "strict":
            continue
        out.append({"namespace": src["namespace"], "pod": _fmt_labels(src["labels"]), "flow": call["name"],
                    "reason": "%s: %s (%s, no sidecar) -> %s port %s, which is STRICT: plaintext is refused" % (
                        call["name"], src["namespace"], _fmt_labels(src["labels"]), dst["namespace"], call["port"])})
    return out


def _fmt_labels(labels):
    return ",".join("%s=%s" % kv for kv in sorted((labels or {}).items())) or "any pod"
