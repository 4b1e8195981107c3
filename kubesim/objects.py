"""Small helpers for reading and building Kubernetes objects as dicts."""
from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_uid() -> str:
    return str(uuid.uuid4())


def meta(obj: dict) -> dict:
    return obj.setdefault("metadata", {})


def labels(obj: dict) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def name_of(obj: dict) -> str:
    return (obj.get("metadata") or {}).get("name", "")


def ns_of(obj: dict) -> str:
    return (obj.get("metadata") or {}).get("namespace", "")


def owner_ref(owner: dict, controller: bool = True) -> dict:
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": name_of(owner),
            "uid": owner["metadata"]["uid"], "controller": controller, "blockOwnerDeletion": True}


def controller_of(obj: dict) -> dict | None:
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


_ALNUM = "bcdfghjklmnpqrstvwxz2456789"


def short_hash(data: str, length: int = 10) -> str:
    """A pod-template-hash style string (consonants and digits, like SafeEncodeString)."""
    n = int(hashlib.sha256(data.encode()).hexdigest(), 16)
    out = ""
    for _ in range(length):
        n, r = divmod(n, len(_ALNUM))
        out += _ALNUM[r]
    return out


def random_suffix(length: int = 5) -> str:
    return short_hash(uuid.uuid4().hex, length)


def condition(ctype: str, status: str, reason: str = "", message: str = "", ts: str | None = None,
              probe: bool = False) -> dict[str, Any]:
    c: dict[str, Any] = {"type": ctype, "status": status}
    t = ts or now()
    if probe:
        c["lastProbeTime"] = None
    c["lastTransitionTime"] = t
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    return c


def set_condition(conds: list[dict], new: dict, keep_time_if_same: bool = True) -> list[dict]:
    """Replace the condition of new['type']; keep transition time when the status did not change."""
    out = []
    found = False
    for c in conds:
        if c.get("type") == new["type"]:
            found = True
            if keep_time_if_same and c.get("status") == new["status"]:
                merged = dict(new)
                for tkey in ("lastTransitionTime", "lastUpdateTime", "lastProbeTime"):
                    if tkey in c:
                        merged[tkey] = c[tkey]
                if c.get("reason") == new.get("reason") and c.get("message") == new.get("message"):
                    merged = c
                out.append(merged)
            else:
                out.append(new)
        else:
            out.append(c)
    if not found:
        out.append(new)
    return out


def parse_quantity(q: Any) -> float:
    """CPU in cores or memory in bytes from a Kubernetes quantity."""
    if q is None:
        return 0.0
    if isinstance(q, (int, float)):
        return float(q)
    s = str(q).strip()
    suffixes = {"Ki": 1024, "Mi": 1024 ** 2, "Gi": 1024 ** 3, "Ti": 1024 ** 4, "k": 1e3, "M": 1e6, "G": 1e9,
                "T": 1e12, "m": 1e-3}
    for suf in ("Ki", "Mi", "Gi", "Ti", "k", "M", "G", "T", "m"):
        if s.endswith(suf):
            return float(s[: -len(suf)]) * suffixes[suf]
    try:
        return float(s)
    except ValueError:
        return 0.0
