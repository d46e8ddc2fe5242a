"""A short pass of the hostile-traffic harness (tests/hostile/hostile.py, issue 13) in the suite, so
that `make test`, `make check` and `make valgrind` run it; `make hostile HOSTILE_SECONDS=...` is the
long run.

The harness starts its own enoki (ENOKI_BIN, under ENOKI_WRAPPER when set) and its own test peer
on an exchange of its own, and deletes what it declared at the end. It runs batches of generated
malformed, oversized and slow requests and websocket frames for SECONDS and checks, after every
batch, that /healthz answers within 100 ms, that enoki's CPU goes back to idle, that its RSS goes
back near its baseline, and that no request got more than one answer; then that enoki exits 0 on
SIGTERM without a sanitizer or valgrind report.

Under a wrapper (valgrind) conftest's SCALE (10) is passed on as --scale: every time bound of the
harness is multiplied by it (the /healthz bound becomes 1 s, the wait for an answer 30 s, the time
CPU has to fall back to idle 50 s); the idle threshold stays 5 % of a core, since an idle enoki
under valgrind still sleeps in epoll. The pass is as long there (fewer, slower batches: the long
runs are `make hostile`, without a wrapper), and RSS is not checked (valgrind and ASan keep freed
memory; the harness detects an ASan build itself). HOSTILE_SEED fixes the seed (otherwise each run draws one and prints it).
"""

import os
import shlex
import subprocess
import sys

import pytest

from conftest import AMQP_URI, ENOKI_BIN, REPO, SCALE, WRAPPER

HARNESS = REPO / "tests" / "hostile" / "hostile.py"
SECONDS = 20
ISOLATE_SECONDS = 60


@pytest.mark.waits
def test_hostile_traffic_short_pass(tmp_path):
    if not ENOKI_BIN:
        pytest.skip("ENOKI_BIN is not set")
    cmd = [sys.executable, str(HARNESS), "--enoki", ENOKI_BIN, "--seconds", str(SECONDS),
           "--scale", str(SCALE), "--wrapper", shlex.join(WRAPPER), "--amqp-uri", AMQP_URI,
           "--artifacts", str(tmp_path), "--isolate-seconds", str(ISOLATE_SECONDS)]
    if os.environ.get("HOSTILE_SEED"):
        cmd += ["--seed", os.environ["HOSTILE_SEED"]]
    # Bounded: the pass, a failing batch's isolation, and enoki's start and stop.
    limit = SECONDS + (ISOLATE_SECONDS + 120) * SCALE
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=limit, env=dict(os.environ, ENOKI_WRAPPER=shlex.join(WRAPPER)))
    assert proc.returncode == 0, "the hostile-traffic harness failed:\n" + proc.stdout[-30000:]
    print(proc.stdout)  # shown with -s: the batches, their timings, the seed
