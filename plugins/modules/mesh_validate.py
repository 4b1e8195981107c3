#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: mesh_validate
short_description: Validate everything the selected phases will use, before the first write
version_added: 0.1.0
author: eco2.mesh maintainers (@eco2-team)
description:
  - Runs on the controller (an action plugin) and contacts nothing. Checks in one pass, for the phases of
    C(playbooks/istio.yml) the run selects, the mesh spec (the P(eco2.mesh.mesh_spec#lookup) rules), every phase role's
    arguments against its C(meta/argument_specs.yml), the inventory groups and hosts the phases act on (the hosts of
    C(mesh_join_hosts), default group C(ingress_gateway), and their node profiles; the master group; the AWS groups),
    Kubernetes rules for what the role variables generate (resource quantities, label keys and values as strings,
    DNS-1123 names and lengths, Service port names and duplicates, HorizontalPodAutoscaler min <= max) and the
    supported Istio versions (1.24.x; others only with C(istio_allow_unsupported_version=true), then a warning).
  - Fails with every problem at once, each naming the variable path and what is allowed.
options:
  phases:
    description:
      - Phases to validate - C(node_join), C(istio_base), C(istiod), C(istio_gateway), C(network_policies), C(routing),
        C(verify_aws), C(injection), C(topology), C(gitops).
      - Empty means the phases of C(playbooks/istio.yml) that C(--tags) and C(--skip-tags) select.
    type: list
    elements: str
    default: []
  this_host:
    description:
      - Also check the node profile (labels, taints) and the provider ID of the host the task runs for, with its
        variables as its tasks see them (play, role and extra vars included), whether or not the node_join phase's
        host pattern selects it. The role node_join sets it on the host it joins.
    type: bool
    default: false
attributes:
  check_mode:
    description: Validates the same in check mode; it never writes.
    support: full
  diff_mode:
    description: Returns no diff.
    support: none
  platform:
    description: Runs on the controller (an action plugin); contacts no host, cluster or cloud.
    support: full
    platforms: all
"""

EXAMPLES = r"""
- name: Validate the whole input before anything is written
  eco2.mesh.mesh_validate:

- name: Validate only what the istiod role uses
  eco2.mesh.mesh_validate:
    phases: [istiod]
"""

RETURN = r"""
phases:
  description: The phases validated.
  type: list
  elements: str
  returned: always
  sample: [istio_base, istiod, istio_gateway, network_policies, routing]
errors:
  description: "Every problem found, C(<variable path>: <problem and what is allowed>)."
  type: list
  elements: str
  returned: always
  sample: ["istiod_resources.requests.memory: '512MB' is not a Kubernetes quantity like 100m, 0.5, 512Mi or 1Gi"]
warnings_found:
  description: Problems accepted by an explicit override (an Istio version outside the supported range).
  type: list
  elements: str
  returned: always
"""
