"""Stop a detached helper process (kubesim, the chart repository) by the PID its starter recorded."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def _is_ours(pid: int, marker: str) -> bool:
    """A recorded PID may have been reused by an unrelated process after a reboot or crash."""
    try:
        return marker.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def stop(pidfile: Path, marker: str, grace_s: float = 10.0) -> None:
    """SIGTERM, wait up to grace_s, then SIGKILL; only if the PID still runs a command containing marker."""
    if not pidfile.exists():
        return
    pid = int(pidfile.read_text())
    if _is_ours(pid, marker):
        try:
            os.kill(pid, signal.SIGTERM)
            deadline = time.time() + grace_s
            while time.time() < deadline:
                os.kill(pid, 0)
                time.sleep(0.1)
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    pidfile.unlink()
