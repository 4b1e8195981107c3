"""The audit log readers: a log rotated under a reader is an error, never an empty (and passing) count."""
from __future__ import annotations

import json

import pytest

from benchmarks import audit_counts
from tests.lib.localcluster import audit

EVENT = {"auditID": "a1", "stage": "RequestReceived", "verb": "create", "requestURI": "/api/v1/namespaces",
         "user": {"username": "admin"}, "objectRef": {"resource": "namespaces", "name": "x"}}


def test_reads_from_the_offset_and_a_missing_log_is_empty(tmp_path):
    log = tmp_path / "audit.log"
    assert audit.read_from(log, 0) == b""
    log.write_text(json.dumps(EVENT) + "\n")
    assert [w["name"] for w in audit.writes(log, 0, "admin")] == ["x"]
    assert audit.writes(log, audit.size(log), "admin") == []
    assert audit_counts.count_file(log, 0, "admin")["writes"] == 1


def test_a_log_shorter_than_the_offset_was_rotated(tmp_path):
    log = tmp_path / "audit.log"
    log.write_text(json.dumps(EVENT) + "\n")
    offset = audit.size(log)
    log.rename(tmp_path / "audit-2026-12-02T22-40-00.000.log")  # what the API server's log writer does
    log.write_text("")
    with pytest.raises(audit.AuditLogRotated, match="fewer than the offset %d it was read from: it was rotated" % offset):
        audit.writes(log, offset, "admin")
    with pytest.raises(audit.AuditLogRotated):
        audit_counts.count_file(log, offset, "admin")
    log.unlink()
    with pytest.raises(audit.AuditLogRotated, match="is gone"):
        audit.read_from(log, offset)
