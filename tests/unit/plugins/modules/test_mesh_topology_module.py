"""mesh_topology module through main(): the SVG of a many-domain spec, and a run that goes on without it."""
from __future__ import annotations

import os
import shutil

import pytest

from tests.lib.module_main import run_main

from ansible_collections.eco2.mesh.plugins.modules import mesh_topology

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot (scripts/debian-packages.txt)")


def many_domains(count):
    names = ["dom%03d" % i for i in range(1, count + 1)]
    return {"mesh_zone": "dev.growbin.app", "mesh_domains": names,
            "mesh_flows": [{"from": n, "to": names[(i + 1) % count]} for i, n in enumerate(names)],
            "mesh_alb_certificate_arn": "arn:aws:acm:ap-northeast-2:123456789012:certificate/abc"}


def run_module(args, capsys):
    return run_main(mesh_topology, args, capsys)


def fake_dot(tmp_path, monkeypatch, script):
    """A `dot` running `script` first on PATH; returns (the PATH before, the warnings the module gives)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "dot").write_text("#!/bin/sh\n" + script)
    os.chmod(bin_dir / "dot", 0o755)
    real_path = os.environ["PATH"]
    monkeypatch.setenv("PATH", "%s:%s" % (bin_dir, real_path))
    warned = []
    monkeypatch.setattr(mesh_topology.AnsibleModule, "warn", lambda self, msg: warned.append(msg))
    return real_path, warned


def test_thirty_domains_with_crossing_flows_are_drawn(tmp_path, capsys, monkeypatch):
    # Graphviz's default ranking stopped here with "trouble in init_rank" (the 50-domain benchmark's render).
    warned = []
    monkeypatch.setattr(mesh_topology.AnsibleModule, "warn", lambda self, msg: warned.append(msg))
    out = run_module({"spec": many_domains(30), "dest": str(tmp_path)}, capsys)
    assert not out.get("failed"), out.get("msg")
    assert out["svg"] == str(tmp_path / "topology.svg") and warned == []
    svg = (tmp_path / "topology.svg").read_text()
    assert "Service dom030&#45;api" in svg and "flow dom030 → dom001 TCP 8000" in svg


def test_a_picture_dot_cannot_draw_in_time_leaves_the_mermaid_text_and_a_warning(tmp_path, capsys, monkeypatch):
    warned = fake_dot(tmp_path, monkeypatch, "exec sleep 30\n")[1]
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "topology.svg").write_text("<svg>an older topology</svg>")
    out = run_module({"spec": many_domains(3), "dest": str(dest), "svg_timeout": 1}, capsys)
    assert not out.get("failed") and out["changed"] and out["svg"] is None
    assert out["written"] == ["topology.dot", "topology.mmd"] and (dest / "topology.mmd").is_file()
    assert out["removed"] == ["topology.svg"] and not (dest / "topology.svg").exists()
    assert warned == ["Graphviz 'dot' did not lay out the picture within 1 s (svg_timeout): wrote the Mermaid text only"]
    # The source is left to render by hand, under a line that says why.
    header, source = (dest / "topology.dot").read_text().split("\n", 1)
    assert header == "// eco2.mesh: Graphviz 'dot' did not lay this out within 1 s (svg_timeout)"
    assert source.startswith("digraph") and "dom003" in source


def test_a_timeout_below_one_second_is_refused(tmp_path, capsys):
    out = run_module({"spec": many_domains(3), "dest": str(tmp_path / "out"), "svg_timeout": 0}, capsys)
    assert out["failed"] and out["msg"] == "svg_timeout: must be at least 1 (seconds), got 0"
    assert not (tmp_path / "out").exists()


def test_a_rerun_keeps_the_picture_of_the_same_topology_without_running_dot(tmp_path, capsys, monkeypatch):
    dest = tmp_path / "out"
    first = run_module({"spec": many_domains(3), "dest": str(dest)}, capsys)
    assert first["changed"] and first["written"] == ["topology.mmd", "topology.svg"]
    picture = (dest / "topology.svg").read_text()
    assert picture.rstrip().endswith("-->") and "eco2.mesh topology source sha256:" in picture
    warned = fake_dot(tmp_path, monkeypatch, "echo dot was run >&2\nexit 3\n")[1]
    again = run_module({"spec": many_domains(3), "dest": str(dest)}, capsys)
    assert not again["changed"] and again["svg"] == str(dest / "topology.svg") and warned == []
    assert (dest / "topology.svg").read_text() == picture
    # Another topology is drawn again (here by the broken dot: no picture, and the old one goes).
    other = run_module({"spec": many_domains(4), "dest": str(dest)}, capsys)
    assert other["changed"] and other["svg"] is None and other["removed"] == ["topology.svg"]
    assert warned == ["Graphviz 'dot -Tsvg' failed: dot was run: wrote the Mermaid text only"]


def test_a_topology_dot_ran_out_of_time_for_is_tried_again_only_with_more_time(tmp_path, capsys, monkeypatch):
    calls = tmp_path / "calls"
    real_path, warned = fake_dot(tmp_path, monkeypatch, "echo run >> %s\nexec sleep 30\n" % calls)
    dest = tmp_path / "out"
    args = {"spec": many_domains(3), "dest": str(dest), "svg_timeout": 1}
    assert run_module(args, capsys)["changed"]
    again = run_module(args, capsys)
    assert not again["changed"] and again["svg"] is None and calls.read_text() == "run\n"
    assert warned[-1] == ("Graphviz 'dot' did not lay out this topology within 1 s (svg_timeout) in an earlier run, "
                          "not tried again (its source: topology.dot): wrote the Mermaid text only")
    # A longer svg_timeout is tried again.
    longer = run_module(dict(args, svg_timeout=2), capsys)
    assert longer["changed"] and longer["written"] == ["topology.dot"] and calls.read_text() == "run\nrun\n"
    assert (dest / "topology.dot").read_text().startswith("// eco2.mesh: Graphviz 'dot' did not lay this out within 2 s")
    monkeypatch.setenv("PATH", real_path)
    assert run_module(dict(args, svg_timeout=2), capsys)["svg"] is None  # the real dot is not tried either
    # A picture rendered by hand from topology.dot is kept, and the run says where it is.
    (dest / "topology.svg").write_text("<svg>by hand</svg>\n")
    kept = run_module(dict(args, svg_timeout=2), capsys)
    assert not kept["changed"] and kept["svg"] == str(dest / "topology.svg")
    assert (dest / "topology.svg").read_text() == "<svg>by hand</svg>\n" and calls.read_text() == "run\nrun\n"
    drawn = run_module(dict(args, svg_timeout=30), capsys)
    assert drawn["written"] == ["topology.svg"] and drawn["removed"] == ["topology.dot"]
    assert drawn["svg"] == str(dest / "topology.svg") and not (dest / "topology.dot").exists()


def test_a_picture_of_more_nodes_than_svg_max_nodes_is_not_laid_out(tmp_path, capsys, monkeypatch):
    # 3 domains are 18 nodes: the ALB, the Ingress, the gateway, istiod, the health-check route, a VirtualService,
    # a Service and the sidecars per domain, and the routes and Services of Argo CD and Grafana.
    calls = tmp_path / "calls"
    real_path, warned = fake_dot(tmp_path, monkeypatch, "echo run >> %s\nexit 3\n" % calls)
    dest = tmp_path / "out"
    args = {"spec": many_domains(3), "dest": str(dest), "svg_max_nodes": 17}
    out = run_module(args, capsys)
    assert not out.get("failed") and out["changed"] and out["svg"] is None and not calls.exists()
    assert out["written"] == ["topology.dot", "topology.mmd"]
    assert warned == ["The topology has 18 nodes, more than svg_max_nodes=17: not laid out by Graphviz 'dot' (its "
                      "source: topology.dot): wrote the Mermaid text only"]
    header, source = (dest / "topology.dot").read_text().split("\n", 1)
    assert header == "// eco2.mesh: not laid out by Graphviz 'dot': 18 nodes, more than svg_max_nodes=17"
    assert source.startswith("digraph") and "dom003" in source
    assert not run_module(args, capsys)["changed"] and not calls.exists()
    # A picture rendered by hand from topology.dot is kept.
    (dest / "topology.svg").write_text("<svg>by hand</svg>\n")
    kept = run_module(args, capsys)
    assert not kept["changed"] and kept["svg"] == str(dest / "topology.svg") and not calls.exists()
    # ... also when the limit changes, or the picture was drawn by hand after a run dot ran out of time on.
    kept = run_module(dict(args, svg_max_nodes=10), capsys)
    assert not kept["changed"] and kept["svg"] == str(dest / "topology.svg")
    assert (dest / "topology.svg").read_text() == "<svg>by hand</svg>\n" and not calls.exists()
    # At the limit, Graphviz draws it.
    monkeypatch.setenv("PATH", real_path)
    drawn = run_module(dict(args, svg_max_nodes=18), capsys)
    assert drawn["written"] == ["topology.svg"] and drawn["removed"] == ["topology.dot"]
    assert "eco2.mesh topology source sha256:" in (dest / "topology.svg").read_text()
    assert run_module(dict(args, svg_max_nodes=0), capsys)["changed"] is False  # 0: no limit, the same picture


def test_a_negative_svg_max_nodes_is_refused(tmp_path, capsys):
    out = run_module({"spec": many_domains(3), "dest": str(tmp_path / "out"), "svg_max_nodes": -1}, capsys)
    assert out["failed"] and out["msg"] == "svg_max_nodes: must be 0 (no limit) or more, got -1"
    assert not (tmp_path / "out").exists()
