# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the Istio roles use to build Helm values and chart sources (logic in module_utils/istio_helm.py)."""
from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.eco2.mesh.plugins.module_utils import istio_helm


def _wrap(func, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except (ValueError, TypeError) as exc:
        raise AnsibleFilterError("eco2.mesh: %s" % exc) from exc


def istio_helm_values(spec, chart):
    """`spec | eco2.mesh.istio_helm_values('istiod')` -> the values dict helm is given."""
    return _wrap(istio_helm.helm_values, istio_helm.plain(spec or {}), chart)


def istio_chart_source(chart, version=None, repo_url=None, chart_path=None, chart_dir=None):
    """`'istiod' | eco2.mesh.istio_chart_source(version, repo_url, chart_path, chart_dir)`."""
    return _wrap(istio_helm.chart_source, chart, version, repo_url or None, chart_path or None, chart_dir or None)


def istio_gateway_labels(release_name, labels=None):
    """Pod labels of a gateway release: `app: <release>`, `istio: <release without istio->`, `labels` win."""
    return istio_helm.gateway_pod_labels(release_name, labels)


def istio_release_merge(existing, entry):
    """Replace/add one entry of releases.yaml, kept in install order."""
    return istio_helm.merge_releases(existing, entry)


def istio_verify_ports(ports):
    """Chart `service.ports` -> `gateway_service_ports` of eco2.mesh.mesh_istio_verify."""
    return _wrap(istio_helm.verify_ports, ports)


class FilterModule:
    def filters(self):
        return {
            "istio_helm_values": istio_helm_values,
            "istio_chart_source": istio_chart_source,
            "istio_gateway_labels": istio_gateway_labels,
            "istio_release_merge": istio_release_merge,
            "istio_verify_ports": istio_verify_ports,
        }
