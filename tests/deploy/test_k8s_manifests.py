"""deploy/k8s/: every manifest is valid for Kubernetes K8S_VERSION (kubernetes-validate checks
each document offline against the OpenAPI schemas it bundles, strict: unknown fields are errors),
its references hold together (selectors, Service ports, the ConfigMap and Secret every role
reads), and each role runs exactly the command docs/deploying.md lists, one that `bh` parses.
The multi-host test (tests/support/celery_cluster.py) starts the workers' command with every
option the manifests give it."""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path
from typing import Any

import click
import kubernetes_validate
import pytest
import yaml

from bakehouse.cli import cli

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "deploy" / "k8s"
DEPLOYING = REPO / "docs" / "deploying.md"
CLUSTER_SUPPORT = REPO / "tests" / "support" / "celery_cluster.py"

# The Kubernetes release the manifests are written for (docs/deploying.md says so too).
K8S_VERSION = "1.33.0"


def _documents() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(MANIFESTS.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is not None:
                found.append((f"{path.name}:{doc['kind']}/{doc['metadata']['name']}", doc))
    return found


DOCUMENTS = _documents()
DEPLOYMENTS = {name: doc for name, doc in DOCUMENTS if doc["kind"] == "Deployment"}


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers: list[dict[str, Any]] = deployment["spec"]["template"]["spec"]["containers"]
    (container,) = containers
    return container


def test_the_manifests_are_there() -> None:
    kinds = sorted(doc["kind"] for _, doc in DOCUMENTS)
    assert kinds == ["ConfigMap", "Deployment", "Deployment", "Deployment", "Deployment", "Secret",
                     "Service"]  # fmt: skip


@pytest.mark.parametrize(("name", "doc"), DOCUMENTS, ids=[name for name, _ in DOCUMENTS])
def test_each_document_is_valid_for_the_kubernetes_release(name: str, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_the_validator_rejects_what_the_api_server_would() -> None:
    # The check above must be able to fail: a misspelt field, a wrong type, a missing field.
    deployment = yaml.safe_load((MANIFESTS / "daemon.yaml").read_text())
    misspelt = yaml.safe_load(yaml.safe_dump(deployment))
    misspelt["spec"]["template"]["spec"]["contianers"] = misspelt["spec"]["template"]["spec"].pop(
        "containers"
    )
    wrong_type = yaml.safe_load(yaml.safe_dump(deployment))
    wrong_type["spec"]["replicas"] = "one"
    no_selector = yaml.safe_load(yaml.safe_dump(deployment))
    del no_selector["spec"]["selector"]
    for broken in (misspelt, wrong_type, no_selector):
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_a_deployment_selects_its_own_pods(name: str) -> None:
    # The API server refuses a Deployment whose selector does not match its template's labels;
    # the schema alone does not see it.
    spec = DEPLOYMENTS[name]["spec"]
    labels = spec["template"]["metadata"]["labels"]
    selector = spec["selector"]["matchLabels"]
    assert selector.items() <= labels.items(), name


def test_every_role_reads_the_config_map_and_secret_that_exist() -> None:
    defined = {(doc["kind"], doc["metadata"]["name"]) for _, doc in DOCUMENTS}
    for name, deployment in DEPLOYMENTS.items():
        sources = _container(deployment)["envFrom"]
        refs = {("ConfigMap", s["configMapRef"]["name"]) for s in sources if "configMapRef" in s}
        refs |= {("Secret", s["secretRef"]["name"]) for s in sources if "secretRef" in s}
        assert refs == {("ConfigMap", "bakehouse"), ("Secret", "bakehouse")}, name
        assert refs <= defined, name
    # Every role needs the storage URL (PostgreSQL: the one thing all processes share).
    (secret,) = [doc for _, doc in DOCUMENTS if doc["kind"] == "Secret"]
    assert secret["stringData"]["BAKEHOUSE_STORAGE_URL"].startswith("postgresql+psycopg://")


def test_the_service_reaches_the_webserver_port() -> None:
    (service,) = [doc for _, doc in DOCUMENTS if doc["kind"] == "Service"]
    wanted = service["spec"]["selector"].items()
    selected = [
        d
        for d in DEPLOYMENTS.values()
        if wanted <= d["spec"]["template"]["metadata"]["labels"].items()
    ]
    assert [d["metadata"]["name"] for d in selected] == ["bakehouse-webserver"]
    container = _container(selected[0])
    ports = {p["containerPort"] for p in container["ports"]}
    (target,) = {p["targetPort"] for p in service["spec"]["ports"]}
    assert target in ports
    command = container["command"]
    assert int(command[command.index("--port") + 1]) == target


def _documented_commands() -> dict[str, str]:
    """docs/deploying.md's table of processes: role -> the command in its second column."""
    commands = {}
    for line in DEPLOYING.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[1].startswith("`bh "):
            commands[cells[0].split(" (")[0]] = cells[1].strip("`")
    return commands


def _usage_pattern(usage: str) -> re.Pattern[str]:
    """A documented usage as a pattern: `[...]` optional, an UPPER-CASE word any one value."""
    parts = []
    for token in re.findall(r"\[|\]|[^\s\[\]]+", usage):
        if token == "[":
            parts.append("(?:")
        elif token == "]":
            parts.append(")?")
        elif re.fullmatch(r"[A-Z]+", token):
            parts.append(r" \S+")
        else:
            parts.append(" " + re.escape(token))
    # Matched against the command line with a space before it: every word follows a space.
    return re.compile("".join(parts))


def _matches(usage: re.Pattern[str], argv: list[str]) -> bool:
    return usage.fullmatch(" " + shlex.join(argv)) is not None


def _manifest_commands() -> dict[str, list[list[str]]]:
    by_role: dict[str, list[list[str]]] = {}
    for deployment in DEPLOYMENTS.values():
        role = deployment["spec"]["template"]["metadata"]["labels"]["role"]
        by_role.setdefault(role, []).append(_container(deployment)["command"])
    return by_role


def test_the_docs_list_the_commands_the_manifests_run() -> None:
    documented = _documented_commands()
    assert set(documented) == {"webserver", "daemon", "step workers, per location"}
    manifests = _manifest_commands()
    assert set(manifests) == {"webserver", "daemon", "worker"}
    # The webserver and the daemon: the very same words.
    assert manifests["webserver"] == [shlex.split(documented["webserver"])]
    assert manifests["daemon"] == [shlex.split(documented["daemon"])]
    # The workers: the documented usage, for the location the Deployment is labelled with.
    usage = _usage_pattern(documented["step workers, per location"])
    for deployment in DEPLOYMENTS.values():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        if labels["role"] != "worker":
            continue
        command = _container(deployment)["command"]
        assert _matches(usage, command), (shlex.join(command), usage.pattern)
        assert command[command.index("--location") + 1] == labels["location"]


def test_the_usage_pattern_matches_only_the_documented_form() -> None:
    usage = _usage_pattern("bh worker start --location NAME [-q QUEUE] [--concurrency N]")
    assert _matches(usage, shlex.split("bh worker start --location a --concurrency 4"))
    assert _matches(usage, shlex.split("bh worker start --location a -q gpu --concurrency 4"))
    assert _matches(usage, shlex.split("bh worker start --location a"))
    assert not _matches(usage, shlex.split("bh worker start --concurrency 4"))
    assert not _matches(usage, shlex.split("bh worker start --location a --threads 4"))
    assert not _matches(usage, shlex.split("bh worker start --location a --concurrency"))


def _parse_with_bh(argv: list[str]) -> click.Context:
    """Parse a command line with bh's own CLI (no command runs): unknown commands, options or
    bad values raise click's errors."""
    assert argv[0] == "bh", argv
    command: click.Command = cli
    ctx = click.Context(cli, info_name="bh")
    args = argv[1:]
    while isinstance(command, click.Group):
        found = command.get_command(ctx, args[0])
        assert found is not None, f"bh has no command {args[0]!r} ({argv})"
        ctx = click.Context(found, info_name=args[0], parent=ctx)
        command, args = found, args[1:]
    return command.make_context(ctx.info_name, args, parent=ctx.parent)


@pytest.mark.parametrize("role", ["webserver", "daemon", "worker"])
def test_bh_accepts_each_manifest_command(role: str) -> None:
    for command in _manifest_commands()[role]:
        ctx = _parse_with_bh(command)
        if role == "worker":
            assert ctx.params["concurrency"] == int(command[command.index("--concurrency") + 1])
        if role == "webserver":
            assert ctx.params["auth"] is True


def test_bh_would_refuse_a_misspelt_command() -> None:
    with pytest.raises(click.NoSuchOption):
        _parse_with_bh(["bh", "worker", "start", "--locaton", "bakery"])


def _cluster_worker_argv() -> list[str]:
    """The string words of the `bh worker start` command line the multi-host test starts."""
    tree = ast.parse(CLUSTER_SUPPORT.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.List):
            words = [e.value for e in node.elts if isinstance(e, ast.Constant)]
            if words[:2] == ["worker", "start"]:
                return [w for w in words if isinstance(w, str)]
    raise AssertionError(f"{CLUSTER_SUPPORT} starts no `bh worker start`")


def test_the_multi_host_test_starts_the_workers_command() -> None:
    started = _cluster_worker_argv()
    started_options = {w for w in started if w.startswith("-")}
    for command in _manifest_commands()["worker"]:
        assert command[1:3] == started[:2]
        options = {w for w in command if w.startswith("-")}
        assert options <= started_options, (command, started)
