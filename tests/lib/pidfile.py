"""Stop a detached helper process (the local cluster, the chart repository) by the PID its starter recorded."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def is_ours(pid: int, marker: str) -> bool:
    """A recorded PID may have been reused by an unrelated process after a reboot or crash."""
    try:
        return marker.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def running(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting for its parent."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def stop(pidfile: Path, marker: str, grace_s: float = 10.0) -> None:
    """SIGTERM, wait up to grace_s, then SIGKILL; only if the PID still runs a command containing marker."""
    try:
        pid = int(pidfile.read_text())
    except (OSError, ValueError):
        return
    if is_ours(pid, marker):
        try:
            os.kill(pid, signal.SIGTERM)
            deadline = time.time() + grace_s
            while time.time() < deadline and running(pid):
                time.sleep(0.1)
            if running(pid):
                os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    pidfile.unlink(missing_ok=True)
