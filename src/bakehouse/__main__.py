"""``python -m bakehouse``: the process entry points that run in a code location's interpreter.

``snapshot`` prints a location's snapshot as JSON; ``code-server`` serves it to the host;
``run-worker`` executes one run. Anything else goes to the ``bh`` command line.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _snapshot(args: argparse.Namespace) -> int:
    # User code may print while it is imported; keep stdout for the JSON alone.
    real_stdout = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        from bakehouse.codeserver.lifetime import keep_for_the_process
        from bakehouse.codeserver.loader import load_snapshot
        from bakehouse.protocol.snapshot import LoadFailure, dumps

        snap = load_snapshot(args.module or "", name=args.name, defs_module=args.defs_module)
        keep_for_the_process()
        payload = dumps(snap).encode()
    finally:
        sys.stdout.flush()
        os.dup2(real_stdout, 1)
        sys.stdout = sys.__stdout__
    with os.fdopen(real_stdout, "wb") as out:
        out.write(payload)
    return 1 if isinstance(snap, LoadFailure) else 0


def _run_worker(args: argparse.Namespace) -> int:
    from bakehouse.codeserver.worker import run_worker
    from bakehouse.protocol.run_plan import loads as load_plan

    return run_worker(
        run_id=args.run_id,
        module=args.module or "",
        defs_module=args.defs_module,
        storage_url=args.storage_url,
        storage_dir=Path(args.storage_dir) if args.storage_dir else None,
        plan=load_plan(Path(args.plan_file).read_text()) if args.plan_file else None,
        executor=args.executor,
    )


def _code_server(args: argparse.Namespace) -> int:
    from bakehouse.codeserver.server import serve

    return serve(
        name=args.name,
        module=args.module or "",
        defs_module=args.defs_module,
        host=args.host,
        port=args.port,
        heartbeat_timeout=args.heartbeat_timeout,
        parent_pid=args.parent_pid,
    )


_ENTRY_POINTS = ("snapshot", "run-worker", "code-server")


def main(argv: list[str] | None = None) -> int:
    """Dispatch to a process entry point, or to the CLI."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in _ENTRY_POINTS:
        from bakehouse.cli import main as cli_main

        cli_main(argv)
        return 0
    # The host asks a process that hangs while loading user code where it is (host/stuck.py).
    import faulthandler
    import signal

    faulthandler.register(signal.SIGUSR1, all_threads=True)
    parser = argparse.ArgumentParser(prog="python -m bakehouse")
    sub = parser.add_subparsers(dest="command", required=True)
    snap = sub.add_parser("snapshot", help="print a code location's snapshot as JSON")
    snap.add_argument("--module", help="module holding the location's Definitions")
    snap.add_argument("--defs-module", help="defs package to load when there is no module")
    snap.add_argument("--name", required=True, help="the location's name")
    snap.set_defaults(handler=_snapshot)
    worker = sub.add_parser("run-worker", help="execute one run")
    worker.add_argument("--run-id", required=True)
    worker.add_argument("--module")
    worker.add_argument("--defs-module")
    worker.add_argument("--storage-url", required=True)
    worker.add_argument("--storage-dir")
    worker.add_argument(
        "--plan-file",
        help="the part of the run's plan to execute (JSON, written by the host's coordinator)",
    )
    worker.add_argument(
        "--executor",
        choices=("in_process", "multiprocess", "celery"),
        help="executor to use, over the run's bakehouse/executor tag and the definitions'",
    )
    worker.set_defaults(handler=_run_worker)
    server = sub.add_parser("code-server", help="serve one code location to the host")
    server.add_argument("--name", required=True)
    server.add_argument("--module")
    server.add_argument("--defs-module")
    server.add_argument("--host", default="127.0.0.1")
    server.add_argument("--port", type=int, default=0, help="0 picks a free port")
    server.add_argument("--heartbeat-timeout", type=float, default=60.0)
    server.add_argument("--parent-pid", type=int, help="exit when this process exits")
    server.set_defaults(handler=_code_server)
    args = parser.parse_args(argv)
    code = int(args.handler(args))
    if args.command == "run-worker":
        # Children a step left running are reported; Python's exit must not wait for them.
        from bakehouse.execution.leftover_children import exit_without_joining

        exit_without_joining(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
