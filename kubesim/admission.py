"""Built-in defaulting and validation applied on writes (a small subset of the API server's)."""
from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Any

from .errors import invalid
from .objects import name_of

if TYPE_CHECKING:
    from .api import Api

DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
NODE_PORT_RANGE = (30000, 32767)
SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
ANNOTATIONS_MAX_BYTES = 256 * 1024
LABEL_NAMES_ONLY = {"namespaces", "services"}  # kinds whose names must be DNS-1123 labels


def validate_meta(api: "Api", group: str, plural: str, kind: str, obj: dict) -> None:
    name = name_of(obj)
    causes: list[tuple[str, str]] = []
    rx = DNS1123_LABEL if plural in LABEL_NAMES_ONLY else DNS1123_SUBDOMAIN
    if plural not in ("clusterroles", "clusterrolebindings", "roles", "rolebindings") and name and \
            (not rx.match(name) or len(name) > 253):
        what = "RFC 1123 label" if rx is DNS1123_LABEL else "RFC 1123 subdomain"
        causes.append(("metadata.name", f'Invalid value: "{name}": a lowercase {what} must consist of lower case '
                                        f"alphanumeric characters, '-' or '.', and must start and end with an "
                                        f"alphanumeric character"))
    for k, v in ((obj.get("metadata") or {}).get("labels") or {}).items():
        if not isinstance(v, str) or len(v) > 63 or not LABEL_VALUE.match(v):
            causes.append((f"metadata.labels", f'Invalid value: "{v}": a valid label must be an empty string or '
                                               f"consist of alphanumeric characters, '-', '_' or '.'"))
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    if sum(len(k) + len(str(v)) for k, v in annotations.items()) > ANNOTATIONS_MAX_BYTES:
        # what makes client-side `kubectl apply` of very large CRDs fail on a real cluster
        causes.append(("metadata.annotations", f"Too long: must have at most {ANNOTATIONS_MAX_BYTES} bytes"))
    if causes:
        raise invalid(group, kind, name, causes)


def default_pod_spec(spec: dict) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("terminationMessagePolicy", "File")
        image = str(c.get("image", ""))
        c.setdefault("imagePullPolicy", "Always" if image.endswith(":latest") or ":" not in image.split("/")[-1]
                     else "IfNotPresent")
        c.setdefault("resources", {})
        for p in c.get("ports") or []:
            p.setdefault("protocol", "TCP")


def apply_defaults(api: "Api", plural: str, group: str, obj: dict, old: dict | None) -> None:
    spec = obj.get("spec")
    if group == "apps" and plural in ("deployments", "replicasets", "statefulsets", "daemonsets"):
        spec = obj.setdefault("spec", {})
        if plural != "daemonsets":
            spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)
        if plural == "deployments":
            strategy = spec.setdefault("strategy", {})
            strategy.setdefault("type", "RollingUpdate")
            if strategy["type"] == "RollingUpdate":
                ru = strategy.setdefault("rollingUpdate", {})
                ru.setdefault("maxUnavailable", "25%")
                ru.setdefault("maxSurge", "25%")
            spec.setdefault("progressDeadlineSeconds", 600)
        if plural == "statefulsets":
            spec.setdefault("podManagementPolicy", "OrderedReady")
            spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
        if plural == "daemonsets":
            spec.setdefault("updateStrategy", {"type": "RollingUpdate",
                                               "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
        tmpl = spec.setdefault("template", {})
        tmpl.setdefault("metadata", {})
        default_pod_spec(tmpl.setdefault("spec", {}))
    elif group == "batch" and plural == "jobs":
        spec = obj.setdefault("spec", {})
        spec.setdefault("backoffLimit", 6)
        spec.setdefault("completions", 1)
        spec.setdefault("parallelism", 1)
        tmpl = spec.setdefault("template", {})
        tmpl.setdefault("spec", {}).setdefault("restartPolicy", "Never")
        default_pod_spec(tmpl["spec"])
    elif group == "" and plural == "pods":
        spec = obj.setdefault("spec", {})
        default_pod_spec(spec)
        spec.setdefault("serviceAccountName", spec.get("serviceAccount", "default"))
        spec.setdefault("serviceAccount", spec["serviceAccountName"])
        spec.setdefault("enableServiceLinks", True)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
        spec.setdefault("priority", 0)
        tols = spec.setdefault("tolerations", [])
        for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
            if not any(t.get("key") == key for t in tols):
                tols.append({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300})
    elif group == "" and plural == "services":
        default_service(api, obj, old)
    elif group == "" and plural == "namespaces":
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj.setdefault("status", {"phase": "Active"})
        obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name_of(obj)
    elif group == "" and plural == "secrets":
        obj.setdefault("type", "Opaque")
        sdata = obj.pop("stringData", None)
        if sdata:
            import base64
            data = obj.setdefault("data", {})
            for k, v in sdata.items():
                data[k] = base64.b64encode(str(v).encode()).decode()
    elif group == "policy" and plural == "poddisruptionbudgets":
        pass


def default_service(api: "Api", obj: dict, old: dict | None) -> None:
    spec = obj.setdefault("spec", {})
    stype = spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    old_spec = (old or {}).get("spec") or {}
    if stype != "ExternalName":
        if not spec.get("clusterIP"):
            spec["clusterIP"] = old_spec.get("clusterIP") or api.allocate_cluster_ip()
        if spec["clusterIP"] != "None":
            spec["clusterIPs"] = [spec["clusterIP"]]
        else:
            spec["clusterIPs"] = ["None"]
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
    old_ports = {(p.get("port"), p.get("protocol", "TCP")): p for p in old_spec.get("ports") or []}
    for p in spec.get("ports") or []:
        p.setdefault("protocol", "TCP")
        p.setdefault("targetPort", p.get("port"))
        if stype in ("NodePort", "LoadBalancer"):
            if not p.get("nodePort"):
                prev = old_ports.get((p.get("port"), p["protocol"]))
                p["nodePort"] = (prev or {}).get("nodePort") or api.allocate_node_port(exclude_obj=obj)
        else:
            p.pop("nodePort", None)
    if stype in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if stype == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    obj.setdefault("status", {"loadBalancer": {}})


def validate_service(api: "Api", obj: dict) -> None:
    spec = obj.get("spec") or {}
    name = name_of(obj)
    seen: set[int] = set()
    for i, p in enumerate(spec.get("ports") or []):
        np = p.get("nodePort")
        if not np:
            continue
        if not NODE_PORT_RANGE[0] <= int(np) <= NODE_PORT_RANGE[1]:
            raise invalid("", "Service", name, [(f"spec.ports[{i}].nodePort",
                          f"Invalid value: {np}: provided port is not in the valid range. "
                          f"The range of valid ports is {NODE_PORT_RANGE[0]}-{NODE_PORT_RANGE[1]}")])
        if np in seen or api.node_port_in_use(int(np), obj):
            raise invalid("", "Service", name, [(f"spec.ports[{i}].nodePort",
                                                 f"Invalid value: {np}: provided port is already allocated")])
        seen.add(np)
    ip = spec.get("clusterIP")
    if ip and ip != "None" and api.cluster_ip_in_use(ip, obj):
        raise invalid("", "Service", name, [("spec.clusterIPs",
                                             f"Invalid value: []string{{\"{ip}\"}}: failed to allocate IP {ip}: "
                                             f"provided IP is already allocated")])


def validate_required(group: str, plural: str, kind: str, obj: dict) -> None:
    """A few required fields real clients rely on getting Invalid for."""
    name = name_of(obj)
    spec: Any = obj.get("spec") or {}
    causes: list[tuple[str, str]] = []
    if group == "apps" and plural in ("deployments", "replicasets", "statefulsets", "daemonsets"):
        sel = spec.get("selector")
        tlabels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        if not sel:
            causes.append(("spec.selector", "Required value"))
        else:
            from .selectors import match_label_selector
            if not match_label_selector(sel, tlabels):
                causes.append(("spec.template.metadata.labels",
                               f"Invalid value: {tlabels!r}: `selector` does not match template `labels`"))
        if not ((spec.get("template") or {}).get("spec") or {}).get("containers"):
            causes.append(("spec.template.spec.containers", "Required value"))
    if group == "" and plural == "pods":
        if not spec.get("containers"):
            causes.append(("spec.containers", "Required value"))
        for i, c in enumerate(spec.get("containers") or []):
            if not c.get("image"):
                causes.append((f"spec.containers[{i}].image", "Required value"))
    if causes:
        raise invalid(group, kind, name, causes)


def check_immutable(group: str, plural: str, kind: str, old: dict, new: dict) -> None:
    name = name_of(new)
    if group == "apps" and plural in ("deployments", "replicasets", "statefulsets", "daemonsets"):
        if (old.get("spec") or {}).get("selector") != (new.get("spec") or {}).get("selector"):
            raise invalid(group, kind, name, [("spec.selector", f"Invalid value: {new['spec'].get('selector')!r}: "
                                                                "field is immutable")])
    if group == "batch" and plural == "jobs":
        if ((old.get("spec") or {}).get("template") or {}).get("spec") != \
                ((new.get("spec") or {}).get("template") or {}).get("spec"):
            raise invalid(group, kind, name, [("spec.template", "Invalid value: field is immutable")])
    if (old.get("immutable") and plural in ("configmaps", "secrets")
            and (old.get("data") != new.get("data") or old.get("binaryData") != new.get("binaryData"))):
        raise invalid(group, kind, name, [("data", "Forbidden: field is immutable when `immutable` is set")])

