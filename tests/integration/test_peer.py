"""The peer itself, without enoki: it must answer as nameko 3.0.0-rc11 does (docs/nameko-wire.md §2, §4).
The expected bytes are the captures in docs/nameko-wire.md and replies of a real nameko service."""

import json
import signal
import time
import uuid

import pytest

from conftest import EXCHANGE, SCALE, SVC, Peer, wait_for


class Client:
    """A bare RPC client on the test exchange, with its own reply binding."""

    def __init__(self, broker, spy):
        self.broker = broker
        self.reply_to = str(uuid.uuid4())
        self.spy = spy(self.reply_to)

    def send(self, method, body, service=SVC, correlation_id="auto", **props):
        if correlation_id == "auto":
            correlation_id = str(uuid.uuid4())
        props = dict(dict(content_type="application/json", content_encoding="utf-8", headers={},
                          delivery_mode=2, priority=0, correlation_id=correlation_id,
                          reply_to=self.reply_to), **props)
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        self.broker.publish("{}.{}".format(service, method), body, **props)
        return correlation_id

    def call(self, method, body, **kw):
        correlation_id = self.send(method, body, **kw)
        reply = self.spy.get(what="the peer's reply")
        assert reply.props.correlation_id == correlation_id
        return reply


@pytest.fixture
def client(peer, broker, spy):
    return Client(broker, spy)


def test_success_reply(client):
    reply = client.call("two", {"args": ["x"], "kwargs": {"y": 1}})
    assert reply.raw == b'{"result": ["x", 1], "error": null}'
    assert reply.exchange == EXCHANGE and reply.routing_key == client.reply_to
    p = reply.props
    assert (p.content_type, p.content_encoding, p.headers, p.delivery_mode, p.priority, p.reply_to,
            p.expiration) == ("application/json", "utf-8", {}, 2, 0, None, None)


def test_reply_without_correlation_id(client):
    client.send("echo", {"args": [], "kwargs": {}}, correlation_id=None)
    reply = client.spy.get()
    assert reply.props.correlation_id is None
    assert reply.raw == b'{"result": {"args": [], "kwargs": {}}, "error": null}'


@pytest.mark.parametrize("method,body,error", [
    ("fail", {"args": [], "kwargs": {}},
     '{"exc_type": "ValueError", "exc_path": "builtins.ValueError", "exc_args": ["bad", "42"], '
     '"value": "(\'bad\', 42)"}'),
    ("nosuch", {"args": [], "kwargs": {}},
     '{"exc_type": "MethodNotFound", "exc_path": "nameko.exceptions.MethodNotFound", '
     '"exc_args": ["nosuch"], "value": "nosuch"}'),
    ("echo", {"args": []},
     '{"exc_type": "MalformedRequest", "exc_path": "nameko.exceptions.MalformedRequest", '
     '"exc_args": ["Message missing `args` or `kwargs`"], "value": "Message missing `args` or `kwargs`"}'),
    ("two", {"args": [1], "kwargs": {}},
     '{"exc_type": "IncorrectSignature", "exc_path": "nameko.exceptions.IncorrectSignature", '
     '"exc_args": ["two() missing 1 required positional argument: \'y\'"], '
     '"value": "two() missing 1 required positional argument: \'y\'"}'),
    ("echo", [1, 2],
     '{"exc_type": "TypeError", "exc_path": "builtins.TypeError", '
     '"exc_args": ["list indices must be integers or slices, not str"], '
     '"value": "list indices must be integers or slices, not str"}'),
    ("custom_fail", {"args": [], "kwargs": {}},
     '{"exc_type": "MyError", "exc_path": "peer_errors.MyError", "exc_args": ["custom", {"k": "1"}], '
     '"value": "(\'custom\', {\'k\': 1})"}'),
])
def test_error_replies(client, method, body, error):
    reply = client.call(method, body)
    assert reply.raw.decode() == '{"result": null, "error": ' + error + "}"


def test_json_as_python_writes_it(client):
    assert client.call("nan", {"args": [], "kwargs": {}}).raw == b'{"result": NaN, "error": null}'
    assert client.call("unicode", {"args": [], "kwargs": {}}).raw == (
        b'{"result": "h\\u00e9llo \\u2713 \\ud83d\\ude00", "error": null}')


def test_undecodable_request_is_dropped(client):
    client.send("echo", b"not json")
    client.send("echo", b'{"args": [], "kwargs": {}}', content_type="application/x-python-serialize")
    reply = client.call("echo", {"args": ["after"], "kwargs": {}})
    assert json.loads(reply.raw)["result"] == {"args": ["after"], "kwargs": {}}
    assert client.spy.empty()


def test_context_method(client):
    reply = client.call("context", {"args": [], "kwargs": {}},
                        headers={"nameko.call_id_stack": ["a.b.c"], "nameko.user_id": 42,
                                 "x-plain": "v"}, expiration="60000")
    ctx = json.loads(reply.raw)["result"]
    props = ctx.pop("_properties")
    assert ctx == {"call_id_stack": ["a.b.c"], "user_id": 42, "x-plain": "v"}
    assert props["expiration"] == "60000" and props["reply_to"] == client.reply_to


def test_record_and_calls(client):
    token = uuid.uuid4().hex
    assert json.loads(client.call("calls", {"args": [token], "kwargs": {}}).raw)["result"] == 0
    assert json.loads(client.call("record", {"args": [token], "kwargs": {}}).raw)["result"] == 1
    assert json.loads(client.call("calls", {"args": [], "kwargs": {"token": token}}).raw)[
        "result"] == 1


def test_service_queue_flags(peer, broker):
    same = dict(durable=True, exclusive=False, auto_delete=False, arguments={})
    assert broker.try_on_fresh_channel(lambda ch: ch.queue_declare("rpc-" + SVC, **same)) is None
    assert broker.try_on_fresh_channel(
        lambda ch: ch.queue_declare("rpc-" + SVC, **dict(same, durable=False))) == 406


def test_slow_calls_respect_prefetch(broker, spy, tmp_path):
    """prefetch 2: four slow(0.4) calls finish in two waves, and a slow call never blocks the rest."""
    service = "prefetch_{}".format(uuid.uuid4().hex[:8])
    broker.track_queue("rpc-" + service)
    p = Peer([service], tmp_path, prefetch=2)
    try:
        c = Client(broker, spy)
        start = time.monotonic()
        for i in range(4):
            c.send("slow", {"args": [0.4, i], "kwargs": {}}, service=service)
        done = []
        for _ in range(4):
            reply = c.spy.get()
            done.append((time.monotonic() - start, json.loads(reply.raw)["result"]))
        assert sorted(v for _, v in done) == [0, 1, 2, 3]
        assert done[1][0] < 0.7 * SCALE, done
        assert 0.8 <= done[3][0] < 1.3 * SCALE, done
    finally:
        p.stop()


def test_graceful_stop_finishes_calls_in_flight(broker, spy, tmp_path):
    service = "stop_{}".format(uuid.uuid4().hex[:8])
    broker.track_queue("rpc-" + service)
    p = Peer([service], tmp_path)
    c = Client(broker, spy)
    c.send("slow", {"args": [0.5, "done"], "kwargs": {}}, service=service)
    # Wait until the peer holds it (the queue is then empty), then stop.
    wait_for(lambda: broker.channel.queue_declare("rpc-" + service, passive=True)
             .method.message_count == 0, 5, what="the peer to take the call")
    p.proc.send_signal(signal.SIGTERM)
    assert json.loads(c.spy.get().raw)["result"] == "done"
    p.stop()
