# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Route53 records of the public hosts versus the ALB, and ExternalDNS's TXT-registry ownership records.

ExternalDNS (TXT registry) marks each record it owns with a TXT record whose value is
"heritage=external-dns,external-dns/owner=<owner-id>,external-dns/resource=ingress/<namespace>/<name>",
named like the record (legacy format) and/or <record type>-<first label>.<rest> (new format, e.g.
a-api.dev.example.com; AAAA records only use the new format). A --txt-prefix goes in front; a prefix
holding %{record_type} carries the type itself.
"""
from __future__ import annotations

HOSTNAME_ANNOTATION = "external-dns.alpha.kubernetes.io/hostname"
HERITAGE = "heritage=external-dns"


def norm(name):
    """Route53 names: lower case, no trailing dot, octal escapes (\\052 = '*') decoded."""
    name = (name or "").strip().lower().rstrip(".")
    return name.replace("\\052", "*").replace("\\100", "@")


def norm_target(name):
    """An alias target's DNS name, without Route53's dualstack. prefix."""
    name = norm(name)
    return name[len("dualstack."):] if name.startswith("dualstack.") else name


def txt_names(host, record_type, prefix=""):
    """Names ExternalDNS may give the ownership TXT record of (host, record_type), new format first."""
    host = norm(host)
    rtype = record_type.lower()
    parts = host.split(".", 1)
    first, rest = parts[0], (parts[1] if len(parts) == 2 else "")
    typed = "%{record_type}" in prefix
    new_prefix = prefix.replace("%{record_type}", rtype)
    label = first if typed else "%s-%s" % (rtype, first)
    names = [new_prefix + label + ("." + rest if rest else "")]
    if record_type.upper() != "AAAA":
        names.append(prefix.replace("%{record_type}", "") + host)
    return names


def parse_owner(value):
    """The owner ID in an ExternalDNS TXT value, or None when it is not an ExternalDNS record."""
    value = (value or "").strip().strip('"')
    if HERITAGE not in value:
        return None
    for part in value.split(","):
        key, sep, val = part.partition("=")
        if sep and key.strip() == "external-dns/owner":
            return val.strip()
    return ""


def index_records(record_sets):
    """ListResourceRecordSets -> {(name, type): record set}."""
    return {(norm(rs.get("Name")), rs.get("Type")): rs for rs in record_sets or []}


def analyse(hosts, record_sets, alb_dns_name=None, dual_stack=False, owner_id=None, txt_prefix="",
            ingress="istio-system/istio-ingress"):
    """Compare the zone's records with what ExternalDNS should have made for each public host.

    Returns {ok, missing, stale, unowned} (lists of {host, type, ...}) and `problems` (lines).
    """
    index = index_records(record_sets)
    want_target = norm_target(alb_dns_name) if alb_dns_name else None
    types = ["A", "AAAA"] if dual_stack else ["A"]
    result = {"ok": [], "missing": [], "stale": [], "unowned": [], "problems": []}
    hint = "the Ingress %s annotation %s should list it and ExternalDNS should have created it" % (ingress, HOSTNAME_ANNOTATION)
    for host in hosts:
        h = norm(host)
        for rtype in types:
            rs = index.get((h, rtype))
            if rs is None:
                result["missing"].append({"host": h, "type": rtype})
                result["problems"].append("%s %s: no record; %s" % (h, rtype, hint))
                continue
            alias = rs.get("AliasTarget") or {}
            target = norm_target(alias.get("DNSName")) if alias else None
            if not alias:
                values = [r.get("Value") for r in rs.get("ResourceRecords") or []]
                result["stale"].append({"host": h, "type": rtype, "target": None, "values": values})
                result["problems"].append("%s %s: a plain record (%s), not an alias to the ALB %s; %s" % (
                    h, rtype, ", ".join(values), alb_dns_name or "", hint))
                continue
            if want_target and target != want_target:
                result["stale"].append({"host": h, "type": rtype, "target": target})
                result["problems"].append("%s %s: alias points at %s, not at the ALB %s (stale; ExternalDNS updates it "
                                          "from the Ingress %s status once it owns the record)" % (h, rtype, target, want_target, ingress))
                continue
            owners = []
            for name in txt_names(h, rtype, txt_prefix):
                txt = index.get((name, "TXT"))
                for rec in (txt or {}).get("ResourceRecords") or []:
                    owner = parse_owner(rec.get("Value"))
                    if owner is not None:
                        owners.append(owner)
            if not owners:
                result["unowned"].append({"host": h, "type": rtype, "owner": None})
                result["problems"].append("%s %s: no ExternalDNS ownership TXT record (%s); ExternalDNS will not manage it - "
                                          "%s" % (h, rtype, " or ".join(txt_names(h, rtype, txt_prefix)), hint))
                continue
            if owner_id and owner_id not in owners:
                result["unowned"].append({"host": h, "type": rtype, "owner": owners[0]})
                result["problems"].append("%s %s: owned by ExternalDNS owner %s, not %s; this cluster's ExternalDNS will "
                                          "not update it from the Ingress %s annotation %s" % (
                                              h, rtype, owners[0], owner_id, ingress, HOSTNAME_ANNOTATION))
                continue
            result["ok"].append({"host": h, "type": rtype, "target": target, "owner": owners[0]})
    return result


def select_zone(zones, zone_name, private=False):
    """The hosted zone named zone_name (public unless private), or None."""
    want = norm(zone_name)
    for zone in zones:
        if norm(zone.get("Name")) == want and bool((zone.get("Config") or {}).get("PrivateZone")) == private:
            return zone
    return None


def report_lines(zone_name, hosts, result, dual_stack=False):
    per_host = 2 if dual_stack else 1
    lines = ["DNS %s: %d/%d records alias the ALB and are owned by ExternalDNS" % (
        zone_name, len(result["ok"]), len(hosts) * per_host)]
    lines += ["  " + p for p in result["problems"]]
    return lines
