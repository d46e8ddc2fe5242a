"""Many calls at once, a slow call that must not block the others, SIGTERM/SIGINT, the access log."""

import http.client
import json
import random
import re
import signal
import socket
import threading
import time
import uuid

from conftest import SCALE, SVC, route, wait_for


def test_200_concurrent_calls(gw):
    n = 200
    results = [None] * n
    barrier = threading.Barrier(n)
    tag = uuid.uuid4().hex

    def one(i):
        try:
            barrier.wait(30)
            results[i] = gw.get("/echo?v={}-{}".format(tag, i), timeout=60 * SCALE)
        except Exception as exc:  # reported below
            results[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120 * SCALE)
    failures = [(i, r) for i, r in enumerate(results)
                if not (hasattr(r, "status") and r.status == 200
                        and r.json() == {"args": [], "kwargs": {"v": "{}-{}".format(tag, i)}})]
    assert not failures, failures[:5]
    call_ids = {r.header("X-Call-Id") for r in results}
    assert len(call_ids) == n


def test_slow_call_does_not_block_others(gw):
    answers = {}
    slow = threading.Thread(target=lambda: answers.update(
        slow=gw.get("/slow_long?seconds=1.5&value=slow")))
    slow.start()
    time.sleep(0.2)
    fast = gw.get("/echo?fast=1")
    assert fast.status == 200, fast
    assert fast.elapsed < 0.5 * SCALE, fast
    slow.join(30 * SCALE)
    assert answers["slow"].status == 200 and answers["slow"].json() == "slow", answers


def connection_refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    return False


def test_sigterm_lets_calls_in_flight_finish(peer, spy, enoki):
    gw = enoki(routes=[route("/slow", SVC + ".slow", timeout=30)], ready_path="/slow?seconds=0")
    seen = spy(SVC + ".slow")
    answers = {}
    t = threading.Thread(target=lambda: answers.update(
        resp=gw.get("/slow?seconds=1.5&value=finished")))
    t.start()
    seen.get()  # the call is in flight
    sent = time.monotonic()
    gw.send_signal(signal.SIGTERM)
    # New connections are no longer accepted ...
    wait_for(lambda: connection_refused(gw.port), 1.0 * SCALE, what="the listener to close")
    # ... but the call in flight gets its answer, and then enoki exits 0.
    t.join(30 * SCALE)
    resp = answers["resp"]
    assert resp.status == 200 and resp.json() == "finished", resp
    rc = gw.wait()
    assert rc == 0, gw.stderr_text()
    assert time.monotonic() - sent < 5 * SCALE


def test_second_sigterm_with_a_call_suspended_in_libmicrohttpd(peer, spy, enoki):
    """A request libmicrohttpd reads (Expect: 100-continue) waits for its call on a suspended
    connection; a second SIGTERM stops at once. libmicrohttpd 0.9.75 aborts a process that stops
    it with a connection still suspended (it used to: exit -6, no polite close of the broker
    connection); enoki resumes it first, and the connection is closed with the others."""
    gw = enoki(routes=[route("/slow", SVC + ".slow", timeout=30, methods=["GET", "POST"])],
               ready_path="/slow?seconds=0")
    seen = spy(SVC + ".slow")
    body = json.dumps({"seconds": 3 * SCALE, "value": "cut"}).encode()
    sock = socket.create_connection(("127.0.0.1", gw.port), timeout=10 * SCALE)
    sock.sendall(b"POST /slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Expect: 100-continue\r\nContent-Length: " + str(len(body)).encode() +
                 b"\r\n\r\n")
    assert sock.recv(100).startswith(b"HTTP/1.1 100 ")
    sock.sendall(body)
    request = seen.get()  # the call is in flight, its connection suspended
    reply = spy(request.props.reply_to)  # bound long before the service answers
    gw.send_signal(signal.SIGTERM)
    time.sleep(0.2 * SCALE)
    assert "answering 1 request(s) in flight" in gw.stderr_text()
    start = time.monotonic()
    gw.stop()  # the second signal; asserts exit status 0 and no sanitizer report
    assert time.monotonic() - start < 5 * SCALE
    assert "stopping now" in gw.stderr_path.read_text()
    assert sock.recv(100) == b"", "a request cut by the stop got bytes"
    sock.close()
    # The service's answer, to a gateway that is gone: awaited, so that no later test's spy of the
    # whole exchange takes it for one of its own.
    reply.get(timeout=6, what="the service's late answer")


def test_sigint_exits_cleanly(peer, enoki):
    gw = enoki(routes=[route("/echo", SVC + ".echo")], ready_path="/echo")
    assert gw.get("/echo").status == 200
    start = time.monotonic()
    gw.send_signal(signal.SIGINT)
    assert gw.wait() == 0, gw.stderr_text()
    assert time.monotonic() - start < 3 * SCALE


def test_sigterm_closes_idle_keep_alive_connections(peer, enoki):
    gw = enoki(routes=[route("/echo", SVC + ".echo")], ready_path="/echo")
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10 * SCALE)
    conn.request("GET", "/echo")
    assert conn.getresponse().read()
    start = time.monotonic()
    gw.send_signal(signal.SIGTERM)
    assert gw.wait() == 0, gw.stderr_text()
    assert time.monotonic() - start < 3 * SCALE
    conn.close()


def test_access_log(gw):
    """One line per request on stderr, with the method, the path and the status."""
    n = random.randrange(10 ** 6, 10 ** 7)
    requests = [
        ("GET", "/get/{}".format(n), {}, 200),
        ("DELETE", "/get/{}".format(n + 1), {}, 405),
        ("GET", "/missing-{}".format(n), {}, 404),
        ("POST", "/kw/u{}".format(n), {"json_body": {"a": 1}}, 400),
        ("POST", "/get/{}".format(n + 2), {}, 405),
    ]
    for method, path, kw, status in requests:
        assert gw.request(method, path, **kw).status == status

    def lines_for(method, path, status):
        return [l for l in gw.stderr_text().splitlines()
                if re.search(r"(^|\W){}(\W|$)".format(method), l)
                and re.search(r"{}(\W|$)".format(re.escape(path)), l)
                and re.search(r"(^|\D){}(\D|$)".format(status), l.replace(path, " "))]

    for method, path, kw, status in requests:
        wait_for(lambda: lines_for(method, path, status), 2 * SCALE,
                 what="an access log line for {} {} {}".format(method, path, status))
        lines = lines_for(method, path, status)
        assert len(lines) == 1, lines


def test_the_access_line_cannot_be_forged_by_a_path(peer, enoki):
    """A target that would write a made-up line over the real one (a CR, a terminal's cursor back
    to the line's start; an ANSI escape; blanks) is refused before any reader sees it, as no
    request line (docs/decisions.md). What a target may still hold, a quote that would end the
    field and bytes that are not UTF-8, the text line writes as \\xNN; the JSON line stays valid
    JSON, the bytes repaired. (They used to go out as they came.)"""
    forged = b'/x" 200 0.050ms -\r2026 info  [access] 10.0.0.7 "POST /admin" 200 x\x1b[K\xff\xfe'
    kept = b'/x"\xff\xfe'
    for fmt in ("text", "json"):
        gw = enoki(routes=[route("/echo", SVC + ".echo")], gateway={"log_format": fmt},
                   ready_path="/echo")
        for target, status in ((forged, b"400"), (b"/x\x1b[K", b"400"), (kept, b"404")):
            sock = socket.create_connection(("127.0.0.1", gw.port), timeout=10 * SCALE)
            sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert sock.recv(100).startswith(b"HTTP/1.1 " + status + b" "), (fmt, target)
            sock.close()
        gw.stop()
        log = gw.stderr_path.read_bytes()
        assert b"10.0.0.7" not in log, log[-2000:]
        line = [l for l in log.split(b"\n") if b"/x" in l and b"refused" not in l]
        assert len(line) == 1, log[-2000:]
        assert not re.search(rb"[\x00-\x1f\x7f\x80-\xff]", line[0].replace(b"\t", b"")) or \
            fmt == "json", line[0]
        if fmt == "text":
            assert b'"GET /x\\x22\\xff\\xfe" 404 ' in line[0], line[0]
        else:
            entry = json.loads(line[0].decode("utf-8"))
            assert entry["status"] == 404 and entry["path"] == '/x"\ufffd\ufffd', entry
