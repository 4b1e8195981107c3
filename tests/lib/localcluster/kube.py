"""A minimal JSON client for the local API server (urllib + client certificate), for the supervisor."""
from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path


class ApiError(Exception):
    def __init__(self, status: int, body: str):
        super().__init__(f"HTTP {status}: {body[:300]}")
        self.status = status


class Client:
    def __init__(self, server: str, pki: Path, user_stem: str):
        self.server = server
        self.ctx = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        self.ctx.load_cert_chain(str(pki / f"{user_stem}.crt"), str(pki / f"{user_stem}.key"))

    def request(self, method: str, path: str, body=None, content_type: str = "application/json", timeout: float = 10):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.server + path, data=data, method=method,
                                     headers={"Content-Type": content_type, "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as err:
            raise ApiError(err.code, err.read().decode(errors="replace")) from None
        return json.loads(raw) if raw[:1] in (b"{", b"[") else raw.decode()

    def get(self, path: str, default=None):
        try:
            return self.request("GET", path)
        except ApiError as err:
            if err.status == 404 and default is not None:
                return default
            raise

    def merge_patch(self, path: str, body):
        return self.request("PATCH", path, body, "application/merge-patch+json")
