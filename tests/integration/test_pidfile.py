"""Helpers stop what they started by PID, and never a process that merely reuses a recorded PID."""
from __future__ import annotations

import subprocess

from tests.lib import pidfile


def test_stop_signals_only_a_process_running_the_expected_command(tmp_path):
    proc = subprocess.Popen(["sleep", "30"])
    try:
        record = tmp_path / "pid"
        record.write_text(str(proc.pid))
        pidfile.stop(record, marker="kubesim")  # the PID now belongs to something else: leave it alone
        assert proc.poll() is None and not record.exists()
        record.write_text(str(proc.pid))
        pidfile.stop(record, marker="sleep", grace_s=5)
        assert proc.wait(timeout=5) == -15  # SIGTERM
        assert not record.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
