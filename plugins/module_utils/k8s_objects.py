# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes object helpers every part shares: identity, references, label selectors."""
from __future__ import annotations


def key(obj):
    """(kind, namespace or "", name): an object's identity within a bundle or a world."""
    meta = obj.get("metadata") or {}
    return (obj.get("kind"), meta.get("namespace") or "", meta.get("name"))


def ref(obj):
    """'Kind namespace/name' (or 'Kind name' when cluster-scoped), as reports and findings name objects."""
    meta = obj.get("metadata") or {}
    if meta.get("namespace"):
        return "%s %s/%s" % (obj.get("kind"), meta["namespace"], meta.get("name"))
    return "%s %s" % (obj.get("kind"), meta.get("name"))


def _same(labels, k, v):
    # Label values are strings on the API server; a YAML inventory may give numbers.
    return k in labels and str(labels[k]) == str(v)


def labels_match(match_labels, labels):
    """A plain label map (matchLabels, nodeSelector, a Gateway selector) against labels; {} matches all."""
    labels = labels or {}
    return all(_same(labels, k, v) for k, v in (match_labels or {}).items())


def selector_matches(selector, labels):
    """LabelSelector semantics (matchLabels and matchExpressions); {} matches all, None is the caller's case."""
    labels = labels or {}
    selector = selector or {}
    if not labels_match(selector.get("matchLabels"), labels):
        return False
    for expr in selector.get("matchExpressions") or []:
        k, op, values = expr.get("key"), expr.get("operator"), [str(v) for v in expr.get("values") or []]
        if op == "In":
            ok = k in labels and str(labels[k]) in values
        elif op == "NotIn":
            ok = not (k in labels and str(labels[k]) in values)
        elif op == "Exists":
            ok = k in labels
        elif op == "DoesNotExist":
            ok = k not in labels
        else:
            raise ValueError("unknown selector operator %r" % op)
        if not ok:
            return False
    return True
