"""Kill a real ansible-playbook run at a chosen point: start it in its own session, wait for a line of its
output or a state of the cluster, then SIGKILL its process group (or the controller alone)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time

from tests.lib.ansible_run import REPO, ansible_env, playbook_cmd
from tests.lib.localcluster import audit
from tests.lib.localcluster.files import WRITE_VERBS


class Interrupted(RuntimeError):
    pass


class PlaybookProcess:
    def __init__(self, playbook: str, *args: str, inventory=None, extra_vars=None, env=None):
        cmd = playbook_cmd(playbook, *args, inventory=inventory, extra_vars=extra_vars)
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=ansible_env(env), text=True, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def saw(self, text: str) -> bool:
        return any(text in line for line in list(self.lines))

    def wait_for(self, condition, timeout: float = 300, what: str = "") -> None:
        """Poll `condition()` until true; fail (killing the run) when the run ends first or time is up."""
        deadline = time.monotonic() + timeout
        while not condition():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill_tree()
                raise Interrupted("never reached %s (rc=%s):\n%s" % (what or condition, self.proc.returncode,
                                                                     self.output[-8000:]))
            time.sleep(0.05)

    def tree_pids(self) -> list[int]:
        """Live processes the run started: its process group and every descendant. Ansible's workers
        call setsid(), so they and their modules (and helm) are in sessions of their own."""
        stats = _proc_stats()
        tree, changed = {self.proc.pid} | {p for p, st in stats.items() if st[1] == self.proc.pid}, True
        while changed:
            kids = {p for p, st in stats.items() if st[0] in tree} - tree
            changed = bool(kids)
            tree |= kids
        return sorted(p for p in tree if p in stats and stats[p][2] != "Z")

    def kill_tree(self) -> None:
        """SIGKILL the whole run, as an OOM kill of its cgroup or a cancelled CI job does: stop every process
        first (no new child escapes), then kill them."""
        for _ in range(3):
            pids = self.tree_pids()
            for sig in (signal.SIGSTOP, signal.SIGKILL):
                for pid in pids:
                    try:
                        os.kill(pid, sig)
                    except ProcessLookupError:
                        pass
        self.proc.wait()
        self._reader.join(5)

    def kill_controller(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


class AuditTail:
    """The admin's writes as they reach the API server (audit stage RequestReceived), read incrementally."""

    def __init__(self, kube):
        self.kube = kube
        self.offset = os.path.getsize(kube.audit_log)
        self.seen: list[dict] = []

    def poll(self) -> list[dict]:
        chunk = audit.read_from(self.kube.audit_log, self.offset)
        complete = chunk[:chunk.rfind(b"\n") + 1]  # a line being written stays for the next poll
        self.offset += len(complete)
        user = self.kube.config["admin_user"].encode()
        for raw in complete.splitlines():
            if b"RequestReceived" not in raw or user not in raw:
                continue  # most lines are the cluster's own writes: no JSON parse, so a kill point is seen sooner
            event = json.loads(raw)
            if (event.get("stage") == "RequestReceived" and event.get("verb") in WRITE_VERBS
                    and "dryRun=All" not in event.get("requestURI", "")
                    and event.get("user", {}).get("username") == self.kube.config["admin_user"]):
                ref = event.get("objectRef") or {}
                self.seen.append({"verb": event["verb"], "resource": ref.get("resource"), "name": ref.get("name"),
                                  "namespace": ref.get("namespace")})
        return self.seen

    def count(self, resource: str) -> int:
        return len([w for w in self.poll() if w["resource"] == resource])


def _proc_stats() -> dict:
    """{pid: (parent pid, process group, state)} of every process."""
    stats = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry)] = (int(fields[1]), int(fields[2]), fields[0])
    return stats


# Longest a process of a run may outlive its killed ansible-playbook: the guard looks every 0.5 s, then
# stops worker, shell, module and command level by level, each SIGTERM, then SIGKILL after 5 s (a module's
# own watch looks every second). In practice only helm takes its time (about 1 s).
ORPHAN_GRACE = 25


def start_time(pid):
    """Start time of a live process (None once gone or a zombie): a PID with its start time is unique."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else fields[19]


def living(started: dict) -> list:
    """The processes of {pid: start time} still alive."""
    return [p for p, t in started.items() if t is not None and start_time(p) == t]


def outliving(started: dict, grace: float = ORPHAN_GRACE) -> dict:
    """Wait up to `grace` s for the processes to end; {pid: command line} of those left (then killed)."""
    deadline = time.monotonic() + grace
    while living(started) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = {p: cmdline(p) for p in living(started)}
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return left


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode()
    except OSError:
        return ""
