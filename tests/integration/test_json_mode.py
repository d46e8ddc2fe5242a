"""json mode: how an HTTP request becomes args/kwargs, and how the result comes back."""

import json
import re

import pytest

from conftest import GWNAME, SVC, UUID4, error_body


def result(resp):
    assert resp.status == 200, resp
    assert resp.media_type == "application/json", resp.content_type
    return resp.json()


def kwargs_of(resp):
    out = result(resp)
    assert out["args"] == [], out
    return out["kwargs"]


# --- arguments -------------------------------------------------------------------------------------------


def test_readme_example(gw):
    assert result(gw.get("/get/42")) == {"value": 42}


def test_typed_path_variables(gw):
    out = result(gw.get("/echo/7/1.25/a/b/c.txt"))
    assert out == {"args": [], "kwargs": {"n": 7, "x": 1.25, "p": "a/b/c.txt"}}
    assert type(out["kwargs"]["n"]) is int


def test_float_path_variable_is_a_float(gw):
    out = result(gw.get("/echo/1/2.0/p"))
    assert out["kwargs"]["x"] == 2.0 and type(out["kwargs"]["x"]) is float, out


def test_converter_mismatch_is_404(gw):
    error_body(gw.get("/get/abc"), 404, "not_found")
    error_body(gw.get("/echo/1.5/2.0/p"), 404, "not_found")


def test_query_parameters_are_strings(gw):
    assert kwargs_of(gw.get("/echo?a=1&b=x&c=")) == {"a": "1", "b": "x", "c": ""}


def test_repeated_query_parameter_is_a_list(gw):
    assert kwargs_of(gw.get("/echo?t=1&t=2&u=3")) == {"t": ["1", "2"], "u": "3"}


def test_query_is_percent_decoded(gw):
    assert kwargs_of(gw.get("/echo?s=a%20b%26c&e=%C3%A9")) == {"s": "a b&c", "e": "\u00e9"}


def test_json_object_body(gw):
    body = {"a": 1, "b": {"c": [1, None, True, 1.5, "s"]}}
    assert kwargs_of(gw.post("/echo", json_body=body)) == body


def test_body_path_and_query_merge(gw):
    out = result(gw.post("/echo/3/0.5/x/y?q=z&r=1&r=2", json_body={"b": [1]}))
    assert out == {"args": [], "kwargs": {"n": 3, "x": 0.5, "p": "x/y", "q": "z", "r": ["1", "2"],
                                         "b": [1]}}


def test_json_array_body_is_positional(gw):
    assert result(gw.post("/two", json_body=[1, "y"])) == [1, "y"]


def test_json_array_body_with_path_and_query(gw):
    out = result(gw.post("/echo/1/1.5/p?q=v", json_body=["a", 2]))
    assert out == {"args": ["a", 2], "kwargs": {"n": 1, "x": 1.5, "p": "p", "q": "v"}}


def test_kwargs_bind_by_name(gw):
    assert result(gw.post("/two", json_body={"y": 2, "x": 1})) == [1, 2]
    assert result(gw.get("/two?x=a&y=b")) == ["a", "b"]


@pytest.mark.parametrize("content_type", [
    "application/json",
    "application/json; charset=utf-8",
    "application/json;charset=UTF-8",
    "application/vnd.api+json",
    "application/problem+json; charset=utf-8",
])
def test_json_content_types(gw, content_type):
    resp = gw.post("/echo", body=b'{"k": "v"}', headers={"Content-Type": content_type})
    assert kwargs_of(resp) == {"k": "v"}


def test_empty_body_gives_no_body_arguments(gw):
    assert kwargs_of(gw.post("/echo?q=1")) == {"q": "1"}
    resp = gw.post("/echo?q=1", body=b"", headers={"Content-Type": "application/json"})
    assert kwargs_of(resp) == {"q": "1"}


def test_put_route(gw):
    assert kwargs_of(gw.request("PUT", "/echo", json_body={"z": 0})) == {"z": 0}


def test_non_ascii_body_members(gw):
    body = {"name": "\u00e9t\u00e9 \u2713 \U0001F600"}
    assert kwargs_of(gw.post("/echo", json_body=body)) == body


def test_second_service(gw):
    assert kwargs_of(gw.get("/other?x=1")) == {"x": "1"}


# --- results ----------------------------------------------------------------------------------------------


def test_result_headers(gw):
    resp = gw.get("/get/1")
    assert resp.status == 200
    assert resp.media_type == "application/json", resp.content_type
    assert re.fullmatch(re.escape(GWNAME) + r"\.http\." + UUID4, resp.header("X-Call-Id") or "")
    assert int(resp.header("Content-Length")) == len(resp.body)


def test_nan_becomes_null(gw):
    resp = gw.get("/nan")
    assert resp.status == 200, resp
    # Strict JSON: no NaN token.
    assert json.loads(resp.body, parse_constant=lambda c: pytest.fail("token " + c)) is None


def test_integers_beyond_64_bits_pass_both_ways(gw, spy):
    """werkzeug's int converter reads any size, and json.dumps writes it: the service gets the int
    and the client gets it back as JSON digits (it was 404, and a reply holding one was 502). A
    JSON body holding one is JSON too (it was 400)."""
    s = spy(SVC + ".get_method")
    for value in (2 ** 64, 10 ** 40):
        assert result(gw.get("/get/%d" % value)) == {"value": value}
        assert s.get().raw == ('{"args": [], "kwargs": {"value": %d}}' % value).encode()
    body = {"n": -(2 ** 70), "m": [2 ** 64, 1]}
    assert kwargs_of(gw.post("/echo", json_body=body)) == body


def test_unicode_result_is_utf8(gw):
    resp = gw.get("/unicode")
    text = "h\u00e9llo \u2713 \U0001F600"
    assert result(resp) == text
    assert text.encode("utf-8") in resp.body, resp.body
    assert b"\\u" not in resp.body, resp.body


def test_list_result(gw):
    assert result(gw.get("/two?x=1&y=2")) == ["1", "2"]


def test_head_on_get_route(gw):
    get = gw.get("/get/5")
    head = gw.request("HEAD", "/get/5")
    assert head.status == get.status == 200
    assert head.body == b""
    ignore = {"date", "x-call-id"}
    get_headers = {k.lower(): v for k, v in get.headers.items() if k.lower() not in ignore}
    head_headers = {k.lower(): v for k, v in head.headers.items() if k.lower() not in ignore}
    # libmicrohttpd reads a HEAD, and answers one request per connection (issue 13).
    assert head_headers == dict(get_headers, connection="close")
    assert re.fullmatch(re.escape(GWNAME) + r"\.http\." + UUID4, head.header("X-Call-Id") or "")


def test_head_on_missing_route(gw):
    get = gw.get("/no/such/route")
    head = gw.request("HEAD", "/no/such/route")
    assert head.status == get.status == 404
    assert head.body == b""
    assert head.header("Content-Type") == get.header("Content-Type")


def test_method_not_allowed_lists_allow(gw):
    resp = gw.request("DELETE", "/get/5")
    error_body(resp, 405, "method_not_allowed")
    assert resp.header("Allow") == "GET, HEAD"
    resp = gw.request("POST", "/get/5")
    error_body(resp, 405, "method_not_allowed")
    assert resp.header("Allow") == "GET, HEAD"


def test_method_not_allowed_several_methods(gw):
    resp = gw.request("DELETE", "/echo")
    error_body(resp, 405, "method_not_allowed")
    assert set(resp.header("Allow").split(", ")) == {"GET", "HEAD", "POST", "PUT"}, resp.headers


def test_keep_alive_connection(gw):
    """Several requests on one connection (http.client keeps it open)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=30)
    try:
        for i in range(5):
            conn.request("GET", "/echo?i={}".format(i))
            resp = conn.getresponse()
            assert resp.status == 200
            assert json.loads(resp.read())["kwargs"] == {"i": str(i)}
        conn.request("GET", "/nowhere")
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 404
        conn.request("GET", "/get/9")
        resp = conn.getresponse()
        assert json.loads(resp.read()) == {"value": 9}
    finally:
        conn.close()
