"""A multi-host deployment on one machine, for the celery executor's tests: PostgreSQL (a fresh
database), a broker, moto's S3, and `bh worker start` processes in working directories and venvs
of their own.

Each worker host is a network namespace (`tests.support.netns`) where the machine allows it: the
worker reaches PostgreSQL, the broker and S3 only through the relay at its veth's address, never
the machine's loopback. Where it does not (not root, no iproute2), workers run in the machine's
network and the tests say why (`namespace_fallback`). Either way a worker shares nothing else
with the deployment: not its folder, not its Python, not its storage folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests.support.dev_server import SERVING, DevServer, stop_dev_server
from tests.support.netns import NetNamespace, unavailable_reason
from tests.support.projects import cached_venv, link_venv, write_project
from tests.support.waiting import eventually

POSTGRES_ADMIN_URL = os.environ.get(
    "BAKEHOUSE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = "redis://127.0.0.1:6379"
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"
# What each worker's own venv holds beside bakehouse (this checkout): celery, what the
# locations' IO manager needs, and s3fs for the compute logs' upload. The two lists differ so
# that each location has a venv of its own (python-dateutil is boto3's dependency anyway).
WORKER_PACKAGES = {
    "east": ["celery[redis]>=5.4", "boto3>=1.28", "psycopg[binary]>=3.1.18", "s3fs>=2024.2"],
    "west": ["celery[redis]>=5.4", "boto3>=1.28", "psycopg[binary]>=3.1.18", "s3fs>=2024.2",
             "python-dateutil>=2.8"],
}  # fmt: skip


NO_NAMESPACES = "workers run without network namespaces"


def namespace_fallback(config: pytest.Config) -> str | None:
    """None when workers can have network namespaces here; else why not, printed in pytest's
    output and as a warning in its summary, also under xdist (the test then runs its workers in
    the machine's network: not a silent skip). Tests that call it let that warning through
    (``filterwarnings("default:" + NO_NAMESPACES)``)."""
    reason = unavailable_reason()
    if reason is not None:
        message = f"{NO_NAMESPACES}: {reason}"
        print(message, file=sys.stderr)
        warnings.warn(message, UserWarning, stacklevel=2)
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        capture = config.pluginmanager.get_plugin("capturemanager")
        if reporter is not None:
            # Past pytest's capture of the test's output, as `capsys.disabled()` writes.
            with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
                reporter.write_line(f"\n{message}", yellow=True)
    return reason


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database's URL, dropped (connections and all) at the end."""
    admin_url = make_url(POSTGRES_ADMIN_URL)
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"bakehouse_celery_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def broker_url(kind: str, redis_url: str = REDIS_URL) -> str:
    """The broker of `kind` ("redis" or "rabbitmq") on this machine."""
    return f"{redis_url}/7" if kind == "redis" else RABBITMQ_URL


def executor_table(broker: str, *, worker_timeout: float = 20.0) -> str:
    """``[tool.bakehouse.executor]``: celery on `broker`, the deployment's default."""
    backend = broker if broker.startswith("redis") else "rpc://"
    return textwrap.dedent(
        f"""
        [tool.bakehouse.executor]
        name = "celery"

        [tool.bakehouse.executor.config]
        broker = "{broker}"
        backend = "{backend}"
        worker_timeout = {worker_timeout}
        """
    )


def write_location(
    root: Path, module: str, location: str, files: dict[str, str], executor: str
) -> Path:
    """A project of root module `module` served as code location `location`, with `executor`
    (a ``[tool.bakehouse.executor]`` table) appended to its pyproject.toml."""
    write_project(root, module, files)
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text().replace(
        f'root_module = "{module}"', f'root_module = "{module}"\ncode_location_name = "{location}"'
    )
    pyproject.write_text(text + executor)
    return root


@dataclass
class Worker:
    """A `bh worker start` process, in its own session (so it and its pool die together)."""

    location: str
    process: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once, as a machine that dies would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """Stop the worker (warm shutdown), or kill it if it does not stop."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


def worker_venv(kind: str) -> Path:
    """The cached venv of the `kind` ("east"/"west") workers."""
    return cached_venv(sys.executable, WORKER_PACKAGES[kind])


def start_worker(
    project: Path,
    venv: Path,
    location: str,
    storage_url: str,
    *,
    concurrency: int = 2,
    namespace: NetNamespace | None = None,
    env: dict[str, str] | None = None,
    queues: tuple[str, ...] = (),
) -> Worker:
    """`bh worker start` from the project's folder with its own venv's bh, inside `namespace`
    when given (the storage URL then reaches PostgreSQL through its relay); `env` is added to
    its environment; `queues` replace the location's own queue. Returns once the worker is
    ready."""
    if not (project / ".venv").exists():
        link_venv(project, venv)
    log = project / f"worker-{uuid.uuid4().hex[:6]}.log"
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTHONPATH", "VIRTUAL_ENV"))
    }
    if namespace is not None:
        storage_url = namespace.reach(storage_url)
    environ.update(env or {})
    environ.update(BAKEHOUSE_STORAGE_URL=storage_url, PYTHONUNBUFFERED="1")
    prefix = namespace.exec_prefix() if namespace is not None else []
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*prefix, str(venv / "bin" / "bh"), "worker", "start", "--location", location,
             "--concurrency", str(concurrency), "--heartbeat-interval", "0.5",
             *(arg for queue in queues for arg in ("-q", queue))],
            cwd=project, env=environ, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    worker = Worker(location, process, log)
    eventually(
        lambda: process.poll() is not None or "ready." in log.read_text(errors="replace"),
        message=f"worker for {location} to be ready (log: {log})",
        timeout=120,
    )
    if process.poll() is not None:
        raise AssertionError(f"worker for {location} exited:\n{log.read_text()[-4000:]}")
    return worker


def start_webserver(root: Path, env: dict[str, str], timeout: float = 180) -> DevServer:
    """``bh webserver --port 0`` in `root` with `env`, once it prints its URL (stop it with
    `stop_dev_server`)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bakehouse", "webserver", "--port", "0"],
        cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    server = DevServer("", process, root)

    # Never wait forever for a server that hangs before printing: stop it after `timeout`.
    def stop_if_silent() -> None:
        if not server.url:
            process.kill()

    watchdog = threading.Timer(timeout, stop_if_silent)
    watchdog.start()
    while line := process.stdout.readline():
        server.output.append(line)
        match = SERVING.search(line)
        if match:
            server.url = match.group(1)
            watchdog.cancel()
            return server
    watchdog.cancel()
    stop_dev_server(server)
    raise AssertionError("bh webserver did not print its URL:\n" + "".join(server.output))


def worker_list(cwd: Path, storage_url: str) -> list[dict[str, object]]:
    """`bh worker list --json`, as the deployment's side sees the workers."""
    out = subprocess.run(
        [sys.executable, "-m", "bakehouse", "worker", "list", "--json"],
        cwd=cwd, env={**os.environ, "BAKEHOUSE_STORAGE_URL": storage_url},
        capture_output=True, check=True, timeout=60,
    )  # fmt: skip
    rows: list[dict[str, object]] = json.loads(out.stdout)
    return rows


class RedisServer:
    """A redis-server of the test's own on a free loopback port, to stop and start again (no
    persistence: a restart loses what it held, as a broker that crashed would)."""

    def __init__(self, workdir: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The broker URL of database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it and wait until it answers."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

        def answers() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    return conn.recv(16).startswith(b"+PONG")
            except OSError:
                return False

        eventually(answers, message=f"redis-server on port {self.port}", timeout=30)

    def stop(self) -> None:
        """Stop it (SIGTERM) and wait for it to exit."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None
