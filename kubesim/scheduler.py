"""Pod placement like kube-scheduler's filter phase, with its failure messages."""
from __future__ import annotations



from .objects import name_of, parse_quantity

NOT_READY_TAINT = {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}
UNSCHEDULABLE_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
_RESOURCE_REASONS = ("Insufficient ", "Too many pods")


def tolerates(tolerations: list[dict], taint: dict) -> bool:
    for t in tolerations or []:
        if t.get("effect") and t.get("effect") != taint.get("effect"):
            continue
        op = t.get("operator", "Equal")
        if op == "Exists":
            if not t.get("key") or t.get("key") == taint.get("key"):
                return True
        elif t.get("key") == taint.get("key") and (t.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def node_ready(node: dict) -> bool:
    conds = (node.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds)


def _match_expr(value: str | None, present: bool, expr: dict) -> bool:
    op, vals = expr.get("operator"), expr.get("values") or []
    if op == "In":
        return present and value in vals
    if op == "NotIn":
        return not present or value not in vals
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt"):
        try:
            v, ref = int(value or ""), int(vals[0])
        except (ValueError, IndexError):
            return False
        return v > ref if op == "Gt" else v < ref
    return False


def _term_matches(term: dict, node: dict) -> bool:
    labels = (node.get("metadata") or {}).get("labels") or {}
    exprs = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not exprs and not fields:
        return False  # an empty term matches no objects
    for e in exprs:
        if not _match_expr(labels.get(e.get("key")), e.get("key") in labels, e):
            return False
    for f in fields:
        if f.get("key") == "metadata.name":
            if not _match_expr(name_of(node), True, f):
                return False
        else:
            return False
    return True


def affinity_matches(pod_spec: dict, node: dict) -> bool:
    labels = (node.get("metadata") or {}).get("labels") or {}
    for k, v in (pod_spec.get("nodeSelector") or {}).items():
        if labels.get(k) != v:
            return False
    required = (((pod_spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution"))
    if required:
        terms = required.get("nodeSelectorTerms") or []
        if not any(_term_matches(t, node) for t in terms):
            return False
    return True


def pod_requests(pod_spec: dict) -> tuple[float, float]:
    cpu = mem = 0.0
    for c in pod_spec.get("containers") or []:
        req = (c.get("resources") or {}).get("requests") or {}
        cpu += parse_quantity(req.get("cpu"))
        mem += parse_quantity(req.get("memory"))
    for c in pod_spec.get("initContainers") or []:
        req = (c.get("resources") or {}).get("requests") or {}
        cpu = max(cpu, parse_quantity(req.get("cpu")))
        mem = max(mem, parse_quantity(req.get("memory")))
    return cpu, mem


def filter_node(pod_spec: dict, node: dict, pods_on_node: list[dict]) -> list[str]:
    """Reasons this node cannot take the pod, from the first failing filter (empty: feasible)."""
    tols = pod_spec.get("tolerations") or []
    if (node.get("spec") or {}).get("unschedulable") and not tolerates(tols, UNSCHEDULABLE_TAINT):
        return ["node(s) were unschedulable"]
    taints = list((node.get("spec") or {}).get("taints") or [])
    if not node_ready(node) and not any(t.get("key") == NOT_READY_TAINT["key"] for t in taints):
        taints.append(NOT_READY_TAINT)
    for taint in taints:
        if taint.get("effect") not in ("NoSchedule", "NoExecute"):
            continue
        if not tolerates(tols, taint):
            return [f"node(s) had untolerated taint {{{taint.get('key')}: {taint.get('value', '')}}}"]
    if not affinity_matches(pod_spec, node):
        return ["node(s) didn't match Pod's node affinity/selector"]
    alloc = (node.get("status") or {}).get("allocatable") or {}
    reasons = []
    max_pods = int(parse_quantity(alloc.get("pods", 110)))
    if len(pods_on_node) + 1 > max_pods:
        reasons.append("Too many pods")
    cpu, mem = pod_requests(pod_spec)
    used_cpu = used_mem = 0.0
    for p in pods_on_node:
        c, m = pod_requests(p.get("spec") or {})
        used_cpu += c
        used_mem += m
    if cpu and "cpu" in alloc and used_cpu + cpu > parse_quantity(alloc["cpu"]) + 1e-9:
        reasons.append("Insufficient cpu")
    if mem and "memory" in alloc and used_mem + mem > parse_quantity(alloc["memory"]):
        reasons.append("Insufficient memory")
    return reasons


def _histogram(counts: dict[str, int]) -> str:
    return ", ".join(sorted(f"{n} {reason}" for reason, n in counts.items()))


def schedule(pod: dict, nodes: list[dict], pods_by_node: dict[str, list[dict]]) -> tuple[str | None, str]:
    """Pick a node for the pod, or return (None, the scheduler's FitError message)."""
    spec = pod.get("spec") or {}
    if not nodes:
        return None, "no nodes available to schedule pods"
    feasible: list[dict] = []
    counts: dict[str, int] = {}
    preempt: dict[str, int] = {}
    for node in nodes:
        reasons = filter_node(spec, node, pods_by_node.get(name_of(node), []))
        if not reasons:
            feasible.append(node)
            continue
        for r in reasons:
            counts[r] = counts.get(r, 0) + 1
        key = ("No preemption victims found for incoming pod"
               if all(r.startswith(_RESOURCE_REASONS) for r in reasons) else
               "Preemption is not helpful for scheduling")
        preempt[key] = preempt.get(key, 0) + 1
    if feasible:
        best = min(feasible, key=lambda n: (len(pods_by_node.get(name_of(n), [])), name_of(n)))
        return name_of(best), ""
    n = len(nodes)
    return None, (f"0/{n} nodes are available: {_histogram(counts)}. "
                  f"preemption: 0/{n} nodes are available: {_histogram(preempt)}.")


def daemon_fits(pod_spec: dict, node: dict) -> bool:
    """DaemonSet placement: taints and affinity only (the DS controller tolerates unschedulable)."""
    tols = list(pod_spec.get("tolerations") or []) + [
        {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}]
    for taint in (node.get("spec") or {}).get("taints") or []:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(tols, taint):
            return False
    return affinity_matches(pod_spec, node)


def pods_on_nodes(pods: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for p in pods:
        node = (p.get("spec") or {}).get("nodeName")
        phase = (p.get("status") or {}).get("phase")
        if node and phase not in ("Succeeded", "Failed"):
            out.setdefault(node, []).append(p)
    return out


