"""Server-side printing (`as=Table`), which `kubectl get` asks for: columns like a real API server's."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Callable

from .resources import ResourceType
from .selectors import selector_to_string


def age(ts: str | None) -> str:
    if not ts:
        return "<unknown>"
    try:
        t = dt.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return "<unknown>"
    s = max(int((dt.datetime.now(dt.timezone.utc) - t).total_seconds()), 0)
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m{s % 60}s" if s % 60 else f"{m}m"
    if m < 180:
        return f"{m}m"
    h = m // 60
    if h < 48:
        return f"{h}h"
    return f"{h // 24}d"


def _col(name: str, typ: str = "string", priority: int = 0, fmt: str = "") -> dict:
    return {"name": name, "type": typ, "format": fmt, "description": "", "priority": priority}


def _pod_row(o: dict) -> list:
    st = o.get("status") or {}
    cs = st.get("containerStatuses") or []
    total = len((o.get("spec") or {}).get("containers") or [])
    ready = sum(1 for c in cs if c.get("ready"))
    reason = st.get("reason") or st.get("phase") or "Pending"
    if (o.get("metadata") or {}).get("deletionTimestamp"):
        reason = "Terminating"
    restarts = sum(int(c.get("restartCount", 0)) for c in cs)
    return [f"{ready}/{total}", reason, restarts, age(o["metadata"].get("creationTimestamp")),
            st.get("podIP") or "<none>", (o.get("spec") or {}).get("nodeName") or "<none>", "<none>", "<none>"]


def _containers(o: dict) -> tuple[str, str]:
    cs = (((o.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
    return ",".join(c.get("name", "") for c in cs), ",".join(c.get("image", "") for c in cs)


def _deploy_row(o: dict) -> list:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    names, images = _containers(o)
    return [f"{st.get('readyReplicas', 0)}/{spec.get('replicas', 1)}", st.get("updatedReplicas", 0),
            st.get("availableReplicas", 0), age(o["metadata"].get("creationTimestamp")), names, images,
            selector_to_string(spec.get("selector"))]


def _rs_row(o: dict) -> list:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    names, images = _containers(o)
    return [spec.get("replicas", 0), st.get("replicas", 0), st.get("readyReplicas", 0),
            age(o["metadata"].get("creationTimestamp")), names, images, selector_to_string(spec.get("selector"))]


def _svc_row(o: dict) -> list:
    spec = o.get("spec") or {}
    ports = []
    for p in spec.get("ports") or []:
        s = str(p.get("port"))
        if p.get("nodePort"):
            s += f":{p['nodePort']}"
        ports.append(f"{s}/{p.get('protocol', 'TCP')}")
    ing = ((o.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    ext = ",".join(i.get("ip") or i.get("hostname", "") for i in ing) or (
        "<pending>" if spec.get("type") == "LoadBalancer" else "<none>")
    sel = ",".join(f"{k}={v}" for k, v in sorted((spec.get("selector") or {}).items())) or "<none>"
    return [spec.get("type", "ClusterIP"), spec.get("clusterIP", "<none>"), ext, ",".join(ports) or "<none>",
            age(o["metadata"].get("creationTimestamp")), sel]


def _node_row(o: dict) -> list:
    st = o.get("status") or {}
    ready = next((c for c in st.get("conditions") or [] if c.get("type") == "Ready"), {})
    status = "Ready" if ready.get("status") == "True" else "NotReady"
    if (o.get("spec") or {}).get("unschedulable"):
        status += ",SchedulingDisabled"
    roles = sorted(k.split("/", 1)[1] for k in ((o["metadata"].get("labels") or {}))
                   if k.startswith("node-role.kubernetes.io/"))
    ip = next((a["address"] for a in st.get("addresses") or [] if a.get("type") == "InternalIP"), "<none>")
    info = st.get("nodeInfo") or {}
    return [status, ",".join(roles) or "<none>", age(o["metadata"].get("creationTimestamp")),
            info.get("kubeletVersion", ""), ip, "<none>", info.get("osImage", ""), info.get("kernelVersion", ""),
            info.get("containerRuntimeVersion", "")]


def _job_row(o: dict) -> list:
    st = o.get("status") or {}
    done = any(c.get("type") == "Complete" and c.get("status") == "True" for c in st.get("conditions") or [])
    return ["Complete" if done else "Running", f"{st.get('succeeded', 0)}/{(o.get('spec') or {}).get('completions', 1)}",
            "0s" if done else "", age(o["metadata"].get("creationTimestamp"))]


def _endpoints_row(o: dict) -> list:
    eps = []
    for sub in o.get("subsets") or []:
        for a in sub.get("addresses") or []:
            for p in sub.get("ports") or [{"port": None}]:
                eps.append(f"{a['ip']}:{p['port']}" if p.get("port") else a["ip"])
    text = ",".join(eps[:3]) + (f" + {len(eps) - 3} more..." if len(eps) > 3 else "")
    return [text or "<none>", age(o["metadata"].get("creationTimestamp"))]


def _event_row(o: dict) -> list:
    inv = o.get("involvedObject") or {}
    return [age(o.get("lastTimestamp") or o["metadata"].get("creationTimestamp")), o.get("type", ""),
            o.get("reason", ""), f"{str(inv.get('kind', '')).lower()}/{inv.get('name', '')}", o.get("message", "")]


TABLES: dict[tuple[str, str], tuple[list[dict], Callable[[dict], list]]] = {
    ("", "pods"): ([_col("Ready"), _col("Status"), _col("Restarts", "string"), _col("Age"),
                    _col("IP", priority=1), _col("Node", priority=1), _col("Nominated Node", priority=1),
                    _col("Readiness Gates", priority=1)], _pod_row),
    ("apps", "deployments"): ([_col("Ready"), _col("Up-to-date", "integer"), _col("Available", "integer"),
                               _col("Age"), _col("Containers", priority=1), _col("Images", priority=1),
                               _col("Selector", priority=1)], _deploy_row),
    ("apps", "replicasets"): ([_col("Desired", "integer"), _col("Current", "integer"), _col("Ready", "integer"),
                               _col("Age"), _col("Containers", priority=1), _col("Images", priority=1),
                               _col("Selector", priority=1)], _rs_row),
    ("", "services"): ([_col("Type"), _col("Cluster-IP"), _col("External-IP"), _col("Port(s)"), _col("Age"),
                        _col("Selector", priority=1)], _svc_row),
    ("", "nodes"): ([_col("Status"), _col("Roles"), _col("Age"), _col("Version"), _col("Internal-IP", priority=1),
                     _col("External-IP", priority=1), _col("OS-Image", priority=1),
                     _col("Kernel-Version", priority=1), _col("Container-Runtime", priority=1)], _node_row),
    ("", "namespaces"): ([_col("Status"), _col("Age")],
                         lambda o: [(o.get("status") or {}).get("phase", "Active"),
                                    age(o["metadata"].get("creationTimestamp"))]),
    ("", "configmaps"): ([_col("Data", "integer"), _col("Age")],
                         lambda o: [len(o.get("data") or {}) + len(o.get("binaryData") or {}),
                                    age(o["metadata"].get("creationTimestamp"))]),
    ("", "secrets"): ([_col("Type"), _col("Data", "integer"), _col("Age")],
                      lambda o: [o.get("type", "Opaque"), len(o.get("data") or {}),
                                 age(o["metadata"].get("creationTimestamp"))]),
    ("", "endpoints"): ([_col("Endpoints"), _col("Age")], _endpoints_row),
    ("", "events"): ([_col("Last Seen"), _col("Type"), _col("Reason"), _col("Object"), _col("Message")], _event_row),
    ("batch", "jobs"): ([_col("Status"), _col("Completions"), _col("Duration"), _col("Age")], _job_row),
}


def _jsonpath(obj: Any, path: str) -> Any:
    cur = obj
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path.strip().lstrip(".")):
        if part.startswith("["):
            idx = int(part[1:-1])
            cur = cur[idx] if isinstance(cur, list) and len(cur) > idx else None
        else:
            cur = cur.get(part) if isinstance(cur, dict) else None
        if cur is None:
            return None
    return cur


def table(rt: ResourceType, version: str, objects: list[dict], include: str, list_meta: dict) -> dict:
    if rt.crd and rt.printer_columns.get(version):
        cols = [_col(c["name"], c.get("type", "string"), c.get("priority", 0), c.get("format", ""))
                for c in rt.printer_columns[version]]
        paths = [c.get("jsonPath", "") for c in rt.printer_columns[version]]

        def row_fn(o: dict) -> list:
            out = []
            for c, p in zip(rt.printer_columns[version], paths):
                v = _jsonpath(o, p)
                out.append(age(v) if c.get("type") == "date" else v)
            return out
        if not any(c["name"] == "Age" for c in cols):
            cols.append(_col("Age", "date"))
            inner = row_fn
            row_fn = lambda o: inner(o) + [age(o["metadata"].get("creationTimestamp"))]  # noqa: E731
    elif rt.key in TABLES:
        cols, row_fn = TABLES[rt.key]
    else:
        cols, row_fn = [_col("Age")], lambda o: [age(o["metadata"].get("creationTimestamp"))]
    name_first = rt.key != ("", "events")  # kubectl shows events by time, with the name hidden at priority 1
    name_col = _col("Name", fmt="name", priority=0 if name_first else 1)
    name_col["description"] = "Name must be unique within a namespace."
    columns = [name_col] + cols if name_first else cols + [name_col]
    rows = []
    for o in objects:
        if include == "None":
            obj_ref = None
        elif include == "Object":
            obj_ref = o
        else:
            obj_ref = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]}
        cells = row_fn(o)
        cells = [o["metadata"]["name"]] + cells if name_first else cells + [o["metadata"]["name"]]
        rows.append({"cells": cells, "object": obj_ref})
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta, "columnDefinitions": columns,
            "rows": rows}


def wants_table(accept: str) -> bool:
    first = accept.split(",")[0].replace(" ", "")
    return "as=Table" in first
