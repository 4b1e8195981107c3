"""`python -m kubesim serve ...`: start the API stand-in, write a kubeconfig, print `ready`."""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys

from aiohttp import web

from .app import KubeSim


def write_kubeconfig(path: str, server: str) -> None:
    text = f"""apiVersion: v1
kind: Config
clusters:
- name: kubesim
  cluster:
    server: {server}
users:
- name: kubesim-admin
  user:
    token: kubesim-dummy-token
contexts:
- name: kubesim
  context:
    cluster: kubesim
    user: kubesim-admin
    namespace: default
current-context: kubesim
preferences: {{}}
"""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        fh.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


async def serve(args: argparse.Namespace) -> None:
    sim = KubeSim(kube_version=args.kube_version, state_file=args.state_file)
    if args.inventory:
        from .inventory import nodes_from_inventory
        sim.add_nodes(nodes_from_inventory(args.inventory, args.kube_version))
    runner = web.AppRunner(sim.server.app, access_log=None, handle_signals=False, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port, reuse_address=True)
    await site.start()
    port = runner.addresses[0][1]
    sim.server.address = f"{args.host}:{port}"
    server_url = f"http://{args.host}:{port}"
    write_kubeconfig(args.kubeconfig_out, server_url)
    sim.controllers.kick()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"kubesim ready on {server_url} (kubeconfig {args.kubeconfig_out})", flush=True)
    await stop.wait()
    sim.save()
    await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kubesim", description="Local Kubernetes API stand-in")
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="run the API server")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--kubeconfig-out", required=True)
    s.add_argument("--inventory")
    s.add_argument("--kube-version", default="v1.30.6")
    s.add_argument("--state-file")
    s.add_argument("--log-level", default=os.environ.get("KUBESIM_LOG", "WARNING"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
