"""Tests for python/enoki_http.py (werkzeug only, no nameko needed).

Run: /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/python
"""

import base64
import inspect
import json
import os
import sys
from urllib.parse import parse_qsl, quote

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

sys.path.insert(
    0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))

import enoki_http  # noqa: E402
from enoki_http import http_request, to_request  # noqa: E402


def make_obj(method="GET", host="localhost:8000", target="/", path=None,
             query_string="", args=None, headers=None, data="",
             data_base64=None, content_type=None, remote_addr="127.0.0.1",
             cookies=None):
    """A request object built by hand, as the http mode contract describes."""
    hdrs = {"Host": host}
    hdrs.update(headers or {})
    obj = {
        "method": method,
        "url": "http://" + host + target,
        "path": path if path is not None else target.split("?", 1)[0],
        "query_string": query_string,
        "args": args or {},
        "headers": hdrs,
        "content_type": content_type,
        "remote_addr": remote_addr,
        "cookies": cookies or {},
    }
    if data_base64 is not None:
        obj["data_base64"] = data_base64
    else:
        obj["data"] = data
    return obj


# -- to_request, objects built by hand ---------------------------------------

def test_get_repeated_args_and_percent_encoding():
    qs = "x=1&x=2&y=%20&z=caf%C3%A9&plus=a+b&empty="
    obj = make_obj(
        target="/items/a%20b?" + qs, path="/items/a b", query_string=qs,
        args={"x": ["1", "2"], "y": [" "], "z": ["caf\u00e9"],
              "plus": ["a b"], "empty": [""]},
        headers={"Accept": "*/*"})
    req = to_request(obj)
    assert isinstance(req, Request)
    assert req.method == "GET"
    assert req.path == "/items/a b"
    assert req.query_string == qs.encode("ascii")
    assert req.args.getlist("x") == ["1", "2"]
    assert req.args.get("x") == "1"
    assert req.args.getlist("y") == [" "]
    assert req.args["z"] == "caf\u00e9"
    assert req.args["plus"] == "a b"
    assert req.args["empty"] == ""
    assert {k: req.args.getlist(k) for k in req.args} == obj["args"]
    assert req.full_path == "/items/a b?" + qs
    assert req.url == "http://localhost:8000/items/a%20b?" + qs.replace(
        "caf%C3%A9", "caf\u00e9")  # werkzeug's url is an IRI
    assert req.base_url == "http://localhost:8000/items/a%20b"
    assert req.headers.get("accept") == "*/*"
    assert req.get_data() == b""
    assert req.get_data(as_text=True) == ""
    assert req.remote_addr == "127.0.0.1"
    assert req.scheme == "http"


def test_post_json_body():
    body = json.dumps({"name": "caf\u00e9", "n": [1, 2]})
    obj = make_obj(
        method="POST", target="/items", data=body,
        headers={"Content-Type": "application/json",
                 "Content-Length": str(len(body.encode("utf-8")))},
        content_type="application/json")
    req = to_request(obj)
    assert req.method == "POST"
    assert req.path == "/items"
    assert req.content_type == "application/json"
    assert req.mimetype == "application/json"
    assert req.is_json
    assert req.content_length == len(body.encode("utf-8"))
    assert req.get_data(as_text=True) == body
    assert req.get_data() == body.encode("utf-8")
    assert req.json == {"name": "caf\u00e9", "n": [1, 2]}
    assert req.get_json() == {"name": "caf\u00e9", "n": [1, 2]}
    assert req.headers["content-type"] == "application/json"
    assert req.url == "http://localhost:8000/items"


def test_non_utf8_body_via_data_base64():
    raw = b"\xff\xfe\x00binary\x80"
    obj = make_obj(
        method="PUT", target="/blob",
        data_base64=base64.b64encode(raw).decode("ascii"),
        headers={"Content-Type": "application/octet-stream",
                 "Content-Length": str(len(raw))},
        content_type="application/octet-stream")
    assert "data" not in obj
    req = to_request(obj)
    assert req.method == "PUT"
    assert req.get_data() == raw
    assert req.get_data(as_text=True) == raw.decode("utf-8", "replace")
    assert req.content_length == len(raw)


def test_body_without_content_length_is_still_read():
    # e.g. a chunked request: the body is complete in the object anyway
    obj = make_obj(method="POST", target="/x", data="hello",
                   headers={"Transfer-Encoding": "chunked"})
    req = to_request(obj)
    assert req.get_data() == b"hello"
    assert "Content-Length" not in req.headers


def test_urlencoded_form_body():
    body = "a=1&a=2&b=caf%C3%A9"
    obj = make_obj(
        method="POST", target="/f", data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "Content-Length": str(len(body))},
        content_type="application/x-www-form-urlencoded")
    req = to_request(obj)
    assert req.form.getlist("a") == ["1", "2"]
    assert req.form["b"] == "caf\u00e9"


def test_cookies():
    obj = make_obj(
        headers={"Cookie": "session=abc; theme=dark; session=later"},
        cookies={"session": "abc", "theme": "dark"})
    req = to_request(obj)
    assert req.cookies["session"] == "abc"  # first wins, as in the contract
    assert req.cookies.get("theme") == "dark"
    assert dict(req.cookies) == obj["cookies"]
    assert req.headers["Cookie"] == "session=abc; theme=dark; session=later"


def test_repeated_header_joined():
    obj = make_obj(headers={"X-Foo": "a, b", "X-Api-Key": "k1"})
    req = to_request(obj)
    assert req.headers.get("X-Foo") == "a, b"
    assert req.headers.get("x-foo") == "a, b"
    assert req.headers.get("X-FOO") == "a, b"
    assert req.headers.get("x-api-key") == "k1"
    assert req.headers.get("X-Missing") is None
    assert "x-foo" in req.headers
    names = [name for name, _ in req.headers.items()]
    assert sorted(names) == ["Host", "X-Api-Key", "X-Foo"]


def test_non_ascii_path():
    obj = make_obj(target="/caf%C3%A9/%C3%BC", path="/caf\u00e9/\u00fc")
    req = to_request(obj)
    assert req.path == "/caf\u00e9/\u00fc"
    assert req.url == "http://localhost:8000/caf\u00e9/\u00fc"


def test_non_ascii_header_and_cookie_values_as_under_nameko():
    # enoki sends header values as UTF-8 text; a WSGI server hands werkzeug
    # their bytes as latin-1, and werkzeug 2.2's request.headers returns them
    # so (mojibake included) while it decodes cookies as UTF-8.
    obj = make_obj(headers={"X-Name": "Zo\u00eb", "Cookie": "who=Zo\u00eb"},
                   cookies={"who": "Zo\u00eb"})
    req = to_request(obj)
    assert req.environ["HTTP_X_NAME"] == "Zo\u00c3\u00ab"
    assert req.headers["X-Name"] == "Zo\u00eb".encode("utf-8").decode("latin-1")
    assert req.cookies["who"] == "Zo\u00eb"
    assert dict(req.cookies) == obj["cookies"]


def test_host_with_port():
    req = to_request(make_obj(host="example.com:8080", target="/p?a=1",
                              path="/p", query_string="a=1"))
    assert req.host == "example.com:8080"
    assert req.server == ("example.com", 8080)
    assert req.environ["SERVER_NAME"] == "example.com"
    assert req.environ["SERVER_PORT"] == "8080"
    assert req.url == "http://example.com:8080/p?a=1"
    assert req.host_url == "http://example.com:8080/"
    assert req.url_root == "http://example.com:8080/"


def test_host_without_port():
    req = to_request(make_obj(host="example.com", target="/p"))
    assert req.host == "example.com"
    assert req.server == ("example.com", 80)
    assert req.environ["SERVER_PORT"] == "80"
    assert req.url == "http://example.com/p"


def test_ipv6_host():
    req = to_request(make_obj(host="[::1]:8000", target="/"))
    assert req.host == "[::1]:8000"
    assert req.server == ("::1", 8000)
    assert req.url == "http://[::1]:8000/"


def test_empty_query():
    req = to_request(make_obj(target="/items/5", query_string=""))
    assert req.query_string == b""
    assert len(req.args) == 0
    assert req.args.get("x") is None
    assert req.url == "http://localhost:8000/items/5"
    assert req.full_path == "/items/5?"  # werkzeug's own spelling


def test_remote_addr():
    req = to_request(make_obj(remote_addr="10.1.2.3"))
    assert req.remote_addr == "10.1.2.3"
    assert req.access_route == ["10.1.2.3"]


def test_https_url_scheme():
    obj = make_obj(host="secure.example", target="/s")
    obj["url"] = "https://secure.example/s"
    req = to_request(obj)
    assert req.scheme == "https"
    assert req.is_secure
    assert req.server == ("secure.example", 443)
    assert req.url == "https://secure.example/s"


def test_unknown_keys_are_ignored():
    obj = make_obj(target="/a?b=1", path="/a", query_string="b=1")
    obj["some_future_key"] = {"anything": [1, 2]}
    obj["x_enoki_route"] = "whatever"
    req = to_request(obj)
    assert req.path == "/a"
    assert req.args["b"] == "1"


def test_missing_keys_fall_back():
    req = to_request({"method": "DELETE",
                      "url": "http://h.example:81/a%20b?x=1&x=2"})
    assert req.method == "DELETE"
    assert req.path == "/a b"
    assert req.args.getlist("x") == ["1", "2"]
    assert req.server == ("h.example", 81)
    assert req.get_data() == b""
    assert req.url == "http://h.example:81/a%20b?x=1&x=2"


def test_headers_as_list_of_pairs():
    obj = make_obj()
    obj["headers"] = [["Host", "localhost:8000"], ["X-A", "1"], ["X-A", "2"]]
    req = to_request(obj)
    assert req.headers["X-A"] == "1, 2"


def test_not_a_dict():
    with pytest.raises(TypeError):
        to_request("GET /")


# -- the decorator ----------------------------------------------------------

class Service:
    name = "svc"

    @http_request
    def handler(self, request, item_id=None):
        """Handler doc."""
        return request, item_id


def native_request(path="/items/5", query_string="q=1"):
    return Request(EnvironBuilder(path=path, query_string=query_string).get_environ())


def test_decorator_passes_werkzeug_request_through_untouched():
    native = native_request()
    got, item_id = Service().handler(native, item_id=5)
    assert got is native
    assert item_id == 5
    assert not hasattr(native, "path_values")
    got, _ = Service().handler(request=native, item_id=5)
    assert got is native


def test_decorator_converts_dict_by_keyword():
    obj = make_obj(target="/items/5?q=x", path="/items/5", query_string="q=x")
    got, item_id = Service().handler(request=obj, item_id=5)
    assert isinstance(got, Request)
    assert got.args["q"] == "x"
    assert got.path == "/items/5"
    assert item_id == 5
    assert got.path_values == {"item_id": 5}


def test_decorator_converts_dict_positionally():
    obj = make_obj(target="/items/6", path="/items/6")
    got, item_id = Service().handler(obj, 6)
    assert isinstance(got, Request)
    assert got.path == "/items/6"
    assert item_id == 6
    got, item_id = Service().handler(obj, item_id=6)
    assert isinstance(got, Request)
    assert got.path_values == {"item_id": 6}


def test_decorator_request_not_second_parameter():
    @http_request
    def fn(self, item_id, request):
        return item_id, request

    item_id, req = fn(None, 3, make_obj())
    assert item_id == 3 and isinstance(req, Request)
    item_id, req = fn(None, item_id=4, request=make_obj())
    assert item_id == 4 and isinstance(req, Request)


def test_decorator_keeps_name_doc_and_signature():
    assert Service.handler.__name__ == "handler"
    assert Service.handler.__doc__ == "Handler doc."
    assert Service.handler.__wrapped__.__name__ == "handler"
    assert str(inspect.signature(Service.handler)) == "(self, request, item_id=None)"
    # nameko's check_signature uses inspect.getcallargs on the unbound method
    inspect.getcallargs(Service.handler, None, {}, item_id=1)
    with pytest.raises(TypeError):
        inspect.getcallargs(Service.handler, None, {}, bogus=1)


def test_decorator_leaves_other_values_alone():
    got, _ = Service().handler(None)
    assert got is None


def test_module_level_alias():
    assert enoki_http.request is enoki_http.http_request


# -- both directions agree: werkzeug's EnvironBuilder -> contract -> to_request

def environ_to_enoki(environ):
    """What enoki sends for the request a WSGI server turned into `environ`,
    following the contract (not using to_request's code)."""
    def text(native):  # WSGI native string -> the text it stands for
        return native.encode("latin-1").decode("utf-8", "replace")

    host = environ["HTTP_HOST"]
    path = text(environ["PATH_INFO"])
    query = text(environ.get("QUERY_STRING", ""))
    target = quote(path.encode("utf-8"), safe="/!$&'()*+,;=:@~")
    if query:
        target += "?" + query

    args = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        args.setdefault(name, []).append(value)

    headers = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").title()
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            name = key.replace("_", "-").title()
        else:
            continue
        headers[name] = text(value)

    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"].seek(0)

    cookies = {}
    for part in headers.get("Cookie", "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name and name not in cookies:
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            cookies[name] = value

    obj = {
        "method": environ["REQUEST_METHOD"],
        "url": "http://" + host + target,
        "path": path,
        "query_string": query,
        "args": args,
        "headers": headers,
        "content_type": headers.get("Content-Type"),
        "remote_addr": environ.get("REMOTE_ADDR"),
        "cookies": cookies,
    }
    try:
        obj["data"] = body.decode("utf-8")
    except UnicodeDecodeError:
        obj["data_base64"] = base64.b64encode(body).decode("ascii")
    # through JSON, as over the wire
    return json.loads(json.dumps(obj))


MULTIPART = (
    b"--XyZ\r\n"
    b'Content-Disposition: form-data; name="field"\r\n\r\n'
    b"value\r\n"
    b"--XyZ\r\n"
    b'Content-Disposition: form-data; name="upload"; filename="a.bin"\r\n'
    b"Content-Type: application/octet-stream\r\n\r\n"
    b"\x00\xff\xfe\r\n"
    b"--XyZ--\r\n"
)

BUILDER_CASES = {
    "get-query": dict(
        method="GET", path="/items/5",
        query_string="x=1&x=2&y=%20&z=caf%C3%A9&plus=a+b&empty=",
        headers=[("Accept", "application/json"), ("X-Foo", "a, b"),
                 ("Cookie", "session=abc; theme=dark; session=zzz")]),
    "unicode-path-port": dict(
        method="GET", path="/caf\u00e9/a b", base_url="http://example.com:8080/",
        query_string="q=%E2%9C%93",
        # header bytes as a WSGI server passes them: UTF-8 read as latin-1
        headers=[("X-Api-Key", "k"), ("X-Name", "Zo\u00c3\u00ab"),
                 ("Cookie", "who=Zo\u00c3\u00ab; n=1")]),
    "no-port-empty-query": dict(method="HEAD", path="/", base_url="http://example.com/"),
    "post-json": dict(
        method="POST", path="/items", data=json.dumps({"a": [1, "\u00e9"]}),
        content_type="application/json", headers=[("User-Agent", "t/1")]),
    "put-binary": dict(
        method="PUT", path="/blob", data=b"\xff\xfe\x00\x80raw",
        content_type="application/octet-stream"),
    "post-form": dict(
        method="POST", path="/form", data="a=1&a=2&b=caf%C3%A9",
        content_type="application/x-www-form-urlencoded"),
    "post-multipart": dict(
        method="POST", path="/upload", data=MULTIPART,
        content_type="multipart/form-data; boundary=XyZ"),
    "delete-auth": dict(
        method="DELETE", path="/items/9", query_string="force",
        headers=[("Authorization", "Basic dXNlcjpwYXNz"),
                 ("X-Forwarded-For", "1.2.3.4, 5.6.7.8")]),
}


def summary(req):
    """Every field a handler is likely to read, in comparable form."""
    data = req.get_data()
    return {
        "method": req.method,
        "path": req.path,
        "full_path": req.full_path,
        "script_root": req.script_root,
        "query_string": req.query_string,
        "args": [(k, req.args.getlist(k)) for k in req.args],
        "headers": sorted((k.lower(), v) for k, v in req.headers.items()),
        "data": data,
        "text": req.get_data(as_text=True),
        "json": req.get_json(silent=True),
        "is_json": req.is_json,
        "form": [(k, req.form.getlist(k)) for k in req.form],
        "files": [(k, f.filename, f.read()) for k, f in req.files.items()],
        "cookies": [(k, req.cookies.getlist(k)) for k in req.cookies],
        "remote_addr": req.remote_addr,
        "access_route": list(req.access_route),
        "url": req.url,
        "base_url": req.base_url,
        "host": req.host,
        "host_url": req.host_url,
        "url_root": req.url_root,
        "server": req.server,
        "scheme": req.scheme,
        "content_type": req.content_type,
        "mimetype": req.mimetype,
        "content_length": req.content_length,
        "user_agent": req.user_agent.string,
        "authorization": (dict(req.authorization)
                          if req.authorization is not None else None),
        "accept": req.accept_mimetypes.to_header(),
    }


@pytest.mark.parametrize("case", sorted(BUILDER_CASES))
def test_environ_builder_round_trip(case):
    kwargs = dict(BUILDER_CASES[case])
    kwargs.setdefault("base_url", "http://localhost:8000/")
    builder = EnvironBuilder(environ_base={"REMOTE_ADDR": "192.0.2.7"}, **kwargs)
    try:
        environ = builder.get_environ()
    finally:
        builder.close()

    obj = environ_to_enoki(environ)
    native = Request(environ)
    rebuilt = to_request(obj)

    expected = summary(native)
    got = summary(rebuilt)
    for key in expected:
        assert got[key] == expected[key], key
    # and the contract's own fields read back as they were sent
    assert rebuilt.path == obj["path"]
    assert {k: rebuilt.args.getlist(k) for k in rebuilt.args} == obj["args"]
    assert dict(rebuilt.cookies) == obj["cookies"]
    for name, value in obj["headers"].items():
        # werkzeug 2.2 shows header bytes as latin-1 (see the test above)
        assert rebuilt.headers.get(name.lower()) == value.encode("utf-8").decode("latin-1")
