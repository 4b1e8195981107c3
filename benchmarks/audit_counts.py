"""API requests of one client in the local cluster's audit log, counted per request (audit ID).

Reads are in the log only when the cluster was started with LOCAL_CLUSTER_AUDIT_READS=1
(tests/lib/localcluster/files.py); writes always are.
"""
from __future__ import annotations

import json
from pathlib import Path

from tests.lib.localcluster import audit
from tests.lib.localcluster.files import WRITE_VERBS


def count(lines, user: str) -> dict:
    """{"requests", "writes", "dry_runs", "reads"} of user's requests in these audit log lines."""
    seen: dict[str, tuple[str, bool]] = {}
    for raw in lines:
        try:
            event = json.loads(raw)
        except ValueError:
            continue  # a line being written right now
        if event.get("user", {}).get("username") != user:
            continue
        seen.setdefault(event["auditID"], (event.get("verb", ""), "dryRun=All" in event.get("requestURI", "")))
    writes = sum(1 for verb, dry in seen.values() if verb in WRITE_VERBS and not dry)
    dry_runs = sum(1 for verb, dry in seen.values() if verb in WRITE_VERBS and dry)
    return {"requests": len(seen), "writes": writes, "dry_runs": dry_runs,
            "reads": len(seen) - writes - dry_runs}


def count_file(log: Path, offset: int, user: str) -> dict:
    return count(audit.read_from(log, offset).splitlines(), user)
