"""Writes recorded in the API server's audit log (one JSON event per line)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from .files import WRITE_VERBS


class AuditLogRotated(RuntimeError):
    pass


def read_from(log: Path, offset: int) -> bytes:
    """The log's bytes after offset; b"" when there is no log yet. A log shorter than offset was rotated (or
    replaced): what was written since offset is not in it, so counting it would find nothing and prove nothing."""
    try:
        with open(log, "rb") as fh:
            fh.seek(0, 2)
            if fh.tell() < offset:
                raise AuditLogRotated("%s holds %d bytes, fewer than the offset %d it was read from: it was rotated"
                                      % (log, fh.tell(), offset))
            fh.seek(offset)
            return fh.read()
    except FileNotFoundError:
        if offset:
            raise AuditLogRotated("%s is gone, after %d bytes were read from it" % (log, offset)) from None
        return b""


def writes(log: Path, offset: int = 0, user: str | None = None, dry_runs: bool = False) -> list[dict]:
    """Write requests after byte offset, by user if given, dry runs excluded (or only dry runs, with dry_runs);
    one entry per request.

    The RequestReceived stage is logged before the request is served (blocking audit mode), so a
    write the client already saw answered is always here; its ResponseComplete adds the code.
    """
    by_id: dict[str, dict] = {}
    for raw in read_from(log, offset).splitlines():
        try:
            event = json.loads(raw)
        except ValueError:
            continue  # a line being written right now
        if event.get("verb") not in WRITE_VERBS or ("dryRun=All" in event.get("requestURI", "")) != dry_runs:
            continue
        if user and event.get("user", {}).get("username") != user:
            continue
        ref = event.get("objectRef") or {}
        entry = by_id.setdefault(event["auditID"], {
            "verb": event["verb"], "resource": ref.get("resource"), "subresource": ref.get("subresource"),
            "namespace": ref.get("namespace"), "name": ref.get("name"), "api_group": ref.get("apiGroup", ""),
            "user": event.get("user", {}).get("username"), "uri": event.get("requestURI"),
            "path": event.get("requestURI", "").split("?", 1)[0], "code": None})
        if event.get("stage") == "ResponseComplete":
            entry["code"] = (event.get("responseStatus") or {}).get("code")
            entry["name"] = entry["name"] or ref.get("name")  # a create learns its name from the response
    return list(by_id.values())


def size(log: Path) -> int:
    try:
        return log.stat().st_size
    except FileNotFoundError:
        return 0


if __name__ == "__main__":
    # python -m tests.lib.localcluster.audit AUDIT_LOG OFFSET [USER]: the writes as a JSON list (Molecule).
    print(json.dumps(writes(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None)))
