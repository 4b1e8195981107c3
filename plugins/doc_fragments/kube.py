# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment:
    # Cluster connection options shared by every eco2.mesh module that talks to the API server.
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file.
      - Defaults to the E(K8S_AUTH_KUBECONFIG) environment variable, then E(KUBECONFIG), then C(~/.kube/config).
    type: path
  context:
    description:
      - The kubeconfig context to use. Defaults to the current context, or E(K8S_AUTH_CONTEXT).
    type: str
requirements:
  - kubernetes >= 24.2.0 (Python client)
"""
