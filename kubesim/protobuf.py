"""Decode the Kubernetes protobuf request bodies real clients send (k8s\\0 + runtime.Unknown).

Only the message types helm and kubectl are seen sending are understood: Secret, ConfigMap,
Namespace, ServiceAccount, DeleteOptions (plus ObjectMeta and its parts). Field numbers follow
the published generated.proto of k8s.io/api and apimachinery.
"""
from __future__ import annotations

import base64
import datetime as dt
from typing import Any, Callable

from .errors import ApiError

MAGIC = b"k8s\x00"


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def fields(buf: bytes) -> list[tuple[int, int, Any]]:
    """(field number, wire type, value) triples; length-delimited values stay bytes."""
    out = []
    pos = 0
    while pos < len(buf):
        tag, pos = _varint(buf, pos)
        num, wt = tag >> 3, tag & 7
        if wt == 0:
            val, pos = _varint(buf, pos)
        elif wt == 2:
            ln, pos = _varint(buf, pos)
            val = buf[pos:pos + ln]
            pos += ln
        elif wt == 1:
            val = int.from_bytes(buf[pos:pos + 8], "little")
            pos += 8
        elif wt == 5:
            val = int.from_bytes(buf[pos:pos + 4], "little")
            pos += 4
        else:
            raise ValueError(f"unsupported wire type {wt}")
        out.append((num, wt, val))
    return out


def _s(v: bytes) -> str:
    return v.decode("utf-8")


def _int64(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _map(entries: list[bytes], value: Callable[[bytes], Any] = _s) -> dict:
    out = {}
    for raw in entries:
        k, v = "", None
        for n, _, x in fields(raw):
            if n == 1:
                k = _s(x)
            elif n == 2:
                v = value(x)
        out[k] = v if v is not None else value(b"")
    return out


def _time(buf: bytes) -> str:
    secs = 0
    for n, _, x in fields(buf):
        if n == 1:
            secs = _int64(x)
    return dt.datetime.fromtimestamp(secs, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _owner_ref(buf: bytes) -> dict:
    names = {1: "kind", 3: "name", 4: "uid", 5: "apiVersion"}
    out: dict[str, Any] = {}
    for n, _, x in fields(buf):
        if n in names:
            out[names[n]] = _s(x)
        elif n == 6:
            out["controller"] = bool(x)
        elif n == 7:
            out["blockOwnerDeletion"] = bool(x)
    return out


def _managed_field(buf: bytes) -> dict:
    import json
    out: dict[str, Any] = {}
    for n, _, x in fields(buf):
        if n == 1:
            out["manager"] = _s(x)
        elif n == 2:
            out["operation"] = _s(x)
        elif n == 3:
            out["apiVersion"] = _s(x)
        elif n == 4:
            out["time"] = _time(x)
        elif n == 6:
            out["fieldsType"] = _s(x)
        elif n == 7:
            raw = next((y for m, _, y in fields(x) if m == 1), b"{}")
            out["fieldsV1"] = json.loads(raw or b"{}")
        elif n == 8:
            out["subresource"] = _s(x)
    return out


def object_meta(buf: bytes) -> dict:
    strs = {1: "name", 2: "generateName", 3: "namespace", 4: "selfLink", 5: "uid", 6: "resourceVersion"}
    out: dict[str, Any] = {}
    labels, annotations, owners, finalizers, managed = [], [], [], [], []
    for n, _, x in fields(buf):
        if n in strs:
            out[strs[n]] = _s(x)
        elif n == 7:
            out["generation"] = _int64(x)
        elif n == 8:
            out["creationTimestamp"] = _time(x)
        elif n == 9:
            out["deletionTimestamp"] = _time(x)
        elif n == 10:
            out["deletionGracePeriodSeconds"] = _int64(x)
        elif n == 11:
            labels.append(x)
        elif n == 12:
            annotations.append(x)
        elif n == 13:
            owners.append(x)
        elif n == 14:
            finalizers.append(_s(x))
        elif n == 17:
            managed.append(x)
    if labels:
        out["labels"] = _map(labels)
    if annotations:
        out["annotations"] = _map(annotations)
    if owners:
        out["ownerReferences"] = [_owner_ref(o) for o in owners]
    if finalizers:
        out["finalizers"] = finalizers
    if managed:
        out["managedFields"] = [_managed_field(m) for m in managed]
    # creationTimestamp of the zero time is sent by clients; the server sets the real one
    if out.get("creationTimestamp", "").startswith("1970-01-01"):
        out.pop("creationTimestamp")
    return out


def _b64(x: bytes) -> str:
    return base64.b64encode(x).decode()


def secret(buf: bytes) -> dict:
    out: dict[str, Any] = {}
    data, sdata = [], []
    for n, _, x in fields(buf):
        if n == 1:
            out["metadata"] = object_meta(x)
        elif n == 2:
            data.append(x)
        elif n == 3:
            out["type"] = _s(x)
        elif n == 4:
            sdata.append(x)
        elif n == 5:
            out["immutable"] = bool(x)
    if data:
        out["data"] = _map(data, _b64)
    if sdata:
        out["stringData"] = _map(sdata)
    return out


def config_map(buf: bytes) -> dict:
    out: dict[str, Any] = {}
    data, bdata = [], []
    for n, _, x in fields(buf):
        if n == 1:
            out["metadata"] = object_meta(x)
        elif n == 2:
            data.append(x)
        elif n == 3:
            bdata.append(x)
        elif n == 4:
            out["immutable"] = bool(x)
    if data:
        out["data"] = _map(data)
    if bdata:
        out["binaryData"] = _map(bdata, _b64)
    return out


def namespace(buf: bytes) -> dict:
    out: dict[str, Any] = {}
    for n, _, x in fields(buf):
        if n == 1:
            out["metadata"] = object_meta(x)
        elif n == 2:
            fin = [_s(y) for m, _, y in fields(x) if m == 1]
            out["spec"] = {"finalizers": fin} if fin else {}
    return out


def service_account(buf: bytes) -> dict:
    out: dict[str, Any] = {}
    for n, _, x in fields(buf):
        if n == 1:
            out["metadata"] = object_meta(x)
        elif n == 4:
            out["automountServiceAccountToken"] = bool(x)
    return out


def delete_options(buf: bytes) -> dict:
    out: dict[str, Any] = {}
    dry = []
    for n, _, x in fields(buf):
        if n == 1:
            out["gracePeriodSeconds"] = _int64(x)
        elif n == 2:
            pre = {}
            for m, _, y in fields(x):
                if m == 1:
                    pre["uid"] = _s(y)
                elif m == 2:
                    pre["resourceVersion"] = _s(y)
            out["preconditions"] = pre
        elif n == 3:
            out["orphanDependents"] = bool(x)
        elif n == 4:
            out["propagationPolicy"] = _s(x)
        elif n == 5:
            dry.append(_s(x))
    if dry:
        out["dryRun"] = dry
    return out


DECODERS: dict[str, Callable[[bytes], dict]] = {
    "Secret": secret, "ConfigMap": config_map, "Namespace": namespace, "ServiceAccount": service_account,
    "DeleteOptions": delete_options,
}


def decode(body: bytes) -> dict:
    if not body.startswith(MAGIC):
        raise ApiError(400, "BadRequest", "protobuf body lacks the k8s\\0 prefix")
    api_version = kind = ""
    raw = b""
    for n, _, x in fields(body[len(MAGIC):]):
        if n == 1:
            for m, _, y in fields(x):
                if m == 1:
                    api_version = _s(y)
                elif m == 2:
                    kind = _s(y)
        elif n == 2:
            raw = x
    dec = DECODERS.get(kind)
    if dec is None:
        raise ApiError(415, "UnsupportedMediaType",
                       f"kubesim cannot decode protobuf bodies of kind {kind!r}; send JSON")
    obj = dec(raw)
    obj = {"apiVersion": api_version, "kind": kind, **obj}
    return obj
