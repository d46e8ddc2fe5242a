#!/usr/bin/python3
"""hostile.py - malformed, oversized and slow traffic against a real enoki, checked batch by batch.

    tests/hostile/hostile.py --enoki build/enoki [--seconds 60] [--seed N] [--keep-going]
    tests/hostile/hostile.py --port 8000 [--pid PID] [--seconds 60]     (an enoki already running)
    tests/hostile/hostile.py --enoki build/enoki --replay SEED:BATCH [--case I]
    tests/hostile/hostile.py --list-grammars; ... --grammars '^chunked|^expect'  (a subset)

With --enoki it starts its own: a local broker must answer (scripts/broker.sh), and it starts the
test peer (tests/peer/nameko_peer.py) on an exchange of its own, writes a config routing /echo to
the peer's echo with /ws as the websocket path, and deletes its exchanges and queues at the end.
ENOKI_WRAPPER (or --wrapper) runs enoki under a tool such as valgrind; --scale multiplies every
time bound (default 10 under a wrapper, else 1).

Each batch runs every grammar below once, plus --extra randomly mutated cases. A grammar builds the
bytes of one connection (an HTTP request, a pipeline, a websocket handshake and frames) around a
size drawn from the batch's sweep: powers of two from 1 B to 2 MiB with jitter (the exponent moves
with the batch and the grammar, so every grammar sees every size within a few batches), or a value
next to a limit (websocket control and length fields, the sniffer's peek, max_header, libmicrohttpd's
read buffer, websocket_max_frame, max_body). About a third of the cases are then mutated (bytes
flipped, tokens such as CRLF, NUL or a Transfer-Encoding line inserted, ranges deleted or repeated,
line ends changed, the message cut short). The bytes go over raw sockets, some in pieces with pauses
(slow senders, some of which stop), at most --concurrency connections at a time, every wait bounded.

Checks, per connection:
  * what came back parses as HTTP/1.x responses (interim 1xx do not count as answers), then, after
    a 101, as server websocket frames (unmasked, no RSV bits, known opcodes, short whole control
    frames, nothing after a close frame);
  * at most one final answer per request: k for a pipeline of k requests; for a mutated or junk
    input, whose requests are not known, at most one per blank line that could end a head (plus one
    for trailing bytes); on a websocket, at most one data message per message sent plus the
    `connected` event, and at most one pong per ping;
  * a complete, unmutated request is answered (every request of a pipeline) or its connection closed
    within the answer bound (3 s x scale): a server that reads a request and then neither answers nor
    closes has stalled.
and after each batch, once every connection is closed:
  * enoki is alive, and GET /healthz answers 200 within 100 ms x scale (the best of 3 to 5 tries
    50 ms apart, so that one slow try on a busy machine does not fail it);
  * enoki's CPU (utime + stime from /proc/PID/stat) falls below --cpu-idle (5 %) over a 1 s window
    within 5 s x scale of the batch's end;
  * its RSS (VmRSS) is within baseline + max(4 MiB, 25 %), and does not grow in each of 6 batches
    in a row. The allocator keeps part of what it once held, so the baseline is the RSS after a
    warm-up (the largest accepted bodies and messages on every connection at once, twice) and the
    first batch; after a failure it moves up to the new level, so that only further growth is
    reported. Not checked under valgrind or with an ASan build, which keep freed memory.
The summary of a batch also counts enoki's connections in CLOSE-WAIT (their clients have closed,
enoki has not noticed: held until a timeout), as information, not as a failure.
With --enoki, enoki must also exit 0 on SIGTERM at the end, with no sanitizer or valgrind report.

A failure prints the run's seed and the batch, each failing case's request as a Python expression
that rebuilds it byte for byte (runs folded: b'2;' + b'a' * 100000 + ...) with its length and send
schedule, and writes the exact bytes to a file. When the process fails a check (crash, /healthz,
CPU), the connections that started before enoki last sent anything and were left neither answered
nor closed are listed as suspects, and with --enoki the batch (the suspects first) is replayed on
fresh enokis and halved until one case is left that still fails alone (within --isolate-seconds).
--replay SEED:BATCH [--case I] replays a batch or one case. The run stops after the first failing
batch unless --keep-going (then a process that failed a check is replaced by a fresh one). The last
lines are `hostile: N batches, M requests, F failures` and `P passed, F failed` (batches); the exit
status is 1 on any failure, 2 on a usage or setup error.
"""

import argparse
import base64
import json
import os
import random
import re
import selectors
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from ports import free_port  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
PEER_SCRIPT = REPO / "tests" / "peer" / "nameko_peer.py"

KIB, MIB = 1 << 10, 1 << 20
MAX_SIZE = 2 * MIB + 64 * KIB       # the sweep's top: past every limit enoki has by default
PEEK_MAX = 8192                     # gateway/sniff.c reads this much of a first head
CRLF = b"\r\n"
SANITIZER_RE = re.compile(r"AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:")
VALGRIND_RE = re.compile(r"^==\d+==", re.M)


def b(value):
    return value if isinstance(value, bytes) else str(value).encode("latin-1")


# --- what a connection does -------------------------------------------------------------------


class Case:
    """One connection's script. steps: ("send", bytes), ("sleep", s), ("await", s) waits up to s
    for a response head, ("if101",) ends the script unless the answer so far is a 101, ("cut",)
    closes at once. requests: how many final answers the bytes may get at most (None: count the
    blank lines that could end a head). complete: the request is whole and unmutated, so an answer
    (to each request) or a close is owed. methods: the request methods in order (HEAD answers
    have no body)."""

    def __init__(self, steps, requests=1, complete=True, methods=("GET",), ws_messages=None,
                 pings=0):
        self.steps = [s if isinstance(s, tuple) else ("send", s) for s in steps]
        self.requests = requests
        self.complete = complete and requests is not None
        self.methods = list(methods)
        self.ws_messages = ws_messages   # data messages sent after the handshake (None: no frames)
        self.pings = pings
        self.name = ""
        self.size = 0
        self.index = 0
        self.mutation = None

    def data(self):
        return b"".join(s[1] for s in self.steps if s[0] == "send")

    def answer_bound(self):
        if self.requests is not None and self.mutation is None:
            return self.requests
        return max(self.requests or 1, heads_in(self.http_part()))

    def http_part(self):
        """The bytes sent before a websocket handshake's answer was awaited (all of them, for HTTP)."""
        out = []
        for step in self.steps:
            if step[0] == "if101":
                break
            if step[0] == "send":
                out.append(step[1])
        return b"".join(out)

    def schedule(self):
        parts = []
        for step in self.steps:
            if step[0] == "send":
                parts.append("send {} B".format(len(step[1])))
            elif step[0] in ("sleep", "await"):
                parts.append("{} {:.2f} s".format(step[0], step[1]))
            else:
                parts.append(step[0])
        return ", ".join(parts)


def heads_in(data):
    """An upper bound on the requests a server can find in data: each answer it may give without
    closing needs a head, and a head ends with an empty line; one more for trailing bytes."""
    n = data.count(b"\n\r\n") + data.count(b"\n\n")
    last = max(data.rfind(b"\n\r\n") + 3, data.rfind(b"\n\n") + 2, 0)
    return n + (1 if data[last:].strip(b"\r\n") else 0)


def request(method="GET", target="/", headers=(), body=b"", version="HTTP/1.1", host=b"x",
            eol=CRLF):
    lines = [b(method) + b" " + b(target) + b" " + b(version)]
    if host is not None:
        lines.append(b"Host: " + b(host))
    lines += [b(name) + b": " + b(value) for name, value in headers]
    return eol.join(lines) + eol + eol + body


def with_length(body, *headers):
    return [("Content-Type", "application/json"), ("Content-Length", len(body))] + list(headers)


def json_body(n):
    """A JSON object of about n bytes."""
    return b'{"a": 1}' if n < 12 else b'{"a": "' + b"x" * (n - 10) + b'"}'


def chunks_of(body, rng, most=4096):
    out, i = [], 0
    while i < len(body):
        step = rng.randint(1, most)
        out.append(body[i:i + step])
        i += step
    return out


def chunked(chunks, last=b"0", trailers=(), eol=CRLF):
    return (b"".join(b"%x" % len(c) + eol + c + eol for c in chunks) + last + eol +
            b"".join(t + eol for t in trailers) + eol)


def chunked_post(t, body_chunks, extra=(), method="POST"):
    return request(method, t.route, [("Content-Type", "application/json"),
                                     ("Transfer-Encoding", "chunked")] + list(extra),
                   body=body_chunks, host=t.host)


def filler(rng, n, alphabet=b"abcdefghijklmnopqrstuvwxyz0123456789-_"):
    """n bytes: mostly one repeated letter (cheap, and it folds in the reports), else a random
    block of up to 4 KiB repeated."""
    if rng.random() < 0.7:
        return bytes([rng.choice(alphabet)]) * n
    return repeat(bytes(rng.choice(alphabet) for _ in range(min(max(n, 1), 4096))), n)


def repeat(block, n):
    """block repeated and cut to n bytes."""
    return (block * (n // len(block) + 1))[:n]


def random_bytes(rng, n, block=64 * KIB):
    return repeat(bytes(rng.getrandbits(8) for _ in range(min(max(n, 1), block))), n)


def pieces(rng, data, count, pause):
    """data as up to count sends with pauses up to pause seconds between them."""
    cuts = sorted(set(rng.randrange(1, len(data)) for _ in range(count - 1))) if len(data) > 1 else []
    steps, start = [], 0
    for cut in cuts + [len(data)]:
        steps.append(("send", data[start:cut]))
        if cut != len(data):
            steps.append(("sleep", rng.uniform(0.01, pause)))
        start = cut
    return steps


# --- websocket frames -----------------------------------------------------------------------


OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def frame(rng, opcode, payload, fin=True, mask=True, rsv=0, length=None, width=None):
    """One client frame. length overrides the announced length; width forces the length field's
    size (7, 16 or 64 bits) even when a smaller one would do."""
    n = len(payload) if length is None else length
    out = bytearray([(0x80 if fin else 0) | (rsv << 4) | opcode])
    mbit = 0x80 if mask else 0
    width = width or (7 if n < 126 else 16 if n < 65536 else 64)
    if width == 7:
        out.append(mbit | n)
    elif width == 16:
        out += bytes([mbit | 126]) + struct.pack("!H", n & 0xFFFF)
    else:
        out += bytes([mbit | 127]) + struct.pack("!Q", n & 0xFFFFFFFFFFFFFFFF)
    if mask:
        key = bytes(rng.getrandbits(8) for _ in range(4))
        out += key
        if payload:
            stream = (key * (len(payload) // 4 + 1))[:len(payload)]
            payload = (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(
                len(payload), "big")
    return bytes(out) + payload


def handshake(rng, t, key=None, version=b"13", extra=(), method=b"GET", path=None, upgrade=b"websocket",
              connection=b"Upgrade"):
    if key is None:
        key = base64.b64encode(bytes(rng.getrandbits(8) for _ in range(16)))
    headers = [("Upgrade", upgrade), ("Connection", connection), ("Sec-WebSocket-Key", key),
               ("Sec-WebSocket-Version", version)] + list(extra)
    return request(method, path or t.ws_path, [(k, v) for k, v in headers if v is not None],
                   host=t.host)


def ws_case(rng, t, frames, messages, pings=0, pause=0.0):
    """A good handshake, then frames (a list of bytes), sent one by one with pauses up to pause
    seconds when there are a few, else in 8 sends."""
    steps = [("send", handshake(rng, t)), ("await", 2.0), ("if101",)]
    if len(frames) > 8:
        per = -(-len(frames) // 8)
        frames = [b"".join(frames[i:i + per]) for i in range(0, len(frames), per)]
    for f in frames:
        steps.append(("send", f))
        if pause:
            steps.append(("sleep", rng.uniform(0.0, pause)))
    return Case(steps, requests=1, ws_messages=messages, pings=pings)


def ws_call(rng, cid):
    return frame(rng, OP_TEXT, json.dumps({"method": "get_subscriptions",
                                           "correlation_id": cid}).encode())


# --- the grammars -----------------------------------------------------------------------------
#
# Each builds one Case around a size n. t holds the target's paths and limits.

GRAMMARS = []


def grammar(name):
    def register(fn):
        GRAMMARS.append((name, fn))
        return fn
    return register


@grammar("fast.query")
def _fast_query(rng, n, t):
    method = rng.choice(["GET", "DELETE"])
    return Case([request(method, t.route + "?q=" + "a" * n, host=t.host)], methods=[method])


@grammar("fast.body")
def _fast_body(rng, n, t):
    method = rng.choice(["POST", "PUT", "PATCH"])
    body = json_body(n)
    return Case([request(method, t.route, with_length(body), body, host=t.host)], methods=[method])


@grammar("fast.body_never_comes")
def _fast_short(rng, n, t):
    body = json_body(n + 1)
    cut = rng.randrange(0, len(body))
    return Case([request("POST", t.route, with_length(body), body[:cut], host=t.host)],
                complete=False, methods=["POST"])


@grammar("fast.body_too_long")
def _fast_long(rng, n, t):
    # More bytes than Content-Length: the rest is the next request (answered 400, or served).
    body = json_body(n)
    extra = rng.choice([b"x" * rng.randint(1, 64) + CRLF + CRLF, request("GET", t.route, host=t.host)])
    head = request("POST", t.route, with_length(body), body, host=t.host)
    return Case([head + extra], requests=2, methods=["POST", "GET"])


@grammar("head.big_value")
def _head_big(rng, n, t):
    return Case([request("GET", t.route, [("X-Big", filler(rng, n))], host=t.host)])


@grammar("head.many_fields")
def _head_many(rng, n, t):
    fields = [("X-H%d" % i, "v") for i in range(max(1, n // 12))]
    return Case([request("GET", t.route, fields, host=t.host)])


@grammar("head.long_name")
def _head_name(rng, n, t):
    return Case([request("GET", t.route, [(b"X-" + filler(rng, n), "v")], host=t.host)])


@grammar("head.deep_path")
def _head_path(rng, n, t):
    return Case([request("GET", t.route + "/" + "a/" * (n // 2), host=t.host)])


@grammar("head.bare_lf")
def _head_lf(rng, n, t):
    return Case([request("GET", t.route + "?lf=1", [("X-Pad", filler(rng, n))], host=t.host,
                         eol=b"\n")])


@grammar("head.empty_lines_first")
def _head_empty(rng, n, t):
    lead = rng.choice([CRLF, b"\n"]) * max(1, n // 2)
    return Case([lead + request("GET", t.health, host=t.host)])


@grammar("head.duplicates")
def _head_dups(rng, n, t):
    name = rng.choice(["Host", "Content-Length", "Transfer-Encoding", "Content-Type", "Connection",
                       "Expect"])
    value = rng.choice(["0", "5", "chunked", "close", "x", "100-continue", filler(rng, n)])
    fields = [(name, value)] * rng.randint(2, 2 + min(n, 200))
    # Framing headers may make the server wait for a body: no answer is owed then.
    waits = name in ("Content-Length", "Transfer-Encoding", "Expect")
    return Case([request("GET", t.route, fields, host=t.host)], complete=not waits)


@grammar("method.head")
def _method_head(rng, n, t):
    target = rng.choice([t.route, t.health, t.metrics, "/static/none", "/nowhere"])
    return Case([request("HEAD", target, [("X-Pad", "p" * n)], host=t.host)], methods=["HEAD"])


@grammar("method.options")
def _method_options(rng, n, t):
    target = rng.choice([t.route, "*", t.health, "/nowhere", t.ws_path])
    headers = [("Origin", "https://a.example"), ("Access-Control-Request-Method", "POST"),
               ("Access-Control-Request-Headers", ",".join(["x-h"] * max(1, n // 4)))]
    return Case([request("OPTIONS", target, headers, host=t.host)], methods=["OPTIONS"])


@grammar("method.other")
def _method_other(rng, n, t):
    method = rng.choice([b"TRACE", b"PROPFIND", b"FOO", b"get", b"post", b"G" * max(1, n), b"M-SEARCH"])
    body = json_body(min(n, 64)) if rng.random() < 0.5 else b""
    headers = with_length(body) if body else []
    return Case([request(method, t.route, headers, body, host=t.host)], methods=[method.decode()])


@grammar("method.connect")
def _method_connect(rng, n, t):
    target = rng.choice([t.host, "127.0.0.1:1", "h" * n + ":80", t.route])
    return Case([request("CONNECT", target, host=t.host)], methods=["CONNECT"])


@grammar("method.body_on_get_or_head")
def _method_body(rng, n, t):
    method = rng.choice(["GET", "HEAD", "OPTIONS", "DELETE"])
    body = json_body(n)
    return Case([request(method, t.route, with_length(body), body, host=t.host)], methods=[method])


@grammar("chunked.ext_line")
def _chunk_ext(rng, n, t):
    # Chunk extensions of every shape, as long as the sweep says (RFC 9112 7.1.1).
    shape = rng.randrange(5)
    if shape == 0:
        ext = b";" + filler(rng, n)
    elif shape == 1:
        ext = b";a=b" * max(1, n // 4)
    elif shape == 2:
        ext = b';q="' + b'\\"x' * max(1, n // 3) + b'"'
    elif shape == 3:
        ext = b" " * max(1, n // 2) + b";a" + b"\t" * max(1, n // 2)
    else:
        ext = b";" + b"=" * n
    chunks = b"8" + ext + CRLF + b'{"a": 1}' + CRLF + b"0" + CRLF + CRLF
    return Case([chunked_post(t, chunks)], methods=["POST"])


@grammar("chunked.leading_zeros")
def _chunk_zeros(rng, n, t):
    chunks = b"0" * n + b"8" + CRLF + b'{"a": 1}' + CRLF + b"0" + CRLF + CRLF
    return Case([chunked_post(t, chunks)], methods=["POST"])


@grammar("chunked.last_chunk_ext")
def _chunk_last_ext(rng, n, t):
    chunks = b"8" + CRLF + b'{"a": 1}' + CRLF + b"0;" + filler(rng, n) + CRLF + CRLF
    return Case([chunked_post(t, chunks)], methods=["POST"])


@grammar("chunked.trailer_big")
def _chunk_trailer(rng, n, t):
    return Case([chunked_post(t, chunked([b'{"a": 1}'], trailers=[b"X-T: " + filler(rng, n)]))],
                methods=["POST"])


@grammar("chunked.trailer_many")
def _chunk_trailers(rng, n, t):
    trailers = [b"X-T%d: v" % i for i in range(max(1, n // 10))]
    return Case([chunked_post(t, chunked([b'{"a": 1}'], trailers=trailers))], methods=["POST"])


@grammar("chunked.small_chunks")
def _chunk_small(rng, n, t):
    return Case([chunked_post(t, chunked(chunks_of(json_body(n), rng, most=rng.choice([1, 7, 64,
                                                                                        4096]))))],
                methods=["POST"])


@grammar("chunked.one_big")
def _chunk_big(rng, n, t):
    return Case([chunked_post(t, chunked([json_body(n)]))], methods=["POST"])


@grammar("chunked.endless")
def _chunk_endless(rng, n, t):
    # A chunk announced bigger than anything, its bytes streamed for a while, then the sender stops.
    size = rng.choice([b"7fffffffffffffff", b"ffffffff", b"%x" % (n * 4 + 1), b"10000000000000000"])
    head = chunked_post(t, size + CRLF)
    body = filler(rng, n)
    return Case([("send", head)] + pieces(rng, body, rng.randint(1, 6), 0.2) + [("cut",)],
                complete=False, methods=["POST"])


@grammar("chunked.bad_size")
def _chunk_bad(rng, n, t):
    size = rng.choice([b"zz", b"-8", b"0x8", b"8 8", b"+8", b"8\x00", b"f" * max(17, n % 64),
                       b"1" + b"0" * min(n, 64), b"", b" 8", b"8 ", b"\t8"])
    chunks = size + CRLF + b'{"a": 1}' + CRLF + b"0" + CRLF + CRLF
    # A valid size bigger than the data that follows is a body still to come, not an error.
    waits = re.fullmatch(rb"10+", size) is not None and len(size) < 17
    return Case([chunked_post(t, chunks)], complete=not waits, methods=["POST"])


@grammar("chunked.bad_framing")
def _chunk_framing(rng, n, t):
    body = json_body(n)
    shape = rng.randrange(4)
    if shape == 0:      # bare LF everywhere
        chunks, complete = chunked([body], eol=b"\n"), True
    elif shape == 1:    # the data longer than announced
        chunks, complete = b"%x" % max(0, len(body) - 3) + CRLF + body + CRLF + b"0" + CRLF + CRLF, True
    elif shape == 2:    # no last chunk: the body never ends
        chunks, complete = b"%x" % len(body) + CRLF + body + CRLF, False
    else:               # CR without LF
        chunks, complete = b"%x\r" % len(body) + body + b"\r0\r\r", False
    return Case([chunked_post(t, chunks)], complete=complete, methods=["POST"])


@grammar("chunked.te_variants")
def _chunk_te(rng, n, t):
    te = rng.choice(["chunked", "Chunked", "chunked, chunked", "gzip, chunked", "identity, chunked",
                     "chunked;q=1", " chunked ", "chunked" + " " * n])
    extra = [("Content-Length", 8)] if rng.random() < 0.3 else []
    body = chunked([b'{"a": 1}'])
    return Case([request("POST", t.route, [("Content-Type", "application/json"),
                                           ("Transfer-Encoding", te)] + extra, body, host=t.host)],
                methods=["POST"])


@grammar("expect.continue")
def _expect(rng, n, t):
    body = json_body(n)
    head = request("POST", t.route, with_length(body, ("Expect", "100-continue")), host=t.host)
    return Case([("send", head), ("await", 1.0), ("send", body)], methods=["POST"])


@grammar("expect.body_never_sent")
def _expect_never(rng, n, t):
    body = json_body(n)
    head = request("PUT", t.route, with_length(body, ("Expect", "100-continue")), host=t.host)
    return Case([("send", head), ("await", 1.0)], complete=False, methods=["PUT"])


@grammar("expect.chunked")
def _expect_chunked(rng, n, t):
    head = chunked_post(t, b"", extra=[("Expect", "100-continue")])
    chunks = b"8;" + filler(rng, n) + CRLF + b'{"a": 1}' + CRLF + b"0" + CRLF + CRLF
    return Case([("send", head), ("await", 1.0), ("send", chunks)], methods=["POST"])


@grammar("expect.odd_values")
def _expect_odd(rng, n, t):
    value = rng.choice([b"100-Continue", b"100-continue, 100-continue", b"200-ok", b"",
                        b"100-continue;" + filler(rng, n)])
    body = json_body(min(n, 4096))
    return Case([request("POST", t.route, with_length(body, ("Expect", value)), body, host=t.host)],
                methods=["POST"])


@grammar("target.absolute")
def _target_absolute(rng, n, t):
    shape = rng.randrange(4)
    if shape == 0:
        target = "http://" + t.host + t.route + "?q=" + "a" * n
    elif shape == 1:
        target = "http://" + "h" * max(1, n) + t.route
    elif shape == 2:
        target = rng.choice(["HTTP://", "https://", "ws://", "ftp://"]) + t.host + t.route
    else:
        target = "http://user:" + "p" * n + "@" + t.host + t.health
    return Case([request("GET", target, host=t.host)])


@grammar("target.odd_forms")
def _target_odd(rng, n, t):
    target = rng.choice(["*", "//" + t.route.lstrip("/"), t.route + "#frag", "/%zz", "/../../etc",
                         t.route.lstrip("/"), t.route + "?" + "%" * n, "/" + "%2e%2e/" * max(1, n // 6),
                         t.route + "\t", "/static/" + "../" * max(1, n // 3)])
    return Case([request("GET", target, host=t.host)])


@grammar("version.http10")
def _http10(rng, n, t):
    method = rng.choice(["GET", "POST"])
    body = json_body(n) if method == "POST" else b""
    headers = (with_length(body) if body else []) + (
        [("Connection", "keep-alive")] if rng.random() < 0.5 else [])
    host = t.host if rng.random() < 0.5 else None
    return Case([request(method, t.route, headers, body, version="HTTP/1.0", host=host)],
                methods=[method])


@grammar("version.odd")
def _version_odd(rng, n, t):
    version = rng.choice([b"HTTP/1.2", b"HTTP/2.0", b"HTTP/1.10", b"http/1.1", b"HTTP/01.1",
                          b"HTTP/1.1 x", b"HTTP/", b"HTTP/1", b"HTTP/1." + b"1" * n, b"HTTP/0.9"])
    return Case([request("GET", t.route, version=version, host=t.host)])


@grammar("version.none")
def _version_none(rng, n, t):
    line = rng.choice([b"GET /", b"GET " + b(t.route) + b"?" + b"a" * n, b"GET", b"/"])
    return Case([line + CRLF + CRLF])


@grammar("version.h2_preface")
def _h2(rng, n, t):
    data = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + random_bytes(rng, min(n, 65536))
    return Case([data], requests=None)


@grammar("pipeline.fast")
def _pipe_fast(rng, n, t):
    k = min(64, 2 + n.bit_length() * 3)
    data = b"".join(request("GET", t.route + "?i=%d" % i, host=t.host) for i in range(k))
    return Case(pieces(rng, data, rng.randint(1, 3), 0.05), requests=k, methods=["GET"] * k)


def pipeline_item(rng, t, n):
    """One well-formed request for a pipeline: (bytes, method)."""
    kind = rng.randrange(7)
    if kind == 0:
        return request("GET", t.route + "?p=1", host=t.host), "GET"
    if kind == 1:
        body = json_body(rng.randint(1, max(1, n)))
        return request("POST", t.route, with_length(body), body, host=t.host), "POST"
    if kind == 2:
        return request("HEAD", rng.choice([t.route, t.health]), host=t.host), "HEAD"
    if kind == 3:
        return request("OPTIONS", t.route, host=t.host), "OPTIONS"
    if kind == 4:
        return chunked_post(t, chunked(chunks_of(json_body(min(n, 4096)), rng, 64))), "POST"
    if kind == 5:
        return request("GET", t.health, host=t.host), "GET"
    return request("GET", t.metrics, host=t.host), "GET"


@grammar("pipeline.mixed")
def _pipe_mixed(rng, n, t):
    k = rng.randint(2, min(24, 2 + n.bit_length()))
    items = [pipeline_item(rng, t, min(n, 64 * KIB)) for _ in range(k)]
    data = b"".join(i[0] for i in items)
    return Case(pieces(rng, data, rng.randint(1, 4), 0.05), requests=k, methods=[i[1] for i in items])


@grammar("pipeline.bad_inside")
def _pipe_bad(rng, n, t):
    k = rng.randint(2, 8)
    items = [pipeline_item(rng, t, 256) for _ in range(k)]
    bad = rng.choice([b"hello there" + CRLF + CRLF, b"GET /\0 HTTP/1.1" + CRLF + CRLF,
                      request("POST", t.route, [("Content-Length", "abc")], host=t.host),
                      request("GET", t.route, [("X-Big", "a" * n)], host=t.host),
                      chunked_post(t, b"8;" + b"e" * n + CRLF + b'{"a": 1}' + CRLF + b"0" + CRLF + CRLF)])
    at = rng.randrange(k + 1)
    items.insert(at, (bad, "POST"))
    return Case([b"".join(i[0] for i in items)], requests=k + 1, methods=[i[1] for i in items])


@grammar("slow.head")
def _slow_head(rng, n, t):
    data = request("GET", t.route + "?slow=1", [("X-Pad", filler(rng, min(n, 64 * KIB)))], host=t.host)
    return Case(pieces(rng, data, rng.randint(2, 12), 0.15))


@grammar("slow.stops")
def _slow_stops(rng, n, t):
    data = rng.choice([request("GET", t.route, [("X-Pad", filler(rng, min(n, 64 * KIB)))],
                               host=t.host),
                       chunked_post(t, chunked([json_body(min(n, 64 * KIB))])),
                       request("POST", t.route, with_length(json_body(n)), json_body(n), host=t.host)])
    steps = pieces(rng, data[:rng.randrange(1, len(data))], rng.randint(1, 8), 0.15)
    return Case(steps + [rng.choice([("cut",), ("sleep", rng.uniform(0.1, 0.5))])], complete=False)


@grammar("slow.body")
def _slow_body(rng, n, t):
    body = json_body(n)
    data = request("POST", t.route, with_length(body), body, host=t.host)
    return Case(pieces(rng, data, rng.randint(2, 10), 0.15), methods=["POST"])


@grammar("slow.chunk_line")
def _slow_chunk_line(rng, n, t):
    chunks = b"8;" + filler(rng, n) + CRLF + b'{"a": 1}' + CRLF + b"0" + CRLF + CRLF
    return Case(pieces(rng, chunked_post(t, chunks), rng.randint(2, 10), 0.15), methods=["POST"])


@grammar("junk.random")
def _junk(rng, n, t):
    return Case([random_bytes(rng, n)], requests=None)


@grammar("junk.tls_hello")
def _junk_tls(rng, n, t):
    body = random_bytes(rng, min(n, 16000))
    return Case([b"\x16\x03\x01" + struct.pack("!H", len(body)) + body], requests=None)


@grammar("junk.line_flood")
def _junk_lines(rng, n, t):
    return Case([rng.choice([CRLF, b"\n", b"\r", b" ", b"\0"]) * n], requests=None)


@grammar("upgrade.bad_key")
def _up_key(rng, n, t):
    key = rng.choice([b"", b"short", b"A" * n, base64.b64encode(b"k" * (n % 40 + 1)),
                      b"!!!!!!!!!!!!!!!!!!!!!!==", b"AAAAAAAAAAAAAAAAAAAAAA=", b"AAAAAAAAAAAAAAAAAAAAAA\0="])
    return Case([("send", handshake(rng, t, key=key)), ("await", 2.0), ("if101",)], ws_messages=0)


@grammar("upgrade.bad_version")
def _up_version(rng, n, t):
    version = rng.choice([b"", b"0", b"12", b"14", b"13, 8", b"-13", b"9" * max(1, min(n, 9000)),
                          b"13" + b" " * n])
    return Case([("send", handshake(rng, t, version=version)), ("await", 2.0), ("if101",)],
                ws_messages=0)


@grammar("upgrade.odd_requests")
def _up_odd(rng, n, t):
    shape = rng.randrange(6)
    if shape == 0:
        data = handshake(rng, t, connection=None)
    elif shape == 1:
        data = handshake(rng, t, upgrade=rng.choice([b"h2c", b"websocket, foo", b"WebSocket", b""]))
    elif shape == 2:
        body = json_body(min(n, 4096))
        data = handshake(rng, t, extra=with_length(body)) + body
    elif shape == 3:
        data = handshake(rng, t, method=b"POST")
    elif shape == 4:
        data = handshake(rng, t, path=t.route)
    else:
        data = handshake(rng, t, path=t.ws_path + "?" + "q" * n)
    return Case([("send", data), ("await", 2.0), ("if101",)], ws_messages=0)


@grammar("upgrade.big_head")
def _up_big(rng, n, t):
    return Case([("send", handshake(rng, t, extra=[("X-Pad", filler(rng, n))])), ("await", 2.0),
                 ("if101",)], ws_messages=0)


@grammar("ws.reserved_opcode")
def _ws_opcode(rng, n, t):
    op = rng.choice([3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
    return ws_case(rng, t, [frame(rng, op, b"x" * min(n, 125 if op >= 8 else n))], 0)


@grammar("ws.unmasked")
def _ws_unmasked(rng, n, t):
    op = rng.choice([OP_TEXT, OP_BINARY, OP_PING])
    payload = b'{"method": "get_subscriptions", "correlation_id": 1}' if op == OP_TEXT \
        else b"u" * min(n, 125)
    return ws_case(rng, t, [frame(rng, op, payload, mask=False), ws_call(rng, 2)], 2,
                   pings=1 if op == OP_PING else 0)


@grammar("ws.length_64bit")
def _ws_len64(rng, n, t):
    length = rng.choice([1 << 63, (1 << 64) - 1, (1 << 63) - 1, 1 << 32, n, 0])
    payload = b"p" * min(n, 4096)
    return ws_case(rng, t, [frame(rng, OP_BINARY, payload, length=length, width=64)], 1)


@grammar("ws.length_not_minimal")
def _ws_len_min(rng, n, t):
    payload = b'{"method": "get_subscriptions", "correlation_id": 3}'
    width = rng.choice([16, 64])
    return ws_case(rng, t, [frame(rng, OP_TEXT, payload, width=width), ws_call(rng, 4)], 2)


@grammar("ws.length_beyond_payload")
def _ws_len_short(rng, n, t):
    f = frame(rng, OP_TEXT, b"s" * min(n, 64 * KIB), length=n + 10)
    return ws_case(rng, t, [f], 0)


@grammar("ws.control_too_big")
def _ws_control(rng, n, t):
    op = rng.choice([OP_PING, OP_PONG, OP_CLOSE])
    payload = (b"\x03\xe8" if op == OP_CLOSE else b"") + b"c" * max(124, min(n, 256 * KIB))
    return ws_case(rng, t, [frame(rng, op, payload)], 0, pings=1 if op == OP_PING else 0)


@grammar("ws.fragments")
def _ws_fragments(rng, n, t):
    shape = rng.randrange(5)
    if shape == 0:      # a continuation without a start
        frames, messages = [frame(rng, OP_CONT, b"abc")], 0
    elif shape == 1:    # a new message inside a fragmented one
        frames, messages = [frame(rng, OP_TEXT, b'{"met', fin=False), frame(rng, OP_TEXT, b'hod"}')], 1
    elif shape == 2:    # a fragmented control frame
        frames, messages = [frame(rng, OP_PING, b"x", fin=False)], 0
    elif shape == 3:    # a message of n bytes in many fragments, then a call
        body = b'{"method": "get_subscriptions", "correlation_id": "' + b"f" * n + b'"}'
        parts = chunks_of(body, rng, most=rng.choice([1, 100, 10000]))[:4096]
        frames = [frame(rng, OP_TEXT if i == 0 else OP_CONT, p, fin=False) for i, p in enumerate(parts)]
        frames += [frame(rng, OP_CONT, b"", fin=True), ws_call(rng, 5)]
        messages = 2
    else:               # pings between the fragments of a message
        frames = [frame(rng, OP_TEXT, b'{"method": ', fin=False), frame(rng, OP_PING, b"in"),
                  frame(rng, OP_CONT, b'"get_subscriptions", "correlation_id": 6}')]
        messages = 1
    pings = sum(1 for f in frames if f[0] & 0x0F == OP_PING)
    return ws_case(rng, t, frames, messages, pings=pings, pause=0.02)


@grammar("ws.rsv_bits")
def _ws_rsv(rng, n, t):
    return ws_case(rng, t, [frame(rng, OP_TEXT, b'{"method": "x"}', rsv=rng.randint(1, 7))], 1)


@grammar("ws.big_message")
def _ws_big(rng, n, t):
    body = b'{"method": "get_subscriptions", "correlation_id": "' + b"m" * n + b'"}'
    return ws_case(rng, t, [frame(rng, rng.choice([OP_TEXT, OP_BINARY]), body), ws_call(rng, 7)], 2)


@grammar("ws.bad_payloads")
def _ws_bad_payloads(rng, n, t):
    payloads = [b"\xff\xfe\xfd", b'{"method": "\xc3\x28"}', b"\xed\xa0\x80", b"{" * min(n, 65536),
                b"[" * min(n, 65536), b'{"method": null}', b'{"method": "a.b", "data": ' + b"1" * n + b"}",
                random_bytes(rng, min(n, 65536))]
    picked = rng.sample(payloads, rng.randint(1, 3))
    frames = [frame(rng, rng.choice([OP_TEXT, OP_BINARY]), p) for p in picked] + [ws_call(rng, 8)]
    return ws_case(rng, t, frames, len(frames))


@grammar("ws.close_frames")
def _ws_close(rng, n, t):
    payload = rng.choice([b"\x03", b"\x03\xe7", b"\x03\xed", b"\x13\x88", b"\x00\x00",
                          b"\x03\xe8\xff\xfe", b"\x03\xe8" + b"r" * 123, b""])
    frames = [frame(rng, OP_CLOSE, payload)]
    if rng.random() < 0.5:
        frames.append(ws_call(rng, 9))   # after a close: must not be answered
    return ws_case(rng, t, frames, 0)


@grammar("ws.ping_flood")
def _ws_pings(rng, n, t):
    count = min(2000, max(1, n // 64))
    frames = [b"".join(frame(rng, OP_PING, b"%d" % i) for i in range(count)), ws_call(rng, 10)]
    return ws_case(rng, t, frames, 1, pings=count)


@grammar("ws.junk")
def _ws_junk(rng, n, t):
    return ws_case(rng, t, [random_bytes(rng, n)], 0)


# --- sizes and mutations ------------------------------------------------------------------------


class Target:
    """Where the traffic goes, and the limits the sizes are drawn around."""

    def __init__(self, port, route="/echo", ws_path="/ws", health="/healthz", metrics="/metrics",
                 max_header=16 * KIB, max_body=MIB, max_frame=MIB):
        self.port = port
        self.host = "127.0.0.1:{}".format(port)
        self.route, self.ws_path, self.health, self.metrics = route, ws_path, health, metrics
        self.max_header, self.max_body, self.max_frame = max_header, max_body, max_frame

    def edges(self):
        return [125, 126, 127, 4096, PEEK_MAX, self.max_header, self.max_header + 8192,
                65535, 65536, self.max_frame, self.max_body]


def sweep_size(rng, t, batch, g):
    """A size for grammar g in this batch: a limit's neighbourhood a quarter of the time, else a
    power of two from 2^0 to 2^21 (with jitter) that moves with the batch and the grammar."""
    if rng.random() < 0.25:
        return max(0, rng.choice(t.edges()) + rng.randint(-3, 3))
    exponent = (batch * 5 + g * 3) % 22
    return min(MAX_SIZE, int(2 ** (exponent + rng.random())))


TOKENS = [CRLF, b"\n", b"\r", CRLF + CRLF, b"\0", b" ", b"\t", b":", b";", b",", b"=", b'"', b"\\",
          b"\xff", b"\x7f", b"%00", b"0", b"00000000", b"ffffffffffffffff", b"-1",
          b"Transfer-Encoding: chunked\r\n", b"Content-Length: 0\r\n", b"Content-Length: 7\r\n",
          b"Content-Length: 99999999999999999999\r\n", b"Expect: 100-continue\r\n",
          b"Connection: close\r\n", b"Upgrade: websocket\r\n", b"HTTP/1.1", b"GET / HTTP/1.1\r\n",
          b";ext=val", b"0\r\n\r\n"]


def mutate(rng, data, n):
    """1 to 3 random edits of data, most of them in the head; returns (bytes, description)."""
    data = bytearray(data)
    head_end = data.find(b"\r\n\r\n")
    head_end = len(data) if head_end < 0 else head_end + 4
    done = []
    for _ in range(rng.randint(1, 3)):
        if not data:
            data += b"\r\n"
        limit = head_end if rng.random() < 0.6 else len(data)
        pos = rng.randrange(0, max(1, min(limit, len(data))))
        op = rng.randrange(8)
        if op == 0:
            data[pos] = rng.choice(b"\0\r\n \t:;\x7f\xff" + bytes([rng.getrandbits(8)]))
            done.append("set @{}".format(pos))
        elif op == 1:
            token = rng.choice(TOKENS)
            data[pos:pos] = token
            done.append("insert {!r} @{}".format(token, pos))
        elif op == 2:
            k = rng.randint(1, max(1, min(64, len(data) - pos)))
            del data[pos:pos + k]
            done.append("delete {} @{}".format(k, pos))
        elif op == 3:
            k = rng.randint(1, max(1, min(64, len(data) - pos)))
            times = rng.randint(2, max(2, min(n, 64 * KIB) // k + 1))
            data[pos:pos + k] = bytes(data[pos:pos + k]) * times
            done.append("repeat {} B x{} @{}".format(k, times, pos))
        elif op == 4:
            del data[pos:]
            done.append("truncate @{}".format(pos))
        elif op == 5:
            head = bytes(data[:head_end]).replace(CRLF, rng.choice([b"\n", b"\r", b"\n\r"]))
            data[:head_end] = head
            done.append("line ends in the head")
        elif op == 6:
            seg = bytes(data[pos:pos + 64])
            data[pos:pos + 64] = seg.swapcase()
            done.append("swap case @{}".format(pos))
        else:
            start = data.rfind(b"\n", 0, pos) + 1
            end = data.find(b"\n", pos)
            end = len(data) if end < 0 else end + 1
            data[start:start] = bytes(data[start:end])
            done.append("duplicate line @{}".format(start))
    return bytes(data), ", ".join(done)


def apply_mutation(rng, case, n):
    """Mutates the HTTP part of case (keeping its send boundaries), or, for a websocket case, the
    frames after the handshake. The result is neither complete nor of a known request count."""
    sends = [i for i, s in enumerate(case.steps) if s[0] == "send"]
    if case.ws_messages is not None and any(s[0] == "if101" for s in case.steps):
        cut = [i for i, s in enumerate(case.steps) if s[0] == "if101"][0]
        frames = [i for i in sends if i > cut]
        if not frames:
            return
        i = rng.choice(frames)
        new, what = mutate(rng, case.steps[i][1], n)
        case.steps[i] = ("send", new)
        case.mutation = "frames: " + what
        case.ws_messages = None
        # Mutated frames can hold pings anywhere: any byte with a ping's opcode may start one.
        case.pings = sum(1 for k in frames for b in case.steps[k][1] if b & 0x0F == OP_PING)
        return
    old = [case.steps[i][1] for i in sends]
    new, what = mutate(rng, b"".join(old), n)
    start = 0
    for j, i in enumerate(sends):
        end = len(new) if j == len(sends) - 1 else min(len(new), start + len(old[j]))
        case.steps[i] = ("send", new[start:end])
        start = end
    case.mutation = what
    case.complete = False


def make_batch(seed, batch, t, extra, pattern=None):
    """The cases of one batch: every grammar once at a sweep size (a third of them mutated), then
    extra cases of random grammars at random sizes, all mutated. Deterministic in (seed, batch);
    pattern (a regular expression) keeps only the grammars whose names it finds."""
    rng = random.Random((seed << 20) ^ batch)
    cases = []
    for g, (name, fn) in enumerate(GRAMMARS):
        if pattern and not re.search(pattern, name):
            continue
        n = sweep_size(rng, t, batch, g)
        case = fn(rng, n, t)
        case.name, case.size = name, n
        if rng.random() < 0.3:
            apply_mutation(rng, case, n)
        cases.append(case)
    chosen = [g for g in GRAMMARS if not pattern or re.search(pattern, g[0])]
    for _ in range(extra if chosen else 0):
        name, fn = rng.choice(chosen)
        n = min(MAX_SIZE, int(2 ** rng.uniform(0, 21)))
        case = fn(rng, n, t)
        case.name, case.size = name, n
        apply_mutation(rng, case, n)
        cases.append(case)
    for i, case in enumerate(cases):
        case.index = i
    return cases


# --- reading the answers -------------------------------------------------------------------------


STATUS_RE = re.compile(rb"HTTP/1\.[01] (\d{3})(?: [^\r\n]*)?")


class Answers:
    def __init__(self):
        self.finals = []        # final statuses in order
        self.interims = 0       # 1xx before them (100 Continue)
        self.upgraded_at = None  # where the websocket stream starts, after a 101
        self.error = None       # bytes that are not a well-formed response
        self.partial = False    # the last response is not whole yet
        self.closing = False    # the last final answer said Connection: close


def parse_http(buf, methods, eof):
    """Reads buf as a sequence of HTTP/1.x responses to requests of these methods (in order).
    methods None: not known (a mutated input), so a Content-Length body is skipped only where
    what follows it could be the next response."""
    out = Answers()
    pos = 0
    while pos < len(buf):
        end = buf.find(b"\r\n\r\n", pos)
        if end < 0:
            start = bytes(buf[pos:pos + 9])
            if not (b"HTTP/1.1 "[:len(start)] == start or b"HTTP/1.0 "[:len(start)] == start):
                out.error = "bytes where a response should start: {}".format(preview(buf[pos:]))
            out.partial = True
            return out
        lines = bytes(buf[pos:end]).split(CRLF)
        if not STATUS_RE.fullmatch(lines[0]):
            out.error = "not a status line: {}".format(preview(buf[pos:end]))
            return out
        if out.closing:
            out.error = "a response after one that said Connection: close: {}".format(preview(lines[0]))
            return out
        status = int(lines[0][9:12])
        headers = {}
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if not colon or not name or name != name.strip():
                out.error = "a malformed header line in a response: {}".format(preview(line))
                return out
            key = name.lower().decode("latin-1")
            value = value.strip().decode("latin-1")
            if key == "content-length" and key in headers and headers[key] != value:
                out.error = "two different Content-Length in one response"
                return out
            headers[key] = value
        pos = end + 4
        if 100 <= status < 200 and status != 101:
            out.interims += 1
            continue
        out.finals.append(status)
        if status == 101:
            out.upgraded_at = pos
            return out
        out.closing = "close" in headers.get("connection", "").lower()
        i = len(out.finals) - 1
        method = methods[i] if methods is not None and i < len(methods) else None
        if method == "HEAD" or status in (204, 304):
            continue
        if methods is None and headers.get("content-length", "").isdigit():
            after = pos + int(headers["content-length"])
            if buf.startswith(b"HTTP/1.", pos) and not (
                    after <= len(buf) and (after == len(buf) or buf.startswith(b"HTTP/1.", after))):
                continue    # the answer to a HEAD, it seems
        if "chunked" in headers.get("transfer-encoding", "").lower():
            pos = skip_chunked(buf, pos)
            if pos is None:
                out.partial = True
                return out
        elif "content-length" in headers:
            value = headers["content-length"]
            if not value.isdigit():
                out.error = "a bad Content-Length in a response: {!r}".format(value)
                return out
            if int(value) and buf.startswith(b"HTTP/1.", pos):
                out.error = "a status line where a body of {} bytes should start (a head " \
                            "written twice?): {}".format(value, preview(buf[pos:pos + 200]))
                return out
            if len(buf) - pos < int(value):
                out.partial = True
                return out
            pos += int(value)
        else:
            out.partial = not eof   # the body ends with the connection
            return out
    return out


def skip_chunked(buf, pos):
    """The end of a chunked body starting at pos, or None if it has not all come."""
    while True:
        eol = buf.find(CRLF, pos)
        if eol < 0:
            return None
        size = int(bytes(buf[pos:eol]).split(b";")[0] or b"0", 16)
        pos = eol + 2
        if size == 0:
            end = buf.find(CRLF + CRLF, pos - 2)
            return None if end < 0 else end + 4
        if len(buf) < pos + size + 2:
            return None
        pos += size + 2


def parse_ws(buf):
    """Server frames: (data messages, pongs, error or None)."""
    pos, messages, pongs, closed = 0, 0, 0, False
    while len(buf) - pos >= 2:
        b0, b1 = buf[pos], buf[pos + 1]
        fin, rsv, op, n = b0 & 0x80, b0 & 0x70, b0 & 0x0F, b1 & 0x7F
        head = 2
        if n == 126:
            if len(buf) - pos < 4:
                break
            n, head = struct.unpack("!H", buf[pos + 2:pos + 4])[0], 4
        elif n == 127:
            if len(buf) - pos < 10:
                break
            n, head = struct.unpack("!Q", buf[pos + 2:pos + 10])[0], 10
        what = "frame at {} (opcode {:#x}, length {})".format(pos, op, n)
        if closed:
            return messages, pongs, "a {} after the close frame".format(what)
        if b1 & 0x80:
            return messages, pongs, "a masked server " + what
        if rsv:
            return messages, pongs, "RSV bits in a server " + what
        if op not in (0, 1, 2, 8, 9, 10):
            return messages, pongs, "a reserved opcode in a server " + what
        if op >= 8 and (n > 125 or not fin):
            return messages, pongs, "a long or fragmented control " + what
        if len(buf) - pos < head + n:
            break
        if op in (0, 1, 2) and fin:
            messages += 1
        pongs += op == OP_PONG
        closed = op == OP_CLOSE
        pos += head + n
    return messages, pongs, None


# --- running cases over raw sockets --------------------------------------------------------------


class Timing:
    def __init__(self, scale):
        self.scale = scale
        self.connect = 3.0 * scale          # to connect
        self.answer = 3.0 * scale           # a complete request's answer (or close)
        self.linger = 0.25 * min(scale, 4)  # after the last expected answer, for a second one
        self.idle = 0.4 * min(scale, 4)     # after an incomplete request or websocket frames
        self.send_stall = 2.0 * scale       # a send that makes no progress
        self.case_cap = 12.0 * scale        # one connection, all told
        self.batch_cap = 90.0 * scale       # one batch, all told
        self.health = 0.1 * scale           # /healthz
        self.idle_within = 5.0 * scale      # CPU back to idle after a batch


class Conn:
    """One case on a non-blocking socket, moved along by Runner."""

    BUF_CAP = 8 * MIB

    def __init__(self, case, port, timing, now):
        self.case, self.timing = case, timing
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        self.sock.connect_ex(("127.0.0.1", port))
        self.connected = False
        self.t0 = self.progress_at = now
        self.step = 0
        self.out = None
        self.out_pos = 0
        self.wake = None
        self.buf = bytearray()
        self.dropped = 0
        self.eof = self.reset = False
        self.send_error = None
        self.stalled = False
        self.sent = 0
        self.script_done_at = None
        self.answered_at = None
        self.dirty = True
        self.answers = Answers()
        self.done = False
        self.note = None
        self.ended_at = None
        self.last_rx = None     # when the server last sent or closed

    def interest(self):
        ev = 0 if self.eof else selectors.EVENT_READ
        if not self.connected or (self.out is not None and self.out_pos < len(self.out)):
            ev |= selectors.EVENT_WRITE
        return ev

    def on_write(self, now):
        if not self.connected:
            err = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self.note = "connect failed: {}".format(os.strerror(err))
                self.finish()
                return
            self.connected = True
            self.progress_at = now
            return
        if self.out is None:
            return
        try:
            n = self.sock.send(self.out[self.out_pos:self.out_pos + 256 * KIB])
        except BlockingIOError:
            return
        except OSError as exc:
            self.send_error = exc.strerror or str(exc)
            self.out = None
            self.step = len(self.case.steps)
            return
        self.out_pos += n
        self.sent += n
        self.progress_at = now

    def on_read(self):
        try:
            data = self.sock.recv(256 * KIB)
        except BlockingIOError:
            return
        except OSError:
            self.reset = self.eof = True
            self.last_rx = time.monotonic()
            return
        self.last_rx = time.monotonic()
        if not data:
            self.eof = True
            return
        room = self.BUF_CAP - len(self.buf)
        self.buf += data[:room]
        self.dropped += max(0, len(data) - room)
        self.dirty = True

    def parsed(self):
        if self.dirty:
            methods = None if self.case.mutation else self.case.methods
            self.answers = parse_http(self.buf, methods, self.eof)
            self.dirty = False
        return self.answers

    def advance(self, now):
        if self.done:
            return
        if not self.connected:
            if now - self.t0 > self.timing.connect:
                self.note = "connect timed out"
                self.finish()
            return
        if self.eof or now - self.t0 > self.timing.case_cap:
            if not self.eof:
                self.note = "the case ran out of time ({:.0f} s)".format(self.timing.case_cap)
            self.finish()
            return
        steps = self.case.steps
        while self.step < len(steps):
            kind = steps[self.step][0]
            if kind == "send":
                if self.out is None:
                    self.out, self.out_pos, self.progress_at = memoryview(steps[self.step][1]), 0, now
                if self.out_pos < len(self.out):
                    if now - self.progress_at > self.timing.send_stall:
                        self.stalled = True
                        self.out = None
                        self.step = len(steps)
                    return
                self.out = None
            elif kind == "sleep":
                if self.wake is None:
                    self.wake = now + steps[self.step][1]
                if now < self.wake:
                    return
                self.wake = None
            elif kind == "await":
                if self.wake is None:
                    self.wake = now + steps[self.step][1] * min(self.timing.scale, 3)
                if b"\r\n\r\n" not in self.buf and now < self.wake:
                    return
                self.wake = None
            elif kind == "if101":
                if not self.buf.startswith(b"HTTP/1.1 101"):
                    self.step = len(steps)
                    break
            elif kind == "cut":
                self.note = "the client stopped and closed"
                self.finish()
                return
            self.step += 1
        if self.script_done_at is None:
            self.script_done_at = now
        # Reading on: for the answers owed, then a little longer for an answer too many.
        answers = self.parsed()
        if self.case.ws_messages is not None and answers.upgraded_at is not None:
            end = self.script_done_at + self.timing.idle
        elif self.case.complete and not self.stalled:
            if len(answers.finals) >= self.case.requests and not answers.partial:
                self.answered_at = self.answered_at or now
                end = self.answered_at + self.timing.linger
            else:
                end = self.script_done_at + self.timing.answer
        else:
            end = self.script_done_at + self.timing.idle
            if answers.finals and not answers.partial:
                self.answered_at = self.answered_at or now
                end = min(end, self.answered_at + self.timing.linger)
        if now >= end:
            self.finish()

    def finish(self):
        self.done = True
        self.ended_at = time.monotonic()

    @property
    def closed_by_server(self):
        return self.eof or self.reset or self.send_error is not None


def run_cases(cases, port, timing, concurrency):
    """Runs the cases, at most concurrency at a time; returns their Conns in the cases' order."""
    sel = selectors.DefaultSelector()
    waiting = list(reversed(cases))
    active = []
    done = []
    hard = time.monotonic() + timing.batch_cap
    while waiting or active:
        now = time.monotonic()
        while waiting and len(active) < concurrency:
            conn = Conn(waiting.pop(), port, timing, now)
            conn.registered = conn.interest()
            sel.register(conn.sock, conn.registered, conn)
            active.append(conn)
        for key, mask in sel.select(0.02):
            conn = key.data
            if mask & selectors.EVENT_READ:
                conn.on_read()
            if mask & selectors.EVENT_WRITE and not conn.done:
                conn.on_write(time.monotonic())
        now = time.monotonic()
        for conn in list(active):
            if now > hard and not conn.done:
                conn.note = "the batch ran out of time"
                conn.finish()
            conn.advance(now)
            want = 0 if conn.done else conn.interest()
            if want != conn.registered:
                if not want:
                    sel.unregister(conn.sock)
                elif conn.registered:
                    sel.modify(conn.sock, want, conn)
                else:
                    sel.register(conn.sock, want, conn)
                conn.registered = want
            if conn.done:
                conn.sock.close()
                conn.parsed()
                active.remove(conn)
                done.append(conn)
    sel.close()
    order = {id(case): i for i, case in enumerate(cases)}
    return sorted(done, key=lambda c: order[id(c.case)])


def case_problems(conn, timing):
    """What is wrong with one connection's answers."""
    case, answers = conn.case, conn.parsed()
    out = []
    if answers.error:
        out.append("the answer stream is broken: " + answers.error)
    bound = case.answer_bound()
    if len(answers.finals) > bound:
        out.append("{} final answers ({}) to {} request(s)".format(
            len(answers.finals), " ".join(map(str, answers.finals)), bound))
    if case.complete and not conn.closed_by_server and answers.upgraded_at is None and \
            len(answers.finals) < case.requests and conn.note is None:
        sent = "all {} bytes sent".format(conn.sent) if not conn.stalled else \
            "the server stopped reading after {} of {} bytes".format(conn.sent, len(case.data()))
        out.append("no answer{} and no close {:.1f} s after the request ({})".format(
            "" if case.requests == 1 else " to {} of {} requests".format(
                case.requests - len(answers.finals), case.requests), timing.answer, sent))
    if answers.upgraded_at is not None:
        messages, pongs, error = parse_ws(conn.buf[answers.upgraded_at:])
        if error:
            out.append("websocket: " + error)
        if case.ws_messages is not None and messages > case.ws_messages + 1:
            out.append("websocket: {} data messages for {} sent (plus the connected event)".format(
                messages, case.ws_messages))
        if pongs > case.pings:
            out.append("websocket: {} pongs for {} pings".format(pongs, case.pings))
    return out


# --- reporting -------------------------------------------------------------------------------------


FOLD_RE = re.compile(rb"(.{1,16}?)\1{31,}", re.S)


def fold(data, limit=1500):
    """data as a Python expression that rebuilds it exactly, runs folded (b'a' * 100000); cut
    to about limit characters (then not exact: the file has the bytes)."""
    parts, pos, size = [], 0, 0
    for m in FOLD_RE.finditer(data):
        if m.start() > pos:
            parts.append(repr(data[pos:m.start()]))
        unit = m.group(1)
        parts.append("{!r} * {}".format(unit, (m.end() - m.start()) // len(unit)))
        pos = m.end()
        size += len(parts[-1])
        if size > limit * 4:
            break
    if pos < len(data):
        parts.append(repr(data[pos:]))
    text = " + ".join(parts) if parts else "b''"
    if len(text) > limit:
        text = text[:limit - 200] + " ... [cut] ... " + text[-180:]
    return text


def preview(data, limit=160):
    data = bytes(data)
    return repr(data) if len(data) <= limit else "{!r}... ({} bytes)".format(data[:limit], len(data))


def describe(case, conn, artifacts, tag):
    """A failing case: how to rebuild its bytes, how they were sent, what came back."""
    data = case.data()
    path = artifacts / "{}-case{}.bin".format(tag, case.index)
    path.write_bytes(data)
    lines = ["  case {} {} (size {}{}):".format(case.index, case.name, case.size,
                                                  ", mutated: " + case.mutation if case.mutation else ""),
             "    request, {} bytes (file {}): {}".format(len(data), path, fold(data)),
             "    schedule: {}".format(case.schedule())]
    if conn is None:
        return "\n".join(lines)
    got = "{} bytes{}{}{}".format(len(conn.buf) + conn.dropped, ", then EOF" if conn.eof else "",
                                  ", reset" if conn.reset else "",
                                  ", send failed: " + conn.send_error if conn.send_error else "")
    lines.append("    received {}: {}".format(got, preview(conn.buf, 300)))
    if conn.note:
        lines.append("    note: " + conn.note)
    return "\n".join(lines)


def log(*parts):
    print(*parts, flush=True)


# --- the process under test ------------------------------------------------------------------------


def proc_stat(pid):
    with open("/proc/{}/stat".format(pid)) as f:
        return f.read().rsplit(")", 1)[1].split()


def cpu_seconds(pid):
    fields = proc_stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid):
    with open("/proc/{}/status".format(pid)) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def alive(pid):
    try:
        return proc_stat(pid)[0] not in ("Z", "X")
    except OSError:
        return False


def pid_listening_on(port):
    """The pid of the process with a listening socket on 127.0.0.1/0.0.0.0:port, if visible."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add(fields[9])
        except OSError:
            pass
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir("/proc/{}/fd".format(pid)):
                link = os.readlink("/proc/{}/fd/{}".format(pid, fd))
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(pid)
        except OSError:
            continue
    return None


def close_wait(port):
    """Connections to 127.0.0.1:port whose client has closed and the server has not (CLOSE-WAIT):
    enoki is not reading them, and holds them until a timeout."""
    n = 0
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                fields = line.split()
                if fields[3] == "08" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    n += 1
    except OSError:
        pass
    return n


def http_get(port, path, timeout):
    """(status or None, seconds) for GET path on a fresh connection."""
    start = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(request("GET", path, [("Connection", "close")], host="127.0.0.1"))
            buf = bytearray()
            while True:
                s.settimeout(max(0.001, start + timeout - time.monotonic()))
                data = s.recv(65536)
                buf += data
                answers = parse_http(buf, ["GET"], not data)
                if (answers.finals and not answers.partial) or not data:
                    break
    except OSError:
        return None, time.monotonic() - start
    return (answers.finals[0] if answers.finals else None), time.monotonic() - start


def http_body(port, path, timeout):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(request("GET", path, [("Connection", "close")], host="127.0.0.1"))
            buf = bytearray()
            while True:
                data = s.recv(65536)
                if not data:
                    break
                buf += data
        return bytes(buf).split(b"\r\n\r\n", 1)[-1].decode("utf-8", "replace")
    except OSError:
        return ""


class Monitor:
    """The batch-level checks: alive, /healthz, CPU back to idle, RSS near its baseline."""

    WARMUP = 1      # batches (after the warm-up traffic) whose highest RSS is the baseline

    def __init__(self, pid, port, timing, t, cpu_idle, measure_rss, rss_window=6):
        self.pid, self.port, self.timing, self.t = pid, port, timing, t
        self.cpu_idle = cpu_idle
        self.measure_rss = measure_rss and pid is not None
        self.baseline = None
        self.warmup = []
        self.history = []
        self.rss_window = rss_window

    def check(self):
        """(problems, summary) after a batch."""
        problems, parts = [], []
        if self.pid is not None and not alive(self.pid):
            return ["enoki is not running any more"], "dead"
        best, tries = None, []
        for i in range(5):
            status, took = http_get(self.port, self.t.health, max(1.0, 10 * self.timing.health))
            tries.append("{}:{:.1f}ms".format(status, took * 1000))
            if status == 200:
                best = took if best is None else min(best, took)
            if i >= 2 and (best is None or best <= self.timing.health):
                break   # three tries: enough to call it good, or not answering
            time.sleep(0.05)
        if best is None or best > self.timing.health:
            problems.append("GET {} did not answer 200 within {:.0f} ms (tries: {})".format(
                self.t.health, self.timing.health * 1000, " ".join(tries)))
        else:
            parts.append("healthz {:.1f} ms".format(best * 1000))
        if self.pid is not None:
            usage, waited = self.wait_idle()
            if usage is None:
                problems.append("enoki is not running any more")
                return problems, "dead"
            if usage >= self.cpu_idle:
                problems.append("enoki's CPU did not return to idle: {:.0f} % of a core over the "
                                "last second, {:.1f} s after the batch".format(usage * 100, waited))
            parts.append("cpu {:.1f} % after {:.1f} s".format(usage * 100, waited))
        held = close_wait(self.port)
        if held:
            parts.append("{} connection(s) left by their clients still open".format(held))
        if self.measure_rss and not problems:
            problem, text = self.check_rss()
            parts.append(text)
            if problem:
                problems.append(problem)
        return problems, ", ".join(parts)

    def wait_idle(self):
        """(CPU share over the last 1 s, seconds waited), sampled every 0.25 s until the share is
        below the threshold or idle_within has passed; (None, s) if the process is gone."""
        start = time.monotonic()
        try:
            samples = [(start, cpu_seconds(self.pid))]
            while True:
                time.sleep(0.25)
                now = time.monotonic()
                samples.append((now, cpu_seconds(self.pid)))
                old = [s for s in samples if now - s[0] >= 1.0]
                if old:
                    usage = (samples[-1][1] - old[-1][1]) / (now - old[-1][0])
                    if usage < self.cpu_idle or now - start >= self.timing.idle_within:
                        return usage, now - start
                    samples = samples[samples.index(old[-1]):]
        except OSError:
            return None, time.monotonic() - start

    def check_rss(self):
        """The allocator keeps part of what it once held (bodies up to max_body on every
        connection at once): the baseline is the highest RSS after warm_up() and the first
        batch. After a failure the baseline moves up, so that only further growth is reported."""
        rss = rss_kb(self.pid)
        if len(self.warmup) < self.WARMUP:
            self.warmup.append(rss)
            self.baseline = max(self.warmup)
            return None, "rss {:.1f} MiB (warm-up)".format(rss / 1024)
        limit = self.baseline + max(4096, self.baseline // 4)
        deadline = time.monotonic() + 2.0 * self.timing.scale
        while rss > limit and time.monotonic() < deadline:
            time.sleep(0.25)
            rss = rss_kb(self.pid)
        self.history.append(rss)
        text = "rss {:.1f} MiB (baseline {:.1f})".format(rss / 1024, self.baseline / 1024)
        if rss > limit:
            old, self.baseline = self.baseline, rss
            return "RSS {} KiB is over its baseline {} KiB + max(4 MiB, 25 %) (the baseline is " \
                   "now {} KiB)".format(rss, old, rss), text
        recent = self.history[-self.rss_window - 1:]
        if len(recent) > self.rss_window and all(a < b for a, b in zip(recent, recent[1:])) and \
                recent[-1] - recent[0] > 1024:
            self.history = self.history[-1:]
            return "RSS grew in each of the last {} batches: {} KiB".format(
                self.rss_window, " ".join(map(str, recent))), text
        return None, text


# --- an enoki of our own -------------------------------------------------------------------------------


def measurable_memory(binary, wrapper):
    if wrapper:
        return False
    try:
        with open(binary, "rb") as f:
            return b"__asan_init" not in f.read()
    except OSError:
        return False


class SetupError(Exception):
    pass


class OwnEnoki:
    """enoki started by this tool, with the test peer behind /echo, on an exchange of its own."""

    def __init__(self, binary, wrapper, amqp_uri, workdir, timing, max_header, max_body, max_frame):
        self.binary, self.wrapper, self.amqp_uri = binary, wrapper, amqp_uri
        self.workdir, self.timing = workdir, timing
        session = uuid.uuid4().hex[:8]
        self.exchange = "enoki-hostile-" + session
        self.service = "hostile_" + session
        self.name = "hostile" + session
        self.limits = (max_header, max_body, max_frame)
        self.proc = self.peer = None
        self.runs = 0
        self.start_peer()

    def start_peer(self):
        self.peer_err = open(self.workdir / "peer.stderr", "w")
        self.peer = subprocess.Popen(
            [sys.executable, str(PEER_SCRIPT), "--amqp-uri", self.amqp_uri, "--exchange",
             self.exchange, "--service", self.service, "--prefetch", "50"],
            stdout=subprocess.PIPE, stderr=self.peer_err, text=True)
        line = ""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and self.peer.poll() is None:
            ready = selectors.DefaultSelector()
            ready.register(self.peer.stdout, selectors.EVENT_READ)
            if ready.select(0.1):
                line = self.peer.stdout.readline()
                break
        if line.strip() != "ready":
            raise SetupError("the test peer did not start (is the broker running? "
                             "scripts/broker.sh): " + (self.workdir / "peer.stderr").read_text()[-2000:])

    def config(self, port):
        max_header, max_body, max_frame = self.limits
        gateway = {"name": self.name, "rpc_timeout": 5, "expose": [self.service + ".*"],
                   "websocket_path": "/ws", "max_header": max_header, "max_body": max_body,
                   "websocket_max_frame": max_frame}
        lines = ["AMQP_URI: " + json.dumps(self.amqp_uri),
                 "WEB_SERVER_ADDRESS: " + json.dumps("127.0.0.1:{}".format(port)),
                 "rpc_exchange: " + json.dumps(self.exchange), "GATEWAY:"]
        lines += ["  {}: {}".format(k, json.dumps(v)) for k, v in gateway.items()]
        lines += ["routes:",
                  "  - " + json.dumps({"rule": "/echo", "rpc": self.service + ".echo",
                                       "methods": "GET,POST,PUT,PATCH,DELETE"}),
                  "  - " + json.dumps({"rule": "/echo/<path:rest>", "rpc": self.service + ".echo",
                                       "methods": "GET,POST"})]
        return "\n".join(lines) + "\n"

    def start(self):
        self.runs += 1
        self.port = free_port()
        path = self.workdir / "enoki.yaml"
        path.write_text(self.config(self.port))
        self.stderr_path = self.workdir / "enoki-{}.stderr".format(self.runs)
        self.stderr = open(self.stderr_path, "w")
        env = dict(os.environ)
        env.pop("ENOKI_CONFIG", None)
        self.proc = subprocess.Popen([*self.wrapper, self.binary, "--config", str(path)],
                                     stdout=subprocess.DEVNULL, stderr=self.stderr, env=env)
        deadline = time.monotonic() + 10 * self.timing.scale
        while True:
            if self.proc.poll() is not None:
                raise SetupError("enoki exited with {}: {}".format(self.proc.returncode,
                                                                   self.stderr_text()[-2000:]))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SetupError("enoki did not listen within {:.0f} s".format(
                        10 * self.timing.scale))
                time.sleep(0.02)
        # It listens before its broker connection is up: wait until /echo is served.
        while True:
            status, _ = http_get(self.port, "/echo?up=1", 5 * self.timing.scale)
            if status == 200:
                return
            if time.monotonic() > deadline + 10 * self.timing.scale:
                raise SetupError("enoki's /echo does not answer 200 (got {})".format(status))
            time.sleep(0.05)

    def stderr_text(self):
        self.stderr.flush()
        return self.stderr_path.read_text(errors="replace")

    def stop(self):
        """SIGTERM; a problem (exit status, sanitizer or valgrind report) or None."""
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(20 * self.timing.scale)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            self.stderr.close()
            return "enoki did not exit within {:.0f} s of SIGTERM".format(20 * self.timing.scale)
        self.stderr.close()
        text = self.stderr_path.read_text(errors="replace")
        if rc != 0 or SANITIZER_RE.search(text) or (self.wrapper and VALGRIND_RE.search(text)):
            return "enoki's exit: status {}; stderr ends:\n{}".format(rc, text[-4000:])
        return None

    def kill(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            self.stderr.close()
            self.proc = None

    def close(self):
        self.kill()
        if self.peer is not None:
            if self.peer.poll() is None:
                self.peer.send_signal(signal.SIGTERM)
            try:
                self.peer.wait(20)
            except subprocess.TimeoutExpired:
                self.peer.kill()
                self.peer.wait()
            self.peer.stdout.close()
            self.peer_err.close()
        self.cleanup_broker()

    def cleanup_broker(self):
        """Deletes what this run declared; reply queues are found with rabbitmqctl when it works
        (they expire after 5 minutes anyway)."""
        try:
            import pika
        except ImportError:
            return
        queues = ["rpc-" + self.service, "rpc-" + self.name]
        try:
            out = subprocess.run(["rabbitmqctl", "-q", "list_queues", "name"], capture_output=True,
                                 text=True, timeout=30)
            queues += [q for q in out.stdout.split() if q.startswith("rpc.reply-" + self.name)]
        except (OSError, subprocess.TimeoutExpired):
            pass
        try:
            params = pika.URLParameters(self.amqp_uri)
            params.connection_attempts = 1
            conn = pika.BlockingConnection(params)
            for queue in queues:
                conn.channel().queue_delete(queue)
            for exchange in (self.exchange, self.name + ".hub"):
                conn.channel().exchange_delete(exchange)
            conn.close()
        except Exception as exc:  # best effort: the names are unique to this run
            log("hostile: broker cleanup failed: {!r}".format(exc))


# --- the run -----------------------------------------------------------------------------------------


class Run:
    def __init__(self, args):
        self.args = args
        wrapper = shlex.split(args.wrapper if args.wrapper is not None
                              else os.environ.get("ENOKI_WRAPPER", ""))
        self.scale = args.scale if args.scale else (10.0 if wrapper else 1.0)
        self.timing = Timing(self.scale)
        self.wrapper = wrapper
        self.own = None
        self.artifacts = None
        self.failures = 0
        self.passed = 0
        self.requests = 0
        self.batches = 0

    def artifact_dir(self):
        if self.artifacts is None:
            base = self.args.artifacts or tempfile.mkdtemp(prefix="enoki-hostile-")
            self.artifacts = Path(base)
            self.artifacts.mkdir(parents=True, exist_ok=True)
        return self.artifacts

    def target(self, port):
        a = self.args
        return Target(port, route=a.route, ws_path=a.ws_path, health=a.health,
                      max_header=a.max_header, max_body=a.max_body, max_frame=a.max_frame)

    def connect(self):
        """(port, pid, measure_rss) of the enoki under test, starting it if it is ours."""
        a = self.args
        if a.enoki:
            if self.own is None:
                workdir = Path(tempfile.mkdtemp(prefix="enoki-hostile-run-"))
                self.own = OwnEnoki(os.path.abspath(a.enoki), self.wrapper, a.amqp_uri, workdir,
                                    self.timing, a.max_header, a.max_body, a.max_frame)
            self.own.start()
            return self.own.port, self.own.proc.pid, measurable_memory(a.enoki, self.wrapper)
        pid = a.pid or pid_listening_on(a.port)
        if pid is None:
            log("hostile: no pid for port {} (give --pid): CPU and RSS are not checked".format(a.port))
        return a.port, pid, bool(pid) and not a.no_rss

    def monitor(self, port, pid, measure_rss):
        return Monitor(pid, port, self.timing, self.target(port), self.args.cpu_idle, measure_rss)

    def warm_up(self, port, t):
        """Bodies, chunked bodies and websocket messages of the largest accepted sizes on every
        connection at once, twice: the allocator's high-water mark before the RSS baseline."""
        rng = random.Random(0)
        cases = []
        for _ in range(2):
            for i in range(self.args.concurrency):
                body = json_body(t.max_body - 64)
                kind = i % 3
                if kind == 0:
                    case = Case([request("POST", t.route, with_length(body), body, host=t.host)],
                                methods=["POST"])
                elif kind == 1:
                    case = Case([chunked_post(t, chunked(chunks_of(body, rng, 256 * KIB)))],
                                methods=["POST"])
                else:
                    case = _ws_big(rng, min(t.max_frame, t.max_body) - 128, t)
                cases.append(case)
        run_cases(cases, port, self.timing, self.args.concurrency)

    def run_batch(self, cases, monitor):
        """(case failures as (conn, problems), batch problems, summary, conns)."""
        start = time.monotonic()
        conns = run_cases(cases, monitor.port, self.timing, self.args.concurrency)
        took = time.monotonic() - start
        bad = [(c, p) for c, p in ((c, case_problems(c, self.timing)) for c in conns) if p]
        problems, summary = monitor.check()
        slow = max(conns, key=lambda c: c.ended_at - c.t0)
        return bad, problems, "{} requests in {:.1f} s (longest: case {} {}, {:.1f} s); {}".format(
            len(cases), took, slow.case.index, slow.case.name, slow.ended_at - slow.t0,
            summary), conns

    def main(self):
        a = self.args
        seed = a.seed if a.seed is not None else random.SystemRandom().randrange(1 << 32)
        only = None
        if a.replay:
            seed_text, _, batch_text = a.replay.partition(":")
            seed, only = int(seed_text, 0), int(batch_text or "0")
        log("hostile: seed {} ({} grammars, {} extra cases a batch, scale {:g}{})".format(
            seed, len(GRAMMARS), a.extra, self.scale,
            ", wrapper " + " ".join(self.wrapper[:1]) if self.wrapper else ""))
        port, pid, measure_rss = self.connect()
        monitor = self.monitor(port, pid, measure_rss)
        if not measure_rss:
            log("hostile: RSS is not checked ({})".format(
                "valgrind or ASan keep freed memory" if a.enoki else "no pid, or --no-rss"))
        elif only is None:
            self.warm_up(port, self.target(port))
        t = self.target(port)
        started = time.monotonic()
        batch = only if only is not None else 0
        stop_reason = None
        healthy = True      # the last batch left the process in a state to be stopped cleanly
        try:
            while True:
                cases = make_batch(seed, batch, t, a.extra, a.grammars)
                if a.case is not None:
                    cases = [c for c in cases if c.index == a.case]
                if not cases:
                    raise SetupError("no such case, or no grammar matches --grammars")
                bad, problems, summary, conns = self.run_batch(cases, monitor)
                self.batches += 1
                self.requests += len(cases)
                tag = "seed{}-batch{}".format(seed, batch)
                healthy = all(p.startswith("RSS") for p in problems)
                if not bad and not problems:
                    self.passed += 1
                    log("batch {}: {}".format(batch, summary))
                else:
                    self.failures += 1
                    log("FAIL batch {} (seed {}; replay: --replay {}:{}{}): {}".format(
                        batch, seed, seed, batch,
                        " --grammars " + shlex.quote(a.grammars) if a.grammars else "", summary))
                    for p in problems:
                        log("  " + p)
                    stuck = []
                    for conn, ps in bad:
                        if not healthy and len(bad) > 3 and all(p.startswith("no answer") for p in ps):
                            stuck.append(conn)  # likely the whole process stalling: listed below
                            continue
                        for p in ps:
                            log("  case {} {}: {}".format(conn.case.index, conn.case.name, p))
                        log(describe(conn.case, conn, self.artifact_dir(), tag))
                    if stuck:
                        log("  {} complete requests got no answer and no close: {}".format(
                            len(stuck), " ".join("{}:{}".format(c.case.index, c.case.name)
                                                 for c in stuck)))
                    if not healthy:
                        self.log_crash()
                        self.report_suspects(conns)
                        if self.own is not None and not a.no_isolate and len(cases) > 1:
                            self.isolate(cases, conns, tag)
                    if not a.keep_going:
                        stop_reason = "stopped at the first failing batch"
                        break
                    if any(not p.startswith("RSS") for p in problems):
                        # The process itself misbehaved: go on with a fresh one.
                        self.own.kill()
                        port, pid, measure_rss = self.connect()
                        monitor = self.monitor(port, pid, measure_rss)
                        t = self.target(port)
                        if measure_rss:
                            self.warm_up(port, t)
                        healthy = True
                if only is not None:
                    break
                batch += 1
                elapsed = time.monotonic() - started
                if elapsed + elapsed / self.batches > a.seconds:
                    break
            self.final_metrics(port)
            # A clean exit (status 0, no sanitizer or valgrind report), unless the last batch left
            # enoki stuck or dead (then it is killed).
            if self.own is not None and healthy:
                problem = self.own.stop()
                if problem:
                    self.failures += 1
                    log("FAIL " + problem)
        finally:
            if self.own is not None:
                self.own.close()
                # Its config and stderr are kept only when something failed (they explain it).
                if self.failures:
                    log("hostile: enoki's config and stderr are in " + str(self.own.workdir))
                else:
                    shutil.rmtree(self.own.workdir, ignore_errors=True)
        if stop_reason:
            log("hostile: " + stop_reason)
        log("hostile: {} batches, {} requests, {} failures (seed {})".format(
            self.batches, self.requests, self.failures, seed))
        log("{} passed, {} failed".format(self.passed, self.failures))
        return 1 if self.failures else 0

    def log_crash(self):
        if self.own is not None and self.own.proc is not None and self.own.proc.poll() is not None:
            log("  enoki exited with {}; its stderr ends:\n{}".format(
                self.own.proc.returncode, self.own.stderr_text()[-3000:]))

    @staticmethod
    def suspects(conns):
        """The connections the server neither answered nor closed that had started before it last
        sent a byte to anyone: when the process as a whole stops, one of them stopped it."""
        open_ = [c for c in conns if not c.closed_by_server and not c.parsed().finals]
        heard = [c.last_rx for c in conns if c.last_rx is not None]
        last = max(heard) if heard else None
        early = [c for c in open_ if last is not None and c.t0 <= last]
        return sorted(early or open_, key=lambda c: c.t0)

    def report_suspects(self, conns):
        suspects = self.suspects(conns)
        if suspects:
            log("  suspects (started before enoki last sent anything, then neither answered nor "
                "closed): {}".format(" ".join("{}:{}".format(c.case.index, c.case.name)
                                              for c in suspects[:24])))

    def isolate(self, cases, conns, tag):
        """Replays the batch on fresh enokis, halving it while the check still fails (the suspects
        first: the cases left neither answered nor closed)."""
        deadline = time.monotonic() + self.args.isolate_seconds * self.scale
        # Shorter waits: a stuck process shows at once, and there may be a dozen replays.
        saved, self.timing = self.timing, Timing(self.scale)
        self.timing.idle_within = 2.0 * self.scale
        self.timing.answer = 1.5 * self.scale
        try:
            self._isolate(cases, conns, tag, deadline)
        finally:
            self.timing = saved

    def _isolate(self, cases, conns, tag, deadline):
        def fails(subset):
            self.own.kill()
            port, pid, measure_rss = self.connect()
            monitor = self.monitor(port, pid, False)
            bad, problems, summary, _ = self.run_batch(list(subset), monitor)
            log("  isolate: {} case(s) {}: {}".format(
                len(subset), "fail" if problems else "pass", "; ".join(problems) or summary))
            return bool(problems)

        suspects = [c.case for c in self.suspects(conns)]
        log("  isolating: replaying on fresh enokis")
        if suspects and len(suspects) < len(cases) and fails(suspects):
            current = suspects
        elif fails(cases):
            current = list(cases)
        else:
            log("  isolate: the whole batch passes on a fresh enoki: not reproduced")
            return
        while len(current) > 1 and time.monotonic() < deadline:
            half = len(current) // 2
            for part in (current[:half], current[half:]):
                if fails(part):
                    current = part
                    break
            else:
                log("  isolate: neither half fails alone ({} cases together do)".format(len(current)))
                break
        if len(current) == 1:
            log("  isolated: case {} {} fails the check alone".format(current[0].index, current[0].name))
            log(describe(current[0], None, self.artifact_dir(), tag))
        else:
            log("  isolate: down to {} cases: {}".format(
                len(current), " ".join("{}:{}".format(c.index, c.name) for c in current)))

    def final_metrics(self, port):
        text = http_body(port, "/metrics", 5 * self.scale)
        killed = [line for line in text.splitlines() if line.startswith("enoki_connections_killed")]
        if killed:
            log("hostile: " + "; ".join(killed))


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n", 2)[2])
    who = ap.add_mutually_exclusive_group(required="--list-grammars" not in (argv or sys.argv))
    who.add_argument("--enoki", help="start this enoki binary (with the test peer and a broker)")
    who.add_argument("--port", type=int, help="target an enoki listening on 127.0.0.1:PORT")
    ap.add_argument("--pid", type=int, help="with --port: its pid (found from the port otherwise)")
    ap.add_argument("--seconds", type=float, default=60.0, help="run about this long (default 60)")
    ap.add_argument("--seed", type=lambda s: int(s, 0), help="the run's seed (default: random)")
    ap.add_argument("--replay", metavar="SEED:BATCH", help="run only this batch of this seed")
    ap.add_argument("--case", type=int, help="with --replay: only this case of the batch")
    ap.add_argument("--grammars", metavar="REGEX", help="only the grammars whose names match "
                    "(e.g. '^chunked|^expect'; --list-grammars shows them)")
    ap.add_argument("--list-grammars", action="store_true", help="print the grammars and exit")
    ap.add_argument("--extra", type=int, default=20, help="mutated cases a batch besides the grammars")
    ap.add_argument("--concurrency", type=int, default=24, help="connections at a time (default 24)")
    ap.add_argument("--scale", type=float, help="multiplies every time bound (default 10 under a "
                    "wrapper, else 1)")
    ap.add_argument("--wrapper", help="command prefix for enoki (default: $ENOKI_WRAPPER)")
    ap.add_argument("--cpu-idle", type=float, default=0.05, help="idle CPU share (default 0.05)")
    ap.add_argument("--no-rss", action="store_true", help="do not check RSS")
    ap.add_argument("--keep-going", action="store_true",
                    help="with --enoki: go on after a failing batch (with a fresh enoki when the "
                    "process itself failed a check)")
    ap.add_argument("--no-isolate", action="store_true", help="do not narrow batch failures down")
    ap.add_argument("--isolate-seconds", type=float, default=120.0,
                    help="time for narrowing a batch failure down (x scale; default 120)")
    ap.add_argument("--artifacts", help="where failing requests are written (default: a temp dir)")
    ap.add_argument("--amqp-uri", default=os.environ.get("ENOKI_TEST_AMQP_URI",
                                                         "amqp://guest:guest@127.0.0.1:5672/"))
    ap.add_argument("--route", default="/echo", help="a route of the target (default /echo)")
    ap.add_argument("--ws-path", default="/ws")
    ap.add_argument("--health", default="/healthz")
    ap.add_argument("--max-header", type=int, default=16 * KIB)
    ap.add_argument("--max-body", type=int, default=MIB)
    ap.add_argument("--max-frame", type=int, default=MIB)
    args = ap.parse_args(argv)
    if args.case is not None and not args.replay:
        ap.error("--case needs --replay")
    if args.keep_going and not args.enoki:
        ap.error("--keep-going needs --enoki")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.list_grammars:
        for name, fn in GRAMMARS:
            log(name)
        return 0
    try:
        return Run(args).main()
    except SetupError as exc:
        log("hostile: setup failed: {}".format(exc))
        return 2


if __name__ == "__main__":
    sys.exit(main())
