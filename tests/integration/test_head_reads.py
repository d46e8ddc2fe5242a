"""A request's head is read once (issue 14): the sniffer, or enoki's own reader on a kept-alive
connection, peeks at it once (MSG_PEEK) and scans it once (gateway/h1_parse.c); the request is then
taken out of the socket with one recv. Nothing peeks at or checks the same bytes again.

The test runs the real binary under strace, sends plain requests over a few kept-alive connections
and over connections of one request each, and counts the recvfrom calls on the client sockets (the
sockets enoki peeks at; the broker's socket is never peeked at).
"""

import http.client
import os
import shutil
import signal
import subprocess
import time

import pytest

from conftest import (ENOKI_BIN, GWNAME, SVC, WRAPPER, config_text, free_port, route, wait_for)
from strace_calls import recvfrom_calls

CONNECTIONS = 4
REQUESTS = 25          # on each kept-alive connection
SINGLE = 20            # connections of one request each

@pytest.mark.skipif(bool(WRAPPER), reason="counts the plain binary's system calls (no wrapper)")
def test_each_head_is_peeked_once_and_read_once(peer, broker, tmp_path):
    if not shutil.which("strace"):
        pytest.fail("strace is needed (scripts/install-deps.sh installs it)")
    port = free_port()
    config = tmp_path / "reads.yaml"
    config.write_text(config_text([route("/echo", SVC + ".echo")], port=port,
                                  gateway={"name": GWNAME + "hr"}))
    trace = tmp_path / "trace.txt"
    proc = subprocess.Popen(["strace", "-f", "-qq", "-s", "16", "-e", "trace=recvfrom",
                             "-o", str(trace), ENOKI_BIN, "--config", str(config)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def answering():
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/echo?warm=1")
                status = c.getresponse().status
                c.close()
                return status == 200
            except OSError:
                return False

        wait_for(answering, 30, interval=0.2, what="enoki under strace")
        time.sleep(0.2)
        start = len(recvfrom_calls(trace))
        for c in range(CONNECTIONS):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            for i in range(REQUESTS):
                conn.request("GET", "/echo?c={}&i={}".format(c, i))
                resp = conn.getresponse()
                assert resp.status == 200, resp.read()
                resp.read()
            conn.close()
        for i in range(SINGLE):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/echo?single={}".format(i), headers={"Connection": "close"})
            assert conn.getresponse().status == 200
            conn.close()
        time.sleep(0.5)  # the last closes are seen
    finally:
        # enoki is strace's child: stopped by its own SIGTERM, strace then ends.
        children = open("/proc/{0}/task/{0}/children".format(proc.pid)).read().split()
        for child in children:
            os.kill(int(child), signal.SIGTERM)
        proc.wait(timeout=30)
    calls = recvfrom_calls(trace)[start:]
    requests = CONNECTIONS * REQUESTS + SINGLE
    client_fds = {fd for fd, _, peek, _ in calls if peek}
    head_peeks = [c for c in calls if c[2] and c[3] > 0]
    reads = [c for c in calls if not c[2] and c[0] in client_fds and c[3] > 0]
    # One peek per head, one recv per request: the head's bytes go through enoki twice in all
    # (once looked at, once taken), never three times.
    assert len(head_peeks) == requests, (len(head_peeks), requests)
    assert all(data.startswith("GET /echo") for _, data, _, _ in head_peeks), head_peeks[:3]
    assert len(reads) == requests, (len(reads), requests)
    # Between requests the only other calls are the peeks that find a connection closed.
    others = [c for c in calls if c[0] in client_fds and c not in head_peeks and c not in reads]
    assert len(others) <= CONNECTIONS + SINGLE + 2, others[:10]
    per_request = (len(head_peeks) + len(reads)) / requests
    print("recvfrom per request: {:.2f} ({} peeks, {} reads, {} at a close)".format(
        per_request, len(head_peeks), len(reads), len(others)))
