"""Free TCP ports for the listeners of the tests and the benchmarks (enoki, extra RabbitMQ nodes,
the hostile harness, bench/run.sh: `python3 tests/integration/ports.py N` prints N distinct ones).

A port the kernel hands out for bind(("127.0.0.1", 0)) comes from the ephemeral range, the same
range every outgoing connection takes its local port from. Between the test closing its probe and
the listener binding the port, one of the many connections the other tests open (make check and
make valgrind run side by side in CI, each with two pytest workers) may take it, and the listener
fails with "Address already in use" (seen in CI). The kernel never gives out a port below the
range for outgoing connections, so the ports chosen here come from there.

Two test processes may still draw the same port within the seconds before either listener binds it
(under valgrind an enoki takes seconds to start; a RabbitMQ node tens of seconds): the second
listener would fail, or, worse, the second test would find the first one's listener and talk to the
wrong server. So a port chosen is also reserved for every other process, with a file in a shared
directory created exclusively, for _HOLD_SECONDS (by then its listener holds it, which the bind
check sees); a process that imported this module removes its reservations when it exits.
"""

import atexit
import errno
import fcntl
import os
import random
import socket
import sys
import tempfile
import time
from pathlib import Path

_LOWEST = 10000
_HOLD_SECONDS = 600
_RESERVED = Path(tempfile.gettempdir()) / "enoki-test-ports"
_rng = random.Random()   # seeded from the OS: parallel test processes draw different ports
_mine = []               # this process's reservations: (path, inode)


def _ephemeral_low():
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(port):
    """Whether a listener could take port on every address, IPv6 (a node listens on "::") and
    IPv4 (a machine with net.ipv6.bindv6only set keeps the two apart)."""
    for family, address in ((socket.AF_INET6, "::"), (socket.AF_INET, "0.0.0.0")):
        try:
            with socket.socket(family) as s:
                s.bind((address, port))
        except OSError as e:
            if family == socket.AF_INET6 and e.errno == errno.EAFNOSUPPORT:
                continue
            return False
    return True


def _reservations():
    """The shared directory, writable by every user (the image check runs as root beside the
    tests), or None where it cannot be had: then ports go unreserved, as before."""
    try:
        _RESERVED.mkdir(mode=0o1777, exist_ok=True)
        if _RESERVED.stat().st_uid == os.getuid():
            os.chmod(_RESERVED, 0o1777)  # mkdir's mode passed through the umask
        return _RESERVED if os.access(_RESERVED, os.W_OK | os.X_OK) else None
    except OSError:
        return None


def _create(path):
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    _mine.append((path, os.fstat(fd).st_ino))
    os.close(fd)
    return True


def _reserve(port):
    """Whether port is now this process's: no other process reserved it in the last
    _HOLD_SECONDS. A stale reservation is taken over under the directory's lock, by one process."""
    directory = _reservations()
    if directory is None:
        return True
    path = directory / str(port)
    try:
        if _create(path):
            return True
        # Read-only: another user's lock file locks as well.
        with open(os.open(directory / ".lock", os.O_RDONLY | os.O_CREAT, 0o644)) as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                if time.time() - path.stat().st_mtime < _HOLD_SECONDS:
                    return False
                path.unlink()
            except FileNotFoundError:
                pass  # released meanwhile
            return _create(path)
    except OSError:
        return False  # another user's reservation, say: another port


def _release_mine():
    """Removes this process's reservations, unless another process has since taken one over."""
    for path, inode in _mine:
        try:
            if os.stat(path).st_ino == inode:
                os.unlink(path)
        except OSError:
            pass


def free_port():
    """A TCP port nothing is bound to now and no other test process reserved, below the kernel's
    ephemeral range where there is room below it (otherwise one the kernel picks)."""
    low = _ephemeral_low()
    if low - _LOWEST >= 1000:
        for _ in range(500):
            port = _rng.randrange(_LOWEST, low)
            if _bindable(port) and _reserve(port):
                return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ != "__main__":
    atexit.register(_release_mine)


def free_ports(n):
    """n distinct free ports."""
    ports = []
    while len(ports) < n:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


if __name__ == "__main__":
    # The ports are for the caller (bench/run.sh starts its listeners later): their reservations
    # stay until they expire.
    print(" ".join(str(p) for p in free_ports(int(sys.argv[1]) if len(sys.argv) > 1 else 1)))
