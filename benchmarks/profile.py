"""The per-task profile of one ansible-playbook run (from callback_plugins/bench_profile.py), summed per task."""
from __future__ import annotations


def by_task(tasks: list[dict]) -> list[dict]:
    """One entry per task (role + name + file:line), its runs summed, slowest first."""
    summed: dict[tuple, dict] = {}
    for task in tasks:
        key = (task.get("role", ""), task["task"], task.get("path", ""))
        entry = summed.setdefault(key, {"role": key[0], "task": key[1], "path": key[2], "seconds": 0.0,
                                        "runs": 0, "results": 0, "items": 0})
        entry["seconds"] += task["seconds"]
        entry["runs"] += 1
        entry["results"] += task.get("results", 0)
        entry["items"] += task.get("items", 0)
    return sorted(summed.values(), key=lambda e: (-e["seconds"], e["task"]))


def label(entry: dict) -> str:
    """`role : task`; Ansible's own task names already carry their role's prefix."""
    if not entry["role"] or entry["task"].startswith(entry["role"] + " : "):
        return entry["task"]
    return f"{entry['role']} : {entry['task']}"


def top(tasks: list[dict], count: int = 10) -> list[str]:
    """`seconds  share  role : task  (runs, loop items)` for the slowest tasks."""
    entries = by_task(tasks)
    total = sum(e["seconds"] for e in entries) or 1.0
    return ["%7.2f s %5.1f%%  %s  (runs=%d items=%d)" % (e["seconds"], 100 * e["seconds"] / total, label(e),
                                                         e["runs"], e["items"])
            for e in entries[:count]]
