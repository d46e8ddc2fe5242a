"""The command line and the configuration file: --version, --help, --check, --define, ENOKI_CONFIG,
${VAR:default} substitution, and config errors (exit 2, "<file>:<line>: <key>")."""

import os
import re

import pytest

from conftest import EXCHANGE, GWNAME, SVC, config_text, route, run_enoki

# --check must not need a broker: every config here points at a port where none listens.
NO_BROKER = "amqp://guest:guest@127.0.0.1:1/"


def write(tmp_path, text, name="gw.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def number_in(line, value):
    """True if the number value (e.g. 5 or 7.5) appears in line as a number of its own."""
    text = re.escape("%g" % value)
    return re.search(r"(?<![\w.]){}(\.0+)?s?(?![\w.])".format(text), line) is not None


def route_line(stdout, rule):
    pattern = re.compile(r"(^|\s){}(\s|$)".format(re.escape(rule)))
    lines = [l for l in stdout.splitlines() if pattern.search(l)]
    assert len(lines) == 1, "expected one line for {!r} in:\n{}".format(rule, stdout)
    return lines[0]


def test_version():
    out = run_enoki("--version")
    assert out.returncode == 0, out
    assert re.match(r"^enoki \S+\n?$", out.stdout), out.stdout


def test_help():
    out = run_enoki("--help")
    assert out.returncode == 0, out
    assert "--config" in out.stdout and "--check" in out.stdout and "--define" in out.stdout, out


def test_unknown_option_exits_2():
    out = run_enoki("--no-such-option")
    assert out.returncode == 2, out
    assert out.stderr.strip(), "expected a message on stderr"


def test_missing_config_file_exits_2(tmp_path):
    missing = str(tmp_path / "nope.yaml")
    out = run_enoki("--config", missing, "--check")
    assert out.returncode == 2, out
    assert "nope.yaml" in out.stderr, out.stderr


CHECK_CONFIG = """\
AMQP_URI: {uri}
rpc_exchange: {exchange}
GATEWAY:
  rpc_timeout: 13
routes:
  - rule: /get/<int:value>
    rpc: {svc}.get_method
    timeout: 7.5
  - rule: /items/<path:p>
    methods: GET,POST
    rpc: {svc}.echo
    mode: json
""".format(uri=NO_BROKER, exchange=EXCHANGE, svc=SVC)


def check_route_table(stdout):
    first = route_line(stdout, "/get/<int:value>")
    assert SVC + ".get_method" in first
    assert "GET" in first and "json" in first
    assert number_in(first, 7.5), first
    second = route_line(stdout, "/items/<path:p>")
    assert SVC + ".echo" in second
    assert "GET" in second and "POST" in second and "json" in second
    # No timeout on the route: GATEWAY.rpc_timeout applies.
    assert number_in(second, 13), second


def test_check_prints_route_table(tmp_path):
    out = run_enoki("--config", write(tmp_path, CHECK_CONFIG), "--check")
    assert out.returncode == 0, out
    check_route_table(out.stdout)


@pytest.mark.parametrize("workers", [None, 3, "auto"])
def test_check_says_how_many_workers(tmp_path, workers):
    """--check's first line says how many worker processes enoki would run: what auto comes to on
    this machine (its CPUs, or fewer under a CPU quota) is worth seeing before it starts."""
    gateway = {"name": GWNAME + "chk"}
    if workers is not None:
        gateway["workers"] = workers
    out = run_enoki("--config", write(tmp_path, config_text([], amqp_uri=NO_BROKER, gateway=gateway)),
                    "--check")
    assert out.returncode == 0, out
    first = out.stdout.splitlines()[0]
    if workers is None:
        assert "workers" not in first, first
    elif workers == 3:
        assert first.endswith("; workers: 3"), first
    else:
        m = re.search(r"; workers: auto = (\d+)$", first)
        assert m, first
        assert 1 <= int(m.group(1)) <= len(os.sched_getaffinity(0)), first


def test_config_path_from_environment(tmp_path):
    out = run_enoki("--check", env={"ENOKI_CONFIG": write(tmp_path, CHECK_CONFIG)})
    assert out.returncode == 0, out
    check_route_table(out.stdout)


SUBST_CONFIG = """\
AMQP_URI: {uri}
rpc_exchange: {exchange}
routes:
  - rule: /sub/${{ENOKI_T_SEG:dflt}}/x
    rpc: {svc}.echo
    timeout: ${{ENOKI_T_TIMEOUT:9}}
  - rule: /colon/${{ENOKI_T_UNSET_COLON:a:b}}
    rpc: {svc}.echo
  - rule: "/quoted/${{ENOKI_T_SEG:dflt}}"
    rpc: {svc}.echo
""".format(uri=NO_BROKER, exchange=EXCHANGE, svc=SVC)


def test_substitution_defaults(tmp_path):
    out = run_enoki("--config", write(tmp_path, SUBST_CONFIG), "--check")
    assert out.returncode == 0, out
    line = route_line(out.stdout, "/sub/dflt/x")
    assert number_in(line, 9), line
    # The default is everything after the first ':'.
    route_line(out.stdout, "/colon/a:b")
    # A quoted scalar is not substituted.
    route_line(out.stdout, "/quoted/${ENOKI_T_SEG:dflt}")


def test_substitution_from_environment(tmp_path):
    out = run_enoki("--config", write(tmp_path, SUBST_CONFIG), "--check",
                    env={"ENOKI_T_SEG": "fromenv", "ENOKI_T_TIMEOUT": "3"})
    assert out.returncode == 0, out
    line = route_line(out.stdout, "/sub/fromenv/x")
    assert number_in(line, 3), line
    assert "dflt" not in out.stdout.replace("${ENOKI_T_SEG:dflt}", "")


def test_define_is_parsed_as_yaml(tmp_path):
    """--define sets a top-level key; its value is YAML (here a whole GATEWAY mapping)."""
    out = run_enoki("--config", write(tmp_path, CHECK_CONFIG), "--check",
                    "--define", "GATEWAY={rpc_timeout: 11}")
    assert out.returncode == 0, out
    line = route_line(out.stdout, "/items/<path:p>")
    assert number_in(line, 11), line


def test_define_keys_as_nameko_reads_them(tmp_path):
    """As nameko 3's --define: the key stripped of blanks (it was a key of its own, ignored), and a
    KEY without a value is true."""
    out = run_enoki("--config", write(tmp_path, CHECK_CONFIG), "--check",
                    "--define", " rpc_exchange =from-define")
    assert out.returncode == 0, out
    assert "exchange from-define" in out.stdout, out.stdout
    out = run_enoki("--config", write(tmp_path, CHECK_CONFIG), "--check",
                    "--define", "GATEWAY")
    assert out.returncode == 2, out
    assert "--define GATEWAY: GATEWAY: expected a mapping, got 'true'" in out.stderr, out.stderr
    out = run_enoki("--config", write(tmp_path, CHECK_CONFIG), "--check", "--define", " =x")
    assert out.returncode == 2 and "expected KEY=VALUE or KEY" in out.stderr, out


def test_define_error_is_a_config_error(tmp_path):
    out = run_enoki("--config", write(tmp_path, CHECK_CONFIG), "--check",
                    "--define", "GATEWAY={rpc_timeout: -4}")
    assert out.returncode == 2, out
    assert "rpc_timeout" in out.stderr, out.stderr
    # A rule checked when the table is built names the define too, not the file at line 0.
    out = run_enoki("--config", write(tmp_path, CHECK_CONFIG), "--check",
                    "--define", "routes=[{rule: /healthz, rpc: a.b}]")
    assert out.returncode == 2, out
    assert "enoki: --define routes: routes[0].rule: '/healthz' collides with enoki's own " \
        "/healthz" in out.stderr, out.stderr


def test_define_wins_over_the_file(tmp_path, peer, enoki):
    """The file names a wrong exchange; --define gives the right one, and calls work."""
    text = config_text([route("/echo", SVC + ".echo")], exchange="enoki-test-wrong-exchange",
                       gateway={"name": GWNAME + "f"})
    text = text.replace("AMQP_URI:", "WEB_SERVER_ADDRESS: 127.0.0.1:@PORT@\nAMQP_URI:", 1)
    gw = enoki(text=text, args=["--define", "rpc_exchange=" + EXCHANGE], ready_path="/echo")
    resp = gw.get("/echo?a=1")
    assert resp.status == 200, resp
    assert resp.json() == {"args": [], "kwargs": {"a": "1"}}


# Each case: the file's text, the line the error is on, and what the message must name.
HEAD = "AMQP_URI: {}\nrpc_exchange: {}\n".format(NO_BROKER, EXCHANGE)  # lines 1-2
ROUTE = "routes:\n  - {{rule: /x, rpc: {}.echo}}\n".format(SVC)
ERROR_CASES = {
    "rpc_timeout_negative": (
        HEAD + "GATEWAY:\n  name: gw\n  errors: {}\n\n  rpc_timeout: -1\n" + ROUTE,
        7, ["GATEWAY.rpc_timeout"]),
    "rpc_timeout_not_a_number": (
        HEAD + "GATEWAY:\n  rpc_timeout: abc\n" + ROUTE, 4, ["GATEWAY.rpc_timeout"]),
    "unknown_gateway_key": (
        HEAD + "GATEWAY:\n  name: gw\n  bogus_key: 1\n" + ROUTE, 5, ["GATEWAY.bogus_key"]),
    "error_status_out_of_range": (
        HEAD + "GATEWAY:\n  errors:\n    ValueError: 99\n" + ROUTE, 5, ["errors", "ValueError"]),
    "web_server_address": (
        HEAD + "WEB_SERVER_ADDRESS: 127.0.0.1:notaport\n" + ROUTE, 3, ["WEB_SERVER_ADDRESS"]),
    "rpc_without_method": (
        HEAD + "routes:\n  - {rule: /a, rpc: a.b}\n  - {rule: /x, rpc: nodot}\n", 5, ["rpc"]),
    "route_unknown_key": (
        HEAD + "routes:\n  - {rule: /x, rpc: s.m, colour: red}\n", 4, ["colour"]),
    "route_bad_mode": (
        HEAD + "routes:\n  - {rule: /x, rpc: s.m, mode: xml}\n", 4, ["mode"]),
    "route_bad_timeout": (
        HEAD + "routes:\n  - {rule: /x, rpc: s.m, timeout: 0}\n", 4, ["timeout"]),
    "route_malformed_rule": (
        HEAD + "routes:\n  - {rule: '/x/<int:n', rpc: s.m}\n", 4, ["rule"]),
    "route_unknown_converter": (
        HEAD + "routes:\n  - {rule: '/x/<nosuchconv:n>', rpc: s.m}\n", 4, ["rule"]),
    "route_without_rpc": (
        HEAD + "routes:\n  - {rule: /x}\n", 4, ["rpc"]),
    "yaml_syntax": (
        HEAD + "routes:\n  - {rule: /x, rpc: s.m\n", (4, 5), []),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_config_error(tmp_path, case):
    text, line, names = ERROR_CASES[case]
    out = run_enoki("--config", write(tmp_path, text), "--check")
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    lines = line if isinstance(line, tuple) else (line,)
    assert any("gw.yaml:{}:".format(n) in out.stderr for n in lines), out.stderr
    for name in names:
        assert name in out.stderr, out.stderr


def test_config_error_without_check(tmp_path):
    """A bad config stops a real start too, before listening."""
    text = ERROR_CASES["rpc_timeout_negative"][0]
    out = run_enoki("--config", write(tmp_path, text))
    assert out.returncode == 2, out
    assert "gw.yaml:7:" in out.stderr and "GATEWAY.rpc_timeout" in out.stderr, out.stderr
