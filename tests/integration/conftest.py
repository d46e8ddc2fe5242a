"""Integration tests: the real enoki binary against a real RabbitMQ and a nameko-like peer.

    ENOKI_BIN=/abs/build/enoki GW_SYSTEM_TESTS=1 /usr/bin/python3 -m pytest -q -p no:cacheprovider \
        tests/integration

Environment:
  GW_SYSTEM_TESTS=1      run at all (otherwise every test is skipped)
  ENOKI_BIN              the binary under test (tests that start enoki are skipped when unset)
  ENOKI_WRAPPER          a command prefix for enoki, e.g. valgrind; startup and timing bounds are 10x
  ENOKI_TEST_AMQP_URI    the broker, default amqp://guest:guest@127.0.0.1:5672/

Isolation: each session uses its own topic exchange `enoki-test-<hex8>`, and service and gateway names
that contain the same hex; teardown deletes the exchanges, the `rpc-<svc>` queues and the gateways'
reply queues it created (found with rabbitmqctl when the broker is local; otherwise they expire).

enoki listens before its AMQP connection is up, so a gateway started with ready_path is polled until
that path stops answering 503 broker_unavailable.

Helpers used by the test modules are imported from here (`from conftest import ...`).
"""

import http.client
import json
import os
import re
import select
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from ports import free_port  # noqa: F401 (the tests import it from here)

ENABLED = os.environ.get("GW_SYSTEM_TESTS") == "1"
AMQP_URI = os.environ.get("ENOKI_TEST_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
ENOKI_BIN = os.environ.get("ENOKI_BIN", "")
WRAPPER = shlex.split(os.environ.get("ENOKI_WRAPPER", ""))
# Every time bound of the tests is multiplied by SCALE: 10 under a wrapper (valgrind), else 1;
# ENOKI_TEST_SCALE sets it (make check runs the suite in two processes at once, on two cores).
SCALE = int(os.environ.get("ENOKI_TEST_SCALE") or 0) or (10 if WRAPPER else 1)

REPO = Path(__file__).resolve().parents[2]
PEER_SCRIPT = REPO / "tests" / "peer" / "nameko_peer.py"

SESSION = uuid.uuid4().hex[:8]
EXCHANGE = "enoki-test-{}".format(SESSION)
GWNAME = "gw{}".format(SESSION)        # GATEWAY.name of the shared gateway
SVC = "peer_{}".format(SESSION)        # served by the session peer
SVC2 = "other_{}".format(SESSION)      # also served by the session peer
LATE = "late_{}".format(SESSION)       # its peer starts only during the test that uses it
FAKE = "fake_{}".format(SESSION)       # a service the test answers by hand
NOSVC = "nosvc_{}".format(SESSION)     # never started, never bound

UUID4 = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
SANITIZER_RE = re.compile(r"AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:")
VALGRIND_RE = re.compile(r"^==\d+==", re.M)


def pytest_make_parametrize_id(config, val, argname):
    """Test ids without this session's random names, so that every pytest-xdist process collects
    the same ids (each process has a session of its own)."""
    if isinstance(val, str) and SESSION in val:
        return val.replace(SESSION, "SESSION")
    return None


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "waits: the test mostly waits out one of enoki's timeouts; make valgrind skips it "
        "(make check runs it under ASan, whose leak check covers the same paths)")
    config.addinivalue_line(
        "markers", "flood: the test sends a flood of requests; make valgrind skips it (make check "
        "runs it under ASan)")


def pytest_collection_modifyitems(config, items):
    if ENABLED:
        if WRAPPER:
            slow = pytest.mark.skip(reason="too slow under valgrind: run by make test and make check")
            for item in items:
                if "waits" in item.keywords or "flood" in item.keywords:
                    item.add_marker(slow)
        return
    skip = pytest.mark.skip(reason="system tests: set GW_SYSTEM_TESTS=1 (and ENOKI_BIN), see conftest.py")
    for item in items:
        item.add_marker(skip)


def enoki_is_instrumented():
    """True under valgrind (ENOKI_WRAPPER) or with an ASan build (make check, make valgrind)."""
    if WRAPPER:
        return True
    try:
        with open(ENOKI_BIN, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


def memory_is_measurable():
    """False under valgrind or with an ASan build: they keep freed memory, so RSS means nothing."""
    return bool(ENOKI_BIN) and not enoki_is_instrumented()


def rss_kb(pid):
    """The resident memory of a process, in KiB (VmRSS)."""
    with open("/proc/{}/status".format(pid)) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def wait_for(predicate, timeout, interval=0.02, what="condition"):
    """Polls predicate until it returns a true value, which is returned; fails after timeout s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail("timed out after {:.1f}s waiting for {}".format(timeout, what))
        time.sleep(interval)


def answered_within(get, bound, tries=3):
    """get() (a Response) in under bound seconds in one of tries: a loop that is held answers late
    every time, while one late answer on a busy machine (CI runs the sanitizers side by side) is
    the machine's moment. Returns the quick answer; the caller checks its status."""
    slowest = []
    for _ in range(tries):
        r = get()
        if r.elapsed < bound:
            return r
        slowest.append(round(r.elapsed, 3))
    pytest.fail("no answer within {:.3f}s in {} tries: {}".format(bound, tries, slowest))


class Background(threading.Thread):
    """Runs fn() in a thread at once; result() joins and returns its value (or raises its error)."""

    def __init__(self, fn):
        super().__init__(daemon=True)
        self.fn = fn
        self.value = None
        self.error = None
        self.start()

    def run(self):
        try:
            self.value = self.fn()
        except BaseException as exc:  # re-raised in result()
            self.error = exc

    def result(self, timeout=60):
        self.join(timeout * SCALE)
        assert not self.is_alive(), "still running after {}s".format(timeout * SCALE)
        if self.error is not None:
            raise self.error
        return self.value


# --- the broker, seen from the tests -------------------------------------------------------------------


def pika_params():
    import pika

    params = pika.URLParameters(AMQP_URI)
    # The test connections can sit idle for a long time between uses: no heartbeats.
    params.heartbeat = 0
    params.connection_attempts = 1
    return params


class SpyMessage:
    def __init__(self, method, props, body):
        self.exchange = method.exchange
        self.routing_key = method.routing_key
        self.props = props
        self.raw = body
        self.headers = props.headers or {}

    def json(self):
        return json.loads(self.raw)


class Spy:
    """A server-named exclusive queue bound to the test exchange; sees copies of what is published.

    The copies keep the request's expiration: read them while the call is still in its deadline."""

    def __init__(self, broker, queue):
        self.broker = broker
        self.queue = queue

    def get(self, timeout=5.0, what="a message on the spy queue"):
        ch = self.broker.channel

        def poll():
            method, props, body = ch.basic_get(self.queue, auto_ack=True)
            return SpyMessage(method, props, body) if method else None

        return wait_for(poll, timeout * SCALE, what=what)

    def get_many(self, n, timeout=5.0):
        return [self.get(timeout) for _ in range(n)]

    def empty(self):
        method, props, body = self.broker.channel.basic_get(self.queue, auto_ack=False)
        if method:
            self.broker.channel.basic_nack(method.delivery_tag, requeue=True)
        return method is None


class Broker:
    """One blocking pika connection for the test thread: spies, declarations, checks, cleanup."""

    def __init__(self):
        import pika

        self.pika = pika
        try:
            self.connection = pika.BlockingConnection(pika_params())
        except Exception as exc:  # pragma: no cover - environment problem
            pytest.fail("cannot connect to the broker at {} ({!r}); start rabbitmq-server or set "
                        "ENOKI_TEST_AMQP_URI".format(AMQP_URI, exc))
        self.channel = self.connection.channel()
        self.exchanges = set()
        self.queues = set()

    def declare_exchange(self, name=EXCHANGE):
        self.channel.exchange_declare(name, exchange_type="topic", durable=True)
        self.exchanges.add(name)

    def spy(self, *keys, exchange=EXCHANGE):
        self.declare_exchange(exchange)
        queue = self.channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
        for key in keys:
            self.channel.queue_bind(queue, exchange, routing_key=key)
        return Spy(self, queue)

    def drop_spy(self, spy):
        self.channel.queue_delete(spy.queue)

    def declare_service_queue(self, service, exchange=EXCHANGE):
        """Declares and binds rpc-<service> exactly as nameko does, without consuming it."""
        self.declare_exchange(exchange)
        queue = "rpc-{}".format(service)
        self.channel.queue_declare(queue, durable=True)
        self.channel.queue_bind(queue, exchange, routing_key="{}.*".format(service))
        self.queues.add(queue)
        return queue

    def track_queue(self, name):
        self.queues.add(name)

    def try_on_fresh_channel(self, fn):
        """Runs fn(channel) on a throwaway channel. Returns None, or the reply code of the channel
        error it caused (e.g. 404 NOT_FOUND, 406 PRECONDITION_FAILED)."""
        ch = self.connection.channel()
        try:
            fn(ch)
        except self.pika.exceptions.ChannelClosedByBroker as exc:
            return exc.reply_code
        ch.close()
        return None

    def exchange_exists(self, name):
        return self.try_on_fresh_channel(lambda ch: ch.exchange_declare(name, passive=True)) is None

    def queue_exists(self, name):
        return self.try_on_fresh_channel(lambda ch: ch.queue_declare(name, passive=True)) is None

    def routable(self, exchange, routing_key):
        """True if a mandatory publish with this key reaches some queue (a probe message is sent)."""
        ch = self.connection.channel()
        ch.confirm_delivery()
        try:
            ch.basic_publish(exchange, routing_key, b'{"probe": true}',
                             self.pika.BasicProperties(content_type="application/json",
                                                       correlation_id="probe-" + uuid.uuid4().hex),
                             mandatory=True)
        except self.pika.exceptions.UnroutableError:
            return False
        finally:
            ch.close()
        return True

    def publish(self, routing_key, body, exchange=EXCHANGE, **props):
        self.channel.basic_publish(exchange, routing_key, body, self.pika.BasicProperties(**props))

    def cleanup(self):
        # This session's gateways are all stopped by now. Their reply queues would expire anyway, but
        # their native service queues (rpc-<GATEWAY.name>) are durable, as nameko's are: left behind,
        # they pile up run after run and slow every later start of the broker.
        listed = rabbitmqctl_json("list_queues", "name") or []
        prefixes = ("rpc.reply-gw{}".format(SESSION), "rpc-gw{}".format(SESSION))
        self.queues.update(q["name"] for q in listed if q["name"].startswith(prefixes))
        for queue in sorted(self.queues):
            self.try_on_fresh_channel(lambda ch: ch.queue_delete(queue))
        for exchange in sorted(self.exchanges):
            self.try_on_fresh_channel(lambda ch: ch.exchange_delete(exchange))
        self.connection.close()


def rabbitmqctl_json(*args):
    """rabbitmqctl's answer as JSON, or None if rabbitmqctl cannot be used (e.g. a remote broker)."""
    host = re.sub(r"^amqps?://(?:[^@/]*@)?([^:/]*).*$", r"\1", AMQP_URI)
    if host not in ("127.0.0.1", "localhost", "") or not shutil.which("rabbitmqctl"):
        return None
    try:
        out = subprocess.run(["rabbitmqctl", "-q", *args, "--formatter", "json"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return json.loads(out.stdout)


# --- the peer --------------------------------------------------------------------------------------------


class Peer:
    """tests/peer/nameko_peer.py as a child process."""

    def __init__(self, services, tmpdir, prefetch=10, exchange=EXCHANGE, amqp_uri=AMQP_URI):
        self.services = list(services)
        self.stderr_path = Path(tmpdir) / "peer-{}.stderr".format("-".join(self.services))
        cmd = [sys.executable, str(PEER_SCRIPT), "--amqp-uri", amqp_uri, "--exchange", exchange,
               "--prefetch", str(prefetch)]
        for service in self.services:
            cmd += ["--service", service]
        self.stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        deadline = time.monotonic() + 20
        line = ""
        while time.monotonic() < deadline and self.proc.poll() is None:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.1)
            if ready:
                line = self.proc.stdout.readline()
                break
        if line.strip() != "ready":
            self.proc.kill()
            self.proc.wait()
            pytest.fail("the peer did not start: {}".format(self.stderr_text()))

    def stderr_text(self):
        self.stderr.flush()
        return self.stderr_path.read_text()

    def kill(self):
        """SIGKILL: the service dies mid-call, as a crashed nameko worker process would."""
        self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()
        self.stderr.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc.stdout.close()
        self.stderr.close()
        text = self.stderr_path.read_text()
        assert rc == 0, "peer exit code {}; stderr:\n{}".format(rc, text)
        # A request without content_type or reply_to would crash a real nameko service.
        assert "POISON" not in text, text


# --- enoki -------------------------------------------------------------------------------------------------


def yaml_value(value):
    """A YAML flow value for a Python value (strings double-quoted: no ${} substitution in them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "{" + ", ".join("{}: {}".format(yaml_value(k), yaml_value(v))
                               for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(yaml_value(v) for v in value) + "]"
    return json.dumps(str(value))


def route(rule, rpc, methods=None, timeout=None, mode=None):
    r = {"rule": rule, "rpc": rpc}
    if methods is not None:
        r["methods"] = methods
    if timeout is not None:
        r["timeout"] = timeout
    if mode is not None:
        r["mode"] = mode
    return r


def config_text(routes, port=None, gateway=None, amqp_uri=AMQP_URI, exchange=EXCHANGE, extra=""):
    lines = ["AMQP_URI: {}".format(yaml_value(amqp_uri))]
    if port is not None:
        lines.append("WEB_SERVER_ADDRESS: {}".format(yaml_value("127.0.0.1:{}".format(port))))
    if exchange is not None:
        lines.append("rpc_exchange: {}".format(yaml_value(exchange)))
    # The suite checks nameko's own bytes on the wire and equal answers with tracing off (a trace's
    # context keys and response header are all it adds); test_trace_context.py runs it on, and on
    # by default (trace_context=None leaves the key out).
    gateway = dict(gateway or {})
    gateway.setdefault("trace_context", False)
    if gateway["trace_context"] is None:
        del gateway["trace_context"]
    if gateway:
        lines.append("GATEWAY:")
        for key, value in gateway.items():
            lines.append("  {}: {}".format(key, yaml_value(value)))
    lines.append("routes:")
    for r in routes:
        lines.append("  - " + yaml_value(r))
    return "\n".join(lines) + "\n" + extra


class Response:
    def __init__(self, status, reason, headers, body, elapsed):
        self.status = status
        self.reason = reason
        self.headers = headers  # http.client.HTTPMessage: case-insensitive get()
        self.body = body
        self.elapsed = elapsed

    def header(self, name):
        return self.headers.get(name)

    @property
    def content_type(self):
        return self.headers.get("Content-Type")

    @property
    def media_type(self):
        return (self.content_type or "").split(";")[0].strip().lower()

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<Response {} {!r} {:.3f}s {!r}>".format(self.status, self.reason, self.elapsed,
                                                        self.body[:300])


OPENAPI_VALIDATOR = REPO / "tests" / "openapi"


def openapi_validator():
    """The OpenAPI validator's directory (tests/openapi/validate.mjs), its pinned packages installed
    with `npm ci` the first time: under a lock, since the test processes ask for it at once (one
    found node_modules half written by another's install and failed)."""
    import fcntl

    node, npm = shutil.which("node"), shutil.which("npm")
    assert node and npm, "the OpenAPI validator needs node and npm (scripts/install-deps.sh)"
    done = OPENAPI_VALIDATOR / "node_modules" / ".enoki-installed"
    with open(OPENAPI_VALIDATOR / "package-lock.json") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            out = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                                 cwd=OPENAPI_VALIDATOR, capture_output=True, text=True, timeout=600)
            assert out.returncode == 0, out.stdout + out.stderr
            done.touch()
    return OPENAPI_VALIDATOR


def exchange_raw(port, data, timeout=10):
    """Sends these exact bytes on a new connection (from a thread: the server may answer, and
    close, before it has read them all) and returns every byte it sends until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout * SCALE) as sock:
        def send():
            try:
                sock.sendall(data)
            except OSError:
                pass  # answered and closed before all of it was read
        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
        sender.join(timeout * SCALE)
    return b"".join(chunks)


def http_request(port, method, path, body=None, headers=None, json_body=None, timeout=None):
    """One request on a new connection. json_body is encoded as JSON with Content-Type
    application/json unless headers give one."""
    headers = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body).encode()
        if not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/json"
    if isinstance(body, str):
        body = body.encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout or 30 * SCALE)
    try:
        start = time.monotonic()
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        elapsed = time.monotonic() - start
        return Response(resp.status, resp.reason, resp.headers, data, elapsed)
    finally:
        conn.close()


class Enoki:
    """The binary under test, started with a config file written to tmpdir."""

    def __init__(self, tmpdir, text=None, routes=(), gateway=None, amqp_uri=AMQP_URI,
                 exchange=EXCHANGE, args=(), env=None, name="gw.yaml", ready_path=None,
                 default_name=False, new_session=False):
        if not ENOKI_BIN:
            pytest.skip("ENOKI_BIN is not set")
        if not os.access(ENOKI_BIN, os.X_OK):
            pytest.fail("ENOKI_BIN={} is not an executable file".format(ENOKI_BIN))
        self.port = free_port()
        self.config_path = Path(tmpdir) / name
        if text is None:
            if not default_name:
                # A name of this session's, so that teardown finds its reply queues.
                gateway = dict({"name": GWNAME + "f"}, **(gateway or {}))
            text = config_text(list(routes), port=self.port, gateway=gateway, amqp_uri=amqp_uri,
                               exchange=exchange)
        else:
            text = text.replace("@PORT@", str(self.port))
        self.config_path.write_text(text)
        self.stderr_path = Path(tmpdir) / "enoki-{}.stderr".format(self.port)
        self.stdout_path = Path(tmpdir) / "enoki-{}.stdout".format(self.port)
        self.env = dict(os.environ)
        self.env.pop("ENOKI_CONFIG", None)
        self.env.update(env or {})
        cmd = [*WRAPPER, ENOKI_BIN, "--config", str(self.config_path), *args]
        self.stderr = open(self.stderr_path, "w")
        self.stdout = open(self.stdout_path, "w")
        # new_session: enoki leads a process group of its own (its workers in it), which a test
        # may signal as a whole, as systemd's stop and a terminal's Ctrl-C do.
        self.proc = subprocess.Popen(cmd, stdout=self.stdout, stderr=self.stderr, env=self.env,
                                     start_new_session=new_session)
        self.rc = None
        self._wait_listening()
        if ready_path:
            self._wait_broker(ready_path)

    def _wait_listening(self):
        deadline = time.monotonic() + 10 * SCALE
        while True:
            if self.proc.poll() is not None:
                pytest.fail("enoki exited with {} before listening; stderr:\n{}".format(
                    self.proc.returncode, self.stderr_text()))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                pytest.fail("enoki did not listen on {} within {}s; stderr:\n{}".format(
                    self.port, 10 * SCALE, self.stderr_text()))
            time.sleep(0.02)

    def _wait_broker(self, path):
        """enoki listens before its AMQP connection is up; until then a call may get 503
        broker_unavailable. Polls GET path until the answer is something else."""
        def up():
            resp = self.get(path)
            return not (resp.status == 503 and resp.body and b"broker_unavailable" in resp.body)

        wait_for(up, 10 * SCALE, interval=0.05, what="enoki's broker connection")

    def request(self, method, path, **kw):
        return http_request(self.port, method, path, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def stderr_text(self):
        self.stderr.flush()
        return self.stderr_path.read_text(errors="replace")

    def send_signal(self, signum):
        self.proc.send_signal(signum)

    def wait(self, timeout=None):
        """Waits for the exit; returns the exit code."""
        try:
            self.rc = self.proc.wait(timeout or 20 * SCALE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail("enoki did not exit within {}s; stderr:\n{}".format(
                timeout or 20 * SCALE, self.stderr_text()))
        self.stderr.close()
        self.stdout.close()
        return self.rc

    def stop(self, signum=signal.SIGTERM):
        """Stops enoki and asserts a clean exit: status 0, and no sanitizer or valgrind report."""
        if self.rc is None:
            if self.proc.poll() is None:
                self.send_signal(signum)
            self.wait()
        assert_clean_exit(self.rc, self.stderr_path.read_text(errors="replace"))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.wait()


def assert_clean_exit(rc, stderr):
    assert rc == 0, "enoki exit code {}; stderr:\n{}".format(rc, stderr[-4000:])
    assert not SANITIZER_RE.search(stderr), stderr[-4000:]
    if WRAPPER:
        assert not VALGRIND_RE.search(stderr), stderr[-4000:]


def run_enoki(*args, env=None, timeout=None):
    """Runs enoki to completion (for --check, --version, config errors); returns CompletedProcess."""
    if not ENOKI_BIN:
        pytest.skip("ENOKI_BIN is not set")
    if not os.access(ENOKI_BIN, os.X_OK):
        pytest.fail("ENOKI_BIN={} is not an executable file".format(ENOKI_BIN))
    full_env = dict(os.environ)
    full_env.pop("ENOKI_CONFIG", None)
    full_env.update(env or {})
    return subprocess.run([*WRAPPER, ENOKI_BIN, *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout or 20 * SCALE)


# The routes of the shared gateway. Timeouts are per route; the default (GATEWAY.rpc_timeout) is 10.
SHARED_ROUTES = [
    route("/echo", SVC + ".echo", methods="GET,POST,PUT"),
    route("/echo/<int:n>/<float:x>/<path:p>", SVC + ".echo", methods="GET,POST"),
    route("/kw/<a>", SVC + ".echo", methods="GET,POST"),
    route("/get/<int:value>", SVC + ".get_method"),
    route("/context", SVC + ".context", methods="GET,POST", timeout=5),
    route("/two", SVC + ".two", methods="GET,POST"),
    route("/nan", SVC + ".nan"),
    route("/unicode", SVC + ".unicode"),
    route("/fail", SVC + ".fail"),
    route("/custom_fail", SVC + ".custom_fail"),
    route("/malformed", SVC + ".malformed"),
    route("/unserializable", SVC + ".unserializable"),
    route("/slow", SVC + ".slow", timeout=1),
    route("/slow_long", SVC + ".slow", timeout=15),
    route("/no_method", SVC + ".no_such_method"),
    route("/unknown_service", NOSVC + ".echo", timeout=10),
    route("/record", SVC + ".record"),
    route("/calls", SVC + ".calls"),
    route("/other", SVC2 + ".echo"),
    route("/late/record", LATE + ".record", timeout=1),
    route("/late/record_long", LATE + ".record", timeout=15),
    route("/late/calls", LATE + ".calls", timeout=5),
    route("/fake", FAKE + ".answer", timeout=5),
]

SHARED_GATEWAY = {
    "name": GWNAME,
    "rpc_timeout": 10,
    "context_headers": {"X-Tenant": "tenant", "X-Trace-Token": "trace_token"},
}


# --- fixtures ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def session_tmp(tmp_path_factory):
    return tmp_path_factory.mktemp("enoki-it")


@pytest.fixture(scope="session")
def broker():
    b = Broker()
    b.declare_exchange(EXCHANGE)
    yield b
    b.cleanup()


@pytest.fixture(scope="session")
def peer(broker, session_tmp):
    """The session peer, serving SVC and SVC2."""
    p = Peer([SVC, SVC2], session_tmp)
    broker.track_queue("rpc-" + SVC)
    broker.track_queue("rpc-" + SVC2)
    yield p
    p.stop()


@pytest.fixture(scope="session")
def gw(peer, broker, session_tmp):
    """The shared gateway: SHARED_ROUTES, GATEWAY name GWNAME, against the session peer."""
    e = Enoki(session_tmp, routes=SHARED_ROUTES, gateway=SHARED_GATEWAY, name="shared.yaml",
              ready_path="/echo")
    yield e
    e.stop()


@pytest.fixture
def spy(broker):
    """spy(*binding_keys) -> Spy; the queues are deleted after the test."""
    made = []

    def make(*keys, exchange=EXCHANGE):
        s = broker.spy(*keys, exchange=exchange)
        made.append(s)
        return s

    yield make
    for s in made:
        broker.drop_spy(s)


@pytest.fixture
def enoki(tmp_path):
    """enoki(**Enoki kwargs) -> a started Enoki; stopped (and checked for a clean exit) afterwards."""
    started = []

    def start(**kw):
        e = Enoki(tmp_path, **kw)
        started.append(e)
        return e

    yield start
    for e in started:
        e.stop()


class FakeService(threading.Thread):
    """A service the test answers by hand: handler(channel, method, props, body) is called for every
    request on rpc-<service>, which is declared and bound as nameko does. The handler acks."""

    def __init__(self, broker, service, handler, exchange=EXCHANGE):
        super().__init__(daemon=True)
        self.service = service
        self.handler = handler
        self.exchange = exchange
        self.ready = threading.Event()
        self.stopping = False
        self.error = None
        broker.track_queue("rpc-" + service)

    def run(self):
        import pika

        try:
            conn = pika.BlockingConnection(pika_params())
            ch = conn.channel()
            ch.exchange_declare(self.exchange, exchange_type="topic", durable=True)
            queue = "rpc-" + self.service
            ch.queue_declare(queue, durable=True)
            ch.queue_bind(queue, self.exchange, routing_key=self.service + ".*")
            ch.basic_consume(queue, lambda c, m, p, b: self.handler(c, m, p, b))
            self.ready.set()
            while not self.stopping:
                conn.process_data_events(time_limit=0.05)
            conn.close()
        except Exception as exc:  # reported by stop()
            self.error = exc
            self.ready.set()

    def start_and_wait(self):
        self.start()
        self.ready.wait(10)
        assert self.error is None, self.error
        return self

    def stop(self):
        self.stopping = True
        self.join(10)
        assert self.error is None, self.error


@pytest.fixture
def fake_service(broker):
    started = []

    def start(service, handler):
        f = FakeService(broker, service, handler).start_and_wait()
        started.append(f)
        return f

    yield start
    for f in started:
        f.stop()


@pytest.fixture
def start_peer(broker, tmp_path):
    """start_peer(*services) -> a Peer started now; stopped (and checked) after the test."""
    started = []

    def start(*services, prefetch=10):
        for s in services:
            broker.track_queue("rpc-" + s)
        p = Peer(services, tmp_path, prefetch=prefetch)
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()


def error_body(resp, status, code):
    """Asserts resp is a JSON error of this status and code; returns the decoded body."""
    assert resp.status == status, resp
    assert resp.media_type == "application/json", resp.content_type
    body = resp.json()
    assert isinstance(body, dict), body
    assert body.get("error") == code, body
    assert isinstance(body.get("message"), str) and body["message"], body
    assert "call_id" in body, body
    return body


def remote_error_body(resp, status, code, exc_type, exc_path, exc_args, value):
    """An error from the remote service: error_body plus the four nameko keys, and call_id equal to
    the X-Call-Id header."""
    body = error_body(resp, status, code)
    assert body.get("exc_type") == exc_type, body
    assert body.get("exc_path") == exc_path, body
    assert body.get("exc_args") == exc_args, body
    assert body.get("value") == value, body
    assert body["call_id"] is not None and body["call_id"] == resp.header("X-Call-Id"), (
        body, resp.header("X-Call-Id"))
    return body


@pytest.fixture
def connect():
    """connect(enoki, **WSClient kwargs) -> an upgraded WSClient (timeout 5 s x SCALE unless given;
    .port_owner is the Enoki); dropped after the test."""
    from wsclient import WSClient

    made = []

    def make(gw, **kw):
        kw.setdefault("timeout", 5 * SCALE)
        c = WSClient(gw.port, **kw)
        c.port_owner = gw
        made.append(c)
        return c

    yield make
    for c in made:
        c.abort()


def refused(gw, **kw):
    """The HandshakeRefused of an upgrade (to an Enoki, or a port) that must not succeed."""
    from wsclient import HandshakeRefused, WSClient

    kw.setdefault("timeout", 5 * SCALE)
    try:
        c = WSClient(gw if isinstance(gw, int) else gw.port, **kw)
    except HandshakeRefused as exc:
        return exc
    c.abort()
    pytest.fail("the upgrade with {} succeeded (101); expected a refusal".format(kw))


# --- extra RabbitMQ nodes (tests/integration/rabbit_nodes.py) ---------------------------------------------


@pytest.fixture(scope="session")
def rabbit_certs(tmp_path_factory):
    """The test certificates (rabbit_nodes.Certs), made once per session with openssl (~0.3 s)."""
    from rabbit_nodes import Certs

    return Certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def tls_node(rabbit_certs, tmp_path_factory):
    """A RabbitMQ node of its own with a TLS listener (tls_node.tls_port, amqps_uri()) serving the
    localhost certificate, EXTERNAL login enabled and the user "enoki-client" (no password) created;
    plain AMQP on tls_node.port. Stopped, with nothing left running, after the module."""
    from rabbit_nodes import RabbitNode

    node = RabbitNode(tmp_path_factory.mktemp("tls-node"), tls=rabbit_certs,
                      users={"enoki-client": None})
    node.start()
    yield node
    node.stop()


@pytest.fixture(scope="module")
def rabbit_cluster(rabbit_certs, tmp_path_factory):
    """Two RabbitMQ nodes of their own joined in one cluster (rabbit_cluster.a, .b), each with plain
    AMQP and a TLS listener like tls_node's. Module scope: a test that stops a node calls
    rabbit_cluster.ensure_running() first if it needs both. Stopped after the module."""
    from rabbit_nodes import RabbitCluster

    cluster = RabbitCluster(tmp_path_factory.mktemp("cluster"), tls=rabbit_certs,
                            users={"enoki-client": None})
    cluster.start()
    yield cluster
    cluster.stop()
