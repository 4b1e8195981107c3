#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: mesh_api_check
short_description: Stop at once when the Kubernetes API server does not answer, naming its address
version_added: 0.1.0
description:
  - Asks the API server for its version (C(GET /version)), three times at most with a short timeout each,
    and fails within 30 seconds with the server's address and the last error when it does not answer.
  - Without it an unreachable server showed up a minute later as a misleading task error (a Node "not found").
author: eco2.mesh maintainers (@eco2-team)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - eco2.mesh.read_only
options: {}
"""

EXAMPLES = r"""
- name: Stop now if the API server does not answer
  eco2.mesh.mesh_api_check:
"""

RETURN = r"""
server:
  description: The API server's address, from the connection options or the kubeconfig.
  returned: always
  type: str
  sample: https://10.0.1.10:6443
git_version:
  description: The server's version.
  returned: success
  type: str
  sample: v1.31.13
"""

from ansible_collections.eco2.mesh.plugins.module_utils.api_reach import check
from ansible_collections.eco2.mesh.plugins.module_utils.kube import HAS_KUBERNETES, client_configuration, kube_module

try:
    from kubernetes import client as k8s_client
except ImportError:
    pass  # HAS_KUBERNETES says so


def main():
    module = kube_module({})
    if not HAS_KUBERNETES:
        from ansible.module_utils.basic import missing_required_lib
        module.fail_json(msg=missing_required_lib("kubernetes"))
    try:
        configuration = client_configuration(module.params)
    except Exception as exc:  # config errors have many types; report them all the same way
        module.fail_json(msg="Cannot load the Kubernetes client configuration: %s" % exc)
    configuration.retries = False  # our bounded attempts, not urllib3's three more per attempt
    api_client = k8s_client.ApiClient(configuration)
    server = configuration.host
    try:
        info = check(lambda timeout: k8s_client.VersionApi(api_client).get_code(_request_timeout=timeout), server)
    except RuntimeError as exc:
        module.fail_json(msg=str(exc), server=server)
    module.exit_json(changed=False, server=server, git_version=info.git_version)


if __name__ == "__main__":
    main()
