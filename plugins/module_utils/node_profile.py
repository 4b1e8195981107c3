# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Node profiles: the labels and taints a node registers with, as data.

A profile is ``labels`` (a dict of str -> str) and ``taints`` (a list of
``{key, value, effect}``), held per host in the inventory variables
``node_profile_labels`` / ``node_profile_taints``. This module is pure Python
(no Ansible, no Kubernetes client) so filters, roles, tests and the local cluster share
one implementation of:

- validation of label keys/values and taints, with errors naming host and field;
- kubelet flags (``--node-labels=... --register-with-taints=...``) both ways;
- the systemd drop-in the node_join role writes;
- the JSON patch that repairs a Node object whose labels/taints drifted.
"""
from __future__ import annotations

import re
import shlex
from collections.abc import Mapping

from ansible_collections.eco2.mesh.plugins.module_utils.patterns import DNS1123_LABEL, LABEL_NAME

TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")

# Label keys under these prefixes belong to Kubernetes (kubelet, cloud provider,
# kubeadm): a node profile never sets them and drift repair never removes them.
SYSTEM_PREFIX_SUFFIXES = ("kubernetes.io", "k8s.io")

DROPIN_HEADER = "# Managed by eco2.mesh.node_join: the node profile's kubelet flags. Do not edit."


class NodeProfileError(ValueError):
    """Invalid node profile input; the message names the host and the field."""


def _where(host, field):
    return "%s: %s" % (host, field) if host else field


def _label_name_problem(what, text, also_allowed=""):
    """Why `text`, a label key's name part or a label value, is not one (None when it is)."""
    if len(text) > 63:
        return "the %s %r is %d characters long (at most 63)" % (what, text, len(text))
    if not LABEL_NAME.match(text):
        return ("the %s %r must consist of alphanumeric characters, '-', '_' or '.', "
                "and must start and end with an alphanumeric character%s" % (what, text, also_allowed))
    return None


def _dns_subdomain_problem(prefix):
    if len(prefix) > 253:
        return "the prefix %r is %d characters long (at most 253)" % (prefix[:40] + "...", len(prefix))
    for part in prefix.split("."):
        if not DNS1123_LABEL.match(part or "") or len(part) > 63:
            return ("the prefix %r must be a lowercase DNS subdomain (labels of a-z, 0-9 and '-', "
                    "separated by '.')" % prefix)
    return None


def label_key_problem(key):
    """None when ``key`` is a valid Kubernetes label key, else why not."""
    if not isinstance(key, str):
        return "a label key must be a string, got %s" % type(key).__name__
    if key.count("/") > 1:
        return "the key %r has more than one '/'" % key
    if "/" in key:
        prefix, name = key.split("/", 1)
        if not prefix:
            return "the key %r has an empty prefix" % key
        problem = _dns_subdomain_problem(prefix)
        if problem:
            return problem
    else:
        name = key
    if not name:
        return "the name part is empty"
    return _label_name_problem("name part", name)


def label_value_problem(value):
    """None when ``value`` is a valid label value (may be empty), else why not."""
    if not isinstance(value, str):
        return "a label value must be a string, got %s %r (quote it in YAML)" % (type(value).__name__, value)
    if value == "":
        return None
    return _label_name_problem("value", value, " (or be empty)")


def is_system_key(key):
    """True for keys Kubernetes itself manages (``*.kubernetes.io/``, ``*.k8s.io/``)."""
    if "/" not in key:
        return False
    prefix = key.split("/", 1)[0]
    return any(prefix == s or prefix.endswith("." + s) for s in SYSTEM_PREFIX_SUFFIXES)


def _stringify(value):
    """Inventory values such as ``phase: 5`` arrive as int; labels are strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if value is None:
        return ""
    return value


def normalize_labels(labels, host=None, field="node_profile_labels"):
    """Validate a labels mapping and return it as an ordered dict of str -> str."""
    if labels is None:
        return {}
    if not isinstance(labels, Mapping):
        raise NodeProfileError("%s must be a dict of label key -> value, got %s"
                               % (_where(host, field), type(labels).__name__))
    out = {}
    for key, value in labels.items():
        problem = label_key_problem(key)
        if problem:
            raise NodeProfileError("%s: invalid label key %r: %s" % (_where(host, field), key, problem))
        if is_system_key(key):
            raise NodeProfileError("%s: label key %r is reserved for Kubernetes (prefix kubernetes.io / k8s.io); "
                                   "use an unprefixed key or your own prefix" % (_where(host, field), key))
        value = _stringify(value)
        problem = label_value_problem(value)
        if problem:
            raise NodeProfileError("%s[%r]: invalid label value: %s" % (_where(host, field), key, problem))
        out[key] = value
    return out


def normalize_taints(taints, host=None, field="node_profile_taints"):
    """Validate a taint list and return it as ``[{key, value, effect}]`` (value always a str)."""
    if taints is None:
        return []
    if not isinstance(taints, list):
        raise NodeProfileError("%s must be a list of {key, value, effect}, got %s"
                               % (_where(host, field), type(taints).__name__))
    out = []
    seen = set()
    for index, taint in enumerate(taints):
        where = "%s[%d]" % (_where(host, field), index)
        if not isinstance(taint, Mapping):
            raise NodeProfileError("%s must be a dict with key, value and effect, got %r" % (where, taint))
        unknown = sorted(set(taint) - {"key", "value", "effect"})
        if unknown:
            raise NodeProfileError("%s has unknown fields %s (allowed: key, value, effect)" % (where, ", ".join(unknown)))
        key = taint.get("key")
        problem = label_key_problem(key) if key else "the key is missing or empty"
        if problem:
            raise NodeProfileError("%s.key: invalid taint key %r: %s" % (where, key, problem))
        value = _stringify(taint.get("value", ""))
        problem = label_value_problem(value)
        if problem:
            raise NodeProfileError("%s.value: invalid taint value: %s" % (where, problem))
        effect = taint.get("effect")
        if effect not in TAINT_EFFECTS:
            raise NodeProfileError("%s.effect: invalid taint effect %r for key %r: must be one of %s"
                                   % (where, effect, key, ", ".join(TAINT_EFFECTS)))
        if (key, effect) in seen:
            raise NodeProfileError("%s: duplicate taint %s:%s (a node has at most one taint per key and effect)"
                                   % (where, key, effect))
        seen.add((key, effect))
        out.append({"key": key, "value": value, "effect": effect})
    return out


def normalize_profile(profile, host=None):
    """Accept ``{labels, taints}`` or the inventory form ``{node_profile_labels, node_profile_taints}``."""
    if not isinstance(profile, Mapping):
        raise NodeProfileError("%s must be a dict with labels and taints, got %s"
                               % (_where(host, "node profile"), type(profile).__name__))
    if "node_profile_labels" in profile or "node_profile_taints" in profile:
        labels, taints = profile.get("node_profile_labels"), profile.get("node_profile_taints")
        lf, tf = "node_profile_labels", "node_profile_taints"
    elif "labels" in profile or "taints" in profile:
        labels, taints = profile.get("labels"), profile.get("taints")
        lf, tf = "labels", "taints"
    else:
        raise NodeProfileError("%s has neither labels/taints nor node_profile_labels/node_profile_taints "
                               "(pass the profile, or the host's variables)" % _where(host, "node profile"))
    return {"labels": normalize_labels(labels, host, lf), "taints": normalize_taints(taints, host, tf)}


def format_taint(taint):
    if taint.get("value"):
        return "%s=%s:%s" % (taint["key"], taint["value"], taint["effect"])
    return "%s:%s" % (taint["key"], taint["effect"])


def kubelet_flags(profile, host=None, provider_id=None):
    """The kubelet flags for a profile, e.g. ``--node-labels=a=b --register-with-taints=k=v:NoSchedule``."""
    prof = normalize_profile(profile, host)
    flags = []
    if prof["labels"]:
        flags.append("--node-labels=" + ",".join("%s=%s" % kv for kv in prof["labels"].items()))
    if prof["taints"]:
        flags.append("--register-with-taints=" + ",".join(format_taint(t) for t in prof["taints"]))
    if provider_id:
        flags.append("--provider-id=" + provider_id)
    return " ".join(flags)


def _parse_taint(text, host, index):
    field = "--register-with-taints[%d]" % index
    if ":" not in text:
        raise NodeProfileError("%s: taint %r has no effect (expected key=value:Effect)" % (_where(host, field), text))
    keyval, effect = text.rsplit(":", 1)
    key, _sep, value = keyval.partition("=")
    return {"key": key, "value": value, "effect": effect}


def parse_kubelet_flags(text, host=None):
    """Parse kubelet flags (or a whole ``KUBELET_EXTRA_ARGS=...`` line) back into a profile.

    Returns ``{labels, taints, provider_id, other}`` where ``other`` lists the
    flags that are not profile flags. Duplicate label keys or taints are errors.
    """
    if not isinstance(text, str):
        raise NodeProfileError("%s must be a string, got %s" % (_where(host, "kubelet flags"), type(text).__name__))
    text = text.strip()
    if text.startswith("KUBELET_EXTRA_ARGS="):
        text = text[len("KUBELET_EXTRA_ARGS="):]
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        raise NodeProfileError("%s: cannot split %r: %s" % (_where(host, "kubelet flags"), text, exc))
    labels, taints, other = {}, [], []
    provider_id = None
    seen_flags = set()
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        name, eq, val = tok.partition("=")
        if name in ("--node-labels", "--register-with-taints", "--provider-id"):
            if not eq:
                if i + 1 >= len(tokens):
                    raise NodeProfileError("%s has no value" % _where(host, name))
                i += 1
                val = tokens[i]
            if name in seen_flags:
                raise NodeProfileError("%s is given more than once" % _where(host, name))
            seen_flags.add(name)
            if name == "--node-labels":
                for item in filter(None, val.split(",")):
                    key, sep, value = item.partition("=")
                    if not sep:
                        raise NodeProfileError("%s: label %r has no '=' (expected key=value)"
                                               % (_where(host, "--node-labels"), item))
                    if key in labels:
                        raise NodeProfileError("%s: duplicate label key %r" % (_where(host, "--node-labels"), key))
                    labels[key] = value
            elif name == "--register-with-taints":
                taints = [_parse_taint(t, host, n) for n, t in enumerate(filter(None, val.split(",")))]
            else:
                provider_id = val
        else:
            other.append(tok)
        i += 1
    prof = {"labels": normalize_labels(labels, host, "--node-labels"),
            "taints": normalize_taints(taints, host, "--register-with-taints")}
    prof["provider_id"] = provider_id
    prof["other"] = other
    return prof


def provider_id(availability_zone, instance_id):
    """The AWS provider ID ``aws:///<az>/<instance-id>``."""
    if not availability_zone or not instance_id:
        return None
    return "aws:///%s/%s" % (availability_zone, instance_id)


def render_dropin(profile, host=None, provider_id=None, extra_args=None):
    """The content of the kubelet systemd drop-in for a profile."""
    flags = kubelet_flags(profile, host, provider_id)
    if extra_args:
        flags = (flags + " " + " ".join(extra_args)).strip()
    if '"' in flags or "\\" in flags:
        raise NodeProfileError("%s: flags must not contain quotes or backslashes" % _where(host, "kubelet flags"))
    return "%s\n[Service]\nEnvironment=\"KUBELET_EXTRA_ARGS=%s\"\n" % (DROPIN_HEADER, flags)


_ENV_RE = re.compile(r'^\s*Environment\s*=\s*"?KUBELET_EXTRA_ARGS=(?P<flags>[^"]*)"?\s*$', re.M)


def parse_dropin(text, host=None):
    """The profile a drop-in written by render_dropin registers."""
    m = _ENV_RE.search(text or "")
    if not m:
        raise NodeProfileError("%s: no Environment=\"KUBELET_EXTRA_ARGS=...\" line" % _where(host, "kubelet drop-in"))
    return parse_kubelet_flags(m.group("flags"), host)


def owns_key(key, owned_prefixes=()):
    """Whether drift repair owns a label/taint key: unprefixed keys and keys under owned prefixes."""
    if "/" not in key:
        return True
    prefix = key.split("/", 1)[0]
    return prefix in (owned_prefixes or ())


def _json_pointer(token):
    return token.replace("~", "~0").replace("/", "~1")


def node_drift(node, profile, host=None, owned_prefixes=(), provider_id=None):
    """Compare a Node object with a profile.

    Returns ``{labels_add, labels_change, labels_remove, taints_current, taints_desired,
    taints_changed, provider_id_current, provider_id_set, provider_id_conflict, patch}``
    where ``patch`` is the JSON patch (list of ops) that repairs the drift. Labels and
    taints with keys the profile does not own (``*.kubernetes.io``, other prefixes)
    are left alone.
    """
    prof = normalize_profile(profile, host)
    node = node or {}
    meta = node.get("metadata") or {}
    spec = node.get("spec") or {}
    current = dict(meta.get("labels") or {})
    desired = prof["labels"]
    add = {k: v for k, v in desired.items() if k not in current}
    change = {k: v for k, v in desired.items() if k in current and current[k] != v}
    remove = sorted(k for k in current if k not in desired and owns_key(k, owned_prefixes) and not is_system_key(k))

    cur_taints = [{"key": t.get("key"), "value": t.get("value", "") or "", "effect": t.get("effect")}
                  for t in (spec.get("taints") or [])]
    kept = [t for t in (spec.get("taints") or [])
            if not (owns_key(t.get("key", ""), owned_prefixes) and not is_system_key(t.get("key", "")))
            and not any(t.get("key") == d["key"] and t.get("effect") == d["effect"] for d in prof["taints"])]
    kept_norm = [{"key": t.get("key"), "value": t.get("value", "") or "", "effect": t.get("effect")} for t in kept]

    def _canon(ts):
        return sorted((t["key"], t["value"], t["effect"]) for t in ts)

    taints_changed = _canon(cur_taints) != _canon(kept_norm + prof["taints"])
    desired_taints = list(kept) + [dict(t) if t["value"] else {"key": t["key"], "effect": t["effect"]}
                                   for t in prof["taints"]]

    patch = []
    if add or change or remove:
        if "labels" not in meta or meta.get("labels") is None:
            patch.append({"op": "add", "path": "/metadata/labels", "value": dict(desired)})
        else:
            for k, v in add.items():
                patch.append({"op": "add", "path": "/metadata/labels/" + _json_pointer(k), "value": v})
            for k, v in change.items():
                patch.append({"op": "replace", "path": "/metadata/labels/" + _json_pointer(k), "value": v})
            for k in remove:
                patch.append({"op": "remove", "path": "/metadata/labels/" + _json_pointer(k)})
    if taints_changed:
        patch.append({"op": "add", "path": "/spec/taints", "value": desired_taints})

    pid_current = spec.get("providerID") or ""
    pid_set = bool(provider_id) and not pid_current
    pid_conflict = bool(provider_id) and bool(pid_current) and pid_current != provider_id
    if pid_set:
        patch.append({"op": "add", "path": "/spec/providerID", "value": provider_id})
    return {
        "labels_add": add,
        "labels_change": change,
        "labels_remove": remove,
        "taints_current": cur_taints,
        "taints_desired": kept_norm + prof["taints"],
        "taints_changed": taints_changed,
        "provider_id_current": pid_current,
        "provider_id_set": pid_set,
        "provider_id_conflict": pid_conflict,
        "patch": patch,
    }


def node_ready(node):
    """True when the Node's Ready condition is True."""
    for cond in ((node or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return False
