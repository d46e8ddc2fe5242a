"""Websocket identity (issue 15, points 2 and 5): the upgrade's bearer token, the socket's claims,
its close when the token expires, and the hub method `refresh`.

Tokens are minted by a real JWT library (Debian's python3-jwt), HS256 with the secret of the
gateways' GATEWAY.auth.jwt. The token comes, first found wins, from `Authorization: Bearer`, the
upgrade's `access_token` query parameter or the cookie GATEWAY.auth.cookie. A refused upgrade is an
ordinary HTTP 401 before any handshake, with routes/auth's RFC 6750 challenge.

Gateways of this module (one process each, leeway 0 unless said):
  REQ   GATEWAY.auth.websocket required, log_level debug (its stderr must never hold a token)
  OPT   optional
  OFF   none (tokens are never looked at)
  LEE   required, leeway 3 (a token accepted past its exp closes at exp + leeway)
"""

import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

jwt = pytest.importorskip("jwt")

from conftest import (ENOKI_BIN, GWNAME, SCALE, SVC, WRAPPER, Enoki, config_text, refused,  # noqa: E402
                      free_port, http_request, route, wait_for)
from strace_calls import recvfrom_calls  # noqa: E402
from wsclient import Closed, HandshakeRefused, WSClient  # noqa: E402

SECRET = "enoki-ws-auth-test-secret-of-32-bytes!"
OTHER_SECRET = "not-the-gateway-secret-but-as-long!!"
COOKIE = "enoki_jwt"
CLAIMS = {"sub": "user_id", "tenant": "tenant_id"}
CONTEXT_HEADERS = {"X-Team": "team"}

REQ = GWNAME + "ar"
OPT = GWNAME + "ao"
OFF = GWNAME + "an"
LEE = GWNAME + "al"

T = 5 * SCALE
# Seconds (at least) from now to a short-lived token's exp: enough to open a socket and make the
# test's calls first, under valgrind too.
LIFE = max(2, SCALE // 2 + 1)
BARE = 'Bearer realm="enoki"'
INVALID = 'Bearer realm="enoki", error="invalid_token", error_description="'
EXPIRED = "token expired"

# Every token this module sends, so that the log test can look for each in REQ's stderr.
SENT = []


def token(sub="alice", exp_in=60, secret=SECRET, **claims):
    """A signed HS256 token; exp_in seconds from now (None: no exp claim)."""
    payload = {"sub": sub}
    if exp_in is not None:
        payload["exp"] = int(time.time()) + exp_in
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    t = jwt.encode(payload, secret, algorithm="HS256")
    SENT.append(t)
    return t


def token_expiring_at(exp, sub="alice", **claims):
    t = jwt.encode(dict({"sub": sub, "exp": exp}, **claims), SECRET, algorithm="HS256")
    SENT.append(t)
    return t


def bearer(t):
    return {"Authorization": "Bearer " + t}


def nerr(exc_type, message, exc_path=None):
    return {"exc_type": exc_type, "exc_path": exc_path or "enoki." + exc_type,
            "exc_args": [message], "value": message}


def result_frame(data, cid):
    return json.dumps({"type": "result", "success": True, "data": data, "correlation_id": cid})


def error_frame(error, cid):
    return json.dumps({"type": "result", "success": False, "error": error, "correlation_id": cid})


# --- fixtures -------------------------------------------------------------------------------------


def start(session_tmp, broker, name, mode, leeway=0, **gateway_keys):
    gateway = {
        "name": name,
        "rpc_timeout": 5 * SCALE,
        "expose": [SVC + ".*"],
        "context_headers": CONTEXT_HEADERS,
        "auth": {"websocket": mode, "cookie": COOKIE, "claims": CLAIMS,
                 "jwt": {"algorithms": ["HS256"], "secret": SECRET, "leeway": leeway}},
    }
    gateway.update(gateway_keys)
    broker.track_queue("rpc-" + name)
    broker.exchanges.add(name + ".hub")
    return Enoki(session_tmp, routes=[route("/echo", SVC + ".echo", methods="GET,POST")],
                 gateway=gateway, name=name + ".yaml", ready_path="/echo")


@pytest.fixture(scope="module")
def req(peer, broker, session_tmp):
    e = start(session_tmp, broker, REQ, "required", log_level="debug")
    yield e
    e.stop()


@pytest.fixture(scope="module")
def opt(peer, broker, session_tmp):
    e = start(session_tmp, broker, OPT, "optional")
    yield e
    e.stop()


@pytest.fixture(scope="module")
def off(peer, broker, session_tmp):
    e = start(session_tmp, broker, OFF, "none")
    yield e
    e.stop()


@pytest.fixture(scope="module")
def lee(peer, broker, session_tmp):
    e = start(session_tmp, broker, LEE, "required", leeway=3)
    yield e
    e.stop()


def context_of(ws, cid="ctx"):
    """The context data a service receives for a call made on ws (without the AMQP properties and
    the call id stack)."""
    got = ws.call(SVC + ".context", {}, cid, timeout=T)
    assert got.get("success") is True and got.get("correlation_id") == cid, ws.last_raw
    ctx = dict(got["data"])
    ctx.pop("_properties")
    ctx.pop("call_id_stack")
    return ctx


def alive(ws, cid="alive"):
    got = ws.call("get_subscriptions", None, cid, timeout=T)
    assert got == {"type": "result", "success": True, "data": [], "correlation_id": cid}, got


def assert_401(exc, challenge, message=None):
    assert exc.status == 401, (exc.status, exc.body)
    assert exc.headers.get("connection") == "close", exc.headers
    www = exc.headers.get("www-authenticate", "")
    if challenge.endswith('"'):
        assert www.startswith(challenge), www
    else:
        assert www == challenge, www
    body = exc.json()
    assert set(body) == {"error", "message", "call_id"}, body
    assert body["error"] == "unauthorized" and body["call_id"] is None, body
    if message is not None:
        assert body["message"] == message, body
    return body


# === the upgrade ===================================================================================


def test_required_upgrade_without_a_token_is_401(req):
    for kw in ({}, {"headers": {"Authorization": "Basic dXNlcjpwdw=="}},
               {"path": "/ws?access_token="}, {"path": "/ws?other=1"},
               {"headers": {"Cookie": "other=" + token()}}, {"headers": {"Cookie": COOKIE + "="}}):
        exc = refused(req, **kw)
        assert_401(exc, BARE, "a bearer token is required")


def test_required_upgrade_with_a_bad_token_is_401_invalid_token(req):
    bad = {
        "garbage": "not.a.token",
        "wrong key": token(secret=OTHER_SECRET),
        "expired": token(exp_in=-5),
        "tampered": token()[:-3] + "AAA",
    }
    for why, t in bad.items():
        for kw in ({"headers": bearer(t)}, {"path": "/ws?access_token=" + t},
                   {"headers": {"Cookie": "a=1; {}={}".format(COOKIE, t)}}):
            exc = refused(req, **kw)
            body = assert_401(exc, INVALID)
            assert body["message"] and t not in body["message"], (why, body)
            assert t not in exc.headers["www-authenticate"], (why, exc.headers)
    exc = refused(req, headers={"Authorization": "Bearer a b"})
    assert_401(exc, INVALID)
    exc = refused(req, headers=bearer(token(exp_in=-5)))
    assert exc.headers["www-authenticate"] == INVALID + 'the token has expired"', exc.headers


def test_each_source_is_accepted(req, connect):
    forms = {
        "header": {"headers": bearer(token("hdr"))},
        "query": {"path": "/ws?x=1&access_token=" + token("qry")},
        "cookie": {"headers": {"Cookie": "a=1; {}={}; b=2".format(COOKIE, token("cky"))}},
        "lower-case scheme": {"headers": {"Authorization": "bearer " + token("low")}},
    }
    subs = {"header": "hdr", "query": "qry", "cookie": "cky", "lower-case scheme": "low"}
    for form, kw in forms.items():
        ws = connect(req, **kw)
        assert ws.connected["event"] == "connected", (form, ws.connected)
        assert context_of(ws)["user_id"] == subs[form], form


def test_first_source_found_wins(req, connect):
    # The header before the query, the query before the cookie.
    ws = connect(req, path="/ws?access_token=" + token("qry"),
                 headers=dict(bearer(token("hdr")), Cookie="{}={}".format(COOKIE, token("cky"))))
    assert context_of(ws)["user_id"] == "hdr"
    ws = connect(req, path="/ws?access_token=" + token("qry"),
                 headers={"Cookie": "{}={}".format(COOKIE, token("cky"))})
    assert context_of(ws)["user_id"] == "qry"
    # Another scheme is passed over.
    ws = connect(req, path="/ws?access_token=" + token("qry"),
                 headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert context_of(ws)["user_id"] == "qry"
    # A bad token found first is refused, never replaced by a good one further down.
    exc = refused(req, path="/ws?access_token=" + token("qry"), headers=bearer("not.a.token"))
    assert_401(exc, INVALID)
    exc = refused(req, path="/ws?access_token=" + token(secret=OTHER_SECRET),
                  headers={"Cookie": "{}={}".format(COOKIE, token("cky"))})
    assert_401(exc, INVALID)


def test_optional(opt, connect):
    anon = connect(opt)
    ctx = context_of(anon)
    assert "user_id" not in ctx and "tenant_id" not in ctx, ctx
    # A token that does not verify is refused, never taken for no token.
    for t in ("not.a.token", token(secret=OTHER_SECRET), token(exp_in=-5)):
        assert_401(refused(opt, headers=bearer(t)), INVALID)
        assert_401(refused(opt, path="/ws?access_token=" + t), INVALID)
    ws = connect(opt, headers={"Cookie": "{}={}".format(COOKIE, token("bob"))})
    assert context_of(ws)["user_id"] == "bob"


def test_none_never_reads_a_token(off, connect):
    for kw in ({}, {"headers": bearer("not.a.token")}, {"path": "/ws?access_token=not.a.token"},
               {"headers": bearer(token("carol"))}):
        ws = connect(off, **kw)
        ctx = context_of(ws)
        assert "user_id" not in ctx and "tenant_id" not in ctx, (kw, ctx)


def test_socket_closed_at_its_opening_when_lws_reads_another_token(opt):
    """Admission takes the first Authorization; libwebsockets joins repeated ones, which is no
    Bearer token: the socket is closed at its opening (1008), never opened with an identity that
    was not checked."""
    t = token("dup")
    with pytest.raises(Closed) as info:
        WSClient(opt.port, headers=[("Authorization", "Bearer " + t), ("Authorization",
                                                                      "Bearer " + t)], timeout=T)
    assert info.value.code == 1008 and info.value.reason == b"unauthorized", info.value


# === claims in the context ===========================================================================


def test_claims_reach_the_services_context(req, connect, spy):
    s = spy(SVC + ".context")
    t = token("alice", tenant="t-1", role="admin")
    ws = connect(req, headers=dict(bearer(t), **{"X-Team": "blue", "Accept-Language": "de"}))
    ctx = context_of(ws)
    assert ctx == {"socket_id": ws.socket_id, "gateway": REQ, "auth_token": "Bearer " + t,
                   "language": "de", "team": "blue", "user_id": "alice", "tenant_id": "t-1"}, ctx
    msg = s.get()
    assert msg.headers["nameko.user_id"] == "alice", msg.headers
    assert msg.headers["nameko.tenant_id"] == "t-1", msg.headers
    # A claim the token lacks is no key at all.
    ws = connect(req, path="/ws?access_token=" + token("dave"))
    ctx = context_of(ws)
    assert ctx["user_id"] == "dave" and "tenant_id" not in ctx, ctx


def test_forged_context_headers_are_ignored(req, opt, connect):
    forged = {"nameko.user_id": "mallory", "User-Id": "mallory", "X-User-Id": "mallory",
              "Tenant-Id": "evil", "nameko.tenant_id": "evil", "X-Team": "red"}
    ws = connect(req, headers=dict(bearer(token("alice", tenant="t-1")), **forged))
    ctx = context_of(ws)
    assert ctx["user_id"] == "alice" and ctx["tenant_id"] == "t-1", ctx
    assert ctx["team"] == "red", ctx  # a context header that no claim fills still works
    anon = connect(opt, headers=forged)
    ctx = context_of(anon)
    assert "user_id" not in ctx and "tenant_id" not in ctx, ctx


# === expiry ==========================================================================================


def wait_close(ws, timeout):
    exc = ws.wait_closed(timeout)
    return exc, time.time()


def test_expired_token_closes_the_socket_1008(req, connect):
    exp = int(time.time()) + LIFE
    ws = connect(req, headers=bearer(token_expiring_at(exp)))
    alive(ws)
    exc, at = wait_close(ws, 4 + T)
    assert exc.code == 1008 and exc.reason == EXPIRED.encode(), exc
    assert exp - 0.05 <= at <= exp + 0.5 * SCALE, "closed at exp {:+.3f}s".format(at - exp)


def test_token_accepted_within_the_leeway_closes_at_exp_plus_leeway(lee, connect):
    exp = int(time.time()) - 1  # past exp, within the leeway of 3 s
    ws = connect(lee, path="/ws?access_token=" + token_expiring_at(exp))
    alive(ws)
    exc, at = wait_close(ws, 4 + T)
    assert exc.code == 1008 and exc.reason == EXPIRED.encode(), exc
    assert exp + 3 - 0.05 <= at <= exp + 3 + 0.5 * SCALE, "closed at exp {:+.3f}s".format(at - exp)


def test_token_without_exp_never_closes_the_socket(req, connect):
    ws = connect(req, headers=bearer(token(exp_in=None)))
    ws.expect_silence(1.2)
    alive(ws)


# === refresh =========================================================================================


def test_refresh_before_expiry_keeps_the_socket_open(req, connect):
    exp = int(time.time()) + LIFE
    ws = connect(req, headers=bearer(token_expiring_at(exp, tenant="t-1")))
    new_exp = exp + 2
    got = ws.call("refresh", {"token": token_expiring_at(new_exp, tenant="t-2")}, "r1", timeout=T)
    assert ws.last_raw == result_frame({"exp": new_exp}, "r1"), ws.last_raw
    # The new token's claims are the socket's.
    assert context_of(ws)["tenant_id"] == "t-2"
    time.sleep(max(0.0, exp + 0.6 - time.time()))
    alive(ws)
    exc, at = wait_close(ws, 4 + T)
    assert exc.code == 1008 and exc.reason == EXPIRED.encode(), exc
    assert new_exp - 0.05 <= at <= new_exp + 0.5 * SCALE, "closed at new exp {:+.3f}s".format(
        at - new_exp)


def test_refresh_without_exp_stops_the_expiry(req, connect):
    exp = int(time.time()) + LIFE
    ws = connect(req, headers=bearer(token_expiring_at(exp)))
    ws.call("refresh", {"token": token(exp_in=None)}, "r", timeout=T)
    assert ws.last_raw == result_frame({"exp": None}, "r"), ws.last_raw
    time.sleep(max(0.0, exp + 0.5 - time.time()))
    alive(ws)


def test_refresh_for_another_subject_is_forbidden(req, connect):
    exp = int(time.time()) + LIFE
    ws = connect(req, headers=bearer(token_expiring_at(exp, sub="alice")))
    ws.call("refresh", {"token": token("bob", exp_in=30)}, "r2", timeout=T)
    message = "the token is for another subject than the socket's"
    assert ws.last_raw == error_frame(nerr("Forbidden", message), "r2"), ws.last_raw
    # A token without sub is another subject too.
    ws.call("refresh", {"token": token(None, exp_in=30)}, "r3", timeout=T)
    assert ws.last_raw == error_frame(nerr("Forbidden", message), "r3"), ws.last_raw
    # The socket keeps its token: its claims, and its expiry.
    assert context_of(ws)["user_id"] == "alice"
    exc, at = wait_close(ws, 4 + T)
    assert exc.code == 1008 and exc.reason == EXPIRED.encode(), exc
    assert exp - 0.05 <= at <= exp + 0.5 * SCALE, "closed at exp {:+.3f}s".format(at - exp)


def test_refresh_with_a_bad_token_is_unauthorized(req, connect):
    ws = connect(req, headers=bearer(token("alice", tenant="t-1")))
    cases = {
        "not.a.token": None,
        token(secret=OTHER_SECRET): None,
        token(exp_in=-5): "the token has expired",
        "": None,
    }
    for i, (t, message) in enumerate(cases.items()):
        got = ws.call("refresh", {"token": t}, i, timeout=T)
        err = got.get("error") or {}
        assert got.get("success") is False and err.get("exc_type") == "Unauthorized", ws.last_raw
        assert err["exc_path"] == "enoki.Unauthorized" and err["exc_args"] == [err["value"]], err
        assert err["value"] and (t == "" or t not in err["value"]), err
        if message:
            assert err["value"] == message, err
    ctx = context_of(ws)
    assert ctx["user_id"] == "alice" and ctx["tenant_id"] == "t-1", ctx


def test_refresh_arguments(req, connect):
    ws = connect(req, headers=bearer(token()))
    sig = "nameko.exceptions.IncorrectSignature"
    cases = [
        ([1], nerr("IncorrectSignature", "inspect.getcallargs() argument after ** must be a "
                   "mapping, not list", sig)),
        ({}, nerr("IncorrectSignature", "refresh() missing 1 required positional argument: "
                  "'token'", sig)),
        ({"token": "a", "x": 1}, nerr("IncorrectSignature", "refresh() got an unexpected keyword "
                                      "argument 'x'", sig)),
        ({"token": 5}, nerr("TypeError", "token must be a string", "builtins.TypeError")),
    ]
    for i, (data, error) in enumerate(cases):
        ws.call("refresh", data, i, timeout=T)
        assert ws.last_raw == error_frame(error, i), ws.last_raw
    alive(ws)


def test_anonymous_socket_may_refresh_into_an_identified_one(opt, connect):
    ws = connect(opt)
    assert "user_id" not in context_of(ws)
    t = token("erin", exp_in=60)
    exp = jwt.decode(t, SECRET, algorithms=["HS256"])["exp"]
    ws.call("refresh", {"token": t}, "r", timeout=T)
    assert ws.last_raw == result_frame({"exp": exp}, "r"), ws.last_raw
    assert context_of(ws)["user_id"] == "erin"
    ws.call("refresh", {"token": token("frank")}, "r2", timeout=T)
    assert json.loads(ws.last_raw)["error"]["exc_type"] == "Forbidden", ws.last_raw


def test_refresh_on_a_gateway_without_socket_tokens(off, connect):
    ws = connect(off)
    ws.call("refresh", {"token": token()}, "r", timeout=T)
    assert ws.last_raw == error_frame(
        nerr("Unauthorized", "this gateway's sockets carry no token"), "r"), ws.last_raw


# === closing and logs ============================================================================================


def closed_unauthorized(ws):
    """ws is closed 1008 unauthorized, as a socket that no longer passes."""
    exc = ws.wait_closed(T)
    assert exc.code == 1008 and exc.reason == b"unauthorized", exc


def reload_with(gw, text):
    """Writes text as gw's config and waits for the SIGHUP's reload."""
    gw.config_path.write_text(text)
    done = len(re.findall("reloaded ", gw.stderr_text()))
    gw.send_signal(signal.SIGHUP)
    wait_for(lambda: len(re.findall("reloaded ", gw.stderr_text())) > done, 10 * SCALE,
             what="the reload")


def test_a_reload_decides_on_open_sockets_again(peer, broker, session_tmp):
    """A SIGHUP that changes the keys (here: the secret) closes, 1008, the sockets whose token no
    longer verifies, and one that makes tokens required closes the anonymous ones, as it refuses
    their opening: sockets used to keep their identity for their life, a token without exp for
    good, after its key was revoked. A socket whose token still passes stays."""
    gw = start(session_tmp, broker, GWNAME + "rk", "optional")
    try:
        other = SECRET[::-1]
        revoked = WSClient(gw.port, headers=bearer(token(exp_in=None)), timeout=T)
        anonymous = WSClient(gw.port, timeout=T)
        for ws in (revoked, anonymous):
            alive(ws)
        text = gw.config_path.read_text()
        assert text.count(SECRET) == 1, text
        reload_with(gw, text.replace(SECRET, other))
        closed_unauthorized(revoked)
        alive(anonymous)
        kept = WSClient(gw.port, headers=bearer(token(exp_in=None, secret=other)), timeout=T)
        alive(kept)
        text = gw.config_path.read_text()
        assert text.count('"websocket": "optional"') == 1, text
        reload_with(gw, text.replace('"websocket": "optional"', '"websocket": "required"'))
        closed_unauthorized(anonymous)
        alive(kept)
        kept.close()
    finally:
        gw.stop()


def test_a_reload_decides_on_every_socket_a_slice_at_a_time(peer, broker, session_tmp):
    """The sockets are decided on again a slice of the loop's time per pass (so that ten thousand
    tokens of their own do not hold the loop half a second): every one is reached all the same,
    and a socket that opens meanwhile is decided under the new terms, not closed after them."""
    gw = start(session_tmp, broker, GWNAME + "rs", "optional")
    try:
        many = [WSClient(gw.port, headers=bearer(token("u%d" % i, exp_in=None)), timeout=T)
                for i in range(150)]
        alive(many[-1])
        other = SECRET[::-1]
        reload_with(gw, gw.config_path.read_text().replace(SECRET, other))
        fresh = WSClient(gw.port, headers=bearer(token("new", exp_in=None, secret=other)),
                         timeout=T)
        for ws in many:
            closed_unauthorized(ws)
        alive(fresh)
        fresh.close()
    finally:
        gw.stop()


def test_a_reload_that_turns_socket_tokens_on_reads_the_token_a_socket_came_with(
        peer, broker, session_tmp):
    """A socket opened while auth.websocket was none is decided on with the token it came with
    when a SIGHUP makes tokens required: it stays, now identified (its calls carry the claims),
    where it was closed as if it had sent none; one without a token is closed."""
    gw = start(session_tmp, broker, GWNAME + "rn", "none")
    try:
        came_with = WSClient(gw.port, path="/ws?access_token=" + token("erin", exp_in=None),
                             timeout=T)
        without = WSClient(gw.port, timeout=T)
        assert "user_id" not in context_of(came_with)
        text = gw.config_path.read_text()
        assert text.count('"websocket": "none"') == 1, text
        reload_with(gw, text.replace('"websocket": "none"', '"websocket": "required"'))
        closed_unauthorized(without)
        assert context_of(came_with)["user_id"] == "erin"
        came_with.close()
    finally:
        gw.stop()


def test_shutdown_closes_sockets_1001(peer, broker, session_tmp):
    """Closing from outside lws's callbacks (a signal) sends the close frame, with its code."""
    gw = start(session_tmp, broker, GWNAME + "as", "required")
    ws = WSClient(gw.port, headers=bearer(token()), timeout=T)
    gw.send_signal(15)
    exc = ws.wait_closed(T)
    ws.abort()
    gw.wait()
    gw.stop()  # a clean exit
    assert exc.code == 1001, exc


def test_the_token_is_never_logged(req, connect):
    """Every token sent to REQ (log_level debug) so far and here: none is in its stderr, nor is
    any access_token value."""
    marker = token("logged-" + "x" * 8)
    ws = connect(req, path="/ws?access_token=" + marker)
    alive(ws)
    ws.close()
    for t in (token(secret=OTHER_SECRET), "not.a.token.MARKER", token(exp_in=-5)):
        refused(req, path="/ws?a=1&access_token=" + t)
    # Refused by the sniffer (bad key), and a plain GET of the hub's path: the HTTP side.
    refused(req, path="/ws?access_token=" + marker, key="bad")
    r = http_request(req.port, "GET", "/ws?access_token=" + marker + "&x=1")
    assert r.status in (400, 404, 426), r
    time.sleep(0.2)
    text = req.stderr_text()
    assert "[access]" in text or '"access"' in text, "no access line: is the log as expected?"
    leaked = [t for t in set(SENT) | {"not.a.token.MARKER"} if t in text]
    assert not leaked, "tokens in the log: {}".format(leaked[:3])
    # No part of a signature either (a token cut by a log line's limit).
    for t in SENT:
        sig = t.rsplit(".", 1)[-1]
        assert sig[:16] not in text, "a token's signature is in the log"
    assert not re.search(r"access_token=(?!\[redacted\])[^&\s\"']+", text), \
        re.search(r".*access_token=.*", text).group(0)


@pytest.mark.skipif(bool(WRAPPER), reason="counts the plain binary's system calls (no wrapper)")
def test_an_upgrade_head_is_peeked_once_and_read_once(peer, broker, tmp_path):
    """Checking the token costs no read: each upgrade's head is peeked once (the sniffer's scan
    has the token's sources) and read once, by the 401's answer or by the hub's adoption."""
    if not shutil.which("strace"):
        pytest.fail("strace is needed (scripts/install-deps.sh installs it)")
    port = free_port()
    config = tmp_path / "ws-reads.yaml"
    config.write_text(config_text(
        [route("/echo", SVC + ".echo")], port=port,
        gateway={"name": GWNAME + "aw", "auth": {
            "websocket": "required", "cookie": COOKIE,
            "jwt": {"algorithms": ["HS256"], "secret": SECRET, "leeway": 0}}}))
    trace = tmp_path / "trace.txt"
    proc = subprocess.Popen(["strace", "-f", "-qq", "-s", "16", "-e", "trace=recvfrom",
                             "-o", str(trace), ENOKI_BIN, "--config", str(config)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    refusals = [{}, {"path": "/ws?access_token=not.a.token"}, {"headers": bearer(token(exp_in=-5))},
                {"headers": {"Cookie": COOKIE + "=" + token(secret=OTHER_SECRET)}}]
    accepted = [{"headers": bearer(token())}, {"path": "/ws?access_token=" + token()},
                {"headers": {"Cookie": COOKIE + "=" + token()}}]
    try:
        def listening():
            try:
                return http_request(port, "GET", "/health", timeout=1).status > 0
            except OSError:
                return False

        wait_for(listening, 30, interval=0.2, what="enoki under strace")
        for kw in refusals:
            assert_401(refused(port, **kw), BARE if not kw else INVALID)
        for kw in accepted:
            ws = WSClient(port, timeout=T, **kw)
            alive(ws)
            ws.close()
        time.sleep(0.3)
    finally:
        # enoki is strace's child: stopped by its own SIGTERM, strace then ends.
        children = open("/proc/{0}/task/{0}/children".format(proc.pid)).read().split()
        for child in children:
            os.kill(int(child), signal.SIGTERM)
        proc.wait(timeout=30)
    calls = [(peek, n) for _, data, peek, n in recvfrom_calls(trace) if data.startswith("GET /ws")]
    peeks = [c for c in calls if c[0] and c[1] > 0]
    reads = [c for c in calls if not c[0] and c[1] > 0]
    upgrades = len(refusals) + len(accepted)
    assert (len(peeks), len(reads)) == (upgrades, upgrades), calls
