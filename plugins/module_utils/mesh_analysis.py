# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pre-apply analysis of the routing and NetworkPolicy bundles (pure): the entry point.

`analyze(objects, context)` looks at the objects about to be applied, plus
whatever the caller read from the live cluster (`context["live"]`, objects that
stay after the apply, e.g. VirtualServices and NetworkPolicies not ours), and
returns findings: {check, severity, object, field, message, fix}. The checks live in
analysis_routing.py and analysis_policies.py, what they share in analysis_common.py.

Checks (the failure classes of the real migration, BRIEF "What went wrong"):
  external-dns        bridge Ingress without the ExternalDNS hostname annotation or missing a public host
  alb-health-check    no Gateway host / VirtualService route answering the ALB probe (Host = target IP)
  gateway-selector    a Gateway selector matching no gateway pod labels
  vs-destination      a VirtualService destination Service or port that does not exist
  vs-gateway          a VirtualService bound to a missing Gateway, or whose host no Gateway serves
  vs-conflict         two VirtualServices claiming the same host + match on the same Gateway
  namespace-missing   a policy/route namespace that does not exist (live only)
  istiod-egress       a meshed namespace that cannot reach istiod on its ports
  dns-egress          a meshed namespace that cannot resolve names
  default-deny-dns    a default-deny (egress) policy without a DNS allowance
  gateway-ingress     gateway pods that cannot reach an app port
  flow-one-sided      a flow allowed by egress but not ingress (or the reverse)
  flow-blocked        a declared flow blocked on both sides
  newly-denied        a connection open today that the bundle would close (mesh_reachability)
  auth-*              auth offloading (mesh_auth), see mesh_auth_analysis
  mtls-*, telemetry-* mTLS stages and telemetry (mesh_mtls, mesh_telemetry), see mesh_mtls_analysis
"""
from __future__ import annotations

from ansible_collections.eco2.mesh.plugins.module_utils.analysis_common import _World, format_finding
from ansible_collections.eco2.mesh.plugins.module_utils.analysis_policies import POLICY_CHECKS
from ansible_collections.eco2.mesh.plugins.module_utils.analysis_routing import ROUTING_CHECKS
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_auth_analysis as auth
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_mtls_analysis as mtls

CHECKS = ("routing", "network_policies")  # mtls_telemetry only when asked


def analyze(objects, context=None):
    """Findings for the objects about to be applied. See the module docstring for `context`."""
    context = dict(context or {})
    world = _World(objects, context)
    checks = context.get("checks") or CHECKS
    out = []
    if "routing" in checks:
        for check in ROUTING_CHECKS + auth.ROUTING_CHECKS:
            out += check(world)
    if "network_policies" in checks:
        for check in POLICY_CHECKS + auth.POLICY_CHECKS + mtls.POLICY_CHECKS:
            out += check(world)
    if "mtls_telemetry" in checks:
        for check in mtls.CHECKS:
            out += check(world)
    # errors first, stable order
    out.sort(key=lambda f: (f["severity"] != "error",))
    return out


def summary(findings):
    errors = [f for f in findings if f["severity"] == "error"]
    warnings = [f for f in findings if f["severity"] == "warning"]
    lines = ["mesh analysis: %d error(s), %d warning(s)" % (len(errors), len(warnings))]
    lines += ["  - " + format_finding(f) for f in errors + warnings]
    return "\n".join(lines)
