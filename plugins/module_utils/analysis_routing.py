# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Routing checks: ExternalDNS, the ALB health check, the Gateway selector, destinations, hosts, conflicts."""
from __future__ import annotations

import ipaddress
import json
import re

from ansible_collections.eco2.mesh.plugins.module_utils.analysis_common import (
    _key, _kind, _labels_str, _name, _ns, finding, ref)
from ansible_collections.eco2.mesh.plugins.module_utils.k8s_objects import labels_match


EXTERNAL_DNS_HOSTNAME = "external-dns.alpha.kubernetes.io/hostname"
ALB = "alb.ingress.kubernetes.io/"
PROBE_HOST = "10.0.0.10"  # the ALB probes the target with its IP as Host
PROBE_USER_AGENT = "ELB-HealthChecker/2.0"


# -- host matching ---------------------------------------------------------
def _strip_ns(host):
    return host.split("/", 1)[1] if "/" in host else host


def host_matches(pattern, host):
    """Istio host match: '*' anything, '*.a.b' any name under a.b, otherwise exact."""
    pattern, host = pattern.lower(), host.lower()
    if pattern == "*":
        return True
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and host != pattern[2:]
    return pattern == host


def hosts_overlap(a, b):
    a, b = a.lower(), b.lower()
    if a == b or a == "*" or b == "*":
        return True
    if a.startswith("*.") and host_matches(a, b):
        return True
    if b.startswith("*.") and host_matches(b, a):
        return True
    if a.startswith("*.") and b.startswith("*."):
        return a.endswith(b[1:]) or b.endswith(a[1:])
    return False


def _is_ip(host):
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


# -- HTTP route matching (for the health-check probe) -----------------------
def _string_match(spec, value):
    if not isinstance(spec, dict):
        return False
    if "exact" in spec:
        return value == spec["exact"]
    if "prefix" in spec:
        return value.startswith(spec["prefix"])
    if "regex" in spec:
        return re.fullmatch(spec["regex"], value) is not None
    return True


def request_matches(match, path, headers):
    for key in match:
        if key not in ("uri", "headers", "name", "ignoreUriCase", "method"):
            return False  # other conditions (ports, sourceLabels, ...) are not known for a probe
    if "uri" in match and not _string_match(match["uri"], path):
        return False
    if "method" in match and not _string_match(match["method"], "GET"):
        return False
    lowered = {k.lower(): v for k, v in headers.items()}
    for name, spec in (match.get("headers") or {}).items():
        value = lowered.get(name.lower())
        if value is None or not _string_match(spec, value):
            return False
    return True


def first_route(vs, path, headers):
    """(index, http route) of the first route of a VirtualService matching the request."""
    for i, route in enumerate((vs.get("spec") or {}).get("http") or []):
        matches = route.get("match") or [{}]
        if any(request_matches(m, path, headers) for m in matches):
            return i, route
    return None, None


def success_codes(spec):
    codes = set()
    for part in str(spec or "200").split(","):
        part = part.strip()
        if "-" in part:
            lo, hi = part.split("-", 1)
            codes.update(range(int(lo), int(hi) + 1))
        elif part:
            codes.add(int(part))
    return codes


def _gateway_refs(vs):
    out = []
    for i, g in enumerate((vs.get("spec") or {}).get("gateways") or []):
        if g == "mesh":
            continue
        ns, name = g.split("/", 1) if "/" in g else (_ns(vs), g)
        out.append((i, ns, name))
    return out


def _gateway_hosts(gw, port=None):
    hosts = []
    for server in (gw.get("spec") or {}).get("servers") or []:
        if port is not None and (server.get("port") or {}).get("number") != port:
            continue
        hosts += [_strip_ns(h) for h in server.get("hosts") or []]
    return hosts


def _public_hosts(world):
    if world.spec.get("public_hosts") is not None:
        return list(world.spec["public_hosts"])
    hosts = []
    for gw in _kind(world.objects, "Gateway"):
        hosts += [h for h in _gateway_hosts(gw) if "*" not in h and h not in hosts]
    return hosts


def _alb_ingresses(objs):
    out = []
    for ing in _kind(objs, "Ingress"):
        spec = ing.get("spec") or {}
        ann = (ing.get("metadata") or {}).get("annotations") or {}
        if spec.get("ingressClassName") == "alb" or ann.get("kubernetes.io/ingress.class") == "alb":
            out.append(ing)
    return out


def _ingress_backends(ing):
    spec = ing.get("spec") or {}
    backends = []
    if spec.get("defaultBackend"):
        backends.append(("spec.defaultBackend.service", spec["defaultBackend"].get("service") or {}))
    for i, rule in enumerate(spec.get("rules") or []):
        for j, path in enumerate((rule.get("http") or {}).get("paths") or []):
            backends.append(("spec.rules[%d].http.paths[%d].backend.service" % (i, j),
                             (path.get("backend") or {}).get("service") or {}))
    return backends


# -- routing checks ----------------------------------------------------------
def check_external_dns(world):
    out = []
    if not world.context.get("external_dns", True):
        return out
    public = _public_hosts(world)
    field = 'metadata.annotations["%s"]' % EXTERNAL_DNS_HOSTNAME
    for ing in _alb_ingresses(world.objects):
        ann = (ing.get("metadata") or {}).get("annotations") or {}
        value = ann.get(EXTERNAL_DNS_HOSTNAME)
        if not value:
            out.append(finding(
                "external-dns", ref(ing), field,
                "the bridge Ingress has no ExternalDNS hostname annotation, so ExternalDNS ignores it and the "
                "ALB gets no DNS name (public hosts: %s)." % (", ".join(public) or "none"),
                "annotate it with %s: %s (mesh_external_dns: true)" % (EXTERNAL_DNS_HOSTNAME, ",".join(public))))
            continue
        listed = [h.strip() for h in value.split(",") if h.strip()]
        missing = [h for h in public if h not in listed]
        if missing:
            out.append(finding(
                "external-dns", ref(ing), field,
                "public host(s) %s are served by the Gateway but not listed, so they get no DNS record."
                % ", ".join(missing),
                "list every public host: %s" % ",".join(listed + missing)))
    return out


def check_alb_health(world):
    out = []
    for ing in _alb_ingresses(world.objects):
        ann = (ing.get("metadata") or {}).get("annotations") or {}
        hc_port = ann.get(ALB + "healthcheck-port", "traffic-port")
        if hc_port != "traffic-port":
            continue  # the probe goes to a port of its own (e.g. the status port 15021), not through a Gateway
        path = ann.get(ALB + "healthcheck-path", "/")
        codes = success_codes(ann.get(ALB + "success-codes", "200"))
        field_path = 'metadata.annotations["%shealthcheck-path"]' % ALB
        backends = [b for b in _ingress_backends(ing) if b[1].get("name")]
        if not backends:
            continue
        svc = backends[0][1]
        port = (svc.get("port") or {}).get("number")
        gws = [gw for gw in world.gateways() if _ns(gw) == _ns(ing)] or world.gateways()
        if not gws:
            out.append(finding("alb-health-check", ref(ing), backends[0][0],
                               "no Gateway exists to answer the ALB health check %s." % path,
                               "apply the routing bundle's Gateway (mesh_gateway)"))
            continue
        star = [gw for gw in gws if any(host_matches(h, PROBE_HOST) for h in _gateway_hosts(gw, port))]
        if not star:
            gw = gws[0]
            hosts = _gateway_hosts(gw, port)
            out.append(finding(
                "alb-health-check", ref(gw), "spec.servers[0].hosts",
                "the ALB probes %s on port %s with the target IP as Host, which matches none of the Gateway "
                "hosts %s, so every target fails its health check." % (path, port, ", ".join(hosts) or "(none)"),
                "add '*' to the Gateway hosts (mesh_gateway_extra_hosts, or mesh_health_check_route: true) "
                "and serve %s with a health-check VirtualService" % path))
            continue
        headers = {"User-Agent": PROBE_USER_AGENT, "Host": PROBE_HOST}
        answered = False
        partial = None
        for vs in _kind(world.all, "VirtualService"):
            bound = [(ref_[1], ref_[2]) for ref_ in _gateway_refs(vs)]
            if not any((_ns(gw), _name(gw)) in bound for gw in star):
                continue
            if not any(host_matches(h, PROBE_HOST) for h in (vs.get("spec") or {}).get("hosts") or []):
                continue
            idx, route = first_route(vs, path, headers)
            if route is None:
                continue
            direct = route.get("directResponse")
            if direct and int(direct.get("status", 0)) in codes:
                answered = True
                break
            if direct:
                partial = (vs, idx, "answers with status %s, not one of the success codes %s"
                           % (direct.get("status"), ann.get(ALB + "success-codes", "200")))
            elif route.get("route"):
                answered = True  # routed to a backend that is expected to answer; not provable offline
                break
            else:
                partial = (vs, idx, "matches but neither routes nor answers directly")
        if answered:
            continue
        if partial:
            vs, idx, why = partial
            out.append(finding("alb-health-check", ref(vs), "spec.http[%d]" % idx,
                               "the ALB health check %s %s." % (path, why),
                               "answer %s with directResponse status 200" % path))
        else:
            out.append(finding(
                "alb-health-check", ref(ing), field_path,
                "no VirtualService bound to Gateway %s/%s with host '*' answers the ALB health check GET %s "
                "(User-Agent %s, Host = target IP), so every target is unhealthy."
                % (_ns(star[0]), _name(star[0]), path, PROBE_USER_AGENT),
                "add the health-check VirtualService (mesh_health_check_route: true): hosts ['*'], "
                "match uri exact %s -> directResponse 200" % path))
    return out


def check_gateway_selector(world):
    out = []
    label_sets = world.gateway_label_sets
    for gw in _kind(world.objects, "Gateway"):
        selector = (gw.get("spec") or {}).get("selector") or {}
        if not selector:
            continue  # an empty selector matches every gateway pod
        if not any(labels_match(selector, labels) for labels in label_sets):
            out.append(finding(
                "gateway-selector", ref(gw), "spec.selector",
                "selector %s matches no gateway pod (gateway pod labels: %s), so no proxy serves this Gateway."
                % (_labels_str(selector), "; ".join(_labels_str(labels) for labels in label_sets)),
                "set mesh_gateway_selector to labels the gateway pods carry (release %s gives %s)"
                % (world.gateway_pod["release"], _labels_str(label_sets[0]))))
    return out


def _service_of(host, namespace):
    host = host.lower()
    if host.endswith(".svc.cluster.local"):
        parts = host[: -len(".svc.cluster.local")].split(".")
        return (parts[1], parts[0]) if len(parts) == 2 else None
    parts = host.split(".")
    if len(parts) == 1:
        return (namespace, parts[0])
    if len(parts) == 2 or (len(parts) == 3 and parts[2] == "svc"):
        return (parts[1], parts[0])
    return None  # an external name (ServiceEntry), not checked


def _service_ports(svc):
    return [p.get("port") for p in (svc.get("spec") or {}).get("ports") or []]


def check_destinations(world):
    out = []
    if world.services is None:
        return out
    for vs in _kind(world.objects, "VirtualService"):
        spec = vs.get("spec") or {}
        for kind in ("http", "tcp", "tls"):
            for i, route in enumerate(spec.get(kind) or []):
                for j, dest in enumerate(route.get("route") or []):
                    d = dest.get("destination") or {}
                    key = _service_of(d.get("host") or "", _ns(vs))
                    if key is None:
                        continue
                    base = "spec.%s[%d].route[%d].destination" % (kind, i, j)
                    svc = world.services.get(key)
                    if svc is None:
                        out.append(finding(
                            "vs-destination", ref(vs), base + ".host",
                            "destination %s: Service %s/%s does not exist, requests get 503." % (d.get("host"), key[0], key[1]),
                            "deploy the Service first (APIs are sync wave 40, routes 50) or fix the domain's "
                            "namespace/service in mesh_domains"))
                        continue
                    port = (d.get("port") or {}).get("number")
                    if port is not None and port not in _service_ports(svc):
                        out.append(finding(
                            "vs-destination", ref(vs), base + ".port.number",
                            "port %s is not a port of Service %s/%s (ports: %s)."
                            % (port, key[0], key[1], ", ".join(str(p) for p in _service_ports(svc)) or "none"),
                            "set the domain's port in mesh_domains to one of the Service ports"))
    for ing in _alb_ingresses(world.objects):
        for field, backend in _ingress_backends(ing):
            svc = world.services.get((_ns(ing), backend.get("name")))
            if svc is None:
                out.append(finding(
                    "vs-destination", ref(ing), field + ".name",
                    "backend Service %s/%s does not exist: the ALB has no targets." % (_ns(ing), backend.get("name")),
                    "install the ingress gateway first (phase istio_gateway) or set mesh_gateway_service"))
            elif (backend.get("port") or {}).get("number") not in _service_ports(svc):
                out.append(finding(
                    "vs-destination", ref(ing), field + ".port.number",
                    "port %s is not a port of Service %s/%s." % ((backend.get("port") or {}).get("number"),
                                                                 _ns(ing), backend.get("name")),
                    "use the gateway Service's http port (mesh_gateway.port)"))
    return out


def _dns_names(world):
    names = set()
    for ing in _alb_ingresses(world.all):
        value = ((ing.get("metadata") or {}).get("annotations") or {}).get(EXTERNAL_DNS_HOSTNAME) or ""
        names.update(h.strip() for h in value.split(",") if h.strip())
    return names


def check_vs_gateways(world):
    out = []
    dns = _dns_names(world)
    for vs in _kind(world.objects, "VirtualService"):
        refs = _gateway_refs(vs)
        gws = []
        for i, ns, name in refs:
            gw = world.gateway(ns, name)
            if gw is None:
                out.append(finding("vs-gateway", ref(vs), "spec.gateways[%d]" % i,
                                   "Gateway %s/%s does not exist, so this route is never served." % (ns, name),
                                   "bind to %s" % world.spec.get("gateway", {}).get("ref", "istio-system/eco2-gateway")))
            else:
                gws.append(gw)
        if not gws:
            continue
        gw_hosts = [h for gw in gws for h in _gateway_hosts(gw)]
        for j, host in enumerate((vs.get("spec") or {}).get("hosts") or []):
            if not any(hosts_overlap(g, host) for g in gw_hosts):
                out.append(finding(
                    "vs-gateway", ref(vs), "spec.hosts[%d]" % j,
                    "host %s is not on Gateway %s (hosts: %s), so the gateway never routes it."
                    % (host, ", ".join("%s/%s" % (_ns(g), _name(g)) for g in gws), ", ".join(gw_hosts)),
                    "add the host to the Gateway (mesh_public_hosts / mesh_gateway_extra_hosts) or fix the "
                    "domain's hosts"))
            elif "*" not in host and dns and host not in dns and not any(g == host for g in gw_hosts):
                out.append(finding(
                    "vs-gateway", ref(vs), "spec.hosts[%d]" % j,
                    "host %s is only matched by a wildcard Gateway host and has no ExternalDNS record." % host,
                    "add it to mesh_public_hosts", severity="warning"))
    return out


def _route_signatures(vs):
    spec = vs.get("spec") or {}
    sigs = []
    for i, route in enumerate(spec.get("http") or []):
        matches = route.get("match") or [{}]
        for k, m in enumerate(matches):
            m = {key: val for key, val in m.items() if key != "name"}
            sigs.append(("spec.http[%d].match[%d]" % (i, k) if route.get("match") else "spec.http[%d]" % i,
                         json.dumps(m, sort_keys=True)))
    return sigs


def _describe_match(sig):
    m = json.loads(sig)
    uri = m.get("uri") or {}
    if uri:
        (kind, value), = list(uri.items())[:1]
        text = "%s %s" % (kind, value)
    else:
        text = "any path"
    if m.get("headers"):
        text += " with headers %s" % json.dumps(m["headers"], sort_keys=True)
    return text


def check_vs_conflicts(world):
    out = []
    mine = {_key(o) for o in world.objects}
    vss = sorted(_kind(world.all, "VirtualService"), key=lambda o: (_key(o) not in mine, _ns(o) or "", _name(o) or ""))
    seen = []  # (gateway, host, sig, vs, field)
    reported = set()
    for vs in vss:
        hosts = (vs.get("spec") or {}).get("hosts") or []
        gateways = [(ref_[1], ref_[2]) for ref_ in _gateway_refs(vs)]
        sigs = _route_signatures(vs)
        for gw in gateways:
            for host in hosts:
                for field, sig in sigs:
                    for other_gw, other_host, other_sig, other, other_field in seen:
                        if other is vs or other_gw != gw or other_sig != sig or not hosts_overlap(host, other_host):
                            continue
                        a, b = sorted([ref(vs), ref(other)])
                        if (a, b, sig) in reported:
                            continue
                        if _key(vs) not in mine and _key(other) not in mine:
                            continue
                        reported.add((a, b, sig))
                        target = vs if _key(vs) in mine else other
                        out.append(finding(
                            "vs-conflict", ref(target), field if target is vs else other_field,
                            "%s and %s both claim host %s, %s on Gateway %s/%s; Istio serves only one of them."
                            % (ref(other), ref(vs), host if "*" not in host else other_host, _describe_match(sig),
                               gw[0], gw[1]),
                            "give each route its own prefix (mesh_domains[].prefixes) or delete the leftover "
                            "VirtualService"))
                    seen.append((gw, host, sig, vs, field))
    return out


# -- entry point ---------------------------------------------------------------
ROUTING_CHECKS = (check_external_dns, check_alb_health, check_gateway_selector, check_destinations,
                  check_vs_gateways, check_vs_conflicts)
