# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Can a pod with this placement be scheduled on one of these nodes?

A small, pure re-implementation of the scheduler predicates the Istio
releases depend on: node Ready, nodeSelector, required node affinity
(nodeSelectorTerms ORed, matchExpressions ANDed) and taints with effect
NoSchedule/NoExecute tolerated. Nodes are plain dicts as the API returns them.
"""
from __future__ import annotations

BLOCKING_EFFECTS = ("NoSchedule", "NoExecute")


def placement_from_values(chart, values):
    """nodeSelector / tolerations / required affinity terms the chart renders from these values."""
    values = values or {}
    src = (values.get("pilot") or {}) if chart == "istiod" else values
    affinity = (src.get("affinity") or {}).get("nodeAffinity") or {}
    required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    return {
        "node_selector": dict(src.get("nodeSelector") or {}),
        "tolerations": list(src.get("tolerations") or []),
        "affinity_terms": list(required.get("nodeSelectorTerms") or []),
    }


def node_name(node):
    return (node.get("metadata") or {}).get("name", "?")


def node_labels(node):
    return (node.get("metadata") or {}).get("labels") or {}


def node_ready(node):
    for cond in (node.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return str(cond.get("status")) == "True"
    return False


def taint_text(taint):
    value = taint.get("value")
    return "%s%s:%s" % (taint.get("key"), "=%s" % value if value not in (None, "") else "", taint.get("effect"))


def tolerates(toleration, taint):
    """Kubernetes semantics of one toleration against one taint."""
    effect = toleration.get("effect")
    if effect not in (None, "") and effect != taint.get("effect"):
        return False
    key = toleration.get("key")
    operator = toleration.get("operator") or "Equal"
    if key in (None, ""):
        return operator == "Exists"
    if key != taint.get("key"):
        return False
    if operator == "Exists":
        return True
    return str(toleration.get("value") or "") == str(taint.get("value") or "")


def untolerated_taints(node, tolerations):
    taints = (node.get("spec") or {}).get("taints") or []
    return [t for t in taints if t.get("effect") in BLOCKING_EFFECTS
            and not any(tolerates(tol, t) for tol in tolerations or [])]


def _expression_ok(expr, labels):
    key, op, values = expr.get("key"), expr.get("operator"), [str(v) for v in expr.get("values") or []]
    present = key in labels
    value = str(labels.get(key)) if present else None
    if op == "In":
        return present and value in values
    if op == "NotIn":
        return not present or value not in values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt"):
        try:
            left, right = int(value), int(values[0])
        except (TypeError, ValueError, IndexError):
            return False
        return left > right if op == "Gt" else left < right
    return False


def _expression_text(expr):
    op = expr.get("operator")
    values = ",".join(str(v) for v in expr.get("values") or [])
    if op == "In":
        return "%s in (%s)" % (expr.get("key"), values)
    if op == "NotIn":
        return "%s notin (%s)" % (expr.get("key"), values)
    if op == "Exists":
        return expr.get("key")
    if op == "DoesNotExist":
        return "!%s" % expr.get("key")
    return "%s %s %s" % (expr.get("key"), op, values)


def _field_ok(expr, node_name):
    """matchFields: the scheduler supports only metadata.name."""
    if expr.get("key") != "metadata.name":
        return False
    return _expression_ok(expr, {"metadata.name": node_name} if node_name else {})


def affinity_failure(terms, labels, node_name=None):
    """None when some term matches (or there are none), else a text naming what is missing.

    Like the scheduler, a term with neither matchExpressions nor matchFields matches no node.
    """
    if not terms:
        return None
    failures = []
    for term in terms:
        exprs = term.get("matchExpressions") or []
        fields = term.get("matchFields") or []
        if not exprs and not fields:
            failures.append("an empty nodeSelectorTerm (matches no node)")
            continue
        missing = [_expression_text(e) for e in exprs if not _expression_ok(e, labels)]
        missing += ["field " + _expression_text(e) for e in fields if not _field_ok(e, node_name)]
        if not missing:
            return None
        failures.append(" and ".join(missing))
    return "node affinity not satisfied (%s)" % " or ".join(failures)


def evaluate_node(node, placement):
    """Reasons this node cannot host the pod ([] when it can)."""
    reasons = []
    if not node_ready(node):
        reasons.append("not Ready")
    labels = node_labels(node)
    for key, value in sorted((placement.get("node_selector") or {}).items()):
        if key not in labels:
            reasons.append("missing label %s=%s" % (key, value))
        elif str(labels[key]) != str(value):
            reasons.append("label %s=%s, not %s=%s" % (key, labels[key], key, value))
    aff = affinity_failure(placement.get("affinity_terms"), labels, (node.get("metadata") or {}).get("name"))
    if aff:
        reasons.append(aff)
    for taint in untolerated_taints(node, placement.get("tolerations")):
        reasons.append("untolerated taint %s" % taint_text(taint))
    return reasons


def describe_placement(placement):
    parts = []
    if placement.get("node_selector"):
        parts.append("nodeSelector " + ",".join("%s=%s" % kv for kv in sorted(placement["node_selector"].items())))
    if placement.get("affinity_terms"):
        parts.append("required node affinity")
    return " and ".join(parts) or "no node constraints"


def check_placement(component, placement, nodes):
    """Returns a dict: ok, message, candidates (node names that fit), nodes ({name: [reasons]})."""
    evaluated = {node_name(n): evaluate_node(n, placement) for n in nodes or []}
    fits = sorted(name for name, reasons in evaluated.items() if not reasons)
    if fits:
        return {"ok": True, "candidates": fits, "nodes": evaluated,
                "message": "%s can be scheduled (%s) on: %s" % (component, describe_placement(placement), ", ".join(fits))}
    if not evaluated:
        msg = "%s cannot be scheduled: the cluster has no nodes" % component
    else:
        considered = "; ".join("%s (%s)" % (name, ", ".join(reasons)) for name, reasons in sorted(evaluated.items()))
        wanted = ["%s=%s" % kv for kv in sorted((placement.get("node_selector") or {}).items())]
        msg = ("%s cannot be scheduled: no Ready node %s and tolerates its NoSchedule/NoExecute taints%s. "
               "Nodes considered: %s" % (
                   component,
                   ("has label " + ", ".join(wanted)) if wanted else "satisfies its node affinity",
                   (" (missing label %s)" % ", ".join(wanted)) if wanted and all(
                       any(r.startswith("missing label") or r.startswith("label ") for r in reasons)
                       for reasons in evaluated.values()) else "",
                   considered))
    return {"ok": False, "candidates": [], "nodes": evaluated, "message": msg}
