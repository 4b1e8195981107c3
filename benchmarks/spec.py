"""The specs the benchmark runs: the Eco² spec of inventory/local, or N generated domains (one flow each).

`inventory_for(size, dest)` writes an inventory directory and returns it with its domains; `seed_objects`
are the Namespaces, Deployments and Services that exist before the migration, the same for both sides.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
ECO2_INVENTORY = REPO / "inventory/local"
MESH_VARS = Path("group_vars/all/mesh.yml")
FLOW_PORT = 8000
# Generated sizes get worker nodes as they grow (the Eco² cluster's 24 nodes hold about 380 meshed pods):
# one t3.2xlarge (8 CPUs, 110 pods) per this many domains, room for their sidecars' CPU requests.
DOMAINS_PER_BENCH_WORKER = 50
BENCH_WORKER_TYPE = "t3.2xlarge"


def eco2_spec() -> dict:
    return yaml.safe_load((ECO2_INVENTORY / MESH_VARS).read_text())


def eco2_size() -> int:
    return len(eco2_spec()["mesh_domains"])


def domain_names(count: int) -> list[str]:
    width = max(3, len(str(count)))
    return [f"dom{i:0{width}d}" for i in range(1, count + 1)]


def generated_spec(base: dict, count: int) -> dict:
    """base with `count` domains; domain i calls domain i+1 (the last calls the first): one flow each."""
    if count < 2:
        raise ValueError(f"sizes: a generated spec needs at least 2 domains (one flow each), got {count}")
    names = domain_names(count)
    spec = dict(base)
    spec["mesh_domains"] = [{"name": name} for name in names]
    spec["mesh_flows"] = [{"from": name, "to": names[(i + 1) % count], "port": FLOW_PORT, "protocol": "TCP"}
                          for i, name in enumerate(names)]
    return spec


def inventory_for(size: int, dest: Path) -> tuple[Path, dict]:
    """(inventory dir, mesh spec): inventory/local itself for the Eco² size, else a copy with a generated spec."""
    base = eco2_spec()
    if size == len(base["mesh_domains"]):
        return ECO2_INVENTORY, base
    spec = generated_spec(base, size)
    target = Path(dest) / f"inventory-{size}"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(ECO2_INVENTORY, target, symlinks=False)  # the shared group_vars links become files
    (target / MESH_VARS).write_text("---\n" + yaml.safe_dump(spec, sort_keys=False))
    with open(target / "hosts", "a") as hosts:
        hosts.write(bench_workers(-(-size // DOMAINS_PER_BENCH_WORKER)))
    return target, spec


def bench_workers(count: int) -> str:
    """Inventory lines for `count` more workers (group bench_workers, a child of workers); examples, never dialled."""
    lines = ["", "# Added by the benchmark: room for the generated domains' pods", "[bench_workers]"]
    lines += ["k8s-worker-bench-%03d ansible_host=198.51.100.%d private_ip=10.1.%d.%d workload=worker-bench "
              "worker_type=cpu-bound instance_type=%s phase=4" % (i, i % 250 + 1, i // 250, i % 250 + 1,
                                                                  BENCH_WORKER_TYPE)
              for i in range(1, count + 1)]
    return "\n".join(lines + ["", "[workers:children]", "bench_workers", ""])


def seed_objects(spec: dict, node_domains: set[str] | frozenset = frozenset()) -> list[dict]:
    """Namespace, Deployment and Service of every domain and platform route, as before the migration.

    A domain with its own node (node_domains, from the inventory) is pinned there like on the Eco² cluster;
    a generated domain has none, so its pod tolerates every taint and runs anywhere.
    """
    objects = []
    for domain in spec.get("mesh_domains") or []:
        name = domain["name"]
        objects += _app(name, domain.get("namespace", name), domain.get("service", f"{name}-api"),
                        int(domain.get("port", FLOW_PORT)), pinned=name in node_domains)
    for route in spec.get("mesh_platform_routes") or []:
        objects += _app(route["name"], route.get("namespace", route["name"]), route.get("service", route["name"]),
                        int(route.get("port", 80)), pinned=False)
    return objects


def _app(name: str, namespace: str, service: str, port: int, pinned: bool) -> list[dict]:
    labels = {"app": service, "domain": name}
    if pinned:
        placement = {"nodeSelector": {"domain": name},
                     "tolerations": [{"key": "domain", "operator": "Equal", "value": name, "effect": "NoSchedule"}]}
    else:
        placement = {"tolerations": [{"operator": "Exists"}]}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": {"domain": name}}},
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": service, "namespace": namespace, "labels": labels},
         "spec": {"replicas": 1, "selector": {"matchLabels": {"app": service}},
                  "template": {"metadata": {"labels": labels},
                               "spec": dict(placement, containers=[{
                                   "name": "api", "image": f"registry.example/eco2/{service}:demo",
                                   "ports": [{"name": "http", "containerPort": port}]}])}}},
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": service, "namespace": namespace, "labels": {"app": service}},
         "spec": {"selector": {"app": service}, "ports": [{"name": "http", "port": port, "targetPort": port}]}},
    ]


def node_domains(inventory: Path) -> set[str]:
    """The `domain=` of the inventory's API nodes (the hosts file's host variables)."""
    found = set()
    for line in (Path(inventory) / "hosts").read_text().splitlines():
        for word in line.split():
            if word.startswith("domain=") and "," not in word:
                found.add(word.split("=", 1)[1])
    return found
