"""Every example in the README runs as written: its config is examples/gateway.yaml, and each
`$ curl ...` line of its console block, run against enoki with that file, prints what the README shows.

The README's service is called `http_service` on the default exchange `nameko-rpc`, names a real
cluster or `make demo` may be using; so this test runs in a vhost of its own, made with rabbitmqctl.
"""

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from conftest import (AMQP_URI, ENOKI_BIN, PEER_SCRIPT, REPO, SCALE, WRAPPER, assert_clean_exit,
                      free_port, wait_for)

README = REPO / "README.md"
EXAMPLE = REPO / "examples" / "gateway.yaml"


def readme_blocks(language):
    text = README.read_text()
    return re.findall(r"```{}\n(.*?)```".format(language), text, re.S)


def console_examples():
    """(command, expected output lines) for each `$ ` line of the README's console blocks."""
    examples = []
    for block in readme_blocks("console"):
        command, expected = None, []
        for line in block.splitlines():
            if line.startswith("$ "):
                if command:
                    examples.append((command, expected))
                command, expected = line[2:], []
            else:
                expected.append(line)
        if command:
            examples.append((command, expected))
    return examples


def rabbitmqctl(*args):
    return subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def vhost():
    host = re.sub(r"^amqps?://(?:[^@/]*@)?([^:/]*).*$", r"\1", AMQP_URI)
    if host not in ("127.0.0.1", "localhost"):
        pytest.skip("needs rabbitmqctl on the broker's machine")
    name = "enoki-readme-" + uuid.uuid4().hex[:8]
    if rabbitmqctl("add_vhost", name).returncode != 0:
        pytest.skip("rabbitmqctl cannot add a vhost here")
    try:
        assert rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*").returncode == 0
        yield name
    finally:
        rabbitmqctl("delete_vhost", name)


@pytest.fixture(scope="module")
def readme_gateway(vhost, tmp_path_factory):
    if not ENOKI_BIN:
        pytest.skip("ENOKI_BIN is not set")
    tmp = tmp_path_factory.mktemp("readme")
    uri = re.sub(r"/[^/@]*$", "/", AMQP_URI.rstrip("/") + "/") + vhost
    peer_log = open(tmp / "peer.log", "w")
    peer = subprocess.Popen([sys.executable, str(PEER_SCRIPT), "--amqp-uri", uri, "--exchange",
                             "nameko-rpc", "--service", "http_service"],
                            stdout=subprocess.PIPE, stderr=peer_log, text=True)
    assert peer.stdout.readline().strip() == "ready", (tmp / "peer.log").read_text()
    port = free_port()
    env = dict(os.environ, AMQP_URI=uri, WEB_SERVER_ADDRESS="127.0.0.1:{}".format(port))
    env.pop("ENOKI_CONFIG", None)
    stderr_path = tmp / "enoki.stderr"
    with open(stderr_path, "w") as stderr:
        enoki = subprocess.Popen([*WRAPPER, ENOKI_BIN, "--config", str(EXAMPLE)], env=env,
                                 stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        # Listening, and connected: /get/1 answers something other than 503 broker_unavailable.
        def up():
            out = subprocess.run(["curl", "-s", "localhost:{}/get/1".format(port)],
                                 capture_output=True, text=True)
            return out.returncode == 0 and "broker_unavailable" not in out.stdout
        wait_for(up, 15 * SCALE, interval=0.05, what="enoki with examples/gateway.yaml")
        yield port
    finally:
        enoki.terminate()
        rc = enoki.wait(30 * SCALE)
        peer.terminate()
        peer.wait(10)
        peer_log.close()
        assert_clean_exit(rc, stderr_path.read_text(errors="replace"))


def test_readme_config_is_the_example_file():
    blocks = readme_blocks("yaml")
    assert blocks, "the README shows no config"
    assert blocks[0] in EXAMPLE.read_text(), "the README's config differs from examples/gateway.yaml"


def test_readme_example_config_checks():
    out = subprocess.run([ENOKI_BIN, "--config", str(EXAMPLE), "--check"], capture_output=True,
                         text=True, env={k: v for k, v in os.environ.items() if k != "ENOKI_CONFIG"})
    assert out.returncode == 0, out.stderr
    for rule, target in (("/get/<int:value>", "http_service.get_method"),
                         ("/echo", "http_service.echo"), ("/fail", "http_service.fail")):
        assert any(rule in line and target in line for line in out.stdout.splitlines()), out.stdout


@pytest.mark.parametrize("index", range(1, len(readme_blocks("yaml"))))
def test_readme_other_configs_check(tmp_path, index):
    """Every other YAML block of the README is a whole config that enoki --check accepts, with the
    environment variables it names set (those of the docs that are fragments are in docs/)."""
    path = tmp_path / "readme-{}.yaml".format(index)
    text = readme_blocks("yaml")[index]
    if "/etc/enoki/" in text:
        # The TLS example's files, made here: a self-signed client certificate that is its own CA.
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=enoki", "-days", "1",
                        "-keyout", str(tmp_path / "client.key"), "-out",
                        str(tmp_path / "client.pem")], check=True, capture_output=True)
        (tmp_path / "ca.pem").write_bytes((tmp_path / "client.pem").read_bytes())
        text = text.replace("/etc/enoki/", str(tmp_path) + "/")
    path.write_text(text)
    env = {k: v for k, v in os.environ.items() if k != "ENOKI_CONFIG"}
    env.update(JWT_SECRET="readme-secret", ENOKI_ADMIN_TOKEN="readme-admin")
    out = subprocess.run([ENOKI_BIN, "--config", str(path), "--check"], capture_output=True,
                         text=True, env=env)
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("command,expected", console_examples(), ids=lambda v: str(v)[:60])
def test_readme_curl_example(readme_gateway, command, expected):
    assert command.startswith("curl "), command
    command = command.replace("localhost:8000", "localhost:{}".format(readme_gateway))
    out = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    got = out.stdout.replace("\r\n", "\n").rstrip("\n").split("\n")
    if " -i " in command:
        # The README leaves out Date and Content-Length: its lines must appear in this order.
        it = iter(got)
        missing = [line for line in expected if not any(line == g for g in it)]
        assert not missing, "README lines not printed: {}\ngot:\n{}".format(missing, out.stdout)
    else:
        assert got == expected
