#!/usr/bin/python3
"""bench/reload_pause.py - how long a SIGHUP holds enoki's loop while it decides on open
websockets again (docs/auth.md, "Websockets"; bench/README.md has the figures).

    bench/reload_pause.py build/enoki                  3,000 sockets, ES256 tokens of their own
    bench/reload_pause.py build/enoki --sockets 10000 --baseline /tmp/old/enoki

For each binary (the baseline first): enoki starts with GATEWAY.auth.websocket optional and one
P-256 key in a JWK Set file, the sockets open, each with a token of its own (minted by PyJWT), and
a client asks GET /healthz over one kept-alive connection every millisecond. One second in, enoki
gets a SIGHUP (a reload clears the token cache, so every token is verified again) and the client
goes on for --after seconds. It prints the largest and the median /healthz time before and after
the SIGHUP: the largest after it is the longest the loop was held. It asserts no timing; the exit
status is 0 when every socket was still open at the end (their tokens still pass).

With --revoke the SIGHUP comes with another key in the JWK Set, so that every token is revoked:
the socket opened first (the last the hub's slices come to) sends a frame right after the SIGHUP,
and must be closed (1008) rather than answered; the exit status is 0 when it was, and every other
socket was closed too.

Needs a broker on localhost:5672 (scripts/broker.sh) and the test dependencies (python3-jwt,
python3-cryptography): it mints tokens with tests/integration/authkit.py and opens sockets with
tests/integration/wsclient.py.
"""

import argparse
import http.client
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from authkit import AUDIENCE, ISSUER, KeyRing  # noqa: E402
from wsclient import WSClient  # noqa: E402


def healthz(port, timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request("GET", "/healthz")
    conn.getresponse().read()
    return conn


def run(binary, sockets, port, after, workdir, revoke):
    keys = KeyRing(kinds=("p256",))
    keys.write(os.path.join(workdir, "jwks.json"))
    config = os.path.join(workdir, "enoki.yaml")
    with open(config, "w") as f:
        f.write("AMQP_URI: amqp://guest:guest@127.0.0.1:5672/\n"
                "WEB_SERVER_ADDRESS: 127.0.0.1:{port}\n"
                "GATEWAY:\n"
                "  name: reload_pause_{port}\n"
                "  websocket_max_sockets: {cap}\n"
                "  auth:\n"
                "    websocket: optional\n"
                "    jwt:\n"
                "      algorithms: [ES256]\n"
                "      jwks_file: {dir}/jwks.json\n"
                "      issuer: {iss}\n"
                "      audience: {aud}\n".format(port=port, cap=sockets + 100, dir=workdir,
                                                 iss=ISSUER, aud=AUDIENCE))
    log = open(os.path.join(workdir, "enoki.log"), "w")
    proc = subprocess.Popen([binary, "--config", config], stdout=log, stderr=log)
    try:
        for _ in range(100):
            try:
                healthz(port, 1).close()
                break
            except OSError:
                time.sleep(0.1)
        clients = [WSClient(port, headers={"Authorization": "Bearer " + keys.mint(
            "ES256", sub="u%d" % i)}, timeout=10) for i in range(sockets)]
        times = []
        done = threading.Event()

        def ask():
            conn = healthz(port)
            while not done.is_set():
                start = time.monotonic()
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                times.append((start, time.monotonic() - start))
                time.sleep(0.001)

        asker = threading.Thread(target=ask)
        asker.start()
        time.sleep(1)
        if revoke:
            KeyRing(kinds=("p256",)).write(os.path.join(workdir, "jwks.json"))
        hup = time.monotonic()
        proc.send_signal(signal.SIGHUP)
        answered = None
        if revoke:
            time.sleep(0.05)  # the reload itself (the config and keys read) comes first
            clients[0].send_text('{"method": "get_subscriptions", "correlation_id": 1}')
            try:
                answered = clients[0].recv_text(10)
            except Exception:  # noqa: BLE001 - closed, as it must be
                answered = None
        time.sleep(after)
        done.set()
        asker.join()
        before = sorted(t for s, t in times if s < hup)
        later = sorted(t for s, t in times if s >= hup)
        open_after = 0
        for c in clients[1:] if revoke else clients:
            try:
                open_after += bool(c.call("get_subscriptions", None, "x", timeout=10)
                                   .get("success"))
            except Exception:  # noqa: BLE001 - a closed socket
                pass
        print("{}: {} sockets; /healthz before the SIGHUP max {:.1f} ms, median {:.2f} ms ({}); "
              "after it max {:.1f} ms, median {:.2f} ms ({}); {} sockets open after".format(
                  binary, sockets, before[-1] * 1e3, before[len(before) // 2] * 1e3, len(before),
                  later[-1] * 1e3, later[len(later) // 2] * 1e3, len(later), open_after))
        if revoke:
            print("  the first socket's frame after the SIGHUP: {}".format(
                "answered: " + answered if answered else "refused (closed)"))
            return answered is None and open_after == 0
        return open_after == sockets
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        log.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("binary")
    parser.add_argument("--baseline", help="another enoki binary, measured first")
    parser.add_argument("--sockets", type=int, default=3000)
    parser.add_argument("--port", type=int, default=18340)
    parser.add_argument("--after", type=float, default=3.0, help="seconds asked after the SIGHUP")
    parser.add_argument("--revoke", action="store_true",
                        help="the SIGHUP brings another key: every token is revoked")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, args.sockets + 1024)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    ok = True
    for i, binary in enumerate(b for b in (args.baseline, args.binary) if b):
        with tempfile.TemporaryDirectory(prefix="reload_pause.") as workdir:
            ok = run(os.path.abspath(binary), args.sockets, args.port + i, args.after,
                     workdir, args.revoke) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
