"""Errors: the JSON error body, the status of every kind of failure, deadlines, expiration, and
replies that come late, twice, or not for us."""

import json
import uuid

import pytest

from conftest import (EXCHANGE, FAKE, LATE, SCALE, SVC, Background, error_body, remote_error_body,
                      route)


# --- remote exceptions --------------------------------------------------------------------------------


def test_incorrect_signature(gw):
    msg = "two() missing 1 required positional argument: 'y'"
    remote_error_body(gw.get("/two?x=1"), 400, "incorrect_signature", "IncorrectSignature",
                      "nameko.exceptions.IncorrectSignature", [msg], msg)


def test_incorrect_signature_unexpected_keyword(gw):
    msg = "get_method() got an unexpected keyword argument 'extra'"
    remote_error_body(gw.get("/get/1?extra=2"), 400, "incorrect_signature", "IncorrectSignature",
                      "nameko.exceptions.IncorrectSignature", [msg], msg)


def test_malformed_request(gw):
    msg = "Message missing `args` or `kwargs`"
    remote_error_body(gw.get("/malformed"), 400, "malformed_request", "MalformedRequest",
                      "nameko.exceptions.MalformedRequest", [msg], msg)


def test_method_not_found_on_configured_route(gw):
    remote_error_body(gw.get("/no_method"), 502, "method_not_found", "MethodNotFound",
                      "nameko.exceptions.MethodNotFound", ["no_such_method"], "no_such_method")


def test_remote_error(gw):
    remote_error_body(gw.get("/fail"), 500, "remote_error", "ValueError", "builtins.ValueError",
                      ["bad", "42"], "('bad', 42)")


def test_remote_error_user_class(gw):
    remote_error_body(gw.get("/custom_fail"), 500, "remote_error", "MyError", "peer_errors.MyError",
                      ["custom", {"k": "1"}], "('custom', {'k': 1})")


def test_unserializable_result(gw):
    remote_error_body(gw.get("/unserializable"), 500, "remote_error", "UnserializableValueError",
                      "nameko.exceptions.UnserializableValueError", [],
                      "Unserializable value: `b'bytes'`")


def test_error_status_mapping(peer, enoki):
    gw = enoki(routes=[route("/fail", SVC + ".fail"), route("/custom_fail", SVC + ".custom_fail"),
                       route("/two", SVC + ".two")],
               gateway={"errors": {"ValueError": 422, "MyError": 418}}, ready_path="/fail")
    resp = gw.get("/fail")
    assert resp.status == 422, resp
    body = resp.json()
    assert body["exc_type"] == "ValueError" and body["exc_args"] == ["bad", "42"], body
    assert body["call_id"] == resp.header("X-Call-Id"), body
    resp = gw.get("/custom_fail")
    assert resp.status == 418, resp
    assert resp.json()["exc_path"] == "peer_errors.MyError"
    # Not mapped: unchanged.
    error_body(gw.get("/two?x=1"), 400, "incorrect_signature")


# --- errors found by enoki ---------------------------------------------------------------------------------


def test_not_found(gw):
    body = error_body(gw.get("/no/such/route"), 404, "not_found")
    assert body["call_id"] is None, body
    error_body(gw.get("/get/5/"), 404, "not_found")  # no trailing slash in the rule


def test_method_not_allowed(gw):
    resp = gw.request("PATCH", "/get/5")
    body = error_body(resp, 405, "method_not_allowed")
    assert body["call_id"] is None, body
    assert resp.header("Allow") == "GET, HEAD"


@pytest.mark.parametrize("source", ["path_and_query", "body_and_query", "body_and_path"])
def test_same_name_from_two_sources(gw, spy, source):
    s = spy(SVC + ".*")
    if source == "path_and_query":
        resp = gw.get("/kw/one?a=two")
    elif source == "body_and_query":
        resp = gw.post("/echo?dup=1", json_body={"dup": 2})
    else:
        resp = gw.post("/kw/one", json_body={"a": 2})
    body = error_body(resp, 400, "bad_arguments")
    assert ("dup" if source == "body_and_query" else "a") in body["message"], body
    assert s.empty(), "a call with bad arguments must not be sent"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_unsupported_media_type(gw, content_type):
    resp = gw.post("/echo", body=b"a=1", headers={"Content-Type": content_type})
    error_body(resp, 415, "unsupported_media_type")


@pytest.mark.parametrize("body", [b'{"a":', b"not json", b"{'a': 1}", b'{"a": 1} x'])
def test_invalid_json(gw, body):
    resp = gw.post("/echo", body=body, headers={"Content-Type": "application/json; charset=utf-8"})
    error_body(resp, 400, "bad_json")


def test_invalid_json_with_suffix_type(gw):
    resp = gw.post("/echo", body=b"[1,", headers={"Content-Type": "application/vnd.x+json"})
    error_body(resp, 400, "bad_json")


def test_unknown_service_is_fast(gw):
    """No queue is bound for the service: basic.return, answered well before the 10 s timeout."""
    resp = gw.get("/unknown_service")
    error_body(resp, 503, "unknown_service")
    assert resp.elapsed < 2 * SCALE, resp


def test_broker_unreachable(enoki):
    gw = enoki(routes=[route("/echo", SVC + ".echo", timeout=10)],
               amqp_uri="amqp://guest:guest@127.0.0.1:1/")
    resp = gw.get("/echo")
    error_body(resp, 503, "broker_unavailable")
    retry_after = resp.header("Retry-After")
    assert retry_after is not None and retry_after.isdigit(), resp.headers
    assert resp.elapsed < 2 * SCALE, resp
    # Everything that does not need the broker still works.
    error_body(gw.get("/nope"), 404, "not_found")
    error_body(gw.request("DELETE", "/echo"), 405, "method_not_allowed")
    error_body(gw.get("/echo?again=1"), 503, "broker_unavailable")


# --- deadlines ---------------------------------------------------------------------------------------------


def test_timeout_then_late_reply_is_dropped(gw, spy):
    """slow(1.4) on a route with timeout 1 (under a wrapper, later still: a held process might
    read the reply before it ran the deadline's timer): 504 at the deadline. The reply arrives later
    and is dropped; enoki keeps serving."""
    replies = spy("#")  # sees the request and, later, the reply
    call = Background(lambda: gw.get("/slow?seconds={}&value=late".format(1 + 0.4 * SCALE)))
    request = replies.get()
    assert request.routing_key == SVC + ".slow"
    resp = call.result()
    body = error_body(resp, 504, "timeout")
    assert body["call_id"] == resp.header("X-Call-Id") and body["call_id"], body
    assert 1.0 <= resp.elapsed <= 1.5 * SCALE, resp
    reply = replies.get(what="the late reply")
    assert reply.routing_key == request.props.reply_to
    assert reply.props.correlation_id == request.props.correlation_id
    assert json.loads(reply.raw) == {"result": "late", "error": None}
    # The late reply is already in enoki's reply queue, ahead of this call's reply.
    resp = gw.get("/echo?after=late")
    assert resp.status == 200 and resp.json()["kwargs"] == {"after": "late"}, resp


def test_timed_out_call_never_runs_later(gw, broker, spy, start_peer):
    """The request's expiration makes the broker drop it once the caller has given up: a service
    that starts after the 504 never runs it, while a call still within its deadline does run."""
    broker.declare_service_queue(LATE)  # bound, so routable, but nobody consumes yet
    seen = spy(LATE + ".*")
    expired, waiting = uuid.uuid4().hex, uuid.uuid4().hex
    call = Background(lambda: gw.get("/late/record?token=" + expired))
    seen.get()  # it was published
    error_body(call.result(), 504, "timeout")

    call = Background(lambda: gw.get("/late/record_long?token=" + waiting))
    seen.get()
    start_peer(LATE)
    resp = call.result()
    assert resp.status == 200 and resp.json() == 1, resp
    resp = gw.get("/late/calls?token=" + expired)
    assert resp.status == 200 and resp.json() == 0, "the timed-out call ran after its deadline"


# --- replies that are not for the waiting call ---------------------------------------------------------------


def test_stray_and_duplicate_replies(gw, broker, fake_service):
    """Before the real reply: a reply with an unknown correlation id, one without any, and one that
    is not JSON. Then the reply, twice. enoki answers with the first and keeps serving."""

    def answer(ch, method, props, body):
        import pika

        def send(payload, correlation_id):
            ch.basic_publish(EXCHANGE, props.reply_to, payload, pika.BasicProperties(
                content_type="application/json", content_encoding="utf-8", headers={},
                delivery_mode=2, priority=0, correlation_id=correlation_id))

        send(b'{"result": "stray", "error": null}', str(uuid.uuid4()))
        send(b'{"result": "no id", "error": null}', None)
        send(b"this is not json", str(uuid.uuid4()))
        send(b'{"result": "first", "error": null}', props.correlation_id)
        send(b'{"result": "second", "error": null}', props.correlation_id)
        ch.basic_ack(method.delivery_tag)

    fake_service(FAKE, answer)
    resp = gw.get("/fake")
    assert resp.status == 200 and resp.json() == "first", resp
    for i in range(3):
        resp = gw.get("/echo?n={}".format(i))
        assert resp.status == 200 and resp.json()["kwargs"] == {"n": str(i)}, resp


# --- a call that does not fit in an AMQP message -------------------------------------------------


def test_name_over_amqp_limit_fails_alone(peer, enoki, spy):
    """A generic call whose routing key would be over AMQP's 255 bytes is refused (400) with the
    reason, nothing is published, and the broker connection carries on: a call already in flight
    gets its reply, the next call works. (It used to drop the connection, failing every call in
    flight with 503.)"""
    gw = enoki(routes=[route("/slow", SVC + ".slow"), route("/echo", SVC + ".echo")],
               gateway={"expose": [SVC + ".*"]})
    s = spy(SVC + ".*")
    slow = Background(lambda: gw.get("/slow?seconds={}&value=kept".format(0.6 * SCALE)))
    assert s.get().routing_key == SVC + ".slow"
    method = "m" * (256 - len(SVC))  # the routing key "<SVC>.<method>" is 257 bytes
    resp = gw.post("/rpc/{}/{}".format(SVC, method), json_body={})
    body = error_body(resp, 400, "not_sendable")
    assert "routing key would be 257 bytes, over AMQP's 255" in body["message"], body
    resp = slow.result()
    assert resp.status == 200 and resp.json() == "kept", resp
    resp = gw.get("/echo?after=long")
    assert resp.status == 200 and resp.json()["kwargs"] == {"after": "long"}, resp
    assert s.get().routing_key == SVC + ".echo", "a call that does not fit was published"
    assert gw.get("/readyz").status == 200
    assert "lost the broker connection" not in gw.stderr_text()
    # At 255 bytes the key fits: the call goes out (and the service has no such method). Its
    # answer is awaited: a reply still on its way would reach the next test's spies.
    ok_method = "n" * (254 - len(SVC))
    call = Background(lambda: gw.post("/rpc/{}/{}".format(SVC, ok_method), json_body={}))
    assert s.get().routing_key == "{}.{}".format(SVC, ok_method)
    error_body(call.result(), 404, "method_not_found")
