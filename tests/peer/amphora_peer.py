#!/usr/bin/python3
"""amphora_peer.py - a test service that speaks amphora 0.1.3's AMQP RPC wire protocol, with pika only.

    /usr/bin/python3 tests/peer/amphora_peer.py --amqp-uri URI --service NAME [--service NAME ...] \
        [--fanout] [--extra-queue LABEL[:ROUTING_KEY][:X_EXPIRES_MS]] ... [--no-main-queue] \
        [--record FILE] [--tag TEXT]

amphora (the last release, 0.1.3) is a Python 2 library built on gevent and py-amqp; it cannot run
here. This peer stands in for its AmqpRpcServer / AmqpRpcFanoutServer, written from amphora's wire
protocol as described for this project (amphora-wire.md: §1 exchanges, queues and bindings, §3 replies,
§4 server behaviour, §5 extra request queues, §6 fanout). It contains no code of amphora's.

It prints "ready" on stdout once every queue is declared, bound and consumed, logs to stderr with the
prefix "amphora_peer:", reconnects (after 0.5 s, declaring everything again) when the broker
connection is lost, and exits 0 on SIGTERM/SIGINT after the calls in flight have replied.

Per service NAME:
  * exchange rpc_NAME_request: direct (fanout with --fanout), durable, not auto-delete, no arguments;
  * exchange rpc_NAME_response: direct, durable, not auto-delete, no arguments;
  * queue rpc_NAME_request: durable, no arguments, bound to rpc_NAME_request with key ""; consumed
    unless --no-main-queue (it is declared and bound even then, as amphora's client does too);
  * per --extra-queue LABEL[:ROUTING_KEY][:X_EXPIRES_MS]: queue rpc_NAME_queue_LABEL, durable, with
    x-expires when given, bound with ROUTING_KEY (LABEL when omitted or empty, so "LABEL::60000" is
    the default key with an x-expires), and consumed.
Every request queue is consumed on a channel of its own, with manual acks and no basic.qos. Every
service serves the same functions (FUNCTIONS below): add, echo, send_message.email.text, fail,
raise_custom, slow, whoami, none, and two test hooks for replies a real amphora server never sends:
reply_raw(text) (the reply body is exactly `text`) and reply_twice(value) (the reply is sent twice
with the same message_id).

Per delivery (amphora-wire.md §4), in order: no reply_to or no message_id (absent or empty) -> ack,
no reply; a body that is not UTF-8 -> neither ack nor reject nor reply (amphora's own WrongRequest
encoding fails there; a line starting with "POISON" goes to stderr); a body that is not JSON, not an
object, or lacks func, args or kwargs -> WrongRequest with the raw body, then ack; an unknown function
(or a func that is not a string) -> WrongRequest "No function <func> defined", then ack; otherwise the
function runs with *args, **kwargs and the reply holds its result or its exception, then ack. A
delivery that arrives during the warm shutdown is rejected with requeue.

Replies go to rpc_NAME_response with routing key = the request's reply_to, properties message_id
(copied) and delivery_mode 2 only, body as Python 2's json.dumps writes it (ensure_ascii, separators
", " and ": ", NaN bare; a value JSON cannot hold as its isoformat(), else its text).

--record FILE appends one JSON line per delivery received: {"queue", "routing_key", "exchange",
"properties": {each AMQP property that is set, by pika's name}, "body": the body as text (invalid
UTF-8 replaced by U+FFFD), "redelivered"}.
"""

import argparse
import base64
import datetime
import decimal
import json
import os
import signal
import sys
import time

import pika


def log(*parts):
    print("amphora_peer:", *parts, file=sys.stderr, flush=True)


# --- JSON as amphora writes it (Python 2's json.dumps defaults) ------------------------------------


def _fallback(value):
    # amphora-wire.md §2: a value JSON cannot hold goes as its isoformat(), else as its text.
    iso = getattr(value, "isoformat", None)
    if callable(iso):
        return iso()
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def amphora_dumps(value):
    # ensure_ascii, separators ", " and ": ", allow_nan: the defaults of Python 2 and 3 alike.
    return json.dumps(value, default=_fallback)


def wrong_request(text):
    # The key order of amphora-wire.md §3's examples (Python 2's hash order for these two keys).
    return {"exception": {"args": [text], "type": "WrongRequest"}}


# --- the functions ------------------------------------------------------------------------------------


class Later:
    """Returned by a function to reply {"result": value} after `seconds`, without blocking others."""

    def __init__(self, seconds, value):
        self.seconds = seconds
        self.value = value


class RawReply:
    """Test hook: the reply body is exactly these bytes."""

    def __init__(self, body):
        self.body = body


class TwiceReply:
    """Test hook: {"result": value} is published twice, with the same message_id."""

    def __init__(self, value):
        self.value = value


# What whoami returns for the call being run: --tag, else the service the request came for. The
# functions take exactly the RPC arguments (no context argument), so that a wrong argument count is a
# TypeError reply as from an amphora server (with Python 3's message, not Python 2's).
_whoami = {"tag": None}


def add(a, b):
    return a + b


def echo(*args, **kwargs):
    return {"args": list(args), "kwargs": kwargs}


def email_text(to, text, **kw):
    return {"to": to, "text": text, "kw": kw}


def fail(*args):
    raise ValueError(*args)


def raise_custom(name, *args):
    raise type(str(name), (Exception,), {})(*args)


def slow(seconds, value=None):
    return Later(max(0.0, float(seconds)), value)


def whoami():
    return _whoami["tag"]


def none():
    return None


def reply_raw(text):
    if not isinstance(text, str):
        raise TypeError("reply_raw takes a string, not {}".format(type(text).__name__))
    return RawReply(text.encode("utf-8"))


def reply_twice(value):
    return TwiceReply(value)


# Flat names: the dots of "send_message.email.text" are part of the name (amphora-wire.md §2).
FUNCTIONS = {
    "add": add,
    "echo": echo,
    "send_message.email.text": email_text,
    "fail": fail,
    "raise_custom": raise_custom,
    "slow": slow,
    "whoami": whoami,
    "none": none,
    # test hooks, never sent by a real amphora server
    "reply_raw": reply_raw,
    "reply_twice": reply_twice,
}


# --- --record ---------------------------------------------------------------------------------------

PROPERTY_NAMES = ("content_type", "content_encoding", "headers", "delivery_mode", "priority",
                  "correlation_id", "reply_to", "expiration", "message_id", "timestamp", "type",
                  "user_id", "app_id", "cluster_id")


def _plain(value):
    """A value of an AMQP property (header tables included) as JSON can hold it."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


class Recorder:
    def __init__(self, path):
        self.file = open(path, "a", encoding="utf-8") if path else None

    def write(self, queue, method, props, body):
        if self.file is None:
            return
        properties = {}
        for name in PROPERTY_NAMES:
            value = getattr(props, name, None)
            if value is not None:
                properties[name] = _plain(value)
        line = {
            "queue": queue,
            "routing_key": method.routing_key,
            "exchange": method.exchange,
            "properties": properties,
            "body": body.decode("utf-8", "replace"),
            "redelivered": bool(method.redelivered),
        }
        self.file.write(json.dumps(line) + "\n")
        self.file.flush()


# --- the server side of the wire --------------------------------------------------------------------


def parse_extra_queue(spec):
    """LABEL[:ROUTING_KEY][:X_EXPIRES_MS] -> (label, routing_key, x_expires or None)."""
    parts = spec.split(":")
    if len(parts) > 3 or not parts[0]:
        raise argparse.ArgumentTypeError(
            "--extra-queue {!r}: expected LABEL[:ROUTING_KEY][:X_EXPIRES_MS]".format(spec))
    label = parts[0]
    # amphora binds with `routing_key or label`: an omitted or empty key is the label.
    routing_key = (parts[1] if len(parts) > 1 else "") or label
    x_expires = None
    if len(parts) > 2 and parts[2] != "":
        try:
            x_expires = int(parts[2])
        except ValueError:
            raise argparse.ArgumentTypeError(
                "--extra-queue {!r}: X_EXPIRES_MS must be an integer".format(spec))
        if x_expires <= 0:
            raise argparse.ArgumentTypeError(
                "--extra-queue {!r}: X_EXPIRES_MS must be positive".format(spec))
    return label, routing_key, x_expires


class Peer:
    def __init__(self, amqp_uri, services, fanout, extra_queues, main_queue, recorder, tag):
        self.amqp_uri = amqp_uri
        self.services = services
        self.fanout = fanout
        self.extra_queues = extra_queues
        self.main_queue = main_queue
        self.recorder = recorder
        self.tag = tag
        self.consumers = []      # (channel, consumer tag)
        self.publisher = None    # the channel replies go out on
        self.in_flight = 0       # slow calls that have not replied yet
        self.stopping = False
        self.connection = self.connect()

    def connect(self):
        params = pika.URLParameters(self.amqp_uri)
        # A name in the broker's connection list, so a test can close exactly this connection.
        props = dict(params.client_properties or {})
        props["connection_name"] = "amphora_peer:{}".format(os.getpid())
        params.client_properties = props
        return pika.BlockingConnection(params)

    def setup(self):
        self.consumers = []
        self.publisher = self.connection.channel()
        for service in self.services:
            ch = self.connection.channel()
            request = "rpc_{}_request".format(service)
            response = "rpc_{}_response".format(service)
            # amphora-wire.md §1: exactly these flags, or the broker answers 406 to amphora's own
            # clients and servers.
            ch.exchange_declare(request, exchange_type="fanout" if self.fanout else "direct",
                                durable=True, auto_delete=False)
            ch.exchange_declare(response, exchange_type="direct", durable=True, auto_delete=False)
            ch.queue_declare(request, durable=True, exclusive=False, auto_delete=False)
            ch.queue_bind(request, request, routing_key="")
            queues = [request] if self.main_queue else []
            for label, routing_key, x_expires in self.extra_queues:
                queue = "rpc_{}_queue_{}".format(service, label)
                args = {"x-expires": x_expires} if x_expires is not None else None
                ch.queue_declare(queue, durable=True, exclusive=False, auto_delete=False,
                                 arguments=args)
                ch.queue_bind(queue, request, routing_key=routing_key)
                queues.append(queue)
            ch.close()
            # §4: one channel per consumed queue, manual acks, no basic.qos.
            for queue in queues:
                qch = self.connection.channel()
                ctag = qch.basic_consume(
                    queue,
                    lambda c, m, p, b, service=service, queue=queue:
                        self.on_message(service, queue, c, m, p, b),
                    auto_ack=False)
                self.consumers.append((qch, ctag))

    def on_message(self, service, queue, ch, method, props, body):
        self.recorder.write(queue, method, props, body)
        if self.stopping:
            # amphora's warm shutdown (prepare_stop): every new delivery is rejected with requeue.
            ch.basic_reject(method.delivery_tag, requeue=True)
            return
        if not props.reply_to or not props.message_id:
            ch.basic_ack(method.delivery_tag)
            return
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            log("POISON: the body of request {!r} on {} is not UTF-8; left unacknowledged, as "
                "amphora's failing WrongRequest encoding leaves it".format(props.message_id, queue))
            return
        try:
            request = json.loads(text)
        except ValueError:
            request = None
        if not (isinstance(request, dict) and all(k in request for k in ("func", "args", "kwargs"))):
            self.reply(service, ch, method, props, wrong_request(text))
            return
        name = request["func"]
        fn = FUNCTIONS.get(name) if isinstance(name, str) else None
        if fn is None:
            self.reply(service, ch, method, props,
                       wrong_request("No function {} defined".format(name)))
            return
        _whoami["tag"] = self.tag if self.tag is not None else service
        try:
            result = fn(*request["args"], **request["kwargs"])
        except Exception as exc:
            self.reply(service, ch, method, props,
                       {"exception": {"type": type(exc).__name__, "args": list(exc.args)}})
            return
        if isinstance(result, Later):
            self.in_flight += 1
            connection = self.connection

            def later(result=result):
                self.in_flight -= 1
                if self.connection is connection:
                    self.reply(service, ch, method, props, {"result": result.value})

            self.connection.call_later(result.seconds, later)
            return
        if isinstance(result, RawReply):
            self.reply(service, ch, method, props, None, raw=result.body)
            return
        if isinstance(result, TwiceReply):
            self.reply(service, ch, method, props, {"result": result.value}, times=2)
            return
        self.reply(service, ch, method, props, {"result": result})

    def reply(self, service, ch, method, props, payload, raw=None, times=1):
        # amphora-wire.md §3: to rpc_<svc>_response, key = reply_to, message_id copied, delivery_mode
        # 2, nothing else; then the ack (§4).
        if raw is None:
            try:
                raw = amphora_dumps(payload).encode("utf-8")
            except (TypeError, ValueError) as exc:
                # e.g. a circular value; amphora's greenlet would die here: no reply, no ack.
                log("cannot encode the reply to", repr(props.message_id), ":", repr(exc))
                return
        properties = pika.BasicProperties(message_id=props.message_id, delivery_mode=2)
        for _ in range(times):
            self.publisher.basic_publish("rpc_{}_response".format(service), props.reply_to, raw,
                                         properties, mandatory=False)
        ch.basic_ack(method.delivery_tag)

    def reconnect(self, why):
        # As nameko_peer does: drop the old connection, wait, connect and declare again. Calls in
        # flight on the old connection are lost with it; the broker redelivers their requests.
        log("lost the broker connection:", repr(why), "; reconnecting")
        try:
            if self.connection.is_open:
                self.connection.close()
        except Exception as exc:
            log("closing the old connection:", repr(exc))
        self.consumers = []
        self.publisher = None
        self.in_flight = 0
        while not self.stopping:
            time.sleep(0.5)
            try:
                self.connection = self.connect()
                self.setup()
            except pika.exceptions.AMQPError as exc:
                log("reconnect failed:", repr(exc))
                try:
                    if self.connection.is_open:
                        self.connection.close()
                except Exception:
                    pass
                continue
            log("reconnected")
            return

    def run(self):
        while not self.stopping:
            try:
                self.connection.process_data_events(time_limit=0.1)
            except pika.exceptions.AMQPError as exc:
                self.reconnect(exc)
        # Warm shutdown: no new calls, the slow calls in flight reply, then the connection closes.
        try:
            for ch, ctag in self.consumers:
                ch.basic_cancel(ctag)
            deadline = time.monotonic() + 60
            while self.in_flight and time.monotonic() < deadline:
                self.connection.process_data_events(time_limit=0.1)
            self.connection.close()
        except pika.exceptions.AMQPError as exc:
            log("stopped without a broker connection:", repr(exc))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--amqp-uri", required=True)
    ap.add_argument("--service", action="append", required=True)
    ap.add_argument("--fanout", action="store_true",
                    help="declare rpc_<svc>_request as a fanout exchange (AmqpRpcFanoutServer)")
    ap.add_argument("--extra-queue", action="append", default=[], type=parse_extra_queue,
                    metavar="LABEL[:ROUTING_KEY][:X_EXPIRES_MS]")
    ap.add_argument("--no-main-queue", action="store_true",
                    help="declare and bind rpc_<svc>_request but do not consume it")
    ap.add_argument("--record", metavar="FILE")
    ap.add_argument("--tag", help="what whoami returns (default: the service name)")
    opts = ap.parse_args(argv)
    if opts.no_main_queue and not opts.extra_queue:
        log("warning: --no-main-queue without --extra-queue: nothing is consumed")

    peer = Peer(opts.amqp_uri, opts.service, opts.fanout, opts.extra_queue,
                not opts.no_main_queue, Recorder(opts.record), opts.tag)

    def stop(signum, frame):
        peer.stopping = True
        # Later signals must not kill the warm shutdown, nor the interpreter's own exit.
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
