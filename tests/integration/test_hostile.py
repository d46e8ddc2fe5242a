"""Hostile input (issue 7, points 3 and 4): every input goes over a raw socket, and after each one
enoki must still serve: an RPC route answers 200 through the peer within a small bound, a fresh
websocket answers a call, and the process is alive. At the end (the fixtures' stop) enoki must
exit 0 with no sanitizer or valgrind report in its stderr. Bounds scale with conftest's SCALE.

What enoki answers, and who answers it:
  * the sniffer (gateway/sniff.c) answers a connection's first request head itself when the
    libraries would get it wrong: a NUL byte anywhere in it (libmicrohttpd 0.9.75 reads the head as
    C strings and would cut the target or a value short), a Content-Length that is not a number or
    overflows (libmicrohttpd answers those with its error head written twice), whitespace before a
    header's colon, a folded header line, and for an upgrade a Sec-WebSocket-Version other than 13
    or 8 (426) or a Sec-WebSocket-Key that is not 16 bytes in base64 (400). JSON bodies, then the
    connection closes.
    Heads that trickle in (slowloris, also after empty lines) cost no CPU while they wait, and
    header_timeout closes them.
  * enoki's access handler refuses ambiguous framing at once, before any body is read, and closes:
    Content-Length values that differ, Transfer-Encoding with Content-Length, a Transfer-Encoding
    not ending in chunked (400) or other than chunked (501), a Content-Length beyond max_body (413),
    and a raw NUL in the target of a later request on a kept-alive connection.
  * libmicrohttpd answers the rest with its own HTML bodies (400, 413 for chunk sizes, 414, 431,
    505 for HTTP/9.9) and closes, or closes without an answer when the request line is not HTTP.
  * libwebsockets closes protocol errors with 1002 (a control frame over 125 bytes, or a length
    with its top bit set: the connection is dropped without a close frame); the hub closes frames
    over websocket_max_frame with 1009 and readers whose queue is full with 1008, and answers junk
    with nameko's MalformedRequest.
  * Decisions: a lower-case method is served as its upper-case self (werkzeug's Map upper-cases
    the method, so nameko serves "get" as GET); a bare LF ends lines (RFC 9112 2.2 allows it);
    unknown chunk extensions are ignored (RFC 9112 7.1.1); a ping flood is answered with pongs that
    libwebsockets coalesces (one pending pong at a time) and the flooding socket keeps working;
    a body that never comes, or a client that never reads, is closed by idle_timeout; out of
    descriptors, new connections wait in the backlog while the open ones are served.

The later requests of a kept-alive connection get the same checks as the first: enoki reads
them itself, and one that libmicrohttpd would get wrong (a NUL in a header value, cut short
silently; a malformed Content-Length, answered with a doubled head) is answered by enoki, as the
sniffer answers a first request, and the connection closed.
"""

import json
import os
import random
import resource
import socket
import struct
import time

import pytest

from conftest import (GWNAME, SCALE, SESSION, SVC, WRAPPER, Background, Enoki,
                      memory_is_measurable, route, rss_kb)
from wsclient import (OP_BINARY, OP_CONT, OP_PING, OP_PONG, OP_TEXT, HandshakeRefused, WSClient,
                      encode_frame)

NAME = GWNAME + "x"
EVSVC = "hev_" + SESSION          # a nameko service that only dispatches events (the test does)

T = 5 * SCALE                     # the default wait for one answer
BOUND = 1.0 * SCALE               # a normal request's answer while hostile clients are busy
HEADER_TIMEOUT = 2 * SCALE
IDLE_TIMEOUT = 3 * SCALE
MAX_FRAME = 65536
SEND_QUEUE = 65536
BIG_FILE = 8 << 20
SLOWLORIS = 500

MALFORMED = {"exc_type": "MalformedRequest", "exc_path": "nameko.exceptions.MalformedRequest",
             "exc_args": ["Invalid JSON data"], "value": "Invalid JSON data"}
MALFORMED_FRAME = json.dumps({"type": "result", "success": False, "error": MALFORMED,
                              "correlation_id": None})


def raise_fd_limit(want=4096):
    """Hundreds of half-open connections need a descriptor each, here and in enoki (which inherits
    the limit, so this runs before enoki starts)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


@pytest.fixture(scope="module")
def static_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile-static")
    (d / "big.bin").write_bytes(os.urandom(1 << 16) * (BIG_FILE >> 16))
    return d


# The admin endpoints are never open: these gateways have a static admin token.
ADMIN_TOKEN = "hostile-admin-token"
ADMIN_AUTH = {"Authorization": "Bearer " + ADMIN_TOKEN}


def start_gateway(tmp, broker, name, cfg, **gateway):
    keys = {"name": name, "expose": [SVC + ".*"], "header_timeout": HEADER_TIMEOUT,
            "idle_timeout": IDLE_TIMEOUT, "websocket_max_frame": MAX_FRAME,
            "websocket_send_queue": SEND_QUEUE, "admin_prefix": "/admin",
            "admin_token": ADMIN_TOKEN, "channels": ["**"]}
    keys.update(gateway)
    broker.track_queue("rpc-" + name)
    broker.exchanges.add(name + ".hub")
    return Enoki(tmp, routes=[route("/echo", SVC + ".echo", methods="GET,POST"),
                              route("/files/<path:rest>", SVC + ".echo")],
                 gateway=keys, name=cfg, ready_path="/echo")


@pytest.fixture(scope="module")
def gw(peer, broker, session_tmp, static_dir):
    raise_fd_limit()
    e = start_gateway(session_tmp, broker, NAME, "hostile.yaml", static_dir=str(static_dir))
    yield e
    e.stop()  # exit 0, and no sanitizer or valgrind report in the whole run's stderr


# --- helpers --------------------------------------------------------------------------------------


def assert_serves(gw, *sockets):
    """enoki is alive and serves: an RPC route answers 200 through the peer within BOUND, a fresh
    websocket answers an RPC call, and so does each websocket of sockets."""
    assert gw.proc.poll() is None, "enoki exited with {}:\n{}".format(
        gw.proc.returncode, gw.stderr_text()[-4000:])
    r = gw.get("/echo?alive=1", timeout=T)
    assert r.status == 200 and r.json() == {"args": [], "kwargs": {"alive": "1"}}, r
    assert r.elapsed < BOUND, "an RPC route took {:.3f}s".format(r.elapsed)
    fresh = WSClient(gw.port, timeout=T)
    try:
        for ws in (fresh,) + sockets:
            got = ws.call(SVC + ".echo", {"alive": 1}, "alive")
            assert got == {"type": "result", "success": True, "correlation_id": "alive",
                           "data": {"args": [], "kwargs": {"alive": 1}}}, ws.last_raw
    finally:
        fresh.close()


def connect(gw, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(T)
    s.connect(("127.0.0.1", gw.port))
    return s


class Reader:
    """Reads HTTP/1.1 responses off a raw socket, one at a time, framed by Content-Length."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.eof = False

    def _more(self, deadline):
        if self.eof:
            return False
        self.sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = self.sock.recv(1 << 16)
        except socket.timeout:
            raise TimeoutError("no answer; got {!r}".format(self.buf[:300]))
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def response(self, timeout=T, to_head=False):
        """(status, headers lower-cased, body), or None when the server closed without one. The
        answer to a HEAD (to_head=True) has no body, whatever its Content-Length says."""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            if not self._more(deadline):
                assert not self.buf, "the connection ended inside a response: {!r}".format(
                    self.buf[:300])
                return None
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("iso-8859-1").split("\r\n")
        assert lines[0].startswith("HTTP/1.1 "), lines[0]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        n = 0 if to_head else int(headers.get("content-length", "0"))
        while len(self.buf) < n:
            assert self._more(deadline), "the body ended early: {!r}".format(self.buf[:300])
        body, self.buf = self.buf[:n], self.buf[n:]
        return int(lines[0].split(" ")[1]), headers, body

    def closed(self, timeout=T):
        """True when the server closes the connection within timeout and sends nothing more."""
        deadline = time.monotonic() + timeout
        try:
            while self._more(deadline):
                pass
        except TimeoutError:
            return False
        assert not self.buf, "bytes after the last answer: {!r}".format(self.buf[:300])
        return True


def send_raw(gw, data, timeout=T):
    """data on a fresh connection: (Reader, the first answer or None)."""
    s = connect(gw)
    s.sendall(data)
    reader = Reader(s)
    return reader, reader.response(timeout)


def json_error(answer, status, code, words=""):
    status_got, headers, body = answer
    assert status_got == status, answer
    assert headers.get("content-type") == "application/json", answer
    parsed = json.loads(body)
    assert parsed["error"] == code and words in parsed["message"], parsed
    return parsed


def mhd_error(answer, status, words):
    """libmicrohttpd's own answer: an HTML body naming the problem."""
    status_got, headers, body = answer
    assert status_got == status, answer
    assert words.encode() in body, answer


def head(method="GET", target="/echo", extra=b"", version=b"HTTP/1.1"):
    if isinstance(method, str):
        method = method.encode()
    if isinstance(target, str):
        target = target.encode()
    return method + b" " + target + b" " + version + b"\r\nHost: x\r\n" + extra + b"\r\n"


def post(body, *headers):
    return (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
            b"".join(h + b"\r\n" for h in headers) + b"\r\n" + body)


# === HTTP: heads too big, request lines, NUL bytes ================================================


def test_giant_header_is_431(gw):
    reader, answer = send_raw(gw, head(extra=b"X-Big: " + b"a" * (1 << 20) + b"\r\n"))
    mhd_error(answer, 431, "header was too big")
    assert reader.closed()
    assert_serves(gw)


def test_ten_thousand_headers_are_431(gw):
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(10000))
    reader, answer = send_raw(gw, head(extra=many))
    mhd_error(answer, 431, "header was too big")
    assert reader.closed()
    assert_serves(gw)


def served(query):
    """A check: 200 from the echo route with these query parameters."""
    def check(answer):
        assert answer[0] == 200 and json.loads(answer[2]) == {"args": [], "kwargs": query}, answer
    return check


def not_allowed(answer):
    json_error(answer, 405, "method_not_allowed")
    assert answer[1].get("allow") == "GET, HEAD, POST", answer


def bad_line(answer):
    json_error(answer, 400, "bad_request", "the request line is not METHOD SP target SP HTTP/x.y")


def bare_cr(answer):
    json_error(answer, 400, "bad_request", "a CR that does not end a line")


# (name, bytes, check of the answer, whether enoki closes the connection after it)
REQUEST_LINES = [
    ("garbage", b"hello there\r\n\r\n", bad_line, True),
    ("missing_version", b"GET /echo\r\nHost: x\r\n\r\n", bad_line, True),
    ("method_alone", b"GET\r\nHost: x\r\n\r\n", bad_line, True),
    ("http_9_9", head(version=b"HTTP/9.9"), lambda a: mhd_error(a, 505, "not supported"), True),
    ("http_2_0", head(version=b"HTTP/2.0"), lambda a: mhd_error(a, 505, "not supported"), True),
    ("http_1_10", head(version=b"HTTP/1.10"), bad_line, True),
    # libmicrohttpd closed these without a word; every request gets its answer.
    ("tabs", b"GET\t/echo\tHTTP/1.1\r\nHost: x\r\n\r\n", bad_line, True),
    ("leading_space", b" GET /echo HTTP/1.1\r\nHost: x\r\n\r\n", bad_line, True),
    ("two_spaces", b"GET  /echo HTTP/1.1\r\nHost: x\r\n\r\n", bad_line, True),
    ("control_in_target", head(target=b"/ec\x0bho"), bad_line, True),
    # libmicrohttpd ends a line at a CR alone: what follows it would be a header the checks missed.
    ("bare_cr_before_the_line", b"\r\r\nGET /echo HTTP/1.1\r\nHost: x\r\n\r\n", bare_cr, True),
    ("bare_cr_in_the_line", b"GET /echo\rHTTP/1.1\r\nHost: x\r\n\r\n", bare_cr, True),
    ("bare_cr_hiding_a_coding", post(b"{}", b"X-A: a\rTransfer-Encoding: chunked",
                                     b"Content-Length: 2"), bare_cr, True),
    ("bare_cr_as_the_blank_line", b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\r\n", bare_cr, True),
    ("lowercase_method", head(method="get", target="/echo?m=1"), served({"m": "1"}), False),
    ("bare_lf", b"GET /echo?lf=1 HTTP/1.1\nHost: x\n\n", served({"lf": "1"}), False),
    ("overlong_method", head(method="G" * 5000), not_allowed, False),
    ("request_line_100k", head(target=b"/echo?" + b"a" * 100000),
     lambda a: mhd_error(a, 414, "too big"), True),
]


@pytest.mark.parametrize("name,data,check,closes", REQUEST_LINES,
                         ids=[c[0] for c in REQUEST_LINES])
def test_malformed_request_line(gw, name, data, check, closes):
    reader, answer = send_raw(gw, data)
    check(answer)
    if closes:
        assert reader.closed(), "the connection stayed open after {}".format(answer)
    assert_serves(gw)


NUL_INPUTS = [
    ("in_request_line", head(target=b"/ec\0ho")),
    ("in_path_after_route", head(target=b"/echo\0/../admin")),
    ("in_header_name", head(extra=b"X-A\0b: v\r\n")),
    ("in_header_value", head(extra=b"X-A: v\0w\r\n")),
    ("in_host", b"GET /echo HTTP/1.1\r\nHost: x\0y\r\n\r\n"),
]


@pytest.mark.parametrize("name,data", NUL_INPUTS, ids=[c[0] for c in NUL_INPUTS])
def test_nul_byte_in_the_head_is_400(gw, name, data):
    reader, answer = send_raw(gw, data)
    json_error(answer, 400, "bad_request", "NUL byte")
    assert reader.closed()
    assert_serves(gw)


def test_percent_encoded_nul_in_the_path_is_400(gw):
    reader, answer = send_raw(gw, head(target="/files/a%00b"))
    json_error(answer, 400, "bad_arguments", "NUL")
    assert_serves(gw)


def test_nul_in_the_target_of_a_later_request_is_400(gw):
    # The sniffer sees only a connection's first head: the access handler catches this one.
    reader, first = send_raw(gw, head(target="/echo?n=1") + head(target=b"/ec\0ho"))
    assert first[0] == 200 and json.loads(first[2]) == {"args": [], "kwargs": {"n": "1"}}, first
    json_error(reader.response(), 400, "bad_request", "NUL byte")
    assert reader.closed()
    assert_serves(gw)


def test_nul_in_a_header_of_a_later_request_is_400(gw):
    reader, first = send_raw(gw, head(target="/echo?n=1") + head(extra=b"X-A: v\0w\r\n"))
    assert first[0] == 200, first
    json_error(reader.response(), 400, "bad_request", "NUL byte")
    assert reader.closed()
    assert_serves(gw)


def test_a_later_request_whose_head_comes_in_pieces_is_still_checked(gw):
    """The fast path waits for the whole head before it judges it (or hands it on)."""
    s = connect(gw)
    reader = Reader(s)
    s.sendall(head(target="/echo?n=1"))
    assert reader.response()[0] == 200
    later = head(extra=b"X-A: v\0w\r\n")
    for i in range(0, len(later), 7):
        s.sendall(later[i:i + 7])
        time.sleep(0.01)
    json_error(reader.response(), 400, "bad_request", "NUL byte")
    assert reader.closed()
    s.close()
    # A clean one in pieces is served on the same connection.
    s = connect(gw)
    reader = Reader(s)
    s.sendall(head(target="/echo?n=1"))
    assert reader.response()[0] == 200
    later = head(target="/echo?n=2")
    for i in range(0, len(later), 7):
        s.sendall(later[i:i + 7])
        time.sleep(0.01)
    assert reader.response()[0] == 200
    s.close()


# === HTTP: Content-Length and Transfer-Encoding ===================================================


CL = b"Content-Length: "
TE = b"Transfer-Encoding: "
BODY = b'{"a": 1}'
ECHOED = {"args": [], "kwargs": {"a": 1}}

FRAMING = [
    ("cl_negative", post(BODY, CL + b"-5"), 400, "bad_request", "decimal number"),
    ("cl_not_a_number", post(BODY, CL + b"abc"), 400, "bad_request", "decimal number"),
    ("cl_hex", post(BODY, CL + b"0x8"), 400, "bad_request", "decimal number"),
    ("cl_space_before_colon", post(BODY, b"Content-Length : 8"), 400, "bad_request",
     "colon"),
    ("cl_folded", post(BODY, CL + b"8", b" 9"), 400, "bad_request", "folded"),
    ("cl_conflicting", post(BODY, CL + b"8", CL + b"3"), 400, "bad_request",
     "different Content-Length"),
    ("cl_2_pow_63", post(BODY, CL + b"9223372036854775808"), 413, "body_too_large",
     "GATEWAY.max_body"),
    ("cl_2_pow_64_plus_1", post(BODY, CL + b"18446744073709551617"), 413, "body_too_large",
     "GATEWAY.max_body"),
    ("cl_over_max_body", post(BODY, CL + b"1048577"), 413, "body_too_large", "1048576 bytes"),
    ("cl_over_max_body_expect_100", post(b"", CL + b"2000000", b"Expect: 100-continue"), 413,
     "body_too_large", "GATEWAY.max_body"),
    ("te_and_cl", post(b"8\r\n" + BODY + b"\r\n0\r\n\r\n", TE + b"chunked", CL + b"13"), 400,
     "bad_request", "both Transfer-Encoding and Content-Length"),
    ("te_gzip", post(BODY, TE + b"gzip"), 400, "bad_request", "with chunked"),
    ("te_chunked_twice", post(b"8\r\n" + BODY + b"\r\n0\r\n\r\n", TE + b"chunked", TE + b"chunked"),
     400, "bad_request", "one Transfer-Encoding"),
    ("te_gzip_chunked", post(b"8\r\n" + BODY + b"\r\n0\r\n\r\n", TE + b"gzip, chunked"), 501,
     "not_implemented", "chunked"),
]


@pytest.mark.parametrize("name,data,status,code,words", FRAMING, ids=[c[0] for c in FRAMING])
def test_bad_framing_is_refused_at_once_and_closed(gw, name, data, status, code, words):
    start = time.monotonic()
    reader, answer = send_raw(gw, data)
    assert time.monotonic() - start < BOUND, "the answer waited for a body"
    json_error(answer, status, code, words)
    assert answer[1].get("connection") == "close", answer
    # One answer (no "100 Continue" before it; libmicrohttpd 0.9.75 would write some of these
    # heads twice), nothing after it, then EOF.
    assert reader.closed()
    assert_serves(gw)


def test_malformed_content_length_on_a_later_request_gets_one_answer(gw):
    reader, first = send_raw(gw, head(target="/echo?n=1") + post(BODY, CL + b"abc"))
    assert first[0] == 200, first
    json_error(reader.response(), 400, "bad_request", "decimal number")
    assert reader.closed()


def test_identical_content_lengths_are_served(gw):
    reader, answer = send_raw(gw, post(BODY, CL + b"8", CL + b"8"))
    assert answer[0] == 200 and json.loads(answer[2]) == ECHOED, answer


CHUNKED = [
    ("bad_hex", b"zz\r\n" + BODY + b"\r\n0\r\n\r\n",
     lambda a: mhd_error(a, 400, "chunked encoding was syntactically incorrect")),
    ("size_overflow", b"FFFFFFFFFFFFFFFFFF\r\n" + BODY + b"\r\n0\r\n\r\n",
     lambda a: mhd_error(a, 413, "chunk size")),
    ("missing_crlf", b"8\r\n" + BODY + b"XX0\r\n\r\n",
     lambda a: mhd_error(a, 400, "chunked encoding was syntactically incorrect")),
    ("negative_size", b"-8\r\n" + BODY + b"\r\n0\r\n\r\n",
     lambda a: mhd_error(a, 400, "chunked encoding was syntactically incorrect")),
]


@pytest.mark.parametrize("name,chunks,check", CHUNKED, ids=[c[0] for c in CHUNKED])
def test_malformed_chunked_body(gw, name, chunks, check):
    reader, answer = send_raw(gw, post(chunks, TE + b"chunked"))
    check(answer)
    assert reader.closed()
    assert_serves(gw)


def test_chunk_extension_junk_is_ignored(gw):
    # RFC 9112 7.1.1: a recipient ignores chunk extensions it does not understand.
    chunks = b"8;\x01\x02junk=\"x;y=z\r\n" + BODY + b"\r\n0;more\r\n\r\n"
    reader, answer = send_raw(gw, post(chunks, TE + b"chunked"))
    assert answer[0] == 200 and json.loads(answer[2]) == ECHOED, answer
    assert_serves(gw)


# === HTTP: deep paths =============================================================================


DEEP = "/".join(["a"] * 10000)


def test_deep_paths_beyond_max_header(gw):
    # 10k segments (20 KB) is a head over GATEWAY.max_header; a 64 KB path is over what
    # libmicrohttpd holds for a request line.
    for target in ("/files/" + DEEP, "/nowhere/" + DEEP):
        reader, answer = send_raw(gw, head(target=target))
        json_error(answer, 431, "header_too_large", "GATEWAY.max_header")
    reader, answer = send_raw(gw, head(target="/files/" + "a" * 65536))
    mhd_error(answer, 414, "too big")
    assert reader.closed()
    assert_serves(gw)


def test_deep_paths_are_routed(peer, broker, tmp_path):
    # With room for such heads, the route table sees them: a path converter takes all of it, a path
    # that matches nothing is a 404, each within the bound.
    deep = start_gateway(tmp_path, broker, NAME + "d", "deep.yaml", max_header=64 << 10)
    try:
        for rest in (DEEP, "a" * 60000, "/".join(["%C3%A9"] * 5000)):
            start = time.monotonic()
            reader, answer = send_raw(deep, head(target="/files/" + rest))
            assert answer[0] == 200, answer
            assert json.loads(answer[2])["kwargs"]["rest"] == rest.replace("%C3%A9", "\u00e9")
            assert time.monotonic() - start < BOUND
        # Thousands of empty segments: werkzeug's answer (a 308 that merges the slashes, or a 404).
        for rest in ("/".join(["%2F"] * 5000), "/".join([""] * 10000) + "x"):
            start = time.monotonic()
            reader, answer = send_raw(deep, head(target="/files/" + rest))
            assert answer[0] in (308, 404), answer
            assert time.monotonic() - start < BOUND
        for target in ("/nowhere/" + DEEP, "/" + "/".join(["x"] * 20000), "/" + "b" * 60000):
            start = time.monotonic()
            reader, answer = send_raw(deep, head(target=target))
            json_error(answer, 404, "not_found")
            assert time.monotonic() - start < BOUND
        assert_serves(deep)
    finally:
        deep.stop()


# === HTTP: slow, stuck and pipelining clients =====================================================


@pytest.mark.waits
def test_slowloris(gw):
    """SLOWLORIS half-open connections send one byte of a head each second (half of them after
    empty lines, which RFC 9112 says to ignore): a normal client is answered within the bound all
    along, and header_timeout closes every one of them."""
    head_bytes = head(target="/echo?slow=1")
    cpu0 = cpu_seconds(gw.proc.pid)
    opened = time.monotonic()
    slow = []
    for i in range(SLOWLORIS):
        s = connect(gw)
        s.sendall((b"\r\n\r\n" if i % 2 else b"") + head_bytes[:1])
        slow.append(s)
    latencies = []
    sent = 1
    closed_at = {}
    while time.monotonic() - opened < HEADER_TIMEOUT + 2 * SCALE and len(closed_at) < len(slow):
        for i, s in enumerate(slow):
            if i in closed_at:
                continue
            try:
                s.sendall(head_bytes[sent:sent + 1])
            except OSError:
                closed_at[i] = time.monotonic()
        sent += 1
        tick = time.monotonic()
        while time.monotonic() - tick < 1.0:
            r = gw.get("/echo?normal=1")
            assert r.status == 200 and r.json() == {"args": [], "kwargs": {"normal": "1"}}, r
            latencies.append(r.elapsed)
            time.sleep(0.05)
        # Which of them the server has closed: readable with EOF (or reset).
        for i, s in enumerate(slow):
            if i in closed_at:
                continue
            s.setblocking(False)
            try:
                if s.recv(16) == b"":
                    closed_at[i] = time.monotonic()
            except BlockingIOError:
                pass
            except ConnectionResetError:
                closed_at[i] = time.monotonic()
            s.setblocking(True)
    cpu = cpu_seconds(gw.proc.pid) - cpu0
    wall = time.monotonic() - opened
    for s in slow:
        s.close()
    print("slowloris: enoki used {:.2f}s of CPU in {:.2f}s; normal requests: max {:.3f}s".format(
        cpu, wall, max(latencies)))
    assert sent < len(head_bytes), "the slow heads were complete before header_timeout"
    assert max(latencies) < BOUND, "a normal request took {:.3f}s during the slowloris".format(
        max(latencies))
    assert len(closed_at) == len(slow), "{} of {} half-open connections are still open {:.1f}s " \
        "after they connected (header_timeout {}s)".format(
            len(slow) - len(closed_at), len(slow), time.monotonic() - opened, HEADER_TIMEOUT)
    first = min(closed_at.values()) - opened
    assert first > HEADER_TIMEOUT - 0.5, "closed after {:.1f}s, before header_timeout".format(first)
    if not WRAPPER:
        # Waiting heads cost nothing: the loop is woken when bytes come, not polled.
        assert cpu < 0.1 * wall, "enoki used {:.2f}s of CPU in {:.2f}s for {} waiting heads".format(
            cpu, wall, len(slow))
    assert_serves(gw)


@pytest.mark.skipif(bool(WRAPPER), reason="valgrind keeps descriptors of its own near the limit")
def test_out_of_descriptors(peer, broker, tmp_path):
    """Half-open connections take every descriptor enoki may open: new connections wait in the
    backlog (the listener looks again every 100 ms instead of spinning on a socket it cannot
    accept from, and says so once), the connections already open are served all along, and new
    ones are accepted again as soon as descriptors are freed."""
    fd_gw = start_gateway(tmp_path, broker, NAME + "f", "fd.yaml")
    try:
        kept = connect(fd_gw)
        kept_reader = Reader(kept)
        sock = WSClient(fd_gw.port, timeout=T)
        in_use = len(os.listdir("/proc/{}/fd".format(fd_gw.proc.pid)))
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.prlimit(fd_gw.proc.pid, resource.RLIMIT_NOFILE, (in_use + 40, hard))
        slow = []
        for _ in range(100):
            s = connect(fd_gw)
            s.sendall(b"G")
            slow.append(s)
        time.sleep(0.3)
        cpu0 = cpu_seconds(fd_gw.proc.pid)
        started = time.monotonic()
        while time.monotonic() - started < 1.0:
            kept.sendall(head(target="/echo?kept=1"))
            t = time.monotonic()
            assert kept_reader.response()[0] == 200
            assert time.monotonic() - t < BOUND
            assert sock.call(SVC + ".echo", {"ws": 1}, "ws")["success"] is True
            time.sleep(0.05)
        cpu = cpu_seconds(fd_gw.proc.pid) - cpu0
        assert cpu < 0.1 * (time.monotonic() - started), \
            "the listener spins: {:.2f}s of CPU".format(cpu)
        for s in slow:
            s.close()
        start = time.monotonic()
        r = fd_gw.get("/echo?after=1")
        assert r.status == 200 and time.monotonic() - start < BOUND + 0.5, r
        log = fd_gw.stderr_text()
        warnings = log.count("[listener] accept: Too many open files")
        assert 1 <= warnings <= 5, "{} warnings about descriptors".format(warnings)
        resource.prlimit(fd_gw.proc.pid, resource.RLIMIT_NOFILE, (in_use + 100, hard))
        assert_serves(fd_gw, sock)
    finally:
        fd_gw.stop()


def cpu_seconds(pid):
    with open("/proc/{}/stat".format(pid)) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")



@pytest.mark.waits
def test_stuck_clients_are_closed_after_idle_timeout(gw):
    """Clients that never read a large response, and bodies that never come: enoki serves the
    others meanwhile, holds no big buffer for them, and idle_timeout closes them."""
    watch_memory = memory_is_measurable()
    rss0 = rss_kb(gw.proc.pid)
    readers = []
    for _ in range(20):
        s = connect(gw, rcvbuf=4096)
        s.sendall(b"GET /static/big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        readers.append(s)
    # A chunk that announces 2^63 bytes, and a Content-Length that is never sent in full.
    waiting = [connect(gw), connect(gw)]
    waiting[0].sendall(post(b"8000000000000000\r\n" + BODY, TE + b"chunked"))
    waiting[1].sendall(post(BODY[:3], CL + b"8"))
    started = time.monotonic()
    for _ in range(5):
        assert_serves(gw)
        time.sleep(0.1)
    if watch_memory:
        grown = rss_kb(gw.proc.pid) - rss0
        assert grown < 16 * 1024, \
            "enoki grew by {} KiB for 20 clients that do not read".format(grown)
    # Once idle_timeout has passed, the readers read: a part of the file, then the end.
    time.sleep(max(0.0, started + IDLE_TIMEOUT + 1.0 * SCALE - time.monotonic()))
    for s in readers:
        reader = Reader(s)
        got = 0
        deadline = started + IDLE_TIMEOUT + 3 * SCALE
        while reader._more(deadline):
            got += len(reader.buf)
            reader.buf = b""
        assert reader.eof, "a client that does not read was not closed"
        assert got < BIG_FILE, "a stalled client got the whole file ({} bytes)".format(got)
    for s in waiting:
        reader = Reader(s)
        assert reader.response(IDLE_TIMEOUT + 3 * SCALE) is None
        assert reader.eof
    assert time.monotonic() - started > IDLE_TIMEOUT - 0.5
    assert_serves(gw)


def test_pipelined_garbage_after_a_valid_request(gw):
    pipelined = b"".join(head(target="/echo?i=%d" % i) for i in range(50))
    junks = ((b"hello there\r\n\r\n", bad_line), (b"\x01\x02\xff\xfe junk\r\n\r\n", bad_line),
             (b"GET /echo HTTP/1.1\r\nHost: x\r\nX-A\r\n\r\n",
              lambda a: mhd_error(a, 400, "syntactically incorrect")))
    for junk, check in junks:
        reader, first = send_raw(gw, pipelined + junk)
        answers = [first] + [reader.response() for _ in range(49)]
        for i, a in enumerate(answers):
            assert a[0] == 200 and json.loads(a[2]) == {"args": [], "kwargs": {"i": str(i)}}, a
        check(reader.response())
        assert reader.closed()
    assert_serves(gw)


# === websockets ===================================================================================


@pytest.fixture
def ws(gw):
    made = []

    def make(**kw):
        kw.setdefault("timeout", T)
        c = WSClient(gw.port, **kw)
        made.append(c)
        return c

    yield make
    for c in made:
        c.abort()


def test_oversized_frames_close_1009(gw, ws):
    keeper = ws()
    # Twenty sockets at once send a whole frame over websocket_max_frame; one announces the
    # largest length RFC 6455 allows and sends a few bytes of it.
    over = [ws() for _ in range(20)]
    payload = b'{"method": "get_subscriptions", "correlation_id": "' + b"x" * MAX_FRAME + b'"}'
    for c in over:
        c.send_raw(encode_frame(OP_TEXT, payload))
    huge = ws()
    huge.send_raw(encode_frame(OP_BINARY, b"0123456789", length=(1 << 63) - 1))
    for c in over + [huge]:
        closed = c.wait_closed(3 * SCALE)
        assert closed.code == 1009, closed
    assert_serves(gw, keeper)


def test_frame_length_with_the_top_bit_set_is_dropped(gw, ws):
    # RFC 6455 5.2: the most significant bit of a 64-bit length must be 0. libwebsockets drops
    # the connection (no close frame).
    c = ws()
    c.send_raw(bytes([0x82, 0xFF]) + struct.pack("!Q", 1 << 63) + os.urandom(4) + b"abc")
    closed = c.wait_closed(3 * SCALE)
    assert closed.eof or closed.code in (1002, 1009), closed
    assert_serves(gw)


def test_binary_junk_is_malformed_and_the_socket_stays(gw, ws):
    # Binary messages are JSON to nameko's hub, malformed or not; a text message that is not UTF-8
    # closes the socket (1007) instead, as RFC 6455 8.1 asks (test_websocket.py, not_utf8).
    rng = random.Random(7)
    c = ws()
    frames = [(OP_BINARY, bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 300))))
              for _ in range(30)]
    frames += [(OP_BINARY, b"\xff\xfe\xfd"), (OP_BINARY, b'{"method": "\xc3\x28"}'),
               (OP_BINARY, b'{"method": "get_subscriptions", "correlation_id": "\xed\xa0\x80"}'),
               (OP_BINARY, b'{"method": "get_subscriptions", "corr'),
               (OP_TEXT, b'{"method": "get_subscriptions", "data": {"channel": '),
               (OP_TEXT, b'{"method": "get_subscriptions"\x00}'),
               (OP_BINARY, os.urandom(MAX_FRAME - 10))]
    for opcode, payload in frames:
        c.send_frame(opcode, payload)
        got = c.recv_text(T)
        assert got == MALFORMED_FRAME, (payload[:60], got)
        assert c.call("get_subscriptions", None, "still") == {
            "type": "result", "success": True, "data": [], "correlation_id": "still"}
    assert_serves(gw, c)


def test_ping_flood(gw, ws):
    """Thousands of pings at once: libwebsockets answers with pongs (one pending at a time, so
    they are coalesced), others are served meanwhile, and the flooding socket keeps working."""
    flooder = ws()
    other = ws()
    n = 10000
    flood = b"".join(encode_frame(OP_PING, b"%08d" % i) for i in range(n))
    sender = Background(lambda: flooder.send_raw(flood))
    for _ in range(5):
        assert_serves(gw, other)
    sender.result(10)
    pongs = []
    try:
        while True:
            fin, opcode, payload = flooder.recv_frame(1.0 * SCALE)
            assert opcode == OP_PONG, (opcode, payload[:100])
            pongs.append(int(payload))
    except TimeoutError:
        pass
    assert pongs, "no pong at all for {} pings".format(n)
    assert pongs == sorted(set(pongs)) and pongs[-1] < n, pongs[:20]
    # Still a working socket: a call is answered, and a single ping gets its pong.
    assert flooder.call("get_subscriptions", None, "after") == {
        "type": "result", "success": True, "data": [], "correlation_id": "after"}
    flooder.ping(b"last")
    deadline = time.monotonic() + T
    while True:
        fin, opcode, payload = flooder.recv_frame(max(0.0, deadline - time.monotonic()))
        assert opcode == OP_PONG, (opcode, payload[:100])
        if payload == b"last":
            break
    assert_serves(gw, flooder, other)


PROTOCOL_ERRORS = [
    ("continuation_without_start", [encode_frame(OP_CONT, b"abc")], 1002),
    ("new_message_inside_a_fragmented_one",
     [encode_frame(OP_TEXT, b'{"met', fin=False), encode_frame(OP_TEXT, b'hod"}')], 1002),
    ("opcode_3", [encode_frame(0x3, b"abc")], 1002),
    ("opcode_7", [encode_frame(0x7, b"abc")], 1002),
    ("opcode_b", [encode_frame(0xB, b"abc")], 1002),
    ("opcode_f", [encode_frame(0xF, b"")], 1002),
    ("fragmented_ping", [encode_frame(OP_PING, b"x", fin=False)], 1002),
    # A control frame over 125 bytes: libwebsockets drops the connection without a close frame.
    ("long_ping", [encode_frame(OP_PING, b"x" * 200)], None),
]


@pytest.mark.parametrize("name,frames,code", PROTOCOL_ERRORS, ids=[c[0] for c in PROTOCOL_ERRORS])
def test_protocol_errors_close_1002(gw, ws, name, frames, code):
    c = ws()
    for frame in frames:
        c.send_raw(frame)
    closed = c.wait_closed(3 * SCALE)
    if code is None:
        assert closed.eof or closed.code == 1002, closed
    else:
        assert closed.code == code, closed
    assert c.eof(3 * SCALE), "the TCP connection stays open after {}".format(closed)
    assert_serves(gw)


def test_reader_that_never_reads_events_is_closed_1008(gw, ws, broker):
    """A socket subscribed to a nameko event channel never reads while the events come: it is
    closed once its queue is full, and the others get their events and answers meanwhile."""
    exchange = EVSVC + ".events"
    broker.declare_exchange(exchange)
    slow = ws(rcvbuf=4096)
    good = ws()
    assert slow.call("subscribe", {"channel": EVSVC + ".flood"}, 1)["data"] == [EVSVC + ".flood"]
    assert good.call("subscribe", {"channel": EVSVC + ".calm"}, 2)["data"] == [EVSVC + ".calm"]
    data = json.dumps("x" * 32768).encode()

    def publish(event_type, body):
        broker.publish(event_type, body, exchange=exchange, content_type="application/json",
                       content_encoding="utf-8", delivery_mode=2, priority=0, headers={})

    def gone():
        r = gw.post("/admin/unicast", json_body={"socket_id": slow.socket_id, "event": "probe",
                                                 "data": None}, headers=ADMIN_AUTH)
        assert r.status == 200, r
        return r.json() is False

    pushed = 0
    while pushed < (64 << 20) and not gone():
        for _ in range(64):
            publish("flood", data)
        pushed += 64 * len(data)
        time.sleep(0.02)
    assert gone(), "a socket that never reads was still open after {} MiB of events".format(
        pushed >> 20)
    publish("calm", b'"still here"')
    assert good.recv_json(T) == {"type": "event", "event": "calm", "data": "still here",
                                 "channel": EVSVC + ".calm"}
    messages, closed = slow.drain(10 * SCALE)
    assert closed is not None, "the slow reader's connection did not end"
    assert closed.eof or closed.code == 1008, closed
    assert_serves(gw, good)


def test_reserved_bits_close_1002(gw, ws):
    # After "rsv bits" libwebsockets reads no more, not even the client's close frame: it ends the
    # TCP connection when its close-ack timeout (5 s) runs out. The three sockets wait together.
    sockets = [ws() for _ in range(3)]
    for c, rsv in zip(sockets, (4, 2, 1)):
        c.send_raw(encode_frame(OP_TEXT, b'{"method": "get_subscriptions"}', rsv=rsv))
    for c in sockets:
        closed = c.wait_closed(3 * SCALE)
        assert closed.code == 1002 and closed.reason == b"rsv bits", closed
    assert_serves(gw)
    for c in sockets:
        assert c.eof(7 * SCALE), "the TCP connection stays open after close 1002"


HANDSHAKES = [
    ("key_not_base64", dict(key="not base64 at all!"), 400, "Sec-WebSocket-Key"),
    ("key_too_short", dict(key="c2hvcnQ="), 400, "Sec-WebSocket-Key"),
    ("key_too_long", dict(key="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="), 400,
     "Sec-WebSocket-Key"),
    ("key_empty", dict(key=""), 400, "Sec-WebSocket-Key"),
    ("version_12", dict(version="12"), 426, "version 13"),
    ("version_empty", dict(version=""), 426, "version 13"),
    ("version_14", dict(version="14"), 426, "version 13"),
]


@pytest.mark.parametrize("name,kw,status,words", HANDSHAKES, ids=[c[0] for c in HANDSHAKES])
def test_bad_handshake_is_refused(gw, name, kw, status, words):
    with pytest.raises(HandshakeRefused) as refused:
        WSClient(gw.port, timeout=T, **kw)
    exc = refused.value
    assert exc.status == status, (exc.status, exc.body)
    assert exc.headers.get("content-type") == "application/json"
    body = exc.json()
    assert body["error"] == ("upgrade_required" if status == 426 else "bad_request"), body
    assert words in body["message"], body
    if status == 426:
        assert exc.headers.get("sec-websocket-version") == "13, 8", exc.headers
    assert_serves(gw)


def test_handshake_without_key_or_version_is_refused(gw):
    base = b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    reader, answer = send_raw(gw, base + b"Sec-WebSocket-Version: 13\r\n\r\n")
    json_error(answer, 400, "bad_request", "Sec-WebSocket-Key")
    assert reader.closed()
    reader, answer = send_raw(gw, base + b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
    json_error(answer, 426, "upgrade_required")
    assert reader.closed()
    assert_serves(gw)


def test_handshake_version_8_is_served(gw, ws):
    # hybi-08 frames as RFC 6455 does; nameko's eventlet hub and libwebsockets both take it.
    c = ws(version="8")
    assert c.call(SVC + ".echo", {"v": 8}, "v8")["data"] == {"args": [], "kwargs": {"v": 8}}
