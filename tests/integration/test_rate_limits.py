"""GATEWAY.rate_limits (issue 19, docs/rate_limits.md): token buckets per key, 429 with Retry-After
and the IETF RateLimit-Policy / RateLimit fields (draft-ietf-httpapi-ratelimit-headers-11), keys by
client address (trusted proxies' X-Forwarded-For), verified claim and header, websocket calls, the
buckets across SIGHUP, the metrics, and a flood of a million distinct keys in bounded memory.

The limits are slow (1 a minute), so a bucket's seconds until its next token (Retry-After, t=) are
60 at its first request and fall by one a second after it: a test takes well under a second
between its requests in `make test`, but seconds under valgrind, so a value is checked against the
seconds since the test's enoki became ready (`seconds_ok`).
"""

import http.client
import json
import math
import re
import signal
import socket
import threading
import time

import pytest

from conftest import (GWNAME, SCALE, SVC, enoki_is_instrumented, memory_is_measurable, route,
                      rss_kb, run_enoki, wait_for)
from wsclient import WSClient

jwt = pytest.importorskip("jwt")

SECRET = "enoki-rate-limit-test-secret-32-bytes!"
NAME = GWNAME + "f"  # the enoki fixture's GATEWAY.name


def limit(name, key="client_ip", rate="1/min", burst=3, match=None):
    entry = {"name": name, "key": key, "rate": rate, "burst": burst}
    if match is not None:
        entry["match"] = match
    return entry


def get(port, path, source="127.0.0.1", headers=None, method="GET", body=None):
    """One request on a new connection from the source address given."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10 * SCALE,
                                      source_address=(source, 0))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, resp.headers, data
    finally:
        conn.close()


# When the running test's enoki became ready: each of its buckets is younger.
ready_at = [0.0]


def seconds_ok(text, full=60):
    """Whether text is a bucket's seconds until its next token, rounded up: full until a whole
    second has passed since the bucket's first request, one less for each whole second after."""
    seconds = int(text)
    return full - math.floor(time.monotonic() - ready_at[0]) <= seconds <= full


def assert_rate_limit(value, expected):
    """value is a RateLimit field; expected the same with t=60, the bucket's t at its first
    request."""
    assert value is not None and ";t=" in value, value
    head, seconds = value.rsplit(";t=", 1)
    assert head + ";t=60" == expected and seconds_ok(seconds), (value, expected)


def assert_allowed(answer, policy, limit_value):
    status, headers, body = answer
    assert status == 200, body
    assert headers.get("RateLimit-Policy") == policy
    assert_rate_limit(headers.get("RateLimit"), limit_value)
    assert headers.get("Retry-After") is None


def assert_limited(answer, name, policy):
    status, headers, body = answer
    assert status == 429, body
    retry = headers.get("Retry-After")
    assert retry is not None and seconds_ok(retry), retry
    assert headers.get("RateLimit-Policy") == policy
    assert headers.get("RateLimit") == '"{}";r=0;t={}'.format(name, retry)
    assert headers.get("Content-Type") == "application/json"
    assert json.loads(body) == {
        "error": "rate_limited",
        "message": "rate limit '{}' reached (GATEWAY.rate_limits); retry in {} s".format(name,
                                                                                         retry),
        "call_id": None}


def metric(port, route_label):
    _, _, body = get(port, "/metrics")
    needle = 'enoki_rate_limited_total{{route="{}"}} '.format(route_label)
    for line in body.decode().splitlines():
        if line.startswith(needle):
            return int(line[len(needle):])
    return 0


@pytest.fixture
def limited(enoki, peer, broker):
    """limited(limits, routes=..., **gateway) -> a started enoki with those rate limits."""
    broker.exchanges.add(NAME + ".hub")

    def start(limits, routes=None, **gateway):
        gateway = dict(gateway, rate_limits=limits)
        gateway.setdefault("rpc_timeout", 5 * SCALE)
        routes = routes if routes is not None else [
            route("/echo", SVC + ".echo", methods="GET,POST"),
            route("/other", SVC + ".echo")]
        e = enoki(routes=routes, gateway=gateway)
        # Waiting on a route would spend tokens: the readiness probe is never limited.
        wait_for(lambda: get(e.port, "/readyz")[0] == 200, 10 * SCALE, what="the broker")
        ready_at[0] = time.monotonic()
        return e

    return start


def test_bursts_under_and_over_a_limit(limited):
    e = limited([limit("slow", match=["/echo"])])
    policy = '"slow";q=3;w=180'
    for left in (2, 1, 0):
        assert_allowed(get(e.port, "/echo"), policy, '"slow";r={};t=60'.format(left))
    for _ in range(3):
        assert_limited(get(e.port, "/echo"), "slow", policy)
    # A route the limit does not match, and enoki's own paths, are not limited.
    for _ in range(5):
        status, headers, _ = get(e.port, "/other")
        assert status == 200 and headers.get("RateLimit") is None
        assert get(e.port, "/healthz")[0] == 200
        assert get(e.port, "/nowhere")[0] == 404
    assert metric(e.port, "/echo") == 3
    assert metric(e.port, "/other") == 0


def test_several_limits_take_all_or_nothing(limited):
    e = limited([limit("tight", burst=1), limit("loose", burst=5, rate="5/min")])
    policy = '"tight";q=1;w=60, "loose";q=5;w=60'
    assert_allowed(get(e.port, "/echo"), policy, '"tight";r=0;t=60')
    for _ in range(4):
        assert_limited(get(e.port, "/echo"), "tight", policy)
    # Another address has buckets of its own.
    assert_allowed(get(e.port, "/echo", source="127.0.0.2"), policy, '"tight";r=0;t=60')


def test_keys_by_client_address(limited):
    e = limited([limit("ip", burst=1)])
    policy = '"ip";q=1;w=60'
    assert_allowed(get(e.port, "/echo", source="127.0.0.1"), policy, '"ip";r=0;t=60')
    assert_limited(get(e.port, "/echo", source="127.0.0.1"), "ip", policy)
    assert_allowed(get(e.port, "/echo", source="127.0.0.2"), policy, '"ip";r=0;t=60')
    assert_limited(get(e.port, "/echo", source="127.0.0.2"), "ip", policy)
    # Without trusted proxies, X-Forwarded-For changes nothing.
    assert_limited(get(e.port, "/echo", source="127.0.0.2",
                       headers={"X-Forwarded-For": "203.0.113.50"}), "ip", policy)


def test_trusted_proxies(limited):
    e = limited([limit("ip", burst=1)], trusted_proxies=["127.0.0.1/32"])
    policy = '"ip";q=1;w=60'
    one = {"X-Forwarded-For": "198.51.100.1, 203.0.113.1"}
    two = {"X-Forwarded-For": "203.0.113.2"}
    # From the trusted proxy, the right-most address it appended is the client.
    assert_allowed(get(e.port, "/echo", headers=one), policy, '"ip";r=0;t=60')
    assert_limited(get(e.port, "/echo", headers=one), "ip", policy)
    assert_limited(get(e.port, "/echo", headers={"X-Forwarded-For": "10.9.9.9, 203.0.113.1"}),
                   "ip", policy)
    assert_allowed(get(e.port, "/echo", headers=two), policy, '"ip";r=0;t=60')
    # From an untrusted peer the header is the client's own word: its bucket is the peer's.
    assert_allowed(get(e.port, "/echo", source="127.0.0.2", headers=one), policy,
                   '"ip";r=0;t=60')
    assert_limited(get(e.port, "/echo", source="127.0.0.2", headers={"X-Forwarded-For":
                                                                     "203.0.113.77"}),
                   "ip", policy)


def token(sub):
    return jwt.encode({"sub": sub, "exp": int(time.time()) + 300}, SECRET, algorithm="HS256")


def test_keys_by_verified_claim(limited):
    auth = {"jwt": {"algorithms": ["HS256"], "secret": SECRET}}
    routes = [dict(route("/echo", SVC + ".echo"), auth="optional"), route("/other", SVC + ".echo")]
    e = limited([limit("user", key="claim:sub", burst=1)], routes=routes, auth=auth)
    policy = '"user";q=1;w=60'
    alice = {"Authorization": "Bearer " + token("alice")}
    assert_allowed(get(e.port, "/echo", headers=alice), policy, '"user";r=0;t=60')
    # Another token of alice's is the same caller; bob is another, from the same address.
    assert_limited(get(e.port, "/echo", headers={"Authorization": "Bearer " + token("alice")}),
                   "user", policy)
    assert_allowed(get(e.port, "/echo", headers={"Authorization": "Bearer " + token("bob")}),
                   policy, '"user";r=0;t=60')
    # Without a token the caller is limited by its address, apart from the tokens' buckets.
    assert_allowed(get(e.port, "/echo"), policy, '"user";r=0;t=60')
    assert_limited(get(e.port, "/echo"), "user", policy)
    assert_allowed(get(e.port, "/echo", source="127.0.0.2"), policy, '"user";r=0;t=60')
    # A token that does not verify is refused by auth before it costs anything.
    status, _, _ = get(e.port, "/echo", headers={"Authorization": "Bearer x.y.z"})
    assert status == 401


def test_keys_by_header(limited):
    e = limited([limit("key", key="header:X-Api-Key", burst=2)])
    policy = '"key";q=2;w=120'
    a, b = {"X-Api-Key": "key-a"}, {"x-api-key": "key-b"}
    assert_allowed(get(e.port, "/echo", headers=a), policy, '"key";r=1;t=60')
    assert_allowed(get(e.port, "/echo", headers=a), policy, '"key";r=0;t=60')
    assert_limited(get(e.port, "/echo", headers=a), "key", policy)
    assert_limited(get(e.port, "/echo", source="127.0.0.2", headers=a), "key", policy)
    assert_allowed(get(e.port, "/echo", headers=b), policy, '"key";r=1;t=60')
    # Without the header: the client's address.
    assert_allowed(get(e.port, "/echo"), policy, '"key";r=1;t=60')


def test_generic_route_and_http_mode(limited):
    routes = [route("/h/<name>", SVC + ".hello", mode="http"), route("/other", SVC + ".echo")]
    e = limited([limit("rpc", burst=1, match=[SVC + ".echo"]),
                 limit("web", burst=1, match=["/h/*"])],
                routes=routes, expose=[SVC + ".*"])
    body = json.dumps({"kwargs": {"x": 1}})
    hdr = {"Content-Type": "application/json"}
    ok = get(e.port, "/rpc/{}/echo".format(SVC), method="POST", body=body, headers=hdr)
    assert_allowed(ok, '"rpc";q=1;w=60', '"rpc";r=0;t=60')
    assert_limited(get(e.port, "/rpc/{}/echo".format(SVC), method="POST", body=body, headers=hdr),
                   "rpc", '"rpc";q=1;w=60')
    # The target glob covers the route whose rpc it names too.
    status, headers, _ = get(e.port, "/other")
    assert status == 429 and seconds_ok(headers.get("Retry-After"))
    # Another target is not covered.
    status, headers, _ = get(e.port, "/rpc/{}/get_method".format(SVC), method="POST",
                             body=json.dumps({"kwargs": {"value": 1}}), headers=hdr)
    assert status == 200 and headers.get("RateLimit") is None
    # mode: http answers in @http's text format.
    status, headers, data = get(e.port, "/h/you")
    assert status == 200 and data == b"hello you"
    assert_rate_limit(headers.get("RateLimit"), '"web";r=0;t=60')
    status, headers, data = get(e.port, "/h/you")
    assert status == 429
    assert headers.get("Content-Type") == "text/plain; charset=utf-8"
    retry = headers.get("Retry-After")
    assert seconds_ok(retry)
    assert data == ("Error: RateLimited: rate limit 'web' reached (GATEWAY.rate_limits); retry in "
                    "{} s\n".format(retry)).encode()
    assert metric(e.port, "generic") == 1
    assert metric(e.port, "/other") == 1
    assert metric(e.port, "/h/<name>") == 1


def test_websocket_calls(limited):
    e = limited([limit("ws", burst=2, match=[SVC + ".echo"]),
                 limit("team", key="header:X-Team", burst=1, match=[SVC + ".get_method"])],
                expose=[SVC + ".*"], channels=["room*"])
    with WSClient(e.port) as ws:
        for i in range(2):
            reply = ws.call(SVC + ".echo", {"i": i}, correlation_id=i)
            assert reply["success"] is True, reply
        reply = ws.call(SVC + ".echo", {"i": 2}, correlation_id=2)
        retry = re.search(r"retry in (\d+) s", json.dumps(reply))
        assert retry and seconds_ok(retry.group(1)), reply
        message = "rate limit 'ws' reached (GATEWAY.rate_limits); retry in {} s".format(
            retry.group(1))
        assert reply == {"type": "result", "success": False, "correlation_id": 2,
                         "error": {"exc_type": "RateLimited", "exc_path": "enoki.RateLimited",
                                   "exc_args": [message], "value": message}}
        # The hub's own methods and other targets are not covered.
        assert ws.call("subscribe", {"channel": "room1"}, correlation_id=3)["success"] is True
        # The socket goes on after a refusal; without X-Team, its address keys the team limit.
        assert ws.call(SVC + ".get_method", {"value": 1}, correlation_id=4)["success"] is True
    # A socket is keyed by its address too: another socket from it shares the bucket.
    with WSClient(e.port) as ws:
        assert ws.call(SVC + ".echo", {}, correlation_id=6)["error"]["exc_type"] == "RateLimited"
    # The handshake's header keys the team limit.
    with WSClient(e.port, headers={"X-Team": "red"}) as ws:
        assert ws.call(SVC + ".get_method", {"value": 1}, correlation_id=7)["success"] is True
        reply = ws.call(SVC + ".get_method", {"value": 1}, correlation_id=8)
        assert reply["error"]["exc_type"] == "RateLimited"
    with WSClient(e.port, headers={"X-Team": "blue"}) as ws:
        assert ws.call(SVC + ".get_method", {"value": 1}, correlation_id=9)["success"] is True
    # The generic route shares the client's bucket with its sockets.
    status, _, _ = get(e.port, "/rpc/{}/echo".format(SVC), method="POST", body="{}",
                       headers={"Content-Type": "application/json"})
    assert status == 429
    assert metric(e.port, "websocket") == 3


def test_sighup_keeps_the_buckets_of_kept_limits(limited):
    e = limited([limit("slow", burst=2)])
    assert_allowed(get(e.port, "/echo"), '"slow";q=2;w=120', '"slow";r=1;t=60')
    assert_allowed(get(e.port, "/echo"), '"slow";q=2;w=120', '"slow";r=0;t=60')
    assert_limited(get(e.port, "/echo"), "slow", '"slow";q=2;w=120')

    def reload_with(text_old, text_new):
        e.config_path.write_text(e.config_path.read_text().replace(text_old, text_new))
        e.send_signal(signal.SIGHUP)

    # The same limit, a new route and a new name: the bucket is kept.
    reload_with('"name": "slow"', '"name": "renamed"')
    text = e.config_path.read_text() + '  - {"rule": "/new", "rpc": "' + SVC + '.echo"}\n'
    e.config_path.write_text(text)
    e.send_signal(signal.SIGHUP)
    wait_for(lambda: get(e.port, "/new")[0] != 404, 5 * SCALE, what="the reload")
    assert_limited(get(e.port, "/echo"), "renamed", '"renamed";q=2;w=120')
    # Another burst is another limit: a fresh, full bucket.
    reload_with('"burst": 2', '"burst": 3')
    wait_for(lambda: get(e.port, "/echo")[1].get("RateLimit-Policy") == '"renamed";q=3;w=180',
             5 * SCALE, what="the second reload")
    assert_allowed(get(e.port, "/echo"), '"renamed";q=3;w=180', '"renamed";r=1;t=60')


def test_check_prints_the_limits_and_refuses_bad_ones(tmp_path):
    path = tmp_path / "gw.yaml"
    path.write_text("GATEWAY:\n  rate_limits:\n"
                    "    - {name: per-ip, key: client_ip, rate: 100/s, burst: 200}\n"
                    "    - {key: 'claim:sub', rate: 6000/min, match: ['/a']}\n"
                    "routes:\n  - {rule: /a, rpc: s.a}\n  - {rule: /b, rpc: s.b}\n")
    done = run_enoki("--config", str(path), "--check")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-2:] == [
        'rate limit per-ip: key=client_ip rate=100/s burst=200  RateLimit-Policy: '
        '"per-ip";q=200;w=2  covers 2 route(s) and generic and websocket calls to its targets',
        'rate limit limit1: key=claim:sub rate=6000/min burst=100  RateLimit-Policy: '
        '"limit1";q=100;w=1  covers 1 route(s)']
    path.write_text("GATEWAY:\n  rate_limits:\n    - {key: client_ip, rate: 5/fortnight}\n")
    done = run_enoki("--config", str(path), "--check")
    assert done.returncode == 2
    assert "GATEWAY.rate_limits[0].rate: expected '<count>/<unit>'" in done.stderr
    assert "got '5/fortnight'" in done.stderr


def _flood(port, first, count, conns=4, batch=400):
    """count POSTs with distinct X-Key values (from first on), pipelined on conns connections; each
    must be answered 400 (its body is not JSON: answered without the broker, after the stage)."""
    marker = b"HTTP/1.1 400 "
    errors = []

    def worker(lo, hi):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=30 * SCALE) as s:
                for start in range(lo, hi, batch):
                    end = min(start + batch, hi)
                    s.sendall(b"".join(
                        b"POST /echo HTTP/1.1\r\nHost: x\r\nX-Key: k%d\r\n"
                        b"Content-Type: application/json\r\nContent-Length: 1\r\n\r\nx" % i
                        for i in range(start, end)))
                    seen, tail = 0, b""
                    while seen < end - start:
                        data = s.recv(1 << 20)
                        if not data:
                            raise AssertionError("enoki closed the connection")
                        chunk = tail + data
                        seen += chunk.count(marker)
                        tail = chunk[-(len(marker) - 1):]
                        if b" 429 " in data:
                            raise AssertionError("a fresh key was limited")
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    share = count // conns
    threads = [threading.Thread(target=worker, args=(first + i * share, first + (i + 1) * share))
               for i in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


@pytest.mark.flood
def test_a_million_distinct_keys_in_bounded_memory(limited):
    instrumented = enoki_is_instrumented()
    # A token a day: the last key's bucket cannot refill while the other connections still flood
    # (at 1/min, a loaded machine took longer than that, and the bucket was full again).
    e = limited([limit("flood", key="header:X-Key", rate="1/day", burst=5)], log_level="warn",
                rate_limit_keys=20000)
    warm = 60_000 if not instrumented else 40_000
    total = 1_000_000 if not instrumented else 200_000
    # The store holds 20,000 buckets here: the warm-up fills it.
    _flood(e.port, 0, warm)
    before = rss_kb(e.proc.pid)
    _flood(e.port, warm, total - warm)
    after = rss_kb(e.proc.pid)
    if memory_is_measurable():
        assert after - before < 2048, (before, after)
    # Still limiting: a key used now has its bucket, an old one a fresh bucket again. (Not the
    # flood's last key: its connection may finish 20,000 keys ahead of the others, which then push
    # its bucket out.)
    headers = {"X-Key": "after-the-flood"}
    for left in (4, 3, 2, 1, 0):
        status, h, _ = get(e.port, "/echo", headers=headers)
        assert status == 200 and h.get("RateLimit").startswith('"flood";r={};'.format(left)), h
    assert get(e.port, "/echo", headers=headers)[0] == 429
    status, h, _ = get(e.port, "/echo", headers={"X-Key": "k0"})
    assert status == 200 and h.get("RateLimit").startswith('"flood";r=4;')
