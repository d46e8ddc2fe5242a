"""Issue 15, points 3 and 6: the policy of GATEWAY.expose entries (the generic route and websocket
calls) and GATEWAY.channels (who may subscribe to what), with tokens minted by python3-jwt.

Services subscribing a socket through enoki's own nameko service are not limited; here the admin
endpoints make that RPC, as a service would.
"""

import time

import jwt
import pytest

from conftest import GWNAME, SVC, SVC2, Enoki, wait_for
from wsclient import HandshakeRefused, WSClient

SECRET = "policy-secret-0123456789abcdef-0123"
ADMIN = {"Authorization": "Bearer policy-admin"}


def token(sub="alice", scope=None, lifetime=300, **claims):
    payload = {"sub": sub, "exp": int(time.time()) + lifetime, **claims}
    if scope is not None:
        payload["scope"] = scope
    return jwt.encode(payload, SECRET, algorithm="HS256")


def bearer(tok):
    return {"Authorization": "Bearer " + tok}


GATEWAY = {
    "name": GWNAME + "pol",
    "admin_prefix": "/admin",
    "admin_token": "policy-admin",
    "auth": {"websocket": "optional", "claims": {"sub": "user_id"},
             "jwt": {"algorithms": ["HS256"], "secret": SECRET, "leeway": 0}},
    "expose": [
        {"pattern": SVC + ".context", "auth": "required"},
        {"pattern": SVC + ".echo", "scopes": ["echo:call"]},
        SVC + ".get_method",
        {"pattern": SVC2 + ".*", "auth": "optional"},
    ],
    "channels": [
        "news",
        {"pattern": "user.{sub}", "auth": "required"},
        {"pattern": "orders.*", "scopes": ["orders:read"]},
        {"pattern": "audit.**", "auth": "required"},
        {"pattern": "tenant-{tenant}.*.feed"},
    ],
}


@pytest.fixture(scope="module")
def pol(tmp_path_factory, broker, peer):
    gw = Enoki(tmp_path_factory.mktemp("policy"), routes=[], gateway=GATEWAY, name="policy.yaml")
    wait_for(lambda: gw.post("/rpc/{}/get_method".format(SVC), json_body={"kwargs": {"value": 1}})
             .status == 200, 10, interval=0.05, what="the generic route")
    yield gw
    gw.stop()


# --- the generic route --------------------------------------------------------------------------------


def test_generic_route_takes_the_entry_policy(pol):
    ctx = "/rpc/{}/context".format(SVC)
    r = pol.post(ctx, json_body={})
    assert r.status == 401 and r.header("WWW-Authenticate") == 'Bearer realm="enoki"', r
    r = pol.post(ctx, json_body={}, headers=bearer(token("bob")))
    assert r.status == 200 and r.json()["user_id"] == "bob", r

    echo = "/rpc/{}/echo".format(SVC)
    r = pol.post(echo, json_body={"args": [1]}, headers=bearer(token(scope="other")))
    assert r.status == 403 and r.json()["error"] == "forbidden", r
    assert r.header("WWW-Authenticate") == (
        'Bearer realm="enoki", error="insufficient_scope", scope="echo:call"'), r
    r = pol.post(echo, json_body={"args": [1]}, headers=bearer(token(scope="x echo:call")))
    assert r.status == 200 and r.json() == {"args": [1], "kwargs": {}}, r


def test_plain_entry_keeps_its_meaning(pol):
    # GATEWAY.auth.default is none here: a plain glob reads no token, even a bad one.
    r = pol.post("/rpc/{}/get_method".format(SVC), json_body={"kwargs": {"value": 3}},
                 headers={"Authorization": "Bearer not-a-token"})
    assert r.status == 200 and r.json() == {"value": 3}, r


def test_optional_entry(pol):
    ctx = "/rpc/{}/context".format(SVC2)
    r = pol.post(ctx, json_body={})
    assert r.status == 200 and "user_id" not in r.json(), r
    r = pol.post(ctx, json_body={}, headers=bearer(token("carol")))
    assert r.status == 200 and r.json()["user_id"] == "carol", r
    r = pol.post(ctx, json_body={}, headers=bearer(token("carol", lifetime=-10)))
    assert r.status == 401, r
    assert 'error="invalid_token"' in r.header("WWW-Authenticate"), r


def test_not_exposed_is_forbidden_whoever_asks(pol):
    for headers in ({}, bearer(token())):
        r = pol.post("/rpc/{}/slow".format(SVC), json_body={}, headers=headers)
        assert r.status == 403 and r.json()["error"] == "forbidden", r
        assert r.header("WWW-Authenticate") is None, r


# --- websocket calls ----------------------------------------------------------------------------------


def ws(pol, tok=None):
    return WSClient(pol.port, headers=bearer(tok) if tok else None)


def error_of(frame, exc_type):
    assert frame["success"] is False, frame
    assert frame["error"]["exc_type"] == exc_type, frame
    assert frame["error"]["exc_path"] == "enoki." + exc_type, frame
    return frame["error"]["value"]


def test_websocket_calls_take_the_entry_policy(pol):
    anon = ws(pol)
    assert "token" in error_of(anon.call(SVC + ".context", {}, 1), "Unauthorized")
    frame = anon.call(SVC2 + ".context", {}, 2)
    assert frame["success"] is True and "user_id" not in frame["data"], frame
    assert anon.call(SVC + ".get_method", {"value": 5}, 3)["data"] == {"value": 5}
    # Still open, and still answering in order after a refusal.
    assert anon.call("get_subscriptions", {}, 4)["data"] == []
    anon.close()

    alice = ws(pol, token("alice", scope="read"))
    frame = alice.call(SVC + ".context", {}, 1)
    assert frame["success"] is True and frame["data"]["user_id"] == "alice", frame
    assert "echo:call" in error_of(alice.call(SVC + ".echo", {"a": 1}, 2), "Forbidden")
    alice.close()

    echoer = ws(pol, token("dave", scope="echo:call"))
    frame = echoer.call(SVC + ".echo", {"a": 1}, 1)
    assert frame["success"] is True and frame["data"] == {"args": [], "kwargs": {"a": 1}}, frame
    # Not exposed at all: the MethodNotFound an unknown method gets, whoever asks.
    frame = echoer.call(SVC + ".slow", {"seconds": 0}, 2)
    assert frame["success"] is False and frame["error"]["exc_type"] == "MethodNotFound", frame
    echoer.close()


# --- channels -----------------------------------------------------------------------------------------


def subscribe(client, channel, cid=1):
    return client.call("subscribe", {"channel": channel}, cid)


def assert_forbidden(client, channel):
    frame = subscribe(client, channel)
    error_of(frame, "Forbidden")
    # Nothing tells which channels exist: the same words for every refusal.
    assert frame["error"]["value"] == "this socket may not subscribe to that channel", frame


def test_channels_closed_unless_listed(pol):
    anon = ws(pol)
    assert subscribe(anon, "news")["data"] == ["news"]
    for channel in ("news2", "newsx", "secret", "user.alice", "orders.1", "audit.x", "", "**"):
        assert_forbidden(anon, channel)
    assert anon.call("get_subscriptions", {}, 9)["data"] == ["news"]
    anon.close()


def test_channel_patterns_with_claims(pol):
    alice = ws(pol, token("alice", tenant="acme"))
    assert subscribe(alice, "user.alice")["data"] == ["user.alice"]
    assert_forbidden(alice, "user.bob")
    assert_forbidden(alice, "user.alice.more")
    assert_forbidden(alice, "user.*")
    # `**` crosses segments, `*` stays within one.
    assert "audit.a.b.c" in subscribe(alice, "audit.a.b.c")["data"]
    assert "tenant-acme.x.feed" in subscribe(alice, "tenant-acme.x.feed")["data"]
    assert_forbidden(alice, "tenant-acme.x.y.feed")
    assert_forbidden(alice, "tenant-other.x.feed")
    # Scopes: alice's token has none.
    assert_forbidden(alice, "orders.1")
    alice.close()

    reader = ws(pol, token(7, scope="orders:read"))
    assert subscribe(reader, "orders.7")["data"] == ["orders.7"]
    assert_forbidden(reader, "orders.7.lines")
    assert_forbidden(reader, "user.alice")
    reader.close()


def test_integer_sub_fills_the_pattern(pol):
    numeric = ws(pol, jwt.encode({"sub": 42, "exp": int(time.time()) + 60}, SECRET, algorithm="HS256"))
    # PyJWT sends sub as given: an integer claim stands as its decimal text.
    assert subscribe(numeric, "user.42")["data"] == ["user.42"]
    assert_forbidden(numeric, "user.4")
    numeric.close()


def test_services_subscribe_sockets_anywhere(pol):
    """subscribe(socket_id, channel) through enoki's own nameko service is the service's decision."""
    anon = ws(pol)
    r = pol.post("/admin/subscribe", json_body={"socket_id": anon.socket_id, "channel": "secret"},
                 headers=ADMIN)
    assert r.status == 200 and r.json() is None, r
    r = pol.post("/admin/get_subscriptions", json_body={"socket_id": anon.socket_id}, headers=ADMIN)
    assert r.status == 200 and r.json() == ["secret"], r
    r = pol.post("/admin/broadcast", json_body={"channel": "secret", "event": "e", "data": 1},
                 headers=ADMIN)
    assert r.status == 200, r
    assert anon.recv_json() == {"type": "event", "event": "e", "data": 1, "channel": "secret"}
    anon.close()


def test_no_channels_subscribes_to_nothing(gw):
    client = WSClient(gw.port)
    for channel in ("news", "room1", SVC + ".evt"):
        assert_forbidden(client, channel)
    assert client.call("get_subscriptions", {}, 2)["data"] == []
    client.close()
