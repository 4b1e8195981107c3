# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ACM certificate checks: status, expiry and host coverage (pure functions over DescribeCertificate)."""
from __future__ import annotations

import datetime


def host_covered(host, name):
    """Whether a certificate name covers a host. A wildcard covers exactly one label:
    *.example.com covers a.example.com, not example.com nor a.b.example.com."""
    host = (host or "").strip().lower().rstrip(".")
    name = (name or "").strip().lower().rstrip(".")
    if not host or not name:
        return False
    if name.startswith("*."):
        parts = host.split(".", 1)
        return len(parts) == 2 and bool(parts[0]) and parts[0] != "*" and parts[1] == name[2:]
    return host == name


def certificate_names(cert):
    names = list(cert.get("SubjectAlternativeNames") or [])
    if cert.get("DomainName") and cert["DomainName"] not in names:
        names.insert(0, cert["DomainName"])
    return names


def uncovered(hosts, names):
    return [h for h in hosts if not any(host_covered(h, n) for n in names)]


def _utc(value):
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value


def check(cert, hosts, now=None, min_days=30):
    """Problems with a DescribeCertificate['Certificate'] dict (None = not found)."""
    if cert is None:
        return {"found": False, "status": None, "days_left": None, "names": [], "uncovered": list(hosts),
                "problems": ["the certificate does not exist (or is in another region/account); check mesh_alb_certificate_arn"]}
    now = _utc(now) or datetime.datetime.now(datetime.timezone.utc)
    names = certificate_names(cert)
    problems = []
    status = cert.get("Status")
    if status != "ISSUED":
        problems.append("status %s, not ISSUED%s" % (status, " (DNS validation records not in place yet?)"
                                                     if status == "PENDING_VALIDATION" else ""))
    not_after = _utc(cert.get("NotAfter"))
    days_left = None
    if not_after is not None:
        days_left = (not_after - now).days
        if not_after <= now:
            problems.append("expired on %s" % not_after.date().isoformat())
        elif days_left < min_days:
            problems.append("expires on %s, in %d days (threshold %d)" % (not_after.date().isoformat(), days_left, min_days))
    missing = uncovered(hosts, names)
    for host in missing:
        problems.append("does not cover %s (names: %s)" % (host, ", ".join(names) or "none"))
    return {"found": True, "status": status, "days_left": days_left, "not_after": not_after.isoformat() if not_after else None,
            "names": names, "uncovered": missing, "problems": problems}


def report_lines(arn, result):
    if not result["found"]:
        head = "certificate %s: NOT FOUND" % arn
    else:
        head = "certificate %s: %s, %s, covers %s" % (
            arn, result["status"], "%d days left" % result["days_left"] if result["days_left"] is not None else "no expiry date",
            ", ".join(result["names"]))
    return [head] + ["  " + p for p in result["problems"]]
