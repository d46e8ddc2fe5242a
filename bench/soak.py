#!/usr/bin/python3
"""bench/soak.py - enoki under a mixed load for a long while, its RSS printed every 30 s (issue 20).

    bench/soak.py                      10 minutes (make all bench first; bench/README.md, "Soak")
    bench/soak.py --minutes 2 --interval 10

What runs at once, for --minutes:
  * REST: wrk, 8 connections, GET /echo/<int:value> (the C echo backend behind it, nameko's wire);
  * websocket calls: ws_bench, 8 sockets calling bench_echo.echo one call at a time each;
  * broadcasts: a nameko-style client calls enoki's own service (broadcast(channel, event, data),
    as a Python service's ServiceRpc would) 20 times a second, to a channel that 16 sockets are
    subscribed to; every socket checks that it gets every broadcast, in order;
  * a socket opened and closed again every second (the per-socket state must go with it);
  * SIGHUP every 30 s (each builds a new config generation; the old one must be freed).

Every --interval seconds it prints one line: elapsed seconds, enoki's RSS, and the counts so far,
and one more at the full duration. At the end: the RSS at the first sample after the warm-up, the
last and the highest, the growth over the second half, and whether any subscribed socket missed a
broadcast. It asserts no timing and no RSS bound: the exit status is 0 when everything ran and
every socket got every broadcast, in order.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import pika  # noqa: E402  (Debian's python3-pika, as the integration tests use)

from ports import free_port  # noqa: E402
from wsclient import WSClient  # noqa: E402

VHOST = "enoki_soak"
NAME = "enoki_soak"
CHANNEL = "soak"
EXCHANGE = "nameko-rpc"


def log(*parts):
    print(*parts, flush=True)


def rss_kb(pid):
    with open("/proc/{}/status".format(pid)) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def rabbitmqctl(*args):
    subprocess.run(["rabbitmqctl", "-q"] + list(args), check=True, stdout=subprocess.DEVNULL)


class Broadcaster(threading.Thread):
    """enoki's broadcast(channel, event, data), called as nameko's ServiceRpc calls a service: a
    publish to the rpc exchange, routing key <name>.broadcast, reply_to an own queue, and the
    reply awaited before the next call."""

    def __init__(self, uri, rate, stop):
        super().__init__(daemon=True)
        self.uri, self.period, self.stop = uri, 1.0 / rate, stop
        self.published = 0  # broadcasts published: seq 0 .. published - 1
        self.sent = 0  # of them, those whose reply came back: seq 0 .. sent - 1 (one at a time)
        self.failed = None

    def run(self):
        try:
            conn = pika.BlockingConnection(pika.URLParameters(self.uri))
            ch = conn.channel()
            reply_to = str(uuid.uuid4())
            queue = ch.queue_declare("", exclusive=True, auto_delete=True).method.queue
            ch.queue_bind(queue, EXCHANGE, routing_key=reply_to)
            next_at = time.monotonic()
            while not self.stop.is_set():
                cid = str(uuid.uuid4())
                body = json.dumps({"args": [CHANNEL, "tick", {"seq": self.sent}], "kwargs": {}})
                props = pika.BasicProperties(
                    content_type="application/json", content_encoding="utf-8", delivery_mode=2,
                    correlation_id=cid, reply_to=reply_to,
                    headers={"nameko.call_id_stack": ["soak.broadcast.{}".format(cid)]})
                ch.basic_publish(EXCHANGE, NAME + ".broadcast", body.encode(), props)
                self.published += 1
                deadline = time.monotonic() + 10
                while True:
                    method, rprops, raw = ch.basic_get(queue, auto_ack=True)
                    if method and rprops.correlation_id == cid:
                        reply = json.loads(raw)
                        if reply.get("error") is not None:
                            raise RuntimeError("broadcast failed: {}".format(raw))
                        break
                    if time.monotonic() > deadline:
                        raise RuntimeError("no reply to broadcast {}".format(self.sent))
                    time.sleep(0.002)
                self.sent += 1
                next_at += self.period
                time.sleep(max(0.0, next_at - time.monotonic()))
            conn.close()
        except Exception as exc:  # noqa: BLE001  (reported at the end)
            self.failed = repr(exc)
            self.stop.set()


class Subscriber(threading.Thread):
    """One socket subscribed to CHANNEL before the first broadcast is sent, so it must get every
    broadcast from seq 0 on, in order: each frame's seq must be the one after the last (the rule
    is checked in main, see broadcast_failures)."""

    def __init__(self, port, stop):
        super().__init__(daemon=True)
        self.stop = stop
        self.ws = WSClient(port)
        self.ws.request("subscribe", {"channel": CHANNEL}, "sub")
        answer = self.ws.recv_json(10)
        if answer.get("success") is not True:
            raise RuntimeError("subscribe refused: {}".format(answer))
        self.received = 0
        self.next_seq = 0  # the seq the next frame must carry
        self.out_of_order = 0  # frames whose seq was not next_seq (a gap, a duplicate, a reorder)
        self.first_wrong = None  # (expected, got) of the first of them
        self.failed = None

    def run(self):
        try:
            while not self.stop.is_set():
                try:
                    frame = self.ws.recv_json(1)
                except TimeoutError:
                    continue
                if frame.get("event") != "tick":
                    continue
                seq = frame["data"]["seq"]
                if seq != self.next_seq:
                    self.out_of_order += 1
                    if self.first_wrong is None:
                        self.first_wrong = (self.next_seq, seq)
                self.next_seq = seq + 1
                self.received += 1
        except Exception as exc:  # noqa: BLE001
            if not self.stop.is_set():
                self.failed = repr(exc)


def broadcast_failures(i, s, broadcaster):
    """What socket i got wrong. It was subscribed before broadcast 0 was published, and it was read
    until it had every broadcast whose reply came back, so it must have got exactly seq 0, 1, ...,
    sent - 1, each once and in that order: no gap, no duplicate, none missing at the start or the
    end. Only a broadcast published but never answered (the broadcaster stopped on a failure, which
    fails the soak anyway) may or may not have followed them."""
    if s.out_of_order:
        expected, got = s.first_wrong
        return ["socket {}: frames out of sequence: {} (the first: seq {} where {} was "
                "due)".format(i, s.out_of_order, got, expected)]
    if not broadcaster.sent <= s.received <= broadcaster.published:
        return ["socket {}: got the first {} broadcasts in order, but {} were answered ({} "
                "published)".format(i, s.received, broadcaster.sent, broadcaster.published)]
    return []


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--interval", type=float, default=30)
    ap.add_argument("--enoki", default=os.path.join(ROOT, "build", "enoki"))
    ap.add_argument("--tools", default=os.path.join(ROOT, "build", "bench"))
    ap.add_argument("--warmup", type=float, default=None,
                    help="seconds before the first sample the growth is measured from "
                         "(default: one interval)")
    args = ap.parse_args()
    duration = args.minutes * 60
    warmup = args.interval if args.warmup is None else args.warmup
    for tool in ("echo_backend", "ws_bench"):
        if not os.access(os.path.join(args.tools, tool), os.X_OK):
            sys.exit("soak: {} is missing: run make all bench".format(tool))

    subprocess.run([os.path.join(ROOT, "scripts", "broker.sh")], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", VHOST], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    rabbitmqctl("add_vhost", VHOST)
    rabbitmqctl("set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*")
    uri = "amqp://guest:guest@127.0.0.1:5672/" + VHOST
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="enoki-soak-")
    config = os.path.join(tmp, "enoki.yaml")
    with open(config, "w") as f:
        f.write("""AMQP_URI: {uri}
WEB_SERVER_ADDRESS: 127.0.0.1:{port}
rpc_exchange: {exchange}
GATEWAY:
  name: {name}
  expose: [bench_echo.*]
  channels: [{channel}]
  log_level: warn
routes:
  - rule: /echo/<int:value>
    rpc: bench_echo.echo
""".format(uri=uri, port=port, exchange=EXCHANGE, name=NAME, channel=CHANNEL))

    procs = []
    stop = threading.Event()  # the load: the sampling loop and the broadcaster
    stop_reading = threading.Event()  # the subscribed sockets, once they have read to the end

    def start(cmd, out):
        p = subprocess.Popen(cmd, stdout=open(os.path.join(tmp, out), "w"),
                             stderr=subprocess.STDOUT)
        procs.append(p)
        return p

    try:
        start([os.path.join(args.tools, "echo_backend"), "--uri", uri], "backend.log")
        enoki = start([args.enoki, "--config", config], "enoki.log")
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                if time.monotonic() > deadline or enoki.poll() is not None:
                    sys.exit("soak: enoki did not start (see {})".format(tmp))
                time.sleep(0.1)
        time.sleep(1)  # the broker connection and the hub's queue

        subscribers = [Subscriber(port, stop_reading) for _ in range(16)]
        for s in subscribers:
            s.start()
        broadcaster = Broadcaster(uri, 20, stop)
        broadcaster.start()
        seconds = str(max(1, int(duration)))
        load = [start(["wrk", "-t1", "-c8", "-d" + seconds + "s", "--timeout", "10s",
               "http://127.0.0.1:{}/echo/42".format(port)], "wrk.log")]
        load.append(start([os.path.join(args.tools, "ws_bench"), "--port", str(port), "--mode", "calls",
               "--sockets", "8", "--duration", seconds, "--warmup", "0",
               "--target", "bench_echo.echo"], "ws_bench.log"))

        t0 = time.monotonic()
        samples, reloads, churned = [], 0, 0
        next_sample, next_hup, next_churn = t0 + args.interval, t0 + 30, t0 + 1
        log("soak: {:.0f} s of REST, websocket calls, broadcasts to {} sockets and SIGHUPs; "
            "RSS every {:.0f} s (logs in {})".format(duration, len(subscribers), args.interval,
                                                      tmp))
        log("  elapsed_s  rss_kb  broadcasts  reloads  sockets_churned")
        log("  {:9.0f} {:7d} {:11d} {:8d} {:16d}".format(0, rss_kb(enoki.pid), 0, 0, 0))
        while time.monotonic() - t0 < duration and not stop.is_set():
            now = time.monotonic()
            if enoki.poll() is not None:
                sys.exit("soak: enoki exited with {} (see {})".format(enoki.returncode, tmp))
            if now >= next_hup:
                enoki.send_signal(signal.SIGHUP)
                reloads += 1
                next_hup += 30
            if now >= next_churn:
                WSClient(port).close()
                churned += 1
                next_churn += 1
            if now >= next_sample:
                rss = rss_kb(enoki.pid)
                samples.append((now - t0, rss))
                log("  {:9.0f} {:7d} {:11d} {:8d} {:16d}".format(
                    now - t0, rss, broadcaster.sent, reloads, churned))
                next_sample += args.interval
            time.sleep(0.05)
        # One more sample at the end: at the full duration, or where a failure stopped the run.
        if enoki.poll() is None:
            rss = rss_kb(enoki.pid)
            samples.append((time.monotonic() - t0, rss))
            log("  {:9.0f} {:7d} {:11d} {:8d} {:16d}".format(
                samples[-1][0], rss, broadcaster.sent, reloads, churned))
        for p in load:  # their own summaries, written when their time is up
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                pass
        stop.set()
        broadcaster.join(15)  # it finishes the call under way: published and sent are final
        if broadcaster.is_alive() and not broadcaster.failed:
            broadcaster.failed = "still calling 15 s after the stop"
        # Every socket reads on until it has every answered broadcast (up to 10 s), then a little
        # longer, so that a duplicate or an unexpected extra after the last would show too.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(
                s.is_alive() and s.next_seq < broadcaster.sent for s in subscribers):
            time.sleep(0.05)
        time.sleep(0.5)
        stop_reading.set()
        for s in subscribers:
            s.join(5)
            s.ws.close()
    finally:
        stop.set()
        stop_reading.set()
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", VHOST], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    failures = []
    if broadcaster.failed:
        failures.append("broadcaster: " + broadcaster.failed)
    for i, s in enumerate(subscribers):
        if s.failed:
            failures.append("socket {}: {}".format(i, s.failed))
        failures.extend(broadcast_failures(i, s, broadcaster))
    measured = [(t, r) for t, r in samples if t >= warmup]
    if measured:
        first, last = measured[0][1], measured[-1][1]
        half = [r for t, r in measured if t >= measured[0][0] + (measured[-1][0] -
                                                                 measured[0][0]) / 2]
        log("soak: RSS after the warm-up {} kB, at the end {} kB, highest {} kB; over the second "
            "half {:+d} kB".format(first, last, max(r for _, r in measured),
                                   (half[-1] - half[0]) if half else 0))
    wrk_out = open(os.path.join(tmp, "wrk.log")).read()
    ws_out = open(os.path.join(tmp, "ws_bench.log")).read()
    rest = [line for line in wrk_out.splitlines() if "requests in" in line]
    ws = [line for line in ws_out.splitlines() if line.startswith("RESULT")]
    log("soak: REST {}; websocket {}; {} broadcasts, each to {} sockets; {} reloads".format(
        rest[0].strip() if rest else "(no wrk summary)", ws[0] if ws else "(no ws_bench result)",
        broadcaster.sent, len(subscribers), reloads))
    if failures:
        log("soak: FAILED\n  " + "\n  ".join(failures))
        log("soak: enoki's config and logs are in " + tmp)
        return 1
    log("soak: every socket got every broadcast, in order")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
