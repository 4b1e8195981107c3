# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pre-apply analysis of the routing and NetworkPolicy bundles (pure).

`analyze(objects, context)` looks at the objects about to be applied, plus
whatever the caller read from the live cluster (`context["live"]`, objects that
stay after the apply, e.g. VirtualServices and NetworkPolicies not ours), and
returns findings: {check, severity, object, field, message, fix}.

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
"""
from __future__ import annotations

import ipaddress
import json
import re

from ansible_collections.eco2.mesh.plugins.module_utils import mesh_netpol as netpol
from ansible_collections.eco2.mesh.plugins.module_utils import mesh_reachability

EXTERNAL_DNS_HOSTNAME = "external-dns.alpha.kubernetes.io/hostname"
ALB = "alb.ingress.kubernetes.io/"
ISTIOD_PORTS = [15010, 15012, 15014, 15017, 443]
ISTIOD_POD_LABELS = {"app": "istiod", "istio": "pilot"}
DNS_POD_LABELS = {"k8s-app": "kube-dns"}
GATEWAY_POD_LABELS = [{"app": "istio-ingressgateway", "istio": "ingressgateway"}]
PROBE_HOST = "10.0.0.10"  # the ALB probes the target with its IP as Host
PROBE_USER_AGENT = "ELB-HealthChecker/2.0"
CHECKS = ("routing", "network_policies")


def finding(check, obj, field, message, fix, severity="error"):
    return {"check": check, "severity": severity, "object": obj, "field": field, "message": message, "fix": fix}


def format_finding(f):
    return "[%s] %s %s: %s Fix: %s (%s)" % (f["severity"], f["object"], f["field"], f["message"], f["fix"], f["check"])


def ref(obj):
    meta = obj.get("metadata") or {}
    if meta.get("namespace"):
        return "%s %s/%s" % (obj.get("kind"), meta["namespace"], meta.get("name"))
    return "%s %s" % (obj.get("kind"), meta.get("name"))


def _key(obj):
    meta = obj.get("metadata") or {}
    return (obj.get("kind"), meta.get("namespace"), meta.get("name"))


def _ns(obj):
    return (obj.get("metadata") or {}).get("namespace")


def _name(obj):
    return (obj.get("metadata") or {}).get("name")


def _kind(objs, kind):
    return [o for o in objs if o.get("kind") == kind]


def _labels_str(labels):
    return ",".join("%s=%s" % kv for kv in sorted((labels or {}).items())) or "(any)"


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


# -- the context -------------------------------------------------------------
class _World:
    def __init__(self, objects, context):
        self.objects = list(objects or [])
        self.context = context or {}
        keys = {_key(o) for o in self.objects}
        live = [o for o in self.context.get("live") or [] if _key(o) not in keys]
        self.live = live
        self.all = self.objects + live
        self.spec = self.context.get("spec") or {}
        services = self.context.get("services")
        if services is not None:
            services = list(services) + _kind(self.all, "Service")
        self.services = None if services is None else {(_ns(s), _name(s)): s for s in services}
        self.namespaces = self.context.get("namespaces")  # {name: labels} or None when unknown

    def gateways(self):
        return _kind(self.all, "Gateway")

    def gateway(self, namespace, name):
        for gw in self.gateways():
            if _ns(gw) == namespace and _name(gw) == name:
                return gw
        return None

    def ns_labels(self):
        return self.namespaces or {}


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
    label_sets = world.context.get("gateway_pod_labels") or GATEWAY_POD_LABELS
    for gw in _kind(world.objects, "Gateway"):
        selector = (gw.get("spec") or {}).get("selector") or {}
        if not selector:
            continue  # an empty selector matches every gateway pod
        if not any(all(labels.get(k) == v for k, v in selector.items()) for labels in label_sets):
            out.append(finding(
                "gateway-selector", ref(gw), "spec.selector",
                "selector %s matches no gateway pod (gateway pod labels: %s), so no proxy serves this Gateway."
                % (_labels_str(selector), "; ".join(_labels_str(labels) for labels in label_sets)),
                "set mesh_gateway_selector to labels the gateway pods carry (release %s gives %s)"
                % (world.spec.get("gateway", {}).get("release", "istio-ingressgateway"), _labels_str(label_sets[0]))))
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


# -- NetworkPolicy checks ------------------------------------------------------
def _workloads(world):
    """Representative pods of the meshed domains, with their app ports."""
    out = []
    for d in world.spec.get("domains") or []:
        if not d.get("meshed", True):
            continue
        labels = dict(d.get("pod_labels") or {"app": d["service"]})
        ports = [d["port"]] + [r["port"] for r in d.get("routes") or []
                               if r["namespace"] == d["namespace"] and r["port"] != d["port"]]
        out.append({"domain": d["name"], "namespace": d["namespace"], "labels": labels, "ports": _uniq(ports)})
    if not out:
        for ns in _uniq([_ns(p) for p in _kind(world.objects, "NetworkPolicy")]):
            out.append({"domain": ns, "namespace": ns, "labels": {}, "ports": []})
    return out


def _uniq(items):
    out = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def _blocking(side, namespace, direction, policies=None, other=None, namespaces=None):
    """(object, field, names) of the policy to fix: the isolating policy whose rules reach `other`, else the first."""
    names = side.selecting or ["(none)"]
    if not side.selecting:
        return "Namespace %s" % namespace, "spec.%s" % direction.lower(), ", ".join(names)
    key, peer_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    by_name = {"%s/%s" % (_ns(p), _name(p)): p for p in policies or []}

    def reaches(pol):
        for rule in (pol.get("spec") or {}).get(key) or []:
            peers = rule.get(peer_key)
            if not peers or any(netpol.peer_matches(p, _ns(pol), other, namespaces) for p in peers):
                return True
        return False

    chosen = names[0]
    if other is not None:
        chosen = next((n for n in names if reaches(by_name.get(n) or {})), names[0])
    return "NetworkPolicy %s" % chosen, "spec.%s" % direction.lower(), ", ".join(names)


def _is_default_deny_egress(pol):
    spec = pol.get("spec") or {}
    return ("Egress" in netpol.policy_types(pol) and not spec.get("egress")
            and not (spec.get("podSelector") or {}).get("matchLabels")
            and not (spec.get("podSelector") or {}).get("matchExpressions"))


def check_policies(world):
    out = []
    ctx = world.context
    policies = _kind(world.all, "NetworkPolicy")
    nss = world.ns_labels()
    istiod_ns = (world.spec.get("istiod") or {}).get("namespace", "istio-system")
    dns_ns = (world.spec.get("dns") or {}).get("namespace", "kube-system")
    gw_ns = (world.spec.get("gateway") or {}).get("namespace", "istio-system")
    istiod = {"namespace": istiod_ns, "labels": ctx.get("istiod_pod_labels") or ISTIOD_POD_LABELS}
    dns = {"namespace": dns_ns, "labels": ctx.get("dns_pod_labels") or DNS_POD_LABELS}
    gw_pod = {"namespace": gw_ns, "labels": (ctx.get("gateway_pod_labels") or GATEWAY_POD_LABELS)[0]}
    istiod_ports = ctx.get("istiod_ports") or ISTIOD_PORTS
    dns_port = (world.spec.get("dns") or {}).get("port", 53)

    if world.namespaces is not None:
        for ns in _uniq([_ns(o) for o in world.objects if _ns(o)]):
            if ns not in world.namespaces:
                obj = next(o for o in world.objects if _ns(o) == ns)
                out.append(finding("namespace-missing", ref(obj), "metadata.namespace",
                                   "namespace %s does not exist, the apply would fail." % ns,
                                   "create the namespace first (sync wave 2) or fix mesh_domains[].namespace"))

    workloads = _workloads(world)
    default_deny_reported = set()
    for w in workloads:
        pod = {"namespace": w["namespace"], "labels": w["labels"]}
        blocked = [p for p in istiod_ports if not netpol.evaluate(pod, istiod, p, "TCP", policies, nss)]
        if blocked:
            v = netpol.evaluate(pod, istiod, blocked[0], "TCP", policies, nss)
            side, direction, ns, other = ((v.egress, "Egress", w["namespace"], istiod) if not v.egress
                                          else (v.ingress, "Ingress", istiod_ns, pod))
            obj, field, names = _blocking(side, ns, direction, policies, other, nss)
            out.append(finding(
                "istiod-egress", obj, field,
                "sidecars in meshed namespace %s cannot reach istiod (%s, %s) on TCP %s (%s isolated by %s); they "
                "cannot fetch config or certificates (CSR 'i/o timeout') and the pods degrade."
                % (w["namespace"], istiod_ns, _labels_str(istiod["labels"]), ", ".join(str(p) for p in blocked),
                   direction.lower(), names),
                "allow egress to namespace %s pods %s on TCP %s (mesh_istiod)"
                % (istiod_ns, _labels_str(istiod["labels"]), ", ".join(str(p) for p in istiod_ports))))
        dns_blocked = [proto for proto in ("UDP", "TCP") if not netpol.evaluate(pod, dns, dns_port, proto, policies, nss)]
        if dns_blocked:
            v = netpol.evaluate(pod, dns, dns_port, dns_blocked[0], policies, nss)
            side, direction, ns, other = ((v.egress, "Egress", w["namespace"], dns) if not v.egress
                                          else (v.ingress, "Ingress", dns_ns, pod))
            obj, field, names = _blocking(side, ns, direction, policies, other, nss)
            deny = [p for p in policies if _ns(p) == w["namespace"] and _is_default_deny_egress(p)]
            check = "default-deny-dns" if deny else "dns-egress"
            if deny:
                obj, field = ref(deny[0]), "spec.policyTypes"
                default_deny_reported.add(w["namespace"])
            out.append(finding(
                check, obj, field,
                "%spods in %s cannot reach DNS (%s, %s) on %s %s: every name lookup, including istiod's, fails."
                % ("default-deny without DNS: " if deny else "", w["namespace"], dns_ns, _labels_str(dns["labels"]),
                   "/".join(dns_blocked), dns_port),
                "allow egress to namespace %s pods %s on UDP and TCP %s (mesh_dns)"
                % (dns_ns, _labels_str(DNS_POD_LABELS), dns_port)))
        for port in w["ports"]:
            v = netpol.evaluate(gw_pod, dict(pod, ports=[]), port, "TCP", policies, nss)
            if not v:
                side, direction, ns, other = ((v.ingress, "Ingress", w["namespace"], gw_pod) if not v.ingress
                                              else (v.egress, "Egress", gw_ns, pod))
                obj, field, names = _blocking(side, ns, direction, policies, other, nss)
                out.append(finding(
                    "gateway-ingress", obj, field,
                    "gateway pods (%s, %s) cannot reach %s in %s on TCP %s (%s isolated by %s): routes to %s fail."
                    % (gw_ns, _labels_str(gw_pod["labels"]), _labels_str(w["labels"]), w["namespace"], port,
                       direction.lower(), names, w["domain"]),
                    "allow ingress from namespace %s pods %s on TCP %s" % (gw_ns, _labels_str(gw_pod["labels"]), port)))

    # default-deny in a namespace that is not a meshed workload of the spec
    for pol in _kind(world.objects, "NetworkPolicy"):
        ns = _ns(pol)
        if ns in default_deny_reported or not _is_default_deny_egress(pol):
            continue
        if any(w["namespace"] == ns for w in workloads):
            continue
        pod = {"namespace": ns, "labels": {}}
        if not all(netpol.evaluate(pod, dns, dns_port, proto, policies, nss) for proto in ("UDP", "TCP")):
            default_deny_reported.add(ns)
            out.append(finding("default-deny-dns", ref(pol), "spec.policyTypes",
                               "default-deny without DNS: pods in %s cannot reach DNS on %s." % (ns, dns_port),
                               "allow egress to namespace %s pods %s on UDP and TCP %s"
                               % (dns_ns, _labels_str(DNS_POD_LABELS), dns_port)))

    out += _check_flows(world, workloads, policies, nss)
    return out


def _pod_in(namespace, selector, workloads):
    labels = None
    if selector is not None:
        if selector.get("matchExpressions"):
            return None
        labels = dict(selector.get("matchLabels") or {})
    if not labels:
        for w in workloads:
            if w["namespace"] == namespace:
                labels = dict(w["labels"])
                break
    return {"namespace": namespace, "labels": labels or {}}


def _named_namespace(peer):
    sel = peer.get("namespaceSelector") or {}
    return (sel.get("matchLabels") or {}).get(netpol.NS_NAME_LABEL)


def _check_flows(world, workloads, policies, nss):
    out = []
    done = set()
    for flow in world.spec.get("flows") or []:
        src = _pod_in(flow["from_namespace"], None, workloads)
        dst = _pod_in(flow["to_namespace"], None, workloads)
        key = (src["namespace"], dst["namespace"], flow["port"], flow["protocol"])
        done.add(key)
        f = _flow_finding(src, dst, flow["port"], flow["protocol"], policies, nss,
                          "flow %s -> %s %s/%s" % (flow["from"], flow["to"], flow["protocol"], flow["port"]), True)
        if f:
            out.append(f)
    # one-sided allowances written directly in policies (e.g. a hand-written egress without its ingress)
    for pol in policies:
        ns = _ns(pol)
        spec = pol.get("spec") or {}
        selector = spec.get("podSelector") or {}
        for direction, key in (("Egress", "egress"), ("Ingress", "ingress")):
            if direction not in netpol.policy_types(pol):
                continue
            for rule in spec.get(key) or []:
                for peer in rule.get("to" if key == "egress" else "from") or []:
                    other_ns = _named_namespace(peer)
                    if not other_ns or other_ns == ns:
                        continue
                    here = _pod_in(ns, selector, workloads)
                    there = _pod_in(other_ns, peer.get("podSelector"), workloads)
                    if here is None or there is None:
                        continue
                    src, dst = (here, there) if direction == "Egress" else (there, here)
                    for port in rule.get("ports") or []:
                        number = port.get("port")
                        if isinstance(number, str) and number.isdigit():
                            number = int(number)  # a quoted number; named ports are left out
                        if port.get("endPort") is not None or not isinstance(number, int):
                            continue
                        proto = port.get("protocol") or "TCP"
                        k = (src["namespace"], dst["namespace"], number, proto)
                        if k in done:
                            continue
                        done.add(k)
                        f = _flow_finding(src, dst, number, proto, policies, nss,
                                          "%s allowed by %s %s" % (
                                              "egress to %s" % dst["namespace"] if direction == "Egress"
                                              else "ingress from %s" % src["namespace"], ref(pol),
                                              "%s/%s" % (proto, port["port"])), False)
                        if f:
                            out.append(f)
    return out


def _flow_finding(src, dst, port, proto, policies, nss, what, declared):
    v = netpol.evaluate(src, dst, port, proto, policies, nss)
    if v.allowed:
        return None
    if v.egress.allowed and not v.ingress.allowed:
        obj, field, names = _blocking(v.ingress, dst["namespace"], "Ingress", policies, src, nss)
        return finding(
            "flow-one-sided", obj, field,
            "%s: egress from %s is allowed but ingress into %s on %s/%s is not (isolated by %s); the call times out."
            % (what, src["namespace"], dst["namespace"], proto, port, names),
            "write both sides: declare it in mesh_flows ({from: <%s domain>, to: <%s domain>, port: %s, protocol: %s})"
            % (src["namespace"], dst["namespace"], port, proto))
    if v.ingress.allowed and not v.egress.allowed:
        obj, field, names = _blocking(v.egress, src["namespace"], "Egress", policies, dst, nss)
        return finding(
            "flow-one-sided", obj, field,
            "%s: ingress into %s is allowed but egress from %s on %s/%s is not (isolated by %s); the call times out."
            % (what, dst["namespace"], src["namespace"], proto, port, names),
            "write both sides: declare it in mesh_flows ({from: <%s domain>, to: <%s domain>, port: %s, protocol: %s})"
            % (src["namespace"], dst["namespace"], port, proto))
    if declared:
        obj, field, names = _blocking(v.egress, src["namespace"], "Egress", policies, dst, nss)
        return finding("flow-blocked", obj, field,
                       "%s is blocked on both sides (egress by %s, ingress by %s)."
                       % (what, names, ", ".join(v.ingress.selecting)),
                       "allow egress in %s and ingress in %s on %s/%s" % (src["namespace"], dst["namespace"], proto, port))
    return None


def check_newly_denied(world):
    """Connections the policies allow today (ours included) that they would not allow after the apply."""
    spec = world.spec
    if not spec.get("domains") or "istiod" not in spec:
        return []
    after = _kind(world.all, "NetworkPolicy")
    before = _kind(world.live + list(world.context.get("live_ours") or []), "NetworkPolicy")
    ctx = world.context
    gw_labels = (ctx.get("gateway_pod_labels") or [spec["gateway"]["pod_labels"]])[0]
    denied = mesh_reachability.newly_denied(
        spec, before, after, world.namespaces, _workloads(world), ctx.get("istiod_pod_labels") or
        spec["istiod"]["pod_labels"], ctx.get("dns_pod_labels") or spec["dns"]["pod_labels"], gw_labels)
    out = []
    for d in denied:
        names = d["isolated_by"] or ["(none)"]
        chosen = next((n for n in names if n.endswith("/mesh-default-deny")), names[0])
        out.append(finding(
            "newly-denied", "NetworkPolicy %s" % chosen, "spec.policyTypes",
            "applying the bundle would deny %s (%s) -> %s (%s) on %s %s, which is open today (%s isolated by %s)."
            % (d["from"], d["from_name"], d["to"], d["to_name"], d["protocol"], ", ".join(str(p) for p in d["ports"]),
               d["direction"], ", ".join(names)),
            "declare the connection (mesh_peers or mesh_flows), or accept losing it in "
            "mesh_network_policy_acknowledged_denials ({from: %s, to: %s, port: %s})"
            % (d["from_ack"], d["to_ack"], d["ports"][0])))
    return out


# -- entry point ---------------------------------------------------------------
ROUTING_CHECKS = (check_external_dns, check_alb_health, check_gateway_selector, check_destinations,
                  check_vs_gateways, check_vs_conflicts)
POLICY_CHECKS = (check_policies, check_newly_denied)


def analyze(objects, context=None):
    """Findings for the objects about to be applied. See the module docstring for `context`."""
    context = dict(context or {})
    world = _World(objects, context)
    checks = context.get("checks") or CHECKS
    # imported here: the auth checks (mesh_auth) build on this module
    from ansible_collections.eco2.mesh.plugins.module_utils import mesh_auth_analysis as auth
    out = []
    if "routing" in checks:
        for check in ROUTING_CHECKS + auth.ROUTING_CHECKS:
            out += check(world)
    if "network_policies" in checks:
        for check in POLICY_CHECKS + auth.POLICY_CHECKS:
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
