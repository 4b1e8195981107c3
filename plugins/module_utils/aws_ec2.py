# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inventory hosts -> EC2 instances -> Kubernetes provider IDs (pure functions over boto3 shapes)."""
from __future__ import annotations

GONE_STATES = ("terminated", "shutting-down")


def provider_id(availability_zone, instance_id):
    """The provider ID the AWS cloud provider and the AWS Load Balancer Controller expect on the Node."""
    return "aws:///%s/%s" % (availability_zone, instance_id)


def instance_private_ips(instance):
    """Every private IPv4 address of an instance (primary first)."""
    ips = []
    if instance.get("PrivateIpAddress"):
        ips.append(instance["PrivateIpAddress"])
    for eni in instance.get("NetworkInterfaces") or []:
        for addr in eni.get("PrivateIpAddresses") or []:
            ip = addr.get("PrivateIpAddress")
            if ip and ip not in ips:
                ips.append(ip)
    return ips


def instance_name(instance):
    for tag in instance.get("Tags") or []:
        if tag.get("Key") == "Name":
            return tag.get("Value")
    return None


def flatten_reservations(reservations):
    """describe_instances Reservations -> instances, without duplicates."""
    seen, out = set(), []
    for reservation in reservations or []:
        for inst in reservation.get("Instances") or []:
            if inst.get("InstanceId") not in seen:
                seen.add(inst.get("InstanceId"))
                out.append(inst)
    return out


def _describe(inst, host, matched_by, expected):
    az = (inst.get("Placement") or {}).get("AvailabilityZone")
    pid = provider_id(az, inst["InstanceId"])
    return {
        "host": host,
        "instance_id": inst["InstanceId"],
        "availability_zone": az,
        "provider_id": pid,
        "private_ip": inst.get("PrivateIpAddress"),
        "state": (inst.get("State") or {}).get("Name"),
        "matched_by": matched_by,
        "expected_provider_id": expected,
        "provider_id_matches": expected in (None, "", pid),
    }


def match_hosts(hosts, instances):
    """Match inventory hosts to instances: by private IP first, else by the Name tag = inventory hostname.

    hosts: [{name, private_ip (optional), provider_id (optional, the value set on the Node)}].
    Terminated instances never match. Returns {found: [...], not_found: [host], ambiguous: [{host, instance_ids}],
    mismatched: [{host, expected, actual}]}.
    """
    live = [i for i in instances if (i.get("State") or {}).get("Name") not in GONE_STATES]
    by_ip, by_name = {}, {}
    for inst in live:
        for ip in instance_private_ips(inst):
            by_ip.setdefault(ip, []).append(inst)
        name = instance_name(inst)
        if name:
            by_name.setdefault(name, []).append(inst)
    found, not_found, ambiguous, mismatched = [], [], [], []
    for host in hosts:
        name = host["name"]
        expected = host.get("provider_id")
        candidates, matched_by = [], None
        if host.get("private_ip") and by_ip.get(host["private_ip"]):
            candidates, matched_by = by_ip[host["private_ip"]], "private_ip"
        elif by_name.get(name):
            candidates, matched_by = by_name[name], "name_tag"
        if not candidates:
            not_found.append(name)
            continue
        if len(candidates) > 1:
            ambiguous.append({"host": name, "matched_by": matched_by,
                              "instance_ids": sorted(i["InstanceId"] for i in candidates)})
            continue
        row = _describe(candidates[0], name, matched_by, expected)
        found.append(row)
        if not row["provider_id_matches"]:
            mismatched.append({"host": name, "expected": expected, "actual": row["provider_id"]})
    return {"found": found, "not_found": not_found, "ambiguous": ambiguous, "mismatched": mismatched}


def problems(result):
    """One line per disagreement between the inventory and EC2."""
    out = []
    for name in result["not_found"]:
        out.append("host %s: no EC2 instance with its private IP or the Name tag %s" % (name, name))
    for amb in result["ambiguous"]:
        out.append("host %s: several instances match by %s (%s)" % (amb["host"], amb["matched_by"],
                                                                    ", ".join(amb["instance_ids"])))
    for mis in result["mismatched"]:
        out.append("host %s: provider ID %s in the inventory, but EC2 says %s" % (mis["host"], mis["expected"], mis["actual"]))
    return out


def report_lines(result, total):
    lines = ["provider IDs: %d/%d hosts found in EC2" % (len(result["found"]), total)]
    lines += ["  " + p for p in problems(result)]
    return lines
