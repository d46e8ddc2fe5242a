"""Serve one nameko ``@http`` handler through enoki's http mode as well.

A route with ``mode: http`` in enoki calls the service's ``@rpc`` method
with keyword arguments = the route's path variables plus ``request``, a
JSON object describing the HTTP request (method, url, path,
query_string, args, headers, data / data_base64, content_type,
remote_addr, cookies; see enoki's http mode contract). nameko's own
``@http`` entrypoint calls the same kind of method with a werkzeug
``Request`` instead. This module bridges the two:

``to_request(obj)``
    Rebuilds a real ``werkzeug.wrappers.Request`` from enoki's request
    object through a WSGI environ, so ``request.method``, ``.path``,
    ``.args`` (a MultiDict keeping repeated values), ``.headers``,
    ``.get_data()``, ``.json``, ``.form``, ``.cookies``,
    ``.remote_addr``, ``.url`` ... behave as under nameko. Strings enter
    the environ as a WSGI server puts them (UTF-8 bytes as latin-1), so
    werkzeug decodes path, query and cookies back to the same text and,
    like nameko's werkzeug 2.2, shows non-ASCII header values as latin-1.
    Keys it does not know are ignored; missing ones fall back to what the
    others say (the path and query from ``url``, the body to empty).

``http_request`` (also reachable as ``enoki_http.request``)
    A decorator for a service method ``def handler(self, request,
    **path_values)``: a dict ``request`` (the call came through enoki)
    is replaced by ``to_request(request)``, with ``request.path_values``
    set to the keyword path variables as nameko's web server does; a
    werkzeug ``Request`` (a native ``@http`` call) is passed through
    untouched. ``request`` may be passed positionally or by keyword. The
    wrapper keeps the method's name, docstring and signature, so
    nameko's signature check still applies.

One method body, two doors (decorator order: ``@http`` and ``@rpc``
outside, ``@http_request`` closest to the function)::

    import json
    from nameko.rpc import rpc
    from nameko.web.handlers import http
    from enoki_http import http_request

    class Shop:
        name = "shop"

        @http("GET", "/items/<int:item_id>")
        @rpc
        @http_request
        def get_item(self, request, item_id):
            return 200, {"Content-Type": "application/json"}, json.dumps(
                {"id": item_id, "q": request.args.get("q")})

The return value (a string, ``(status, body)`` or ``(status, headers,
body)``) is read by enoki exactly as nameko's ``@http`` reads it. A
werkzeug ``Response`` cannot cross RPC; return tuples instead.

Standard library + werkzeug (2.x) only. Install it by copying this file
next to the service module, or by putting its directory on PYTHONPATH.
"""

import base64
import functools
import inspect
import io
import sys
from urllib.parse import unquote, urlencode, urlsplit

from werkzeug.wrappers import Request

__all__ = ["to_request", "http_request", "request"]


def _wsgi_str(text):
    """A decoded str as a WSGI "native string": its UTF-8 bytes, each
    byte one latin-1 character (werkzeug decodes it back as UTF-8)."""
    return text.encode("utf-8", "surrogatepass").decode("latin-1")


def _header_items(headers):
    """(name, value) pairs from a JSON object or a list of pairs."""
    if not headers:
        return []
    if isinstance(headers, dict):
        return list(headers.items())
    return [(pair[0], pair[1]) for pair in headers]


def _split_host(host, default_port):
    """'example.com:8000' -> ('example.com', '8000'); IPv6 '[::1]:81' ->
    ('::1', '81'); no port -> default_port."""
    if host.startswith("["):
        end = host.find("]")
        if end != -1:
            name, rest = host[1:end], host[end + 1:]
            if rest.startswith(":") and rest[1:].isdigit():
                return name, rest[1:]
            return name, default_port
    name, sep, port = host.rpartition(":")
    if sep and port.isdigit() and ":" not in name:
        return name, port
    return host, default_port


def _body(obj):
    b64 = obj.get("data_base64")
    if b64 is not None:
        return base64.b64decode(b64)
    data = obj.get("data")
    if data is None:
        return b""
    if isinstance(data, bytes):
        return data
    return str(data).encode("utf-8", "surrogatepass")


def to_request(obj):
    """Rebuild a werkzeug ``Request`` from enoki's http-mode request object.

    ``obj`` is the decoded JSON object (a dict). Unknown keys are ignored.
    """
    if not isinstance(obj, dict):
        raise TypeError(
            "expected enoki's request object (a dict), got %r"
            % type(obj).__name__)

    url = obj.get("url") or ""
    parts = urlsplit(url)
    scheme = (parts.scheme or "http").lower()

    path = obj.get("path")
    if path is None:
        path = unquote(parts.path or "/", errors="replace")
    query = obj.get("query_string")
    if query is None:
        if parts.query or url.endswith("?"):
            query = parts.query
        elif obj.get("args"):
            query = urlencode(
                [(k, v) for k, vs in obj["args"].items()
                 for v in (vs if isinstance(vs, list) else [vs])])
        else:
            query = ""

    body = _body(obj)

    environ = {
        "REQUEST_METHOD": str(obj.get("method") or "GET"),
        "SCRIPT_NAME": "",
        "PATH_INFO": _wsgi_str(path),
        "QUERY_STRING": _wsgi_str(query),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": str(obj.get("remote_addr") or ""),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(body),
        # The whole body is in memory: let werkzeug read it to the end even
        # when no Content-Length was sent (a chunked request; nameko's
        # eventlet server would hand werkzeug an empty body there).
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }

    host = None
    content_type = None
    has_content_length = False
    for name, value in _header_items(obj.get("headers")):
        name = str(name)
        value = "" if value is None else str(value)
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            content_type = value
            continue
        if key == "CONTENT_LENGTH":
            has_content_length = True
            continue
        if key == "HOST" and host is None:
            host = value
        env_key = "HTTP_" + key
        if env_key in environ:  # same name spelled twice: join as HTTP does
            environ[env_key] += ", " + _wsgi_str(value)
        else:
            environ[env_key] = _wsgi_str(value)

    if content_type is None:
        content_type = obj.get("content_type")
    if content_type is not None:
        environ["CONTENT_TYPE"] = _wsgi_str(str(content_type))
    if has_content_length:
        # the length of the body we actually have
        environ["CONTENT_LENGTH"] = str(len(body))

    default_port = "443" if scheme in ("https", "wss") else "80"
    server = host if host is not None else (parts.netloc or "localhost")
    server_name, server_port = _split_host(server, default_port)
    environ["SERVER_NAME"] = _wsgi_str(server_name)
    environ["SERVER_PORT"] = server_port

    return Request(environ)


def http_request(fn):
    """Decorate ``def handler(self, request, **path_values)`` so that it
    gets a werkzeug ``Request`` through nameko's ``@http`` (passed through
    untouched) and through enoki's http mode via ``@rpc`` (the request
    dict is converted with ``to_request``). Place it closest to the
    function, under ``@http(...)`` and ``@rpc``.
    """
    try:
        signature = inspect.signature(fn)
        params = list(signature.parameters)
    except (TypeError, ValueError):  # pragma: no cover - builtins etc.
        signature, params = None, []
    # position of `request` among the positional arguments (after self)
    try:
        position = params.index("request")
    except ValueError:
        position = 1

    def convert(value, path_values):
        if isinstance(value, dict):
            req = to_request(value)
            req.path_values = dict(path_values)
            return req
        return value

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if "request" in kwargs:
            path_values = {k: v for k, v in kwargs.items() if k != "request"}
            kwargs["request"] = convert(kwargs["request"], path_values)
        elif len(args) > position:
            args = list(args)
            args[position] = convert(args[position], kwargs)
        return fn(*args, **kwargs)

    if signature is not None:
        # inspect.getcallargs (nameko's check_signature) does not follow
        # __wrapped__ but does honour __signature__.
        wrapper.__signature__ = signature
    return wrapper


#: ``enoki_http.request`` is the same decorator as ``http_request``.
request = http_request
