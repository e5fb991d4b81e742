"""The multi-host tests' network namespaces (`tests.support.netns`): a process inside reaches
the machine's services only through the relay, and the namespace, its links and the relay are
gone after the block, also when the block failed."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading

import pytest

from tests.support.netns import (
    link_exists,
    namespace_exists,
    network_namespace,
    unavailable_reason,
)

pytestmark = pytest.mark.skipif(
    unavailable_reason() is not None, reason=f"no network namespaces: {unavailable_reason()}"
)


def _echo_server() -> tuple[socket.socket, int]:
    """A loopback server answering each connection with what it received, upper-cased."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.sendall(conn.recv(1024).upper())

    threading.Thread(target=serve, daemon=True).start()
    return server, int(server.getsockname()[1])


def test_inside_only_the_relayed_services_are_reachable() -> None:
    server, port = _echo_server()
    try:
        with network_namespace() as ns:
            assert not ns.can_connect("127.0.0.1", port)
            relayed = ns.forward(port)
            assert ns.reach(f"redis://127.0.0.1:{port}/7") == f"redis://{ns.host_ip}:{relayed}/7"
            code = (
                "import socket\n"
                f"s = socket.create_connection(({ns.host_ip!r}, {relayed}), timeout=10)\n"
                "s.sendall(b'ping'); print(s.recv(16).decode())\n"
            )
            done = subprocess.run(
                [*ns.exec_prefix(), sys.executable, "-c", code],
                capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            assert done.stdout == "PING\n", done.stderr
            # A loopback service the test did not forward is not reachable at that address.
            other, other_port = _echo_server()
            try:
                assert not ns.can_connect(ns.host_ip, other_port)
            finally:
                other.close()
    finally:
        server.close()


def test_everything_is_removed_after_a_failed_block() -> None:
    made: list[tuple[str, str]] = []

    def fail_inside() -> None:
        with network_namespace() as ns:
            made.append((ns.name, ns.host_link))
            assert namespace_exists(ns.name)
            assert link_exists(ns.host_link)
            raise RuntimeError("the test failed")

    with pytest.raises(RuntimeError, match="the test failed"):
        fail_inside()
    ((name, link),) = made
    assert not namespace_exists(name)
    assert not link_exists(link)
