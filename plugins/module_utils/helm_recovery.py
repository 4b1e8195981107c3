# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bring a Helm release out of a state that blocks the next install: pending (a run killed inside
helm), uninstalling, or failed (an install or upgrade that did not complete).

`plan_recovery` decides from the release history alone (pure); `HelmCli` runs the helm commands.
`up_to_date` tells, from the same history and the release's values, whether an upgrade would change
anything, as kubernetes.core.helm decides it (chart name-version and user-supplied values), so a run
with nothing to change does not start that module at all.
"""
from __future__ import annotations

import json

PENDING = ("pending-install", "pending-upgrade", "pending-rollback")
# Revisions a rollback may return to: the one serving now, or one an upgrade replaced.
GOOD = ("deployed", "superseded")


def plan_recovery(history, include_failed=False):
    """The action that unblocks a release, from `helm history -o json`: None when nothing is to do, else
    a dict with action (rollback|uninstall), status (of the newest revision), revision (newest) and, for a
    rollback, to_revision (the newest revision that was deployed)."""
    if not history:
        return None
    revisions = sorted(history, key=lambda r: int(r["revision"]))
    last = revisions[-1]
    status = last["status"]
    stuck = status in PENDING or status == "uninstalling" or (include_failed and status == "failed")
    if not stuck:
        return None
    plan = {"status": status, "revision": int(last["revision"]), "chart": last.get("chart", "")}
    good = [r for r in revisions[:-1] if r["status"] in GOOD]
    if status == "uninstalling" or not good:
        plan["action"] = "uninstall"
    else:
        plan["action"] = "rollback"
        plan["to_revision"] = int(good[-1]["revision"])
        plan["to_chart"] = good[-1].get("chart", "")
    return plan


def up_to_date(history, chart, values_deployed, values_wanted):
    """True when the newest revision is deployed from `chart` ("<name>-<version>") with exactly these values."""
    if not history or not chart:
        return False
    last = max(history, key=lambda r: int(r["revision"]))
    return last["status"] == "deployed" and last.get("chart") == chart and (values_deployed or {}) == (values_wanted or {})


def describe(name, namespace, plan):
    """One line for the report: what was found and what was (or would be) done."""
    found = "release %s/%s was %s at revision %d (%s)" % (namespace, name, plan["status"], plan["revision"], plan["chart"])
    if plan["action"] == "rollback":
        return "%s: rolled back to revision %d (%s)" % (found, plan["to_revision"], plan["to_chart"])
    return "%s: uninstalled (no revision was ever deployed)" % found


class HelmError(Exception):
    pass


class HelmCli:
    """The helm commands of the recovery, with the module's cluster access."""

    def __init__(self, binary, run_command, kubeconfig=None, context=None):
        self.binary = binary
        self.run_command = run_command  # the module's run_command: (argv) -> (rc, stdout, stderr)
        self.global_args = []
        if kubeconfig:
            self.global_args += ["--kubeconfig", kubeconfig]
        if context:
            self.global_args += ["--kube-context", context]

    def run(self, *args):
        rc, out, err = self.run_command([self.binary] + list(args) + self.global_args)
        if rc != 0:
            raise HelmError("%s failed (rc=%d): %s" % (" ".join(args[:2]), rc, (err or "").strip()))
        return out

    def history(self, name, namespace):
        try:
            out = self.run("history", name, "--namespace", namespace, "--output", "json", "--max", "256")
        except HelmError as err:
            if "release: not found" in str(err):
                return []
            raise
        return json.loads(out or "[]")

    def values(self, name, namespace):
        """The user-supplied values of the release's newest revision (what `helm upgrade` was given)."""
        return json.loads(self.run("get", "values", name, "--namespace", namespace, "--output", "json") or "null") or {}

    def apply(self, name, namespace, plan, timeout):
        if plan["action"] == "rollback":
            self.run("rollback", name, str(plan["to_revision"]), "--namespace", namespace, "--wait", "--timeout", timeout)
        else:
            self.run("uninstall", name, "--namespace", namespace, "--wait", "--timeout", timeout)
