# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""eco2.mesh.mesh_validate: gathers the variables, role files and inventory, runs module_utils.input_validation."""
from __future__ import annotations

import os

import yaml

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.eco2.mesh.plugins.module_utils import input_validation

ROLES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "roles")


# libyaml's loader when PyYAML has it: the pure-Python one costs more than the checks themselves.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load(path):
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=SAFE_LOADER) or {}


def role_files(roles):
    """({role: main entry point options}, the roles' defaults merged) read from the collection's roles/."""
    specs, defaults = {}, {}
    for role in roles:
        spec = _load(os.path.join(ROLES_DIR, role, "meta", "argument_specs.yml"))
        specs[role] = ((spec.get("argument_specs") or {}).get("main") or {}).get("options") or {}
        defaults.update(_load(os.path.join(ROLES_DIR, role, "defaults", "main.yml")))
    return specs, defaults


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def _template(self, task_vars, names, errors):
        out = {}
        for name in sorted(names):
            if name in task_vars:
                try:
                    out[name] = self._templar.template(task_vars[name])
                except Exception as exc:  # pylint: disable=broad-except  # any templating failure is an input error
                    errors.append("%s: cannot be evaluated: %s" % (name, exc))
        return out

    def _hostvars(self, task_vars, hosts, errors):
        out = {}
        hostvars = task_vars.get("hostvars") or {}
        for host in hosts:
            try:
                hv = hostvars[host]
                out[host] = {name: hv[name] for name in input_validation.HOST_VARIABLES if name in hv}
            except Exception as exc:  # pylint: disable=broad-except
                errors.append("%s: its variables cannot be evaluated: %s" % (host, exc))
        return out

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        phases = self._task.args.get("phases")
        if not phases:
            phases = input_validation.selected_phases(task_vars.get("ansible_run_tags"), task_vars.get("ansible_skip_tags"))
            if not boolean(self._templar.template(task_vars.get("mesh_ui_enabled", False)), strict=False):
                phases = [p for p in phases if p not in input_validation.UI_PHASES]
        unknown = [p for p in phases if p not in input_validation.PHASES]
        if unknown:
            return dict(result, failed=True, msg="phases: %s not one of %s" % (unknown, ", ".join(input_validation.PHASES)))
        specs, defaults = role_files(input_validation.roles_of(phases))
        errors = []
        variables = self._template(task_vars, input_validation.variable_names(specs), errors)
        groups = task_vars.get("groups") or {}
        render = "mesh_render_dir" in task_vars
        join_hosts = []
        if "node_join" in phases:
            pattern = input_validation.join_pattern(variables)[0]
            join_hosts = input_validation.pattern_hosts(pattern if isinstance(pattern, str) else "", groups)[0] or []
        hostvars = self._hostvars(task_vars, join_hosts, errors)
        found, warnings = input_validation.validate(phases, variables, specs, defaults, groups, hostvars, render)
        errors += found
        if boolean(self._task.args.get("this_host", False), strict=False):
            # As this host's tasks see its variables (play, role and extra vars too), whatever the pattern selects.
            own = self._template(task_vars, input_validation.HOST_VARIABLES, errors)
            host = task_vars.get("inventory_hostname")
            errors += [e for e in input_validation.profile_errors(host, own, False) if e not in errors]
        for warning in warnings:
            self._display.warning(warning)
        result.update(changed=False, phases=list(phases), errors=errors, warnings_found=warnings)
        if errors:
            result["failed"] = True
            result["msg"] = ("Invalid input (%d problem%s), nothing was written; phases checked: %s:\n  - %s"
                             % (len(errors), "" if len(errors) == 1 else "s", ", ".join(phases), "\n  - ".join(errors)))
        else:
            result["msg"] = "The input of phases %s is valid" % ", ".join(phases)
        return result
