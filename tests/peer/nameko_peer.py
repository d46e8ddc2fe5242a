#!/usr/bin/python3
"""nameko_peer.py - a test service that speaks nameko 3.0.0-rc11's RPC wire protocol, with pika only.

    /usr/bin/python3 tests/peer/nameko_peer.py --amqp-uri URI --exchange NAME \
        --service NAME [--service NAME ...] [--prefetch 10]

It prints "ready" on stdout once every queue is declared, bound and consumed, and exits 0 on
SIGTERM/SIGINT after the calls in flight have replied (as nameko's graceful stop does).

On the wire it behaves like a nameko service (docs/nameko-wire.md §2 and §4); the source lines it copies are
named next to each step. Every service name given serves the same methods (METHODS below).

Deliberate deviations, where nameko would crash (docs/nameko-wire.md §2 "poison"): a request without
content_type or without reply_to is acked and dropped, and a line starting with "POISON" is written to
stderr so that a test can assert the gateway never sends one.
"""

import argparse
import datetime
import decimal
import inspect
import json
import re
import signal
import sys
import time
import types
import uuid
from collections.abc import Iterable

import pika


# --- exceptions, with the module paths nameko gives them -------------------------------------------


def _module(name):
    """A module object registered in sys.modules, so that inspect.getmodule() finds it."""
    mod = types.ModuleType(name)
    sys.modules[name] = mod
    return mod


# The classes of nameko/exceptions.py that a service sends, under their real module path. The real
# nameko package is never imported: this fake module only gives the classes the right exc_path.
_nameko = _module("nameko")
_nameko_exceptions = _module("nameko.exceptions")
_nameko.exceptions = _nameko_exceptions


class BadRequest(Exception):
    pass


class MalformedRequest(BadRequest):
    pass


class MethodNotFound(BadRequest):
    pass


class IncorrectSignature(BadRequest):
    pass


class UnserializableValueError(Exception):
    # nameko/exceptions.py: exc_args are [], str is "Unserializable value: `<repr>`".
    def __init__(self, value):
        try:
            self.repr_value = repr(value)
        except Exception:
            self.repr_value = "[__repr__ failed]"
        super().__init__()

    def __str__(self):
        return "Unserializable value: `{}`".format(self.repr_value)


for _cls in (BadRequest, MalformedRequest, MethodNotFound, IncorrectSignature,
             UnserializableValueError):
    _cls.__module__ = "nameko.exceptions"
    setattr(_nameko_exceptions, _cls.__name__, _cls)

# A user exception from a user module: exc_path "peer_errors.MyError".
_peer_errors = _module("peer_errors")


class MyError(Exception):
    pass


MyError.__module__ = "peer_errors"
_peer_errors.MyError = MyError


# The user exception of the http-mode methods: exc_path "peer_errors.MyErr".
class MyErr(Exception):
    pass


MyErr.__module__ = "peer_errors"
_peer_errors.MyErr = MyErr


def get_module_path(exc_type):
    # nameko/exceptions.py get_module_path
    module = inspect.getmodule(exc_type)
    return "{}.{}".format(module.__name__, exc_type.__name__)


def safe_for_serialization(value):
    # nameko/exceptions.py safe_for_serialization (six.string_types is str on Python 3)
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return {
            safe_for_serialization(key): safe_for_serialization(val)
            for key, val in value.items()
        }
    if isinstance(value, Iterable):
        return list(map(safe_for_serialization, value))
    try:
        return str(value)
    except Exception:
        return "[__unicode__ failed]"


def serialize(exc):
    # nameko/exceptions.py serialize
    return {
        "exc_type": type(exc).__name__,
        "exc_path": get_module_path(type(exc)),
        "exc_args": list(map(safe_for_serialization, exc.args)),
        "value": safe_for_serialization(exc),
    }


# --- JSON as kombu 5.2 writes it -------------------------------------------------------------------


class KombuJSONEncoder(json.JSONEncoder):
    # kombu/utils/json.py JSONEncoder.default
    def default(self, o):
        reducer = getattr(o, "__json__", None)
        if reducer is not None:
            return reducer()
        if isinstance(o, (datetime.datetime, datetime.date)):
            if not isinstance(o, datetime.datetime):
                o = datetime.datetime(o.year, o.month, o.day, 0, 0, 0, 0)
            r = o.isoformat()
            if r.endswith("+00:00"):
                r = r[:-6] + "Z"
            return r
        if isinstance(o, datetime.time):
            return o.isoformat()
        if isinstance(o, (decimal.Decimal, uuid.UUID)):
            return str(o)
        return super().default(o)


def kombu_dumps(value):
    # json.dumps defaults: ", " and ": " separators, ensure_ascii, allow_nan.
    return json.dumps(value, cls=KombuJSONEncoder)


# --- the methods -------------------------------------------------------------------------------------
#
# Each method takes the call's context (nameko's service instance) first, then the RPC arguments. The
# signature check binds the arguments with ctx=None, as nameko's check_signature binds them to the
# unbound method with service_instance=None, so Python's messages (and argument counts) are the same.


class Later:
    """Returned by a method to reply `value` after `seconds`, without blocking other calls."""

    def __init__(self, seconds, value):
        self.seconds = seconds
        self.value = value


class CallContext:
    def __init__(self, service, context_data, properties):
        self.service = service
        self.context_data = context_data
        self.properties = properties


_record_counts = {}


def echo(ctx, *args, **kwargs):
    return {"args": list(args), "kwargs": kwargs}


def get_method(ctx, value):
    return {"value": value}


def context(ctx):
    data = dict(ctx.context_data)
    p = ctx.properties
    data["_properties"] = {
        "content_type": p.content_type,
        "content_encoding": p.content_encoding,
        "delivery_mode": p.delivery_mode,
        "priority": p.priority,
        "correlation_id": p.correlation_id,
        "reply_to": p.reply_to,
        "expiration": p.expiration,
    }
    return data


def slow(ctx, seconds, value=None):
    return Later(float(seconds), value)


def fail(ctx):
    raise ValueError("bad", 42)


def custom_fail(ctx):
    raise MyError("custom", {"k": 1})


def malformed(ctx):
    # What a nameko service sends when it re-raises the MalformedRequest of a nested call.
    raise MalformedRequest("Message missing `args` or `kwargs`")


def two(ctx, x, y):
    return [x, y]


def nan(ctx):
    return float("nan")


def unicode(ctx):
    return "h\u00e9llo \u2713 \U0001F600"


def unserializable(ctx):
    return b"bytes"


def record(ctx, token):
    _record_counts[token] = _record_counts.get(token, 0) + 1
    return _record_counts[token]


def record_slow(ctx, token, seconds):
    # Counted when it starts; answers later (a worker that can die mid-call).
    return Later(float(seconds), record(ctx, token))


def calls(ctx, token):
    return _record_counts.get(token, 0)


# --- http-mode methods ----------------------------------------------------------------------------
#
# Called as a nameko @http handler is called, fn(request, **path_values), but over RPC: `request`
# is the JSON object enoki builds for a `mode: http` route. They return what an @http handler
# returns (a str, (status, str) or (status, headers, str); a tuple goes on the wire as an array).


def http_echo(ctx, request, **path):
    return (200, {"Content-Type": "application/json"},
            json.dumps({"request": request, "path": path}))


def hello(ctx, request, name):
    return "hello " + name


def tuple2(ctx, request):
    return (201, "created")


def tuple3(ctx, request):
    return (202, {"X-Foo": "bar", "Content-Type": "application/json"}, '{"ok": true}')


def boom(ctx, request):
    raise ValueError("boom", 1)


def expected(ctx, request):
    raise MyErr("nope")


def badreq(ctx, request):
    # exc_type BadRequest, exc_path nameko.exceptions.BadRequest (see the fake module above).
    raise BadRequest("bad thing")


_PAYLOADS = {
    "dict": {"a": 1},
    "list": [1, 2, 3],
    "none": None,
    "true": True,
    "float": 1.5,
    "str_in_tuple": (200, "ok"),
    "nested": {"k": [1, None, "x'y", 2.0]},
    "unicode": "h\u00e9llo",
    "tuple_dict": (200, {"a": 1}),
    # Numbers json.dumps writes beyond JSON: the repr of what json.loads makes of them.
    "big": 2 ** 70,
    "nan": float("nan"),
    "big_in_tuple": (200, -(10 ** 30)),
}


def payload(ctx, request, kind):
    if kind not in _PAYLOADS:
        raise KeyError(kind)
    return _PAYLOADS[kind]


def tagged(ctx, request, weak=None):
    """A JSON answer with an ETag of the handler's own: strong, or weak with ?weak=1."""
    tag = 'W/"v1"' if weak else '"v1"'
    return (200, {"Content-Type": "application/json", "ETag": tag}, json.dumps({"x": "y" * 4000}))


def chunked_header(ctx, request):
    # A handler that passes on an upstream's framing header.
    return (200, {"Transfer-Encoding": "chunked", "X-Own": "1"}, "hello")


def cookie_list(ctx, request):
    # Two Set-Cookie from a dict: werkzeug's Headers makes a field of each item (of an empty
    # Content-Type list, none: its default stays).
    return (200, {"Set-Cookie": ["a=1", "b=2"], "X-Empty": [], "Content-Type": []}, "cookies")


def chunked_injection(ctx, request):
    # A framing header with a line break: werkzeug refuses it (ValueError), nameko answers 500.
    return (200, {"Transfer-Encoding": "chunked\r\nX-Injected: 1"}, "hello")


def not_modified(ctx, request):
    # A conditional answer with what werkzeug strips from a 304 (its entity headers).
    return (304, {"ETag": '"v1"', "Last-Modified": "Sat, 05 Dec 2026 10:00:00 GMT",
                  "Content-Type": "text/html", "Cache-Control": "max-age=60",
                  "Content-Encoding": "gzip", "Expires": "Sun, 06 Dec 2026 10:00:00 GMT"}, "")


def latin1_header(ctx, request):
    # Header values werkzeug writes in Latin-1 (eventlet encodes them so); one it cannot.
    return (200, {"X-U": "caf\u00e9", "X-Greek": "\u03bb"}, "ok")


def own_cors(ctx, request):
    # A handler that answers CORS itself, for any origin.
    return (200, {"Access-Control-Allow-Origin": "*", "X-Own": "1"}, "own")


def resp_headers(ctx, request):
    return (200, [["X-A", "1"], ["X-B", "2"]], "pairs")


def typed_headers(ctx, request):
    # Header values that are not strings: werkzeug's Headers sends str() of each.
    return (200, {"X-Int": 5, "X-True": True, "X-Float": 1.5, "X-Whole": 2.0, "X-None": None,
                  "X-Big": 2 ** 64, "X-Inf": float("inf")}, "typed")


def own_traceparent(ctx, request):
    # A handler that answers a traceparent of its own (enoki's span is what the client gets).
    return (200, {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                  "X-Own": "1"}, "own")


def http_slow(ctx, request, seconds):
    return Later(float(seconds), "slept")


METHODS = {fn.__name__: fn for fn in (
    echo, get_method, context, slow, fail, custom_fail, malformed, two, nan, unicode,
    unserializable, record, record_slow, calls,
    http_echo, hello, tuple2, tuple3, boom, expected, badreq, payload, resp_headers, tagged, own_cors, chunked_header, cookie_list, chunked_injection, not_modified, latin1_header,
    typed_headers, http_slow, own_traceparent,
)}


# --- the service side of the wire --------------------------------------------------------------------


def log(*parts):
    print("nameko_peer:", *parts, file=sys.stderr, flush=True)


def decode_from_headers(headers, prefix="nameko"):
    # nameko/messaging.py decode_from_headers
    return {
        re.sub(r"^{}\.".format(prefix), "", key): value
        for key, value in headers.items()
    }


class Peer:
    def __init__(self, amqp_uri, exchange, services, prefetch):
        self.exchange = exchange
        self.services = services
        self.prefetch = prefetch
        self.amqp_uri = amqp_uri
        self.connection = pika.BlockingConnection(pika.URLParameters(amqp_uri))
        self.channels = {}
        self.in_flight = 0
        self.stopping = False

    def setup(self):
        for service in self.services:
            # nameko/rpc.py RpcConsumer.setup: queue rpc-<svc>, durable, bound with <svc>.*; one
            # consumer per service with its own prefetch.
            ch = self.connection.channel()
            ch.confirm_delivery()
            ch.exchange_declare(self.exchange, exchange_type="topic", durable=True)
            queue = "rpc-{}".format(service)
            ch.queue_declare(queue, durable=True, auto_delete=False, exclusive=False)
            ch.queue_bind(queue, self.exchange, routing_key="{}.*".format(service))
            ch.basic_qos(prefetch_count=self.prefetch)
            tag = ch.basic_consume(
                queue, lambda c, m, p, b, service=service: self.on_message(service, c, m, p, b),
                auto_ack=False)
            self.channels[service] = (ch, tag)

    def on_message(self, service, ch, method, props, body):
        # kombu Consumer._receive_callback: a body that cannot be decoded (or a content type outside
        # ACCEPT) goes to ConsumerMixin.on_decode_error, which logs and acks.
        content_type = props.content_type
        if content_type is None or props.reply_to is None:
            log("POISON: request without", "content_type" if content_type is None else "reply_to",
                "on", method.routing_key, "(nameko would crash here); acked and dropped")
            ch.basic_ack(method.delivery_tag)
            return
        if content_type != "application/json":
            log("content type", repr(content_type), "not accepted; acked and dropped")
            ch.basic_ack(method.delivery_tag)
            return
        if not body:
            # py-amqp's Message starts with body '' (a str) and an empty message has no body frame.
            body = ""
        elif props.content_encoding:
            # py-amqp AbstractChannel.dispatch_method (auto_decode): the body becomes a str when it
            # decodes with its content_encoding, and stays bytes otherwise.
            try:
                body = body.decode(props.content_encoding)
            except Exception:
                pass
        if body:
            # kombu SerializerRegistry.loads -> kombu.utils.json.loads: bytes as utf-8, json.loads
            # (NaN and Infinity accepted).
            try:
                body = json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
            except Exception as exc:
                log("cannot decode body:", repr(exc), "; acked and dropped")
                ch.basic_ack(method.delivery_tag)
                return
        # else: kombu returns the empty body as it is, and body["args"] below raises TypeError.

        # nameko/rpc.py RpcConsumer.handle_message / Rpc.handle_message
        ctx = None
        try:
            fn = self.get_method(service, method.routing_key)
            try:
                args = body["args"]
                kwargs = body["kwargs"]
            except KeyError:
                raise MalformedRequest("Message missing `args` or `kwargs`")
            self.check_signature(fn, args, kwargs)
            ctx = CallContext(service, decode_from_headers(props.headers or {}), props)
        except Exception as exc:
            self.reply(ch, method, props, None, exc)
            return

        try:
            result = fn(ctx, *args, **kwargs)
        except Exception as exc:
            self.reply(ch, method, props, None, exc)
            return
        if isinstance(result, Later):
            self.in_flight += 1

            def later(result=result):
                self.in_flight -= 1
                self.reply(ch, method, props, result.value, None)

            self.connection.call_later(result.seconds, later)
            return
        self.reply(ch, method, props, result, None)

    @staticmethod
    def get_method(service, routing_key):
        # nameko/rpc.py RpcConsumer.get_provider_for_method
        for name, fn in METHODS.items():
            if "{}.{}".format(service, name) == routing_key:
                return fn
        raise MethodNotFound(routing_key.split(".")[-1])

    @staticmethod
    def check_signature(fn, args, kwargs):
        # nameko/extensions.py Entrypoint.check_signature
        try:
            service_instance = None  # fn is unbound
            inspect.getcallargs(fn, service_instance, *args, **kwargs)
        except TypeError as exc:
            raise IncorrectSignature(str(exc))

    def reconnect(self, why):
        # As a nameko service does (kombu's ConsumerMixin): connect again after a pause, declare
        # again, consume again. Calls in flight on the old connection are lost with it; the broker
        # redelivers their requests.
        log("lost the broker connection:", repr(why), "; reconnecting")
        # A connection that is still open (a nacked reply, say) is closed first: its consumers hold
        # unacknowledged requests, which the broker redelivers only once it is gone.
        try:
            if self.connection.is_open:
                self.connection.close()
        except Exception as exc:  # it is being given up either way
            log("closing the old connection:", repr(exc))
        self.channels = {}
        self.in_flight = 0
        while not self.stopping:
            time.sleep(0.5)
            try:
                self.connection = pika.BlockingConnection(pika.URLParameters(self.amqp_uri))
                self.setup()
            except pika.exceptions.AMQPError as exc:
                log("reconnect failed:", repr(exc))
                continue
            log("reconnected")
            return

    def reply(self, ch, method, props, result, exc):
        # nameko/rpc.py Responder.send_response, then RpcConsumer.handle_result acks.
        error = None
        if exc is not None:
            error = serialize(exc)
        try:
            kombu_dumps(result)
        except Exception:
            error = serialize(UnserializableValueError(result))
            result = None
        payload = {"result": result, "error": error}
        properties = pika.BasicProperties(
            content_type=props.content_type,
            content_encoding="utf-8",
            headers={},
            delivery_mode=2,
            priority=0,
            correlation_id=props.correlation_id,
        )
        ch.basic_publish(self.exchange, props.reply_to, kombu_dumps(payload).encode("utf-8"),
                         properties, mandatory=False)
        ch.basic_ack(method.delivery_tag)

    def run(self):
        while not self.stopping:
            try:
                self.connection.process_data_events(time_limit=0.1)
            except pika.exceptions.AMQPError as exc:
                self.reconnect(exc)
        # Graceful stop: no new calls, let the calls in flight reply (nameko waits for its workers).
        try:
            for ch, tag in self.channels.values():
                ch.basic_cancel(tag)
            # Under the 30 s the tests' fixture waits before it kills the peer: a long slow call a
            # test left running must not turn a clean stop into a SIGKILL.
            deadline = time.monotonic() + 25
            while self.in_flight and time.monotonic() < deadline:
                self.connection.process_data_events(time_limit=0.1)
            self.connection.close()
        except pika.exceptions.AMQPError as exc:
            log("stopped without a broker connection:", repr(exc))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--amqp-uri", required=True)
    ap.add_argument("--exchange", default="nameko-rpc")
    ap.add_argument("--service", action="append", required=True)
    ap.add_argument("--prefetch", type=int, default=10)
    opts = ap.parse_args(argv)

    peer = Peer(opts.amqp_uri, opts.exchange, opts.service, opts.prefetch)

    def stop(signum, frame):
        peer.stopping = True
        # Later signals must not kill the graceful stop, nor the interpreter's own shutdown (where a
        # Python handler no longer runs and SIGTERM's default action would end the process).
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    peer.setup()
    print("ready", flush=True)
    peer.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
