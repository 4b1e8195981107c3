"""Kubernetes `Status` errors with the reasons and codes real clients key on."""
from __future__ import annotations

from typing import Any


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                "message": self.message, "reason": self.reason, "code": self.code}
        if self.details is not None:
            body["details"] = self.details
        return body


def _res(group: str, plural: str) -> str:
    return f"{plural}.{group}" if group else plural


def not_found(group: str, plural: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{_res(group, plural)} "{name}" not found',
                    {"name": name, "group": group, "kind": plural})


def already_exists(group: str, plural: str, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{_res(group, plural)} "{name}" already exists',
                    {"name": name, "group": group, "kind": plural})


def conflict(group: str, plural: str, name: str, why: str) -> ApiError:
    return ApiError(409, "Conflict", f'Operation cannot be fulfilled on {_res(group, plural)} "{name}": {why}',
                    {"name": name, "group": group, "kind": plural})


def invalid(group: str, kind: str, name: str, causes: list[tuple[str, str]]) -> ApiError:
    """causes: (field, message) pairs, rendered like the API server's field errors."""
    text = "; ".join(f"{f}: {m}" for f, m in causes)
    return ApiError(422, "Invalid", f'{kind}.{group or ""} "{name}" is invalid: {text}'.replace(". \"", " \""),
                    {"name": name, "group": group, "kind": kind,
                     "causes": [{"reason": "FieldValueInvalid", "message": m, "field": f} for f, m in causes]})


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def method_not_allowed(message: str = "the server does not allow this method on the requested resource") -> ApiError:
    return ApiError(405, "MethodNotAllowed", message)


def internal(message: str) -> ApiError:
    return ApiError(500, "InternalError", f"Internal error occurred: {message}",
                    {"causes": [{"message": message}]})


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)
