"""GATEWAY.admin_prefix: the hub's own methods over HTTP (issue 5, point 4).

POST <admin_prefix>/<method> with the kwargs as a JSON object is an RPC to enoki's own nameko
service, so the instance holding a socket answers, whichever instance took the HTTP request.
"""

import json

import pytest

from conftest import Enoki, GWNAME
from wsclient import WSClient

# The admin endpoints are never open (issue 15, point 7): this file's gateway has a static token.
ADMIN_TOKEN = "adm-" + GWNAME
AUTH = {"Authorization": "Bearer " + ADMIN_TOKEN}


@pytest.fixture(scope="module")
def admin(tmp_path_factory, broker, peer):
    gw = Enoki(tmp_path_factory.mktemp("admin"), routes=[],
               gateway={"name": GWNAME + "adm", "admin_prefix": "/admin",
                        "admin_token": ADMIN_TOKEN, "channels": ["news"]},
               name="admin.yaml")
    # Listening comes before the broker connection: wait until the admin route gets through.
    from conftest import wait_for

    wait_for(lambda: gw.post("/admin/get_subscriptions", json_body={"socket_id": "x"},
                                    headers=AUTH).status == 200,
             10, interval=0.05, what="the admin route")
    yield gw
    gw.stop()


def test_broadcast_and_unicast_over_http(admin):
    ws = WSClient(admin.port)
    assert ws.call("subscribe", {"channel": "news"})["data"] == ["news"]
    r = admin.post("/admin/broadcast", json_body={"channel": "news", "event": "flash", "data": 1}, headers=AUTH)
    assert r.status == 200 and r.json() is None, r
    assert ws.recv_json() == {"type": "event", "event": "flash", "data": 1, "channel": "news"}
    r = admin.post("/admin/unicast", json_body={"socket_id": ws.socket_id, "event": "hi",
                                                "data": {"a": 1}}, headers=AUTH)
    assert r.status == 200 and r.json() is True, r
    assert ws.recv_json() == {"type": "event", "event": "hi", "data": {"a": 1}}
    r = admin.post("/admin/unicast", json_body={"socket_id": "gone", "event": "hi", "data": 1}, headers=AUTH)
    assert r.json() is False, r
    r = admin.post("/admin/get_subscriptions", json_body={"socket_id": ws.socket_id}, headers=AUTH)
    assert r.json() == ["news"], r


def test_admin_errors(admin):
    r = admin.post("/admin/nope", json_body={}, headers=AUTH)
    assert r.status == 404 and r.json()["error"] == "not_found", r
    r = admin.get("/admin/broadcast", headers=AUTH)
    assert r.status == 405 and r.header("Allow") == "POST", r
    r = admin.post("/admin/broadcast", json_body={"channel": "news"}, headers=AUTH)
    assert r.status == 400, r
    assert r.json()["exc_type"] == "IncorrectSignature", r
    assert "missing 2 required positional arguments: 'event' and 'data'" in r.json()["value"]
    r = admin.post("/admin/subscribe", json_body={"socket_id": "nope", "channel": "x"}, headers=AUTH)
    assert r.status == 404 and r.json()["error"] == "connection_not_found", r
    assert r.json()["exc_type"] == "ConnectionNotFound", r


def test_admin_needs_the_token(admin):
    """No token: 401 with a bare challenge; a wrong one: 401 invalid_token; nothing under the prefix
    is answered before (not even a 404), and no call is made."""
    for path in ("/admin/broadcast", "/admin/nope"):
        r = admin.post(path, json_body={"channel": "news", "event": "e", "data": 1})
        assert r.status == 401 and r.json()["error"] == "unauthorized", r
        assert r.header("WWW-Authenticate") == 'Bearer realm="enoki"', r
    for wrong in ("Bearer " + ADMIN_TOKEN + "x", "Bearer " + ADMIN_TOKEN[:-1], "Basic " + ADMIN_TOKEN,
                  ADMIN_TOKEN):
        r = admin.post("/admin/broadcast", json_body={"channel": "news", "event": "e", "data": 1},
                       headers={"Authorization": wrong})
        assert r.status == 401, (wrong, r)
        assert r.header("WWW-Authenticate").startswith('Bearer realm="enoki"'), r
