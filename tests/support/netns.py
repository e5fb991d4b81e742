"""Other hosts on one machine: a network namespace per host, made with iproute2, whose only way
out is a veth pair to this machine, and a relay that brings the machine's loopback services to
the veth's address.

Inside a namespace, 127.0.0.1 is the namespace's own loopback: PostgreSQL, Redis, RabbitMQ and
moto (which listen on 127.0.0.1 only, and the tests may not reconfigure them) are out of reach,
as they would be from another machine. A `TcpRelay` in the test process listens on the host end
of the veth (10.x.y.1) and copies each connection to 127.0.0.1:PORT, so a process in the
namespace reaches exactly the services the test forwards, at 10.x.y.1, and nothing else.

Names and subnets are unique per machine (a random suffix; the subnet chosen under a file lock
among those no link uses), so parallel test processes do not collide. Everything is removed when
the block ends, whatever happened in it.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import random
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

# Taken while choosing a subnet and making the links, by every test process on this machine.
_LOCK = Path("/tmp/bakehouse-netns.lock")
_RELAY_CHUNK = 64 * 1024


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check, timeout=30)


@cache
def unavailable_reason() -> str | None:
    """Why this machine cannot give the tests network namespaces, or None when it can (probed
    once per process: ``ip netns add`` of a throw-away name). ``BAKEHOUSE_TEST_NETNS=off``
    runs the tests without them, to check that path."""
    if os.environ.get("BAKEHOUSE_TEST_NETNS") == "off":
        return "BAKEHOUSE_TEST_NETNS=off (asked to run without them)"
    if sys.platform != "linux":
        return f"network namespaces are Linux's; this is {sys.platform}"
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed (apt-get install iproute2)"
    if os.geteuid() != 0:
        return (
            "`ip netns add` needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN); tests run as uid "
            + str(os.geteuid())
        )
    probe = f"bhprobe{os.getpid()}"
    made = _ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"`ip netns add` failed here: {made.stderr.strip()}"
    _ip("netns", "del", probe, check=False)
    return None


class TcpRelay:
    """Copies TCP connections from listening addresses to ports on 127.0.0.1, in a thread of
    its own (an asyncio loop), until closed."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="netns-relay", daemon=True
        )
        self._thread.start()
        self._servers: list[asyncio.Server] = []
        self._open: set[asyncio.StreamWriter] = set()

    def forward(self, listen_host: str, target_port: int) -> int:
        """Listen on `listen_host` (the same port number as `target_port` when it is free
        there, else any) and relay to 127.0.0.1:`target_port`; returns the listening port."""
        future = asyncio.run_coroutine_threadsafe(
            self._listen(listen_host, target_port), self._loop
        )
        return future.result(timeout=30)

    async def _listen(self, host: str, target_port: int) -> int:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target_port)
            except OSError:
                # The service is down (a broker being restarted): the client sees the
                # connection close, as it would if it had connected to it directly.
                writer.close()
                return
            self._open.update((writer, up_writer))
            await asyncio.gather(
                self._copy(reader, up_writer, writer), self._copy(up_reader, writer, up_writer)
            )

        for port in (target_port, 0):
            try:
                server = await asyncio.start_server(handle, host, port)
            except OSError:
                continue
            self._servers.append(server)
            return int(server.sockets[0].getsockname()[1])
        raise OSError(f"cannot listen on {host}")

    async def _copy(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        other: asyncio.StreamWriter,
    ) -> None:
        """Copy until either side ends, then close both: a connection lost on one side is lost
        on the other, as it would be without the relay."""
        try:
            while data := await reader.read(_RELAY_CHUNK):
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            for end in (writer, other):
                self._open.discard(end)
                end.close()

    def close(self) -> None:
        """Stop listening, drop every open connection and end the thread."""

        async def shut() -> None:
            for server in self._servers:
                server.close()
            for writer in list(self._open):
                writer.transport.abort()
            self._open.clear()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(shut(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


@dataclass
class NetNamespace:
    """One namespace: `ns_ip` inside, `host_ip` on this machine's end of its veth pair."""

    name: str
    host_link: str
    host_ip: str
    ns_ip: str
    relay: TcpRelay
    # 127.0.0.1 port -> the relay's port on host_ip.
    forwarded: dict[int, int] = field(default_factory=dict)

    def exec_prefix(self) -> list[str]:
        """Prepend to a command to run it inside the namespace (``ip netns exec`` execs the
        command: it keeps the pid, so signals and process groups work as without it)."""
        return ["ip", "netns", "exec", self.name]

    def forward(self, port: int) -> int:
        """Make 127.0.0.1:`port` reachable from inside at `host_ip`; returns the port there."""
        if port not in self.forwarded:
            self.forwarded[port] = self.relay.forward(self.host_ip, port)
        return self.forwarded[port]

    def reach(self, url: str) -> str:
        """`url` (a service on 127.0.0.1 or localhost) as a process inside reaches it: through
        the relay at `host_ip`. Other URLs are returned as they are."""
        parts = urlsplit(url)
        if parts.hostname not in ("127.0.0.1", "localhost") or parts.port is None:
            return url
        port = self.forward(parts.port)
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo}@" if userinfo else ""
        return urlunsplit(parts._replace(netloc=f"{netloc}{self.host_ip}:{port}"))

    def can_connect(self, host: str, port: int) -> bool:
        """Whether a TCP connection from inside the namespace to `host`:`port` succeeds."""
        code = (
            "import socket,sys\n"
            "try:\n"
            f"    socket.create_connection(({host!r}, {port}), timeout=3).close()\n"
            "except OSError:\n"
            "    sys.exit(1)\n"
        )
        done = subprocess.run(
            [*self.exec_prefix(), sys.executable, "-c", code], capture_output=True, timeout=60
        )
        return done.returncode == 0


def _used_subnets() -> set[tuple[int, int]]:
    out = _ip("-o", "-4", "addr", "show").stdout
    used: set[tuple[int, int]] = set()
    for word in out.split():
        if word.startswith("10."):
            octets = word.split("/")[0].split(".")
            used.add((int(octets[1]), int(octets[2])))
    return used


def _make(name: str, host_link: str, ns_link: str) -> tuple[str, str]:
    """Create the namespace and its veth pair on a free 10.x.y.0/30; returns (host, ns) IPs."""
    _LOCK.touch(exist_ok=True)
    with _LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        used = _used_subnets()
        while True:
            subnet = (random.randint(200, 250), random.randint(0, 255))
            if subnet not in used:
                break
        host_ip, ns_ip = f"10.{subnet[0]}.{subnet[1]}.1", f"10.{subnet[0]}.{subnet[1]}.2"
        _ip("netns", "add", name)
        _ip("link", "add", host_link, "type", "veth", "peer", "name", ns_link)
        _ip("link", "set", ns_link, "netns", name)
        _ip("addr", "add", f"{host_ip}/30", "dev", host_link)
        _ip("link", "set", host_link, "up")
    _ip("-n", name, "addr", "add", f"{ns_ip}/30", "dev", ns_link)
    _ip("-n", name, "link", "set", ns_link, "up")
    _ip("-n", name, "link", "set", "lo", "up")
    return host_ip, ns_ip


def _remove(name: str, host_link: str) -> None:
    # Deleting one end of a veth pair deletes both; the namespace goes once no process is in it.
    _ip("link", "del", host_link, check=False)
    _ip("netns", "del", name, check=False)


@contextmanager
def network_namespace() -> Iterator[NetNamespace]:
    """A fresh namespace with its veth pair and relay for the block; all removed after it (stop
    the processes inside first: a namespace lives as long as a process is in it)."""
    suffix = os.urandom(4).hex()
    name, host_link, ns_link = f"bh-{suffix}", f"bhh{suffix}", f"bhn{suffix}"
    relay: TcpRelay | None = None
    try:
        host_ip, ns_ip = _make(name, host_link, ns_link)
        relay = TcpRelay()
        yield NetNamespace(name, host_link, host_ip, ns_ip, relay)
    finally:
        if relay is not None:
            relay.close()
        _remove(name, host_link)


def namespace_exists(name: str) -> bool:
    """Whether ``ip netns list`` still shows `name` (for tests of the cleanup)."""
    return any(line.split()[0] == name for line in _ip("netns", "list").stdout.splitlines() if line)


def link_exists(name: str) -> bool:
    """Whether this machine still has a link named `name`."""
    return _ip("link", "show", name, check=False).returncode == 0
