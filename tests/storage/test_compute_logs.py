"""The compute logs' layout under the storage folder: reads by byte offset, paths that stay in
their folder, the steps of a run in start order, and deletion with the run."""

from __future__ import annotations

from pathlib import Path

from bakehouse.storage import Instance
from bakehouse.storage.compute_logs import ComputeIOType, LocalComputeLogManager, started_steps
from bakehouse.storage.records import EventRecord, EventType, RunRecord

OUT = ComputeIOType.STDOUT


def test_reads_by_offset_never_split_a_character(tmp_path: Path) -> None:
    manager = LocalComputeLogManager(tmp_path)
    path = manager.log_path("r1", "talk", OUT)
    path.parent.mkdir(parents=True)
    path.write_bytes("añ€😀z".encode())  # 1, 2, 3, 4 and 1 bytes

    pieces, offset = [], 0
    while True:
        chunk = manager.get_log_data("r1", "talk", OUT, offset, max_bytes=2)
        if chunk.next_offset == offset:
            chunk = manager.get_log_data("r1", "talk", OUT, offset, max_bytes=4)
            if chunk.next_offset == offset:
                break
        pieces.append(chunk.data)
        offset = chunk.next_offset

    assert "".join(pieces) == "añ€😀z"
    assert all("\ufffd" not in p for p in pieces)
    assert manager.get_log_data("r1", "talk", OUT, 10_000).data == ""
    missing = manager.get_log_data("r1", "other", OUT)
    assert (missing.exists, missing.data) == (False, "")


def test_step_keys_and_run_ids_stay_inside_the_run_folder(tmp_path: Path) -> None:
    manager = LocalComputeLogManager(tmp_path)
    path = manager.log_path("../../etc", "../passwd", OUT)
    assert path.resolve().is_relative_to(tmp_path.resolve())
    assert path.parent.name == "compute_logs"
    assert manager.log_path("r1", "graph.op_1", OUT).name == "graph.op_1.out"


def test_started_steps_are_in_start_order() -> None:
    def start(step: str) -> EventRecord:
        return EventRecord(
            run_id="r", event_type=EventType.STEP_START, timestamp=0, message="", step_key=step
        )

    events = [start("b"), start("a"), start("b")]
    assert started_steps(events) == ["b", "a"]


def test_deleting_a_run_deletes_its_compute_logs(instance: Instance) -> None:
    manager = LocalComputeLogManager(instance.storage_dir)
    for run_id in ("r1", "r2"):
        instance.create_run(RunRecord(run_id=run_id))
        path = manager.log_path(run_id, "talk", OUT)
        path.parent.mkdir(parents=True)
        path.write_text("hello\n")

    instance.delete_run("r1")

    assert not manager.has_logs("r1", "talk")
    assert not (instance.storage_dir / "r1").exists()
    assert manager.get_log_data("r2", "talk", OUT).data == "hello\n"
