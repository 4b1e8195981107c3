#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: mesh_auth_verify
short_description: Check the applied auth offloading objects with istioctl analyze and list what goes through ext_authz
version_added: 0.1.0
description:
  - Runs Istio's own analyzers (C(istioctl analyze), the binary of the installed Istio minor) against the live
    cluster, through O(kubeconfig) / O(context), once per namespace of the auth objects - the gateway's, the ext_authz
    provider's and each in-cluster JWKS Service's (from O(spec)).
  - Fails with istioctl's messages when one is at O(failure_threshold) or worse; messages below it are returned and
    shown, the run goes on. A namespace istioctl cannot find fails too (istioctl itself would analyze nothing and
    succeed).
  - From O(spec) alone, lists the host/path pairs the CUSTOM AuthorizationPolicy sends to the ext_authz provider and
    the public pairs it excepts, as lines for the run's summary.
  - In check mode nothing was applied, so istioctl is not run; the pairs are still returned.
author: eco2.mesh maintainers (@eco2-team)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
attributes:
  check_mode:
    description: Can run in check mode.
    support: partial
    details: Returns the pairs and the summary from O(spec) but does not run istioctl, because the objects were not applied.
  diff_mode:
    description: Returns no diff; it never changes anything.
    support: none
options:
  spec:
    description:
      - The mesh spec, as returned by the P(eco2.mesh.mesh_spec#lookup) lookup, with C(auth) set (mesh_auth on).
    type: dict
    required: true
  istioctl:
    description:
      - Path of the istioctl binary (Istio 1.24). Default - C(istioctl) on E(PATH).
    type: path
  failure_threshold:
    description:
      - Least severe istioctl level that fails the task. C(Error) reports warnings without failing (for example
        IST0133 on every EnvoyFilter); C(Warning) fails on them too.
    type: str
    choices: [Error, Warning]
    default: Error
  suppress:
    description:
      - Messages istioctl leaves out, each C(<code>=<kind> <name>.<namespace>) (istioctl's C(--suppress)).
    type: list
    elements: str
    default: []
notes:
  - Read only. The cluster access is the one of the other eco2.mesh modules (module_defaults group C(eco2.mesh.mesh)).
seealso:
  - module: eco2.mesh.mesh_analyze
"""

EXAMPLES = r"""
- name: Verify the auth objects after the routing bundle is applied
  eco2.mesh.mesh_auth_verify:
    spec: "{{ lookup('eco2.mesh.mesh_spec') }}"
  register: auth_verify

- name: Show what goes through ext_authz
  ansible.builtin.debug:
    msg: "{{ auth_verify.summary }}"
"""

RETURN = r"""
summary:
  description: Lines for the run's summary - istioctl's counts per level, the ext_authz and public pairs, the messages.
  returned: always
  type: list
  elements: str
  sample:
    - "Auth at the gateway, ext_authz provider eco2-ext-authz (istioctl analyze -n istio-system, auth: 0 error, 1 warning, 0 info):"
    - "  ext_authz api.dev.growbin.app          /api/v1/*"
    - "  public    api.dev.growbin.app          /api/v1/auth/kakao/*"
namespaces:
  description: The namespaces istioctl analyzed (none in check mode).
  returned: always
  type: list
  elements: str
messages:
  description: istioctl's messages (C(namespace), C(level), C(code), C(origin), C(message)).
  returned: always
  type: list
  elements: dict
ext_authz:
  description: Host/path pairs the CUSTOM policy sends to the provider (C(host), C(path)).
  returned: always
  type: list
  elements: dict
public:
  description: Host/path pairs under a protected path that the policy excepts (C(host), C(path)).
  returned: always
  type: list
  elements: dict
outside:
  description: Public paths no protected path covers.
  returned: always
  type: list
  elements: str
"""


from ansible_collections.eco2.mesh.plugins.module_utils import kube, mesh_auth_verify as mav


def main():
    argument_spec = dict(
        spec=dict(type="dict", required=True),
        istioctl=dict(type="path"),
        failure_threshold=dict(type="str", choices=list(mav.FAILURE_LEVELS), default=mav.FAILURE_LEVELS[0]),
        suppress=dict(type="list", elements="str", default=[]),
    )
    module = kube.kube_module(argument_spec)
    p = module.params
    if not p["spec"].get("auth"):
        module.fail_json(msg="spec has no auth section (mesh_auth absent or mesh_auth_enabled false): nothing to verify")
    pairs = mav.auth_pairs(p["spec"])
    result = dict(changed=False, namespaces=[], messages=[], ext_authz=pairs["ext_authz"], public=pairs["public"],
                  outside=pairs["outside"])
    if module.check_mode:
        result["summary"] = mav.summary_lines(pairs, "skipped in check mode (nothing was applied)", [])
        module.exit_json(**result)
    istioctl = p["istioctl"] or module.get_bin_path("istioctl", required=True)
    if not p["kubeconfig"] and any(p.get(k) for k in ("host", "api_key", "username", "client_cert", "impersonate_user")):
        module.fail_json(msg="kubeconfig: istioctl reads the cluster through a kubeconfig file; host/api_key/certificate"
                             " options alone would send it to another cluster. Set kubeconfig (and context).")
    try:
        kubeconfig, context = kube.cluster_access(p["kubeconfig"], p["context"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    namespaces = mav.verify_namespaces(p["spec"])
    try:
        for ns in namespaces:
            rc, out, err = module.run_command(mav.analyze_command(istioctl, ns, kubeconfig, context, p["suppress"]))
            if rc != 0:
                raise mav.AnalyzeError("istioctl analyze -n %s failed (exit %d): %s" % (ns, rc, (err or out).strip()))
            result["messages"] += mav.analyze_messages(ns, out, err)
    except mav.AnalyzeError as exc:
        module.fail_json(msg=str(exc), **result)
    result["namespaces"] = namespaces
    result["summary"] = mav.summary_lines(pairs, namespaces, result["messages"])
    failing = mav.at_least(result["messages"], p["failure_threshold"])
    if failing:
        module.fail_json(msg="istioctl analyze reports %s or worse: %s" % (
            p["failure_threshold"].lower(), " | ".join(mav.message_line(m) for m in failing)), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
