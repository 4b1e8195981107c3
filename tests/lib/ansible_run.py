"""Run the real ansible-playbook / ansible-inventory from tests and parse the recap."""
from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv/bin"
TOOLS_BIN = REPO / ".tools/bin"

_RECAP = re.compile(r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
                    r"\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)\s+ignored=(?P<ignored>\d+)")


@dataclass
class PlaybookResult:
    rc: int
    stdout: str
    stderr: str
    recap: dict

    @property
    def changed(self) -> int:
        return sum(h["changed"] for h in self.recap.values())

    @property
    def failed(self) -> int:
        return sum(h["failed"] + h["unreachable"] for h in self.recap.values())

    def __str__(self) -> str:  # shown by pytest on assertion failure
        return f"rc={self.rc}\n--- stdout ---\n{self.stdout[-12000:]}\n--- stderr ---\n{self.stderr[-4000:]}"


def ansible_env(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env["ANSIBLE_CONFIG"] = str(REPO / "ansible.cfg")
    env["ANSIBLE_COLLECTIONS_PATH"] = str(REPO / ".tools/collections")
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env["ANSIBLE_NOCOLOR"] = "1"
    env.setdefault("ANSIBLE_HOME", str(REPO / ".tools/ansible-home"))
    env.update(extra or {})
    # A real run draws the topology under $XDG_CACHE_HOME: keep it in the test's temporary directory.
    env.setdefault("XDG_CACHE_HOME", os.path.join(env.get("TMPDIR") or tempfile.gettempdir(), "xdg-cache"))
    # After `extra`: a caller's copy of os.environ must not drop the project's tools from PATH.
    env["PATH"] = f"{VENV_BIN}:{TOOLS_BIN}:{env.get('PATH', '')}"
    return env


def playbook_cmd(playbook: str, *args: str, inventory: str | None = None, extra_vars: dict | None = None) -> list:
    cmd = [str(VENV_BIN / "ansible-playbook"), str(REPO / playbook) if not os.path.isabs(playbook) else playbook]
    if inventory:
        cmd += ["-i", inventory if os.path.isabs(inventory) else str(REPO / inventory)]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    return cmd + list(args)


def parse_recap(stdout: str) -> dict:
    recap = {}
    for line in stdout.splitlines():
        m = _RECAP.match(line.strip())
        if m:
            recap[m["host"]] = {k: int(v) for k, v in m.groupdict().items() if k != "host"}
    return recap


def run_playbook(playbook: str, *args: str, inventory: str | None = None, extra_vars: dict | None = None,
                 env: dict | None = None, timeout: int = 900) -> PlaybookResult:
    cmd = playbook_cmd(playbook, *args, inventory=inventory, extra_vars=extra_vars)
    proc = subprocess.run(cmd, cwd=REPO, env=ansible_env(env), text=True, capture_output=True, timeout=timeout, check=False)
    return PlaybookResult(proc.returncode, proc.stdout, proc.stderr, parse_recap(proc.stdout))


def inventory_list(inventory: str, env: dict | None = None) -> dict:
    cmd = [str(VENV_BIN / "ansible-inventory"), "-i", inventory, "--list"]
    proc = subprocess.run(cmd, cwd=REPO, env=ansible_env(env), text=True, capture_output=True, check=True)
    return json.loads(proc.stdout)
