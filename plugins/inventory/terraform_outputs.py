# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: terraform_outputs
short_description: Inventory from C(terraform output -json) rendered through the cluster's C(hosts.tpl)
version_added: 0.1.0
description:
  - Builds the inventory Terraform would render with C(templatefile("hosts.tpl", ...)), without the manual
    render step. The plugin reads the Terraform outputs (a saved C(terraform output -json) file, or by running
    C(terraform output -json) in a Terraform working directory), substitutes each C(${name}) of the template with
    the output of that name, and parses the result exactly like the C(ini) inventory plugin parses the rendered file.
  - Because the template is the source of the groups, hosts and host variables, the inventory stays true to
    whatever template you use; nothing about the cluster layout is hard-coded here. The default template is the
    one this collection ships, C(templates/hosts.tpl) - the Eco2 cluster with the C([ingress_gateway]) group and the
    C([k8s_cluster:children]) group.
  - Template syntax supported is the subset C(hosts.tpl) files use - C(${name}) interpolation of an output or of a
    variable from O(template_vars), and the C($${) escape. Terraform directives (C(%{ for }), C(%{ if })) are
    rejected with an error naming the line.
  - The inventory source is a YAML file whose name ends in C(terraform_outputs.yml) or C(terraform_outputs.yaml).
    Put C(group_vars/) next to it as for any inventory source.
author:
  - eco2.mesh maintainers (@eco2-team)
options:
  plugin:
    description: Marks this file as an inventory source for this plugin.
    required: true
    type: str
    choices: [eco2.mesh.terraform_outputs]
  outputs_file:
    description:
      - Path of a saved C(terraform output -json) file. Relative paths are relative to the inventory source file.
      - One of O(outputs_file) and O(project_path) is required; O(outputs_file) wins when both are set.
    type: path
  project_path:
    description:
      - A Terraform working directory; the plugin runs C(terraform -chdir=PATH output -json) there.
      - Relative paths are relative to the inventory source file.
    type: path
  terraform_binary:
    description: The C(terraform) (or C(tofu)) executable used with O(project_path), a name looked up on E(PATH) or a path.
    type: str
    default: terraform
  template:
    description:
      - Path of the C(templatefile()) template. Relative paths are relative to the inventory source file.
      - Defaults to the C(templates/hosts.tpl) shipped with this collection.
    type: path
  template_vars:
    description:
      - Extra template variables, for template variables that are not Terraform outputs. Outputs win over these.
    type: dict
    default: {}
  strict_outputs:
    description:
      - Fail when an output used by the template is marked C(sensitive) in the outputs.
    type: bool
    default: true
notes:
  - The outputs' C(value) must be strings, numbers or booleans for the variables the template uses; maps and
    lists cannot be interpolated (Terraform cannot either).
  - Host variables are typed the way the C(ini) plugin types them (C(phase=5) becomes the integer 5), so the
    result equals C(ansible-inventory -i rendered-hosts --list) for the same outputs.
seealso:
  - name: Terraform templatefile function
    description: How Terraform renders the template this plugin reads.
    link: https://developer.hashicorp.com/terraform/language/functions/templatefile
"""

EXAMPLES = r"""
# inventory/dev/eco2.terraform_outputs.yml - from a saved `terraform output -json > outputs.json`
plugin: eco2.mesh.terraform_outputs
outputs_file: ../../terraform/dev/outputs.json
---
# inventory/prod/eco2.terraform_outputs.yml - run terraform in the working directory, own template
plugin: eco2.mesh.terraform_outputs
project_path: ../../terraform/prod
template: ../../terraform/templates/hosts.tpl

# Check it:
#   ansible-inventory -i inventory/dev/eco2.terraform_outputs.yml --graph
#   ansible-inventory -i inventory/dev/eco2.terraform_outputs.yml --list
"""

import json
import os
import re
import shutil
import subprocess
import tempfile

from ansible.errors import AnsibleParserError
from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.plugins.inventory import BaseInventoryPlugin
from ansible.plugins.loader import inventory_loader

_INTERP = re.compile(r"\$\$\{|\$\{\s*([^}]*?)\s*\}|%\{")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
SHIPPED_TEMPLATE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "templates", "hosts.tpl")


def render_template(text, variables, template_name="hosts.tpl"):
    """Render the ``${name}`` subset of Terraform's templatefile() syntax."""
    out = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        def repl(m, lineno=lineno):
            token = m.group(0)
            if token == "$${":
                return "${"
            if token == "%{":
                raise AnsibleParserError("%s line %d: Terraform template directives (%%{ ... }) are not supported "
                                         "by eco2.mesh.terraform_outputs; use plain ${name} interpolation"
                                         % (template_name, lineno))
            name = m.group(1)
            if not _IDENT.match(name):
                raise AnsibleParserError("%s line %d: only ${name} interpolation is supported, got ${%s}"
                                         % (template_name, lineno, name))
            if name not in variables:
                raise AnsibleParserError("%s line %d: no Terraform output or template_vars entry named %r"
                                         % (template_name, lineno, name))
            value = variables[name]
            if isinstance(value, bool):
                return "true" if value else "false"
            if isinstance(value, (str, int, float)):
                return str(value)
            raise AnsibleParserError("%s line %d: %r is a %s; only strings, numbers and booleans can be interpolated"
                                     % (template_name, lineno, name, type(value).__name__))
        out.append(_INTERP.sub(repl, line))
    return "\n".join(out)


def outputs_to_vars(outputs, strict=True, used=None):
    """``terraform output -json`` (``{name: {value, type, sensitive}}``) -> ``{name: value}``."""
    if not isinstance(outputs, dict):
        raise AnsibleParserError("terraform outputs must be a JSON object of name -> {value, type, sensitive}")
    result = {}
    for name, out in outputs.items():
        if isinstance(out, dict) and "value" in out:
            if strict and out.get("sensitive") and (used is None or name in used):
                raise AnsibleParserError("terraform output %r is sensitive; refusing to put it into the inventory "
                                         "(set strict_outputs: false to allow)" % name)
            result[name] = out["value"]
        else:
            result[name] = out
    return result


def template_variables(text):
    return {m.group(1) for m in _INTERP.finditer(text) if m.group(1)}


class InventoryModule(BaseInventoryPlugin):
    NAME = "eco2.mesh.terraform_outputs"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("terraform_outputs.yml", "terraform_outputs.yaml"))

    def _path(self, base, value):
        value = os.path.expanduser(value)
        return value if os.path.isabs(value) else os.path.normpath(os.path.join(base, value))

    def _read_outputs(self, base):
        outputs_file = self.get_option("outputs_file")
        project_path = self.get_option("project_path")
        if outputs_file:
            path = self._path(base, outputs_file)
            try:
                with open(path, encoding="utf-8") as fh:
                    return json.load(fh), path
            except (OSError, ValueError) as exc:
                raise AnsibleParserError("cannot read terraform outputs from %s: %s" % (path, to_native(exc)))
        if project_path:
            path = self._path(base, project_path)
            binary = self.get_option("terraform_binary")
            exe = shutil.which(os.path.expanduser(binary))
            if not exe:
                raise AnsibleParserError("%s not found on PATH (needed for project_path %s); save the outputs with "
                                         "'terraform output -json > outputs.json' and use outputs_file" % (binary, path))
            proc = subprocess.run([exe, "-chdir=%s" % path, "output", "-json"], capture_output=True, text=True,
                                  check=False)
            if proc.returncode != 0:
                raise AnsibleParserError("%s output -json in %s failed (rc=%d): %s"
                                         % (binary, path, proc.returncode, proc.stderr.strip()[-1000:]))
            try:
                return json.loads(proc.stdout), path
            except ValueError as exc:
                raise AnsibleParserError("%s output -json printed no JSON: %s" % (binary, to_native(exc)))
        raise AnsibleParserError("eco2.mesh.terraform_outputs needs outputs_file or project_path")

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        base = os.path.dirname(os.path.abspath(path))
        template = self._path(base, self.get_option("template")) if self.get_option("template") else SHIPPED_TEMPLATE
        try:
            with open(template, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            raise AnsibleParserError("cannot read template %s: %s" % (template, to_native(exc)))
        outputs, _source = self._read_outputs(base)
        used = template_variables(text)
        variables = dict(self.get_option("template_vars") or {})
        variables.update(outputs_to_vars(outputs, strict=self.get_option("strict_outputs"), used=used))
        rendered = render_template(text, variables, os.path.basename(template))

        ini = inventory_loader.get("ansible.builtin.ini")
        tmpdir = tempfile.mkdtemp(prefix="eco2-tf-inventory-")
        try:
            rendered_path = os.path.join(tmpdir, os.path.basename(template).rsplit(".", 1)[0] or "hosts")
            with open(rendered_path, "w", encoding="utf-8") as fh:
                fh.write(to_text(rendered))
            ini.parse(inventory, loader, rendered_path, cache=False)
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)
