# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a check module returns for its list of checks, each {name, status: ok|warn|fail, message}."""
from __future__ import annotations


class ChecksStopped(Exception):
    """The checks could not go on (bad input, an unreadable cluster); `results` holds those that ran."""

    def __init__(self, message, results):
        super().__init__(message)
        self.results = results


def outcome(results):
    """RV(checks), RV(report) and RV(failed_checks) of these results."""
    return dict(checks=results, report=["[%s] %s: %s" % (r["status"], r["name"], r["message"]) for r in results],
                failed_checks=[r["name"] for r in results if r["status"] == "fail"])


def conclude(module, results, out, failure, line):
    """Warn each warning; fail with `<failure>: <line(check)> | ...` when a check failed, else exit with the outcome."""
    for r in results:
        if r["status"] == "warn":
            module.warn(r["message"])
    out.update(changed=False, **outcome(results))
    if out["failed_checks"]:
        module.fail_json(msg="%s: %s" % (failure, " | ".join(line(r) for r in results if r["status"] == "fail")), **out)
    module.exit_json(**out)


def run(module, checks, failure, line):
    """Run `checks(params, kube)` -> (results, other return values), kube() giving the client, and conclude."""
    # Here, not at the top: the pure checks modules import ChecksStopped and need no client.
    from ansible_collections.eco2.mesh.plugins.module_utils.kube import client_from_module
    try:
        results, out = checks(module.params, lambda: client_from_module(module))
    except ChecksStopped as exc:
        module.fail_json(msg=str(exc), **outcome(exc.results))
    conclude(module, results, out, failure, line)
