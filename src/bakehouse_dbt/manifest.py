"""Reading a dbt ``manifest.json`` and choosing nodes of it with dbt's own selection syntax."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from bakehouse.errors import DefinitionError

Manifest = Mapping[str, Any]
DbtManifestParam = Mapping[str, Any] | str | os.PathLike[str]

# The dbt resources that become assets; tests become asset checks.
ASSET_RESOURCE_TYPES = ("model", "seed", "snapshot")
DEFAULT_SELECT = "fqn:*"


def read_manifest(manifest: DbtManifestParam) -> Manifest:
    """The manifest given as a dict, or read from a ``manifest.json`` path."""
    if isinstance(manifest, Mapping):
        loaded: Manifest = manifest
    else:
        path = Path(manifest)
        if not path.is_file():
            raise DefinitionError(
                f"dbt manifest {path} does not exist: run `dbt parse` in the dbt project, or "
                "build the manifest with DbtProject(...).prepare_if_dev()"
            )
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise DefinitionError(f"dbt manifest {path} is not JSON: {exc}") from None
    if not isinstance(loaded, Mapping) or "nodes" not in loaded or "child_map" not in loaded:
        raise DefinitionError(
            "the dbt manifest has no 'nodes' or 'child_map': is it manifest.json?"
        )
    return loaded


def node(manifest: Manifest, unique_id: str) -> Mapping[str, Any]:
    """The properties of the node or source `unique_id`."""
    found = manifest["nodes"].get(unique_id) or manifest.get("sources", {}).get(unique_id)
    if found is None:
        raise KeyError(unique_id)
    result: Mapping[str, Any] = found
    return result


def asset_nodes(manifest: Manifest, unique_ids: Iterable[str]) -> list[str]:
    """The ids among `unique_ids` of models, seeds and snapshots (enabled), in manifest order."""
    wanted = set(unique_ids)
    return [
        uid
        for uid, props in manifest["nodes"].items()
        if uid in wanted and props["resource_type"] in ASSET_RESOURCE_TYPES
    ]


def upstream_ids(props: Mapping[str, Any]) -> list[str]:
    """The nodes and sources a node reads."""
    ids: list[str] = list(props.get("depends_on", {}).get("nodes", []) or [])
    return list(dict.fromkeys(ids))


def select_unique_ids(
    manifest: Manifest,
    select: str,
    exclude: str | None = None,
    project_dir: str | os.PathLike[str] | None = None,
) -> set[str]:
    """The unique ids dbt would select with ``--select select --exclude exclude``.

    The default selection (every node, nothing excluded) is answered without dbt, whose
    selector costs seconds to import; any other uses dbt's own graph selector, so ``tag:``,
    ``path:``, ``+model`` and the rest mean exactly what they mean to dbt (``path:`` is
    relative to `project_dir`, default the current folder, as for dbt).
    """
    every = {*manifest["nodes"], *manifest.get("sources", {})}
    if select.strip() in (DEFAULT_SELECT, "*", "") and not (exclude or "").strip():
        return every
    root = Path(project_dir) if project_dir is not None else Path.cwd()
    try:
        from dbt_common.events.contextvars import task_contextvars
    except ImportError:
        # dbt lives in a Python of its own (BAKEHOUSE_DBT_EXECUTABLE): ask it.
        return _select_with_dbt_ls(root, select, exclude)
    with task_contextvars(project_root=str(root)):
        return _select_with_dbt(manifest, select, exclude)


def project_dir_of(manifest: DbtManifestParam) -> Path | None:
    """The dbt project a ``target/manifest.json`` path lies in, if it does."""
    if isinstance(manifest, Mapping):
        return None
    candidate = Path(manifest).resolve().parent.parent
    return candidate if (candidate / "dbt_project.yml").is_file() else None


def _select_with_dbt_ls(project_dir: Path, select: str, exclude: str | None) -> set[str]:
    """The selection as ``dbt ls`` prints it, run in the dbt project `project_dir`."""
    import subprocess

    from bakehouse_dbt.executable import dbt_command, dbt_environment

    if not (project_dir / "dbt_project.yml").is_file():
        raise DefinitionError(
            f"selecting {select!r} needs dbt: give the DbtProject (project=) of the manifest, "
            "or install dbt-core in this Python"
        )
    command = [*dbt_command(), "ls", "--quiet", "--output", "json", "--output-keys", "unique_id"]
    command += ["--resource-type", "all", "--select", select, "--project-dir", str(project_dir)]
    if exclude and exclude.strip():
        command += ["--exclude", exclude]
    if (project_dir / "profiles.yml").is_file():
        command += ["--profiles-dir", str(project_dir)]
    done = subprocess.run(
        command,
        cwd=project_dir,
        env=dbt_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()[-3000:]
        raise DefinitionError(f"dbt ls --select {select!r} failed:\n{output}")
    found: set[str] = set()
    for line in done.stdout.splitlines():
        try:
            found.add(str(json.loads(line)["unique_id"]))
        except (ValueError, KeyError, TypeError):
            continue  # a log line, not a node
    return found


def _select_with_dbt(manifest: Manifest, select: str, exclude: str | None) -> set[str]:
    from argparse import Namespace

    import networkx
    from dbt.contracts.graph.manifest import Manifest as DbtManifest, WritableManifest
    from dbt.flags import set_flags
    from dbt.graph.cli import SelectionDifference, parse_union
    from dbt.graph.graph import Graph
    from dbt.graph.selector import NodeSelector

    # dbt's selector reads its global flags; these are the defaults of `dbt ls`.
    set_flags(Namespace(INDIRECT_SELECTION="eager", WARN_ERROR=None, WARN_ERROR_OPTIONS=None))
    writable = WritableManifest.upgrade_schema_version(dict(manifest))
    dbt_manifest = DbtManifest.from_writable_manifest(writable)
    graph = Graph(networkx.DiGraph(dict(manifest["child_map"])))
    spec: Any = parse_union([select], True)
    if exclude and exclude.strip():
        spec = SelectionDifference(components=[spec, parse_union([exclude], True)])
    selected, _ = NodeSelector(graph, dbt_manifest).select_nodes(spec)
    return set(selected)
