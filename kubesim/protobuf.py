"""Decode the Kubernetes protobuf request bodies real clients send (k8s\\0 + runtime.Unknown).

Typed clients (helm's release Secrets, `kubectl create ...`, `kubectl drain`'s Evictions) send the built-in
kinds this way. A small hand-written wire decoder walks the message using the field tables in pbschema.py
(generated from k8s.io/api's .proto files); apimachinery's special types are decoded by hand below.
"""
from __future__ import annotations

import base64
import datetime as dt
import struct
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
            if x:
                out[strs[n]] = _s(x)
        elif n == 7 and x:
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


def _quantity(buf: bytes) -> str:
    return next((_s(x) for n, _, x in fields(buf) if n == 1), "0")


def _int_or_string(buf: bytes) -> int | str:
    kind, ival, sval = 0, 0, ""
    for n, _, x in fields(buf):
        if n == 1:
            kind = x
        elif n == 2:
            ival = _int64(x)
        elif n == 3:
            sval = _s(x)
    return sval if kind == 1 else ival


def _micro_time(buf: bytes) -> str:
    secs = nanos = 0
    for n, _, x in fields(buf):
        if n == 1:
            secs = _int64(x)
        elif n == 2:
            nanos = x
    t = dt.datetime.fromtimestamp(secs, dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos // 1000:06d}Z"


def _label_selector(buf: bytes) -> dict:
    out: dict[str, Any] = {}
    labels, exprs = [], []
    for n, _, x in fields(buf):
        if n == 1:
            labels.append(x)
        elif n == 2:
            req: dict[str, Any] = {}
            vals = []
            for m, _, y in fields(x):
                if m == 1:
                    req["key"] = _s(y)
                elif m == 2:
                    req["operator"] = _s(y)
                elif m == 3:
                    vals.append(_s(y))
            if vals:
                req["values"] = vals
            exprs.append(req)
    if labels:
        out["matchLabels"] = _map(labels)
    if exprs:
        out["matchExpressions"] = exprs
    return out


def _meta_condition(buf: bytes) -> dict:
    names = {1: "type", 2: "status", 5: "reason", 6: "message"}
    out: dict[str, Any] = {}
    for n, _, x in fields(buf):
        if n in names:
            out[names[n]] = _s(x)
        elif n == 3:
            out["observedGeneration"] = _int64(x)
        elif n == 4:
            out["lastTransitionTime"] = _time(x)
    return out


_META = "k8s.io.apimachinery.pkg.apis.meta.v1."
SPECIAL: dict[str, Callable[[bytes], Any]] = {
    "k8s.io.apimachinery.pkg.api.resource.Quantity": _quantity,
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString": _int_or_string,
    _META + "Time": _time, _META + "MicroTime": _micro_time, _META + "ObjectMeta": lambda b: object_meta(b),
    _META + "LabelSelector": _label_selector, _META + "Condition": _meta_condition,
    _META + "DeleteOptions": lambda b: delete_options(b),
}
# Go fields that are pointers (or otherwise keep zero values) in JSON; other zero scalars are omitted
# like `omitempty` does, because gogo-protobuf writes non-pointer scalars even when they are zero.
KEEP_ZERO = {"replicas", "minReplicas", "automountServiceAccountToken", "terminationGracePeriodSeconds",
             "backoffLimit", "completions", "parallelism", "suspend", "enableServiceLinks",
             "allocateLoadBalancerNodePorts", "revisionHistoryLimit", "progressDeadlineSeconds",
             "successfulJobsHistoryLimit", "failedJobsHistoryLimit", "ttlSecondsAfterFinished",
             "activeDeadlineSeconds", "runAsUser", "runAsGroup", "runAsNonRoot", "privileged",
             "allowPrivilegeEscalation", "readOnlyRootFilesystem", "defaultMode", "optional", "tolerationSeconds",
             "priority", "value", "maxSurge", "maxUnavailable", "partition", "port",
             "containerPort", "weight", "holderIdentity", "leaseDurationSeconds", "leaseTransitions",
             "timeoutSeconds", "minAvailable"}
# Embedded Go structs (`json:",inline"`): their fields belong to the parent object.
INLINE = {"volumeSource", "persistentVolumeSource", "ephemeralContainerCommon", "localObjectReference", "handler",
          "ingressRuleValue", "ruleWithOperations", "rule"}
_SCALARS = {"string", "int32", "int64", "bool", "bytes", "double", "float"}


def _scalar(typ: str, wt: int, val: Any) -> Any:
    if typ == "string":
        return _s(val)
    if typ == "bytes":
        return _b64(val)
    if typ == "bool":
        return bool(val)
    if typ in ("int32", "int64"):
        v = _int64(val)
        return v - (1 << 32) if typ == "int32" and v >= 1 << 31 else v
    if typ == "double":
        return struct.unpack("<d", val.to_bytes(8, "little"))[0]
    if typ == "float":
        return struct.unpack("<f", val.to_bytes(4, "little"))[0]
    return val


def _packed(typ: str, raw: bytes) -> list:
    out, pos = [], 0
    while pos < len(raw):
        v, pos = _varint(raw, pos)
        out.append(_scalar(typ, 0, v))
    return out


def _value(typ: str, wt: int, val: Any) -> Any:
    if typ in _SCALARS:
        return _scalar(typ, wt, val)
    return message(typ, val)


def message(name: str, buf: bytes) -> Any:
    """Decode a message of the named (fully qualified) type into its JSON form."""
    if name in SPECIAL:
        return SPECIAL[name](buf)
    from .pbschema import SCHEMA
    schema = SCHEMA.get(name)
    if schema is None:
        return {}
    out: dict[str, Any] = {}
    for num, wt, val in fields(buf):
        spec = schema.get(num)
        if spec is None:
            continue
        jname, typ, repeated = spec
        if typ.startswith("map:"):
            vtyp = typ[4:]
            key, value = "", None
            for m, mwt, x in fields(val):
                if m == 1:
                    key = _s(x)
                elif m == 2:
                    value = _value(vtyp, mwt, x)
            out.setdefault(jname, {})[key] = value if value is not None else _value(vtyp, 0, b"" if vtyp not in (
                "int32", "int64", "bool") else 0)
        elif repeated:
            if wt == 2 and typ in ("int32", "int64", "bool"):
                out.setdefault(jname, []).extend(_packed(typ, val))
            else:
                out.setdefault(jname, []).append(_value(typ, wt, val))
        else:
            v = _value(typ, wt, val)
            if v == "" or (typ in _SCALARS and v in (0, False) and jname not in KEEP_ZERO
                           and not isinstance(v, float)):
                continue
            if jname in INLINE and isinstance(v, dict):
                out.update(v)
            else:
                out[jname] = v
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
    from .pbschema import KINDS
    group = api_version.split("/")[0] if "/" in api_version else ""
    if kind == "DeleteOptions":
        obj = delete_options(raw)
    elif (group, kind) in KINDS:
        obj = message(KINDS[(group, kind)], raw)
    else:
        raise ApiError(415, "UnsupportedMediaType",
                       f"kubesim cannot decode protobuf bodies of kind {kind!r} ({api_version}); send JSON")
    return {"apiVersion": api_version, "kind": kind, **obj}
