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
