#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: mesh_analyze
short_description: Find the known mesh routing and NetworkPolicy failures before they reach the cluster
version_added: 0.1.0
description:
  - Analyses the objects about to be applied (O(objects), typically the output of the P(eco2.mesh.mesh_routing#filter)
    and P(eco2.mesh.mesh_network_policies#filter) filters) and, with O(cluster=true), what the live cluster holds
    beside them (Services, Namespaces, Gateways, VirtualServices, NetworkPolicies that are not ours, the gateway,
    istiod and CoreDNS pod labels). Never writes to the cluster.
  - Each finding names the object, the field, what breaks and the fix, with a severity (C(error) or C(warning)).
  - Routing checks - C(external-dns) the bridge Ingress lacks the ExternalDNS hostname annotation or a public host;
    C(alb-health-check) no Gateway host and VirtualService route answer the ALB health-check path for a Host that
    is the target IP (the Gateway must list C(*)); C(gateway-selector) a Gateway selector matches no gateway pod
    labels; C(vs-destination) a destination Service or port does not exist (needs O(cluster) or O(services));
    C(vs-gateway) a VirtualService bound to a missing Gateway or with a host no Gateway serves; C(vs-conflict) two
    VirtualServices claim the same host and match on one Gateway.
  - NetworkPolicy checks, with the Kubernetes semantics (selectors AND within a peer and OR across peers, empty
    selectors, policyTypes defaulting, ports and endPort, additive policies) - C(istiod-egress) a meshed namespace
    cannot reach istiod on TCP 15010, 15012, 15014, 15017 and 443; C(dns-egress) / C(default-deny-dns) it cannot
    reach DNS (UDP/TCP 53); C(gateway-ingress) the gateway pods cannot reach an app port; C(flow-one-sided) a flow is
    allowed on one side only; C(flow-blocked) a declared flow is blocked on both sides; C(namespace-missing) a
    target namespace does not exist (live only); C(newly-denied) a connection the policies allow today (none in
    render mode) that they would deny once the bundle is applied - between the meshed workloads, the declared peers,
    istiod, DNS, the gateway, a pod of every other namespace and an address outside the cluster - unless
    C(mesh_network_policy_acknowledged_denials) accepts it.
  - Auth offloading checks, when the spec has C(mesh_auth) - C(auth-provider-unknown) a CUSTOM AuthorizationPolicy
    names a provider istiod's mesh config (ConfigMap C(istio)) does not declare; C(auth-service-missing) the ext_authz
    or JWKS Service or port does not exist; C(auth-flow-blocked) NetworkPolicies block gateway -> ext_authz or
    istiod -> JWKS; C(auth-public-caught) the ALB health route or a public path is matched by a CUSTOM policy on the
    gateway; C(auth-single-replica) (warning) C(failOpen) false with at most one auth server replica.
  - mTLS and telemetry checks (O(checks=[mtls_telemetry])) - C(mtls-strict-blocker) STRICT would break a pod of a
    STRICT namespace without a ready C(istio-proxy) (every Pod read in one list call) or a caller without a sidecar
    declared in the spec (C(mesh_flows), ingress C(mesh_peers), istiod -> JWKS) into a STRICT workload port, each
    named with namespace, pod and flow; C(telemetry-provider-unknown) the tracing provider is not in istiod's mesh
    config; C(telemetry-flow-blocked) NetworkPolicies on the cluster block a telemetry flow (Prometheus -> sidecars
    and istiod, sidecars and gateway -> the tracing collector, Kiali -> Prometheus, istiod, Jaeger query). The
    O(checks=[network_policies]) run also checks those flows against the policies after the apply.
author: eco2.mesh maintainers (@eco2-team)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - eco2.mesh.read_only
options:
  objects:
    description:
      - The objects to analyse (about to be applied). They replace live objects of the same kind, namespace and name,
        and live objects of the analysed bundles (labels C(app.kubernetes.io/managed-by=eco2.mesh),
        C(mesh.eco2.io/bundle)) that are not listed are treated as pruned.
    type: list
    elements: dict
    default: []
  spec:
    description:
      - The mesh spec, as returned by P(eco2.mesh.mesh_spec#filter) or as the raw mesh variables keyed by name.
      - Gives the expectations (public hosts, meshed domains and their ports, flows, gateway identity). Without it
        only what the objects themselves show is checked.
    type: dict
  checks:
    description:
      - Which groups of checks to run.
    type: list
    elements: str
    choices: [routing, network_policies, mtls_telemetry]
    default: [routing, network_policies]
  cluster:
    description:
      - Also read the live cluster (through O(kubeconfig) / O(context)). Without it nothing is contacted.
    type: bool
    default: false
  services:
    description:
      - Service objects to check VirtualService destinations against when O(cluster=false).
      - Without O(cluster) or O(services) the destination check is skipped.
    type: list
    elements: dict
  gateway_pod_labels:
    description:
      - Label sets of the gateway pods. Default - the labels of the gateway Deployment's pods when O(cluster=true) and
        it exists, else the labels the gateway chart derives from its release name (C(app=<release>),
        C(istio=<release without istio->)).
    type: list
    elements: dict
  istiod_pod_labels:
    description:
      - Labels of the istiod pods. Default - read from Deployment C(istiod) when O(cluster=true), else the
        spec's C(mesh_istiod.pod_labels) (C(app=istiod)).
    type: dict
  dns_pod_labels:
    description:
      - Labels of the cluster DNS pods. Default - read from Deployment C(coredns) when O(cluster=true), else the
        spec's C(mesh_dns.pod_labels) (C(k8s-app=kube-dns)).
    type: dict
  fail_on_error:
    description:
      - Fail, with every finding in the message, when there is at least one finding of severity C(error).
    type: bool
    default: true
notes:
  - The ALB sends its health probe to each target with the target's IP as C(Host), which only a Gateway host C(*)
    matches; the seed migration's outage was a Gateway listing only C(api), C(argocd) and C(grafana) hosts.
"""

EXAMPLES = r"""
- name: Analyse the routing bundle offline
  eco2.mesh.mesh_analyze:
    objects: "{{ mesh_vars | eco2.mesh.mesh_routing }}"
    spec: "{{ mesh_vars | eco2.mesh.mesh_spec }}"
    checks: [routing]

- name: Analyse the NetworkPolicy bundle against the live cluster, report only
  eco2.mesh.mesh_analyze:
    objects: "{{ mesh_vars | eco2.mesh.mesh_network_policies }}"
    spec: "{{ mesh_vars | eco2.mesh.mesh_spec }}"
    checks: [network_policies]
    cluster: true
    fail_on_error: false
  register: analysis
"""

RETURN = r"""
findings:
  description: Every finding, errors first.
  returned: always
  type: list
  elements: dict
  contains:
    check:
      description: The check that found it, for example C(alb-health-check).
      type: str
    severity:
      description: C(error) or C(warning).
      type: str
    object:
      description: The object, C(Kind namespace/name).
      type: str
    field:
      description: The field of that object.
      type: str
    message:
      description: What is wrong and what breaks.
      type: str
    fix:
      description: How to fix it.
      type: str
  sample:
    - check: alb-health-check
      severity: error
      object: Gateway istio-system/eco2-gateway
      field: spec.servers[0].hosts
      message: the ALB probes /healthz/ready on port 80 with the target IP as Host, which matches none of the Gateway hosts
      fix: add '*' to the Gateway hosts
error_count:
  description: Number of findings of severity C(error).
  returned: always
  type: int
warning_count:
  description: Number of findings of severity C(warning).
  returned: always
  type: int
report:
  description: One human-readable line per finding.
  returned: always
  type: list
  elements: str
read:
  description: How many live objects of each kind were read (empty when O(cluster=false)).
  returned: always
  type: dict
  sample: {Service: 12, VirtualService: 3}
"""


from ansible_collections.eco2.mesh.plugins.module_utils.kube import client_from_module, kube_module
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_analysis
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_auth_analysis
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_mtls_analysis
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_spec as ms

BUNDLE_OF_CHECK = {"routing": "routing", "network_policies": "network-policies", "mtls_telemetry": "mtls-telemetry"}

LIVE_KINDS = {
    "routing": [("networking.istio.io/v1", "Gateway"), ("networking.istio.io/v1", "VirtualService"),
                ("networking.k8s.io/v1", "Ingress")],
    "network_policies": [("networking.k8s.io/v1", "NetworkPolicy")],
    "mtls_telemetry": [],
}


def _is_spec(value):
    return isinstance(value, dict) and "gateway" in value and "domains" in value and "alb" in value


def _template_labels(deployment):
    if not deployment:
        return None
    labels = ((((deployment.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels"))
    return dict(labels) if labels else None


def _ours(obj, bundles):
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return labels.get(ms.MANAGED_BY_LABEL) == ms.MANAGED_BY and labels.get(ms.BUNDLE_LABEL) in bundles


def read_cluster(module, spec, checks, context):
    kube = client_from_module(module)
    bundles = {BUNDLE_OF_CHECK[c] for c in checks}
    read = {}
    live, ours = [], []
    for check in checks:
        for api_version, kind in LIVE_KINDS[check]:
            items = kube.list_objects(api_version, kind)
            read[kind] = len(items)
            live += [o for o in items if not _ours(o, bundles)]
            ours += [o for o in items if _ours(o, bundles)]
    context["live"] = live
    context["live_ours"] = ours  # what the bundle replaces: "open today" includes our current policies
    gw = (spec or {}).get("gateway") or {}
    if "routing" in checks:
        services = kube.list_objects("v1", "Service")
        read["Service"] = len(services)
        context["services"] = services + list(context.get("services") or [])
    namespaces = kube.list_objects("v1", "Namespace")
    read["Namespace"] = len(namespaces)
    context["namespaces"] = {(n.get("metadata") or {}).get("name"): (n.get("metadata") or {}).get("labels") or {}
                             for n in namespaces}
    if not module.params.get("gateway_pod_labels"):
        labels = _template_labels(kube.get_object("apps/v1", "Deployment", gw.get("release", "istio-ingressgateway"),
                                                  gw.get("namespace", "istio-system")))
        if labels:
            context["gateway_pod_labels"] = [labels]
    if "network_policies" in checks:
        istiod = (spec or {}).get("istiod") or {}
        if not module.params.get("istiod_pod_labels"):
            labels = _template_labels(kube.get_object("apps/v1", "Deployment", "istiod",
                                                      istiod.get("namespace", "istio-system")))
            if labels:
                context["istiod_pod_labels"] = labels
        if not module.params.get("dns_pod_labels"):
            labels = _template_labels(kube.get_object("apps/v1", "Deployment", "coredns",
                                                      ((spec or {}).get("dns") or {}).get("namespace", "kube-system")))
            if labels:
                context["dns_pod_labels"] = labels
    if "routing" in checks and (spec or {}).get("auth"):
        read.update(mesh_auth_analysis.read_cluster(kube, spec, context, lambda o: _ours(o, bundles)))
    if "mtls_telemetry" in checks and spec:
        read.update(mesh_mtls_analysis.read_cluster(kube, spec, context))
    return read


def main():
    argument_spec = dict(
        objects=dict(type="list", elements="dict", default=[]),
        spec=dict(type="dict"),
        checks=dict(type="list", elements="str", choices=["routing", "network_policies", "mtls_telemetry"],
                    default=["routing", "network_policies"]),
        cluster=dict(type="bool", default=False),
        services=dict(type="list", elements="dict"),
        gateway_pod_labels=dict(type="list", elements="dict"),
        istiod_pod_labels=dict(type="dict"),
        dns_pod_labels=dict(type="dict"),
        fail_on_error=dict(type="bool", default=True),
    )
    module = kube_module(argument_spec)
    p = module.params

    spec = p["spec"]
    if spec is not None and not _is_spec(spec):
        try:
            spec = ms.build_spec(spec)
        except ms.MeshSpecError as exc:
            module.fail_json(msg=str(exc), errors=exc.errors)

    checks = list(dict.fromkeys(p["checks"]))
    context = {"spec": spec or {}, "checks": checks, "external_dns": (spec or {}).get("external_dns", True)}
    if p["services"] is not None:
        context["services"] = p["services"]
    if p["gateway_pod_labels"]:
        context["gateway_pod_labels"] = p["gateway_pod_labels"]
    elif spec:
        context["gateway_pod_labels"] = [spec["gateway"]["pod_labels"]]
    if p["istiod_pod_labels"]:
        context["istiod_pod_labels"] = p["istiod_pod_labels"]
    if p["dns_pod_labels"]:
        context["dns_pod_labels"] = p["dns_pod_labels"]

    read = {}
    if p["cluster"]:
        try:
            read = read_cluster(module, spec, checks, context)
        except Exception as exc:  # API errors have many types; report them the same way
            module.fail_json(msg="Cannot read the cluster for the analysis: %s" % exc)

    findings = mesh_analysis.analyze(p["objects"], context)
    errors = sum(1 for f in findings if f["severity"] == "error")
    warnings = len(findings) - errors
    result = dict(changed=False, findings=findings, error_count=errors, warning_count=warnings,
                  report=[mesh_analysis.format_finding(f) for f in findings], read=read)
    if errors and p["fail_on_error"]:
        module.fail_json(msg=mesh_analysis.summary(findings), **result)
    for f in findings:
        if f["severity"] == "warning":
            module.warn(mesh_analysis.format_finding(f))
    module.exit_json(msg=mesh_analysis.summary(findings), **result)


if __name__ == "__main__":
    main()
