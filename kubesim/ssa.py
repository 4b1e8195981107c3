"""Server-side apply: field sets (managedFields FieldsV1), conflicts, merge and pruning."""
from __future__ import annotations

import copy
import json
from typing import Any

from .errors import ApiError
from .patch import PRIMITIVE_MERGE, merge_key_for

Path = tuple[tuple[str, str], ...]  # (("f","spec"), ("k",'{"name":"x"}'), ("f","image"))

# Top-level/metadata fields the server owns; never part of a manager's field set.
_SKIP_TOP = {"apiVersion", "kind", "status"}
_SKIP_META = {"name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
              "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds"}


def _key_token(item: dict, key: str) -> str:
    return json.dumps({key: item.get(key)}, separators=(",", ":"))


def field_paths(obj: dict, include_status: bool = False) -> set[Path]:
    """Leaf paths of an object (plus keyed list items) in FieldsV1 terms."""
    out: set[Path] = set()

    def walk(v: Any, field: str, path: Path) -> None:
        if isinstance(v, dict) and v:
            for k, x in v.items():
                walk(x, k, path + (("f", k),))
        elif isinstance(v, list) and v and all(isinstance(i, dict) for i in v) and merge_key_for(field, v):
            key = merge_key_for(field, v)
            for item in v:
                ip = path + (("k", _key_token(item, key)),)
                out.add(ip + ((".", ""),))
                walk(item, "", ip)
        elif isinstance(v, list) and field in PRIMITIVE_MERGE:
            for x in v:
                out.add(path + (("v", json.dumps(x)),))
        else:
            out.add(path)

    for k, v in obj.items():
        if k in _SKIP_TOP and not (k == "status" and include_status):
            continue
        if k == "metadata" and isinstance(v, dict):
            for mk, mv in v.items():
                if mk not in _SKIP_META:
                    walk(mv, mk, (("f", "metadata"), ("f", mk)))
            continue
        walk(v, k, (("f", k),))
    return out


def to_fields_v1(paths: set[Path]) -> dict:
    root: dict = {}
    for p in sorted(paths):
        cur = root
        for kind, name in p:
            tok = "." if kind == "." else f"{kind}:{name}"
            cur = cur.setdefault(tok, {})
    return root


def from_fields_v1(tree: dict) -> set[Path]:
    out: set[Path] = set()

    def walk(node: dict, path: Path) -> None:
        if not node:
            if path:
                out.add(path)
            return
        for tok, sub in node.items():
            if tok == ".":
                out.add(path + ((".", ""),))
                continue
            kind, _, name = tok.partition(":")
            walk(sub or {}, path + ((kind, name),))
    walk(tree or {}, ())
    return out


_MISSING = object()


def value_at(obj: Any, path: Path) -> Any:
    cur = obj
    for kind, name in path:
        if kind == ".":
            return cur
        if kind == "f":
            if not isinstance(cur, dict) or name not in cur:
                return _MISSING
            cur = cur[name]
        elif kind == "k":
            want = json.loads(name)
            if not isinstance(cur, list):
                return _MISSING
            cur = next((i for i in cur if isinstance(i, dict) and all(i.get(k) == v for k, v in want.items())),
                       _MISSING)
            if cur is _MISSING:
                return _MISSING
        elif kind == "v":
            return json.loads(name) if isinstance(cur, list) and json.loads(name) in cur else _MISSING
    return cur


def _remove_path(obj: Any, path: Path) -> None:
    """Remove a leaf (or keyed item) from obj; empty parents are left for tidy_empty."""
    if not path:
        return
    if path[-1][0] == ".":
        path = path[:-1]
    parent = value_at(obj, path[:-1]) if len(path) > 1 else obj
    if parent is _MISSING:
        return
    kind, name = path[-1]
    if kind == "f" and isinstance(parent, dict):
        parent.pop(name, None)
    elif kind == "k" and isinstance(parent, list):
        want = json.loads(name)
        parent[:] = [i for i in parent if not (isinstance(i, dict) and all(i.get(k) == v for k, v in want.items()))]
    elif kind == "v" and isinstance(parent, list):
        val = json.loads(name)
        parent[:] = [i for i in parent if i != val]


def apply_merge(live: Any, applied: Any, field: str = "") -> Any:
    """Structural merge used by apply: maps merge, keyed lists merge by key, other lists are replaced."""
    if isinstance(applied, dict):
        out = copy.deepcopy(live) if isinstance(live, dict) else {}
        for k, v in applied.items():
            if v is None:
                continue
            out[k] = apply_merge(out.get(k), v, k)
        return out
    if isinstance(applied, list):
        key = merge_key_for(field, applied) if applied and all(isinstance(i, dict) for i in applied) else None
        if key and isinstance(live, list):
            out = []
            for item in applied:
                cur = next((i for i in live if isinstance(i, dict) and i.get(key) == item.get(key)), None)
                out.append(apply_merge(cur, item, ""))
            # keep live items the applier does not mention (owned by others or pruned later)
            named = {i.get(key) for i in applied}
            out += [copy.deepcopy(i) for i in live if isinstance(i, dict) and i.get(key) not in named]
            return out
        if field in PRIMITIVE_MERGE and isinstance(live, list):
            return list(live) + [x for x in applied if x not in live]
        return copy.deepcopy(applied)
    return copy.deepcopy(applied)


def _tidy_empty(obj: Any, applied_paths: set[Path], path: Path = ()) -> Any:
    if isinstance(obj, dict):
        for k in list(obj):
            v = obj[k]
            sub = path + (("f", k),)
            _tidy_empty(v, applied_paths, sub)
            if isinstance(v, (dict, list)) and not v and sub not in applied_paths and path != ():
                del obj[k]
    return obj


def _path_str(p: Path) -> str:
    out = ""
    for kind, name in p:
        if kind == "f":
            out += "." + name
        elif kind == "k":
            out += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in json.loads(name).items()) + "]"
        elif kind == "v":
            out += f"[={name}]"
    return out


def _entries(obj: dict) -> list[dict]:
    return list((obj.get("metadata") or {}).get("managedFields") or [])


def server_side_apply(live: dict, applied: dict, manager: str, force: bool, api_version: str, now: str,
                      group: str, plural: str) -> dict:
    """Return the new object; equal to `live` (same managedFields) when nothing changes."""
    new_set = field_paths(applied)
    entries = _entries(live)
    mine = next((e for e in entries if e.get("manager") == manager and e.get("operation") == "Apply"
                 and not e.get("subresource")), None)
    old_set = from_fields_v1(mine.get("fieldsV1", {})) if mine else set()
    others = [e for e in entries if e is not mine]
    conflicts: list[tuple[str, Path, dict]] = []
    for e in others:
        if e.get("subresource"):
            continue
        theirs = from_fields_v1(e.get("fieldsV1", {}))
        for p in new_set & theirs:
            if p[-1][0] == ".":
                continue
            if value_at(applied, p) != value_at(live, p):
                conflicts.append((e.get("manager", ""), p, e))
    if conflicts and not force:
        n = len(conflicts)
        lines = [f'conflict with "{m}"' + (f" using {e.get('apiVersion')}" if e.get("apiVersion") else "")
                 + f": {_path_str(p)}" for m, p, e in conflicts]
        msg = (f"Apply failed with {n} conflict{'s' if n > 1 else ''}: " + lines[0] if n == 1 else
               f"Apply failed with {n} conflicts: " + "\n".join(lines))
        raise ApiError(409, "Conflict", msg, {"causes": [{"reason": "FieldManagerConflict", "message":
                                                          f'conflict with "{m}"', "field": _path_str(p)}
                                                         for m, p, _ in conflicts]})
    forced = {p for _, p, _ in conflicts}
    new_entries_others = []
    other_union: set[Path] = set()
    for e in others:
        if e.get("subresource"):
            new_entries_others.append(e)
            continue
        theirs = from_fields_v1(e.get("fieldsV1", {}))
        keep = theirs - forced
        other_union |= keep
        if keep != theirs:
            if keep:
                e = dict(e, fieldsV1=to_fields_v1(keep), time=now)
                new_entries_others.append(e)
        else:
            new_entries_others.append(e)

    result = copy.deepcopy(live)
    stale = sorted(old_set - new_set - other_union, key=len, reverse=True)
    for p in stale:
        # don't prune a keyed item if someone else still owns something inside it
        if any(o[:len(p) - 1] == p[:-1] and len(o) >= len(p) for o in other_union if p[-1][0] == "."):
            continue
        _remove_path(result, p)
    body = {k: v for k, v in applied.items() if k not in ("apiVersion", "kind", "status")}
    meta = dict(body.get("metadata") or {})
    for k in _SKIP_META:
        meta.pop(k, None)
    body["metadata"] = meta
    result = apply_merge(result, body)
    _tidy_empty(result, new_set)

    if new_set == old_set and _strip_mf(result) == _strip_mf(live) and len(new_entries_others) == len(others):
        return live
    entry = {"manager": manager, "operation": "Apply", "apiVersion": api_version, "time": now,
             "fieldsType": "FieldsV1", "fieldsV1": to_fields_v1(new_set)}
    if mine and new_set == old_set:
        entry["time"] = mine.get("time", now)
    ordered = []
    placed = False
    for e in entries:
        if e is mine:
            ordered.append(entry)
            placed = True
        elif e in new_entries_others:
            ordered.append(e)
        else:
            match = next((x for x in new_entries_others if x.get("manager") == e.get("manager")
                          and x.get("operation") == e.get("operation")), None)
            if match:
                ordered.append(match)
    if not placed:
        ordered.append(entry)
    result.setdefault("metadata", {})["managedFields"] = ordered
    return result


def _strip_mf(obj: dict) -> dict:
    o = dict(obj)
    o["metadata"] = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    return o


def track_update(old: dict | None, new: dict, manager: str, api_version: str, now: str,
                 subresource: str | None = None) -> None:
    """Record an Update-operation manager for the fields a non-apply write changed (mutates new)."""
    new_paths = field_paths(new, include_status=bool(subresource))
    if old is None:
        changed = new_paths
    else:
        changed = {p for p in new_paths if value_at(new, p) != value_at(old, p)}
    entries = [dict(e) for e in _entries(new)] if old is None else [dict(e) for e in _entries(old)]
    if not changed:
        new.setdefault("metadata", {})["managedFields"] = entries if old is not None else []
        if not entries:
            new["metadata"].pop("managedFields", None)
        return
    out = []
    mine = None
    for e in entries:
        if e.get("manager") == manager and e.get("operation") == "Update" and e.get("subresource") == subresource:
            mine = e
            out.append(e)
            continue
        theirs = from_fields_v1(e.get("fieldsV1", {}))
        keep = theirs - changed
        if keep:
            if keep != theirs:
                e["fieldsV1"] = to_fields_v1(keep)
            out.append(e)
    if mine is None:
        mine = {"manager": manager, "operation": "Update", "apiVersion": api_version, "time": now,
                "fieldsType": "FieldsV1", "fieldsV1": {}}
        if subresource:
            mine["subresource"] = subresource
        out.append(mine)
    owned = from_fields_v1(mine.get("fieldsV1", {})) | changed
    owned = {p for p in owned if value_at(new, p) is not _MISSING}
    mine["fieldsV1"] = to_fields_v1(owned)
    mine["time"] = now
    mine["apiVersion"] = api_version
    new.setdefault("metadata", {})["managedFields"] = out
