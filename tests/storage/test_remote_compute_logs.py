"""Compute logs in object storage (``BAKEHOUSE_COMPUTE_LOGS_URL``), on moto's S3 server: a step
captured in one process and uploaded (`uploading_logs`) is read by another host's reader from
the store, by offset, live with an upload interval, and deleted with its run.

Capture swaps descriptors 1 and 2, so each capture runs in a Python of its own; the reads run
here, with fsspec's S3 settings pointed at moto as the environment variables would.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bakehouse.storage.compute_logs import ComputeIOType, LocalComputeLogManager
from bakehouse.storage.remote_compute_logs import (
    ENV_COMPUTE_LOGS_URL,
    ENV_UPLOAD_INTERVAL,
    LocalThenRemoteComputeLogManager,
    compute_log_manager,
    upload_interval,
)
from tests.support.s3 import ACCESS_KEY, REGION, SECRET_KEY, S3Server
from tests.support.waiting import eventually

OUT, ERR = ComputeIOType.STDOUT, ComputeIOType.STDERR


@pytest.fixture
def logs_url(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket's URL as BAKEHOUSE_COMPUTE_LOGS_URL, with fsspec's S3 settings (here and
    in the capturing processes) pointing at moto."""
    import fsspec.config  # type: ignore[import-untyped]

    options = {"endpoint_url": s3_server.endpoint_url, "key": ACCESS_KEY, "secret": SECRET_KEY}
    monkeypatch.setitem(fsspec.config.conf, "s3", options)
    url = f"s3://{s3_server.new_bucket()}/compute-logs"
    monkeypatch.setenv(ENV_COMPUTE_LOGS_URL, url)
    monkeypatch.setenv("FSSPEC_S3_ENDPOINT_URL", s3_server.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    return url


def _worker(base: Path, body: str) -> subprocess.Popen[str]:
    """Capture step ``talk`` of run ``r1`` under `base` in a new Python, uploading it to the
    store the environment names (as a Celery worker does)."""
    script = textwrap.dedent(
        """\
        import os, sys, time
        from pathlib import Path
        from bakehouse.execution.compute_log_upload import uploading_logs
        from bakehouse.execution.compute_logs import capture_logs
        from bakehouse.storage.compute_logs import LocalComputeLogManager
        from bakehouse.storage.remote_compute_logs import remote_compute_logs, upload_interval

        local = LocalComputeLogManager(Path(sys.argv[1]))
        with uploading_logs(local, remote_compute_logs(), "r1", "talk", interval=upload_interval()):
            with capture_logs(local, "r1", "talk"):
        {body}
        print("after the step")
        """
    ).format(body=textwrap.indent(textwrap.dedent(body), "        "))
    return subprocess.Popen(
        [sys.executable, "-c", script, str(base)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen[str]) -> tuple[str, str]:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return out, err


def test_a_step_captured_elsewhere_is_read_from_the_store_by_offset(
    tmp_path: Path, logs_url: str, s3_server: S3Server
) -> None:
    worker_dir, host_dir = tmp_path / "worker", tmp_path / "host"
    out, _err = _finish(
        _worker(worker_dir, 'print("héllo wörld")\nprint("oops", file=sys.stderr)\n')
    )
    assert out == "after the step\n"

    manager = compute_log_manager(host_dir)
    assert isinstance(manager, LocalThenRemoteComputeLogManager)
    assert manager.has_logs("r1", "talk")
    assert manager.is_capture_complete("r1", "talk")
    whole = manager.get_log_data("r1", "talk", OUT)
    assert (whole.data, whole.size, whole.complete) == ("héllo wörld\n", 14, True)
    assert manager.get_log_data("r1", "talk", ERR).data == "oops\n"
    # Read 3 bytes at a time: no character is cut, the chunks join into the text.
    text, offset = "", 0
    while offset < whole.size:
        chunk = manager.get_log_data("r1", "talk", OUT, offset=offset, max_bytes=3)
        text, offset = text + chunk.data, chunk.next_offset
    assert text == "héllo wörld\n"
    assert not manager.has_logs("r1", "other")
    assert manager.get_log_data("r1", "other", OUT).exists is False
    assert not host_dir.exists()  # read from the store, nothing written here

    bucket = logs_url.removeprefix("s3://").split("/")[0]
    assert s3_server.keys(bucket) == [
        f"compute-logs/r1/compute_logs/talk{ext}" for ext in (".complete", ".err", ".out")
    ]
    manager.delete_logs("r1")
    assert s3_server.keys(bucket) == []


def test_with_an_upload_interval_a_running_step_is_readable_before_it_ends(
    tmp_path: Path, logs_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_UPLOAD_INTERVAL, "0.2")
    gate = tmp_path / "gate"
    process = _worker(
        tmp_path / "worker",
        f'print("first")\nwhile not os.path.exists({str(gate)!r}):\n    time.sleep(0.05)\n'
        'print("second")\n',
    )
    manager = compute_log_manager(tmp_path / "host")
    try:
        eventually(
            lambda: manager.get_log_data("r1", "talk", OUT).data == "first\n",
            message="the running step's first line in the store",
            timeout=60,
        )
        assert not manager.is_capture_complete("r1", "talk")
    finally:
        gate.write_text("go")
    _finish(process)
    chunk = manager.get_log_data("r1", "talk", OUT)
    assert (chunk.data, chunk.complete) == ("first\nsecond\n", True)


def test_a_failed_upload_is_reported_and_the_step_keeps_its_local_logs(
    tmp_path: Path, logs_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_COMPUTE_LOGS_URL, "s3://no-such-bucket-here/compute-logs")
    _out, err = _finish(_worker(tmp_path / "worker", 'print("kept")\n'))
    assert "uploading the compute logs of step 'talk' (run r1) to s3://no-such-bucket" in err
    local = LocalComputeLogManager(tmp_path / "worker")
    assert local.get_log_data("r1", "talk", OUT).data == "kept\n"


def test_without_a_url_compute_logs_are_local_files_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_COMPUTE_LOGS_URL, raising=False)
    assert type(compute_log_manager(tmp_path)) is LocalComputeLogManager
    monkeypatch.setenv(ENV_UPLOAD_INTERVAL, "soon")
    with pytest.raises(ValueError, match="BAKEHOUSE_COMPUTE_LOGS_UPLOAD_INTERVAL must be a number"):
        upload_interval()
    monkeypatch.setenv(ENV_UPLOAD_INTERVAL, "0")
    with pytest.raises(ValueError, match="must be above 0"):
        upload_interval()
