"""The amphora peer itself (tests/peer/amphora_peer.py), without enoki: a bare pika client calls it as
amphora's wire protocol says a client does (reply queue of its own bound to rpc_<svc>_response, the
key sent as reply_to, a message_id per request) and checks the replies, the declarations and --record.

    GW_SYSTEM_TESTS=1 /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration/test_amphora_peer.py
"""

import json
import time
import uuid
from pathlib import Path

import pytest

from amphorakit import AmphoraPeer
from conftest import SCALE, pika_params, wait_for

PEER = Path(__file__).resolve().parents[2] / "tests" / "peer" / "amphora_peer.py"


class Amqp:
    """The test's own connection: clients, checks, and the deletion of what the peers declared."""

    def __init__(self):
        import pika

        self.pika = pika
        self.connection = pika.BlockingConnection(pika_params())
        self.channel = self.connection.channel()
        self.queues = set()
        self.exchanges = set()

    def track(self, service, labels=()):
        self.exchanges.update({"rpc_{}_request".format(service), "rpc_{}_response".format(service)})
        self.queues.add("rpc_{}_request".format(service))
        self.queues.update("rpc_{}_queue_{}".format(service, label) for label in labels)

    def error_of(self, fn):
        """None, or the reply code of the channel error fn(channel) caused (e.g. 406)."""
        ch = self.connection.channel()
        try:
            fn(ch)
        except self.pika.exceptions.ChannelClosedByBroker as exc:
            return exc.reply_code
        ch.close()
        return None

    def message_count(self, queue):
        return self.channel.queue_declare(queue, passive=True).method.message_count

    def cleanup(self):
        for queue in sorted(self.queues):
            self.error_of(lambda ch: ch.queue_delete(queue))
        for exchange in sorted(self.exchanges):
            self.error_of(lambda ch: ch.exchange_delete(exchange))
        self.connection.close()


class Client:
    """An amphora-style client: an exclusive auto-delete reply queue bound to rpc_<svc>_response."""

    def __init__(self, amqp, service):
        self.amqp = amqp
        self.service = service
        self.key = uuid.uuid4().hex
        ch = amqp.channel
        self.queue = ch.queue_declare("", exclusive=True, auto_delete=True).method.queue
        ch.queue_bind(self.queue, "rpc_{}_response".format(service), routing_key=self.key)

    def send(self, func=None, *args, body=None, routing_key="", message_id="auto", reply_to="auto",
             kwargs=None, **props):
        if body is None:
            body = json.dumps({"func": func, "args": list(args), "kwargs": kwargs or {}})
        if isinstance(body, str):
            body = body.encode("utf-8")
        if message_id == "auto":
            message_id = str(uuid.uuid4())
        if reply_to == "auto":
            reply_to = self.key
        props = self.amqp.pika.BasicProperties(reply_to=reply_to, message_id=message_id,
                                               delivery_mode=2, **props)
        self.amqp.channel.basic_publish("rpc_{}_request".format(self.service), routing_key, body,
                                        props)
        return message_id

    def poll(self):
        method, props, body = self.amqp.channel.basic_get(self.queue, auto_ack=True)
        return (method, props, body) if method else None

    def get(self, message_id=None, timeout=5):
        method, props, body = wait_for(self.poll, timeout * SCALE, what="the peer's reply")
        assert method.exchange == "rpc_{}_response".format(self.service)
        assert method.routing_key == self.key
        if message_id is not None:
            assert props.message_id == message_id
        # §3: message_id and delivery_mode 2, nothing else.
        others = {k: getattr(props, k) for k in (
            "content_type", "content_encoding", "headers", "priority", "correlation_id", "reply_to",
            "expiration", "timestamp", "type", "user_id", "app_id", "cluster_id")}
        assert props.delivery_mode == 2 and not any(v is not None for v in others.values()), others
        return props, body

    def call(self, func, *args, **kwargs):
        message_id = self.send(func, *args, kwargs=kwargs)
        return json.loads(self.get(message_id)[1])

    def nothing_within(self, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            got = self.poll()
            assert got is None, got
            time.sleep(0.02)


@pytest.fixture(scope="module")
def amqp():
    a = Amqp()
    yield a
    a.cleanup()


@pytest.fixture(scope="module")
def served(amqp, tmp_path_factory):
    """One peer for SVC with two extra queues and --record; yields (service, record path)."""
    tmp = tmp_path_factory.mktemp("amphora-peer")
    service = "amph_{}".format(uuid.uuid4().hex[:8])
    record = tmp / "record.jsonl"
    amqp.track(service, ["shard1", "exp"])
    peer = AmphoraPeer(tmp, "--service", service, "--extra-queue", "shard1:k1",
                       "--extra-queue", "exp::60000", "--record", str(record), "--tag", "T1")
    yield service, record
    peer.stop()


@pytest.fixture
def client(amqp, served):
    return Client(amqp, served[0])


def test_results(client):
    message_id = client.send("add", 1, 2)
    props, body = client.get(message_id)
    assert body == b'{"result": 3}'
    assert client.call("add", "a", "b") == {"result": "ab"}
    assert client.call("echo", 1, [2], x={"y": None}) == {
        "result": {"args": [1, [2]], "kwargs": {"x": {"y": None}}}}
    assert client.call("send_message.email.text", "root@example.com", "Hi \u041f", a=1) == {
        "result": {"to": "root@example.com", "text": "Hi \u041f", "kw": {"a": 1}}}
    assert client.call("whoami") == {"result": "T1"}
    message_id = client.send("none")
    assert client.get(message_id)[1] == b'{"result": null}'


def test_ensure_ascii_and_separators(client):
    message_id = client.send("echo", "\u041f\U0001F600", kwargs={"k": [1.5, True]})
    assert client.get(message_id)[1] == (
        b'{"result": {"args": ["\\u041f\\ud83d\\ude00"], "kwargs": {"k": [1.5, true]}}}')


def test_exceptions(client):
    message_id = client.send("fail", "x", -5)
    assert client.get(message_id)[1] == b'{"exception": {"type": "ValueError", "args": ["x", -5]}}'
    assert client.call("raise_custom", "NoSuchUser", "bob", 7) == {
        "exception": {"type": "NoSuchUser", "args": ["bob", 7]}}
    reply = client.call("add", 1)
    assert reply["exception"]["type"] == "TypeError", reply


def test_wrong_request(client):
    message_id = client.send("nosuch")
    assert client.get(message_id)[1] == (
        b'{"exception": {"args": ["No function nosuch defined"], "type": "WrongRequest"}}')
    for body in ('not json', '[1, 2]', '{"func": "add", "args": [1, 2]}', '"\u00e9"'):
        message_id = client.send(body=body)
        props, raw = client.get(message_id)
        assert json.loads(raw) == {"exception": {"args": [body], "type": "WrongRequest"}}, raw
        assert raw.isascii()


def test_no_reply_to_or_message_id_is_acked_silently(amqp, client, served):
    client.send("add", 1, 2, reply_to=None)
    client.send("add", 1, 2, message_id=None)
    client.nothing_within(0.3)
    assert amqp.message_count("rpc_{}_request".format(served[0])) == 0


def test_slow_does_not_block(client):
    slow_id = client.send("slow", 0.5, kwargs={"value": "late"})
    fast_id = client.send("add", 2, 2)
    props, body = client.get()
    assert (props.message_id, body) == (fast_id, b'{"result": 4}')
    props, body = client.get()
    assert (props.message_id, body) == (slow_id, b'{"result": "late"}')


def test_hooks(client):
    for text in ("not json", '{"other": 1}', "[1,2]", "\u00e9"):
        message_id = client.send("reply_raw", text)
        assert client.get(message_id)[1] == text.encode("utf-8")
    message_id = client.send("reply_twice", 5)
    assert client.get(message_id)[1] == b'{"result": 5}'
    assert client.get(message_id)[1] == b'{"result": 5}'
    client.nothing_within(0.2)


def test_declarations(amqp, served):
    service = served[0]
    req, resp = "rpc_{}_request".format(service), "rpc_{}_response".format(service)
    # Re-declaring with amphora's flags succeeds; other flags are 406.
    assert amqp.error_of(lambda ch: ch.exchange_declare(req, "direct", durable=True)) is None
    assert amqp.error_of(lambda ch: ch.exchange_declare(resp, "direct", durable=True)) is None
    assert amqp.error_of(lambda ch: ch.exchange_declare(req, "fanout", durable=True)) == 406
    assert amqp.error_of(lambda ch: ch.queue_declare(req, durable=True)) is None
    assert amqp.error_of(lambda ch: ch.queue_declare(req, durable=False)) == 406
    exp = "rpc_{}_queue_exp".format(service)
    assert amqp.error_of(lambda ch: ch.queue_declare(
        exp, durable=True, arguments={"x-expires": 60000})) is None
    assert amqp.error_of(lambda ch: ch.queue_declare(exp, durable=True)) == 406
    shard = "rpc_{}_queue_shard1".format(service)
    assert amqp.error_of(lambda ch: ch.queue_declare(shard, durable=True)) is None


def test_extra_queues_and_record(client, served):
    service, record = served
    ids = {
        client.send("add", 1, 1, routing_key="k1"): "rpc_{}_queue_shard1".format(service),
        client.send("add", 1, 1, routing_key="exp"): "rpc_{}_queue_exp".format(service),
        client.send("add", 1, 1, expiration="60000", content_type="application/json",
                    correlation_id="c1", headers={"h": "v", "n": 1}, priority=3):
            "rpc_{}_request".format(service),
    }
    for _ in ids:
        props, body = client.get()
        assert props.message_id in ids and body == b'{"result": 2}'

    def recorded():
        lines = [json.loads(line) for line in record.read_text().splitlines()]
        return {r["properties"].get("message_id"): r for r in lines
                if r["properties"].get("message_id") in ids} if len(lines) else {}

    got = wait_for(lambda: len(recorded()) == 3 and recorded(), 5 * SCALE, what="the record")
    for message_id, queue in ids.items():
        r = got[message_id]
        assert r["queue"] == queue
        assert r["exchange"] == "rpc_{}_request".format(service)
        assert r["redelivered"] is False
        assert json.loads(r["body"]) == {"func": "add", "args": [1, 1], "kwargs": {}}
        assert r["properties"]["reply_to"] == client.key
        assert r["properties"]["delivery_mode"] == 2
    keys = {r["routing_key"] for r in got.values()}
    assert keys == {"k1", "exp", ""}
    main = [r for r in got.values() if r["routing_key"] == ""][0]
    assert main["properties"] == {
        "message_id": main["properties"]["message_id"], "reply_to": client.key, "delivery_mode": 2,
        "expiration": "60000", "content_type": "application/json", "correlation_id": "c1",
        "headers": {"h": "v", "n": 1}, "priority": 3}


def test_fanout_and_no_main_queue(amqp, tmp_path):
    service = "amphf_{}".format(uuid.uuid4().hex[:8])
    amqp.track(service, ["a", "b"])
    peers = [AmphoraPeer(tmp_path, "--service", service, "--fanout", "--no-main-queue",
                         "--extra-queue", label, "--tag", label.upper()) for label in ("a", "b")]
    try:
        req = "rpc_{}_request".format(service)
        assert amqp.error_of(lambda ch: ch.exchange_declare(req, "fanout", durable=True)) is None
        assert amqp.error_of(lambda ch: ch.exchange_declare(req, "direct", durable=True)) == 406
        client = Client(amqp, service)
        message_id = client.send("whoami")
        bodies = sorted(client.get(message_id)[1] for _ in range(2))
        assert bodies == [b'{"result": "A"}', b'{"result": "B"}']
        # Both peers left the main queue unconsumed: the fanout copy waits there.
        assert amqp.message_count(req) == 1
    finally:
        for p in peers:
            p.stop()
