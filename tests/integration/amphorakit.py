"""The amphora test peer (tests/peer/amphora_peer.py) as a child process, for the tests."""

import select
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from conftest import AMQP_URI, SCALE

PEER = Path(__file__).resolve().parents[2] / "tests" / "peer" / "amphora_peer.py"


class AmphoraPeer:
    def __init__(self, tmpdir, *args, amqp_uri=None):
        self.stderr_path = Path(tmpdir) / "amphora-peer-{}.stderr".format(uuid.uuid4().hex[:8])
        self.stderr = open(self.stderr_path, "w")
        cmd = [sys.executable, str(PEER), "--amqp-uri", amqp_uri or AMQP_URI, *args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        deadline = time.monotonic() + 10 * SCALE
        line = ""
        while time.monotonic() < deadline and self.proc.poll() is None:
            if select.select([self.proc.stdout], [], [], 0.1)[0]:
                line = self.proc.stdout.readline()
                break
        if line.strip() != "ready":
            self.proc.kill()
            self.proc.wait()
            pytest.fail("the amphora peer did not start:\n" + self.stderr_path.read_text())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(20 * SCALE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc.stdout.close()
        self.stderr.close()
        text = self.stderr_path.read_text()
        assert rc == 0, "amphora peer exit code {}; stderr:\n{}".format(rc, text)
        assert "POISON" not in text, text
        return text
