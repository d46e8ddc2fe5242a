"""What enoki puts on the wire (docs/nameko-wire.md §1, §3, §10), seen by a spy queue bound to the test
exchange and by the peer's context() method."""

import json
import re

import pytest

from conftest import (EXCHANGE, GWNAME, SCALE, SESSION, SVC, UUID4, route, rabbitmqctl_json,
                      wait_for)

CLIENT_HEADERS = {
    "Authorization": "Bearer abc.def-ghi",
    "Accept-Language": "fr-CH, fr;q=0.9",
    "User-Agent": "enoki-tests/1.0 (+http)",
    "X-Tenant": "acme",
    "X-Trace-Token": "tt-42",
}


def call_with_spy(gw, spy, path, key, **kw):
    s = spy(key)
    resp = gw.get(path, **kw)
    msg = s.get()
    return resp, msg


def test_request_properties(gw, spy):
    """GET /context (route timeout 5): every property and header of the request."""
    resp, msg = call_with_spy(gw, spy, "/context", SVC + ".*", headers=CLIENT_HEADERS)
    assert resp.status == 200, resp
    call_id = resp.header("X-Call-Id")
    assert re.fullmatch(re.escape(GWNAME) + r"\.http\." + UUID4, call_id or ""), call_id

    assert msg.exchange == EXCHANGE
    assert msg.routing_key == SVC + ".context"
    body = json.loads(msg.raw)
    assert body == {"args": [], "kwargs": {}}
    p = msg.props
    assert p.content_type == "application/json"
    assert p.content_encoding == "utf-8"
    assert p.delivery_mode == 1  # transient by default (GATEWAY.delivery_mode, issue 8)
    assert p.priority == 0
    assert re.fullmatch(UUID4, p.correlation_id or ""), p.correlation_id
    assert re.fullmatch(UUID4, p.reply_to or ""), p.reply_to
    assert p.correlation_id != p.reply_to
    assert re.fullmatch(r"[0-9]+", p.expiration or ""), p.expiration
    assert (4000 if SCALE == 1 else 0) < int(p.expiration) <= 5000, p.expiration

    assert msg.headers == {
        "nameko.call_id_stack": [call_id],
        "nameko.auth_token": "Bearer abc.def-ghi",
        "nameko.language": "fr-CH, fr;q=0.9",
        "nameko.user_agent": "enoki-tests/1.0 (+http)",
        "nameko.tenant": "acme",
        "nameko.trace_token": "tt-42",
    }

    # The service sees the same, as nameko context data.
    ctx = resp.json()
    props = ctx.pop("_properties")
    assert ctx == {
        "call_id_stack": [call_id],
        "auth_token": "Bearer abc.def-ghi",
        "language": "fr-CH, fr;q=0.9",
        "user_agent": "enoki-tests/1.0 (+http)",
        "tenant": "acme",
        "trace_token": "tt-42",
    }
    assert props == {
        "content_type": "application/json",
        "content_encoding": "utf-8",
        "delivery_mode": 1,
        "priority": 0,
        "correlation_id": p.correlation_id,
        "reply_to": p.reply_to,
        "expiration": p.expiration,
    }


def test_delivery_mode_2_keeps_namekos_persistent_requests(peer, spy, enoki):
    """GATEWAY.delivery_mode: 2 sends requests persistent, exactly as nameko's own clients do."""
    gw = enoki(routes=[route("/echo", SVC + ".echo")],
               gateway={"name": GWNAME + "p", "delivery_mode": 2}, ready_path="/echo")
    resp, msg = call_with_spy(gw, spy, "/echo", SVC + ".*")
    assert resp.status == 200, resp
    assert msg.props.delivery_mode == 2


def test_no_properties_beyond_namekos(gw, spy):
    """A nameko service cannot tell enoki from nameko's own client: no other AMQP properties."""
    resp, msg = call_with_spy(gw, spy, "/echo", SVC + ".*")
    assert resp.status == 200, resp
    p = msg.props
    assert (p.message_id, p.timestamp, p.type, p.user_id, p.app_id, p.cluster_id) == (None,) * 6


def test_absent_client_headers_are_not_sent(gw, spy):
    """Only call_id_stack when the client sent no Authorization, Accept-Language, User-Agent or
    configured context header (nameko skips context entries that are None)."""
    resp, msg = call_with_spy(gw, spy, "/echo", SVC + ".*")
    assert resp.status == 200, resp
    assert msg.headers == {"nameko.call_id_stack": [resp.header("X-Call-Id")]}


def test_default_timeout_gives_expiration(gw, spy):
    """/echo has no timeout: GATEWAY.rpc_timeout (10) applies."""
    resp, msg = call_with_spy(gw, spy, "/echo", SVC + ".*")
    assert resp.status == 200, resp
    assert (9000 if SCALE == 1 else 0) < int(msg.props.expiration) <= 10000, msg.props.expiration


def test_arguments_in_body(gw, spy):
    resp, msg = call_with_spy(gw, spy, "/echo/5/2.5/a/b?q=x", SVC + ".*")
    assert resp.status == 200, resp
    assert msg.routing_key == SVC + ".echo"
    body = json.loads(msg.raw)
    assert body == {"args": [], "kwargs": {"n": 5, "x": 2.5, "p": "a/b", "q": "x"}}
    assert type(body["kwargs"]["n"]) is int and type(body["kwargs"]["x"]) is float


def test_correlation_ids_are_new_per_call(gw, spy):
    s = spy(SVC + ".*")
    for _ in range(3):
        assert gw.get("/echo").status == 200
    msgs = s.get_many(3)
    ids = {m.props.correlation_id for m in msgs}
    assert len(ids) == 3, ids
    stacks = {m.headers["nameko.call_id_stack"][0] for m in msgs}
    assert len(stacks) == 3, stacks


@pytest.mark.parametrize("request_id,valid", [
    ("req-1.abc_DEF", True),
    ("x" * 64, True),
    ("x" * 65, False),
    ("has space", False),
    ("a/b", False),
    ("caf\u00e9", False),
    ("", False),
])
def test_request_id(gw, spy, request_id, valid):
    s = spy(SVC + ".*")
    resp = gw.get("/echo", headers={"X-Request-Id": request_id.encode("utf-8")})
    assert resp.status == 200, resp
    stack = s.get().headers["nameko.call_id_stack"]
    assert len(stack) == 1 and isinstance(stack[0], str), stack
    if valid:
        assert stack == ["{}.http.{}".format(GWNAME, request_id)]
    else:
        assert re.fullmatch(re.escape(GWNAME) + r"\.http\." + UUID4, stack[0]), stack
    assert resp.header("X-Call-Id") == stack[0]


def test_reply_queue(gw, spy, broker):
    """rpc.reply-<name>-<uuid>: durable, not exclusive, x-expires 300000, bound with key = reply_to."""
    resp, msg = call_with_spy(gw, spy, "/echo", SVC + ".*")
    assert resp.status == 200, resp
    reply_to = msg.props.reply_to
    queue = "rpc.reply-{}-{}".format(GWNAME, reply_to)
    broker.track_queue(queue)
    # A passive declare works from another connection: it exists and is not exclusive.
    assert broker.queue_exists(queue), queue
    # Re-declaring with the same flags succeeds; with different flags the broker answers 406.
    same = dict(durable=True, exclusive=False, auto_delete=False, arguments={"x-expires": 300000})
    assert broker.try_on_fresh_channel(lambda ch: ch.queue_declare(queue, **same)) is None
    assert broker.try_on_fresh_channel(
        lambda ch: ch.queue_declare(queue, **dict(same, durable=False))) == 406
    assert broker.try_on_fresh_channel(
        lambda ch: ch.queue_declare(queue, **dict(same, arguments={}))) == 406
    # Its binding: a message with routing key = reply_to is routed (enoki drops it: unknown id).
    assert broker.routable(EXCHANGE, reply_to)
    bindings = rabbitmqctl_json("list_bindings", "source_name", "destination_name", "routing_key")
    if bindings is not None:
        assert {"source_name": EXCHANGE, "destination_name": queue, "routing_key": reply_to} in [
            {k: b[k] for k in ("source_name", "destination_name", "routing_key")} for b in bindings]
    # enoki still answers after the stray message.
    assert gw.get("/echo").status == 200


def test_default_gateway_name(tmp_path, peer, spy, broker, enoki):
    """Without GATEWAY.name: call ids "enoki.http.<uuid4>" and reply queue rpc.reply-enoki-<uuid>."""
    gw = enoki(routes=[route("/echo", SVC + ".echo")], ready_path="/echo", default_name=True)
    resp, msg = call_with_spy(gw, spy, "/echo", SVC + ".*")
    assert resp.status == 200, resp
    assert re.fullmatch(r"enoki\.http\." + UUID4, resp.header("X-Call-Id") or ""), resp.headers
    assert msg.headers["nameko.call_id_stack"] == [resp.header("X-Call-Id")]
    queue = "rpc.reply-enoki-{}".format(msg.props.reply_to)
    broker.track_queue(queue)
    assert broker.queue_exists(queue), queue


def test_declares_the_exchange(broker, enoki):
    """On a broker where the exchange was never declared, enoki declares it: topic, durable."""
    exchange = "enoki-test-{}-own".format(SESSION)
    broker.exchanges.add(exchange)  # deleted at the end of the session
    assert not broker.exchange_exists(exchange)
    gw = enoki(routes=[route("/x", "nobody_{}.echo".format(SESSION), timeout=5)], exchange=exchange,
               ready_path="/x")
    resp = gw.get("/x")
    assert resp.status == 503 and resp.json()["error"] == "unknown_service", resp
    wait_for(lambda: broker.exchange_exists(exchange), 5 * SCALE, what="the exchange")
    assert broker.try_on_fresh_channel(
        lambda ch: ch.exchange_declare(exchange, exchange_type="topic", durable=True)) is None
    assert broker.try_on_fresh_channel(
        lambda ch: ch.exchange_declare(exchange, exchange_type="topic", durable=False)) == 406
    assert broker.try_on_fresh_channel(
        lambda ch: ch.exchange_declare(exchange, exchange_type="direct", durable=True)) == 406


def test_a_body_larger_than_a_frame(gw, spy):
    """A request body over the broker's frame_max (128 KiB) goes out in several body frames, and the
    peer's reply (as large) comes back whole."""
    big = "x" * (300 * 1024)
    s = spy(SVC + ".*")
    resp = gw.post("/echo", json_body={"big": big, "tail": "end"})
    msg = s.get()
    assert resp.status == 200, resp
    assert json.loads(msg.raw) == {"args": [], "kwargs": {"big": big, "tail": "end"}}
    assert resp.json()["kwargs"] == {"big": big, "tail": "end"}
