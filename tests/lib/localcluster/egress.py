"""The API server's egress proxy: HTTP CONNECT on a unix socket, forwarding only to 127.0.0.1.

kube-apiserver dials webhooks and kubelets at in-cluster addresses (pod IPs that
KWOK made up). With its egress selector pointed here, each such dial becomes a
CONNECT request that we forward to the local process playing that endpoint:
the webhook port to the local istiod, the kubelet port to KWOK. Anything else
is refused, so no packet leaves the loopback interface.
"""
from __future__ import annotations

import asyncio
import threading
import time
from typing import Callable, Optional

# (host, port) the API server asked for -> loopback port to forward to, or None to refuse.
Router = Callable[[str, int], Optional[int]]


class EgressProxy:
    def __init__(self, socket_path: str, router: Router, log_path: str):
        self.socket_path = socket_path
        self.router = router
        self.log = open(log_path, "a", buffering=1)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="egress", daemon=True)
        self._ready = threading.Event()

    def start(self) -> None:
        self.thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("egress proxy did not start")

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(asyncio.start_unix_server(self._handle, path=self.socket_path))
        self._ready.set()
        self.loop.run_forever()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_writer = None
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            method, target = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")[:2]
            host, _, port_text = target.rpartition(":")
            port = self.router(host.strip("[]"), int(port_text)) if method == "CONNECT" else None
            self.log.write("%s CONNECT %s -> %s\n" % (time.strftime("%H:%M:%S"), target,
                                                      "127.0.0.1:%d" % port if port else "refused"))
            if port is None:
                writer.write(b"HTTP/1.1 502 Bad Gateway\r\n\r\n")
                await writer.drain()
                return
            try:
                up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
            except (OSError, asyncio.TimeoutError):
                writer.write(b"HTTP/1.1 503 Service Unavailable\r\n\r\n")
                await writer.drain()
                return
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.TimeoutError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()
            if up_writer is not None:
                up_writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        try:
            writer.write_eof()
        except OSError:
            pass
