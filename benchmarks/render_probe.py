"""Time one phase of our render mode per size (no cluster): where a superlinear cost shows up first.

    .venv/bin/python -m benchmarks.render_probe network_policies 7 14 21
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import profile, sides, spec
from tests.lib.ansible_run import ansible_env


def main(argv: list[str]) -> int:
    tag, sizes = argv[0], [int(a) for a in argv[1:]]
    work = Path(tempfile.mkdtemp(prefix="bench-probe-"))
    for size in sizes:
        inventory, _ = spec.inventory_for(size, work)
        prof = work / f"profile-{size}.json"
        env = ansible_env({"K8S_AUTH_KUBECONFIG": str(work / "no-such-kubeconfig"),
                           "ANSIBLE_CALLBACK_PLUGINS": str(sides.CALLBACKS),
                           "ANSIBLE_CALLBACKS_ENABLED": "bench_profile", "BENCH_PROFILE_FILE": str(prof)})
        cmd = sides.playbook_cmd(inventory, "http://127.0.0.1:9", "-e",
                                 json.dumps({"mesh_render_dir": str(work / f"render-{size}")}), "--tags", tag,
                                 playbook=sides.RENDER_PLAYBOOK)
        started = time.monotonic()
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        print(f"{size} domains: rc={done.returncode} wall={time.monotonic() - started:.1f} s", flush=True)
        for line in profile.top(json.loads(prof.read_text())["tasks"], 3):
            print("   " + line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
