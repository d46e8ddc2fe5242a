"""No connection can stall the loop (issue 13).

A chunked request whose chunk-size line (with its extensions) is longer than libmicrohttpd's read
buffer used to leave libmicrohttpd asking to run again at once, forever, without reading or
processing anything, and enoki's loop spun at 100 % CPU answering nothing (docs/robustness.md).
Now the stall guard (gateway/mhd_loop.c) finds such a connection within milliseconds, answers its
request 400 naming the problem and closes it; the loop never stops polling its other sources
meanwhile. Each guard that closes a connection for making no progress is counted in
enoki_connections_killed_total{reason}: stalled, request_timeout (a request that does not arrive
whole within idle_timeout, on enoki's own reader and on libmicrohttpd, however slowly its bytes
trickle), write_timeout (a response the client does not read), header_timeout (the sniffer's first
head), websocket_timeout (a socket that stops answering pings).
"""

import json
import re
import socket
import threading
import time

import pytest

from conftest import SCALE, WRAPPER, answered_within
from test_hostile import (BODY, CL, ECHOED, HEADER_TIMEOUT, IDLE_TIMEOUT, NAME, TE, Reader,
                          assert_serves, connect, cpu_seconds, json_error, post, raise_fd_limit,
                          start_gateway)
from wsclient import WSClient

# Longer than libmicrohttpd's buffer for a request (max_header + 8192 = 24 KiB by default), by
# far; and one that fits.
LONG = 100_000
SHORT = 5_000


@pytest.fixture(scope="module")
def gw(peer, broker, session_tmp):
    raise_fd_limit()
    e = start_gateway(session_tmp, broker, NAME + "s", "stall.yaml", websocket_ping=1)
    yield e
    e.stop()


def killed(gw):
    """enoki_connections_killed_total by reason."""
    text = gw.get("/metrics").body.decode()
    return {m.group(1): int(m.group(2)) for m in re.finditer(
        r'^enoki_connections_killed_total\{reason="([a-z_]+)"\} (\d+)$', text, re.M)}


def wait_for_count(gw, reason, at_least, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if killed(gw).get(reason, 0) >= at_least:
            return True
        time.sleep(0.1)
    return False


def assert_idle(gw, window=1.0):
    """enoki's CPU is back to idle: under 10 % of a window (not measured under a wrapper, whose
    own work would count)."""
    if WRAPPER:
        return
    cpu0 = cpu_seconds(gw.proc.pid)
    time.sleep(window)
    used = cpu_seconds(gw.proc.pid) - cpu0
    assert used < 0.1 * window, "enoki used {:.2f}s of CPU in {:.1f}s while idle".format(
        used, window)


def healthz_within(gw, bound):
    r = answered_within(lambda: gw.get("/healthz", timeout=5 * SCALE), bound)
    assert r.status == 200, r


def trickle(s, piece, until):
    """Sends piece(0), piece(1), ... about three times a second until enoki closes the connection
    (the time it did) or until passes (None)."""
    i = 0
    while time.monotonic() < until:
        try:
            s.sendall(piece(i))
            s.settimeout(0.3)
            if s.recv(4096) == b"":
                return time.monotonic()
        except socket.timeout:
            pass
        except OSError:  # reset, or broken pipe
            return time.monotonic()
        i += 1
    return None


LINES = {
    "long_extension": lambda n: b"2;" + b"a" * n,
    "leading_zeros": lambda n: b"0" * n + b"2",
}


@pytest.mark.parametrize("name", sorted(LINES))
def test_a_chunk_size_line_longer_than_the_buffer_is_answered_400(gw, name):
    before = killed(gw).get("stalled", 0)
    request = post(LINES[name](LONG) + b"\r\n{}\r\n0\r\n\r\n", TE + b"chunked")
    s = connect(gw)
    started = time.monotonic()
    # Sent from a thread: enoki answers before it has read all of it.
    sender = threading.Thread(target=lambda: s.sendall(request), daemon=True)
    sender.start()
    reader = Reader(s)
    answer = reader.response(timeout=1.0 * SCALE)
    took = time.monotonic() - started
    assert answer is not None, "no answer"
    json_error(answer, 400, "bad_request", "chunk-size line")
    assert answer[1].get("connection") == "close", answer
    assert took < 1.0 * SCALE, "answered after {:.2f}s".format(took)
    assert reader.closed(), "the connection stayed open after the answer"
    sender.join(5 * SCALE)
    healthz_within(gw, 0.1 * SCALE)
    assert_idle(gw)
    assert killed(gw).get("stalled", 0) == before + 1
    assert "killed a connection that makes no progress" in gw.stderr_text()
    assert_serves(gw)


def test_a_head_request_that_cannot_be_read_gets_no_body(gw):
    """A HEAD's answer has no body (RFC 9110 9.3.2): the stall guard's 400 to a HEAD whose
    chunk-size line is too long for libmicrohttpd's buffer came with its JSON body."""
    request = (b"HEAD /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" +
               LINES["long_extension"](LONG) + b"\r\n{}\r\n0\r\n\r\n")
    s = connect(gw)
    sender = threading.Thread(target=lambda: s.sendall(request), daemon=True)
    sender.start()
    got = b""
    s.settimeout(5 * SCALE)
    while True:
        try:
            chunk = s.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        got += chunk
    sender.join(5 * SCALE)
    head, _, body = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), got[:300]
    assert b"Content-Length: " in head and body == b"", got[:600]


def test_others_are_served_while_a_connection_is_stuck(gw):
    """Stuck connections, one after another and several at once: /healthz and an RPC route keep
    answering at their usual pace."""
    request = post(LINES["long_extension"](LONG) + b"\r\n", TE + b"chunked")
    stuck = []
    for _ in range(8):
        s = connect(gw)
        s.sendall(request)
        stuck.append(s)
        healthz_within(gw, 0.1 * SCALE)
    for s in stuck:
        answer = Reader(s).response(timeout=2 * SCALE)
        json_error(answer, 400, "bad_request", "chunk-size line")
        s.close()
    assert_idle(gw)
    assert_serves(gw)


def test_a_chunk_size_line_that_fits_is_served(gw):
    for line in (LINES["long_extension"](SHORT), LINES["leading_zeros"](SHORT)):
        s = connect(gw)
        s.sendall(post(line.replace(b"2", b"8", 1) if line.startswith(b"0") else
                       line.replace(b"2;", b"8;", 1), TE + b"chunked") +
                  b"\r\n" + BODY + b"\r\n0\r\n\r\n")
        answer = Reader(s).response()
        assert answer[0] == 200 and json.loads(answer[2]) == ECHOED, answer
        s.close()
    assert_idle(gw)


@pytest.mark.waits
def test_a_trickled_chunked_body_is_closed_at_idle_timeout(gw):
    """libmicrohttpd's idle timeout starts again at every byte: a body trickled a chunk at a time
    would hold its connection for ever. The request must arrive whole within idle_timeout."""
    before = killed(gw).get("request_timeout", 0)
    s = connect(gw)
    s.sendall(post(b"", TE + b"chunked"))
    started = time.monotonic()
    closed = trickle(s, lambda i: b"1\r\na\r\n", started + IDLE_TIMEOUT + 4 * SCALE)
    assert closed is not None, "a trickled body kept its connection open past idle_timeout"
    assert closed - started > IDLE_TIMEOUT - 0.5, "closed after {:.1f}s".format(closed - started)
    assert wait_for_count(gw, "request_timeout", before + 1, 2 * SCALE), killed(gw)
    assert_serves(gw)


@pytest.mark.waits
def test_a_later_head_that_stops_arriving_is_closed_at_idle_timeout(gw):
    """enoki's own reader: a kept-alive connection's next head, half sent."""
    before = killed(gw).get("request_timeout", 0)
    s = connect(gw)
    s.sendall(b"GET /echo?first=1 HTTP/1.1\r\nHost: x\r\n\r\n")
    reader = Reader(s)
    assert reader.response()[0] == 200
    s.sendall(b"GET /echo?second=1 HTTP/1.1\r\nHo")
    started = time.monotonic()
    assert reader.closed(IDLE_TIMEOUT + 3 * SCALE)
    assert time.monotonic() - started > IDLE_TIMEOUT - 1.0
    assert wait_for_count(gw, "request_timeout", before + 1, 2 * SCALE), killed(gw)


@pytest.mark.waits
def test_a_first_head_that_stops_arriving_is_counted(gw):
    before = killed(gw).get("header_timeout", 0)
    s = connect(gw)
    s.sendall(b"GET /echo HTTP/1.1\r\nHo")
    assert Reader(s).closed(HEADER_TIMEOUT + 3 * SCALE)
    assert wait_for_count(gw, "header_timeout", before + 1, 2 * SCALE), killed(gw)


@pytest.mark.waits
def test_a_body_that_never_comes_is_counted(gw):
    before = killed(gw).get("request_timeout", 0)
    s = connect(gw)
    s.sendall(post(BODY[:3], CL + b"8"))
    assert Reader(s).closed(IDLE_TIMEOUT + 3 * SCALE)
    assert wait_for_count(gw, "request_timeout", before + 1, 2 * SCALE), killed(gw)


def test_a_websocket_that_stops_answering_pings_is_counted(gw):
    """websocket_ping is 1 s here: a socket that sends half a frame and then nothing cannot answer
    a ping, and is hung up within two intervals."""
    before = killed(gw).get("websocket_timeout", 0)
    ws = WSClient(gw.port, timeout=5 * SCALE)
    ws.sock.sendall(b"\x81")  # the first byte of a text frame, and no more
    assert wait_for_count(gw, "websocket_timeout", before + 1, 5 * SCALE), killed(gw)
    ws.sock.close()
    assert_serves(gw)


@pytest.mark.waits
@pytest.mark.parametrize("size", [9_000, 20_000])
def test_a_first_head_longer_than_the_peek_is_due_by_header_timeout(gw, size):
    """The sniffer peeks 8 KiB and enoki's reader as much as libmicrohttpd reads: a longer head,
    trickled, is held by either, and must still be whole by header_timeout."""
    before = killed(gw).get("header_timeout", 0)
    head = b"GET /echo HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * size
    s = connect(gw)
    s.sendall(head[:size])
    started = time.monotonic()
    closed = trickle(s, lambda i: head[size + i:size + i + 1] or b"a",
                     started + HEADER_TIMEOUT + 4 * SCALE)
    assert closed is not None, "a trickled head kept its connection open past header_timeout"
    assert closed - started < HEADER_TIMEOUT + 2.5 * SCALE
    assert wait_for_count(gw, "header_timeout", before + 1, 2 * SCALE), killed(gw)
    assert_serves(gw)


def test_a_header_line_without_a_name_is_refused(gw):
    """libmicrohttpd would take a line starting with ':' for the end of the head, and read what
    follows as a second request."""
    s = connect(gw)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n: 0\r\nGET /metrics HTTP/1.1\r\nHost: y\r\n\r\n")
    reader = Reader(s)
    json_error(reader.response(), 400, "bad_request", "no name")
    assert reader.closed()


@pytest.mark.parametrize("pad", [9_000, 20_000])
def test_a_nul_line_in_a_long_head_is_refused(gw, pad):
    s = connect(gw)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\x00\r\nGET /metrics HTTP/1.1\r\nHost: y\r\n"
              b"\x00\r\nX-Pad: " + b"a" * pad + b"\r\n\r\n")
    reader = Reader(s)
    json_error(reader.response(), 400, "bad_request", "NUL")
    assert reader.closed()


def test_a_later_request_after_libmicrohttpds_is_not_read_by_it(gw):
    """libmicrohttpd answers one request per connection and closes: a later head it would get
    wrong (a Content-Length that is not a number, answered with its error head twice) never
    reaches it."""
    s = connect(gw)
    s.sendall(b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
              b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n")
    deadline = time.monotonic() + 5 * SCALE
    reader = Reader(s)
    while reader._more(deadline):
        pass
    assert reader.buf.count(b"HTTP/1.1 ") == 1, reader.buf
    assert reader.buf.startswith(b"HTTP/1.1 200 OK\r\n") and b"Connection: close" in reader.buf


@pytest.mark.parametrize("value", [b"8\t", b"8 "])
def test_a_content_length_with_whitespace_after_it_is_refused_once(gw, value):
    """libmicrohttpd takes "8 " for no number and writes its error head twice: enoki answers it
    once, a HEAD without the body (RFC 9110 9.3.2)."""
    for method in (b"POST", b"HEAD"):
        s = connect(gw)
        s.sendall(method + b" /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + value + b"\r\n\r\n" +
                  BODY)
        reader = Reader(s)
        if method == b"HEAD":
            status, headers, body = reader.response(to_head=True)
            assert status == 400 and headers["content-type"] == "application/json", headers
        else:
            json_error(reader.response(), 400, "bad_request", "Content-Length")
        assert reader.closed()


@pytest.mark.parametrize("data", [
    b"GET /echo HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 12000,   # a head libmicrohttpd holds
    b" " * 16384,                                                  # junk it holds
], ids=["long_head", "spaces"])
def test_a_client_that_leaves_mid_request_is_let_go_at_once(gw, data):
    """libmicrohttpd does not always notice that a client has gone while it holds a part of a
    request: enoki closes such a connection within a second or two, not at a timeout."""
    before = killed(gw).get("abandoned", 0)
    s = connect(gw)
    s.sendall(data)
    time.sleep(0.3)
    port = s.getsockname()[1]
    s.close()
    deadline = time.monotonic() + 3 * SCALE
    while time.monotonic() < deadline:
        with open("/proc/net/tcp") as f:
            held = any(":{:04X} ".format(port) in line and line.split()[3] == "08" for line in f)
        if not held:
            break
        time.sleep(0.1)
    assert not held, "enoki still holds a connection its client closed"
    assert wait_for_count(gw, "abandoned", before + 1, 2 * SCALE), killed(gw)
