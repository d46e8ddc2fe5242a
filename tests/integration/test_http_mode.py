"""http mode (`mode: http`): the route calls its method as nameko's @http calls a handler,
fn(request, **path_values), over RPC, and answers as nameko/web/handlers.py answers.

The expected bytes are the raw captures of nameko 3.0.0-rc11's own @http (docs/nameko-wire.md §6):
status, Content-Type, the handler's headers and the body. Where a value lost its Python type on the
wire (a tuple is a JSON array), the test computes the answer with Python itself, as nameko's
response_from_result would on the decoded value (nameko_answer below): a list of length 3 returned
by a handler is read as (status, headers, payload), where nameko's own @http would see a list.

The request object follows the contract (http_mode_spec), which departs from what nameko's eventlet
server gives in three places on purpose: no Content-Type means content_type null (eventlet
invents "text/plain"), repeated headers are joined with ", " (eventlet: ","), and url keeps the
target as sent (werkzeug: IRI-decoded).

The peer's methods are in tests/peer/nameko_peer.py (http-mode methods)."""

import base64
import importlib
import importlib.util
import json
import sys
import time

import pytest

from conftest import GWNAME, NOSVC, REPO, SCALE, SVC, Enoki, route
from conftest import exchange_raw

TEXT = "text/plain; charset=utf-8"


def http_route(rule, method, methods=None, timeout=None, expected=None, service=SVC):
    r = route(rule, "{}.{}".format(service, method), methods=methods, timeout=timeout, mode="http")
    if expected is not None:
        r["expected_exceptions"] = list(expected)
    return r


HTTP_ROUTES = [
    http_route("/chunked-header", "chunked_header"),
    http_route("/cookie-list", "cookie_list"),
    http_route("/chunked-injection", "chunked_injection"),
    http_route("/not-modified", "not_modified"),
    http_route("/latin1-header", "latin1_header"),
    http_route("/hello/<name>", "hello"),
    http_route("/hello_nokw", "hello"),
    http_route("/tuple2", "tuple2", methods="POST"),
    http_route("/tuple3", "tuple3"),
    http_route("/boom", "boom"),
    http_route("/boom_expected", "boom", expected=["ValueError"]),
    http_route("/expected", "expected", expected=["MyErr"]),
    http_route("/expected_plain", "expected"),
    http_route("/expected_other", "expected", expected=["OtherErr", "ValueError"]),
    http_route("/badreq", "badreq"),
    http_route("/nomethod", "no_such_method"),
    http_route("/payload/<kind>", "payload"),
    http_route("/resp_headers", "resp_headers"),
    http_route("/typed_headers", "typed_headers"),
    http_route("/echo/<int:n>/<path:rest>", "http_echo", methods="GET,POST,PUT"),
    http_route("/echo", "http_echo", methods="GET,POST,PUT"),
    http_route("/nosvc", "hello", service=NOSVC, timeout=10),
    http_route("/slow/<float:seconds>", "http_slow", timeout=1),
]


@pytest.fixture(scope="module")
def hgw(peer, broker, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("http-mode")
    e = Enoki(tmp, routes=HTTP_ROUTES, gateway={"name": GWNAME + "h"})
    # enoki listens before its broker connection is up: wait for a first answer from the peer.
    deadline = time.monotonic() + 10 * SCALE
    while True:
        resp = e.get("/hello/ready")
        if resp.status == 200 and resp.body == b"hello ready":
            break
        if time.monotonic() > deadline:
            e.kill()
            pytest.fail("the http-mode gateway never answered GET /hello/ready with 200 'hello "
                        "ready'; last answer {!r} {!r}; stderr:\n{}".format(
                            resp, dict(resp.headers), e.stderr_text()[-3000:]))
        time.sleep(0.05)
    yield e
    e.stop()


# --- raw HTTP, for exact request bytes and for HEAD -----------------------------------------------


class Raw:
    def __init__(self, data):
        head, sep, self.body = data.partition(b"\r\n\r\n")
        assert sep, data
        lines = head.decode("latin-1").split("\r\n")
        version, status, self.reason = (lines[0].split(" ", 2) + [""])[:3]
        assert version == "HTTP/1.1", lines[0]
        self.status = int(status)
        self.headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:]]

    def header(self, name):
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        assert len(values) <= 1, (name, self.headers)
        return values[0] if values else None

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<Raw {} {!r} {!r}>".format(self.status, self.headers, self.body[:300])


def raw_request(port, data, timeout=30):
    """Sends these exact bytes (which should ask for Connection: close) and reads to EOF."""
    return Raw(exchange_raw(port, data, timeout))


def raw_lines(port, request_line, headers=(), body=b""):
    """request_line and headers (name, value) as sent, Host first and Connection: close last."""
    lines = [request_line, "Host: 127.0.0.1:{}".format(port)]
    lines += ["{}: {}".format(k, v) for k, v in headers]
    lines.append("Connection: close")
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    return raw_request(port, data)


# --- what nameko's @http answers ------------------------------------------------------------------


def assert_text(resp, status, body):
    """A nameko @http answer with its default Content-Type: that status, text/plain; charset=utf-8,
    the body as UTF-8 and its Content-Length."""
    body = body.encode("utf-8") if isinstance(body, str) else body
    assert resp.status == status, resp
    assert resp.header("Content-Type") == TEXT, resp.headers
    assert resp.body == body, resp
    assert resp.header("Content-Length") == str(len(body)), resp.headers


def nameko_answer(value):
    """(status, payload) as nameko's response_from_result reads a decoded JSON result, an array
    of length 3 or 2 standing for the tuple the handler returned; the payload must then be a str."""
    if isinstance(value, list) and len(value) == 3:
        return value[0], value[2]
    if isinstance(value, list) and len(value) == 2:
        return value[0], value[1]
    return 200, value


def type_error(payload):
    return "Error: TypeError: Payload must be a string. Got `{!r}`\n".format(payload)


def peer_payloads():
    """The peer's own payload(kind) table: the values the test computes Python's answer from."""
    spec = importlib.util.spec_from_file_location("nameko_peer_payloads",
                                                  REPO / "tests" / "peer" / "nameko_peer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module._PAYLOADS


PAYLOADS = peer_payloads()


# --- results --------------------------------------------------------------------------------------


def test_str_result(hgw):
    assert_text(hgw.get("/hello/world"), 200, "hello world")


def test_str_result_with_percent_decoded_utf8_name(hgw):
    assert_text(hgw.get("/hello/w%C3%B6rld"), 200, "hello w\u00f6rld")


def test_status_and_payload(hgw):
    assert_text(hgw.post("/tuple2"), 201, "created")


def test_status_headers_and_payload(hgw):
    resp = hgw.get("/tuple3")
    assert resp.status == 202, resp
    assert resp.headers.get_all("X-Foo") == ["bar"], resp.headers
    assert resp.headers.get_all("Content-Type") == ["application/json"], resp.headers
    assert resp.body == b'{"ok": true}'
    assert resp.header("Content-Length") == "12"


def test_handler_headers_as_pairs(hgw):
    resp = hgw.get("/resp_headers")
    assert_text(resp, 200, "pairs")
    assert resp.headers.get_all("X-A") == ["1"], resp.headers
    assert resp.headers.get_all("X-B") == ["2"], resp.headers


def test_non_string_header_values_are_python_str(hgw):
    resp = hgw.get("/typed_headers")
    assert_text(resp, 200, "typed")
    names = ("X-Int", "X-True", "X-Float", "X-Whole", "X-None", "X-Big", "X-Inf")
    got = {k: resp.headers.get_all(k) for k in names}
    assert got == {"X-Int": ["5"], "X-True": ["True"], "X-Float": ["1.5"], "X-Whole": ["2.0"],
                   "X-None": ["None"], "X-Big": ["18446744073709551616"], "X-Inf": ["inf"]}, \
        resp.headers


def test_handler_headers_precede_content_type_on_the_wire(hgw):
    """docs/nameko-wire.md §6: status line, handler headers, Content-Type, Content-Length, Date."""
    resp = raw_lines(hgw.port, "GET /tuple3 HTTP/1.1")
    names = [k.lower() for k, _ in resp.headers if k.lower() in ("x-foo", "content-type")]
    assert names == ["x-foo", "content-type"], resp.headers


@pytest.mark.parametrize("kind", sorted(PAYLOADS))
def test_payload_kinds(hgw, kind):
    # The answer Python gives for the value as it arrives (JSON: tuples are lists).
    status, payload = nameko_answer(json.loads(json.dumps(PAYLOADS[kind])))
    resp = hgw.get("/payload/" + kind)
    if isinstance(payload, str):
        assert_text(resp, status, payload)
    else:
        assert_text(resp, 500, type_error(payload))


def test_payload_reprs_are_pythons(hgw):
    """The reprs written out, as nameko's own @http gave them (docs/nameko-wire.md §6 and by hand)."""
    assert_text(hgw.get("/payload/dict"), 500,
                "Error: TypeError: Payload must be a string. Got `{'a': 1}`\n")
    assert_text(hgw.get("/payload/tuple_dict"), 500,
                "Error: TypeError: Payload must be a string. Got `{'a': 1}`\n")
    assert_text(hgw.get("/payload/none"), 500,
                "Error: TypeError: Payload must be a string. Got `None`\n")
    assert_text(hgw.get("/payload/true"), 500,
                "Error: TypeError: Payload must be a string. Got `True`\n")
    assert_text(hgw.get("/payload/float"), 500,
                "Error: TypeError: Payload must be a string. Got `1.5`\n")
    assert_text(hgw.get("/payload/nested"), 500,
                "Error: TypeError: Payload must be a string. "
                "Got `{'k': [1, None, \"x'y\", 2.0]}`\n")
    assert_text(hgw.get("/payload/str_in_tuple"), 200, "ok")
    assert_text(hgw.get("/payload/unicode"), 200, "h\u00e9llo")


# --- exceptions -----------------------------------------------------------------------------------


def test_unexpected_exception_is_500(hgw):
    resp = hgw.get("/boom")
    assert_text(resp, 500, "Error: ValueError: ('boom', 1)\n")
    assert resp.header("Content-Length") == "31"


def test_expected_exception_is_400(hgw):
    assert_text(hgw.get("/expected"), 400, "Error: MyErr: nope\n")
    assert_text(hgw.get("/boom_expected"), 400, "Error: ValueError: ('boom', 1)\n")


def test_exception_not_in_expected_exceptions_is_500(hgw):
    assert_text(hgw.get("/expected_plain"), 500, "Error: MyErr: nope\n")
    assert_text(hgw.get("/expected_other"), 500, "Error: MyErr: nope\n")


def test_bad_request_is_400(hgw):
    assert_text(hgw.get("/badreq"), 400, "Error: BadRequest: bad thing\n")


def test_method_not_found_is_400(hgw):
    assert_text(hgw.get("/nomethod"), 400, "Error: MethodNotFound: no_such_method\n")


def test_incorrect_signature_is_400(hgw):
    # The peer binds as nameko's check_signature does (inspect.getcallargs).
    assert_text(hgw.get("/hello_nokw"), 400,
                "Error: IncorrectSignature: hello() missing 1 required positional argument: "
                "'name'\n")


# --- broker-side failures -------------------------------------------------------------------------


def test_unknown_service_is_503_text(hgw):
    resp = hgw.get("/nosvc")
    assert resp.status == 503, resp
    assert resp.header("Content-Type") == TEXT, resp.headers
    assert resp.body.startswith(b"Error: UnknownService: Unknown service `"), resp
    assert resp.body == "Error: UnknownService: Unknown service `{}`\n".format(NOSVC).encode()
    assert resp.elapsed < 5 * SCALE, resp


def test_timeout_is_504_text(hgw):
    late = 1 + 0.5 * SCALE  # well after the deadline (1 s)
    resp = hgw.get("/slow/{}".format(late))
    assert resp.status == 504, resp
    assert resp.header("Content-Type") == TEXT, resp.headers
    assert resp.body.startswith(b"Error: RpcTimeout: "), resp
    assert resp.body == "Error: RpcTimeout: no reply from {}.http_slow within 1 s\n".format(
        SVC).encode(), resp
    # The late reply must not disturb the next call.
    time.sleep(late - 1 + 0.3)
    assert_text(hgw.get("/hello/after"), 200, "hello after")


def test_slow_call_within_the_deadline(hgw):
    assert_text(hgw.get("/slow/0.2"), 200, "slept")


# --- HEAD -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/hello/world", "/tuple3", "/boom"])
def test_head_is_get_without_body(hgw, path):
    get = raw_lines(hgw.port, "GET {} HTTP/1.1".format(path))
    head = raw_lines(hgw.port, "HEAD {} HTTP/1.1".format(path))
    assert get.body != b""
    assert head.status == get.status, (get, head)
    assert head.body == b"", head
    ignore = {"date", "x-call-id"}
    assert ([(k.lower(), v) for k, v in head.headers if k.lower() not in ignore]
            == [(k.lower(), v) for k, v in get.headers if k.lower() not in ignore]), (get, head)
    assert head.header("Content-Length") == str(len(get.body))


# --- the request object ---------------------------------------------------------------------------


def echo(resp):
    """The http_echo answer: 200 application/json, {"request": ..., "path": ...}."""
    assert resp.status == 200, resp
    assert resp.header("Content-Type") == "application/json", resp.headers
    return resp.json()


REQUEST_KEYS = {"method", "url", "path", "query_string", "args", "headers", "content_type",
                "remote_addr", "cookies"}


def werkzeug_url(host, path, query_string):
    """request.url as werkzeug 2.2 computes it for this request: the oracle for `url`."""
    from werkzeug.sansio.utils import get_current_url, get_host

    return get_current_url("http", get_host("http", host, None), "", path, query_string.encode())


def test_request_object_get(hgw):
    target = "/echo/5/a/b/c?x=1&y=%20&x=2&z=b+c&e=%C3%A9&c="
    sent = [("X-Foo", "a"), ("x-api-key", "k"), ("x-foo", "b"), ("x-1abc-def", "t"),
            ("X-UPPER", "U"), ("Cookie", "session=abc; other=x; session=zzz")]
    out = echo(raw_lines(hgw.port, "GET {} HTTP/1.1".format(target), sent))
    req = out["request"]
    assert set(req) == REQUEST_KEYS | {"data"}, req
    assert req["method"] == "GET"
    assert req["url"] == werkzeug_url("127.0.0.1:{}".format(hgw.port), req["path"],
                                      target.split("?", 1)[1])
    assert req["url"].endswith("?x=1&y=%20&x=2&z=b+c&e=\u00e9&c="), req["url"]
    assert req["path"] == "/echo/5/a/b/c"
    assert req["query_string"] == "x=1&y=%20&x=2&z=b+c&e=%C3%A9&c="
    assert req["args"] == {"x": ["1", "2"], "y": [" "], "z": ["b c"], "e": ["\u00e9"], "c": [""]}
    # Names as werkzeug spells them (str.title()), repeated values joined with ", ".
    assert "x-1abc-def".title() == "X-1Abc-Def"
    # eventlet gives a request without a Content-Type text/plain (Python's email parser's default),
    # and werkzeug lists it first.
    assert list(req["headers"])[0] == "Content-Type"
    assert req["headers"] == {
        "Content-Type": "text/plain",
        "Host": "127.0.0.1:{}".format(hgw.port),
        "X-Foo": "a, b",
        "X-Api-Key": "k",
        "X-1Abc-Def": "t",
        "X-Upper": "U",
        "Cookie": "session=abc; other=x; session=zzz",
        "Connection": "close",
    }, req["headers"]
    assert req["data"] == ""
    assert req["content_type"] == "text/plain"
    assert req["remote_addr"] == "127.0.0.1"
    assert req["cookies"] == {"session": "abc", "other": "x"}
    assert out["path"] == {"n": 5, "rest": "a/b/c"}
    assert type(out["path"]["n"]) is int


def test_request_object_percent_decoded_path(hgw):
    out = echo(raw_lines(hgw.port, "GET /echo/7/caf%C3%A9/a%20b HTTP/1.1"))
    req = out["request"]
    assert req["path"] == "/echo/7/caf\u00e9/a b"
    assert req["url"] == werkzeug_url("127.0.0.1:{}".format(hgw.port), req["path"], "")
    assert req["url"] == "http://127.0.0.1:{}/echo/7/caf\u00e9/a%20b".format(hgw.port)
    assert req["query_string"] == ""
    assert req["args"] == {}
    assert req["cookies"] == {}
    assert out["path"] == {"n": 7, "rest": "caf\u00e9/a b"}


def test_request_object_post_body(hgw):
    body = b'{"a": 1, "s": "\xc3\xa9"}'
    out = echo(raw_lines(hgw.port, "POST /echo HTTP/1.1",
                         [("Content-Type", "application/json; charset=utf-8"),
                          ("Content-Length", str(len(body)))], body))
    req = out["request"]
    assert req["method"] == "POST"
    assert req["data"] == body.decode("utf-8")
    assert "data_base64" not in req
    assert req["content_type"] == "application/json; charset=utf-8"
    # eventlet gives a request without a Content-Type text/plain (Python's email parser's default),
    # and werkzeug lists it first.
    assert list(req["headers"])[0] == "Content-Type"
    assert req["headers"] == {
        "Content-Type": "text/plain",
        "Host": "127.0.0.1:{}".format(hgw.port),
        "Content-Type": "application/json; charset=utf-8",
        "Content-Length": str(len(body)),
        "Connection": "close",
    }, req["headers"]
    assert out["path"] == {}


def test_request_object_non_utf8_body_is_base64(hgw):
    body = b"\xff\xfe\x00a"
    out = echo(raw_lines(hgw.port, "PUT /echo/1/x HTTP/1.1",
                         [("Content-Type", "application/octet-stream"),
                          ("Content-Length", str(len(body)))], body))
    req = out["request"]
    assert req["method"] == "PUT"
    assert "data" not in req, req
    assert req["data_base64"] == base64.b64encode(body).decode() == "//4AYQ=="
    assert base64.b64decode(req["data_base64"]) == body
    assert req["content_type"] == "application/octet-stream"
    assert out["path"] == {"n": 1, "rest": "x"}


def test_request_object_through_http_client(hgw):
    """The same through http.client (what most clients send): an empty POST body is ""."""
    out = echo(hgw.post("/echo/42/deep/er/path?k=v"))
    req = out["request"]
    assert req["method"] == "POST"
    assert req["path"] == "/echo/42/deep/er/path"
    assert req["args"] == {"k": ["v"]}
    assert req["data"] == ""
    assert out["path"] == {"n": 42, "rest": "deep/er/path"}


def test_request_object_empty_query_pairs_are_skipped(hgw):
    """werkzeug's url_decode skips empty pairs ("&&", a trailing "&") but keeps an empty name."""
    req = echo(hgw.get("/echo?a=1&&b=2&=v&"))["request"]
    assert req["query_string"] == "a=1&&b=2&=v&"
    assert req["args"] == {"a": ["1"], "b": ["2"], "": ["v"]}, req["args"]


def test_request_object_header_value_whitespace_is_stripped(hgw):
    """Optional whitespace around a field value is not part of it (RFC 9110 5.5; eventlet strips
    ' \t' on both sides before werkzeug sees the value)."""
    req = echo(raw_lines(hgw.port, "GET /echo HTTP/1.1",
                         [("X-Sp", "  padded \t "), ("X-Empty", ""), ("X-In", "a  b")]))["request"]
    assert req["headers"]["X-Sp"] == "padded", req["headers"]
    assert req["headers"]["X-Empty"] == "", req["headers"]
    assert req["headers"]["X-In"] == "a  b", req["headers"]


def test_request_object_cookies_as_werkzeug_parses_them(hgw):
    """werkzeug 2.2's parse_cookie (what nameko's request.cookies gave for this header): names and
    values trimmed, a name without '=' is empty, quoted values unquoted with their escapes."""
    cookie = 'a=1;b=2;  c = 3 ; d; e="x\\"y"; f="q v"; g="\\101"; a=9'
    req = echo(raw_lines(hgw.port, "GET /echo HTTP/1.1", [("Cookie", cookie)]))["request"]
    assert req["headers"]["Cookie"] == cookie
    assert req["cookies"] == {"a": "1", "b": "2", "c": "3", "d": "", "e": 'x"y', "f": "q v",
                              "g": "A"}, req["cookies"]


# --- python/enoki_http.py -------------------------------------------------------------------------


def test_enoki_http_to_request(hgw):
    """The request object enoki built, turned back into a werkzeug-like request by the helper."""
    module_path = REPO / "python" / "enoki_http.py"
    if not module_path.exists():
        pytest.skip("python/enoki_http.py is absent")
    sys.path.insert(0, str(module_path.parent))
    try:
        enoki_http = importlib.import_module("enoki_http")
    finally:
        sys.path.remove(str(module_path.parent))
    body = b'{"a": 1}'
    out = echo(raw_lines(hgw.port, "POST /echo/3/a/b?x=1&x=2&y=%20 HTTP/1.1",
                         [("Content-Type", "application/json"), ("X-Foo", "a"), ("X-Foo", "b"),
                          ("Content-Length", str(len(body)))], body))
    request = enoki_http.to_request(out["request"])
    assert request.method == "POST"
    assert request.path == "/echo/3/a/b"
    assert request.args.getlist("x") == ["1", "2"]
    assert request.args.get("y") == " "
    assert request.headers.get("x-foo") == "a, b"
    assert request.headers.get("Content-Type") == "application/json"
    assert request.get_data() == body
    assert request.content_type == "application/json"
    assert request.remote_addr == "127.0.0.1"


def test_enokis_cors_answers_not_the_handlers(peer, tmp_path):
    """With GATEWAY.cors on, enoki's CORS headers are the answer's: a handler's own
    Access-Control-* fields are left out (a second Access-Control-Allow-Origin makes a browser
    refuse the answer, and a handler's "*" would let in an Origin the config does not list)."""
    gw = Enoki(tmp_path, routes=[http_route("/own", "own_cors")],
               gateway={"name": GWNAME + "hc", "cors": {"origins": ["https://app.example"]}},
               ready_path="/own")
    try:
        ok = gw.get("/own", headers={"Origin": "https://app.example"})
        assert ok.status == 200 and ok.header("X-Own") == "1", ok
        assert ok.headers.get_all("Access-Control-Allow-Origin") == ["https://app.example"], ok
        evil = gw.get("/own", headers={"Origin": "https://evil.example"})
        assert evil.status == 200 and (evil.headers.get_all("Access-Control-Allow-Origin") or []) == [], evil
    finally:
        gw.stop()


def test_a_handlers_transfer_encoding_is_left_out(hgw):
    """enoki frames the body with Content-Length: a handler's Transfer-Encoding: chunked (passed on
    from an upstream) would make a client read the body as chunks (RFC 9112 6.1 forbids both), and
    take the next pipelined answer for a chunk."""
    raw = raw_request(hgw.port, b"GET /chunked-header HTTP/1.1\r\nHost: h\r\n\r\n"
                                b"GET /hello/x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    assert raw.status == 200 and raw.header("Transfer-Encoding") is None, raw
    assert raw.header("X-Own") == "1" and raw.header("Content-Length") == "5", raw
    assert raw.body.startswith(b"hello" + b"HTTP/1.1 200 "), raw.body[:200]


def test_a_header_given_as_a_list_is_a_field_per_item(hgw):
    """werkzeug's Headers: a dict value that is a list or tuple (a JSON list over RPC) gives one
    field per item, the way a handler sends two cookies."""
    raw = raw_request(hgw.port, b"GET /cookie-list HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    assert [v for k, v in raw.headers if k.lower() == "set-cookie"] == ["a=1", "b=2"], raw
    assert raw.header("X-Empty") is None, raw
    assert raw.header("Content-Type") == "text/plain; charset=utf-8", raw
    # A dropped header is still checked first: a line break in it is werkzeug's ValueError (500).
    bad = raw_request(hgw.port, b"GET /chunked-injection HTTP/1.1\r\nHost: h\r\n"
                                b"Connection: close\r\n\r\n")
    assert bad.status == 500 and bad.header("X-Injected") is None, bad


def test_a_path_variable_named_request_is_a_config_error(tmp_path):
    """nameko calls a handler fn(request, **path_values): a variable named request would take the
    request's place, so the rule is refused at load, naming it."""
    from conftest import run_enoki

    path = tmp_path / "named.yaml"
    path.write_text("routes:\n  - rule: /a/<request>\n    rpc: s.m\n    mode: http\n"
                    "  - rule: /b/<request>\n    rpc: s.m\n")
    out = run_enoki("--config", str(path), "--check")
    assert out.returncode == 2, out
    assert "named.yaml:2: routes[0].rule: '/a/<request>': a mode: http handler is called with " \
        "the request as its first argument, so no path variable may be named request" in \
        out.stderr, out.stderr
    path.write_text("routes:\n  - rule: /b/<request>\n    rpc: s.m\n")
    assert run_enoki("--config", str(path), "--check").returncode == 0  # json mode: no request


def test_refusals_without_a_call_are_in_http_text_format(peer, tmp_path):
    """A mode: http route's answers without a reply are in @http's text format, as its others:
    max_in_flight's 503 and a query enoki will not pass on."""
    import threading

    gw = Enoki(tmp_path, routes=[http_route("/slow/<float:seconds>", "http_slow"),
                                 http_route("/hello/<name>", "hello")],
               gateway={"name": GWNAME + "hb", "max_in_flight": 1}, ready_path="/hello/x")
    try:
        slow = threading.Thread(target=lambda: gw.get("/slow/2.0"))
        slow.start()
        # The slow call holds the one place once it is in flight (/metrics says so).
        deadline = time.monotonic() + 10 * SCALE
        while "enoki_rpc_in_flight 1" not in gw.get("/metrics").body.decode():
            assert time.monotonic() < deadline, "the slow call never went out"
            time.sleep(0.02)
        busy = gw.get("/hello/x")
        slow.join()
        assert busy.status == 503 and busy.media_type == "text/plain", busy
        assert busy.body.decode().startswith("Error: TooBusy: too many calls are waiting"), busy
        nul = gw.get("/hello/x?a=%00")
        assert nul.status == 400 and nul.media_type == "text/plain", nul
        assert nul.body.decode().startswith("Error: GatewayError: a query parameter holds a NUL"), nul
    finally:
        gw.stop()


def test_a_304_keeps_what_werkzeug_keeps(hgw):
    """werkzeug strips a 304's entity headers (remove_entity_headers: Content-Type, Last-Modified,
    Content-Encoding, ...; Expires stays) and sends no Content-Length: the 200's is not known, and
    RFC 9110 8.6 allows no other. (libmicrohttpd's path said Content-Length: 0.)"""
    # Read by enoki, and by libmicrohttpd (HTTP/1.0, and a HEAD, are its to read).
    for line in (b"GET /not-modified HTTP/1.1", b"GET /not-modified HTTP/1.0",
                 b"HEAD /not-modified HTTP/1.1"):
        raw = raw_request(hgw.port, line + b"\r\nHost: h\r\nConnection: close\r\n\r\n")
        assert raw.status == 304 and raw.body == b"", (line, raw)
        names = {k.lower() for k, _ in raw.headers}
        assert {"etag", "cache-control", "expires"} <= names, (line, raw)
        assert not names & {"content-type", "last-modified", "content-encoding",
                            "content-length", "transfer-encoding"}, (line, raw)
        assert dict((k.lower(), v) for k, v in raw.headers)["connection"] == "close", raw


def test_header_values_go_out_in_latin1_as_werkzeug_writes_them(hgw):
    """eventlet writes werkzeug's header values in Latin-1: "caf\u00e9" is the byte E9, which a
    client reads back as \u00e9 (in UTF-8 it read "caf\u00c3\u00a9"). A character Latin-1 has
    not stays in UTF-8."""
    data = exchange_raw(hgw.port, b"GET /latin1-header HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    head = data.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nX-U: caf\xe9\r\n" in head, head
    assert b"\r\nX-Greek: \xce\xbb\r\n" in head, head
    # The same through libmicrohttpd (a HEAD is its to read).
    data = exchange_raw(hgw.port, b"HEAD /latin1-header HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    assert b"\r\nX-U: caf\xe9\r\n" in data, data
