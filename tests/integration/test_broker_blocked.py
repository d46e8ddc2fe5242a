"""Issue 16, point 4: when the broker blocks publishers (connection.blocked: a memory or disk
alarm), new calls are answered 503 `broker_blocked` with Retry-After at once, /readyz is 503 and
a gauge says so; calls go through again on connection.unblocked. Against a node of the test's own
(tests/integration/rabbit_nodes.py), never the machine's broker."""

import uuid

import pytest

from conftest import SCALE, Enoki, Peer, answered_within, config_text, route, wait_for

SVC = "blk_{}".format(uuid.uuid4().hex[:8])
EXCHANGE = "enoki-blk-" + SVC


def blocked_gauge(gw):
    lines = [l for l in gw.get("/metrics").body.decode().splitlines()
             if l.startswith("enoki_broker_blocked ")]
    return lines[0].split()[1] if lines else None


def test_a_memory_alarm_answers_503_broker_blocked(tls_node, tmp_path):
    peer = Peer([SVC], tmp_path, exchange=EXCHANGE, amqp_uri=tls_node.amqp_uri())
    # The call that meets the alarm first is the one RabbitMQ blocks on (it says connection.blocked
    # then): it ends by its deadline, kept short here.
    text = config_text([route("/echo", SVC + ".echo", methods="GET", timeout=2)], port="@PORT@",
                       gateway={"name": "gw" + SVC}, amqp_uri=tls_node.amqp_uri(),
                       exchange=EXCHANGE)
    gw = Enoki(tmp_path, text=text)
    try:
        wait_for(lambda: gw.get("/echo?a=1").status == 200, 15 * SCALE, interval=0.1,
                 what="the first call")
        assert blocked_gauge(gw) == "0"
        tls_node.set_memory_alarm(True)
        try:
            def refused():
                r = gw.get("/echo?a=2", timeout=10 * SCALE)
                return r if r.status == 503 and r.json()["error"] == "broker_blocked" else None

            r = wait_for(refused, 10 * SCALE, interval=0.1, what="503 broker_blocked")
            assert r.header("Retry-After") == "5", r
            assert "blocks publishers" in r.json()["message"], r
            assert r.elapsed < 1 * SCALE, r
            ready = gw.get("/readyz")
            assert ready.status == 503 and ready.json()["error"] == "broker_blocked", ready
            assert blocked_gauge(gw) == "1"
            assert "the broker blocks publishers" in gw.stderr_text()
        finally:
            tls_node.set_memory_alarm(False)
        wait_for(lambda: gw.get("/echo?a=3").status == 200, 15 * SCALE, interval=0.1,
                 what="calls again after the alarm")
        assert gw.get("/readyz").status == 200
        assert blocked_gauge(gw) == "0"
    finally:
        gw.stop()
        peer.stop()


@pytest.mark.waits
@pytest.mark.parametrize("transport", ["amqp", "amqps"])
def test_a_full_socket_never_stalls_the_loop(tls_node, rabbit_certs, tmp_path, transport):
    """A 16 MB call meets the alarm: the broker stops reading, the socket fills. enoki keeps what
    does not fit and watches for room: it still answers at once (probes, 503s), and sends the rest
    when the alarm is lifted. Over TLS too, where the bytes go through OpenSSL's session."""
    import threading

    peer = Peer([SVC], tmp_path, exchange=EXCHANGE, amqp_uri=tls_node.amqp_uri())
    tls = transport == "amqps"
    text = config_text([route("/echo", SVC + ".echo", methods="GET,POST", timeout=60)],
                       port="@PORT@", gateway={"name": "gw2" + transport + SVC,
                                               "max_body": 32 << 20},
                       amqp_uri=tls_node.amqps_uri() if tls else tls_node.amqp_uri(),
                       exchange=EXCHANGE,
                       extra="AMQP_SSL: {{ca_certs: {}}}\n".format(rabbit_certs.ca) if tls else "")
    gw = Enoki(tmp_path, text=text)
    big = {}
    try:
        wait_for(lambda: gw.get("/echo?a=1").status == 200, 15 * SCALE, interval=0.1,
                 what="the first call")
        tls_node.set_memory_alarm(True)
        try:
            thread = threading.Thread(target=lambda: big.setdefault("r", gw.post(
                "/echo", json_body={"data": "x" * (16 << 20)}, timeout=120)))
            thread.start()
            wait_for(lambda: blocked_gauge(gw) == "1", 15 * SCALE, interval=0.1,
                     what="the broker's block")
            for _ in range(20):
                r = answered_within(lambda: gw.get("/healthz", timeout=5), 0.2 * SCALE)
                assert r.status == 200, r
                r = gw.get("/echo?a=2", timeout=5)
                assert r.status == 503 and r.json()["error"] == "broker_blocked", r
        finally:
            tls_node.set_memory_alarm(False)
        thread.join(120)
        assert big["r"].status == 200, big["r"]
        wait_for(lambda: gw.get("/echo?a=3").status == 200, 15 * SCALE, interval=0.1,
                 what="calls again after the alarm")
    finally:
        gw.stop()
        peer.stop()
