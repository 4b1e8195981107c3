"""Nodes from an Ansible inventory, read with Ansible's own Python API (no host is contacted)."""
from __future__ import annotations

from typing import Any

from .controllers import node_status


def _plain(value: Any) -> Any:
    """Ansible's templated values may be lazy/tagged containers; turn them into plain JSON types."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def load_host_vars(path: str) -> list[tuple[str, dict]]:
    """(inventory hostname, templated host vars) for the hosts that become Nodes."""
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar
    from ansible.vars.manager import VariableManager

    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[path])
    variables = VariableManager(loader=loader, inventory=inventory)
    groups = inventory.get_groups_dict()
    names = groups.get("k8s_cluster") or groups.get("all") or []
    out = []
    wanted = ("node_profile_labels", "node_profile_taints", "node_provider_id", "aws_instance_id",
              "aws_availability_zone", "instance_type", "private_ip", "ansible_host", "node_role")
    for name in names:
        host = inventory.get_host(name)
        hvars = variables.get_vars(host=host, include_hostvars=False)
        templar = Templar(loader=loader, variables=hvars)
        resolved: dict[str, Any] = {}
        for key in wanted:
            if key in hvars:
                try:
                    resolved[key] = _plain(templar.template(hvars[key]))
                except Exception:  # an undefined variable in someone's group_vars: keep the raw text
                    resolved[key] = _plain(hvars[key])
        out.append((name, resolved))
    return out


def nodes_from_inventory(path: str, kube_version: str) -> list[dict]:
    nodes = []
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
            # The same form node_join builds: aws:///<az>/<instance-id>
            spec["providerID"] = f"aws:///{hv['aws_availability_zone']}/{hv['aws_instance_id']}"
        node = {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": name, "labels": labels,
                             "annotations": {"kubeadm.alpha.kubernetes.io/cri-socket":
                                             "unix:///run/containerd/containerd.sock",
                                             "node.alpha.kubernetes.io/ttl": "0"}},
                "spec": spec}
        ip = hv.get("private_ip") or f"10.0.1.{10 + index}"
        node["status"] = node_status(node, None, itype, kube_version, str(ip))
        nodes.append(node)
    return nodes
