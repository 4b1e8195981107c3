# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mesh spec's variables: type and documentation of each, in one place.

mesh_spec.build_spec validates them (the defaults live there); the roles that read the spec document
them in their meta/argument_specs.yml from this table (scripts/sync_argument_specs.py writes that part,
tests/unit/plugins/test_argument_specs.py fails when it differs).
"""
from __future__ import annotations

SPEC_OPTIONS = {
    "mesh_zone": {
        "type": "str",
        "description": ("DNS zone of the environment, for example C(dev.growbin.app); public hosts are C(api.<zone>) and "
                        "C(<platform route>.<zone>)."),
    },
    "mesh_public_hosts": {
        "type": "list",
        "elements": "str",
        "description": "Override the derived public hosts (Gateway hosts and the ExternalDNS annotation).",
    },
    "mesh_domains": {
        "type": "list",
        "elements": "raw",
        "description": [
            ("One entry per business domain - C(name), C(namespace) (default the name), C(service) (default "
             "C(<name>-api)), C(port) (default 8000), C(prefixes) (default C([/api/v1/<name>])), C(routes) (extra "
             "C({prefix, service, port})), C(hosts) (default C([api.<zone>])), C(meshed) (default true), "
             "C(pod_labels), C(default_deny)."),
        ],
    },
    "mesh_platform_routes": {
        "type": "list",
        "elements": "dict",
        "description": ("Routes by host - C(name), C(host) (default C(<name>.<zone>)), C(namespace), C(service), C(port), "
                        "C(prefix)."),
    },
    "mesh_flows": {
        "type": "list",
        "elements": "dict",
        "description": "Cross-domain calls C({from, to, port, protocol}); both sides get a NetworkPolicy.",
    },
    "mesh_alb": {
        "type": "dict",
        "description": ("ALB settings - C(scheme), C(target_type), C(listen_ports), C(group_name), C(group_order), "
                        "C(backend_protocol), C(healthcheck_path), C(healthcheck_port), C(success_codes), "
                        "C(extra_annotations)."),
    },
    "mesh_alb_certificate_arn": {
        "type": "str",
        "description": "ACM certificate ARN of the HTTPS listener (per environment).",
    },
    "mesh_external_dns": {
        "type": "bool",
        "description": "Annotate the bridge Ingress for ExternalDNS with every public host.",
    },
    "mesh_gateway": {
        "type": "dict",
        "description": "The Istio Gateway - C(name) (eco2-gateway), C(namespace) (istio-system), C(port) (80).",
    },
    "mesh_gateway_extra_hosts": {
        "type": "list",
        "elements": "str",
        "description": "Hosts added to the Gateway besides the public ones, for example C(*) in dev.",
    },
    "mesh_gateway_selector": {
        "type": "dict",
        "description": "Labels the Gateway selects; must match the gateway pods (default C(istio=ingressgateway)).",
    },
    "mesh_gateway_service": {
        "type": "str",
        "description": "The gateway Service, backend of the bridge Ingress (default the gateway release name).",
    },
    "mesh_gateway_pod_labels": {
        "type": "dict",
        "description": "Labels of the gateway pods (default derived from O(istio_gateway_release_name)).",
    },
    "istio_gateway_release_name": {
        "type": "str",
        "description": "Gateway Helm release name; the gateway pod labels and Service name derive from it.",
    },
    "mesh_health_check_route": {
        "type": "bool",
        "description": "Generate the health-check VirtualService and add C(*) to the Gateway hosts for the ALB probe.",
    },
    "mesh_network_policy_default_deny": {
        "type": "bool",
        "description": [
            ("Isolate every meshed namespace (default-deny) with allowances for istiod, DNS, the gateway, the "
             "namespace itself, the flows and the peers. Off, the bundle keeps each namespace open and only adds."),
        ],
    },
    "mesh_istiod": {
        "type": "dict",
        "description": "istiod endpoint for the egress policies - C(namespace), C(pod_labels), C(ports).",
    },
    "mesh_dns": {
        "type": "dict",
        "description": "DNS endpoint for the egress policies - C(namespace), C(pod_labels), C(port).",
    },
    "mesh_peers": {
        "type": "list",
        "elements": "dict",
        "description": [
            ("What the domains talk to besides each other, so policies keep it open - C(name), C(direction) "
             "(C(egress) the domains call it, default; C(ingress) it calls the domains, e.g. a metrics scraper), "
             "either C(namespace) (+ optional C(pod_labels)) for an in-cluster peer or C(cidr) (+ optional "
             "C(except)) for addresses outside the cluster, C(ports), C(protocol) (TCP), C(domains) (default every"
             " meshed domain)."),
        ],
    },
    "mesh_network_policy_acknowledged_denials": {
        "type": "list",
        "elements": "dict",
        "description": [
            ("Connections open today that you accept to lose when the policies land - C({from, to, port}), each "
             "end a namespace, C(external) or C(*), the port a number or C(*). Any other newly denied connection "
             "stops the run before anything is written."),
        ],
    },
    "mesh_auth": {
        "type": "dict",
        "description": [
            ('Auth offloading at the gateway (README "Auth offloading") - C(provider) (the ext_authz extension '
             "provider, also put into istiod's C(meshConfig.extensionProviders)), C(jwt) rules, C(hosts), "
             "C(protected_paths), C(domain_public_paths), C(public_paths), per-domain "
             "C(domains.<name>.public_paths) / C(protected), C(cookie_to_header) and C(cookies). Absent means no "
             "auth objects and no auth flows."),
        ],
    },
    "mesh_auth_enabled": {
        "type": "bool",
        "description": "Switch C(mesh_auth) off without deleting it (its objects and flows are then pruned).",
    },
    "mesh_mtls_mode": {
        "type": "str",
        "description": [
            ("The mesh-wide mTLS stage - C(permissive) (sidecars accept mTLS and plaintext; the first stage) or "
             "C(strict) (plaintext into a sidecar is refused). STRICT is refused before any write while a pod of a"
             " STRICT namespace runs no ready sidecar or a caller without one is declared into a STRICT port. "
             "Default C(permissive)."),
        ],
    },
    "mesh_mtls": {
        "type": "dict",
        "description": [
            ('mTLS exceptions (README "Mutual TLS in stages") - C(name) of the PeerAuthentications (default '
             "C(default)), C(namespaces) (C({namespace, mode}), a namespace-wide mode) and C(ports) (C({namespace,"
             " pod_labels, ports, mode}), C(portLevelMtls) on a workload; C(pod_labels) default the domain's, or "
             "C(app=<service>)). Modes C(permissive), C(strict), C(disable)."),
        ],
    },
    "mesh_mtls_enabled": {
        "type": "bool",
        "description": "Switch the mTLS objects off (they are then pruned); default true.",
    },
    "mesh_telemetry": {
        "type": "dict",
        "description": [
            ('Telemetry (README "Telemetry") - C(access_logging), C(tracing) (C(provider), C(type) zipkin or '
             "opentelemetry, C(service), C(port), C(sampling) percent, C(custom_tags), C(pod_labels) of the "
             "collector; also put into istiod's C(meshConfig.extensionProviders)), C(prometheus) (C(service), "
             "C(port), C(pod_labels), C(monitors), C(monitor_namespace), C(monitor_labels), C(scrape_interval)), "
             "C(kiali) and C(jaeger) (C(namespace), C(pod_labels), C(query_port)). Absent means no Telemetry, no "
             "monitors and no telemetry flows."),
        ],
    },
    "mesh_telemetry_enabled": {
        "type": "bool",
        "description": "Switch C(mesh_telemetry) off without deleting it (its objects and flows are then pruned).",
    },
    "mesh_ui_routes": {
        "type": "list",
        "elements": "dict",
        "description": ("Opt-in platform routes to the mesh UIs - C(ui) (C(kiali) or C(jaeger)), C(host) (default "
                        "C(<ui>.<zone>)), C(namespace) (default C(istio-system)), C(prefix); to the Services C(kiali:20001), "
                        "C(jaeger-query:16686)."),
    },
}
