"""Routing through the real binary: werkzeug 2.2 rules (converters, static before variable, strict
slashes and their 308, 405 and Allow, HEAD, percent-decoded segments), load-time rule errors and the
--check table, and the generic route POST <rpc_prefix>/<service>/<method> (GATEWAY.expose).

The werkzeug answers written here were asked of werkzeug 2.2 itself: Map([...], strict_slashes=True)
.bind(host).match(path, method=..., query_args=...)."""

import json
import re

import pytest

from conftest import (GWNAME, NOSVC, SCALE, SVC, SVC2, UUID4, Enoki, error_body, remote_error_body,
                      route, run_enoki)
from conftest import exchange_raw

NO_BROKER = "amqp://guest:guest@127.0.0.1:1/"
ECHO = SVC + ".echo"

# The routing gateway: no GATEWAY.expose. The variable rule of /u/ comes first, so that the static
# rule can only win by werkzeug's ordering, not by the order of the file.
ROUTING_ROUTES = [
    route("/t/int/<int:n>", ECHO),
    route("/t/float/<float:x>", ECHO),
    route("/t/uuid/<uuid:u>", ECHO),
    route("/t/any/<any(a,b):k>", ECHO),
    route("/t/path/<path:p>", ECHO),
    route("/t/str3/<string(length=3):s>", ECHO),
    route("/t/signed/<int(signed=True):n>", ECHO),
    route("/u/<name>", SVC2 + ".echo"),
    route("/u/me", ECHO),
    route("/dir/", ECHO, methods="GET,POST"),
    route("/getdir/", ECHO),
    route("/d2/<a>/", ECHO),
    route("/noslash", ECHO),
    route("/multi", ECHO, methods="POST,GET"),
    route("/multi", SVC2 + ".echo", methods="PUT"),
    route("/m/<int:n>", ECHO, methods="POST"),
    route("/m/<name>", SVC2 + ".echo", methods="PUT"),
    route("/s/<name>", ECHO),
    route("/spaces", ECHO, methods="GET, POST"),
]


def gateway(tmp_path_factory, suffix, routes, ready_path, **gateway_keys):
    tmp = tmp_path_factory.mktemp("routing-" + suffix)
    return Enoki(tmp, routes=routes, gateway=dict({"name": GWNAME + suffix}, **gateway_keys),
                 ready_path=ready_path)


@pytest.fixture(scope="module")
def rgw(peer, broker, tmp_path_factory):
    e = gateway(tmp_path_factory, "r", ROUTING_ROUTES, "/t/int/1")
    yield e
    e.stop()


# The generic route: X exposes every method of SVC (rpc_timeout 7), Y only SVC.echo under
# /api/call, Z everything. Each has configured routes too (one for readiness).
X_ROUTES = [
    route("/cfg/ready", ECHO),
    route("/cfg/echo/<int:x>", ECHO, methods="POST"),
    route("/cfg/no_method", SVC + ".no_such_method"),
]


@pytest.fixture(scope="module")
def xgw(peer, broker, tmp_path_factory):
    e = gateway(tmp_path_factory, "x", X_ROUTES, "/cfg/ready", expose=[SVC + ".*"], rpc_timeout=7,
                context_headers={"X-Tenant": "tenant"})
    yield e
    e.stop()


@pytest.fixture(scope="module")
def ygw(peer, broker, tmp_path_factory):
    e = gateway(tmp_path_factory, "y", [route("/cfg/ready", ECHO)], "/cfg/ready",
                expose=[SVC + ".echo"], rpc_prefix="/api/call")
    yield e
    e.stop()


@pytest.fixture(scope="module")
def zgw(peer, broker, tmp_path_factory):
    e = gateway(tmp_path_factory, "z", [route("/cfg/ready", ECHO)], "/cfg/ready", expose=["*"])
    yield e
    e.stop()


def ok(resp):
    assert resp.status == 200, resp
    assert resp.media_type == "application/json", resp.content_type
    return resp.json()


def kwargs_of(resp):
    body = ok(resp)
    assert body["args"] == [], body
    return body["kwargs"]


# --- A. werkzeug rules through HTTP --------------------------------------------------------------------


@pytest.mark.parametrize("path, name, value", [
    ("/t/int/42", "n", 42),
    ("/t/int/007", "n", 7),
    ("/t/float/2.5", "x", 2.5),
    ("/t/uuid/0e0b6b7a-3c6f-4f5a-9a3b-1d2c3e4f5a6b", "u", "0e0b6b7a-3c6f-4f5a-9a3b-1d2c3e4f5a6b"),
    ("/t/uuid/0E0B6B7A-3C6F-4F5A-9A3B-1D2C3E4F5A6B", "u", "0e0b6b7a-3c6f-4f5a-9a3b-1d2c3e4f5a6b"),
    ("/t/any/a", "k", "a"),
    ("/t/any/b", "k", "b"),
    ("/t/path/a/b/c", "p", "a/b/c"),
    ("/t/path/x", "p", "x"),
    ("/t/str3/abc", "s", "abc"),
    ("/t/signed/-5", "n", -5),
    ("/t/signed/5", "n", 5),
])
def test_typed_values(rgw, path, name, value):
    kwargs = kwargs_of(rgw.get(path))
    assert kwargs == {name: value}
    assert type(kwargs[name]) is type(value), (kwargs, type(value))


@pytest.mark.parametrize("path", [
    "/t/int/abc", "/t/int/-5", "/t/int/4.5", "/t/int/",
    "/t/float/2", "/t/float/-2.5", "/t/float/abc",
    "/t/uuid/zz", "/t/uuid/0e0b6b7a-3c6f-4f5a-9a3b-1d2c3e4f5a6",
    "/t/any/c", "/t/any/ab",
    "/t/path/",
    "/t/str3/ab", "/t/str3/abcd",
    "/t/signed/+5", "/t/signed/x",
])
def test_converter_rejects_are_404(rgw, path):
    resp = rgw.get(path)
    error_body(resp, 404, "not_found")
    assert resp.json()["call_id"] is None, resp


def test_static_beats_variable(rgw, broker):
    spy = broker.spy(SVC + ".*", SVC2 + ".*")
    try:
        assert kwargs_of(rgw.get("/u/me")) == {}
        assert spy.get().routing_key == ECHO
        assert kwargs_of(rgw.get("/u/you")) == {"name": "you"}
        assert spy.get().routing_key == SVC2 + ".echo"
    finally:
        broker.drop_spy(spy)


def test_strict_slash_redirect(rgw):
    """werkzeug: 308 to new_url, absolute from the Host, the raw query string kept."""
    resp = rgw.get("/dir?x=1&y=%20")
    assert resp.status == 308, resp
    assert resp.header("Location") == "http://127.0.0.1:{}/dir/?x=1&y=%20".format(rgw.port)
    # The target answers.
    assert kwargs_of(rgw.get("/dir/?x=1&y=%20")) == {"x": "1", "y": " "}
    # Without a query string: no '?'.
    resp = rgw.get("/dir")
    assert resp.status == 308, resp
    assert resp.header("Location") == "http://127.0.0.1:{}/dir/".format(rgw.port)


def test_strict_slash_redirect_uses_the_host_header(rgw):
    resp = rgw.get("/dir?q=%C3%A9&a=b+c", headers={"Host": "example.test:8080"})
    assert resp.status == 308, resp
    assert resp.header("Location") == "http://example.test:8080/dir/?q=%C3%A9&a=b+c"


@pytest.mark.parametrize("path, location", [
    ("/d2/caf%C3%A9", "/d2/caf%C3%A9/"),
    ("/d2/a%20b+c|d:e~f", "/d2/a%20b+c|d:e~f/"),
    ("/d2/a;b=c", "/d2/a;b%3Dc/"),
    ("/d2/x!$'()*,", "/d2/x!$'()*,/"),
    ("/d2/a&b@c", "/d2/a%26b%40c/"),
])
def test_strict_slash_redirect_quotes_the_path_as_werkzeug(rgw, path, location):
    """werkzeug's make_redirect_url: url_quote(path, safe="/:|+") over the decoded path, whose
    always-safe set is letters, digits and -._~$!'()*+,;"""
    resp = rgw.get(path)
    assert resp.status == 308, resp
    assert resp.header("Location") == "http://127.0.0.1:{}{}".format(rgw.port, location)


def werkzeug_location(target, host, port):
    """The Location werkzeug (nameko's router) answers for raw request target bytes and Host."""
    from werkzeug.routing import Map, RequestRedirect, Rule

    urls = Map([Rule("/dir/", endpoint="dir"), Rule("/d2/<a>/", endpoint="d2")])
    path, _, query = target.partition(b"?")
    from urllib.parse import unquote_to_bytes
    env = {"REQUEST_METHOD": "GET", "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
           "QUERY_STRING": query.decode("latin-1"), "SERVER_NAME": "127.0.0.1",
           "SERVER_PORT": str(port), "wsgi.url_scheme": "http", "SCRIPT_NAME": ""}
    if host is not None:
        env["HTTP_HOST"] = host
    try:
        urls.bind_to_environ(env).match()
    except RequestRedirect as redirect:
        return redirect.get_response(env).headers["Location"]
    raise AssertionError("werkzeug does not redirect {!r}".format(target))


@pytest.mark.parametrize("target, host", [
    (b"/dir?q=\xc3\xa9&r=\xe9", "h.example"),           # UTF-8, and a byte that is not
    (b"/dir?q=\xc3\xa9&s=\"<>{}|^`%41", "h.example"),     # what else a converted query quotes
    (b"/d2/a|b?q=\xc3\xa9", "h.example"),                 # the path is quoted again then
    (b"/dir?q=1", "Example.COM:80"),                      # werkzeug's host: lower case, no :80
    (b"/dir?q=1", "[::1]:80"),
    (b"/dir?q=1", "ex.com:8000"),
    (b"/dir?q=1", None),                                  # no Host: the address reached
], ids=["utf8", "quoted", "path", "host_case", "ipv6", "port", "no_host"])
def test_strict_slash_redirect_location_is_werkzeugs(rgw, target, host):
    """The redirect's Location, byte for byte, as werkzeug's redirect() writes it (iri_to_uri for a
    URL that is not all ASCII: a Location header must be)."""
    lines = [b"GET " + target + (b" HTTP/1.1" if host is not None else b" HTTP/1.0")]
    if host is not None:
        lines.append(b"Host: " + host.encode())
    data = exchange_raw(rgw.port, b"\r\n".join(lines) + b"\r\nConnection: close\r\n\r\n")
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    assert head[0].startswith("HTTP/1.1 308 "), head
    fields = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in head[1:])}
    assert fields["location"] == werkzeug_location(target, host, rgw.port)
    assert fields["location"].isascii(), fields["location"]


def test_strict_slash_redirect_for_post(rgw):
    """308 keeps the method; the rule allows POST."""
    resp = rgw.post("/dir?x=1", json_body={"a": 1})
    assert resp.status == 308, resp
    assert resp.header("Location") == "http://127.0.0.1:{}/dir/?x=1".format(rgw.port)


def test_strict_slash_redirect_needs_an_allowed_method(rgw):
    """werkzeug 2.2: POST /getdir, where /getdir/ only allows GET, is 404 (no redirect, no 405)."""
    error_body(rgw.post("/getdir", json_body={}), 404, "not_found")
    assert rgw.request("HEAD", "/getdir").status == 308


@pytest.mark.parametrize("path, location", [
    ("/t//int/5?q=1", "/t/int/5?q=1"),
    ("/dir//?q=1", "/dir/?q=1"),
    ("/dir//", "/dir/"),
])
def test_merge_slashes_redirect(rgw, path, location):
    """nameko's url map is werkzeug's Map() (merge_slashes=True): repeated slashes outside a path
    variable are a 308 to the merged URL."""
    resp = rgw.get(path)
    assert resp.status == 308, resp
    assert resp.header("Location") == "http://127.0.0.1:{}{}".format(rgw.port, location)


def test_no_slash_rule_with_slash_is_404(rgw):
    error_body(rgw.get("/noslash/"), 404, "not_found")
    assert kwargs_of(rgw.get("/noslash")) == {}


def test_method_not_allowed_allow_is_sorted(rgw):
    """Two rules /multi (POST,GET and PUT): Allow lists all of them, sorted, HEAD from GET."""
    resp = rgw.request("DELETE", "/multi")
    error_body(resp, 405, "method_not_allowed")
    assert resp.header("Allow") == "GET, HEAD, POST, PUT"
    assert kwargs_of(rgw.post("/multi?a=1")) == {"a": "1"}


def test_method_not_allowed_across_variable_rules(rgw):
    """/m/<int:n> (POST) and /m/<name> (PUT): werkzeug's 405 for /m/5 collects both; for /m/x only
    the string rule matches."""
    resp = rgw.request("DELETE", "/m/5")
    error_body(resp, 405, "method_not_allowed")
    assert resp.header("Allow") == "POST, PUT"
    resp = rgw.get("/m/5")
    error_body(resp, 405, "method_not_allowed")
    assert resp.header("Allow") == "POST, PUT"
    resp = rgw.request("DELETE", "/m/x")
    error_body(resp, 405, "method_not_allowed")
    assert resp.header("Allow") == "PUT"


def test_method_mismatch_falls_through_to_the_next_rule(rgw, broker):
    """PUT /m/5: the int rule does not allow PUT, so werkzeug matches /m/<name> with name "5"."""
    spy = broker.spy(SVC + ".*", SVC2 + ".*")
    try:
        assert kwargs_of(rgw.request("PUT", "/m/5")) == {"name": "5"}
        assert spy.get().routing_key == SVC2 + ".echo"
        assert kwargs_of(rgw.post("/m/5")) == {"n": 5}
        assert spy.get().routing_key == ECHO
    finally:
        broker.drop_spy(spy)


@pytest.mark.parametrize("path", ["/t/int/5", "/u/me", "/t/int/x"])
def test_head_is_get_without_body(rgw, path):
    get = rgw.get(path)
    head = rgw.request("HEAD", path)
    assert head.status == get.status, (get, head)
    assert head.body == b""
    assert get.body != b""
    ignore = {"date", "x-call-id"}
    get_headers = {k.lower(): v for k, v in get.headers.items() if k.lower() not in ignore}
    head_headers = {k.lower(): v for k, v in head.headers.items() if k.lower() not in ignore}
    # libmicrohttpd reads a HEAD, and answers one request per connection (issue 13).
    assert head_headers == dict(get_headers, connection="close")


def test_percent_decoded_utf8_segment(rgw):
    assert kwargs_of(rgw.get("/s/caf%C3%A9")) == {"name": "caf\u00e9"}
    assert kwargs_of(rgw.get("/s/a%20b")) == {"name": "a b"}
    assert kwargs_of(rgw.get("/t/path/caf%C3%A9/x")) == {"p": "caf\u00e9/x"}
    # The WSGI server decodes the whole path before werkzeug sees it: %2F is a '/'.
    assert kwargs_of(rgw.get("/t/path/a%2Fb")) == {"p": "a/b"}
    error_body(rgw.get("/s/a%2Fb"), 404, "not_found")
    assert kwargs_of(rgw.get("/t/int/%34%32")) == {"n": 42}


def test_methods_with_spaces_are_trimmed(rgw):
    assert kwargs_of(rgw.post("/spaces", json_body={"a": 1})) == {"a": 1}
    assert kwargs_of(rgw.get("/spaces?b=2")) == {"b": "2"}
    resp = rgw.request("DELETE", "/spaces")
    error_body(resp, 405, "method_not_allowed")
    assert resp.header("Allow") == "GET, HEAD, POST"


def test_generic_route_is_off_by_default(rgw, broker):
    spy = broker.spy(SVC + ".*")
    try:
        resp = rgw.post("/rpc/{}/echo".format(SVC), json_body={"args": [1], "kwargs": {}})
        error_body(resp, 404, "not_found")
        assert spy.empty()
    finally:
        broker.drop_spy(spy)


# --- B. load-time errors and --check ---------------------------------------------------------------


def write(tmp_path, text, name="routes.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# Lines 1-7; the route under test is routes[1], whose mapping starts on line 9 and whose rule, where
# every error about the rule points, is on line 11.
HEAD = ("AMQP_URI: {}\n"
        "GATEWAY:\n"
        "  name: gw\n"
        "routes:\n"
        "  - rule: /ok/<int:n>\n"
        "    methods: GET,POST\n"
        "    rpc: s.m\n"
        "\n").format(json.dumps(NO_BROKER))


def bad_route(rule, methods="GET"):
    return HEAD + "  - rpc: s.m\n    methods: {}\n    rule: {}\n".format(methods, json.dumps(rule))


RULE_ERRORS = {
    "unknown_converter": (bad_route("/a/<foo:x>"), ["foo"]),
    "converter_bad_argument_value": (bad_route("/a/<int(min=x):n>"), ["int", "min"]),
    "converter_unknown_argument": (bad_route("/a/<string(length=3, bogus=1):s>"),
                                   ["string", "bogus"]),
    "variable_used_twice": (bad_route("/a/<x>/<x>"), ["'x'", "twice"]),
    "unbalanced": (bad_route("/a/<x"), ["malformed"]),
    "unbalanced_converter": (bad_route("/a/<int:n"), ["malformed"]),
    "no_leading_slash": (bad_route("a/b"), ["'/'", "a/b"]),
    "same_rule_overlapping_method": (bad_route("/ok/<int:n>", methods="PUT, POST"),
                                     ["/ok/<int:n>", "POST"]),
}


@pytest.mark.parametrize("case", sorted(RULE_ERRORS))
def test_rule_error(tmp_path, case):
    text, names = RULE_ERRORS[case]
    path = write(tmp_path, text)
    out = run_enoki("--config", path, "--check")
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    assert "routes.yaml:11: routes[1].rule: " in out.stderr, out.stderr
    reason = out.stderr.split("routes[1].rule: ", 1)[1]
    for name in names:
        assert name in reason, out.stderr
    assert out.stdout == "", out.stdout


def test_same_rule_with_other_methods_is_fine(tmp_path):
    out = run_enoki("--config", write(tmp_path, bad_route("/ok/<int:n>", methods="PUT")), "--check")
    assert out.returncode == 0, out


def test_check_prints_the_route_table(tmp_path):
    text = ("AMQP_URI: {uri}\n"
            "GATEWAY:\n"
            "  rpc_timeout: 13\n"
            "routes:\n"
            "  - rule: /t/<uuid:u>\n"
            "    methods: \"POST, PUT\"\n"
            "    rpc: svc_a.first\n"
            "    timeout: 2.5\n"
            "  - rule: /t/<any(a,b):k>/<path:p>\n"
            "    rpc: svc_b.second\n").format(uri=json.dumps(NO_BROKER))
    out = run_enoki("--config", write(tmp_path, text), "--check")
    assert out.returncode == 0, out
    lines = out.stdout.splitlines()

    def line_of(rule):
        found = [l for l in lines if re.search(r"(^|\s){}(\s|$)".format(re.escape(rule)), l)]
        assert len(found) == 1, out.stdout
        return found[0]

    first = line_of("/t/<uuid:u>")
    assert "svc_a.first" in first and "json" in first, first
    assert re.search(r"(?<![\w.])2\.5s?(?![\w.])", first), first
    assert re.search(r"\bPOST\b", first) and re.search(r"\bPUT\b", first), first
    assert not re.search(r"\bGET\b|\bHEAD\b", first), first
    second = line_of("/t/<any(a,b):k>/<path:p>")
    assert "svc_b.second" in second and "json" in second, second
    assert re.search(r"\bGET\b", second) and re.search(r"\bHEAD\b", second), second
    assert re.search(r"(?<![\w.])13s?(?![\w.])", second), second


def test_check_shows_the_generic_route(tmp_path):
    text = ("AMQP_URI: {uri}\n"
            "GATEWAY:\n"
            "  expose: [\"svc_a.*\", \"svc_b.echo\"]\n"
            "  rpc_prefix: /api/call\n"
            "routes:\n"
            "  - {{rule: /x, rpc: svc_a.first}}\n").format(uri=json.dumps(NO_BROKER))
    out = run_enoki("--config", write(tmp_path, text), "--check")
    assert out.returncode == 0, out
    line = [l for l in out.stdout.splitlines() if l.startswith("/api/call/")]
    assert len(line) == 1, out.stdout
    assert "POST" in line[0] and "svc_a.*" in line[0] and "svc_b.echo" in line[0], line


def test_route_under_the_rpc_prefix_is_an_error(tmp_path):
    text = ("AMQP_URI: {uri}\n"
            "GATEWAY:\n"
            "  expose: [\"svc_a.*\"]\n"
            "  rpc_prefix: /api/call\n"
            "routes:\n"
            "  - rule: /api/other\n"
            "    rpc: svc_a.first\n"
            "  - rpc: svc_a.second\n"
            "    rule: /api/call/x\n").format(uri=json.dumps(NO_BROKER))
    path = write(tmp_path, text)
    out = run_enoki("--config", path, "--check")
    assert out.returncode == 2, out
    assert "routes.yaml:9: routes[1].rule: " in out.stderr, out.stderr
    assert "rpc_prefix" in out.stderr, out.stderr
    # Without expose the same file is fine.
    out = run_enoki("--config", write(tmp_path, text.replace("  expose: [\"svc_a.*\"]\n", ""),
                                      name="noexpose.yaml"), "--check")
    assert out.returncode == 0, out


def test_route_under_the_default_rpc_prefix_is_an_error(tmp_path):
    text = ("AMQP_URI: {uri}\n"
            "GATEWAY:\n"
            "  expose: [\"svc_a.*\"]\n"
            "routes:\n"
            "  - rule: /rpc/a/b\n"
            "    rpc: svc_a.first\n").format(uri=json.dumps(NO_BROKER))
    out = run_enoki("--config", write(tmp_path, text), "--check")
    assert out.returncode == 2, out
    assert "routes.yaml:5: routes[0].rule: " in out.stderr and "rpc_prefix" in out.stderr, out


# --- C. the generic route ----------------------------------------------------------------------------


def generic(gw, target, body=None, prefix="/rpc", **kw):
    if body is not None:
        kw["json_body"] = body
    return gw.post("{}/{}".format(prefix, target), **kw)


def test_generic_call(xgw):
    resp = generic(xgw, SVC + "/echo", {"args": [1], "kwargs": {"x": 2}})
    assert ok(resp) == {"args": [1], "kwargs": {"x": 2}}
    assert re.fullmatch(re.escape(GWNAME) + r"x\.http\." + UUID4, resp.header("X-Call-Id") or "")


@pytest.mark.parametrize("body, expected", [
    (None, {"args": [], "kwargs": {}}),
    ({}, {"args": [], "kwargs": {}}),
    ({"args": [1, "two", None]}, {"args": [1, "two", None], "kwargs": {}}),
    ({"kwargs": {"k": [1]}}, {"args": [], "kwargs": {"k": [1]}}),
])
def test_generic_call_bodies(xgw, body, expected):
    assert ok(generic(xgw, SVC + "/echo", body)) == expected


def test_generic_empty_body_with_content_type(xgw):
    resp = xgw.post("/rpc/{}/echo".format(SVC), body=b"",
                    headers={"Content-Type": "application/json"})
    assert ok(resp) == {"args": [], "kwargs": {}}


def test_generic_forbidden(xgw, broker):
    spy = broker.spy(SVC2 + ".*")
    try:
        resp = generic(xgw, SVC2 + "/echo", {"args": [1]})
        error_body(resp, 403, "forbidden")
        assert spy.empty(), "a forbidden call must not be sent"
    finally:
        broker.drop_spy(spy)


def test_generic_glob_on_one_method(ygw):
    assert ok(generic(ygw, SVC + "/echo", {"args": [1]}, prefix="/api/call")) == {
        "args": [1], "kwargs": {}}
    error_body(generic(ygw, SVC + "/two", {"args": [1, 2]}, prefix="/api/call"), 403, "forbidden")
    error_body(generic(ygw, SVC2 + "/echo", {"args": [1]}, prefix="/api/call"), 403, "forbidden")


def test_rpc_prefix_moves_the_generic_route(ygw):
    error_body(generic(ygw, SVC + "/echo", {"args": [1]}), 404, "not_found")
    resp = ygw.get("/api/call/{}/echo".format(SVC))
    error_body(resp, 405, "method_not_allowed")
    assert resp.header("Allow") == "POST"


def test_generic_method_not_found_is_404_configured_is_502(xgw):
    remote_error_body(generic(xgw, SVC + "/no_such_method", {}), 404, "method_not_found",
                      "MethodNotFound", "nameko.exceptions.MethodNotFound", ["no_such_method"],
                      "no_such_method")
    remote_error_body(xgw.get("/cfg/no_method"), 502, "method_not_found", "MethodNotFound",
                      "nameko.exceptions.MethodNotFound", ["no_such_method"], "no_such_method")


def test_generic_incorrect_signature(xgw):
    msg = "two() missing 1 required positional argument: 'y'"
    remote_error_body(generic(xgw, SVC + "/two", {"args": [1]}), 400, "incorrect_signature",
                      "IncorrectSignature", "nameko.exceptions.IncorrectSignature", [msg], msg)
    assert ok(generic(xgw, SVC + "/two", {"args": [1], "kwargs": {"y": 2}})) == [1, 2]


def test_generic_unknown_service(zgw):
    resp = generic(zgw, NOSVC + "/echo", {"args": [1]})
    error_body(resp, 503, "unknown_service")
    assert resp.elapsed < 2 * SCALE, resp
    # The same gateway reaches the services that exist.
    assert ok(generic(zgw, SVC2 + "/echo", {"args": [2]})) == {"args": [2], "kwargs": {}}


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_generic_other_methods_are_405(xgw, method):
    resp = xgw.request(method, "/rpc/{}/echo".format(SVC))
    error_body(resp, 405, "method_not_allowed")
    assert resp.header("Allow") == "POST"


@pytest.mark.parametrize("body, names", [
    ({"args": [1], "extra": 1}, ["extra"]),
    ({"kw": {}}, ["kw"]),
    ({"args": 5}, ["args"]),
    ({"args": {"a": 1}}, ["args"]),
    ({"args": "abc"}, ["args"]),
    ({"kwargs": [1]}, ["kwargs"]),
    ([1, 2], []),
    ("args", []),
    (3, []),
])
def test_generic_bad_arguments(xgw, broker, body, names):
    spy = broker.spy(SVC + ".*")
    try:
        resp = generic(xgw, SVC + "/echo", body)
        err = error_body(resp, 400, "bad_arguments")
        for name in names:
            assert name in err["message"], err
        assert spy.empty(), "a call with bad arguments must not be sent"
    finally:
        broker.drop_spy(spy)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_generic_non_json_content_type(xgw, content_type):
    resp = xgw.post("/rpc/{}/echo".format(SVC), body=b'{"args": []}',
                    headers={"Content-Type": content_type})
    error_body(resp, 415, "unsupported_media_type")


@pytest.mark.parametrize("body", [b'{"args":', b"not json", b"{'args': []}"])
def test_generic_invalid_json(xgw, body):
    resp = xgw.post("/rpc/{}/echo".format(SVC), body=body,
                    headers={"Content-Type": "application/json"})
    error_body(resp, 400, "bad_json")


@pytest.mark.parametrize("path", [
    "/rpc/svc", "/rpc/svc/m/extra", "/rpc/a.b/c", "/rpc//m",
    "/rpc/" + SVC, "/rpc/{}/echo/extra".format(SVC), "/rpc/{}.x/echo".format(SVC),
    "/rpc//echo", "/rpc/{}/".format(SVC),
])
def test_generic_malformed_target(zgw, broker, path):
    """On a gateway that exposes everything: malformed targets are 404, and nothing is sent."""
    spy = broker.spy("#")
    try:
        resp = zgw.post(path, json_body={"args": [1]})
        error_body(resp, 404, "not_found")
        assert spy.empty()
    finally:
        broker.drop_spy(spy)


def test_generic_request_on_the_wire(xgw, broker):
    """The same message as a configured route's: POST /cfg/echo/2 with [1] is echo(1, x=2)."""
    spy = broker.spy(SVC + ".*")
    try:
        resp = generic(xgw, SVC + "/echo", {"args": [1], "kwargs": {"x": 2}},
                       headers={"X-Request-Id": "gen-1"})
        assert ok(resp) == {"args": [1], "kwargs": {"x": 2}}
        generic_msg = spy.get()
        configured = xgw.post("/cfg/echo/2", json_body=[1], headers={"X-Request-Id": "cfg-1"})
        assert ok(configured) == {"args": [1], "kwargs": {"x": 2}}
        configured_msg = spy.get()
    finally:
        broker.drop_spy(spy)

    call_id = GWNAME + "x.http.gen-1"
    assert resp.header("X-Call-Id") == call_id
    assert generic_msg.routing_key == ECHO
    assert generic_msg.json() == {"args": [1], "kwargs": {"x": 2}}
    assert generic_msg.headers == {"nameko.call_id_stack": [call_id]}
    assert configured_msg.headers == {"nameko.call_id_stack": [GWNAME + "x.http.cfg-1"]}
    assert generic_msg.raw == configured_msg.raw
    g, c = generic_msg.props, configured_msg.props
    for attr in ("content_type", "content_encoding", "delivery_mode", "priority", "reply_to",
                 "message_id", "timestamp", "type", "user_id", "app_id", "cluster_id"):
        assert getattr(g, attr) == getattr(c, attr), attr
    assert re.fullmatch(UUID4, g.correlation_id or "") and g.correlation_id != c.correlation_id
    # GATEWAY.rpc_timeout (7) is the generic route's timeout.
    assert (6000 if SCALE == 1 else 0) < int(g.expiration) <= 7000, g.expiration


def test_generic_context_headers(xgw):
    resp = generic(xgw, SVC + "/context", {}, headers={
        "Authorization": "Bearer tok", "Accept-Language": "de", "User-Agent": "ua/1",
        "X-Tenant": "acme"})
    ctx = ok(resp)
    ctx.pop("_properties")
    assert ctx == {"call_id_stack": [resp.header("X-Call-Id")], "auth_token": "Bearer tok",
                   "language": "de", "user_agent": "ua/1", "tenant": "acme"}


def test_configured_routes_still_work_with_expose(xgw):
    assert ok(xgw.get("/cfg/ready?a=1")) == {"args": [], "kwargs": {"a": "1"}}
    error_body(xgw.get("/nowhere"), 404, "not_found")


def test_a_nul_in_the_query_is_refused(rgw):
    """A decoded %00 would end its name or value in enoki's strings: two names merged into one
    list, a value passed on cut short. Refused, as a path with one is; %2500 is the text %00."""
    for query in ("a=1&a%00evil=2", "role=admin%00guest", "x=%00"):
        resp = rgw.get("/dir/?" + query)
        error_body(resp, 400, "bad_arguments")
        assert "NUL byte (%00)" in resp.json()["message"], resp
    assert kwargs_of(rgw.get("/dir/?role=admin%2500")) == {"role": "admin%00"}
