# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which Kubernetes versions each Istio minor release supports.

Source: istio.io "Supported Releases" (data/compatibility/supportStatus.yml),
column "Supported Kubernetes Versions". Pure data and functions, no I/O.
"""
from __future__ import annotations

import re

# Istio minor -> (oldest, newest) supported Kubernetes minor, both inclusive.
SUPPORTED_KUBERNETES = {
    "1.22": ("1.27", "1.30"),
    "1.23": ("1.27", "1.30"),
    "1.24": ("1.28", "1.31"),
    "1.25": ("1.29", "1.32"),
    "1.26": ("1.29", "1.33"),
    "1.27": ("1.29", "1.33"),
    "1.28": ("1.30", "1.34"),
    "1.29": ("1.31", "1.35"),
    "1.30": ("1.32", "1.36"),
}

# The Istio minors this collection's roles, values and tests are built for; others need
# istio_allow_unsupported_version (the mesh_validate action refuses them otherwise).
SUPPORTED_ISTIO_MINORS = ("1.24",)

_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+].*)?$")


def parse_version(text):
    """'1.24.1' / 'v1.31.2-eks' -> (1, 24, 1); (1, 24, None) without a patch. ValueError if malformed."""
    match = _VERSION.match(str(text).strip())
    if not match:
        raise ValueError("not a version: %r" % (text,))
    patch = match.group(3)
    return int(match.group(1)), int(match.group(2)), (int(patch) if patch is not None else None)


def istio_minor(istio_version):
    major, minor, _patch = parse_version(istio_version)
    return "%d.%d" % (major, minor)


def supported_range(istio_version, table=None):
    """(oldest, newest) Kubernetes minors as strings for an Istio version, or None when unknown."""
    return (table or SUPPORTED_KUBERNETES).get(istio_minor(istio_version))


def _minor_tuple(text):
    major, minor, _patch = parse_version(text)
    return major, minor


def check_kubernetes_version(istio_version, kube_major, kube_minor, table=None):
    """Return (ok, message) for a server version against an Istio version's supported range."""
    rng = supported_range(istio_version, table)
    kube = "%d.%d" % (int(kube_major), int(kube_minor))
    if rng is None:
        known = ", ".join(sorted((table or SUPPORTED_KUBERNETES), key=_minor_tuple))
        return False, ("Istio %s is not in the supported-versions table (known minors: %s); "
                       "cannot tell whether Kubernetes %s is supported" % (istio_version, known, kube))
    low, high = rng
    if _minor_tuple(low) <= (int(kube_major), int(kube_minor)) <= _minor_tuple(high):
        return True, "Kubernetes %s is supported by Istio %s (%s-%s)" % (kube, istio_minor(istio_version), low, high)
    return False, ("Kubernetes %s is outside the range Istio %s supports (%s-%s)"
                   % (kube, istio_minor(istio_version), low, high))
