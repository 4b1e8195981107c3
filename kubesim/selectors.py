"""Label and field selectors: the query-string syntax and the LabelSelector object."""
from __future__ import annotations

import re
from typing import Any, Callable

from .errors import bad_request

Requirement = tuple[str, str, list[str]]  # key, operator, values

_SET_RE = re.compile(r"^\s*(!?)\s*([A-Za-z0-9._/-]+)\s*(?:(notin|in)\s*\(([^)]*)\))?\s*$")


def _split_top(expr: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in expr:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


def parse_label_selector(expr: str | None) -> list[Requirement]:
    reqs: list[Requirement] = []
    if not expr:
        return reqs
    for part in _split_top(expr):
        part = part.strip()
        if not part:
            continue
        m = re.match(r"^([A-Za-z0-9._/-]+)\s*(==|!=|=)\s*([A-Za-z0-9._-]*)$", part)
        if m:
            op = "!=" if m.group(2) == "!=" else "="
            reqs.append((m.group(1), op, [m.group(3)]))
            continue
        m = re.match(r"^([A-Za-z0-9._/-]+)\s+(in|notin)\s*\(([^)]*)\)$", part)
        if m:
            vals = [v.strip() for v in m.group(3).split(",") if v.strip()]
            reqs.append((m.group(1), m.group(2), vals))
            continue
        m = re.match(r"^(!?)\s*([A-Za-z0-9._/-]+)$", part)
        if m:
            reqs.append((m.group(2), "!" if m.group(1) else "exists", []))
            continue
        raise bad_request(f"unable to parse requirement: {part!r}")
    return reqs


def matches_requirements(labels: dict[str, str] | None, reqs: list[Requirement]) -> bool:
    labels = labels or {}
    for key, op, vals in reqs:
        has = key in labels
        val = labels.get(key)
        if op == "=" and not (has and val == vals[0]):
            return False
        if op == "!=" and has and val == vals[0]:
            return False
        if op == "in" and not (has and val in vals):
            return False
        if op == "notin" and has and val in vals:
            return False
        if op == "exists" and not has:
            return False
        if op == "!" and has:
            return False
    return True


def match_label_selector(selector: dict | None, labels: dict[str, str] | None) -> bool:
    """A metav1.LabelSelector object. None matches nothing; {} matches everything (like the API)."""
    if selector is None:
        return False
    labels = labels or {}
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, vals = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in vals:
            return False
        if op == "NotIn" and key in labels and labels[key] in vals:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _field_value(obj: dict, path: str) -> Any:
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def parse_field_selector(expr: str | None) -> Callable[[dict], bool]:
    if not expr:
        return lambda obj: True
    reqs = []
    for part in expr.split(","):
        part = part.strip()
        if not part:
            continue
        m = re.match(r"^([A-Za-z0-9._]+)\s*(==|!=|=)\s*(.*)$", part)
        if not m:
            raise bad_request(f"invalid selector: '{expr}'; can't understand '{part}'")
        reqs.append((m.group(1), m.group(2) == "!=", m.group(3)))

    def pred(obj: dict) -> bool:
        for path, negate, want in reqs:
            val = _field_value(obj, path)
            sval = "" if val is None else (str(val).lower() if isinstance(val, bool) else str(val))
            if (sval == want) == negate:
                return False
        return True
    return pred


def selector_to_string(selector: dict | None) -> str:
    """LabelSelector -> the query string form (for status.selector of scale / HPA)."""
    if not selector:
        return ""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for e in selector.get("matchExpressions") or []:
        op = e.get("operator")
        if op in ("In", "NotIn"):
            parts.append(f"{e['key']} {op.lower()} ({','.join(e.get('values') or [])})")
        elif op == "Exists":
            parts.append(e["key"])
        elif op == "DoesNotExist":
            parts.append("!" + e["key"])
    return ",".join(parts)
