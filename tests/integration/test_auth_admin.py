"""The admin endpoints are never open (issue 15, point 7): with GATEWAY.auth.jwt, a token with
GATEWAY.admin_scope (default enoki:admin); GATEWAY.admin_token opens them too; a config with
admin_prefix and neither is refused. The static token alone: test_admin.py.
"""

import pytest

import authkit as ak
from authkit import BARE, MISSING, assert_refused, bearer, insufficient_scope, invalid_token
from conftest import SCALE, Enoki, GWNAME, run_enoki, wait_for


@pytest.fixture(scope="module")
def admingw(tmp_path_factory, broker, peer):
    gateway = {
        "name": GWNAME + "adj",
        "admin_prefix": "/admin",
        "auth": {"jwt": {"algorithms": ["HS256"], "secret": ak.SECRET}},
    }
    gw = Enoki(tmp_path_factory.mktemp("adminjwt"), routes=[], gateway=gateway,
               name="adminjwt.yaml")
    yield gw
    gw.stop()


def admin_call(gw, headers=None):
    return gw.post("/admin/get_subscriptions", json_body={"socket_id": "nobody"},
                   headers=headers)


def first_admin_call(gw, headers):
    """Listening comes before the broker connection: the first calls may find it not yet up."""
    def answered():
        resp = admin_call(gw, headers)
        return resp if resp.status != 503 else None

    return wait_for(answered, 10 * SCALE, interval=0.05, what="the admin route")


def test_admin_with_the_admin_scope(admingw):
    resp = first_admin_call(admingw, bearer(ak.mint("HS256", ak.SECRET, scope="enoki:admin")))
    assert resp.status == 200 and resp.json() == [], resp
    token = ak.mint("HS256", ak.SECRET, scp=["other", "enoki:admin"])
    resp = admin_call(admingw, bearer(token))
    assert resp.status == 200 and resp.json() == [], resp


def test_admin_without_the_scope(admingw):
    resp = admin_call(admingw, bearer(ak.mint("HS256", ak.SECRET, scope="orders:read")))
    assert_refused(resp, 403, insufficient_scope("enoki:admin"),
                   "the token lacks the scope 'enoki:admin'")


def test_admin_without_a_token(admingw):
    assert_refused(admin_call(admingw), 401, BARE, MISSING)
    resp = admingw.post("/admin/nope", json_body={})  # nothing under the prefix is answered first
    assert_refused(resp, 401, BARE, MISSING)


def test_admin_with_an_invalid_token(admingw):
    resp = admin_call(admingw, bearer(ak.mint("HS256", ak.SECRET + "!", scope="enoki:admin")))
    assert_refused(resp, 401, invalid_token("invalid signature"), "invalid signature")


def test_admin_prefix_without_a_credential_is_refused(tmp_path):
    path = tmp_path / "open-admin.yaml"
    path.write_text("AMQP_URI: amqp://guest:guest@127.0.0.1:5672/\n"
                    "GATEWAY:\n"
                    "  name: x\n"
                    "  admin_prefix: /admin\n"
                    "routes: []\n")
    out = run_enoki("--config", str(path), timeout=10)
    assert out.returncode == 2, out
    assert out.stderr == (
        "enoki: {}:4: GATEWAY.admin_prefix: the admin endpoints need a credential: "
        "GATEWAY.auth.jwt (a token with scope 'enoki:admin') or GATEWAY.admin_token\n".format(
            path)), out.stderr


def test_a_custom_admin_scope_and_the_static_token(enoki, peer):
    """GATEWAY.admin_scope names the scope; GATEWAY.admin_token next to auth.jwt opens them too."""
    static = "adm-" + GWNAME
    gw = enoki(routes=[], gateway={"admin_prefix": "/admin", "admin_scope": "ops:root",
                                   "admin_token": static,
                                   "auth": {"jwt": {"algorithms": ["HS256"], "secret": ak.SECRET}}})
    resp = first_admin_call(gw, bearer(ak.mint("HS256", ak.SECRET, scope="ops:root")))
    assert resp.status == 200 and resp.json() == [], resp
    resp = admin_call(gw, bearer(static))
    assert resp.status == 200 and resp.json() == [], resp
    resp = admin_call(gw, bearer(ak.mint("HS256", ak.SECRET, scope="enoki:admin")))
    assert_refused(resp, 403, insufficient_scope("ops:root"), "the token lacks the scope 'ops:root'")
    resp = admin_call(gw, bearer(static + "x"))  # not the static token, so a JWT: not one
    assert_refused(resp, 401, invalid_token("a token has three parts"), "a token has three parts")


def test_enokis_own_paths_under_the_admin_prefix_need_the_credential(enoki, peer):
    """metrics_path, openapi_path and the probes put under admin_prefix are answered only to the
    admin credential, as everything under it: they used to be answered first, to anyone."""
    static = "adm2-" + GWNAME
    gw = enoki(routes=[], gateway={"admin_prefix": "/admin", "admin_token": static,
                                   "metrics_path": "/admin/metrics",
                                   "openapi_path": "/admin/openapi.json",
                                   "health_path": "/admin/healthz"})
    for path in ("/admin/metrics", "/admin/openapi.json", "/admin/healthz"):
        assert_refused(gw.get(path), 401, BARE, MISSING)
        assert gw.get(path, headers=bearer(static + "x")).status == 401
    resp = gw.get("/admin/metrics", headers=bearer(static))
    assert resp.status == 200 and b"enoki_http_requests_total" in resp.body, resp
    resp = gw.get("/admin/openapi.json", headers=bearer(static))
    assert resp.status == 200 and resp.json()["openapi"].startswith("3."), resp
    assert gw.get("/admin/healthz", headers=bearer(static)).status == 200


def test_a_websocket_path_under_the_admin_prefix_is_a_config_error(tmp_path):
    """An upgrade goes to the hub before the admin check runs: a socket path under admin_prefix
    was open to anyone (a plain GET of it got 401). It is refused at load, naming both keys."""
    path = tmp_path / "ws-admin.yaml"
    for ws, prefix in (("/admin/ws", "/admin"), ("/ws", "/ws")):
        path.write_text("GATEWAY:\n  admin_prefix: {}\n  admin_token: t-{}\n"
                        "  websocket_path: {}\n".format(prefix, GWNAME, ws))
        out = run_enoki("--config", str(path), "--check")
        assert out.returncode == 2, out
        assert ("ws-admin.yaml:2: GATEWAY.websocket_path: '{}' lies under GATEWAY.admin_prefix "
                "'{}'".format(ws, prefix)) in out.stderr, out.stderr
    path.write_text("GATEWAY:\n  admin_prefix: /admin\n  admin_token: t-{}\n"
                    "  websocket_path: /adminws\n".format(GWNAME))
    assert run_enoki("--config", str(path), "--check").returncode == 0
