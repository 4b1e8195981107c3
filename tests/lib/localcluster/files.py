"""Configuration files of the local cluster: kubeconfigs, audit policy, egress selector, KWOK stages."""
from __future__ import annotations

from pathlib import Path

import yaml

from . import pki

# The supervisor sets this on an istiod pod once the local istiod serves; only then does KWOK mark
# the pod Ready, so `helm --wait` on istiod means what it means on a cluster: istiod answers.
SERVING_ANNOTATION = "local-cluster.eco2.mesh/serving"
WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")
# Set to 1 in the environment of `local-cluster start` to log the admin client's reads too (`make bench`).
AUDIT_READS_ENV = "LOCAL_CLUSTER_AUDIT_READS"


def kubeconfig(path: Path, server: str, pki_dir: Path, user: str) -> None:
    stem = pki.client_file_stem(user)
    doc = {
        "apiVersion": "v1", "kind": "Config", "current-context": "local",
        "clusters": [{"name": "local", "cluster": {"server": server,
                                                   "certificate-authority": str(pki_dir / "ca.crt")}}],
        "users": [{"name": user, "user": {"client-certificate": str(pki_dir / f"{stem}.crt"),
                                          "client-key": str(pki_dir / f"{stem}.key")}}],
        "contexts": [{"name": "local", "context": {"cluster": "local", "user": user}}],
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    path.chmod(0o600)


def audit_policy(path: Path, reads_of: str | None = None) -> None:
    """Every write at Metadata level (who, what, which object); reads are logged only for user reads_of."""
    rules = [{"level": "Metadata", "verbs": list(WRITE_VERBS)}, {"level": "None"}]
    if reads_of:  # `make bench` counts every request of the admin client
        rules.insert(0, {"level": "Metadata", "users": [reads_of]})
    doc = {"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "rules": rules}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def egress_selector(path: Path, socket: str) -> None:
    """Everything the API server dials inside the cluster (webhooks, kubelets) goes to our CONNECT proxy."""
    doc = {"apiVersion": "apiserver.k8s.io/v1beta1", "kind": "EgressSelectorConfiguration",
           "egressSelections": [{"name": "cluster", "connection": {
               "proxyProtocol": "HTTPConnect", "transport": {"uds": {"udsName": socket}}}}]}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


_RUNNING_STATUS = """\
{{ $now := Now }}
phase: Running
startTime: {{ $now | Quote }}
hostIP: {{ NodeIPWith .spec.nodeName | Quote }}
podIP: {{ PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) | Quote }}
conditions:
- {type: Initialized, status: "True", lastTransitionTime: {{ $now | Quote }}}
- {type: ContainersReady, status: "True", lastTransitionTime: {{ $now | Quote }}}
- {type: Ready, status: "True", lastTransitionTime: {{ $now | Quote }}}
containerStatuses:
{{ range .spec.containers }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  ready: true
  started: true
  restartCount: 0
  state: {running: {startedAt: {{ $now | Quote }}}}
{{ end }}
initContainerStatuses:
{{ range .spec.initContainers }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  ready: true
  restartCount: 0
  state: {terminated: {exitCode: 0, reason: Completed, startedAt: {{ $now | Quote }}, finishedAt: {{ $now | Quote }}}}
{{ end }}
"""


def _pod_stage(name: str, extra_requirements: list[dict]) -> dict:
    requirements = [{"key": ".metadata.deletionTimestamp", "operator": "DoesNotExist"},
                    {"key": ".status.podIP", "operator": "DoesNotExist"},
                    {"key": ".spec.nodeName", "operator": "Exists"}] + extra_requirements
    return {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Stage", "metadata": {"name": name},
            "spec": {"resourceRef": {"apiGroup": "v1", "kind": "Pod"},
                     "selector": {"matchExpressions": requirements},
                     "next": {"statusTemplate": _RUNNING_STATUS}}}


def kwok_stages(path: Path) -> None:
    """Pods run (Ready) once scheduled; istiod's pods only once the local istiod serves; deleted pods go."""
    app = ".metadata.labels.app"
    serving = '.metadata.annotations["%s"]' % SERVING_ANNOTATION
    docs = [
        _pod_stage("eco2-pod-running", [{"key": app, "operator": "NotIn", "values": ["istiod"]}]),
        _pod_stage("eco2-istiod-serving", [{"key": app, "operator": "In", "values": ["istiod"]},
                                           {"key": serving, "operator": "In", "values": ["true"]}]),
        {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Stage", "metadata": {"name": "eco2-pod-gone"},
         "spec": {"resourceRef": {"apiGroup": "v1", "kind": "Pod"},
                  "selector": {"matchExpressions": [{"key": ".metadata.deletionTimestamp", "operator": "Exists"}]},
                  "next": {"finalizers": {"empty": True}, "delete": True}}},
    ]
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
