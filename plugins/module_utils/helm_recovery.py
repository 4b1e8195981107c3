# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bring a Helm release out of a state that blocks the next install: pending (a run killed inside
helm), uninstalling, or failed (an install or upgrade that did not complete).

`plan_recovery` decides from the release history alone (pure); `HelmCli` runs the helm commands.
`up_to_date` tells, from the same history and the release's values, whether an upgrade would change
anything, as kubernetes.core.helm decides it (chart name-version and user-supplied values), so a run
with nothing to change does not start that module at all.

`HelmStorage` reads that history and those values without helm: from the release records helm keeps in
Secrets (its default storage driver), in one list request, where two helm processes cost about 0.15 s.
"""
from __future__ import annotations

import base64
import gzip
import json
import os

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


# Helm's storage driver (HELM_DRIVER, case-sensitive as helm reads it): the Secrets one is its default; any
# other is read by helm itself.
SECRETS_DRIVERS = ("", "secret", "secrets")
RELEASE_SECRET_TYPE = "helm.sh/release.v1"
GZIP_MAGIC = b"\x1f\x8b\x08"


def secrets_driver(environ=None):
    return (environ if environ is not None else os.environ).get("HELM_DRIVER", "") in SECRETS_DRIVERS


def decode_release(data):
    """A release record as helm stores it in a Secret (data.release as the API returns it: the base64 of helm's
    own base64 of the gzipped JSON, or of the plain JSON from helm versions before gzip) as a dict."""
    raw = base64.b64decode(base64.b64decode(data))
    if raw[:3] == GZIP_MAGIC:
        raw = gzip.decompress(raw)
    return json.loads(raw)


def history_row(release):
    """A release record as `helm history -o json` shows its revision."""
    meta = (release.get("chart") or {}).get("metadata") or {}
    info = release.get("info") or {}
    return {"revision": int(release.get("version") or 0), "status": info.get("status", ""),
            "chart": "%s-%s" % (meta.get("name", ""), meta.get("version", "")),
            "app_version": meta.get("appVersion", ""), "description": info.get("description", "")}


class HelmStorage:
    """`helm history` and `helm get values` from the release Secrets, through a Kube client (list_objects)."""

    def __init__(self, kube):
        self.kube = kube
        self.records = {}

    def releases(self, name, namespace):
        key = (namespace, name)
        if key not in self.records:
            try:
                secrets = self.kube.list_objects("v1", "Secret", namespace=namespace,
                                                 label_selector="owner=helm,name=%s" % name, missing_ok=False)
                self.records[key] = [decode_release(s["data"]["release"]) for s in secrets
                                     if s.get("type") == RELEASE_SECRET_TYPE and "release" in (s.get("data") or {})]
            except Exception as exc:  # pylint: disable=broad-except  # the client's and the decoders' errors
                raise HelmError("reading the release Secrets failed: %s" % exc) from exc
        return self.records[key]

    def history(self, name, namespace):
        return [history_row(release) for release in self.releases(name, namespace)]

    def values(self, name, namespace):
        """The user-supplied values of the newest revision, as `helm get values` gives them."""
        releases = self.releases(name, namespace)
        if not releases:
            raise HelmError("get values failed: release: not found")
        return max(releases, key=lambda r: int(r.get("version") or 0)).get("config") or {}


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
