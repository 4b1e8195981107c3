"""Helpers stop what they started by PID, and never a process that merely reuses a recorded PID."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.lib import pidfile


def _state(pid: int) -> str:
    """Process state letter from /proc (R, S, Z, ...), or '' once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return ""


def test_stop_signals_only_a_process_running_the_expected_command(tmp_path):
    proc = subprocess.Popen(["sleep", "30"])
    try:
        for _ in range(50):  # until exec has replaced the forked child's command line
            if b"sleep" in Path(f"/proc/{proc.pid}/cmdline").read_bytes():
                break
            time.sleep(0.02)
        record = tmp_path / "pid"
        record.write_text(str(proc.pid))
        pidfile.stop(record, marker="kube-apiserver")  # the PID runs something else: leave it alone
        assert _state(proc.pid) in ("R", "S") and not record.exists()
        record.write_text(str(proc.pid))
        pidfile.stop(record, marker="sleep", grace_s=2)
        assert _state(proc.pid) in ("", "Z")  # terminated (a zombie until its parent reaps it)
        assert not record.exists()
    finally:
        proc.kill()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass  # some runners ignore SIGCHLD: the child was reaped already
