# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Node profile filters: kubelet flags both ways, the kubelet drop-in, drift against a Node.

The logic lives in plugins/module_utils/node_profile.py; documentation for each
filter is in the YAML file of the same name next to this one.
"""
from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.eco2.mesh.plugins.module_utils import node_profile as np


def _wrap(func):
    def run(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except np.NodeProfileError as exc:
            raise AnsibleFilterError(str(exc))
    run.__name__ = func.__name__
    run.__doc__ = func.__doc__
    return run


def kubelet_flags(profile, host=None, provider_id=None):
    return np.kubelet_flags(profile, host=host, provider_id=provider_id)


def parse_kubelet_flags(flags, host=None):
    return np.parse_kubelet_flags(flags, host=host)


def node_profile_validate(profile, host=None):
    return np.normalize_profile(profile, host=host)


def node_profile_dropin(profile, host=None, provider_id=None):
    return np.render_dropin(profile, host=host, provider_id=provider_id)


def node_profile_drift(node, profile, host=None, owned_prefixes=None, provider_id=None):
    return np.node_drift(node, profile, host=host, owned_prefixes=tuple(owned_prefixes or ()), provider_id=provider_id)


class FilterModule:
    """eco2.mesh node profile filters."""

    def filters(self):
        return {
            "kubelet_flags": _wrap(kubelet_flags),
            "parse_kubelet_flags": _wrap(parse_kubelet_flags),
            "node_profile_validate": _wrap(node_profile_validate),
            "node_profile_dropin": _wrap(node_profile_dropin),
            "node_profile_drift": _wrap(node_profile_drift),
        }
