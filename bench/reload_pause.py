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


def run(binary, sockets, port, after, workdir):
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
        hup = time.monotonic()
        proc.send_signal(signal.SIGHUP)
        time.sleep(after)
        done.set()
        asker.join()
        before = sorted(t for s, t in times if s < hup)
        later = sorted(t for s, t in times if s >= hup)
        open_after = sum(1 for c in clients if c.call("get_subscriptions", None, "x", timeout=10)
                         .get("success"))
        print("{}: {} sockets; /healthz before the SIGHUP max {:.1f} ms, median {:.2f} ms ({}); "
              "after it max {:.1f} ms, median {:.2f} ms ({}); {} sockets open after".format(
                  binary, sockets, before[-1] * 1e3, before[len(before) // 2] * 1e3, len(before),
                  later[-1] * 1e3, later[len(later) // 2] * 1e3, len(later), open_after))
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
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, args.sockets + 1024)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    ok = True
    for i, binary in enumerate(b for b in (args.baseline, args.binary) if b):
        with tempfile.TemporaryDirectory(prefix="reload_pause.") as workdir:
            ok = run(os.path.abspath(binary), args.sockets, args.port + i, args.after,
                     workdir) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
