"""Modules run in the Ansible worker (plugin_utils.in_worker) answer exactly as the same modules run as a process.

The same playbook runs twice with the real ansible-playbook: as is (on localhost with the controller's
interpreter, so our modules run in the worker) and with mesh_module_in_worker=false (every module a process).
Its tasks cover check mode, a change, no change, a loop, no_log, a module's own failure
(fail_json), an argument the module does not know, a warning, and a crash inside main(). `-vvv` shows
which way each module ran: "Using module file" is printed only when a module is sent as a process.
"""
from __future__ import annotations

import json
import re

from tests.lib.ansible_run import run_playbook

PLAY = """
- name: Every outcome of a module task
  hosts: localhost
  gather_facts: false
  vars:
    ansible_connection: local
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
    spec:
      mesh_domains: [{name: auth}, {name: scan}]
      mesh_zone: example.com
      mesh_alb_certificate_arn: arn:aws:acm:ap-northeast-2:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-111122223333
  tasks:
    - name: Draw in check mode (writes nothing)
      eco2.mesh.mesh_topology: {spec: "{{ spec }}", dest: "{{ out }}/topo", title: t}
      check_mode: true
      register: r_check
    - name: Draw (writes the files)
      eco2.mesh.mesh_topology: {spec: "{{ spec }}", dest: "{{ out }}/topo", title: t}
      register: r_write
    - name: Draw again (nothing to write)
      eco2.mesh.mesh_topology: {spec: "{{ spec }}", dest: "{{ out }}/topo", title: t}
      register: r_again
    - name: Draw with Graphviz missing (a warning)
      eco2.mesh.mesh_topology: {spec: "{{ spec }}", dest: "{{ out }}/topo2", title: t}
      environment: {PATH: /nonexistent}
      register: r_warn
    - name: A module's own failure
      eco2.mesh.mesh_topology: {spec: "{{ spec }}", dest: "{{ out }}/topo", svg_timeout: 0}
      register: r_fail
      ignore_errors: true
    - name: An option the module does not have
      eco2.mesh.mesh_bundle: {bundle: b, objects: [], nope: 1}
      register: r_unknown
      ignore_errors: true
    - name: A spec the model refuses
      eco2.mesh.mesh_topology: {spec: "{{ spec | combine({'mesh_domains': [{'name': 'Bad_Name'}]}) }}", dest: "{{ out }}/topo"}
      register: r_spec
      ignore_errors: true
    # Helm values are not checked by the module (the roles make them); a malformed one raises in main().
    - name: A crash inside the module
      eco2.mesh.mesh_topology: {spec: "{{ spec }}", dest: "{{ out }}/topo", istiod_values: {pilot: 5}}
      register: r_crash
      ignore_errors: true
    - name: A warning from the module itself (a host only a wildcard Gateway host matches)
      eco2.mesh.mesh_analyze:
        checks: [routing]
        services: []
        fail_on_error: false
        objects:
          - {apiVersion: networking.istio.io/v1, kind: Gateway, metadata: {name: gw, namespace: istio-system},
             spec: {selector: {istio: ingressgateway},
                    servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*.example.com"]}]}}
          - {apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: api, namespace: auth},
             spec: {hosts: [api.example.com], gateways: [istio-system/gw], http: [{route: [{destination: {host: auth}}]}]}}
          - {apiVersion: networking.k8s.io/v1, kind: Ingress,
             metadata: {name: alb, namespace: istio-system, annotations: {external-dns.alpha.kubernetes.io/hostname: www.example.com}},
             spec: {ingressClassName: alb, defaultBackend: {service: {name: gw, port: {number: 80}}}}}
      register: r_analyze
    - name: A loop (its items run one after the other in one worker)
      eco2.mesh.mesh_topology: {spec: "{{ spec }}", dest: "{{ out }}/loop-{{ item }}", title: "{{ item }}"}
      loop: [a, b]
      register: r_loop
    - name: A task whose result is not shown
      eco2.mesh.mesh_topology: {spec: "{{ spec }}", dest: "{{ out }}/secret", title: t}
      no_log: true
      register: r_no_log
    - name: Write what each task returned
      ansible.builtin.copy:
        dest: "{{ out }}/results.json"
        content: "{{ dict(names | zip(names | map('extract', vars))) | to_json }}"
      vars:
        names: [r_check, r_write, r_again, r_warn, r_fail, r_unknown, r_spec, r_crash, r_analyze, r_loop, r_no_log]
"""


def _run(tmp_path, name, in_worker):
    out = tmp_path / name
    out.mkdir()
    play = tmp_path / "play.yml"
    play.write_text(PLAY)
    result = run_playbook(str(play), "-vvv", extra_vars={"out": str(out), "mesh_module_in_worker": in_worker})
    assert result.rc == 0, result
    return json.loads((out / "results.json").read_text()), result.stdout


def _comparable(results, name):
    """The results with this run's directory and the exception's traceback text (paths differ) left out."""
    text = json.dumps(results, sort_keys=True).replace("/" + name + "/", "/RUN/")
    data = json.loads(text)
    for value in data.values():
        if isinstance(value.get("exception"), str):
            value["exception"] = value["exception"].strip().splitlines()[-1]
    return data


def test_in_worker_results_equal_module_process_results(tmp_path):
    worker, worker_log = _run(tmp_path, "worker", True)
    process, process_log = _run(tmp_path, "process", False)

    # Which way the modules ran: 12 module runs; the one with an `environment` runs as a process either way.
    assert len(re.findall(r"Using module file .*/eco2/mesh/plugins/modules/", worker_log)) == 1
    assert len(re.findall(r"Using module file .*/eco2/mesh/plugins/modules/", process_log)) == 12

    assert _comparable(worker, "worker") == _comparable(process, "process")
    # And the outcomes are the ones each task is there for.
    assert worker["r_check"]["changed"] and worker["r_check"]["written"]
    assert worker["r_write"]["changed"] and worker["r_write"]["written"]
    assert not worker["r_again"]["changed"]
    assert any("Graphviz" in w for w in worker["r_warn"]["warnings"])
    assert worker["r_fail"]["failed"] and "svg_timeout: must be at least 1" in worker["r_fail"]["msg"]
    assert worker["r_unknown"]["failed"] and "Unsupported parameters" in worker["r_unknown"]["msg"]
    assert "nope" in worker["r_unknown"]["msg"]
    assert worker["r_spec"]["failed"] and "Bad_Name" in worker["r_spec"]["msg"]
    assert worker["r_crash"]["failed"] and "'int' object has no attribute 'get'" in json.dumps(worker["r_crash"])
    assert any("only matched by a wildcard Gateway host" in w for w in worker["r_analyze"]["warnings"])
    assert [r["written"] for r in worker["r_loop"]["results"]] == [["topology.mmd", "topology.svg"]] * 2
    for log in (worker_log, process_log):  # shown censored, though registered whole
        shown = log.split("TASK [A task whose result is not shown]", 1)[1].split("TASK [", 1)[0]
        assert "'no_log: true' was specified" in shown and "topology.mmd" not in shown
