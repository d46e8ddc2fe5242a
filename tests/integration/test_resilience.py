"""Resilience (issue 7, points 1 and 2): the broker goes away, goes silent, loses enoki's reply
queue; services die mid-call or answer garbage. Every request still gets one answer, in time, and
service resumes by itself.

The broker restarts happen on a RabbitMQ node of this module's own (its own name, ports and data
directory, started from Debian's rabbitmq-server), so `rabbitmqctl stop_app` under load disturbs no
other test and no broker the machine was already running. A silent broker (frozen, or a cut cable
where TCP notices nothing) is a relay in front of the shared broker that stops passing bytes.
"""

import os
import re
import select
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid

import pytest

from conftest import (AMQP_URI, EXCHANGE, FAKE, SCALE, SESSION, SVC, Background, Peer,
                      config_text, error_body, free_port, http_request, memory_is_measurable,
                      route, rss_kb, wait_for)
from wsclient import WSClient

CHAOS_SVC = "chaos_" + SESSION
KILL_SVC = "killed_" + SESSION


def is_local_broker():
    return re.match(r"^amqps?://(?:[^@/]*@)?(127\.0\.0\.1|localhost)(:|/|$)", AMQP_URI) is not None


class ChaosBroker:
    """A RabbitMQ node for this module alone, on free ports, with no plugins."""

    def __init__(self):
        if not is_local_broker() or not shutil.which("rabbitmq-server"):
            pytest.skip("needs Debian's rabbitmq-server on this machine (the broker restart tests "
                        "run a node of their own)")
        self.dir = tempfile.mkdtemp(prefix="enoki-chaos-")
        # Debian's wrapper runs the node as the rabbitmq user when started by root.
        os.chmod(self.dir, 0o777)
        plugins = os.path.join(self.dir, "plugins")
        with open(plugins, "w") as f:
            f.write("[].\n")
        os.chmod(plugins, 0o644)
        self.port = free_port()
        host = socket.gethostname().split(".")[0]
        self.node = "enoki-chaos-{}@{}".format(SESSION, host)
        self.env = dict(os.environ,
                        RABBITMQ_NODENAME=self.node,
                        RABBITMQ_NODE_PORT=str(self.port),
                        RABBITMQ_DIST_PORT=str(free_port()),
                        RABBITMQ_MNESIA_BASE=os.path.join(self.dir, "mnesia"),
                        RABBITMQ_LOG_BASE=os.path.join(self.dir, "log"),
                        RABBITMQ_ENABLED_PLUGINS_FILE=plugins,
                        RABBITMQ_PID_FILE=os.path.join(self.dir, "pid"))
        self.sudo = [] if os.geteuid() == 0 else ["sudo", "-E"]
        self.uri = "amqp://guest:guest@127.0.0.1:{}/".format(self.port)
        self.log = open(os.path.join(self.dir, "server.out"), "w")
        self.proc = subprocess.Popen([*self.sudo, "rabbitmq-server"], env=self.env,
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        wait_for(lambda: self.ctl("status", check=False).returncode == 0, 90, interval=0.5,
                 what="the chaos broker node to start")
        self.wait_accepting()

    def ctl(self, *args, check=True):
        out = subprocess.run([*self.sudo, "rabbitmqctl", "-q", "-n", self.node, *args],
                             env=self.env, capture_output=True, text=True, timeout=120)
        if check:
            assert out.returncode == 0, "rabbitmqctl {}: {}{}".format(args, out.stdout, out.stderr)
        return out

    def wait_accepting(self):
        import pika

        def login():
            try:
                pika.BlockingConnection(pika.URLParameters(self.uri)).close()
                return True
            except pika.exceptions.AMQPError:
                return False

        wait_for(login, 60, interval=0.2, what="the chaos broker to accept AMQP logins")

    def stop_app(self):
        self.ctl("stop_app")

    def start_app(self):
        self.ctl("start_app")

    def shutdown(self):
        self.ctl("stop", check=False)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def chaos():
    b = ChaosBroker()
    yield b
    b.shutdown()


@pytest.fixture(scope="module")
def chaos_peer(chaos, tmp_path_factory):
    """The nameko-like peer serving CHAOS_SVC on the chaos node; it reconnects as nameko does."""
    p = Peer([CHAOS_SVC], tmp_path_factory.mktemp("chaos-peer"), amqp_uri=chaos.uri)
    yield p
    p.stop()


class Relay(threading.Thread):
    """A TCP relay in front of a broker port. pass: bytes flow. freeze: nothing flows any more,
    sockets stay open (a frozen broker, a cut cable). refuse: every connection is dropped and new
    ones are closed at once (a broker that is down). hold: like freeze, but the connections carry on
    when the mode is pass again (a broker slow to answer). partition(): the connections open now go
    silent for good, both ends kept open (a network partition: the broker sees no close), while
    new ones flow."""

    def __init__(self, target_port):
        super().__init__(daemon=True)
        self.target_port = target_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.mode = "pass"
        self.peers = {}  # socket -> the socket it relays to
        self.partitioned = []  # sockets kept open, never relayed again
        self.stopping = False
        self.lock = threading.Lock()
        self.start()

    def uri(self):
        return broker_uri_via(self.port)

    def _drop_all(self):
        for s in list(self.peers):
            s.close()
        self.peers.clear()

    def partition(self):
        with self.lock:
            self.partitioned += list(self.peers)
            self.peers.clear()

    def set_mode(self, mode):
        with self.lock:
            if mode in ("pass", "refuse") and self.mode not in ("pass", "hold"):
                self._drop_all()  # frozen or refused connections do not come back to life
            if mode == "refuse":
                self._drop_all()
            self.mode = mode

    def run(self):
        while not self.stopping:
            with self.lock:
                watched = [self.listener] + (list(self.peers) if self.mode == "pass" else [])
            readable, _, _ = select.select(watched, [], [], 0.02)
            with self.lock:
                for s in readable:
                    if s is self.listener:
                        client, _ = self.listener.accept()
                        if self.mode == "refuse":
                            client.close()
                            continue
                        try:
                            upstream = socket.create_connection(("127.0.0.1", self.target_port))
                        except OSError:
                            client.close()
                            continue
                        self.peers[client] = upstream
                        self.peers[upstream] = client
                    elif s in self.peers and self.mode == "pass":
                        try:
                            data = s.recv(65536)
                        except OSError:
                            data = b""
                        other = self.peers[s]
                        if not data:
                            del self.peers[s], self.peers[other]
                            s.close()
                            other.close()
                        else:
                            other.sendall(data)

    def close(self):
        self.stopping = True
        self.join(5)
        self.listener.close()
        self._drop_all()
        for s in self.partitioned:
            s.close()


class Load:
    """threads clients, each sending GET path on a new connection again and again, recording
    (start, end, status, Retry-After, error) for every request until stop()."""

    def __init__(self, port, path, threads=6, timeout=30):
        self.port, self.path, self.timeout = port, path, timeout
        self.results = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True)
                        for i in range(threads)]
        for t in self.threads:
            t.start()

    def run(self, index):
        n = 0
        while not self.stopping.is_set():
            n += 1
            start = time.monotonic()
            try:
                resp = http_request(self.port, "GET", "{}?c={}&n={}".format(self.path, index, n),
                                    timeout=self.timeout)
                item = (start, time.monotonic(), resp.status, resp.header("Retry-After"), None)
            except Exception as exc:  # a request without an answer: the test fails on it
                item = (start, time.monotonic(), None, None, repr(exc))
            with self.lock:
                self.results.append(item)
            if item[2] == 503:
                time.sleep(0.01)  # refused fast while the broker is away: do not spin

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(self.timeout + 5)
        return list(self.results)


def metric(gw, name):
    text = gw.get("/metrics").body.decode()
    m = re.search(r"^{}(?:\{{[^}}]*\}})? (\S+)$".format(re.escape(name)), text, re.M)
    return float(m.group(1)) if m else None


def chaos_gateway(enoki, uri, heartbeat=None, exchange=EXCHANGE, svc=CHAOS_SVC, extra=None,
                  ready_path="/echo"):
    """enoki (the fixture: stopped and checked after the test, even a failed one) with /echo
    (deadline 2 s) and /slow (30 s) on svc, its generic route open to svc. Returned once a GET of
    ready_path is answered by the service (at once when ready_path is None)."""
    routes = [route("/echo", svc + ".echo", timeout=2),
              route("/slow", svc + ".slow", timeout=30)]
    gateway = {"name": "gw{}r{}".format(SESSION, uuid.uuid4().hex[:4]), "expose": [svc + ".*"],
               "channels": ["**"]}
    gateway.update(extra or {})
    text = config_text(routes, port="@PORT@", gateway=gateway, amqp_uri=uri, exchange=exchange)
    if heartbeat is not None:
        text = "HEARTBEAT: {}\n".format(heartbeat) + text
    gw = enoki(text=text, ready_path=ready_path)
    gw.name = gateway["name"]
    return gw


# --- 1. broker loss ----------------------------------------------------------------------------------------


def test_broker_restart_under_load(chaos, chaos_peer, tmp_path, enoki):
    """stop_app under load: the call in flight fails at once with 503, new calls get 503 +
    Retry-After at once, /readyz turns 503; after start_app service resumes by itself. Every one of
    the requests got 200, 503 or 504, within its deadline plus a small margin."""
    gw = chaos_gateway(enoki, chaos.uri)
    load = Load(gw.port, "/echo")
    wait_for(lambda: sum(1 for r in load.results if r[2] == 200) >= 20, 10 * SCALE,
             what="the load's first answers")
    in_flight = Background(lambda: gw.get("/slow?seconds=20&value=x"))
    time.sleep(0.3)

    chaos.stop_app()
    stopped_at = time.monotonic()
    resp = in_flight.result()
    error_body(resp, 503, "broker_unavailable")
    # It ended when the connection went (stop_app itself takes seconds under load), not when the
    # service (20 s) or its deadline (30 s) would have.
    assert resp.elapsed < 15, resp

    resp = gw.get("/echo")
    error_body(resp, 503, "broker_unavailable")
    assert (resp.header("Retry-After") or "").isdigit(), resp.headers
    assert resp.elapsed < 0.5 * SCALE, resp
    assert gw.get("/readyz").status == 503
    assert gw.get("/healthz").status == 200
    time.sleep(1.5)

    chaos.start_app()
    started_at = time.monotonic()
    wait_for(lambda: gw.get("/echo").status == 200, 15 * SCALE, interval=0.1,
             what="calls to succeed again after start_app")
    resumed_after = time.monotonic() - started_at
    assert gw.get("/readyz").status == 200
    time.sleep(0.5)
    results = load.stop()

    errors = [r for r in results if r[4] is not None]
    assert not errors, "requests without an answer: {}".format(errors[:5])
    statuses = {r[2] for r in results}
    assert statuses <= {200, 503, 504}, statuses
    slowest = max(r[1] - r[0] for r in results)
    assert slowest <= 2 + 1.0 * SCALE, "a request took {:.2f}s (deadline 2 s)".format(slowest)
    refused = [r for r in results if r[2] == 503]
    assert refused, "no request met the outage"
    assert all((r[3] or "").isdigit() for r in refused), "a 503 without Retry-After"
    assert any(r[2] == 200 and r[0] > stopped_at for r in results), "service did not resume"
    assert resumed_after < 12 * SCALE, resumed_after
    assert metric(gw, "enoki_broker_reconnects_total") >= 1
    gw.stop()


def test_websockets_stay_connected_and_subscribed_across_a_restart(chaos, chaos_peer, tmp_path, enoki):
    """The hub's sockets outlive the broker connection; after the reconnect their event
    subscriptions are bound again and calls work again."""
    import pika

    gw = chaos_gateway(enoki, chaos.uri)
    ws = WSClient(gw.port, timeout=5 * SCALE)
    channel = "{}.happened".format(CHAOS_SVC)
    ws.request("subscribe", {"channel": channel}, 1)
    assert ws.recv_json()["success"] is True, ws.last_raw
    assert ws.call(CHAOS_SVC + ".echo", {"a": 1}, 2)["data"] == {"args": [],
                                                                           "kwargs": {"a": 1}}
    chaos.stop_app()
    got = ws.call(CHAOS_SVC + ".echo", {"a": 2}, 3)
    assert got["success"] is False and got["error"]["exc_type"] == "BrokerUnavailable", got
    chaos.start_app()
    wait_for(lambda: gw.get("/readyz").status == 200, 15 * SCALE, interval=0.1,
             what="enoki to reconnect")

    def event_arrives():
        # The binding is made again right after the reconnect; publish until it routes.
        conn = pika.BlockingConnection(pika.URLParameters(chaos.uri))
        try:
            ch = conn.channel()
            ch.confirm_delivery()
            try:
                ch.basic_publish(CHAOS_SVC + ".events", "happened", b'{"n": 1}',
                                 pika.BasicProperties(content_type="application/json",
                                                      content_encoding="utf-8", delivery_mode=2,
                                                      headers={}), mandatory=True)
            except pika.exceptions.UnroutableError:
                return False
            return True
        finally:
            conn.close()

    wait_for(event_arrives, 5 * SCALE, interval=0.1, what="the event binding to be restored")
    frame = ws.recv_json()
    assert frame == {"type": "event", "event": "happened", "data": {"n": 1},
                     "channel": channel}, ws.last_raw
    got = ws.call(CHAOS_SVC + ".echo", {"a": 3}, 4)
    assert got.get("success") is True and got["data"]["kwargs"] == {"a": 3}, got
    assert ws.call("get_subscriptions", None, 5)["data"] == [channel]
    ws.close()
    gw.stop()


def test_a_partition_does_not_lock_enoki_out_of_its_own_queues(peer, tmp_path, enoki):
    """A partition: enoki gives the connection up as silent, and the broker, which saw no close,
    keeps it (and its exclusive queues: the hub's, amphora's reply queue) until its own heartbeat
    check. The reconnect declares them under new names, so it is not refused (405
    RESOURCE_LOCKED) meanwhile."""
    relay = Relay(broker_port())
    try:
        gw = chaos_gateway(enoki, relay.uri(), heartbeat=2, svc=SVC,
                           extra={"services": {"amph_" + SESSION: {"protocol": "amphora"}}})
        assert gw.get("/echo").status == 200
        relay.partition()
        wait_for(lambda: "lost the broker connection" in gw.stderr_text(), 10 * SCALE,
                 what="the silence noticed")
        wait_for(lambda: gw.get("/echo").status == 200, 10 * SCALE, interval=0.2,
                 what="calls through a new connection")
        assert "RESOURCE_LOCKED" not in gw.stderr_text(), gw.stderr_text()[-2000:]
    finally:
        relay.close()


def test_a_silent_broker_is_noticed_within_a_heartbeat(peer, tmp_path, enoki):
    """The relay stops passing bytes without closing anything: enoki must notice from the missing
    heartbeats (HEARTBEAT 2 s), fail the call in flight with 503 and connect again. Idle but alive,
    it keeps the connection."""
    relay = Relay(broker_port())
    try:
        gw = chaos_gateway(enoki, relay.uri(), heartbeat=2, svc=SVC)
        # An idle connection that the broker keeps alive with its heartbeats is not "silent"; and
        # enoki's own heartbeats keep the broker from closing it (it does after two missed).
        time.sleep(7)
        assert "no heartbeat" not in gw.stderr_text() and "lost the broker" not in gw.stderr_text()
        assert gw.get("/echo").status == 200
        call = Background(lambda: gw.get("/slow?seconds=20&value=x"))
        time.sleep(0.5)
        relay.set_mode("freeze")
        frozen_at = time.monotonic()
        resp = call.result()
        noticed_after = time.monotonic() - frozen_at
        error_body(resp, 503, "broker_unavailable")
        # Silence longer than 2 s, looked for every 250 ms (core/broker.c).
        assert noticed_after <= 2.25 + 0.5 * SCALE, noticed_after
        assert "no heartbeat from the broker" in gw.stderr_text()
        assert gw.get("/readyz").status == 503
        relay.set_mode("pass")
        wait_for(lambda: gw.get("/echo").status == 200, 15 * SCALE, interval=0.1,
                 what="calls to succeed after the broker speaks again")
        gw.stop()
    finally:
        relay.close()


def test_the_uris_heartbeat_wins_over_heartbeat(peer, tmp_path, enoki):
    """AMQP_URI's ?heartbeat=2 is the heartbeat asked for, over HEARTBEAT (60), as kombu has it:
    a frozen broker is noticed within about 2 s."""
    relay = Relay(broker_port())
    try:
        gw = chaos_gateway(enoki, relay.uri() + "?heartbeat=2", heartbeat=60, svc=SVC)
        assert gw.get("/echo").status == 200
        relay.set_mode("freeze")
        wait_for(lambda: "no heartbeat from the broker for" in gw.stderr_text(), 6 * SCALE,
                 what="the silence noticed by the URI's heartbeat")
        gw.stop()
    finally:
        relay.close()


# --- start-up: enoki listens before it has reached the broker -------------------------------------------


def test_calls_made_while_enoki_first_connects_wait_for_the_connection(peer, spy, tmp_path, enoki):
    """A client that arrives while enoki's first connection is being made (a browser reconnecting
    to a restarted enoki) is served once it is up, not refused with BrokerUnavailable: a REST call,
    a websocket call and a subscription all wait for it, unsent, and then go through, each with
    what is left of its deadline as its expiration."""
    seen = spy(SVC + ".slow")
    relay = Relay(broker_port())
    relay.set_mode("hold")
    try:
        gw = chaos_gateway(enoki, relay.uri(), svc=SVC, ready_path=None)
        assert gw.get("/healthz").status == 200
        assert gw.get("/readyz").status == 503
        rest = Background(lambda: gw.get("/slow?seconds=0&value=early"))  # deadline 30 s
        # The socket's "connected" event waits too: its id is told once it is reachable.
        ws = WSClient(gw.port, timeout=10 * SCALE, read_connected=False)
        ws.request("subscribe", {"channel": SVC + ".early"}, 1)
        ws.request(SVC + ".echo", {"early": True}, 2)
        time.sleep(0.5)
        assert rest.is_alive(), "answered before enoki reached the broker: {}".format(rest.value)
        assert gw.get("/readyz").status == 503
        assert "connected to" not in gw.stderr_text()
        relay.set_mode("pass")
        resp = rest.result(10)
        assert resp.status == 200, (resp.status, resp.body)
        assert b"early" in resp.body, resp.body
        # Held 0.5 s or more of its 30 s: the broker is told what is left, not the whole 30 s.
        expiration = int(seen.get().props.expiration)
        assert 20000 <= expiration <= 29500 + 50, expiration
        connected = ws.recv_json()
        assert connected["type"] == "event" and connected["event"] == "connected", connected
        frames = {f["correlation_id"]: f for f in (ws.recv_json(), ws.recv_json())}
        assert frames[1]["success"] is True, frames
        assert frames[2]["success"] is True, frames
        assert frames[2]["data"] == {"args": [], "kwargs": {"early": True}}, frames
        assert ws.call("get_subscriptions", None, 3)["data"] == [SVC + ".early"]
        ws.close()
        gw.stop()
    finally:
        relay.close()


def test_a_call_still_waiting_for_the_first_connection_at_its_deadline_is_503(peer, tmp_path, enoki):
    """A call that was never sent because the broker was not reached in time is the broker's fault,
    not the service's: 503 broker_unavailable at its deadline (not 504), and it is not sent later."""
    relay = Relay(broker_port())
    relay.set_mode("hold")
    try:
        gw = chaos_gateway(enoki, relay.uri(), svc=SVC, ready_path=None)
        start = time.monotonic()
        resp = gw.get("/echo?value=late")
        took = time.monotonic() - start
        error_body(resp, 503, "broker_unavailable")
        assert 2 - 0.1 <= took <= 2 + 1 * SCALE, took
        relay.set_mode("pass")
        wait_for(lambda: gw.get("/readyz").status == 200, 10 * SCALE, interval=0.05,
                 what="enoki to connect")
        assert gw.get("/echo?value=after").status == 200
        gw.stop()
    finally:
        relay.close()


def test_a_broker_down_at_start_fails_calls_at_once(tmp_path, enoki):
    """Once the first attempt has failed, calls are refused at once (503 + Retry-After), as in any
    other outage, and /healthz stays 200 while /readyz is 503."""
    relay = Relay(broker_port())
    relay.set_mode("refuse")
    try:
        gw = chaos_gateway(enoki, relay.uri(), svc=SVC, ready_path=None)
        wait_for(lambda: "cannot reach the broker" in gw.stderr_text(), 10 * SCALE,
                 what="the first attempt to fail")
        start = time.monotonic()
        resp = gw.get("/echo")
        assert time.monotonic() - start < 0.5 * SCALE
        error_body(resp, 503, "broker_unavailable")
        assert resp.header("Retry-After")
        assert gw.get("/healthz").status == 200
        assert gw.get("/readyz").status == 503
        gw.stop()
    finally:
        relay.close()


def broker_uri_via(port):
    """AMQP_URI with its host and port replaced by a relay's on 127.0.0.1."""
    return re.sub(r"@([^:/]+)(:\d+)?", "@127.0.0.1:{}".format(port), AMQP_URI, count=1)


def broker_port():
    m = re.search(r"@[^:/]+:(\d+)", AMQP_URI)
    return int(m.group(1)) if m else 5672


def reply_queue_of(gw, spy, path="/echo"):
    seen = spy(SVC + ".*")
    assert gw.get(path).status == 200
    return "rpc.reply-{}-{}".format(gw.name, seen.get().props.reply_to)


def test_reply_queue_expired_while_disconnected(peer, broker, spy, tmp_path, enoki):
    """The connection drops with a call in flight (503 at once); while enoki cannot reconnect its
    reply queue vanishes (as x-expires does to a queue nobody consumes). On reconnect enoki looks
    for it passively, says it was gone, declares it again, and calls work."""
    relay = Relay(broker_port())
    try:
        gw = chaos_gateway(enoki, relay.uri(), svc=SVC)
        queue = reply_queue_of(gw, spy)
        call = Background(lambda: gw.get("/slow?seconds=20&value=x"))
        time.sleep(0.3)
        relay.set_mode("refuse")
        resp = call.result()
        error_body(resp, 503, "broker_unavailable")
        assert resp.elapsed < 1.0 * SCALE + 0.3, resp
        wait_for(lambda: broker.queue_exists(queue) and broker.try_on_fresh_channel(
            lambda ch: ch.queue_delete(queue)) is None and not broker.queue_exists(queue),
            5, what="the reply queue to be deleted")
        assert gw.get("/readyz").status == 503
        relay.set_mode("pass")
        wait_for(lambda: gw.get("/echo").status == 200, 15 * SCALE, interval=0.1,
                 what="calls to succeed after the reconnect")
        assert "had expired while disconnected" in gw.stderr_text(), gw.stderr_text()[-2000:]
        assert broker.queue_exists(queue)
        gw.stop()
    finally:
        relay.close()


def test_reply_queue_deleted_under_enoki_fails_its_calls(peer, broker, spy, tmp_path, enoki):
    """An operator deletes the reply queue while a call waits on it: the broker cancels the
    consumer, enoki fails the call with 503 at once (not at its 30 s deadline), reconnects and
    declares the queue again."""
    gw = chaos_gateway(enoki, AMQP_URI, svc=SVC)
    queue = reply_queue_of(gw, spy)
    call = Background(lambda: gw.get("/slow?seconds=20&value=x"))
    time.sleep(0.3)
    assert broker.try_on_fresh_channel(lambda ch: ch.queue_delete(queue)) is None
    resp = call.result()
    error_body(resp, 503, "broker_unavailable")
    assert resp.elapsed < 2 * SCALE, resp
    assert "cancelled the reply consumer" in gw.stderr_text()
    wait_for(lambda: gw.get("/echo").status == 200, 15 * SCALE, interval=0.1,
             what="calls to succeed again")
    assert broker.queue_exists(queue)
    gw.stop()


# --- 2. dead or slow services ------------------------------------------------------------------------------


def test_service_killed_mid_call(broker, tmp_path, enoki):
    """The service process dies holding the request: the call ends at its deadline (504); the
    request goes back to the queue, but its expiration has passed, so the service that starts next
    never runs it; calls work again."""
    broker.track_queue("rpc-" + KILL_SVC)
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    first = Peer([KILL_SVC], tmp_path / "first")
    try:
        gw = chaos_gateway(enoki, AMQP_URI, svc=KILL_SVC, extra={"rpc_timeout": 2})
        token = uuid.uuid4().hex
        call = Background(lambda: http_request(
            gw.port, "POST", "/rpc/{}/record_slow".format(KILL_SVC),
            json_body={"kwargs": {"token": token, "seconds": 10}}))
        time.sleep(0.5)
    finally:
        first.kill()
    resp = call.result()
    error_body(resp, 504, "timeout")
    assert 1.9 <= resp.elapsed <= 2 + 0.5 * SCALE, resp
    second = Peer([KILL_SVC], tmp_path / "second")
    try:
        time.sleep(0.5)
        resp = http_request(gw.port, "POST", "/rpc/{}/calls".format(KILL_SVC),
                            json_body={"kwargs": {"token": token}})
        assert resp.status == 200 and resp.json() == 0, "the expired request ran again: {}".format(
            resp)
        assert gw.get("/echo").status == 200
    finally:
        second.stop()
    gw.stop()


@pytest.mark.parametrize("reply,why", [(b"{not json at all", "reply is not JSON"),
                                       # nameko's own client raises on it (KeyError: 'result')
                                       (b'{"error": null}', "reply has no result")])
def test_a_reply_that_is_not_json_is_502_and_logged(gw, fake_service, reply, why):
    def answer(ch, method, props, body):
        import pika

        ch.basic_publish(EXCHANGE, props.reply_to, reply,
                         pika.BasicProperties(content_type="application/json",
                                              content_encoding="utf-8",
                                              correlation_id=props.correlation_id))
        ch.basic_ack(method.delivery_tag)

    fake_service(FAKE, answer)
    resp = gw.get("/fake")
    assert why in error_body(resp, 502, "bad_reply")["message"]
    assert resp.elapsed < 2 * SCALE
    wait_for(lambda: "undecodable reply from {}.answer".format(FAKE) in gw.stderr_text(), 2 * SCALE,
             what="the bad reply to be logged")
    assert gw.get("/echo").status == 200


# --- memory -------------------------------------------------------------------------------------------------



def test_memory_stays_flat(gw):
    """Many thousands of requests, answered and refused, over kept-alive and new connections:
    enoki's resident memory after the warm-up does not grow with them."""
    if not memory_is_measurable():
        pytest.skip("RSS means nothing under valgrind or ASan (they keep freed memory)")
    import http.client

    def client(n):
        conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=30)
        for i in range(n):
            kind = i % 4
            if kind == 0:
                conn.request("GET", "/echo?i={}".format(i))
            elif kind == 1:
                conn.request("POST", "/echo", body=b'{"x": [1, 2, 3], "s": "%d"}' % i,
                             headers={"Content-Type": "application/json"})
            elif kind == 2:
                conn.request("GET", "/no/such/route/{}".format(i))
            else:
                conn.request("GET", "/get/{}".format(i))
            resp = conn.getresponse()
            resp.read()
            assert resp.status in (200, 404), resp.status
            if i % 100 == 99:  # and some new connections
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=30)
        conn.close()

    def round_of(n, threads=4):
        workers = [Background(lambda: client(n // threads)) for _ in range(threads)]
        for w in workers:
            w.result(120)

    round_of(2000)
    before = rss_kb(gw.proc.pid)
    round_of(8000)
    after = rss_kb(gw.proc.pid)
    print("RSS {} -> {} KiB".format(before, after))
    assert after - before < 1024, "RSS grew from {} to {} KiB over 8,000 requests".format(before,
                                                                                        after)
