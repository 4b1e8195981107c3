"""Nodes of an Ansible inventory (labels, taints, capacity from the node profiles), read with Ansible's API.

No host is contacted: only inventory variables are templated.
"""
from __future__ import annotations

from typing import Any

# Capacity of the EC2 instance types the inventories use (cpu, memory).
INSTANCE_TYPES = {"t3.nano": (2, "512Mi"), "t3.micro": (2, "1Gi"), "t3.small": (2, "2Gi"), "t3.medium": (2, "4Gi"),
                  "t3.large": (2, "8Gi"), "t3.xlarge": (4, "16Gi"), "t3.2xlarge": (8, "32Gi")}
FAKE_NODE_ANNOTATION = "kwok.x-k8s.io/node"
WANTED = ("node_profile_labels", "node_profile_taints", "node_provider_id", "aws_instance_id",
          "aws_availability_zone", "instance_type", "private_ip")


def _plain(value: Any) -> Any:
    """Ansible's templated values may be lazy/tagged containers; turn them into plain JSON types."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    return str(value)


def load_host_vars(path: str) -> list[tuple[str, dict]]:
    """(inventory hostname, templated host vars) for the hosts of k8s_cluster (else all)."""
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar
    from ansible.vars.manager import VariableManager

    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[path])
    variables = VariableManager(loader=loader, inventory=inventory)
    groups = inventory.get_groups_dict()
    out = []
    for name in groups.get("k8s_cluster") or groups.get("all") or []:
        hvars = variables.get_vars(host=inventory.get_host(name), include_hostvars=False)
        templar = Templar(loader=loader, variables=hvars)
        resolved: dict[str, Any] = {}
        for key in WANTED:
            if key in hvars:
                try:
                    resolved[key] = _plain(templar.template(hvars[key]))
                except Exception:  # an undefined variable in someone's group_vars: keep the raw text
                    resolved[key] = _plain(hvars[key])
        out.append((name, resolved))
    return out


def node_objects(path: str, kube_version: str) -> list[tuple[dict, dict]]:
    """(Node, its initial status) per host. KWOK adds conditions and keeps capacity and addresses."""
    result = []
    for index, (name, hv) in enumerate(load_host_vars(path)):
        labels = {str(k): str(v) for k, v in (hv.get("node_profile_labels") or {}).items()}
        labels.update({"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                       "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64"})
        itype = hv.get("instance_type")
        if itype:
            labels["node.kubernetes.io/instance-type"] = str(itype)
        taints = [{k: str(t[k]) for k in ("key", "value", "effect") if t.get(k) is not None}
                  for t in hv.get("node_profile_taints") or [] if isinstance(t, dict)]
        spec: dict[str, Any] = {"podCIDR": f"10.244.{index}.0/24", "podCIDRs": [f"10.244.{index}.0/24"]}
        if taints:
            spec["taints"] = taints
        if hv.get("node_provider_id"):
            spec["providerID"] = str(hv["node_provider_id"])
        elif hv.get("aws_instance_id") and hv.get("aws_availability_zone"):
            spec["providerID"] = f"aws:///{hv['aws_availability_zone']}/{hv['aws_instance_id']}"
        node = {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": name, "labels": labels,
                             "annotations": {FAKE_NODE_ANNOTATION: "fake",
                                             "kubeadm.alpha.kubernetes.io/cri-socket":
                                             "unix:///run/containerd/containerd.sock",
                                             "node.alpha.kubernetes.io/ttl": "0"}},
                "spec": spec}
        cpu, mem = INSTANCE_TYPES.get(str(itype), (2, "4Gi"))
        capacity = {"cpu": str(cpu), "memory": mem, "pods": "110", "ephemeral-storage": "20Gi"}
        # An address from the inventory; it only appears in API objects, nothing ever dials it.
        ip = str(hv.get("private_ip") or f"10.0.1.{10 + index}")
        status = {"capacity": capacity, "allocatable": dict(capacity),
                  "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
                  "nodeInfo": {"architecture": "amd64", "containerRuntimeVersion": "containerd://1.7.22",
                               "kernelVersion": "6.8.0-1017-aws", "kubeProxyVersion": kube_version,
                               "kubeletVersion": kube_version, "operatingSystem": "linux",
                               "osImage": "Ubuntu 22.04.5 LTS"}}
        result.append((node, status))
    return result
