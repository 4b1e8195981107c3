"""JSON patch, JSON merge patch and strategic merge patch, applied to plain dicts."""
from __future__ import annotations

import copy
from typing import Any

from .errors import ApiError, bad_request

# Field name -> merge key for lists of objects, as declared by the built-in Go types.
MERGE_KEYS: dict[str, str] = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name",
    "env": "name", "volumes": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath",
    "imagePullSecrets": "name", "conditions": "type", "hostAliases": "ip", "ownerReferences": "uid",
    "topologySpreadConstraints": "topologyKey", "readinessGates": "conditionType", "addresses": "type",
    "webhooks": "name", "secrets": "name", "resourceClaims": "name", "containerStatuses": "name",
    "initContainerStatuses": "name", "ephemeralContainerStatuses": "name",
}
# Lists of scalars with set semantics (merged, not replaced).
PRIMITIVE_MERGE = {"finalizers"}


def merge_key_for(field: str, items: list) -> str | None:
    if field == "ports":
        sample = next((i for i in items if isinstance(i, dict)), None)
        if sample is None:
            return None
        return "containerPort" if "containerPort" in sample else "port"
    return MERGE_KEYS.get(field)


# ---------------------------------------------------------------- JSON patch (RFC 6902)
def _unescape(tok: str) -> str:
    return tok.replace("~1", "/").replace("~0", "~")


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(f"invalid JSON pointer {path!r}")
    return [_unescape(t) for t in path[1:].split("/")]


def _parent(doc: Any, toks: list[str]) -> tuple[Any, str]:
    cur = doc
    for t in toks[:-1]:
        if isinstance(cur, list):
            cur = cur[int(t)]
        elif isinstance(cur, dict):
            if t not in cur:
                raise ApiError(422, "Invalid", f"the server rejected our request due to an error in our request: "
                                               f"doc is missing path: {t}")
            cur = cur[t]
        else:
            raise ApiError(422, "Invalid", "invalid JSON patch path")
    return cur, toks[-1]


def json_patch(doc: Any, ops: list[dict]) -> Any:
    if not isinstance(ops, list):
        raise bad_request("json patch must be a list of operations")
    doc = copy.deepcopy(doc)
    for op in ops:
        kind = op.get("op")
        toks = _pointer(op.get("path", ""))
        if kind == "test":
            if _get(doc, toks) != op.get("value"):
                raise ApiError(422, "Invalid", f"testing value {op.get('path')} failed")
            continue
        if kind in ("move", "copy"):
            value = copy.deepcopy(_get(doc, _pointer(op["from"])))
            if kind == "move":
                doc = _remove(doc, _pointer(op["from"]))
            doc = _add(doc, toks, value)
        elif kind == "add":
            doc = _add(doc, toks, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            doc = _remove(doc, toks)
        elif kind == "replace":
            _get(doc, toks)
            doc = _remove(doc, toks)
            doc = _add(doc, toks, copy.deepcopy(op.get("value")))
        else:
            raise bad_request(f"Unexpected kind: {kind}")
    return doc


def _get(doc: Any, toks: list[str]) -> Any:
    cur = doc
    for t in toks:
        try:
            cur = cur[int(t)] if isinstance(cur, list) else cur[t]
        except (KeyError, IndexError, ValueError, TypeError):
            raise ApiError(422, "Invalid", f"the server rejected our request due to an error in our request: "
                                           f"replace operation does not apply: doc is missing path: /{'/'.join(toks)}")
    return cur


def _add(doc: Any, toks: list[str], value: Any) -> Any:
    if not toks:
        return value
    parent, last = _parent(doc, toks)
    if isinstance(parent, list):
        if last == "-":
            parent.append(value)
        else:
            parent.insert(int(last), value)
    else:
        parent[last] = value
    return doc


def _remove(doc: Any, toks: list[str]) -> Any:
    parent, last = _parent(doc, toks)
    try:
        if isinstance(parent, list):
            del parent[int(last)]
        else:
            del parent[last]
    except (KeyError, IndexError, ValueError):
        raise ApiError(422, "Invalid", f"the server rejected our request due to an error in our request: "
                                       f"remove operation does not apply: doc is missing path: /{'/'.join(toks)}")
    return doc


# ---------------------------------------------------------------- merge patch (RFC 7386)
def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = merge_patch(result.get(k), v)
    return result


# ---------------------------------------------------------------- strategic merge patch
_DELETE = object()


def _strip_directives(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _strip_directives(x) for k, x in v.items() if not k.startswith("$") and x is not None}
    if isinstance(v, list):
        return [_strip_directives(x) for x in v if not (isinstance(x, dict) and x.get("$patch") == "delete")]
    return v


def strategic_merge(orig: Any, patch: Any) -> Any:
    out = _smp(orig, patch)
    return {} if out is _DELETE else out


def _smp(orig: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive == "delete":
        return _DELETE
    if directive == "replace":
        return _strip_directives({k: v for k, v in patch.items() if k != "$patch"})
    result = copy.deepcopy(orig) if isinstance(orig, dict) else {}
    if "$retainKeys" in patch:
        keep = set(patch["$retainKeys"] or [])
        for k in list(result):
            if k not in keep:
                del result[k]
    orders: dict[str, list] = {}
    for k, v in patch.items():
        if k.startswith("$setElementOrder/"):
            orders[k.split("/", 1)[1]] = v or []
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            field = k.split("/", 1)[1]
            if isinstance(result.get(field), list):
                result[field] = [x for x in result[field] if x not in (v or [])]
            continue
        if k.startswith("$"):
            continue
        if v is None:
            result.pop(k, None)
        elif isinstance(v, dict):
            sub = _smp(result.get(k), v)
            if sub is _DELETE:
                result.pop(k, None)
            else:
                result[k] = sub
        elif isinstance(v, list):
            result[k] = _merge_list(k, result.get(k), v)
        else:
            result[k] = copy.deepcopy(v)
    for field, order in orders.items():
        if isinstance(result.get(field), list):
            result[field] = _reorder(field, result[field], order)
    return result


def _merge_list(field: str, orig: Any, patch: list) -> list:
    orig = orig if isinstance(orig, list) else []
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return _strip_directives([i for i in patch if not (isinstance(i, dict) and i.get("$patch") == "replace")])
    key = merge_key_for(field, patch + orig)
    if key and all(isinstance(i, dict) for i in patch):
        result = copy.deepcopy(orig)
        for item in patch:
            idx = next((n for n, o in enumerate(result) if isinstance(o, dict) and o.get(key) == item.get(key)), None)
            if item.get("$patch") == "delete":
                if idx is not None:
                    del result[idx]
                continue
            if idx is None:
                result.append(_strip_directives(item))
            else:
                merged = _smp(result[idx], item)
                if merged is _DELETE:
                    del result[idx]
                else:
                    result[idx] = merged
        return result
    if field in PRIMITIVE_MERGE:
        result = list(orig)
        for x in patch:
            if x not in result:
                result.append(x)
        return result
    return _strip_directives(patch)


def _reorder(field: str, items: list, order: list) -> list:
    key = merge_key_for(field, items)

    def ident(x: Any) -> Any:
        return x.get(key) if key and isinstance(x, dict) else x
    wanted = [o.get(key) if key and isinstance(o, dict) else o for o in order]
    pos = {w: i for i, w in enumerate(wanted)}
    ordered = sorted((x for x in items if ident(x) in pos), key=lambda x: pos[ident(x)])
    rest = [x for x in items if ident(x) not in pos]
    return ordered + rest
