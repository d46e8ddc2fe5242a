"""enoki reads the common request itself (issue 8): a complete, well-formed HTTP/1.1 GET, POST,
PUT, PATCH or DELETE (gateway/h1_parse.c), on a connection that stays in the loop's poll set while its call
runs. Any other request is handed, unread, to libmicrohttpd, which then keeps the connection for that
one request and closes it after its answer (Connection: close).

These tests check that a client cannot tell the two apart: the same request gets the same bytes
either way (but the Date, the call id and libmicrohttpd's Connection: close), a kept-alive
connection can cross from one to the other for one request, pipelined requests are answered in order, requests that arrive in pieces are served, and
a client that goes away or asks to close is handled as libmicrohttpd handles it.
"""

import json
import re
import socket
import time

import pytest

from conftest import GWNAME, SCALE, SVC, Enoki, route
from conftest import exchange_raw
from test_hostile import Reader, connect

T = 5 * SCALE
HANDED_OVER = "the connection goes to libmicrohttpd"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("fast-static")
    (d / "app.js").write_text("console.log('enoki');\n")
    (d / "blob.bin").write_bytes(bytes(range(256)) * 4096)  # 1 MiB
    return d


@pytest.fixture(scope="module")
def gw(peer, broker, session_tmp, files):
    name = GWNAME + "fp"
    broker.track_queue("rpc-" + name)
    broker.exchanges.add(name + ".hub")
    e = Enoki(session_tmp, routes=[route("/echo", SVC + ".echo", methods="GET,POST,PUT"),
                                   route("/slow/<int:seconds>", SVC + ".slow"),
                                   route("/fail", SVC + ".fail"),
                                   route("/dir/", SVC + ".echo")],
              gateway={"name": name, "static_dir": str(files), "log_level": "debug",
                       "expose": [SVC + ".*"], "idle_timeout": 3 * SCALE},
              name="fast.yaml", ready_path="/echo")
    yield e
    e.stop()


def handed_over(gw, expected):
    """The number of hand-overs logged, once it reaches expected or T has passed (log lines are
    written at the end of the loop pass, after the response)."""
    deadline = time.monotonic() + T
    while True:
        n = gw.stderr_text().count(HANDED_OVER)
        if n >= expected or time.monotonic() > deadline:
            return n


def exchange(gw, data, responses=1):
    """data on a fresh connection; the responses as (status line, [(name, value)], body)."""
    s = connect(gw)
    try:
        s.sendall(data)
        out = b""
        deadline = time.monotonic() + T
        got = []
        while len(got) < responses:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = s.recv(1 << 20)
            assert chunk, "closed after {} response(s): {!r}".format(len(got), out[:300])
            out += chunk
            while b"\r\n\r\n" in out:
                head, rest = out.split(b"\r\n\r\n", 1)
                lines = head.decode("iso-8859-1").split("\r\n")
                fields = [tuple(x.strip() for x in line.split(":", 1)) for line in lines[1:]]
                length = int(dict((k.lower(), v) for k, v in fields).get("content-length", 0))
                if lines[0].split(" ")[1] in ("204", "304"):
                    length = 0  # a 304's Content-Length is the length of a body it does not send
                if len(rest) < length:
                    break
                got.append((lines[0], fields, rest[:length]))
                out = rest[length:]
        return got
    finally:
        s.close()


def closing(response):
    """response as libmicrohttpd writes it: it reads one request per connection, so its responses
    say Connection: close, first of their fields (issue 13)."""
    status, fields, body = response
    return status, [("Connection", "close")] + list(fields), body


def comparable(response):
    """A response without what differs between two calls: the Date, and the call id."""
    status, fields, body = response
    fields = [(k, re.sub(r"[\w.]+\.http\.[0-9a-f-]{36}", "ID", v)) for k, v in fields if k != "Date"]
    return status, fields, re.sub(rb"[\w.]+\.http\.[0-9a-f-]{36}", b"ID", body)


REQUESTS = [
    ("GET", "/echo?a=1&b=%C3%A9&b=2", b"", {}),
    ("POST", "/echo", b'{"x": [1, 2]}', {"Content-Type": "application/json"}),
    ("PUT", "/echo?q=1", b"not json", {"Content-Type": "text/plain"}),
    ("POST", "/echo", b"{bad", {"Content-Type": "application/json"}),
    ("DELETE", "/echo", b"", {}),
    ("GET", "/nowhere", b"", {}),
    ("GET", "/dir", b"", {"Host": "example.org:8080"}),
    ("GET", "/fail", b"", {}),
    ("POST", "/rpc/{}/two".format(SVC), b'{"args": [1], "kwargs": {"y": 2}}', {}),
    ("GET", "/static/app.js", b"", {}),
    ("GET", "/static/missing.js", b"", {}),
    ("GET", "/healthz", b"", {}),
]


def build(method, path, body, headers, extra=b""):
    lines = ["{} {} HTTP/1.1".format(method, path)]
    headers = dict({"Host": "127.0.0.1"}, **headers)
    if body or method in ("POST", "PUT"):
        headers["Content-Length"] = str(len(body))
    lines += ["{}: {}".format(k, v) for k, v in headers.items()]
    return "\r\n".join(lines).encode() + b"\r\n" + extra + b"\r\n" + body


@pytest.mark.parametrize("method,path,body,headers", REQUESTS,
                         ids=["{} {}".format(r[0], r[1].replace(SVC, "SVC")) for r in REQUESTS])
def test_a_request_gets_the_same_bytes_from_either_reader(gw, method, path, body, headers):
    # A header with trailing whitespace is libmicrohttpd's to read (gateway/h1_parse.c does not guess
    # whether to strip it); nothing in these responses depends on that header.
    before = handed_over(gw, 0)
    ours = exchange(gw, build(method, path, body, headers))[0]
    mhds = exchange(gw, build(method, path, body, headers, extra=b"X-Pad: a \r\n"))[0]
    assert handed_over(gw, before + 1) == before + 1, "not one hand-over for two requests"
    assert closing(comparable(ours)) == comparable(mhds)


def test_a_conditional_get_of_a_static_file_is_304_without_a_body(gw, files):
    """A 304's Content-Length, where it has one, is the length the 200 would have had (RFC 9110
    8.6), on both readers, and no byte of the body follows it: on a kept-alive connection the
    next response starts right after the 304's head."""
    size = str(len((files / "app.js").read_bytes()))
    first = exchange(gw, build("GET", "/static/app.js", b"", {}))[0]
    etag = dict(first[1])["ETag"]
    conditional = build("GET", "/static/app.js", b"", {"If-None-Match": etag})
    again, after = exchange(gw, conditional + build("GET", "/echo?n=1", b"", {}), responses=2)
    assert again[0] == "HTTP/1.1 304 Not Modified" and again[2] == b""
    assert dict(again[1])["Content-Length"] == size
    assert after[0] == "HTTP/1.1 200 OK", after
    mhds = exchange(gw, build("GET", "/static/app.js", b"", {"If-None-Match": etag},
                              extra=b"X-Pad: a \r\n"))[0]
    assert closing(comparable(again)) == comparable(mhds)
    raw = exchange_raw(gw.port, build("GET", "/static/app.js", b"", {"If-None-Match": etag},
                                      extra=b"X-Pad: a \r\n"))
    assert raw.startswith(b"HTTP/1.1 304 ") and raw.endswith(b"\r\n\r\n"), raw


@pytest.mark.parametrize("reader", ["enoki", "libmicrohttpd"])
def test_static_preconditions_as_rfc_9110(gw, files, reader):
    """If-Match and If-Unmodified-Since (412), If-None-Match over several lines, the three date
    forms, a file time ahead of the clock, and a same-size rewrite within a second, on both
    readers (each was ignored or wrong: only one If-None-Match line and one date form were read,
    a future time went out as Last-Modified, and the ETag kept to whole seconds)."""
    import email.utils
    import os
    pad = b"X-Pad: a \r\n" if reader == "libmicrohttpd" else b""

    def get(name, headers, extra=b""):
        return exchange(gw, build("GET", "/static/" + name, b"", headers, extra=pad + extra))[0]

    (files / "pre.js").write_text("var v = 'AAAA';\n")
    status, fields, _ = get("pre.js", {})
    etag, modified = dict(fields)["ETag"], dict(fields)["Last-Modified"]
    assert status.endswith(" 200 OK") and not etag.startswith("W/"), fields
    assert get("pre.js", {"If-Match": '"other"'})[0].endswith(" 412 Precondition Failed")
    assert get("pre.js", {"If-Match": "W/" + etag})[0].endswith(" 412 Precondition Failed")
    assert get("pre.js", {"If-Match": '"other", ' + etag})[0].endswith(" 200 OK")
    assert get("pre.js", {"If-Unmodified-Since": "Sun, 06 Nov 1994 08:49:37 GMT"})[0] \
        .endswith(" 412 Precondition Failed")
    assert get("pre.js", {"If-Unmodified-Since": modified})[0].endswith(" 200 OK")
    # Blanks after a value are not part of it (libmicrohttpd keeps them).
    assert get("pre.js", {}, extra=b"If-Unmodified-Since: Sun, 06 Nov 1994 08:49:37 GMT \r\n")[0] \
        .endswith(" 412 Precondition Failed")
    # Two lines of one list field; an If-Modified-Since in RFC 850's and asctime's forms.
    assert get("pre.js", {"If-None-Match": '"other"'},
               extra="If-None-Match: {}\r\n".format(etag).encode())[0].endswith(" 304 Not Modified")
    when = email.utils.parsedate_to_datetime(modified)
    for form in ("%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"):
        assert get("pre.js", {"If-Modified-Since": when.strftime(form)})[0].endswith(
            " 304 Not Modified"), form
    # A rewrite of the same length, in the same second: another tag.
    st = os.stat(files / "pre.js")
    (files / "pre.js").write_text("var v = 'BBBB';\n")
    os.utime(files / "pre.js", ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    status, fields, body = get("pre.js", {"If-None-Match": etag})
    assert status.endswith(" 200 OK") and body == b"var v = 'BBBB';\n", (status, fields)
    # A time ahead of the clock goes out as now.
    (files / "future.js").write_text("1;\n")
    os.utime(files / "future.js", (2000000000, 2000000000))
    fields = dict(get("future.js", {})[1])
    assert email.utils.parsedate_to_datetime(fields["Last-Modified"]) <= \
        email.utils.parsedate_to_datetime(fields["Date"]), fields
    # Types a browser insists on.
    (files / "m.wasm").write_bytes(b"\0asm\1\0\0\0")
    assert dict(get("m.wasm", {})[1])["Content-Type"] == "application/wasm"


def test_two_host_lines_are_refused(gw):
    """RFC 9112 3.2: a proxy and enoki could each read another one (redirects are built from it)."""
    status, _, body = exchange(gw, build("GET", "/echo?n=1", b"", {}, extra=b"Host: other\r\n"))[0]
    assert status == "HTTP/1.1 400 Bad Request" and b"one Host header" in body, (status, body)


def test_a_head_is_scanned_whole_after_a_sighup_lowers_max_header(tmp_path):
    """libmicrohttpd's buffer is sized at start: after a SIGHUP lowered max_header, a head longer
    than the new peek but within that buffer went to libmicrohttpd with its lines past the peek
    unchecked (here a Content-Length that is not a number, hidden behind empty lines: two
    answers to one request). The peek now covers libmicrohttpd's buffer."""
    import signal
    e = Enoki(tmp_path, routes=[route("/echo", SVC + ".echo", methods="GET,POST")],
              gateway={"max_header": 65536}, amqp_uri="amqp://guest:guest@127.0.0.1:1/")
    try:
        text = e.config_path.read_text()
        assert text.count("65536") == 1, text
        e.config_path.write_text(text.replace("65536", "16384"))
        done = len(re.findall("reloaded ", e.stderr_text()))
        e.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10 * SCALE
        while len(re.findall("reloaded ", e.stderr_text())) == done:
            assert time.monotonic() < deadline, "no reload"
            time.sleep(0.05)
        padded = (b"\r\n" * 15000 + b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n"
                  b"\r\n")
        raw = exchange_raw(e.port, padded)
        assert raw.count(b"HTTP/1.1 ") == 1, raw[:600]
        assert raw.startswith(b"HTTP/1.1 400 ") and b"Content-Length must be" in raw, raw[:600]
    finally:
        e.stop()


def test_a_large_static_file_is_sent_whole(gw, files):
    status, fields, body = exchange(gw, build("GET", "/static/blob.bin", b"", {}))[0]
    assert status == "HTTP/1.1 200 OK"
    assert body == (files / "blob.bin").read_bytes()


def test_a_kept_alive_connection_crosses_to_libmicrohttpd_for_one_request(gw):
    """libmicrohttpd answers the one request it is handed, says Connection: close and closes:
    the requests pipelined behind it are not read (the client sends them again), and on a new
    connection enoki's reader serves them (issue 13: libmicrohttpd gets later heads wrong)."""
    before = handed_over(gw, 0)
    data = (build("GET", "/echo?n=1", b"", {}) +
            build("HEAD", "/echo?n=2", b"", {}) +       # HEAD: libmicrohttpd's
            build("GET", "/echo?n=3", b"", {}) +
            build("POST", "/echo?n=4", b"{}", {"Content-Type": "application/json"}))
    s = connect(gw)
    s.sendall(data[:len(build("GET", "/echo?n=1", b"", {}))])
    reader = Reader(s)
    first = reader.response()
    assert first[0] == 200 and json.loads(first[2])["kwargs"] == {"n": "1"}
    s.sendall(data[len(build("GET", "/echo?n=1", b"", {})):])
    # No body after a HEAD's head, whatever its Content-Length says; then the end.
    deadline = time.monotonic() + T
    while reader._more(deadline):
        pass
    head, rest = reader.buf.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"\r\nConnection: close" in head, head
    assert rest == b"", rest
    s.close()
    assert handed_over(gw, before + 1) == before + 1
    got = exchange(gw, data[-len(build("GET", "/echo?n=3", b"", {})) -
                        len(build("POST", "/echo?n=4", b"{}",
                                  {"Content-Type": "application/json"})):], responses=2)
    for n, (status, _, body) in zip(("3", "4"), got):
        assert status == "HTTP/1.1 200 OK" and json.loads(body)["kwargs"] == {"n": n}
    assert handed_over(gw, before + 1) == before + 1, "the new connection went to libmicrohttpd"


def test_pipelined_requests_are_answered_in_order(gw):
    data = b"".join(
        build("GET", "/echo?n={}".format(i), b"", {}) if i % 2 else
        build("POST", "/echo?n={}".format(i), json.dumps({"i": i}).encode(),
              {"Content-Type": "application/json"})
        for i in range(40))
    got = exchange(gw, data, responses=40)
    for i, (status, _, body) in enumerate(got):
        assert status == "HTTP/1.1 200 OK"
        expected = {"n": str(i)} if i % 2 else {"n": str(i), "i": i}
        assert json.loads(body)["kwargs"] == expected


def test_a_request_that_arrives_in_pieces_is_served(gw):
    s = connect(gw)
    reader = Reader(s)
    s.sendall(build("GET", "/echo?n=0", b"", {}))  # the first, then the next one in pieces
    assert reader.response()[0] == 200
    whole = build("POST", "/echo?n=1", b'{"k": "v"}', {"Content-Type": "application/json"})
    for piece in (whole[:10], whole[10:-10], whole[-10:]):
        s.sendall(piece)
        time.sleep(0.1)
    status, _, body = reader.response()
    assert status == 200 and json.loads(body)["kwargs"] == {"n": "1", "k": "v"}
    s.close()


def test_connection_close_is_answered_and_honoured(gw):
    s = connect(gw)
    s.sendall(build("GET", "/echo?n=1", b"", {"Connection": "close"}))
    reader = Reader(s)
    status, headers, body = reader.response()
    assert status == 200 and headers["connection"] == "close"
    assert reader.closed()
    s.close()


def test_a_client_gone_during_its_call_costs_nothing(gw):
    # As with libmicrohttpd, the answer is still written (the kernel takes it) and logged.
    s = connect(gw)
    s.sendall(build("GET", "/slow/1", b"", {}))
    time.sleep(0.2)
    s.close()
    deadline = time.monotonic() + T
    while '"GET /slow/1" 200' not in gw.stderr_text():
        assert time.monotonic() < deadline, "the call's end was not logged"
        time.sleep(0.05)
    r = gw.get("/echo?after=1", timeout=T)
    assert r.status == 200 and r.json()["kwargs"] == {"after": "1"}


def test_bytes_sent_during_a_call_wait_for_its_answer(gw):
    s = connect(gw)
    reader = Reader(s)
    s.sendall(build("GET", "/slow/1", b"", {}))
    time.sleep(0.2)
    s.sendall(build("GET", "/echo?n=2", b"", {}))  # while the first call runs
    first = reader.response()
    second = reader.response()
    assert first[0] == 200 and second[0] == 200
    assert json.loads(second[2])["kwargs"] == {"n": "2"}
    s.close()


@pytest.mark.waits
def test_an_idle_kept_alive_connection_is_closed_after_idle_timeout(gw):
    s = connect(gw)
    reader = Reader(s)
    s.sendall(build("GET", "/echo?n=1", b"", {}))
    assert reader.response()[0] == 200
    started = time.monotonic()
    assert reader.closed(timeout=6 * SCALE)
    assert 2 * SCALE <= time.monotonic() - started
    s.close()


def test_a_request_closed_half_way_through_its_head_costs_nothing(gw):
    s = connect(gw)
    reader = Reader(s)
    s.sendall(build("GET", "/echo?n=1", b"", {}))
    assert reader.response()[0] == 200
    s.sendall(b"GET /echo?n=2 HTTP/1.1\r\nHost: x")
    s.shutdown(socket.SHUT_WR)
    assert reader.closed()
    s.close()
    assert gw.get("/echo?n=3", timeout=T).status == 200
