#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: mesh_gitops_export
short_description: Write the mesh as an Argo CD app-of-apps layout (one environment), from render mode's files
version_added: 0.2.0
description:
  - Reads what render mode wrote (C(helm/releases.yaml), C(helm/<release>.values.yaml),
    C(manifests/07-network-policies.yaml), C(manifests/50-routing.yaml), C(manifests/60-sidecar-injection.yaml)) and
    writes under O(dest)/O(environment) an Argo CD C(Application) per Istio release (chart, repository, pinned
    version, C(helm.valuesObject) = the values the roles install) and per bundle (plain manifests, one object per
    file), with the cluster's sync waves (namespaces 2, istio-base 4, istiod 5, gateway 6, network policies 7,
    routes 50), plus C(root.yaml), the app-of-apps Application.
  - The release Applications carry the C(ignoreDifferences) for what istiod rewrites after install (webhook
    C(caBundle), validating webhook C(failurePolicy)).
  - Contacts nothing. Files are only rewritten when their content changes; files of an earlier export that are
    no longer generated (under C(apps/) and C(manifests/)) are removed. Output is deterministic.
requirements:
  - PyYAML
author: eco2.mesh maintainers (@eco2-team)
options:
  render_dir:
    description: Directory render mode (C(mesh_render_dir)) wrote to.
    type: path
    required: true
  dest:
    description: Root of the export (C(mesh_gitops_dir)); the environment's files go to O(dest)/O(environment).
    type: path
    required: true
  environment:
    description: Environment name (C(inventory_environment)); prefixes the Application names.
    type: str
    required: true
  repo_url:
    description: Git repository Argo CD reads the export from.
    type: str
    required: true
  target_revision:
    description: Git revision (branch, tag, commit) of O(repo_url). Unset means C(HEAD).
    type: str
  repo_path:
    description: Where O(dest) sits inside the Git repository. Unset means its root.
    type: str
  project:
    description: Argo CD project of every Application. Unset means C(default).
    type: str
  destination_server:
    description: API server URL the Applications deploy to. Unset means C(https://kubernetes.default.svc).
    type: str
  argocd_namespace:
    description: Namespace Argo CD watches for Applications. Unset means C(argocd).
    type: str
attributes:
  check_mode:
    description: Reports which files would be written or removed without touching them.
    support: full
  diff_mode:
    description: No diff is returned.
    support: none
"""

EXAMPLES = r"""
- name: Export dev as Argo CD applications
  eco2.mesh.mesh_gitops_export:
    render_dir: /tmp/render
    dest: /srv/gitops
    environment: dev
    repo_url: https://git.example.com/eco2/gitops.git
    target_revision: main
"""

RETURN = r"""
root_app:
  description: Path of the app-of-apps Application to apply once.
  type: str
  returned: always
files:
  description: Every file of the environment's export, relative to O(dest).
  type: list
  elements: str
  returned: always
written:
  description: Files written (new or changed) by this run (relative to O(dest)).
  type: list
  elements: str
  returned: always
removed:
  description: Files of an earlier export removed by this run.
  type: list
  elements: str
  returned: always
"""

import os
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    import yaml
except ImportError:
    yaml = None
    YAML_IMPORT_ERROR = traceback.format_exc()
else:
    YAML_IMPORT_ERROR = None

from ansible_collections.eco2.mesh.plugins.module_utils import gitops_export
from ansible_collections.eco2.mesh.plugins.module_utils.file_tree import sync_tree

BUNDLE_FILES = {
    "namespaces": "manifests/60-sidecar-injection.yaml",
    "network-policies": "manifests/07-network-policies.yaml",
    "routing": "manifests/50-routing.yaml",
}


def _load(path, many=False):
    with open(path) as handle:
        if many:
            return [d for d in yaml.safe_load_all(handle) if d]
        return yaml.safe_load(handle)


def read_render(render_dir):
    releases = _load(os.path.join(render_dir, "helm/releases.yaml")) or []
    values = {r["release"]: _load(os.path.join(render_dir, "helm/%s.values.yaml" % r["release"])) or {}
              for r in releases}
    bundles = {}
    for bundle, rel in BUNDLE_FILES.items():
        path = os.path.join(render_dir, rel)
        if os.path.exists(path):
            bundles[bundle] = _load(path, many=True)
    return releases, values, bundles


def main():
    module = AnsibleModule(
        argument_spec={
            "render_dir": {"type": "path", "required": True},
            "dest": {"type": "path", "required": True},
            "environment": {"type": "str", "required": True},
            "repo_url": {"type": "str", "required": True},
            "target_revision": {"type": "str"},
            "repo_path": {"type": "str"},
            "project": {"type": "str"},
            "destination_server": {"type": "str"},
            "argocd_namespace": {"type": "str"},
        },
        supports_check_mode=True,
    )
    if yaml is None:
        module.fail_json(msg=missing_required_lib("PyYAML"), exception=YAML_IMPORT_ERROR)
    p = module.params
    try:
        releases, values, bundles = read_render(p["render_dir"])
    except (IOError, OSError, KeyError, yaml.YAMLError) as exc:
        module.fail_json(msg="cannot read render mode's files in %s: %s" % (p["render_dir"], exc))
    settings = {k: p[k] for k in ("repo_url", "target_revision", "repo_path", "project", "destination_server",
                                  "argocd_namespace")}
    try:
        files = gitops_export.export_files(p["environment"], releases, values, bundles, settings)
    except gitops_export.ExportError as exc:
        module.fail_json(msg=str(exc))
    env = p["environment"]
    done = sync_tree(p["dest"], files, owned=("%s/apps" % env, "%s/manifests" % env), check=module.check_mode)
    module.exit_json(changed=bool(done["written"] or done["removed"]), files=sorted(files),
                     root_app=os.path.join(p["dest"], env, "root.yaml"), **done)


if __name__ == "__main__":
    main()
