#!/usr/bin/env python3
"""Write the mesh spec's options into the argument specs of the roles that read the spec.

The options come from plugins/module_utils/mesh_spec_schema.py; each role's meta/argument_specs.yml holds
them between the BEGIN/END marker lines. `--check` changes nothing and exits 1 when a file differs.
"""
from __future__ import annotations

import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / ".tools/collections"))

from ansible_collections.eco2.mesh.plugins.module_utils.mesh_spec_schema import SPEC_OPTIONS  # noqa: E402

SPEC_ROLES = ("mesh_network_policies", "mesh_routing", "mesh_mtls_telemetry")
INDENT = " " * 6  # argument_specs -> main -> options -> <name>
BEGIN = INDENT + "# BEGIN mesh spec: written by scripts/sync_argument_specs.py from plugins/module_utils/mesh_spec_schema.py"
END = INDENT + "# END mesh spec"


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)  # list items indented under their key, as yamllint wants


def spec_block():
    """The options' YAML, indented under `options:`, between the markers."""
    options = {name: dict(description=opt["description"], **{k: v for k, v in opt.items() if k != "description"})
               for name, opt in SPEC_OPTIONS.items()}
    text = yaml.dump(options, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=112, allow_unicode=True)
    return "\n".join([BEGIN] + [INDENT + line for line in text.splitlines()] + [END])


def synced(text):
    """`text` (an argument_specs.yml) with its spec block replaced by the current one."""
    lines = text.splitlines()
    if lines.count(BEGIN) != 1 or lines.count(END) != 1:
        raise ValueError("expected one %r and one %r line" % (BEGIN.strip(), END.strip()))
    start, end = lines.index(BEGIN), lines.index(END)
    return "\n".join(lines[:start] + [spec_block()] + lines[end + 1:]) + "\n"


def main(argv):
    check = "--check" in argv
    stale = []
    for role in SPEC_ROLES:
        path = REPO / "roles" / role / "meta/argument_specs.yml"
        text = path.read_text()
        new = synced(text)
        if new != text:
            stale.append(str(path.relative_to(REPO)))
            if not check:
                path.write_text(new)
    if stale:
        print(("out of date: " if check else "written: ") + ", ".join(stale))
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
