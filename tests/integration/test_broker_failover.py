"""Issue 16, point 3: AMQP_URI listing the nodes of a cluster (kombu's `;` failover syntax). enoki
connects to the first that answers; when it loses that node it moves to the next, declares its
queues there again, and calls succeed through it with no restart. The nameko-wire peer serves from
the surviving node b (tests/integration/rabbit_nodes.py starts the two-node cluster).

Both with classic queues (enoki's own that lived on the lost node are stuck there: on the new node
its reply queue takes a new name, and its shared service queue rpc-<name> is left out until its node
is back, logged) and with the queues mirrored by an ha-mode policy."""

import http.client
import threading
import time
import uuid

import pytest

from conftest import SCALE, Enoki, Peer, config_text, route, wait_for

SVC = "fo_{}".format(uuid.uuid4().hex[:8])
EXCHANGE = "enoki-fo-" + SVC


def metric_line(gw, node):
    text = gw.get("/metrics").body.decode()
    return [l for l in text.splitlines() if l.startswith('enoki_broker_connected{node="%s"}' % node)]


@pytest.mark.parametrize("mirrored", [False, True], ids=["classic", "mirrored"])
def test_losing_the_node_moves_to_the_next(rabbit_cluster, tmp_path, mirrored):
    rabbit_cluster.ensure_running()
    a, b = rabbit_cluster.a, rabbit_cluster.b
    if mirrored:
        # Queues mirrored to every node (an ha-mode policy): a queue outlives its node.
        a.ctl("set_policy", "ha-all", "^(rpc|enoki)",
              '{"ha-mode": "all", "ha-sync-mode": "automatic"}')
    else:
        a.ctl("clear_policy", "ha-all") if "ha-all" in a.ctl("list_policies") else None
    peer = Peer([SVC], tmp_path, exchange=EXCHANGE, amqp_uri=b.amqp_uri())
    text = config_text([route("/echo", SVC + ".echo", methods="GET", timeout=3 * SCALE)],
                       port="@PORT@", gateway={"name": "gw" + SVC}, amqp_uri=rabbit_cluster.uris(),
                       exchange=EXCHANGE)
    gw = Enoki(tmp_path, text=text)
    try:
        wait_for(lambda: gw.get("/echo?n=0").status == 200, 15 * SCALE, interval=0.1,
                 what="the first call through node a")
        assert metric_line(gw, "localhost:%d" % a.port) == [
            'enoki_broker_connected{node="localhost:%d"} 1' % a.port]
        assert metric_line(gw, "localhost:%d" % b.port) == [
            'enoki_broker_connected{node="localhost:%d"} 0' % b.port]
        assert gw.get("/readyz").json() == {"status": "ok", "node": "localhost:%d" % a.port}

        # Load while the node goes: every request is answered, 200 or 503, none hangs.
        statuses, stop = [], threading.Event()

        def load():
            while not stop.is_set():
                conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10 * SCALE)
                try:
                    conn.request("GET", "/echo?n=1")
                    statuses.append(conn.getresponse().status)
                finally:
                    conn.close()

        threads = [threading.Thread(target=load) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        a.stop()
        lost = time.monotonic()
        wait_for(lambda: gw.get("/echo?n=2").status == 200, 10 * SCALE, interval=0.05,
                 what="calls through node b")
        switched = time.monotonic() - lost
        time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join(30)
        assert statuses and set(statuses) <= {200, 503}, sorted(set(statuses))
        assert switched < 10 * SCALE, switched
        assert metric_line(gw, "localhost:%d" % b.port) == [
            'enoki_broker_connected{node="localhost:%d"} 1' % b.port]
        assert "node 2 of 2" in gw.stderr_text()
        assert gw.get("/readyz").json() == {"status": "ok", "node": "localhost:%d" % b.port}
    finally:
        gw.stop()
        peer.stop()
        rabbit_cluster.ensure_running()
