"""W3C trace context (GATEWAY.trace_context, docs/trace-context.md): enoki reads traceparent and
tracestate, sends each call as a child span in the context data (AMQP headers nameko.traceparent
and nameko.tracestate, which the peer hands back from its `context` method) and answers with the
traceparent of its span; malformed headers start a new trace and lose their tracestate. The access
line (text and JSON) carries trace_id and span_id; X-Request-Id works as before; websocket calls
get a trace each; a `mode: http` route answers the header too; off (the default), nothing of it.
"""

import http.client
import json
import re

import pytest

from conftest import GWNAME, SCALE, SVC, Enoki, route, wait_for
from wsclient import WSClient

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"
VALID = "00-{}-{}-01".format(TRACE, PARENT)
STATE = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
TRACEPARENT_RE = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
NAME = GWNAME + "t"

ROUTES = [
    route("/context", SVC + ".context", methods="GET,POST", timeout=5),
    route("/h/echo", SVC + ".http_echo", methods="GET,POST", mode="http"),
    route("/h/own", SVC + ".own_traceparent", mode="http"),
]


def gateway(**more):
    g = {"name": NAME, "trace_context": True, "expose": [SVC + ".*"],
         # A client may not pass these keys off as enoki's: the trace keys are enoki's alone.
         "context_headers": {"X-Spoof": "traceparent", "X-Spoof-State": "tracestate",
                             "X-Tenant": "tenant"}}
    g.update(more)
    return g


def start(broker, tmp, **more):
    """A gateway of this module's; its service queue and hub exchange are removed at the end."""
    g = gateway(**more)
    broker.track_queue("rpc-" + g["name"])
    broker.exchanges.add(g["name"] + ".hub")
    return Enoki(tmp, routes=ROUTES, gateway=g, ready_path="/context")


@pytest.fixture(scope="module")
def tgw(peer, broker, tmp_path_factory):
    e = start(broker, tmp_path_factory.mktemp("trace"))
    yield e
    e.stop()


def split(value):
    """(trace id, span id, flags) of a traceparent enoki wrote."""
    m = TRACEPARENT_RE.fullmatch(value or "")
    assert m, "not a version-00 traceparent: {!r}".format(value)
    trace, span, flags = m.groups()
    assert trace != "0" * 32 and span != "0" * 16
    return trace, span, flags


def request(port, path, fields, method="GET"):
    """One request whose header fields are sent as given, repeated names included."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30 * SCALE)
    try:
        conn.putrequest(method, path)
        for name, value in fields:
            conn.putheader(name, value)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def call_context(gw, fields):
    """GET /context: (the response's traceparent, the context data the service saw, headers)."""
    status, headers, body = request(gw.port, "/context", fields)
    assert status == 200, body
    return headers.get("traceparent"), json.loads(body), headers


# --- a trace continued ----------------------------------------------------------------------------


def test_valid_traceparent_is_continued(tgw, spy):
    s = spy(SVC + ".*")
    answered, ctx, headers = call_context(tgw, [("traceparent", VALID), ("tracestate", STATE)])
    trace, span, flags = split(answered)
    assert (trace, flags) == (TRACE, "01")
    assert span != PARENT
    # The service sees enoki's span as its parent, and the tracestate as received.
    assert ctx["traceparent"] == answered
    assert ctx["tracestate"] == STATE
    # On the wire: nameko's context headers.
    msg = s.get()
    assert msg.headers["nameko.traceparent"] == answered
    assert msg.headers["nameko.tracestate"] == STATE
    assert headers.get("X-Call-Id") == msg.headers["nameko.call_id_stack"][0]


def test_each_request_is_a_span_of_its_own(tgw):
    spans = set()
    for flags in ("00", "01", "09", "ff"):
        answered, ctx, _ = call_context(tgw, [("TraceParent", "00-{}-{}-{}".format(
            TRACE, PARENT, flags))])
        trace, span, out_flags = split(answered)
        assert trace == TRACE and ctx["traceparent"] == answered
        # The sampled flag as received; version 00 defines no other bit.
        assert out_flags == "{:02x}".format(int(flags, 16) & 1)
        assert "tracestate" not in ctx
        spans.add(span)
    assert len(spans) == 4


def test_later_version_is_read_and_sent_as_00(tgw):
    answered, ctx, _ = call_context(tgw, [("traceparent", "cc-{}-{}-01-future".format(
        TRACE, PARENT)), ("tracestate", "a=1")])
    assert split(answered)[0] == TRACE and answered.startswith("00-")
    assert ctx["tracestate"] == "a=1"


def test_several_tracestate_fields_are_joined(tgw):
    _, ctx, _ = call_context(tgw, [("traceparent", VALID), ("tracestate", "a=1"),
                                   ("tracestate", "b=2")])
    assert ctx["tracestate"] == "a=1,b=2"


def test_malformed_tracestate_is_dropped_the_trace_goes_on(tgw):
    for state in ("garbage", "a=1,a=2", "A=1", ",".join("k{}=1".format(i) for i in range(33))):
        answered, ctx, _ = call_context(tgw, [("traceparent", VALID), ("tracestate", state)])
        assert split(answered)[0] == TRACE, state
        assert "tracestate" not in ctx, state


# --- a trace started ------------------------------------------------------------------------------


def test_no_traceparent_starts_a_trace(tgw):
    seen = set()
    for _ in range(3):
        answered, ctx, _ = call_context(tgw, [("tracestate", STATE)])
        trace, span, flags = split(answered)
        assert flags == "00"
        assert ctx["traceparent"] == answered and "tracestate" not in ctx
        seen.add(trace)
    assert len(seen) == 3


MALFORMED = [
    [("traceparent", "00-{}-{}-1".format(TRACE, PARENT))],                   # flags too short
    [("traceparent", "00-{}-{}-001".format(TRACE, PARENT))],                 # too long
    [("traceparent", "00-{}-{}0-01".format(TRACE[:-1], PARENT))],            # misplaced "-"
    [("traceparent", VALID.upper())],                                        # uppercase
    [("traceparent", "00-{}-{}-01".format(TRACE.upper(), PARENT))],
    [("traceparent", "00-{}-{}-01".format("0" * 32, PARENT))],              # all-zero trace id
    [("traceparent", "00-{}-{}-01".format(TRACE, "0" * 16))],               # all-zero parent id
    [("traceparent", "ff-{}-{}-01".format(TRACE, PARENT))],                  # version ff
    [("traceparent", VALID + "-x")],                                         # more after 00
    [("traceparent", "")],
    [("traceparent", VALID), ("traceparent", VALID)],                        # two fields
]


@pytest.mark.parametrize("fields", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_traceparent_starts_a_new_trace(tgw, fields):
    answered, ctx, _ = call_context(tgw, fields + [("tracestate", STATE)])
    trace, span, flags = split(answered)
    assert trace != TRACE and flags == "00"
    assert ctx["traceparent"] == answered
    assert "tracestate" not in ctx


def test_trace_keys_are_not_spoofable(tgw, spy):
    s = spy(SVC + ".*")
    answered, ctx, _ = call_context(tgw, [("X-Spoof", VALID), ("X-Spoof-State", "evil=1"),
                                          ("X-Tenant", "acme")])
    assert split(answered)[0] != TRACE
    assert ctx["traceparent"] == answered and "tracestate" not in ctx
    assert ctx["tenant"] == "acme"
    assert "nameko.tracestate" not in s.get().headers


# --- every answer, X-Request-Id, http mode --------------------------------------------------------


def test_every_answer_carries_a_traceparent(tgw):
    status, headers, _ = request(tgw.port, "/nowhere", [("traceparent", VALID)])
    assert status == 404
    trace, span, _ = split(headers.get("traceparent"))
    assert trace == TRACE and span != PARENT
    status, headers, _ = request(tgw.port, "/healthz", [])
    assert status == 200 and split(headers.get("traceparent"))


def test_libmicrohttpd_answers_carry_it_too(tgw):
    """A HEAD or OPTIONS request is read by libmicrohttpd, not by enoki's own reader: the same
    pipeline, the same header."""
    for method in ("HEAD", "OPTIONS"):
        status, headers, _ = request(tgw.port, "/context", [("traceparent", VALID)], method=method)
        trace, span, flags = split(headers.get("traceparent"))
        assert (trace, flags) == (TRACE, "01") and span != PARENT, (method, status)


def test_x_request_id_is_unchanged(tgw):
    answered, ctx, headers = call_context(tgw, [("X-Request-Id", "req-42"),
                                                ("traceparent", VALID)])
    assert headers.get("X-Call-Id") == NAME + ".http.req-42"
    assert ctx["call_id_stack"] == [NAME + ".http.req-42"]
    assert split(answered)[0] == TRACE


def test_http_mode_route_answers_the_header(tgw):
    status, headers, body = request(tgw.port, "/h/echo", [("traceparent", VALID),
                                                         ("tracestate", STATE)])
    assert status == 200, body
    trace, span, flags = split(headers.get("traceparent"))
    assert (trace, flags) == (TRACE, "01")
    # The request object has the headers as sent; the context, enoki's span.
    echoed = json.loads(body)["request"]
    assert echoed["headers"]["Traceparent"] == VALID
    # A handler's own traceparent gives way to enoki's span.
    status, headers, body = request(tgw.port, "/h/own", [("traceparent", VALID)])
    assert status == 200 and body == b"own"
    assert headers.get_all("traceparent") == [headers.get("traceparent")]
    assert split(headers.get("traceparent"))[0] == TRACE
    assert headers.get("X-Own") == "1"


# --- websocket ------------------------------------------------------------------------------------


def test_websocket_calls_get_a_trace_each(tgw):
    with WSClient(tgw.port, headers={"traceparent": VALID, "tracestate": STATE,
                                     "X-Spoof": VALID, "X-Spoof-State": "evil=1"}) as c:
        traces = set()
        for i in range(3):
            frame = c.call(SVC + ".context", {}, correlation_id=i, timeout=10 * SCALE)
            assert frame.get("success") is True, frame
            ctx = frame["data"]
            trace, span, flags = split(ctx["traceparent"])
            assert trace != TRACE and flags == "00"
            assert "tracestate" not in ctx
            traces.add(trace)
        assert len(traces) == 3
        c.close()


# --- the access log -------------------------------------------------------------------------------


def access_lines(gw, needle):
    return [line for line in gw.stderr_text().splitlines() if needle in line]


def test_text_access_line_carries_the_ids(tgw):
    answered, _, headers = call_context(tgw, [("traceparent", VALID)])
    trace, span, _ = split(answered)
    call_id = headers.get("X-Call-Id")
    wait_for(lambda: access_lines(tgw, call_id), 5 * SCALE, what="the access line")
    line = access_lines(tgw, call_id)[-1]
    assert "[access]" in line
    assert line.endswith(" {} trace_id={} span_id={}".format(call_id, trace, span)), line


def test_json_access_line_carries_the_ids(peer, broker, tmp_path):
    e = start(broker, tmp_path, name=NAME + "j", log_format="json")
    try:
        answered, _, headers = call_context(e, [("traceparent", VALID)])
        trace, span, _ = split(answered)
        call_id = headers.get("X-Call-Id")
        status, headers404, _ = request(e.port, "/nowhere", [])
        trace404, span404, _ = split(headers404.get("traceparent"))

        def lines():
            out = []
            for line in e.stderr_text().splitlines():
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if obj.get("component") == "access":
                    out.append(obj)
            return out

        wait_for(lambda: len(lines()) >= 2 and any(l["path"] == "/nowhere" for l in lines()),
                 5 * SCALE, what="the access lines")
        by_call = [l for l in lines() if l.get("call_id") == call_id]
        assert by_call and by_call[-1]["trace_id"] == trace and by_call[-1]["span_id"] == span
        missing = [l for l in lines() if l["path"] == "/nowhere"][-1]
        assert missing["status"] == 404 and missing["call_id"] is None
        assert (missing["trace_id"], missing["span_id"]) == (trace404, span404)
    finally:
        e.stop()


# --- on by default, off when asked ----------------------------------------------------------------


def test_on_by_default(broker, tmp_path):
    """A config that does not name trace_context: enoki continues the caller's trace."""
    e = start(broker, tmp_path, name=NAME + "dflt", trace_context=None)
    try:
        assert "trace_context" not in e.config_path.read_text()
        status, headers, body = request(e.port, "/context", [("traceparent", VALID)])
        assert status == 200, body
        assert headers.get("traceparent", "").startswith(VALID[:36]), headers
        assert json.loads(body)["traceparent"].startswith(VALID[:36]), body
    finally:
        e.stop()


def test_off_when_asked(broker, spy, tmp_path):
    """trace_context: false: no header back, nothing in the context, no ids in the access line
    (the behaviour before the setting existed)."""
    e = start(broker, tmp_path, name=NAME + "off", trace_context=False)
    try:
        off_checks(e, spy)
    finally:
        e.stop()


def off_checks(gw, spy):
    s = spy(SVC + ".*")
    status, headers, body = request(gw.port, "/context", [("traceparent", VALID),
                                                         ("tracestate", STATE)])
    assert status == 200, body
    assert headers.get("traceparent") is None
    ctx = json.loads(body)
    assert "traceparent" not in ctx and "tracestate" not in ctx
    assert "nameko.traceparent" not in s.get().headers
    call_id = headers.get("X-Call-Id")
    wait_for(lambda: access_lines(gw, call_id), 5 * SCALE, what="the access line")
    assert "trace_id=" not in access_lines(gw, call_id)[-1]


def test_sighup_turns_it_on_and_off(peer, broker, tmp_path):
    """GATEWAY.trace_context is a per-request setting: SIGHUP switches it for the requests that
    start after it (websocket calls keep the start's setting, as the hub's other settings do)."""
    import signal

    from conftest import config_text

    e = start(broker, tmp_path, name=NAME + "s", trace_context=False)
    try:
        assert request(e.port, "/context", [("traceparent", VALID)])[1].get("traceparent") is None
        for on in (True, False):
            e.config_path.write_text(config_text(ROUTES, port=e.port, gateway=gateway(
                name=NAME + "s", trace_context=on)))
            e.send_signal(signal.SIGHUP)
            wait_for(lambda: (request(e.port, "/healthz", [])[1].get("traceparent") is not None)
                     == on, 5 * SCALE, what="the reloaded setting")
            answered, ctx, _ = call_context(e, [("traceparent", VALID)])
            assert (answered is not None) == on and ("traceparent" in ctx) == on
    finally:
        e.stop()
