"""Issue 17: amphora services behind enoki's doors (docs/amphora.md). The service on the other side
is tests/peer/amphora_peer.py, which behaves on the wire as amphora's wire protocol says an amphora
0.1.3 server does; enoki is told which services speak amphora by GATEWAY.services."""

import json
import re
import signal
import subprocess
import time
import uuid

import pytest

from amphorakit import AmphoraPeer
from conftest import (AMQP_URI, ENOKI_BIN, EXCHANGE, GWNAME, SCALE, UUID4, Enoki, Peer,
                      pika_params, wait_for, yaml_value)

TAG = uuid.uuid4().hex[:8]
SM = "amph_" + TAG          # the main amphora service
FAN = "fan_" + TAG          # a fanout one, served by two peers
GHOST = "ghost_" + TAG      # listed as amphora, never served
SW = "sw_" + TAG            # switched between nameko and amphora by SIGHUP

ROUTES = [
    {"rule": "/add/<int:a>/<int:b>", "rpc": SM + ".add"},
    {"rule": "/echo", "rpc": SM + ".echo", "methods": "POST"},
    {"rule": "/email", "rpc": SM + ".send_message.email.text", "methods": "POST"},
    {"rule": "/missing", "rpc": SM + ".nope"},
    {"rule": "/raw", "rpc": SM + ".reply_raw"},
    {"rule": "/twice", "rpc": SM + ".reply_twice"},
    {"rule": "/slow/<int:seconds>", "rpc": SM + ".slow", "timeout": 0.5},
    {"rule": "/ghost", "rpc": GHOST + ".add"},
    {"rule": "/user/<int:user_id>", "rpc": SM + ".echo", "routing_key": "{user_id}"},
    {"rule": "/shard", "rpc": SM + ".echo", "routing_key": "s-{shard}"},
    {"rule": "/alerts/first", "rpc": FAN + ".whoami"},
    {"rule": "/alerts/all", "rpc": FAN + ".whoami", "collect": "all", "timeout": 1.5},
    {"rule": "/alerts/two", "rpc": FAN + ".whoami", "collect": 2, "timeout": 10},
    {"rule": "/alerts/three", "rpc": FAN + ".whoami", "collect": 3, "timeout": 1},
    {"rule": "/sw", "rpc": SW + ".whoami"},
]


def config(port, sw_protocol="nameko", amqp_uri=AMQP_URI, name=GWNAME + "am", sm_fanout=False):
    services = {SM: {"protocol": "amphora", "fanout": sm_fanout}, FAN: {"protocol": "amphora", "fanout": True},
                GHOST: {"protocol": "amphora"}, SW: {"protocol": sw_protocol}}
    lines = ["AMQP_URI: " + yaml_value(amqp_uri),
             "WEB_SERVER_ADDRESS: " + yaml_value("127.0.0.1:{}".format(port)),
             "rpc_exchange: " + yaml_value(EXCHANGE),
             "GATEWAY:",
             "  name: " + yaml_value(name),
             "  services: " + yaml_value(services),
             "  expose: " + yaml_value([SM + ".*"]),
             "  errors: {ValueError: 400}",
             "routes:"]
    lines += ["  - " + yaml_value(r) for r in ROUTES]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def amphora(tmp_path_factory):
    """The peers: SM (with an extra queue for the routing key 7 and s-7, recording requests),
    FAN twice (tags A and B, each on a queue of its own), SW; everything they and enoki declared
    is deleted afterwards."""
    tmp = tmp_path_factory.mktemp("amphora")
    record = tmp / "requests.jsonl"
    peers = [
        AmphoraPeer(tmp, "--service", SM, "--record", str(record), "--tag", "main",
                    "--extra-queue", "user7:7", "--extra-queue", "shard7:s-7"),
        AmphoraPeer(tmp, "--service", FAN, "--fanout", "--no-main-queue", "--extra-queue", "a",
                    "--tag", "A"),
        AmphoraPeer(tmp, "--service", FAN, "--fanout", "--no-main-queue", "--extra-queue", "b",
                    "--tag", "B"),
        AmphoraPeer(tmp, "--service", SW, "--tag", "amphora " + SW),
    ]
    yield {"record": record, "tmp": tmp}
    for p in peers:
        p.stop()
    import pika

    conn = pika.BlockingConnection(pika_params())
    for svc, labels in ((SM, ["user7", "shard7"]), (FAN, ["a", "b"]), (GHOST, []), (SW, [])):
        for q in ["rpc_{}_request".format(svc)] + ["rpc_{}_queue_{}".format(svc, l) for l in labels]:
            conn.channel().queue_delete(q)
        for x in ("rpc_{}_request".format(svc), "rpc_{}_response".format(svc)):
            conn.channel().exchange_delete(x)
    conn.close()


@pytest.fixture(scope="module")
def gw(amphora, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("amphora-gw")
    g = Enoki(tmp, text=config("@PORT@"), ready_path="/add/1/1")
    yield g
    g.stop()


def requests(amphora):
    return [json.loads(line) for line in amphora["record"].read_text().splitlines()]


# --- results, arguments, names ---------------------------------------------------------------------


def test_results_with_keyword_and_positional_arguments(gw):
    r = gw.get("/add/2/3")
    assert r.status == 200 and r.json() == 5, r
    r = gw.post("/rpc/{}/add".format(SM), json_body={"args": [2, 40]})
    assert r.status == 200 and r.json() == 42, r
    r = gw.post("/echo", json_body={"k": [1, "\u00e9"]})
    assert r.status == 200 and r.json() == {"args": [], "kwargs": {"k": [1, "\u00e9"]}}, r
    r = gw.post("/rpc/{}/echo".format(SM), json_body={"args": [1, "\u041f"], "kwargs": {"x": None}})
    assert r.json() == {"args": [1, "\u041f"], "kwargs": {"x": None}}, r
    r = gw.post("/rpc/{}/none".format(SM), json_body={})
    assert r.status == 200 and r.json() is None, r


def test_a_dotted_function_name_is_one_name(gw, connect):
    body = {"to": "root@example.com", "text": "Hi \u041f"}
    r = gw.post("/email", json_body=body)
    assert r.status == 200 and r.json() == {"to": body["to"], "text": body["text"], "kw": {}}, r
    r = gw.post("/rpc/{}/send_message.email.text".format(SM), json_body={"kwargs": body})
    assert r.status == 200 and r.json()["to"] == body["to"], r
    c = connect(gw)
    frame = c.call(SM + ".send_message.email.text", body, "d1")
    assert frame["success"] is True and frame["data"]["text"] == body["text"], frame


def test_the_request_on_the_wire(gw, amphora):
    r = gw.get("/add/20/22")
    assert r.status == 200 and r.json() == 42, r
    req = [q for q in requests(amphora) if json.loads(q["body"]).get("kwargs") == {"a": 20, "b": 22}][-1]
    assert req["exchange"] == "rpc_{}_request".format(SM) and req["routing_key"] == "", req
    assert json.loads(req["body"]) == {"func": "add", "args": [], "kwargs": {"a": 20, "b": 22}}
    props = req["properties"]
    assert re.fullmatch(UUID4, props["message_id"]), props
    # GATEWAY.delivery_mode's default, as for nameko calls (2, as amphora's client, when set).
    assert props["delivery_mode"] == 1, props
    assert re.fullmatch(r"[0-9a-f-]{36}", props["reply_to"]), props
    # The deadline (the default 30 s) as the expiration, so a stale request is dropped.
    assert 25000 <= int(props["expiration"]) <= 30000, props
    for absent in ("headers", "content_type", "correlation_id", "content_encoding", "priority"):
        assert props.get(absent) in (None, {}), (absent, props)


# --- errors ------------------------------------------------------------------------------------------


def test_remote_exceptions_are_shaped_as_nameko_errors(gw, connect):
    r = gw.post("/rpc/{}/raise_custom".format(SM), json_body={"args": ["Boom", "x", -5]})
    assert r.status == 500, r
    body = r.json()
    assert body["error"] == "remote_error", body
    assert (body["exc_type"], body["exc_path"], body["exc_args"], body["value"]) == (
        "Boom", None, ["x", -5], "('x', -5)"), body
    r = gw.post("/rpc/{}/raise_custom".format(SM), json_body={"args": ["Oops", "only one"]})
    assert r.json()["value"] == "only one" and r.json()["exc_args"] == ["only one"], r
    # GATEWAY.errors maps the type, as for nameko's errors.
    r = gw.post("/rpc/{}/fail".format(SM), json_body={"args": ["bad", 1.5, True, None]})
    assert r.status == 400 and r.json()["value"] == "('bad', 1.5, True, None)", r
    c = connect(gw)
    frame = c.call(SM + ".fail", {}, "f")
    assert frame["success"] is False, frame
    assert frame["error"]["exc_type"] == "ValueError" and frame["error"]["value"] == "", frame


def test_wrong_request_is_method_not_found(gw):
    r = gw.get("/missing")
    assert r.status == 502 and r.json()["error"] == "method_not_found", r
    assert r.json()["exc_type"] == "WrongRequest", r
    assert r.json()["exc_args"] == ["No function nope defined"], r
    r = gw.post("/rpc/{}/nope".format(SM), json_body={})
    assert r.status == 404 and r.json()["error"] == "method_not_found", r


@pytest.mark.parametrize("text", ["not json", '{"other": 1}', "[1, 2]",
                                  '{"exception": {"type": 5, "args": []}}',
                                  '{"exception": {"type": "E"}}'])
def test_malformed_replies_are_bad_replies(gw, text):
    r = gw.get("/raw?text=" + __import__("urllib.parse").parse.quote(text))
    assert r.status == 502 and r.json()["error"] == "bad_reply", r


def test_a_duplicate_reply_is_dropped(gw):
    r = gw.get("/twice?value=7")
    assert r.status == 200 and r.json() == "7", r
    assert gw.get("/add/1/2").json() == 3


def test_the_deadline(gw, amphora):
    start = time.monotonic()
    r = gw.get("/slow/3")
    assert r.status == 504, r
    assert time.monotonic() - start < 0.5 + 1 * SCALE
    req = [q for q in requests(amphora) if json.loads(q["body"])["func"] == "slow"][-1]
    assert int(req["properties"]["expiration"]) <= 500, req


def test_an_unserved_service_is_unknown_at_once(gw):
    start = time.monotonic()
    r = gw.get("/ghost?a=1&b=2")
    assert r.status == 503 and r.json()["error"] == "unknown_service", r
    assert time.monotonic() - start < 1 * SCALE


# --- routing keys ------------------------------------------------------------------------------------


def test_routing_keys_from_path_and_query(gw, amphora):
    r = gw.get("/user/7")
    assert r.status == 200 and r.json() == {"args": [], "kwargs": {"user_id": 7}}, r
    req = requests(amphora)[-1]
    assert req["routing_key"] == "7" and req["queue"] == "rpc_{}_queue_user7".format(SM), req
    r = gw.get("/user/8")
    assert r.status == 503 and r.json()["error"] == "unknown_service", r
    r = gw.get("/shard?shard=7")
    assert r.status == 200 and requests(amphora)[-1]["routing_key"] == "s-7", r
    r = gw.get("/shard")
    assert r.status == 400 and "shard" in r.json()["message"], r


# --- fanout ------------------------------------------------------------------------------------------


def test_fanout_first_reply_and_collect(gw):
    r = gw.get("/alerts/first")
    assert r.status == 200 and r.json() in ("A", "B"), r
    start = time.monotonic()
    r = gw.get("/alerts/two")
    assert r.status == 200, r
    assert sorted(r.json()["replies"]) == ["A", "B"] and r.json()["complete"] is True, r
    assert time.monotonic() - start < 2 * SCALE, "collect: 2 waited for its deadline"
    start = time.monotonic()
    r = gw.get("/alerts/all")
    assert time.monotonic() - start >= 1.4, "collect: all answered before its deadline"
    assert sorted(r.json()["replies"]) == ["A", "B"] and r.json()["complete"] is True, r
    r = gw.get("/alerts/three")
    assert r.status == 200, r
    assert sorted(r.json()["replies"]) == ["A", "B"] and r.json()["complete"] is False, r


# --- operations --------------------------------------------------------------------------------------


def test_check_shows_each_routes_protocol(gw):
    out = subprocess.run([ENOKI_BIN, "--config", str(gw.config_path), "--check"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert any("/add/<int:a>/<int:b>" in l and "protocol=amphora" in l for l in lines), out.stdout
    assert any("/alerts/all" in l and "collect=all" in l for l in lines), out.stdout
    assert any("/user/<int:user_id>" in l and "routing_key={user_id}" in l
               for l in lines), out.stdout
    assert any("/sw" in l and "protocol=nameko" in l for l in lines), out.stdout


def test_metrics_and_access_log_count_amphora_calls(gw):
    assert gw.get("/add/1/2").status == 200
    text = gw.get("/metrics").body.decode()
    assert re.search(r'enoki_http_requests_total\{route="/add/<int:a>/<int:b>",status="200"\} [1-9]',
                     text), text[:2000]
    assert '"GET /add/1/2" 200' in gw.stderr_text()


def test_sighup_switches_a_service_between_protocols(amphora, broker, tmp_path):
    broker.track_queue("rpc-" + SW)  # the nameko peer's durable queue
    peer = Peer([SW], tmp_path, exchange=EXCHANGE)
    g = Enoki(tmp_path, text=config("@PORT@", name=GWNAME + "sw"), ready_path="/add/1/1")
    try:
        # nameko's peer has no whoami: MethodNotFound.
        r = g.get("/sw")
        assert r.status == 502 and r.json()["exc_type"] == "MethodNotFound", r
        g.config_path.write_text(config(g.port, sw_protocol="amphora", name=GWNAME + "sw"))
        before = g.stderr_text().count("reloaded ")
        g.send_signal(signal.SIGHUP)
        wait_for(lambda: g.stderr_text().count("reloaded ") > before, 10 * SCALE, what="reload")
        r = g.get("/sw")
        assert r.status == 200 and r.json() == "amphora " + SW, r
    finally:
        g.stop()
        peer.stop()


def test_a_broker_restart_declares_and_binds_again(tls_node, tmp_path):
    """On a node of the test's own: enoki and an amphora peer, the node stopped and started; calls
    succeed again (enoki declared the exchanges and bound its reply queue again)."""
    svc = "rs_" + TAG
    uri = tls_node.amqp_uri()
    peer = AmphoraPeer(tmp_path, "--service", svc, amqp_uri=uri)
    text = ("AMQP_URI: {}\nWEB_SERVER_ADDRESS: \"127.0.0.1:@PORT@\"\nGATEWAY:\n  name: {}\n"
            "  services: {{{}: {{protocol: amphora}}}}\nroutes:\n"
            "  - {{rule: \"/add/<int:a>/<int:b>\", rpc: {}.add, timeout: 2}}\n").format(
                yaml_value(uri), GWNAME + "rs", svc, svc)
    g = Enoki(tmp_path, text=text, ready_path="/add/1/1")
    try:
        assert g.get("/add/1/2").json() == 3
        tls_node.stop()
        r = g.get("/add/1/2")
        assert r.status == 503, r
        tls_node.start()
        wait_for(lambda: g.get("/add/2/2").status == 200, 30 * SCALE, interval=0.2,
                 what="calls after the restart")
        assert g.get("/add/2/3").json() == 5
    finally:
        g.stop()
        peer.stop()


def test_an_exchange_declared_otherwise_is_a_clear_503(amphora, tmp_path):
    """SM's request exchange is a direct one; a gateway that says SM is a fanout service gets the
    broker's 406 for its declaration: the call ends 503 naming it, the connection goes on. Each
    failed call is counted out of the calls in flight: with GATEWAY.max_in_flight 2, two calls that
    waited for a declaration and failed (one per second: a failure is held that long) used to fill
    the table for good (503 too_busy to every call after them)."""
    text = config("@PORT@", name=GWNAME + "mis", sm_fanout=True).replace(
        "GATEWAY:\n", "GATEWAY:\n  max_in_flight: 2\n")
    g = Enoki(tmp_path, text=text, ready_path="/alerts/first")
    try:
        for attempt in range(2):
            if attempt:
                time.sleep(1.1)  # past the hold: the next call declares again, and waits for it
            r = g.get("/add/1/2")
            assert r.status == 503 and r.json()["error"] == "broker_unavailable", r
            assert "PRECONDITION_FAILED" in r.json()["message"], r
            assert "rpc_{}_request".format(SM) in r.json()["message"], r
        # The rest goes on: the fanout service answers.
        assert g.get("/alerts/first").status == 200
        metrics = g.get("/metrics").body.decode()
        assert re.search(r"^enoki_rpc_in_flight 0$", metrics, re.M), metrics
    finally:
        g.stop()


def test_an_exchange_made_otherwise_since_fails_its_service_not_the_reconnect(peer, broker, enoki):
    """A service's exchanges, declared on its first call, were declared again in the connection's
    own set-up after each reconnect, with the type they first had. Its owner makes the request
    exchange a fanout one meanwhile (amphora's fanout server): every reconnect then failed (406),
    for good, and every call to every service with it. Now the reconnect succeeds, nameko calls
    answer, and only that service's calls fail, with the broker's reason."""
    from conftest import SVC
    from test_resilience import Relay, broker_port, chaos_gateway
    svc = "turned_" + TAG
    relay = Relay(broker_port())
    try:
        gw = chaos_gateway(enoki, relay.uri(), svc=SVC,
                           extra={"services": {svc: {"protocol": "amphora"}},
                                  "expose": [SVC + ".*", svc + ".*"]})
        broker.exchanges.update({"rpc_{}_request".format(svc), "rpc_{}_response".format(svc)})
        r = gw.post("/rpc/{}/add".format(svc), json_body={})  # declared as a direct service
        assert r.status == 503 and r.json()["error"] == "unknown_service", r
        ch = broker.connection.channel()
        ch.exchange_delete("rpc_{}_request".format(svc))
        ch.exchange_declare("rpc_{}_request".format(svc), "fanout", durable=True)
        ch.close()
        relay.set_mode("refuse")
        wait_for(lambda: gw.get("/echo").status == 503, 10 * SCALE, what="the connection's loss")
        relay.set_mode("pass")
        wait_for(lambda: gw.get("/echo").status == 200, 10 * SCALE, interval=0.2,
                 what="nameko calls after the reconnect")
        assert gw.get("/readyz").status == 200
        r = gw.post("/rpc/{}/add".format(svc), json_body={})
        assert r.status == 503 and "PRECONDITION_FAILED" in r.json()["message"], r
        assert gw.get("/echo").status == 200
    finally:
        relay.close()
