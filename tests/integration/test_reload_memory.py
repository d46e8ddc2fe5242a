"""SIGHUP without growth (issue 14): each reload makes a new generation of the config and its route
table; a generation is freed once no request points into it any more. 500 reloads while requests
run (some of them calls that outlive several reloads) leave enoki's memory where it was, and the
log says how many generations are alive.
"""

import http.client
import re
import signal
import threading
import time

import pytest

from conftest import (GWNAME, SCALE, SVC, Enoki, memory_is_measurable, route, rss_kb, wait_for)

RELOADS = 500
ROUTES = 40   # a generation big enough that keeping each one would show


def routes():
    out = [route("/echo", SVC + ".echo"), route("/slow", SVC + ".slow")]
    out += [route("/r{}/<int:x>/<path:rest>".format(i), SVC + ".echo") for i in range(ROUTES)]
    return out


class Load(threading.Thread):
    """Requests over a kept-alive connection, and slow calls on connections of their own, until
    stopped; counts the answers that are not 200."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.stop = threading.Event()
        self.done = 0
        self.bad = []

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10 * SCALE)
        slow = []
        while not self.stop.is_set():
            try:
                conn.request("GET", "/r{}/7/a/b".format(self.done % ROUTES))
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    self.bad.append(resp.status)
                self.done += 1
                if self.done % 50 == 0:
                    # A call that is still running across several reloads.
                    s = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10 * SCALE)
                    s.request("GET", "/slow?seconds=0.3")
                    slow.append(s)
                while len(slow) > 4:
                    s = slow.pop(0)
                    r = s.getresponse()
                    r.read()
                    if r.status != 200:
                        self.bad.append(r.status)
                    s.close()
            except (OSError, http.client.HTTPException) as e:
                self.bad.append(repr(e))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10 * SCALE)
        for s in slow:
            r = s.getresponse()
            r.read()
            if r.status != 200:
                self.bad.append(r.status)
        conn.close()


def generations(gw):
    found = re.findall(r"\((\d+) generation\(s\) in use\)", gw.stderr_text())
    return int(found[-1]) if found else None


def reload(gw, times):
    for _ in range(times):
        gw.send_signal(signal.SIGHUP)
        time.sleep(0.004 * SCALE)


@pytest.mark.waits
def test_five_hundred_reloads_under_load_keep_memory_flat(peer, broker, tmp_path):
    gw = Enoki(tmp_path, routes=routes(), gateway={"name": GWNAME + "rm"}, ready_path="/echo")
    load = Load(gw.port)
    load.start()
    try:
        wait_for(lambda: load.done > 100, 20 * SCALE, what="requests flowing")
        reload(gw, 50)  # warm: the allocator has seen generations come and go
        wait_for(lambda: generations(gw) is not None, 10 * SCALE, what="a reload logged")
        time.sleep(0.5 * SCALE)
        before = rss_kb(gw.proc.pid)
        reload(gw, RELOADS - 50)
        wait_for(lambda: len(re.findall("reloaded ", gw.stderr_text())) >= RELOADS * 0.9,
                 30 * SCALE, what="the reloads logged")
        time.sleep(1.0 * SCALE)  # the slow calls begun under old generations end
        after = rss_kb(gw.proc.pid)
    finally:
        load.stop.set()
        load.join(30 * SCALE)
    assert not load.bad, load.bad[:10]
    assert load.done > 200
    # Signals may coalesce; most of them must have reloaded.
    assert len(re.findall("reloaded ", gw.stderr_text())) >= RELOADS * 0.9
    # While requests run, the generations they began under stay: a handful, not one per reload.
    assert generations(gw) <= 10, generations(gw)
    # Once they are over, one more reload leaves two: the first (the broker side and the hub keep
    # it until exit) and the current one.
    logged = len(re.findall("reloaded ", gw.stderr_text()))
    gw.send_signal(signal.SIGHUP)
    wait_for(lambda: len(re.findall("reloaded ", gw.stderr_text())) > logged, 10 * SCALE,
             what="the last reload logged")
    assert generations(gw) == 2, generations(gw)
    gw.stop()
    if memory_is_measurable():
        grown = after - before
        print("RSS before {} KiB, after {} more reloads {} KiB ({:+d} KiB)".format(
            before, RELOADS - 50, after, grown))
        assert grown < 2048, (before, after)
