"""Operations (issue 6): probes for load balancers and Kubernetes, and `enoki --probe`."""

import re

import pytest

from conftest import AMQP_URI, ENOKI_BIN, SCALE, Enoki, run_enoki, wait_for
from conftest import exchange_raw


@pytest.fixture
def up(tmp_path, peer):
    gw = Enoki(tmp_path, routes=[])
    yield gw
    gw.stop()


def test_healthz_and_readyz_when_connected(up):
    r = up.get("/healthz")
    assert r.status == 200 and r.json() == {"status": "ok"}, r
    wait_for(lambda: up.get("/readyz").status == 200, 10 * SCALE, what="readyz")
    # Readiness names the broker node in use (the test broker's host:port from AMQP_URI).
    host, port = re.match(r"^amqps?://(?:[^@/]*@)?([^:/]*)(?::(\d+))?", AMQP_URI).groups()
    assert up.get("/readyz").json() == {"status": "ok", "node": "{}:{}".format(host, port or 5672)}


def test_readyz_is_503_without_the_broker(tmp_path):
    gw = Enoki(tmp_path, routes=[], amqp_uri="amqp://guest:guest@127.0.0.1:1/")
    try:
        assert gw.get("/healthz").status == 200
        r = gw.get("/readyz")
        assert r.status == 503 and r.json()["error"] == "not_ready", r
    finally:
        gw.stop()


def test_probe_command(up):
    ok = run_enoki("--probe", "http://127.0.0.1:{}/healthz".format(up.port))
    assert ok.returncode == 0, ok
    missing = run_enoki("--probe", "http://127.0.0.1:{}/nope".format(up.port))
    assert missing.returncode == 1, missing
    closed = run_enoki("--probe", "http://127.0.0.1:1/healthz")
    assert closed.returncode == 1, closed


def test_paths_are_configurable(tmp_path, peer):
    gw = Enoki(tmp_path, routes=[], gateway={"health_path": "/live", "ready_path": "/ready"})
    try:
        assert gw.get("/live").status == 200
        wait_for(lambda: gw.get("/ready").status == 200, 10 * SCALE, what="the ready path")
        assert gw.get("/healthz").status == 404
    finally:
        gw.stop()


def test_a_route_on_a_probe_path_is_a_config_error(tmp_path):
    path = tmp_path / "collide.yaml"
    path.write_text("routes:\n  - rule: /x\n    rpc: a.b\n  - rule: /healthz\n    rpc: a.c\n")
    out = run_enoki("--config", str(path), "--check")
    assert out.returncode == 2, out
    assert "collide.yaml:4: routes[1].rule: '/healthz' collides with enoki's own /healthz" in \
        out.stderr, out.stderr
    # Another method than GET: the probe answers every method, so the route would be dead too.
    path.write_text("routes:\n  - rule: /metrics\n    rpc: a.c\n    methods: [POST]\n")
    out = run_enoki("--config", str(path), "--check")
    assert out.returncode == 2, out
    assert "collide.yaml:2: routes[0].rule: '/metrics' collides with enoki's own /metrics" in \
        out.stderr, out.stderr
    # Under a folder enoki answers whole (static files, the docs page): never reachable either.
    viewer = tmp_path / "viewer"
    viewer.mkdir()
    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        (viewer / name).write_text("/* a stand-in */\n")
    for rule, folder in (("/static/<path:name>", "/static/"), ("/docs/x", "/docs/")):
        path.write_text("GATEWAY:\n  openapi_path: /openapi.json\n  docs_path: /docs\n"
                        "  docs_dir: {}\nroutes:\n  - rule: /static\n    rpc: a.b\n"
                        "  - rule: '{}'\n    rpc: a.c\n".format(viewer, rule))
        out = run_enoki("--config", str(path), "--check")
        assert out.returncode == 2, out
        assert "collide.yaml:8: routes[1].rule: '{}' lies under enoki's own {}".format(
            rule, folder) in out.stderr, out.stderr
    path.write_text("routes:\n  - rule: /static\n    rpc: a.b\n  - rule: /docs/x\n    rpc: a.c\n")
    out = run_enoki("--config", str(path), "--check")
    assert out.returncode == 0, out  # /static itself, and /docs/ while the docs page is off


def test_metrics(tmp_path, peer):
    from conftest import SVC, NOSVC, route

    gw = Enoki(tmp_path, routes=[route("/e", SVC + ".echo"), route("/ghost", NOSVC + ".x")],
               ready_path="/e")
    try:
        for path in ("/e", "/e", "/ghost", "/nowhere"):
            gw.get(path)
        r = gw.get("/metrics")
        assert r.status == 200 and r.header("Content-Type").startswith("text/plain; version=0.0.4")
        text = r.body.decode()
        # ready_path polled /e until the broker was up: at least the two calls above.
        counts = {line.split(" ")[0]: float(line.split(" ")[1])
                  for line in text.splitlines() if line and not line.startswith("#")}
        assert counts['enoki_http_requests_total{route="/e",status="200"}'] >= 2, text
        assert counts['enoki_http_requests_total{route="/ghost",status="503"}'] == 1, text
        assert counts['enoki_http_requests_total{route="",status="404"}'] == 1, text
        assert counts["enoki_rpc_unknown_services_total"] == 1, text
        assert counts['enoki_rpc_duration_seconds_bucket{le="+Inf"}'] == \
            counts["enoki_rpc_duration_seconds_count"] >= 3, text
        assert counts["enoki_rpc_in_flight"] == 0 and counts["enoki_websocket_connections"] == 0
        for name in ("enoki_broker_reconnects_total", "enoki_rpc_deadlines_missed_total"):
            assert name in counts, text
    finally:
        gw.stop()


def test_metrics_parse_as_prometheus_reads_them(tmp_path, peer):
    """/metrics read by the Prometheus project's own Python parser (prometheus_client): every
    line parses, every family has its type, and label values come back exactly, escapes and
    non-ASCII rules included."""
    from prometheus_client.parser import text_string_to_metric_families
    from conftest import SVC, route

    odd = '/caf\u00e9/"q"\\x'
    gw = Enoki(tmp_path, routes=[route("/e", SVC + ".echo"), route(odd, SVC + ".echo")],
               ready_path="/e")
    try:
        assert gw.get("/caf%C3%A9/%22q%22%5Cx").status == 200
        gw.get("/nowhere")
        text = gw.get("/metrics").body.decode()
        families = {f.name: f for f in text_string_to_metric_families(text)}
        # prometheus_client names a counter's family without its _total.
        assert families["enoki_http_requests"].type == "counter", text
        assert families["enoki_rpc_duration_seconds"].type == "histogram", text
        assert families["enoki_rpc_in_flight"].type == "gauge", text
        assert families["enoki_broker_connected"].type == "gauge", text
        requests = {(x.labels["route"], x.labels["status"]): x.value
                    for x in families["enoki_http_requests"].samples}
        assert requests[(odd, "200")] == 1, requests
        assert requests[("", "404")] == 1, requests
        histogram = families["enoki_rpc_duration_seconds"].samples
        buckets = [x for x in histogram if x.name.endswith("_bucket")]
        assert buckets[-1].labels["le"] == "+Inf"
        assert [x.value for x in buckets] == sorted(x.value for x in buckets), buckets
        count = [x.value for x in histogram if x.name.endswith("_count")]
        assert count == [buckets[-1].value] and count[0] >= 2, histogram
        # Every sample's family was declared with a type, once.
        declared = re.findall(r"^# TYPE (\S+) ", text, re.M)
        assert len(declared) == len(set(declared)), declared
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0)
                assert any(name == d or name.startswith(d + "_") for d in declared), line
    finally:
        gw.stop()


CORS = {"origins": ["https://app.example"], "headers": ["Content-Type", "X-Tenant"],
        "max_age": 60, "credentials": True}


def test_cors_preflight_and_requests(tmp_path):
    gw = Enoki(tmp_path, routes=[], gateway={"cors": CORS},
               amqp_uri="amqp://guest:guest@127.0.0.1:1/")
    try:
        ok = gw.request("OPTIONS", "/healthz", headers={
            "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"})
        assert ok.status == 204, ok
        assert ok.header("Access-Control-Allow-Origin") == "https://app.example"
        assert ok.header("Access-Control-Allow-Credentials") == "true"
        assert "POST" in ok.header("Access-Control-Allow-Methods")
        assert ok.header("Access-Control-Allow-Headers") == "Content-Type, X-Tenant"
        assert ok.header("Access-Control-Max-Age") == "60"
        assert ok.header("Vary") == "Origin"
        denied = gw.request("OPTIONS", "/healthz", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        assert denied.status == 403 and denied.header("Access-Control-Allow-Origin") is None
        r = gw.get("/healthz", headers={"Origin": "https://app.example"})
        assert r.status == 200 and r.header("Access-Control-Allow-Origin") == "https://app.example"
        assert "X-Call-Id" in r.header("Access-Control-Expose-Headers")
        assert "RateLimit" in r.header("Access-Control-Expose-Headers")
        r = gw.get("/healthz", headers={"Origin": "https://evil.example"})
        assert r.status == 200 and r.header("Access-Control-Allow-Origin") is None
        # The answer depends on the Origin even where it names none: a cache must know it.
        assert r.header("Vary") == "Origin", r.headers
        assert denied.header("Vary") == "Origin", denied.headers
        assert gw.get("/healthz").header("Vary") == "Origin"
        assert gw.get("/nowhere").header("Vary") == "Origin"
    finally:
        gw.stop()


def test_a_refused_head_carries_cors_and_the_span(tmp_path):
    """A body declared over max_body is refused from its head alone, before anything is read: that
    answer too carries the CORS headers (else a page cannot read why) and enoki's span, on a
    connection's first request and on a later one alike."""
    gw = Enoki(tmp_path, routes=[], gateway={"cors": CORS, "max_body": 100, "trace_context": None},
               amqp_uri="amqp://guest:guest@127.0.0.1:1/")
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    big = ("POST /healthz HTTP/1.1\r\nHost: h\r\nOrigin: https://app.example\r\n"
           "traceparent: {}\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
           .format(parent)).encode()
    try:
        # libmicrohttpd's request that makes no progress (a chunk-size line longer than its
        # buffer) is refused too, its head read by the library.
        stuck = ("POST /healthz HTTP/1.1\r\nHost: h\r\nOrigin: https://app.example\r\n"
                 "traceparent: {}\r\nTransfer-Encoding: chunked\r\n\r\n".format(parent).encode()
                 + b"2;" + b"a" * 100000 + b"\r\n{}\r\n0\r\n\r\n")
        for before, request in ((b"", big), (b"GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n", big),
                                (b"", stuck)):
            data = exchange_raw(gw.port, before + request)
            last = data[data.rindex(b"HTTP/1.1 "):].decode()
            head = last.split("\r\n\r\n", 1)[0].split("\r\n")
            fields = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in head[1:])}
            assert head[0].startswith("HTTP/1.1 413 " if request is big else "HTTP/1.1 400 "), data
            assert fields.get("access-control-allow-origin") == "https://app.example", head
            assert fields.get("vary") == "Origin", head
            tp = fields.get("traceparent", "")
            assert tp.startswith("00-0af7651916cd43dd8448eb211c80319c-") and tp.endswith("-01"), head
            assert tp.split("-")[2] != "b7ad6b7169203331", tp  # enoki's own span
    finally:
        gw.stop()


def test_no_cors_headers_without_config(up):
    r = up.get("/healthz", headers={"Origin": "https://app.example"})
    assert r.header("Access-Control-Allow-Origin") is None


def in_flight(gw):
    """enoki_rpc_in_flight of gw's /metrics."""
    for line in gw.get("/metrics").body.decode().splitlines():
        if line.startswith("enoki_rpc_in_flight "):
            return float(line.split(" ")[1])
    return None


def test_limits(tmp_path, peer):
    import socket
    import threading
    import time

    from conftest import SVC, route

    gw = Enoki(tmp_path, routes=[route("/echo", SVC + ".echo", methods="GET,POST"),
                                 route("/slow", SVC + ".slow")],
               gateway={"max_body": 100, "max_header": 2048, "max_in_flight": 1,
                        "idle_timeout": 1, "max_connections": 4}, ready_path="/echo")
    try:
        big = gw.post("/echo", json_body={"a": "x" * 200})
        assert big.status == 413 and big.json()["error"] == "body_too_large", big
        assert gw.post("/echo", json_body={"a": "x"}).status == 200
        head = gw.get("/echo", headers={"X-Big": "x" * 3000})
        assert head.status == 431 and head.json()["error"] == "header_too_large", head

        # One call waits: the next is refused at once with 503 + Retry-After.
        slow = threading.Thread(target=lambda: gw.get("/slow?seconds=1"))
        slow.start()
        wait_for(lambda: in_flight(gw) == 1, 5 * SCALE, what="the slow call in flight")
        busy = gw.get("/echo")
        assert busy.status == 503 and busy.json()["error"] == "too_busy", busy
        assert busy.header("Retry-After") == "5"
        slow.join()
        assert gw.get("/echo").status == 200

        # A silent connection is closed after idle_timeout.
        s = socket.create_connection(("127.0.0.1", gw.port))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(5)
        assert b"200" in s.recv(4096)
        start = time.monotonic()
        assert s.recv(10) == b"", "the idle connection was not closed"
        assert time.monotonic() - start < 4
        s.close()
    finally:
        gw.stop()


def test_static_files(tmp_path):
    import os

    static = tmp_path / "www"
    static.mkdir()
    (static / "app.js").write_text("export const x = 1;\n")
    (static / "index.html").write_text("<!doctype html><title>x</title>\n")
    (static / "sub").mkdir()
    (static / "sub" / "a.css").write_text("body{}\n")
    (static / ".secret").write_text("no\n")
    (tmp_path / "outside.txt").write_text("outside\n")
    os.symlink(tmp_path / "outside.txt", static / "link.txt")
    gw = Enoki(tmp_path, routes=[], gateway={"static_dir": str(static)},
               amqp_uri="amqp://guest:guest@127.0.0.1:1/")
    try:
        js = gw.get("/static/app.js")
        assert js.status == 200 and js.body == b"export const x = 1;\n"
        assert js.header("Content-Type").startswith("application/javascript")
        assert gw.get("/static/index.html").header("Content-Type").startswith("text/html")
        assert gw.get("/static/sub/a.css").header("Content-Type").startswith("text/css")
        etag, modified = js.header("ETag"), js.header("Last-Modified")
        assert etag and modified
        assert gw.get("/static/app.js", headers={"If-None-Match": etag}).status == 304
        assert gw.get("/static/app.js", headers={"If-Modified-Since": modified}).status == 304
        assert gw.get("/static/app.js", headers={"If-None-Match": '"stale"'}).status == 200
        for path in ("/static/../outside.txt", "/static/%2e%2e/outside.txt", "/static/sub/../../outside.txt",
                     "/static/", "/static/sub", "/static/.secret", "/static/link.txt",
                     "/static/missing.js"):
            assert gw.get(path).status == 404, path
        assert gw.post("/static/app.js", body=b"x").status == 405
    finally:
        gw.stop()


def test_sighup_reloads_routes_atomically(tmp_path, peer):
    import http.client
    import signal

    from conftest import SVC, config_text, route

    gw = Enoki(tmp_path, routes=[route("/a", SVC + ".echo")], ready_path="/a")
    try:
        conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=5)  # kept alive throughout
        conn.request("GET", "/a")
        assert conn.getresponse().read() and gw.get("/b").status == 404

        good = config_text([route("/b", SVC + ".echo")], port=gw.port,
                           gateway={"name": "gwreload" + str(gw.port)})
        gw.config_path.write_text(good)
        gw.send_signal(signal.SIGHUP)
        wait_for(lambda: gw.get("/b").status == 200, 5 * SCALE, what="the reloaded route")
        assert gw.get("/a").status == 404
        conn.request("GET", "/b")
        r = conn.getresponse()
        assert r.status == 200, "the kept-alive connection survives the reload"
        r.read()

        gw.config_path.write_text(good + "  - rule: /c/<nope:x>\n    rpc: s.c\n")
        gw.send_signal(signal.SIGHUP)
        wait_for(lambda: "reload refused" in gw.stderr_text(), 5 * SCALE, what="the refusal")
        assert gw.get("/b").status == 200, "a broken file keeps the routes that were there"
        conn.close()
    finally:
        gw.stop()


def test_json_logs_without_secrets(tmp_path, peer):
    import json as jsonlib

    from conftest import SVC, route

    gw = Enoki(tmp_path, routes=[route("/e", SVC + ".echo")], ready_path="/e",
               gateway={"log_format": "json"},
               amqp_uri="amqp://guest:guest@127.0.0.1:5672/")
    try:
        r = gw.get("/e?token=querysecret", headers={"Authorization": "Bearer headersecret"})
        assert r.status == 200
    finally:
        gw.stop()
    lines = [jsonlib.loads(line) for line in gw.stderr_path.read_text().splitlines() if line]
    access = [l for l in lines if l.get("component") == "access" and l.get("status") == 200]
    assert access, lines
    a = access[-1]
    assert a["method"] == "GET" and a["path"] == "/e" and a["duration_ms"] >= 0
    assert a["call_id"].startswith(gw_name(gw) + ".http.")
    text = gw.stderr_path.read_text()
    assert "querysecret" not in text and "headersecret" not in text and "guest:guest" not in text


def gw_name(gw):
    import re

    return re.search(r"name: (\S+)", gw.config_path.read_text()).group(1).strip("'\"")


def test_taken_port_exits_1(up):
    import pathlib

    from conftest import run_enoki

    path = pathlib.Path(up.config_path)
    out = run_enoki("--config", str(path))
    assert out.returncode == 1 and "cannot listen" in out.stderr, out


def closed(sock):
    """True when the peer closed the connection (an orderly close, or a reset for unread bytes)."""
    try:
        return sock.recv(4096) == b""
    except ConnectionResetError:
        return True


def test_connection_limits(tmp_path):
    import socket
    import time

    gw = Enoki(tmp_path, routes=[], gateway={"max_connections": 3, "header_timeout": 1},
               amqp_uri="amqp://guest:guest@127.0.0.1:1/")
    try:
        # A client that connects and never finishes its head is closed after header_timeout.
        slow = socket.create_connection(("127.0.0.1", gw.port))
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHo")
        slow.settimeout(4)
        start = time.monotonic()
        assert closed(slow)
        assert 0.8 < time.monotonic() - start < 3
        slow.close()

        # Three kept-alive connections fill the limit: a fourth is closed, the three still work.
        kept = []
        for _ in range(3):
            s = socket.create_connection(("127.0.0.1", gw.port))
            s.settimeout(3)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert b" 200 " in s.recv(4096)
            kept.append(s)
        extra = socket.create_connection(("127.0.0.1", gw.port))
        extra.settimeout(3)
        extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert closed(extra), "a connection beyond max_connections is closed"
        extra.close()
        for s in kept:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert b" 200 " in s.recv(4096)
            s.close()
    finally:
        gw.stop()


def test_sigterm_as_soon_as_it_listens_drains(tmp_path, peer):
    """enoki accepts connections from its listen on, before its loop handles signals: a SIGTERM
    sent the moment the port answers (as an orchestrator or a test may) must end it cleanly, with
    status 0, not kill it. A race: repeated, since the window is a few milliseconds wide."""
    import os
    import signal
    import socket
    import subprocess

    from conftest import GWNAME, WRAPPER, config_text, free_port

    for i in range(10):
        port = free_port()
        path = tmp_path / "gw{}.yaml".format(i)
        path.write_text(config_text([], port=port, gateway={"name": GWNAME + "f"}))
        proc = subprocess.Popen([*WRAPPER, ENOKI_BIN, "--config", str(path)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            while proc.poll() is None:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    pass
            os.kill(proc.pid, signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 0, (i, proc.returncode, err.decode(errors="replace")[-2000:])
