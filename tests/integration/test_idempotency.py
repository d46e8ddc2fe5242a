"""Issue 19, point 2: idempotent retries. A POST/PUT/PATCH/DELETE with an Idempotency-Key on a
route that honours it is called at most once per (key, route, caller) within
GATEWAY.idempotency_ttl: a duplicate sent while the first is in flight waits and gets the same
response, a later one gets the kept response with Idempotent-Replayed: true, the same key with
another request gets 422; malformed keys get 400; the bounds and SIGHUP behave as
docs/idempotency.md says. The peer counts its calls (record, record_slow; calls reads the count)."""

import json
import shutil
import signal
import socket
import subprocess
import time
import uuid

import jwt
import pytest

import authkit as ak
from conftest import (GWNAME, SCALE, SVC, Background, Enoki, config_text, openapi_validator,
                      wait_for)

# The slow calls' length: long enough that the requests sent after the first find it in flight.
SLOW = 1.5 * SCALE

ROUTES = [
    {"rule": "/rec", "rpc": SVC + ".record", "methods": "POST,PUT,PATCH,DELETE"},
    {"rule": "/slow", "rpc": SVC + ".record_slow", "methods": "POST", "timeout": 30},
    {"rule": "/echo", "rpc": SVC + ".echo", "methods": "GET,POST"},
    {"rule": "/off", "rpc": SVC + ".record", "methods": "POST", "idempotency": False},
    {"rule": "/calls", "rpc": SVC + ".calls", "methods": "GET"},
    {"rule": "/t3", "rpc": SVC + ".tuple3", "methods": "POST", "mode": "http"},
    {"rule": "/ghost", "rpc": "ghost_" + GWNAME + ".record", "methods": "POST"},  # no service
]


def gateway_conf(**over):
    conf = {
        "name": GWNAME + "idem",
        "idempotency": True,
        "idempotency_max_body": 1024,
        "compress_min": 100,
        "openapi_path": "/openapi.json",
        "expose": [SVC + ".record"],
        "auth": {"default": "optional",
                 "jwt": {"algorithms": ["HS256"], "secret": ak.SECRET, "issuer": ak.ISSUER,
                         "audience": ak.AUDIENCE}},
    }
    conf.update(over)
    return conf


@pytest.fixture(scope="module")
def igw(tmp_path_factory, broker, peer):
    tmp = tmp_path_factory.mktemp("idem")
    g = Enoki(tmp, routes=ROUTES, gateway=gateway_conf(), name="idem.yaml", ready_path="/calls")
    yield g
    g.stop()


def fresh():
    return uuid.uuid4().hex


def calls(g, token):
    r = g.get("/calls?token=" + token)
    assert r.status == 200, r
    return r.json()


def post(g, path, body, key=None, headers=None, method="POST"):
    h = dict(headers or {})
    if key is not None:
        h["Idempotency-Key"] = key
    return g.request(method, path, json_body=body, headers=h)


def same_answer(a, b):
    """Status, body and the headers the service's answer carries are the same."""
    assert a.status == b.status, (a, b)
    assert a.body == b.body, (a, b)
    for name in ("Content-Type", "X-Call-Id", "X-Foo"):
        assert a.header(name) == b.header(name), name


def token_of(sub):
    return jwt.encode(ak.claims(sub=sub), ak.SECRET, algorithm="HS256")


# --- the contract ------------------------------------------------------------------------------


def test_replay_after_completion(igw):
    t = fresh()
    first = post(igw, "/rec", {"token": t}, key='"' + t + '"')
    assert first.status == 200 and first.json() == 1, first
    assert first.header("Idempotent-Replayed") is None
    assert first.header("X-Call-Id")
    again = post(igw, "/rec", {"token": t}, key='"' + t + '"')
    same_answer(first, again)
    assert again.header("Idempotent-Replayed") == "true"
    # The bare form of the same key is the same key.
    bare = post(igw, "/rec", {"token": t}, key=t)
    same_answer(first, bare)
    assert calls(igw, t) == 1


def test_concurrent_duplicates_make_one_call(igw):
    t = fresh()
    body = {"token": t, "seconds": SLOW}
    lead = Background(lambda: post(igw, "/slow", body, key=t))
    time.sleep(0.3 * SCALE)
    dups = [Background(lambda: post(igw, "/slow", body, key=t)) for _ in range(3)]
    a = lead.result()
    others = [d.result() for d in dups]
    assert a.status == 200 and a.json() == 1, a
    for b in others:
        same_answer(a, b)
        assert b.header("Idempotent-Replayed") == "true"
    assert a.header("Idempotent-Replayed") is None
    assert calls(igw, t) == 1


def test_other_body_query_or_method_is_422(igw):
    t = fresh()
    assert post(igw, "/rec", {"token": t}, key=t).status == 200
    for path, body, method in (("/rec", {"token": t, "x": 1}, "POST"),
                               ("/rec?x=1", {"token": t}, "POST")):
        r = post(igw, path, body, key=t, method=method)
        assert r.status == 422, r
        assert r.json()["error"] == "idempotency_key_reused", r
        assert "another request" in r.json()["message"]
    # Another method is another route: its own namespace.
    r = post(igw, "/rec", {"token": t}, key=t, method="PUT")
    assert r.status == 200 and r.header("Idempotent-Replayed") is None, r
    assert calls(igw, t) == 2


def test_a_mismatch_while_in_flight_is_422(igw):
    t = fresh()
    lead = Background(lambda: post(igw, "/slow", {"token": t, "seconds": SLOW}, key=t))
    time.sleep(0.3 * SCALE)
    r = post(igw, "/slow", {"token": t, "seconds": 2 * SLOW}, key=t)
    assert r.status == 422, r
    assert lead.result().status == 200
    assert calls(igw, t) == 1


def test_callers_have_their_own_keys(igw):
    t = fresh()
    alice = {"Authorization": "Bearer " + token_of("alice")}
    alice2 = {"Authorization": "Bearer " + token_of("alice")}  # another token, the same subject
    bob = {"Authorization": "Bearer " + token_of("bob")}
    assert post(igw, "/rec", {"token": t}, key=t, headers=alice).json() == 1
    r = post(igw, "/rec", {"token": t}, key=t, headers=alice2)
    assert r.json() == 1 and r.header("Idempotent-Replayed") == "true", r
    assert post(igw, "/rec", {"token": t}, key=t, headers=bob).json() == 2
    assert post(igw, "/rec", {"token": t}, key=t).json() == 3  # anonymous
    r = post(igw, "/rec", {"token": t}, key=t)
    assert r.json() == 3 and r.header("Idempotent-Replayed") == "true", r
    assert calls(igw, t) == 3
    # Subjects that are numbers (some issuers send them) are callers of their own too: they were all
    # one caller, with the tokens without sub.
    for n, sub in enumerate([1001, 2002, "1001"]):
        headers = {"Authorization": "Bearer " + token_of(sub)}
        assert post(igw, "/rec", {"token": t}, key=t, headers=headers).json() == 4 + n, sub
    assert calls(igw, t) == 6


def test_get_and_routes_without_it_ignore_the_header(igw):
    t = fresh()
    for _ in range(2):
        r = igw.get("/calls?token=" + t, headers={"Idempotency-Key": "not a key!"})
        assert r.status == 200 and r.header("Idempotent-Replayed") is None, r
    for n in (1, 2):
        r = post(igw, "/off", {"token": t}, key=t)
        assert r.status == 200 and r.json() == n, r
    # Without the header: called each time.
    assert post(igw, "/rec", {"token": t}).json() == 3
    assert post(igw, "/rec", {"token": t}).json() == 4


@pytest.mark.parametrize("key,message", [
    ("", "is empty"),
    ('""', "is empty"),
    ("a b", "holds ' '"),
    ('"abc', "no closing quote"),
    ('"abc";x=1', "parameters"),
    ("k" * 256, "longer than 255 bytes"),
])
def test_malformed_keys_are_400(igw, key, message):
    t = fresh()
    r = post(igw, "/rec", {"token": t}, key=key)
    assert r.status == 400, r
    assert r.json()["error"] == "bad_request" and message in r.json()["message"], r
    assert calls(igw, t) == 0


def raw(port, data, read=True, timeout=None):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout or 10 * SCALE)
    s.sendall(data)
    if not read:
        return s
    got = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    s.close()
    return got


def request_bytes(path, body, keys, close=True):
    head = "POST {} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n".format(path)
    for k in keys:
        head += "Idempotency-Key: {}\r\n".format(k)
    if close:
        head += "Connection: close\r\n"
    return (head + "Content-Length: {}\r\n\r\n".format(len(body))).encode() + body


def test_the_key_twice_is_400(igw):
    t = fresh()
    got = raw(igw.port, request_bytes("/rec", ('{"token": "%s"}' % t).encode(), ["a", "b"]))
    assert got.startswith(b"HTTP/1.1 400"), got
    assert b"sent more than once" in got
    assert calls(igw, t) == 0


def test_mode_http_routes_answer_in_text(igw):
    r = post(igw, "/t3", {}, key='"unterminated')
    assert r.status == 400 and r.media_type == "text/plain", r
    assert r.body.startswith(b"Error: GatewayError: the Idempotency-Key"), r
    k = fresh()
    first = post(igw, "/t3", {}, key=k)
    assert first.status == 202 and first.header("X-Foo") == "bar", first
    again = post(igw, "/t3", {}, key=k)
    same_answer(first, again)
    assert again.header("Idempotent-Replayed") == "true"
    r = post(igw, "/t3", {"other": 1}, key=k)
    assert r.status == 422 and r.body.startswith(b"Error: GatewayError: "), r


def test_generic_route(igw):
    t = fresh()
    path = "/rpc/{}/record".format(SVC)
    body = {"kwargs": {"token": t}}
    assert post(igw, path, body, key=t).json() == 1
    r = post(igw, path, body, key=t)
    assert r.json() == 1 and r.header("Idempotent-Replayed") == "true", r
    assert calls(igw, t) == 1


def test_a_call_the_broker_gave_back_is_not_kept(igw):
    """No service runs a call the broker returned (no queue is bound: 503 unknown_service, with
    Retry-After): a retry with the same key calls again, as the Retry-After invites, instead of
    being replayed that 503 for the key's whole life."""
    t = fresh()
    first = post(igw, "/ghost", {"token": t}, key=t)
    assert first.status == 503 and first.json()["error"] == "unknown_service", first
    again = post(igw, "/ghost", {"token": t}, key=t)
    assert again.status == 503 and again.header("Idempotent-Replayed") is None, again
    assert again.header("X-Call-Id") != first.header("X-Call-Id"), (first, again)


def test_large_responses_are_not_kept_and_not_called_again(igw):
    k = fresh()
    big = {"x": "y" * 2000}
    first = post(igw, "/echo", big, key=k)
    assert first.status == 200 and len(first.body) > 1024, first
    r = post(igw, "/echo", big, key=k)
    assert r.status == 409 and r.json()["error"] == "idempotent_response_not_kept", r
    assert "idempotency_max_body" in r.json()["message"]
    # Replays are compressed per their own request, from the uncompressed kept response.
    k = fresh()
    mid = {"x": "z" * 900}
    plain = post(igw, "/echo", mid, key=k)
    coded = post(igw, "/echo", mid, key=k, headers={"Accept-Encoding": "gzip"})
    assert coded.header("Idempotent-Replayed") == "true"
    assert coded.header("Content-Encoding") == "gzip", coded
    import gzip
    assert gzip.decompress(coded.body) == plain.body


def test_the_openapi_document_names_the_header(igw):
    doc = igw.get("/openapi.json").json()
    params = doc["paths"]["/rec"]["post"]["parameters"]
    assert [p["name"] for p in params] == ["Idempotency-Key"], params
    assert params[0]["in"] == "header" and params[0]["required"] is False
    assert "parameters" not in doc["paths"]["/off"]["post"]
    assert "parameters" not in doc["paths"]["/calls"]["get"]
    validator = openapi_validator()
    node = shutil.which("node")
    out = subprocess.run([node, str(validator / "validate.mjs")], input=json.dumps(doc),
                         capture_output=True, text=True, timeout=60 * SCALE)
    assert out.returncode == 0 and out.stdout.strip() == "valid", out.stderr[-3000:]


# --- clients that go away ------------------------------------------------------------------------


def test_a_waiter_that_leaves_does_not_break_the_others(igw):
    t = fresh()
    body = json.dumps({"token": t, "seconds": SLOW}).encode()
    lead = Background(lambda: post(igw, "/slow", {"token": t, "seconds": SLOW}, key=t))
    time.sleep(0.3 * SCALE)
    leaver = raw(igw.port, request_bytes("/slow", body, [t], close=False), read=False)
    stayer = Background(lambda: post(igw, "/slow", {"token": t, "seconds": SLOW}, key=t))
    time.sleep(0.2 * SCALE)
    leaver.close()
    a, b = lead.result(), stayer.result()
    same_answer(a, b)
    assert a.json() == 1 and b.header("Idempotent-Replayed") == "true"
    assert calls(igw, t) == 1
    assert igw.get("/calls?token=x").status == 200  # still serving


def test_a_lead_that_leaves_still_serves_the_others(igw):
    """enoki's own reader notices a client gone only when it writes to it; either way the call's
    end serves the parked requests and is kept."""
    t = fresh()
    body = json.dumps({"token": t, "seconds": SLOW}).encode()
    leaver = raw(igw.port, request_bytes("/slow", body, [t], close=False), read=False)
    time.sleep(0.3 * SCALE)
    waiter = Background(lambda: post(igw, "/slow", {"token": t, "seconds": SLOW}, key=t))
    time.sleep(0.2 * SCALE)
    leaver.close()
    w = waiter.result()
    assert w.status == 200 and w.json() == 1 and w.header("Idempotent-Replayed") == "true", w
    # A retry after: the kept response.
    r = post(igw, "/slow", {"token": t, "seconds": SLOW}, key=t)
    same_answer(w, r)
    assert calls(igw, t) == 1


def test_a_lead_gone_alone_keeps_the_response(igw):
    t = fresh()
    body = json.dumps({"token": t, "seconds": 0.5}).encode()
    leaver = raw(igw.port, request_bytes("/slow", body, [t], close=False), read=False)
    time.sleep(0.2 * SCALE)
    leaver.close()
    time.sleep(0.8 * SCALE)
    r = post(igw, "/slow", {"token": t, "seconds": 0.5}, key=t)
    assert r.status == 200 and r.json() == 1 and r.header("Idempotent-Replayed") == "true", r
    assert calls(igw, t) == 1


# --- bounds, expiry, reloads ---------------------------------------------------------------------


# The small enoki's idempotency_ttl: a test's first request and its replay must come within it,
# under valgrind too.
TTL = 1 if SCALE == 1 else 3


@pytest.fixture
def small(tmp_path, broker, peer):
    g = Enoki(tmp_path, routes=ROUTES, name="small.yaml", ready_path="/calls",
              gateway=gateway_conf(name=GWNAME + "idsmall", idempotency_ttl=TTL,
                                   idempotency_max_entries=2))
    yield g
    g.stop()


def test_ttl_expiry(small):
    t = fresh()
    assert post(small, "/rec", {"token": t}, key=t).json() == 1
    assert post(small, "/rec", {"token": t}, key=t).header("Idempotent-Replayed") == "true"
    time.sleep(TTL + 0.2)
    r = post(small, "/rec", {"token": t}, key=t)
    assert r.json() == 2 and r.header("Idempotent-Replayed") is None, r
    # A new life for the key: another body is welcome.
    time.sleep(TTL + 0.2)
    assert post(small, "/rec", {"token": t, "n": 1}, key=t).status != 422


def test_max_entries_drops_the_oldest_and_never_calls_twice_in_flight(small):
    t = fresh()
    for k in ("k1", "k2", "k3"):
        assert post(small, "/rec", {"token": t}, key=k + t).status == 200
    assert calls(small, t) == 3
    # k1 was dropped to make room for k3: called again; k3 is kept.
    assert post(small, "/rec", {"token": t}, key="k3" + t).header("Idempotent-Replayed") == "true"
    assert post(small, "/rec", {"token": t}, key="k1" + t).json() == 4
    time.sleep(TTL + 0.2)  # all expired
    s = fresh()
    slow = [Background(lambda k=k: post(small, "/slow", {"token": s, "seconds": SLOW}, key=k + s))
            for k in ("a", "b")]
    time.sleep(0.4 * SCALE)
    r = post(small, "/slow", {"token": s, "seconds": SLOW}, key="c" + s)
    assert r.status == 503 and r.json()["error"] == "too_busy", r
    assert r.header("Retry-After"), r
    for b in slow:
        assert b.result().status == 200
    assert calls(small, s) == 2


def test_sighup_keeps_entries_of_routes_that_remain(tmp_path, broker, peer):
    gateway = gateway_conf(name=GWNAME + "idhup")
    g = Enoki(tmp_path, routes=ROUTES, gateway=gateway, name="hup.yaml", ready_path="/calls")
    try:
        t = fresh()
        assert post(g, "/rec", {"token": t}, key=t).json() == 1
        assert post(g, "/off", {"token": t}, key=t).json() == 2  # not kept: off
        assert post(g, "/echo", {"token": t}, key=t).status == 200
        # /echo loses its idempotency; /rec stays; a route is added to see the reload.
        routes = [dict(r) for r in ROUTES]
        for r in routes:
            if r["rule"] == "/echo":
                r["idempotency"] = False
        routes.append({"rule": "/new", "rpc": SVC + ".echo", "methods": "GET"})
        g.config_path.write_text(config_text(routes, port=g.port, gateway=gateway))
        g.send_signal(signal.SIGHUP)
        wait_for(lambda: g.get("/new").status == 200, 5 * SCALE, what="the reload")
        r = post(g, "/rec", {"token": t}, key=t)
        assert r.json() == 1 and r.header("Idempotent-Replayed") == "true", r
        r = post(g, "/echo", {"token": t}, key=t)
        assert r.status == 200 and r.header("Idempotent-Replayed") is None, r
        # Turned on again: the old entry went with the reload before; the key is new.
        g.config_path.write_text(config_text(ROUTES, port=g.port, gateway=gateway))
        g.send_signal(signal.SIGHUP)
        wait_for(lambda: g.get("/new").status == 404, 5 * SCALE, what="the second reload")
        r = post(g, "/echo", {"token": t}, key=t)
        assert r.status == 200 and r.header("Idempotent-Replayed") is None, r
        assert post(g, "/rec", {"token": t}, key=t).header("Idempotent-Replayed") == "true"
        assert calls(g, t) == 2
    finally:
        g.stop()


def test_stopping_now_with_a_lead_and_a_waiter_in_flight(tmp_path, broker, peer):
    """A second SIGTERM stops at once: the lead's call, which no client holds any more, is
    cancelled with the store, the parked request ends with its connection; a clean exit (under
    ASan: nothing leaked)."""
    g = Enoki(tmp_path, routes=ROUTES, gateway=gateway_conf(name=GWNAME + "idstop"),
              name="stop.yaml", ready_path="/calls")
    t = fresh()
    body = json.dumps({"token": t, "seconds": 4 * SLOW}).encode()
    lead = raw(g.port, request_bytes("/slow", body, [t], close=False), read=False)
    time.sleep(0.3 * SCALE)
    waiter = raw(g.port, request_bytes("/slow", body, [t], close=False), read=False)
    time.sleep(0.3 * SCALE)
    assert calls(g, t) == 1
    g.send_signal(signal.SIGTERM)
    time.sleep(0.3 * SCALE)
    g.stop()  # the second signal: stopping now; asserts a clean exit
    lead.close()
    waiter.close()
