# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Routing bundle: mesh spec -> Gateway, bridge Ingress, VirtualServices (pure)."""
from __future__ import annotations

import json

from ansible_collections.eco2.mesh.plugins.module_utils.mesh_auth import auth_objects
from ansible_collections.eco2.mesh.plugins.module_utils.mesh_spec import managed_labels

ISTIO_API = "networking.istio.io/v1"
BUNDLE = "routing"
EXTERNAL_DNS_HOSTNAME = "external-dns.alpha.kubernetes.io/hostname"
ALB = "alb.ingress.kubernetes.io/"
ELB_USER_AGENT_REGEX = "ELB-HealthChecker/.*"


def _meta(name, namespace):
    return {"name": name, "namespace": namespace, "labels": managed_labels(BUNDLE)}


def _fqdn(service, namespace):
    return "%s.%s.svc.cluster.local" % (service, namespace)


def gateway(spec):
    gw = spec["gateway"]
    return {
        "apiVersion": ISTIO_API,
        "kind": "Gateway",
        "metadata": _meta(gw["name"], gw["namespace"]),
        "spec": {
            "selector": dict(gw["selector"]),
            "servers": [{
                "port": {"number": gw["port"], "name": gw["port_name"], "protocol": gw["protocol"]},
                "hosts": list(gw["hosts"]),
            }],
        },
    }


def ingress_annotations(spec):
    alb = spec["alb"]
    ann = {
        ALB + "scheme": alb["scheme"],
        ALB + "target-type": alb["target_type"],
        ALB + "listen-ports": json.dumps(alb["listen_ports"]),
        ALB + "group.name": alb["group_name"],
        ALB + "group.order": str(alb["group_order"]),
        ALB + "backend-protocol": alb["backend_protocol"],
        ALB + "healthcheck-path": alb["healthcheck_path"],
        ALB + "success-codes": alb["success_codes"],
    }
    if alb.get("certificate_arn"):
        ann[ALB + "certificate-arn"] = alb["certificate_arn"]
    if alb["healthcheck_port"] != "traffic-port":
        ann[ALB + "healthcheck-port"] = str(alb["healthcheck_port"])
    if spec["external_dns"]:
        ann[EXTERNAL_DNS_HOSTNAME] = ",".join(spec["public_hosts"])
    for key, value in (alb.get("extra_annotations") or {}).items():
        if value is None:
            ann.pop(key, None)
        else:
            ann[key] = str(value)
    return dict(sorted(ann.items()))


def bridge_ingress(spec):
    gw = spec["gateway"]
    meta = _meta("istio-ingress", gw["namespace"])
    meta["annotations"] = ingress_annotations(spec)
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": meta,
        "spec": {
            "ingressClassName": "alb",
            "rules": [{"http": {"paths": [{
                "path": "/",
                "pathType": "Prefix",
                "backend": {"service": {"name": gw["service"], "port": {"number": gw["port"]}}},
            }]}}],
        },
    }


def health_check_virtual_service(spec):
    gw = spec["gateway"]
    return {
        "apiVersion": ISTIO_API,
        "kind": "VirtualService",
        "metadata": _meta("gateway-health-check", gw["namespace"]),
        "spec": {
            "hosts": ["*"],
            "gateways": [gw["ref"]],
            "http": [{
                "name": "alb-health-check",
                "match": [
                    {"uri": {"exact": spec["alb"]["healthcheck_path"]}},
                    {"uri": {"exact": "/"}, "headers": {"user-agent": {"regex": ELB_USER_AGENT_REGEX}}},
                ],
                "directResponse": {"status": 200, "body": {"string": "Healthy"}},
            }],
        },
    }


def _http_route(name, prefix, service, namespace, port):
    return {
        "name": name,
        "match": [{"uri": {"prefix": prefix}}],
        "route": [{"destination": {"host": _fqdn(service, namespace), "port": {"number": port}}}],
    }


def domain_virtual_service(spec, domain):
    # Longest prefix first: Istio takes the first matching http route.
    routes = sorted(domain["routes"], key=lambda r: -len(r["prefix"]))
    http = [_http_route("%s-%d" % (domain["name"], i), r["prefix"], r["service"], r["namespace"], r["port"])
            for i, r in enumerate(routes)]
    return {
        "apiVersion": ISTIO_API,
        "kind": "VirtualService",
        "metadata": _meta("%s-vs" % domain["name"], domain["namespace"]),
        "spec": {"hosts": list(domain["hosts"]), "gateways": list(domain["gateways"]), "http": http},
    }


def platform_virtual_service(spec, route):
    return {
        "apiVersion": ISTIO_API,
        "kind": "VirtualService",
        "metadata": _meta("%s-vs" % route["name"], route["namespace"]),
        "spec": {
            "hosts": [route["host"]],
            "gateways": [spec["gateway"]["ref"]],
            "http": [_http_route(route["name"], route["prefix"], route["service"], route["namespace"], route["port"])],
        },
    }


def routing_objects(spec):
    """Every object of the routing bundle, in apply order."""
    objs = [gateway(spec), bridge_ingress(spec)]
    if spec["health_check_route"]:
        objs.append(health_check_virtual_service(spec))
    objs += [domain_virtual_service(spec, d) for d in spec["domains"]]
    objs += [platform_virtual_service(spec, r) for r in spec["platform_routes"]]
    objs += auth_objects(spec)
    return objs
