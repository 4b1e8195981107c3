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
                self.kill_group()
                raise Interrupted("never reached %s (rc=%s):\n%s" % (what or condition, self.proc.returncode,
                                                                     self.output[-8000:]))
            time.sleep(0.05)

    def group_pids(self) -> list[int]:
        """Live processes of the run's process group (zombies excluded)."""
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % entry) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.proc.pid and fields[0] != "Z":
                pids.append(int(entry))
        return pids

    def kill_group(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
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
        with open(self.kube.audit_log, "rb") as fh:
            fh.seek(self.offset)
            chunk = fh.read()
        complete = chunk[:chunk.rfind(b"\n") + 1]  # a line being written stays for the next poll
        self.offset += len(complete)
        for raw in complete.splitlines():
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
