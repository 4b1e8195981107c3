#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: mesh_topology
short_description: Draw the mesh topology from the spec (Mermaid text and an SVG rendered by Graphviz)
version_added: 0.2.0
description:
  - Draws ALB -> bridge Ingress -> gateway (with the inventory node its placement selects) -> VirtualServices
    (hosts, path prefixes) -> Services per namespace, istiod and its node, xDS to the sidecars of every meshed
    namespace, and the spec's cross-domain flows.
  - The SVG ends with a comment holding the digest of the picture's Graphviz source; while the topology does not
    change, a re-run keeps that SVG and does not run C(dot) again.
  - A picture of more than O(svg_max_nodes) nodes is not laid out; its source is written to
    O(dest)/C(topology.dot) (an SVG rendered by hand from it is kept).
  - When C(dot) runs out of O(svg_timeout), its source is written to O(dest)/C(topology.dot), and a re-run of the
    same topology does not try again unless given a longer O(svg_timeout). An SVG rendered by hand from it
    (C(dot -Tsvg topology.dot -o topology.svg) in O(dest)) is kept.
  - Writes O(dest)/C(topology.mmd) (Mermaid; renders in GitHub markdown) and O(dest)/C(topology.svg) (rendered by
    Graphviz C(dot), Debian package C(graphviz)). Contacts nothing; files are only rewritten when they change.
requirements:
  - Graphviz (C(dot)) on the host the module runs on for the SVG; without it only the Mermaid file is written.
author: eco2.mesh maintainers (@eco2-team)
options:
  spec:
    description: The mesh spec (P(eco2.mesh.mesh_spec#lookup)) or the raw mesh variables keyed by name.
    type: dict
    required: true
  istiod_values:
    description: The istiod release's Helm values (its C(pilot) placement says where istiod runs).
    type: dict
    default: {}
  gateway_values:
    description: The gateway release's Helm values (its placement says where the gateway runs).
    type: dict
    default: {}
  nodes:
    description: "Node profiles of the inventory hosts, C({host: {labels, taints}})."
    type: dict
    default: {}
  title:
    description: Title of the picture (for example the environment).
    type: str
  dest:
    description: Directory to write C(topology.mmd) and C(topology.svg) (or C(topology.dot)) to.
    type: path
    required: true
  svg_timeout:
    description:
      - Seconds Graphviz may take to lay out the picture. Past it, or when C(dot) fails, the run goes on with the
        Mermaid file alone and a warning, and an older C(topology.svg) is removed (at a few hundred domains C(dot)
        takes many minutes). At least 1.
    type: int
    default: 60
  svg_max_nodes:
    description:
      - Lay out no picture of more nodes than this (Services, VirtualServices, sidecars, the gateway, istiod, the
        ALB and Ingress; about three per domain). Graphviz's time grows much faster than the graph (on a 2-core VM,
        50 domains took 2 s, 75 took 13 s and 100 more than 90 s), so past it the run writes the Mermaid file, the
        source in C(topology.dot) and a warning without waiting for O(svg_timeout). V(0) means no limit.
    type: int
    default: 250
attributes:
  check_mode:
    description: Reports which files would change without writing them.
    support: full
  diff_mode:
    description: No diff is returned.
    support: none
"""

EXAMPLES = r"""
- name: Draw the topology
  eco2.mesh.mesh_topology:
    spec: "{{ lookup('eco2.mesh.mesh_spec') }}"
    nodes:
      k8s-ingress-gateway: {labels: {role: ingress-gateway}, taints: []}
    dest: /tmp/topology
"""

RETURN = r"""
written:
  description: The files written (or, in check mode, that would be), relative to O(dest).
  type: list
  elements: str
  returned: always
removed:
  description: C(topology.svg) when an older picture was removed because no new one could be drawn; C(topology.dot)
    when it no longer holds the source of a picture C(dot) ran out of time on (drawn since, or another topology).
  type: list
  elements: str
  returned: always
mermaid:
  description: Path of the Mermaid file.
  type: str
  returned: always
svg:
  description: Path of the SVG file; null when Graphviz C(dot) is not on PATH, fails or runs out of time, or the
    picture has more than O(svg_max_nodes) nodes (a warning says so).
  type: str
  returned: always
"""

import hashlib
import os
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.eco2.mesh.plugins.module_utils import mesh_spec as ms
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_topology
from ansible_collections.eco2.mesh.plugins.module_utils.file_tree import sync_tree
from ansible_collections.eco2.mesh.plugins.module_utils.plain import plain


SOURCE_MARK_START = "<!-- eco2.mesh topology source sha256:"
SOURCE_MARK = SOURCE_MARK_START + "%s -->\n"


def source_digest(source):
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


TIMED_OUT = "// eco2.mesh: Graphviz 'dot' did not lay this out within %d s (svg_timeout)\n"
TOO_BIG = "// eco2.mesh: not laid out by Graphviz 'dot': %d nodes, more than svg_max_nodes=%d\n"
TIMED_OUT_LINE = re.compile(re.escape(TIMED_OUT.split("%d", 1)[0]) + r"(\d+) s")


def _read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return None


def drawn_before(svg, source):
    """The existing picture `svg` when it was drawn from this very source, else None: a re-run does not lay it out
    again (at a few hundred domains that takes Graphviz minutes)."""
    return svg if svg is not None and svg.endswith(SOURCE_MARK % source_digest(source)) else None


def timed_out_before(text, source, timeout):
    """The seconds an earlier run gave dot in vain for this very source (topology.dot's `text`), when at least
    `timeout`; else None."""
    text = text or ""
    match = TIMED_OUT_LINE.match(text)
    waited = int(match.group(1)) if match else 0
    return waited if waited >= timeout and text == TIMED_OUT % waited + source else None


def rendered_by_hand(svg, dest):
    """The existing picture `svg` when someone rendered it from topology.dot (newer than it, without our digest),
    else None."""
    if svg is None or SOURCE_MARK_START in svg:
        return None
    newer = os.path.getmtime(os.path.join(dest, "topology.svg")) >= os.path.getmtime(os.path.join(dest, "topology.dot"))
    return svg if newer else None


def draw_svg(module, dot, source, timeout):
    """(SVG text, None, False) or (None, why not, whether dot ran out of time)."""
    limit = module.get_bin_path("timeout")  # coreutils; without it dot runs unbounded
    cmd = ([limit, "--kill-after=5", str(timeout)] if limit else []) + [dot, "-Tsvg"]
    rc, svg, err = module.run_command(cmd, data=source, binary_data=True)
    if limit and rc == 124:  # (137 would be dot killed by a signal, the OOM killer's too: a failure)
        return None, "Graphviz 'dot' did not lay out the picture within %d s (svg_timeout)" % timeout, True
    if rc != 0:
        return None, "Graphviz 'dot -Tsvg' failed: %s" % err.strip()[:500], False
    return svg, None, False


def dot_source(text):
    """topology.dot's Graphviz source without the line that says why this run did not lay it out."""
    if text and text.startswith("// eco2.mesh:"):
        return text.split("\n", 1)[1] if "\n" in text else ""
    return text


def kept_by_hand(existing, dest, current, source):
    """{topology.dot as it is, the picture someone rendered from it} when topology.dot (`current`) holds this source,
    whatever its first line says (another limit, a timeout); else None. The file is kept as it is: rewriting it
    would make it newer than the picture."""
    if current is None or dot_source(current) != source:
        return None
    by_hand = rendered_by_hand(existing, dest)
    return None if by_hand is None else {"topology.dot": current, "topology.svg": by_hand}


def node_count(graph):
    return len(graph["nodes"]) + sum(len(c["nodes"]) for c in graph["clusters"])


def picture(module, dest, source, timeout, nodes=0, max_nodes=0):
    """{file name: text} of the picture (topology.svg, or topology.dot when dot ran out of time or the picture has more
    than max_nodes nodes), and why no SVG."""
    existing = _read(os.path.join(dest, "topology.svg"))
    if drawn_before(existing, source) is not None:
        return {"topology.svg": existing}, None
    current = _read(os.path.join(dest, "topology.dot"))
    if max_nodes and nodes > max_nodes:
        kept = kept_by_hand(existing, dest, current, source)
        if kept is not None:
            return kept, None
        why = ("The topology has %d nodes, more than svg_max_nodes=%d: not laid out by Graphviz 'dot' (its source: "
               "topology.dot)" % (nodes, max_nodes))
        return {"topology.dot": TOO_BIG % (nodes, max_nodes) + source}, why
    waited = timed_out_before(current, source, timeout)
    if waited is not None:
        kept = kept_by_hand(existing, dest, current, source)
        if kept is not None:
            return kept, None
        why = ("Graphviz 'dot' did not lay out this topology within %d s (svg_timeout) in an earlier run, not tried "
               "again (its source: topology.dot)" % waited)
        return {"topology.dot": current}, why
    # The picture is a by-product of a run: without Graphviz the run goes on with the Mermaid text alone.
    dot = module.get_bin_path("dot")
    if not dot:
        return {}, "Graphviz 'dot' is not on PATH (Debian package graphviz)"
    svg, why, timed_out = draw_svg(module, dot, source, timeout)
    if svg is not None:
        return {"topology.svg": svg + SOURCE_MARK % source_digest(source)}, None
    return ({"topology.dot": TIMED_OUT % timeout + source} if timed_out else {}), why


def main():
    module = AnsibleModule(
        argument_spec={
            "spec": {"type": "dict", "required": True},
            "istiod_values": {"type": "dict", "default": {}},
            "gateway_values": {"type": "dict", "default": {}},
            "nodes": {"type": "dict", "default": {}},
            "title": {"type": "str"},
            "dest": {"type": "path", "required": True},
            "svg_timeout": {"type": "int", "default": 60},
            "svg_max_nodes": {"type": "int", "default": 250},
        },
        supports_check_mode=True,
    )
    p = module.params
    if p["svg_timeout"] < 1:
        module.fail_json(msg="svg_timeout: must be at least 1 (seconds), got %d" % p["svg_timeout"])
    if p["svg_max_nodes"] < 0:
        module.fail_json(msg="svg_max_nodes: must be 0 (no limit) or more, got %d" % p["svg_max_nodes"])
    spec = plain(p["spec"])
    if not ("gateway" in spec and "domains" in spec and "alb" in spec):
        try:
            spec = ms.build_spec(spec)
        except ms.MeshSpecError as exc:
            module.fail_json(msg=str(exc))
    graph = mesh_topology.build(spec, plain(p["istiod_values"]), plain(p["gateway_values"]), plain(p["nodes"]))
    files = {"topology.mmd": mesh_topology.to_mermaid(graph, p["title"])}
    drawn, why = picture(module, p["dest"], mesh_topology.to_dot(graph, p["title"]), p["svg_timeout"],
                         node_count(graph), p["svg_max_nodes"])
    if why:
        module.warn("%s: wrote the Mermaid text only" % why)
    files.update(drawn)
    # An older picture next to new text would show another topology: without a new one it goes.
    done = sync_tree(p["dest"], files, owned=("topology.svg", "topology.dot"), check=module.check_mode)
    module.exit_json(changed=bool(done["written"] or done["removed"]), written=done["written"], removed=done["removed"],
                     mermaid=os.path.join(p["dest"], "topology.mmd"),
                     svg=os.path.join(p["dest"], "topology.svg") if "topology.svg" in drawn else None)


if __name__ == "__main__":
    main()
