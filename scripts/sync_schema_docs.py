#!/usr/bin/env python3
"""Write the mesh spec's documentation from its schema (plugins/module_utils/mesh_spec_schema.py).

- the argument specs of the roles that read the spec: each role's meta/argument_specs.yml holds the variables
  between the BEGIN/END marker lines;
- docs/spec-reference.md: every variable and nested key with its type, default and allowed values.

`--check` changes nothing and exits 1 when a file differs.
"""
from __future__ import annotations

import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / ".tools/collections"))

from ansible_collections.eco2.mesh.plugins.module_utils.mesh_spec_schema import SPEC, SPEC_OPTIONS  # noqa: E402
from ansible_collections.eco2.mesh.plugins.module_utils.schema import rows  # noqa: E402

SPEC_ROLES = ("mesh_network_policies", "mesh_routing", "mesh_mtls_telemetry")
INDENT = " " * 6  # argument_specs -> main -> options -> <name>
BEGIN = INDENT + "# BEGIN mesh spec: written by scripts/sync_schema_docs.py from plugins/module_utils/mesh_spec_schema.py"
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


REFERENCE = "docs/spec-reference.md"


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def reference():
    """docs/spec-reference.md: one table row per variable and nested key."""
    lines = ["# The mesh spec: reference", "",
             "Written by `scripts/sync_schema_docs.py` from `plugins/module_utils/mesh_spec_schema.py`; do not edit.",
             "Each variable is a separate inventory variable (group_vars do not deep-merge: an environment file",
             "overrides a whole variable). `[]` is an item of a list, `<name>` a key of your choosing; an absent key",
             "takes its default, and `C(x)` in a description is the literal `x`.", ""]
    for name, node in SPEC.items():
        lines += ["## `%s`" % name, "", "| key | type | default | allowed | description |", "|---|---|---|---|---|"]
        for path, kind, default, allowed, doc in rows(node, name):
            text = " ".join(doc) if isinstance(doc, list) else doc
            lines.append("| `%s` | %s | %s | %s | %s |" % (path, kind, _cell(default), _cell(allowed), _cell(text)))
        lines.append("")
    return "\n".join(lines)


def outputs():
    """(path, current text, wanted text) of every written file."""
    for role in SPEC_ROLES:
        path = REPO / "roles" / role / "meta/argument_specs.yml"
        text = path.read_text()
        yield path, text, synced(text)
    path = REPO / REFERENCE
    yield path, path.read_text() if path.exists() else "", reference()


def main(argv):
    check = "--check" in argv
    stale = []
    for path, text, new in outputs():
        if new != text:
            stale.append(str(path.relative_to(REPO)))
            if not check:
                path.write_text(new)
    if stale:
        print(("out of date: " if check else "written: ") + ", ".join(stale))
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
