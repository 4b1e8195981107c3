# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reconcile one bundle of objects: server-side dry run, apply what differs, prune by the bundle label.

A bundle is data: a name (the value of the `mesh.eco2.io/bundle` label) and the objects it
holds. `reconcile` talks to the API server through a `client` with four calls
(`list_bundle`, `dry_run`, `apply`, `delete`, see `kube.BundleClient`), so the decisions
(what changed, what to prune, the report) stay pure and testable.

Each object carries the digest of itself as applied (`mesh_spec.APPLIED_ANNOTATION`). A live object
with the same digest, no writer but our applies in its managedFields (status writes aside) and every
field we set at the value we set needs no dry run: our last apply was this very object (so the fields
we own are the same) and nobody has written it since. Anything else - a new or changed object, an
older one without the digest, an object someone else edited, a value the server normalises - goes
through the dry run as before.
"""
from __future__ import annotations

import collections
import copy
import difflib
import hashlib
import json

try:
    import yaml
except ImportError:  # ansible-core depends on PyYAML; only reports need it
    yaml = None

from ansible_collections.eco2.mesh.plugins.module_utils import k8s_objects
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_spec as ms
from ansible_collections.eco2.mesh.plugins.module_utils.plain import plain

_VOLATILE = ("managedFields", "resourceVersion", "uid", "creationTimestamp", "generation")


class BundleError(Exception):
    pass


key = k8s_objects.key
ref = k8s_objects.ref


def digest(obj):
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def owned(objects, bundle):
    """The objects with the ownership labels of the bundle (what makes them prunable later) and their digest."""
    out = []
    for obj in plain(objects or []):
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        meta["labels"] = dict(meta.get("labels") or {}, **ms.ownership_labels(bundle))
        annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k != ms.APPLIED_ANNOTATION}
        if annotations:
            meta["annotations"] = annotations
        else:
            meta.pop("annotations", None)
        meta["annotations"] = dict(annotations, **{ms.APPLIED_ANNOTATION: digest(obj)})
        out.append(obj)
    return out


def holds(live, wanted):
    """Every field of `wanted` is in `live` with the same value (lists: same length, item by item)."""
    if isinstance(wanted, dict):
        return isinstance(live, dict) and all(k in live and holds(live[k], v) for k, v in wanted.items())
    if isinstance(wanted, list):
        return isinstance(live, list) and len(live) == len(wanted) and all(map(holds, live, wanted))
    return type(live) is type(wanted) and live == wanted


def only_ours(live):
    """No writer but our applies has touched the object (status writes aside). An edit by anyone else - inside
    an atomic list or a selector, where `holds` cannot see an added key - leaves its manager here."""
    return all(m.get("subresource") or (m.get("manager") == ms.FIELD_MANAGER and m.get("operation") == "Apply")
               for m in (live.get("metadata") or {}).get("managedFields") or [])


def unchanged(live, wanted):
    """True when an apply of `wanted` would change nothing in `live` (see the module's docstring)."""
    meta = live.get("metadata") or {}
    return (not meta.get("deletionTimestamp")
            and (meta.get("annotations") or {}).get(ms.APPLIED_ANNOTATION) == wanted["metadata"]["annotations"][ms.APPLIED_ANNOTATION]
            and only_ours(live)
            and holds(live, wanted))


def kinds_of(objects, extra=()):
    """(apiVersion, kind) pairs of the objects plus `extra`, first-seen order."""
    seen = []
    for pair in [(o.get("apiVersion"), o.get("kind")) for o in objects] + [tuple(p) for p in extra]:
        if pair not in seen:
            seen.append(pair)
    return seen


def comparable(obj):
    """What a write could change: the object without status and server-kept metadata, plus our field set."""
    obj = copy.deepcopy(obj or {})
    obj.pop("status", None)
    meta = obj.get("metadata") or {}
    ours = [m.get("fieldsV1") for m in meta.get("managedFields") or []
            if m.get("manager") == ms.FIELD_MANAGER and m.get("operation") == "Apply"]
    for k in _VOLATILE:
        meta.pop(k, None)
    return obj, ours


def differs(live, dry_run):
    return comparable(live) != comparable(dry_run)


def _yaml_lines(obj):
    stripped = comparable(obj)[0]
    return yaml.safe_dump(stripped, sort_keys=True, default_flow_style=False).splitlines()


def diff_lines(before, after):
    lines = difflib.unified_diff(_yaml_lines(before), _yaml_lines(after), "before", "after", lineterm="", n=1)
    return ["    " + line for line in lines]


def stale(live, desired):
    """Live objects of the bundle that are not in the desired set, sorted."""
    wanted = {key(o) for o in desired}
    return sorted((o for o in live if key(o) not in wanted), key=key)


def reconcile(client, bundle, objects, kinds=(), prune=True, check_mode=False, verify=True):
    """Bring the bundle on the cluster to `objects`. Returns the result dict of the module."""
    desired = owned(objects, bundle)
    counts = collections.Counter(key(o) for o in desired)  # a count per object was quadratic: 50 s at 5,500 objects
    dupes = sorted({ref(o) for o in desired if counts[key(o)] > 1})
    if dupes:
        raise BundleError("bundle %s holds the same object twice: %s" % (bundle, ", ".join(dupes)))
    pairs = kinds_of(desired, list(ms.BUNDLE_KINDS.get(bundle, [])) + list(kinds))
    live = client.list_bundle(pairs, ms.bundle_selector(bundle))
    live_by_key = {key(o): o for o in live}

    changes, report, diffs, changed_objects = [], [], [], []
    for obj in desired:
        current = live_by_key.get(key(obj))
        if current is not None and unchanged(current, obj):
            continue
        after = client.dry_run(obj)
        if current is None:
            changes.append({"action": "create", "object": ref(obj)})
            report.append("create %s" % ref(obj))
            diffs.append({"before": "", "after": "\n".join(_yaml_lines(after)) + "\n",
                          "after_header": ref(obj)})
            changed_objects.append(obj)
        elif differs(current, after):
            changes.append({"action": "update", "object": ref(obj)})
            report.append("update %s" % ref(obj))
            report += diff_lines(current, after)
            diffs.append({"before": "\n".join(_yaml_lines(current)) + "\n", "after": "\n".join(_yaml_lines(after)) + "\n",
                          "before_header": ref(obj), "after_header": ref(obj)})
            changed_objects.append(obj)
    pruned = stale(live, desired) if prune else []
    for obj in pruned:
        changes.append({"action": "delete", "object": ref(obj)})
        report.append("delete %s" % ref(obj))
        diffs.append({"before": "\n".join(_yaml_lines(obj)) + "\n", "after": "", "before_header": ref(obj)})

    if not check_mode:
        for obj in changed_objects:
            client.apply(obj)
        for obj in pruned:
            client.delete(obj)

    result = {"changed": bool(changes), "bundle": bundle, "changes": changes, "report": report, "diff": diffs,
              "objects": sorted(ref(o) for o in desired)}
    if verify and not check_mode:
        after_live = client.list_bundle(pairs, ms.bundle_selector(bundle))
        live_refs = {ref(o) for o in after_live}
        result["missing"] = sorted(set(result["objects"]) - live_refs)
        result["extra"] = sorted(live_refs - set(result["objects"])) if prune else []
    return result
