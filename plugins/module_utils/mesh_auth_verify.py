# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""After the auth objects are applied (mesh_auth_verify): `istioctl analyze` of the live cluster for the
gateway's and the auth servers' namespaces, and the host/path pairs that go through ext_authz.

Pure: `analyze_command` builds the istioctl call, `analyze_messages` reads its JSON output; the module runs it.
istioctl's exit code says nothing with `-o json` (it is 0 whatever it finds), so the levels are read here.
"""
from __future__ import annotations

import json

from ansible_collections.eco2.mesh.plugins.module_utils.mesh_auth_analysis import concrete_path, policy_matches

# istioctl's levels, least severe first (its --failure-threshold accepts the same names).
LEVELS = ("Info", "Warning", "Error")
# What may fail the task, the default first: errors only, or warnings too.
FAILURE_LEVELS = ("Error", "Warning")


class AnalyzeError(Exception):
    """istioctl did not analyze (a missing namespace, output that is not its JSON)."""


def verify_namespaces(spec):
    """The gateway's namespace, the ext_authz provider's and each in-cluster JWKS Service's, in that order."""
    auth = spec["auth"]
    out = [spec["gateway"]["namespace"], auth["provider"]["namespace"]]
    out += [r["jwks_service"]["namespace"] for r in auth["jwt"] if r["jwks_service"]]
    return [ns for i, ns in enumerate(out) if ns not in out[:i]]


def auth_pairs(spec):
    """What the CUSTOM policy does per host and path, from the model.

    ext_authz: every (host, protected path); public: the (host, public path) pairs a protected path covers and the
    policy excepts (notPaths); outside: public paths no protected path covers (never sent to ext_authz anyway).
    """
    auth = spec["auth"]
    hosts, protected = auth["hosts"], auth["protected_paths"]
    scope = {"spec": {"rules": [{"to": [{"operation": {"hosts": hosts, "paths": protected}}]}]}}
    public, outside = [], []
    for path in auth["public_paths"]:
        covered = [{"host": h, "path": path} for h in hosts if policy_matches(scope, h, concrete_path(path))]
        if covered:
            public += covered
        else:
            outside.append(path)
    return {"provider": auth["provider"]["name"],
            "ext_authz": [{"host": h, "path": p} for h in hosts for p in protected],
            "public": public, "outside": outside}


def analyze_command(istioctl, namespace, kubeconfig, context, suppress):
    cmd = [istioctl, "analyze", "--namespace", namespace, "--output", "json", "--output-threshold", LEVELS[0],
           "--kubeconfig", kubeconfig]
    if context:
        cmd += ["--context", context]
    for item in suppress:
        cmd += ["--suppress", item]
    return cmd


def analyze_messages(namespace, stdout, stderr):
    """istioctl's messages for one namespace: [{namespace, level, code, origin, message}]."""
    # istioctl says this on stderr and exits 0, having analyzed nothing.
    if 'namespace "%s" not found' % namespace in stderr:
        raise AnalyzeError("namespace %s not found: istioctl analyzed nothing there" % namespace)
    try:
        messages = json.loads(stdout)
    except ValueError:
        raise AnalyzeError("istioctl analyze -n %s gave no JSON: %s" % (namespace, (stdout + stderr).strip()[-2000:]))
    if not isinstance(messages, list):
        raise AnalyzeError("istioctl analyze -n %s gave %r, not a list of messages" % (namespace, messages))
    return [{"namespace": namespace, "level": m.get("level"), "code": m.get("code"), "origin": m.get("origin"),
             "message": m.get("message")} for m in messages]


def at_least(messages, threshold):
    floor = LEVELS.index(threshold)
    return [m for m in messages if m["level"] in LEVELS and LEVELS.index(m["level"]) >= floor]


def message_line(m):
    return "%s [%s] (%s) %s" % (m["level"], m["code"], m["origin"] or m["namespace"], m["message"])


def summary_lines(pairs, analyzed, messages):
    """The auth section of the run's summary. `analyzed`: the namespaces istioctl read, or a reason it did not."""
    if isinstance(analyzed, str):
        head = "istioctl analyze %s" % analyzed
    else:
        head = "istioctl analyze -n %s: %s" % (", ".join(analyzed), ", ".join(
            "%d %s" % (len([m for m in messages if m["level"] == lvl]), lvl.lower())
            for lvl in reversed(LEVELS)))
    lines = ["Auth at the gateway, ext_authz provider %s (%s):" % (pairs["provider"], head)]
    lines += ["  ext_authz %-28s %s" % (r["host"], r["path"]) for r in pairs["ext_authz"]]
    lines += ["  public    %-28s %s" % (r["host"], r["path"]) for r in pairs["public"]]
    if pairs["outside"]:
        lines.append("  public paths outside the protected paths: %s" % ", ".join(pairs["outside"]))
    lines += ["  " + message_line(m) for m in messages]
    return lines
