"""``bh dev``: the whole deployment on this machine: UI, API, run queue, one server per location."""

from __future__ import annotations

import signal
import socket
import threading
import time

import click

from bakehouse.cli.context import load_workspace, open_instance, workspace_targets
from bakehouse.cli.output import console
from bakehouse.project.workspace import Workspace
from bakehouse.web.access import AccessPolicy, is_loopback, split_host


def _check_port_free(host: str, port: int) -> None:
    if port == 0:
        return
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise click.ClickException(
                f"cannot listen on {host}:{port} ({exc.strerror}); is another bh dev running? "
                "Pick another port with --port."
            ) from None


_host = click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
_port = click.option(
    "--port", default=3000, show_default=True, help="Port to listen on (0: any free)."
)


def _check_hosts(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...]:
    for entry in value:
        if split_host(entry) is None:
            raise click.BadParameter(f"{entry!r} is not a host name or name:port")
    return value


_allowed_host = click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    callback=_check_hosts,
    help="Another name the server answers to (NAME for any port, or NAME:PORT); repeatable. "
    "It always answers to localhost, 127.0.0.1, [::1] and the --host address on its port.",
)
_auth = click.option(
    "--auth",
    is_flag=True,
    help="Require a token (bh token create) on loopback too; always on for other addresses.",
)
_limit = click.option(
    "--max-concurrent-runs",
    type=click.IntRange(min=1),
    default=None,
    help="Runs in progress at once [default: run_queue.max_concurrent_runs in the settings, "
    "else 10].",
)


@click.command()
@_host
@_port
@click.option("--no-reload", is_flag=True, help="Do not reload a location when its files change.")
@_limit
@_allowed_host
@_auth
def dev(
    host: str,
    port: int,
    no_reload: bool,
    max_concurrent_runs: int | None,
    allowed_hosts: tuple[str, ...],
    auth: bool,
) -> None:
    """Start the UI, the API and the run queue, with one code server per location; reload a
    location when its files change.

    Stops every process it started on Ctrl-C or SIGTERM.
    """
    serve_deployment(
        _access(host, allowed_hosts, auth),
        port,
        watch=not no_reload,
        max_concurrent_runs=max_concurrent_runs,
    )


@click.command()
@_host
@_port
@_limit
@click.option(
    "--daemon/--no-daemon",
    "with_daemon",
    default=False,
    show_default=True,
    help="Also run the daemon loops here (then run no separate bh daemon).",
)
@_allowed_host
@_auth
def webserver(
    host: str,
    port: int,
    max_concurrent_runs: int | None,
    with_daemon: bool,
    allowed_hosts: tuple[str, ...],
    auth: bool,
) -> None:
    """Serve the UI and API with the code locations, without watching files, as on a server.

    Runs it queues are started by bh daemon (one per instance), unless --daemon.
    """
    serve_deployment(
        _access(host, allowed_hosts, auth),
        port,
        watch=False,
        max_concurrent_runs=max_concurrent_runs,
        daemon=with_daemon,
    )


def _access(host: str, allowed_hosts: tuple[str, ...], auth: bool) -> AccessPolicy:
    """Tokens are required when asked for, and whenever the address is not loopback."""
    return AccessPolicy(
        bound_host=host, allowed_hosts=allowed_hosts, auth=auth or not is_loopback(host)
    )


def _require_tokens(workspace: Workspace, access: AccessPolicy) -> None:
    """Refuse to serve with authentication on while no token exists: nobody could get in (with
    --auth), or, worse, the address would be open to anyone who can reach it."""
    with open_instance(workspace) as instance:
        if instance.has_api_tokens():
            return
    if is_loopback(access.bound_host):
        reason = "--auth needs at least one token, and this deployment has none"
    else:
        reason = (
            f"listening on {access.bound_host} lets other machines reach this deployment, "
            "and it has no API token, so anyone there could launch runs"
        )
    raise click.ClickException(
        f"{reason}. Create one first with: bh token create NAME (then send it as "
        "'Authorization: Bearer TOKEN', or log in with it in the UI). See docs/security.md."
    )


@click.command()
@_limit
def daemon(max_concurrent_runs: int | None) -> None:
    """Run the scheduler, the sensors, the run queue and run monitoring, with one code server
    per location, until Ctrl-C or SIGTERM. Run one per instance."""
    from bakehouse.host.deployment import Deployment

    workspace = load_workspace()
    out = console()
    instance = open_instance(workspace)
    deployment = Deployment(workspace, instance, max_concurrent_runs=max_concurrent_runs)
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    deployment.start()
    out.print(f"Daemon running for {workspace.root} (Ctrl-C to stop)")
    threading.Thread(target=_report_locations, args=(deployment, out), daemon=True).start()
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        out.print("Stopping the daemon…")
        deployment.stop()
        instance.close()


def serve_deployment(
    access: AccessPolicy,
    port: int,
    *,
    watch: bool,
    max_concurrent_runs: int | None,
    daemon: bool = True,
) -> None:
    """Run a deployment of the workspace here until Ctrl-C or SIGTERM, then stop all of it."""
    workspace = load_workspace()
    host = access.bound_host
    if access.auth:
        _require_tokens(workspace, access)
    _check_port_free(host, port)
    from bakehouse.web.body_limit import configured_limit

    configured_limit()  # a bad setting stops us before any process starts
    # The code servers start first: they load user code in their own processes while this one
    # spends most of its start-up importing the web stack and storage (SQLAlchemy, FastAPI).
    from bakehouse.host.supervisor import LocationSupervisor

    supervisor = LocationSupervisor(
        workspace_targets(workspace).values(),
        allow_duplicate_asset_keys=workspace.allow_duplicate_asset_keys,
    )
    supervisor.start(wait=False)
    try:
        import uvicorn

        from bakehouse.host.deployment import Deployment
        from bakehouse.web.app import create_app

        instance = open_instance(workspace)
    except BaseException:
        supervisor.stop()
        raise
    out = console()
    deployment = Deployment(
        workspace,
        instance,
        watch=watch,
        max_concurrent_runs=max_concurrent_runs,
        daemon=daemon,
        supervisor=supervisor,
    )
    app = create_app(deployment, access)
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    )
    names = ", ".join(p.location_name for p in workspace.projects)
    out.print(f"Starting bakehouse for {workspace.root} ({names})")
    if access.auth:
        out.print("Tokens required (bh token create / list / revoke)")

    def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            time.sleep(0.02)
        bound = server.servers[0].sockets[0].getsockname()
        url = f"http://{bound[0]}:{bound[1]}"
        deployment.write_deployment_file(url)
        out.print(f"[green]Serving[/] [bold]{url}[/]  (Ctrl-C to stop)")
        threading.Thread(target=_report_locations, args=(deployment, out), daemon=True).start()

    deployment.start(wait_for_locations=False)
    threading.Thread(target=announce, daemon=True).start()
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then raises the signal again; our handler
    # turns that into an exception so the deployment below is stopped before we exit.
    previous = signal.signal(signal.SIGTERM, _raise_stop)
    try:
        server.run()
    except (_Stop, KeyboardInterrupt):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        out.print("Stopping code servers and runs…")
        deployment.stop()
        instance.close()
        out.print("Stopped.")


class _Stop(BaseException):
    """Raised by the SIGTERM handler once the web server has shut down."""


def _raise_stop(signum: int, frame: object) -> None:
    raise _Stop


def _report_locations(deployment: object, out: object) -> None:
    """Print each location's outcome once it has loaded or failed."""
    from rich.console import Console
    from rich.markup import escape

    from bakehouse.host.deployment import Deployment
    from bakehouse.host.supervisor import LocationStatus

    assert isinstance(deployment, Deployment)
    assert isinstance(out, Console)
    reported: set[str] = set()
    while len(reported) < len(deployment.targets):
        for state in deployment.locations():
            if state.name in reported or state.status == LocationStatus.LOADING:
                continue
            reported.add(state.name)
            if state.status == LocationStatus.LOADED:
                out.print(f"  [green]✓[/] {state.name}: {state.asset_count} assets")
            elif state.status == LocationStatus.LOADED_WITH_ERRORS and state.snapshot:
                out.print(
                    f"  [yellow]![/] {state.name}: {state.asset_count} assets, "
                    f"{len(state.snapshot.module_errors)} modules failed to load"
                )
                for error in state.snapshot.module_errors:
                    out.print(f"      {escape(error.where)}: {escape(error.error.message)}")
                out.print("      the rest serves; fix them and reload")
            else:
                message = state.error.message if state.error else "failed"
                out.print(f"  [red]✗[/] {state.name}: {message}")
        time.sleep(0.1)
