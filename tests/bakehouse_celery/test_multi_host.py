"""The celery executor on real services: PostgreSQL, Redis or RabbitMQ, moto's S3, and one
`bh worker start` per code location in its own folder and venv and, where the machine allows
it, its own network namespace (`tests.support.celery_cluster`, `tests.support.netns`): the
worker then reaches PostgreSQL, the broker and S3 only through its veth's relay, never the
machine's loopback.

A 20-asset graph crossing two locations runs on both workers with values passing through S3,
and what its steps printed reaches the webserver's compute-log API through S3; faults: a worker
SIGKILLed mid-step, a broker restarted, a cancel while steps run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bakehouse.storage import Instance
from bakehouse.storage.records import EventType, RunStatus
from tests.support.celery_cluster import (
    RedisServer,
    Worker,
    broker_url,
    executor_table,
    namespace_fallback,
    postgres_database,
    start_webserver,
    start_worker,
    worker_list,
    worker_venv,
    write_location,
)
from tests.support.dev_server import stop_dev_server
from tests.support.netns import NetNamespace, network_namespace
from tests.support.projects import write_workspace
from tests.support.s3 import ACCESS_KEY, REGION, SECRET_KEY, S3Server
from tests.support.waiting import eventually

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    # Where the machine gives no network namespaces, the fixture says so in a warning.
    pytest.mark.filterwarnings("default:workers run without network namespaces:UserWarning"),
]

BROKERS = ["redis", "rabbitmq"]


def _io_manager(s3: S3Server, bucket: str) -> str:
    return f"""
from bakehouse_aws.s3 import S3PickleIOManager, S3Resource

# A worker in a network namespace reaches S3 at its relay's address (TEST_S3_ENDPOINT).
io_manager = S3PickleIOManager(
    s3_resource=S3Resource(
        endpoint_url=os.environ.get("TEST_S3_ENDPOINT", "{s3.endpoint_url}"),
        aws_access_key_id="testing",
        aws_secret_access_key="testing", region_name="us-east-1",
    ),
    s3_bucket="{bucket}",
    s3_prefix="runs",
)
defs = dg.Definitions(resources={{"io_manager": io_manager}})
"""


def _east(s3: S3Server, bucket: str, gate: str) -> dict[str, str]:
    # e0 fans out to e1..e8; `total` (in east again) sums the ten west assets.
    body = ["import os\nimport bakehouse as dg", _io_manager(s3, bucket)]
    body.append("@dg.asset\ndef e0() -> int:\n    print('e0 says hello')\n    return 1\n")
    for i in range(1, 9):
        body.append(f"@dg.asset\ndef e{i}(e0: int) -> int:\n    return e0 + {i}\n")
    params = ", ".join(f"w{i}: int" for i in range(10))
    body.append(
        f"@dg.asset\ndef total({params}) -> int:\n"
        f"    return {' + '.join(f'w{i}' for i in range(10))}\n"
    )
    return {"defs/assets.py": "\n\n".join(body)}


def _west(s3: S3Server, bucket: str, gate: str) -> dict[str, str]:
    # w_i reads e_(i mod 9) from S3; w5 waits for the test's gate file while it runs, so the
    # test can act (kill, cancel) with a step mid-flight. Retries: once, for a lost worker.
    body = ["import os, sys, time\nimport bakehouse as dg", _io_manager(s3, bucket)]
    body.append(f"GATE = {gate!r}\n")
    for i in range(10):
        upstream = f"e{i % 9}"
        wait = ""
        if i == 5:
            wait = (
                "    open(GATE + '.started', 'a').write(str(os.getpid()) + '\\n')\n"
                "    while not os.path.exists(GATE):\n        time.sleep(0.05)\n"
            )
        body.append(
            f"@dg.asset(retry_policy=dg.RetryPolicy(max_retries=1))\n"
            f"def w{i}({upstream}: int) -> int:\n{wait}"
            f"    print('w{i} computes', {upstream} * 10)\n"
            f"    print('w{i} to stderr', file=sys.stderr)\n"
            f"    return {upstream} * 10\n"
        )
    return {"defs/assets.py": "\n\n".join(body)}


class Deployment:
    """The deployment's side: a workspace of both locations, and `bh launch` from it."""

    def __init__(
        self, root: Path, storage_url: str, logs_url: str, s3: S3Server,
        broker: RedisServer | None = None,
    ) -> None:  # fmt: skip
        self.root = root
        self.storage_url = storage_url
        # Where workers upload compute logs and the webserver reads them.
        self.logs_url = logs_url
        self.s3 = s3
        # The test's own broker, when it started one.
        self.broker = broker
        self.launched: list[subprocess.Popen[bytes]] = []

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "BAKEHOUSE_STORAGE_URL": self.storage_url,
            **_object_store_env(self.s3.endpoint_url, self.logs_url),
        }

    def launch(self, selection: str = "*") -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "bakehouse", "launch", "--assets", selection, "--json"],
            cwd=self.root, env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True,
        )  # fmt: skip
        self.launched.append(process)
        return process

    def stop_launches(self) -> None:
        """End any `bh launch` a failed test left running: Ctrl-C (it cancels its run and stops
        its code servers), then SIGKILL to its whole process group if it does not exit."""
        for process in self.launched:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.communicate(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.communicate(timeout=30)

    def instance(self) -> Instance:
        return Instance.open(self.storage_url, storage_dir=self.root / ".bakehouse" / "storage")


def _object_store_env(endpoint: str, logs_url: str) -> dict[str, str]:
    """How a process reaches the object store at `endpoint`: fsspec's settings for the compute
    logs (BAKEHOUSE_COMPUTE_LOGS_URL), the test IO manager's endpoint, moto's credentials."""
    return {
        "BAKEHOUSE_COMPUTE_LOGS_URL": logs_url,
        "FSSPEC_S3_ENDPOINT_URL": endpoint,
        "TEST_S3_ENDPOINT": endpoint,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
    }


@dataclass
class Cluster:
    """A deployment, one worker per location (`workers`), each in its folder (`projects`) and,
    where the machine allows, its network namespace (`namespaces`, else None: `fallback` says
    why)."""

    deployment: Deployment
    workers: dict[str, Worker]
    projects: dict[str, Path]
    namespaces: dict[str, NetNamespace | None]
    fallback: str | None
    bucket: str
    gate: Path

    def start_worker(self, kind: str, location: str) -> Worker:
        """Another worker for `location` on the `kind` host (its folder and namespace)."""
        namespace = self.namespaces[kind]
        endpoint = self.deployment.s3.endpoint_url
        if namespace is not None:
            endpoint = namespace.reach(endpoint)
        return start_worker(
            self.projects[kind], worker_venv(kind), location, self.deployment.storage_url,
            namespace=namespace, env=_object_store_env(endpoint, self.deployment.logs_url),
        )  # fmt: skip


def _worker_folder(source: Path, folder: Path, namespace: NetNamespace | None, broker: str) -> Path:
    """The location's code copied to the worker's own folder; inside a namespace its executor
    table names the broker at the relay's address."""
    shutil.copytree(source, folder)
    if namespace is not None:
        pyproject = folder / "pyproject.toml"
        pyproject.write_text(pyproject.read_text().replace(broker, namespace.reach(broker)))
    return folder


@pytest.fixture
def cluster(
    request: pytest.FixtureRequest, tmp_path: Path, s3_server: S3Server
) -> Iterator[Cluster]:
    """Both locations' code in the deployment's workspace and, copied, in each worker's own
    folder with its own venv (and network namespace); one worker per location, started as a
    deployment would."""
    own = RedisServer(tmp_path / "redis") if request.param == "own-redis" else None
    broker = own.url if own is not None else broker_url(request.param)
    suffix = os.urandom(4).hex()
    bucket = s3_server.new_bucket()
    logs_url = f"s3://{s3_server.new_bucket()}/compute-logs"
    gate = tmp_path / "gate"
    names = {"east": f"east_{suffix}", "west": f"west_{suffix}"}
    # Long enough for a heartbeat on a machine two such tests load at once (xdist: a worker's
    # first step imports boto3 and s3fs), short enough for the kill test's retry to come soon.
    table = executor_table(broker, worker_timeout=20.0)
    writers = {"east": _east, "west": _west}
    fallback = namespace_fallback(request.config)
    with postgres_database() as storage_url, contextlib.ExitStack() as hosts:
        deployment_root = tmp_path / "deployment"
        for kind in ("east", "west"):
            files = writers[kind](s3_server, bucket, str(gate))
            write_location(deployment_root / kind, kind, names[kind], files, table)
        write_workspace(deployment_root, ["east", "west"])
        deployment = Deployment(deployment_root, storage_url, logs_url, s3_server, own)
        namespaces: dict[str, NetNamespace | None] = {
            kind: hosts.enter_context(network_namespace()) if fallback is None else None
            for kind in ("east", "west")
        }
        made = Cluster(deployment, {}, {}, namespaces, fallback, bucket, gate)
        # The workers stop before their namespaces go (the ExitStack closes after this).
        try:
            if own is not None:
                own.start()
            for kind in ("east", "west"):
                made.projects[kind] = _worker_folder(
                    deployment_root / kind, tmp_path / f"host-{kind}" / kind, namespaces[kind],
                    broker,
                )  # fmt: skip
                made.workers[kind] = made.start_worker(kind, names[kind])
            yield made
        finally:
            deployment.stop_launches()
            for worker in made.workers.values():
                worker.stop()
            if own is not None:
                own.stop()


def _succeeded(deployment: Deployment) -> set[str]:
    with deployment.instance() as instance:
        runs = instance.get_runs()
        if not runs:
            return set()
        done = instance.get_events(runs[0].run_id, event_types=[EventType.STEP_SUCCESS])
        return {e.step_key for e in done if e.step_key}


def _open_gate(gate: Path) -> None:
    gate.write_text("go")


@pytest.mark.parametrize("cluster", BROKERS, indirect=True)
def test_twenty_assets_across_two_locations_run_on_their_workers_through_s3(
    cluster: Cluster,
    s3_server: S3Server,
) -> None:
    deployment, workers, bucket, gate = (
        cluster.deployment,
        cluster.workers,
        cluster.bucket,
        cluster.gate,
    )
    _open_gate(gate)
    launched = deployment.launch()
    out, err = launched.communicate(timeout=240)
    assert launched.returncode == 0, (out + err).decode()[-6000:]
    with deployment.instance() as instance:
        (run,) = instance.get_runs()
        assert run.status == RunStatus.SUCCESS
        claims = instance.get_step_claims(run.run_id)
        by_worker: dict[str, set[str]] = {}
        for claim in claims:
            by_worker.setdefault(claim.worker_id.split("@")[0], set()).add(claim.step_key)
        east, west = (w.location for w in (workers["east"], workers["west"]))
        assert by_worker[east] == {*(f"e{i}" for i in range(9)), "total"}
        assert by_worker[west] == {f"w{i}" for i in range(10)}
        assert all(c.attempt == 1 for c in claims)
        assert not instance.get_events(run.run_id, event_types=[EventType.STEP_UP_FOR_RETRY])
    keys = s3_server.keys(bucket)
    assert keys == sorted(f"runs/{k}" for k in [*(f"e{i}" for i in range(9)), "total",
                                                 *(f"w{i}" for i in range(10))])  # fmt: skip
    total = s3_server.client().get_object(Bucket=bucket, Key="runs/total")["Body"].read()
    import pickle

    assert pickle.loads(total) == 460
    rows = worker_list(deployment.root, deployment.storage_url)
    live = {r["location"]: r for r in rows if r["status"] == "LIVE"}
    assert set(live) == {workers["east"].location, workers["west"].location}
    assert all(r["queues"] == [r["location"]] for r in live.values())
    _check_compute_logs_and_isolation(cluster, run.run_id, s3_server)


def _check_compute_logs_and_isolation(cluster: Cluster, run_id: str, s3: S3Server) -> None:
    """What the workers' steps printed is served by the deployment's webserver, read from the
    object store (the deployment's disk has none of it); and no worker could reach the
    machine's loopback: not the webserver, not PostgreSQL, only its relay."""
    deployment = cluster.deployment
    assert not (deployment.root / ".bakehouse" / "storage" / run_id / "compute_logs").exists()
    server = start_webserver(deployment.root, deployment.env())
    try:
        with server.http() as http:
            for step, stream, text in [
                ("w3", "stdout", "w3 computes 40\n"),
                ("w3", "stderr", "w3 to stderr\n"),
                ("e0", "stdout", "e0 says hello\n"),
            ]:
                response = http.get(f"/api/runs/{run_id}/logs/{step}", params={"stream": stream})
                assert response.status_code == 200, response.text
                body = response.json()
                assert body["data"] == text, body
                assert body["complete"] is True
        logs_bucket = deployment.logs_url.removeprefix("s3://").split("/")[0]
        assert f"compute-logs/{run_id}/compute_logs/w3.complete" in s3.keys(logs_bucket)
        web_port = int(server.url.rsplit(":", 1)[1])
        for kind, namespace in cluster.namespaces.items():
            if namespace is None:
                continue  # cluster.fallback says why (printed in pytest's output)
            assert not namespace.can_connect("127.0.0.1", web_port), kind
            assert not namespace.can_connect("127.0.0.1", 5432), kind
            assert namespace.can_connect(namespace.host_ip, namespace.forward(5432)), kind
    finally:
        stop_dev_server(server)


@pytest.mark.parametrize("cluster", BROKERS, indirect=True)
def test_a_worker_killed_mid_step_has_its_step_retried_on_another(
    cluster: Cluster,
) -> None:
    deployment, workers, gate = cluster.deployment, cluster.workers, cluster.gate
    west = workers["west"]
    launched = deployment.launch()
    started = Path(str(gate) + ".started")
    eventually(started.exists, message="w5 to start on the west worker", timeout=180)
    eventually(
        lambda: _succeeded(deployment) >= {f"w{i}" for i in range(10) if i != 5},
        message="every west step but w5 to succeed",
        timeout=120,
    )
    # A second west worker, then the first dies with w5 (and only w5) in its hands.
    # (on the west host: its folder and network namespace).
    spare = cluster.start_worker("west", west.location)
    try:
        west.kill()
        _open_gate(gate)
        _out, err = launched.communicate(timeout=240)
        assert launched.returncode == 0, err.decode()[-4000:]
        with deployment.instance() as instance:
            (run,) = instance.get_runs()
            assert run.status == RunStatus.SUCCESS
            retries = instance.get_events(run.run_id, event_types=[EventType.STEP_UP_FOR_RETRY])
            assert [(e.step_key, e.data["attempt"]) for e in retries] == [("w5", 1)]
            assert retries[0].data["error"]["cls_name"] == "WorkerLostError"
            assert "stopped heartbeating" in retries[0].message
            w5 = {c.attempt: c.worker_id for c in instance.get_step_claims(run.run_id)
                  if c.step_key == "w5"}  # fmt: skip
            assert set(w5) == {1, 2}
            assert w5[1] != w5[2]
            assert w5[2].endswith(f":{spare.process.pid}")
            # The second attempt starts as Dagster's do: STEP_RESTARTED, its number in data.
            starts = instance.get_events(run.run_id, event_types=[EventType.STEP_START])
            assert [e.step_key for e in starts].count("w5") == 1
            restarts = instance.get_events(run.run_id, event_types=[EventType.STEP_RESTARTED])
            assert [(e.step_key, e.data["attempt"]) for e in restarts] == [("w5", 2)]
    finally:
        spare.stop()


@pytest.mark.parametrize("cluster", BROKERS, indirect=True)
def test_cancelling_a_run_revokes_its_tasks_and_ends_the_running_step(
    cluster: Cluster,
) -> None:
    deployment, _workers, gate = cluster.deployment, cluster.workers, cluster.gate
    launched = deployment.launch()
    started = Path(str(gate) + ".started")
    eventually(started.exists, message="w5 to start on the west worker", timeout=180)
    launched.send_signal(2)  # Ctrl-C: bh launch cancels its run
    launched.communicate(timeout=120)
    with deployment.instance() as instance:
        (run,) = instance.get_runs()
        assert run.status == RunStatus.CANCELED

    def no_task_left() -> bool:
        rows = worker_list(deployment.root, deployment.storage_url)
        return all(not r["active_steps"] for r in rows if r["status"] == "LIVE")

    eventually(no_task_left, message="workers to drop the run's tasks", timeout=60)

    def w5_terminated() -> bool:
        with deployment.instance() as instance:
            ends = instance.get_events(run.run_id, event_types=[EventType.STEP_FAILURE])
            return any(e.step_key == "w5" and "StepTerminated" in e.message for e in ends)

    # The running step was stopped inside its worker (it waits for a gate nobody opens).
    try:
        eventually(w5_terminated, message="w5 to be terminated in its worker", timeout=60)
    except AssertionError:
        with deployment.instance() as instance:
            events = instance.get_events(run.run_id)
        raise AssertionError(
            "\n".join(f"{e.event_type.value} {e.step_key} {e.message}" for e in events[-15:])
            + "\n"
            + "\n".join(w.log.read_text()[-3000:] for w in _workers.values())
        ) from None
    assert not Path(str(gate)).exists()


@pytest.mark.parametrize("cluster", ["own-redis"], indirect=True)
def test_a_broker_restart_mid_run_leaves_nothing_started(
    cluster: Cluster,
) -> None:
    deployment, workers, gate = cluster.deployment, cluster.workers, cluster.gate
    assert deployment.broker is not None
    launched = deployment.launch()
    started = Path(str(gate) + ".started")
    eventually(started.exists, message="w5 to start on the west worker", timeout=180)
    deployment.broker.stop()
    eventually(
        lambda: "Connection to broker lost" in workers["west"].log.read_text(errors="replace"),
        message="the west worker to notice the broker is gone",
        timeout=60,
    )
    # Back on the same port, empty: what it held (queued tasks, results) is gone.
    deployment.broker.start()
    _open_gate(gate)
    out, err = launched.communicate(timeout=300)
    with deployment.instance() as instance:
        (run,) = instance.get_runs()
        events = instance.get_events(run.run_id)
    assert run.status in (RunStatus.SUCCESS, RunStatus.FAILURE), run.status
    if run.status == RunStatus.FAILURE:
        (failure,) = [e for e in events if e.event_type == EventType.RUN_FAILURE]
        assert "failed:" in failure.message
    ends = {EventType.STEP_SUCCESS, EventType.STEP_FAILURE, EventType.STEP_SKIPPED}
    ended = {e.step_key for e in events if e.event_type in ends}
    begun = {e.step_key for e in events if e.event_type == EventType.STEP_START}
    assert begun <= ended, (begun - ended, (out + err).decode()[-3000:])
