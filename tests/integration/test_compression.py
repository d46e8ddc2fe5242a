"""Issue 18, point 3 (HTTP): JSON and text responses of GATEWAY.compress_min bytes or more are
gzip-coded when the request's Accept-Encoding takes gzip (q-values honoured), with Vary:
Accept-Encoding; never below the size, for 204/304, ranges or bodies already coded. The bytes after
gunzip are exactly those of the uncoded answer."""

import gzip
import json

import pytest

from conftest import SVC, Enoki, route

BIG = {"text": "x" * 3000, "n": list(range(200))}


@pytest.fixture(scope="module")
def cgw(peer, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("compress")
    g = Enoki(tmp, routes=[route("/echo", SVC + ".echo", methods="POST"),
                           route("/small", SVC + ".echo", methods="GET"),
                           route("/h", SVC + ".http_echo", methods="POST", mode="http"),
                           route("/tagged", SVC + ".tagged", mode="http")],
              ready_path="/small")
    yield g
    g.stop()


def post(g, accept=None, extra=None):
    headers = dict(extra or {})
    if accept is not None:
        headers["Accept-Encoding"] = accept
    return g.post("/echo", json_body=BIG, headers=headers)


def test_gzip_when_the_client_takes_it(cgw):
    plain = post(cgw)
    assert plain.status == 200 and plain.header("Content-Encoding") is None, plain
    assert plain.header("Vary") == "Accept-Encoding", plain
    coded = post(cgw, "gzip, deflate, br")
    assert coded.status == 200 and coded.header("Content-Encoding") == "gzip", coded
    assert coded.header("Vary") == "Accept-Encoding", coded
    assert int(coded.header("Content-Length")) == len(coded.body) < len(plain.body) // 4
    # Byte for byte the uncoded answer.
    assert gzip.decompress(coded.body) == plain.body


@pytest.mark.parametrize("accept,coded", [
    ("gzip", True), ("x-gzip", True), ("*", True), ("GZIP;q=0.5", True), ("br;q=1, *;q=0.1", True),
    ("gzip;q=0", False), ("*;q=0", False), ("identity", False), ("deflate", False),
    ("gzip;q=1.5", False), ("*;q=0.3, gzip;q=0", False), ("", False)])
def test_accept_encoding_and_q_values(cgw, accept, coded):
    r = post(cgw, accept)
    assert r.status == 200, r
    assert (r.header("Content-Encoding") == "gzip") == coded, (accept, r.headers)
    body = gzip.decompress(r.body) if coded else r.body
    assert body == post(cgw).body


def test_small_bodies_ranges_and_head(cgw):
    r = cgw.get("/small?a=1", headers={"Accept-Encoding": "gzip"})
    assert r.status == 200 and r.header("Content-Encoding") is None, r
    assert r.header("Vary") is None, r
    r = post(cgw, "gzip", {"Range": "bytes=0-10"})
    assert r.header("Content-Encoding") is None, r


def test_compress_min_zero_turns_it_off(peer, tmp_path):
    g = Enoki(tmp_path, routes=[route("/echo", SVC + ".echo", methods="POST")],
              gateway={"compress_min": 0}, ready_path=None)
    try:
        r = post(g, "gzip")
        assert r.status == 200 and r.header("Content-Encoding") is None, r
        assert r.header("Vary") is None, r
    finally:
        g.stop()


def test_the_libmicrohttpd_path_codes_too(cgw):
    """A chunked request body goes through libmicrohttpd rather than enoki's own reader: the answer
    is coded the same way."""
    import http.client
    import json

    conn = http.client.HTTPConnection("127.0.0.1", cgw.port, timeout=10)
    try:
        body = json.dumps(BIG).encode()
        conn.request("POST", "/echo", body=iter([body[:100], body[100:]]), encode_chunked=True,
                     headers={"Content-Type": "application/json", "Accept-Encoding": "gzip"})
        resp = conn.getresponse()
        data = resp.read()
    finally:
        conn.close()
    assert resp.status == 200 and resp.getheader("Content-Encoding") == "gzip", resp.getheaders()
    assert resp.getheader("Vary") == "Accept-Encoding"
    assert gzip.decompress(data) == post(cgw).body


def test_a_handlers_own_content_type_is_coded_too(cgw):
    """A mode: http handler that names its Content-Type in its headers (application/json here)
    gets its body coded as any other JSON answer (it was never coded)."""
    plain = cgw.post("/h", json_body=BIG)
    assert plain.status == 200 and plain.header("Content-Type") == "application/json", plain
    assert plain.header("Vary") == "Accept-Encoding", plain
    coded = cgw.post("/h", json_body=BIG, headers={"Accept-Encoding": "gzip"})
    assert coded.header("Content-Encoding") == "gzip", coded
    assert len(coded.body) < len(plain.body) // 4, (len(coded.body), len(plain.body))
    # The handler echoes the request, whose Accept-Encoding differs: the JSON, not the bytes.
    assert json.loads(gzip.decompress(coded.body))["path"] == {}


def test_a_handlers_strong_etag_is_weakened_when_coded(cgw):
    """A strong ETag names the bytes of one representation (RFC 9110 8.8.3.3): the gzip-coded
    answer's is made weak, as nginx does; a weak one, and an answer sent as it was, keep theirs."""
    plain = cgw.get("/tagged")
    assert plain.status == 200 and plain.header("ETag") == '"v1"', plain
    coded = cgw.get("/tagged", headers={"Accept-Encoding": "gzip"})
    assert coded.header("Content-Encoding") == "gzip", coded
    assert coded.header("ETag") == 'W/"v1"', coded
    weak = cgw.get("/tagged?weak=1", headers={"Accept-Encoding": "gzip"})
    assert weak.header("Content-Encoding") == "gzip" and weak.header("ETag") == 'W/"v1"', weak
