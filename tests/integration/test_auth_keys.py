"""GATEWAY.auth.jwt.jwks_file over enoki's life (issue 15, point 1): read at start-up (a file that
does not load is exit 2, naming it and why), again on SIGHUP, and again when a token names a kid
the set lacks, at most once per 10 s; a file that does not load then keeps the keys read before.

Every assertion is on behaviour: which token is accepted when. Each test starts its own gateway,
as the re-reading is state of the process. Tokens: tests/integration/authkit.py.
"""

import json
import signal
import time

import pytest

import authkit as ak
from authkit import assert_refused, bearer, invalid_token
from conftest import SCALE, SVC, run_enoki, wait_for

KID_RELOAD_S = 10  # GW_AUTHN_KID_RELOAD_S


def config(jwks):
    routes = [{"rule": "/req", "rpc": SVC + ".context", "auth": "required"},
              {"rule": "/open", "rpc": SVC + ".context"}]
    gateway = {"auth": {"claims": {"sub": "user_id"},
                        "jwt": {"algorithms": ["RS256", "ES256"], "jwks_file": str(jwks)}}}
    return dict(routes=routes, gateway=gateway, ready_path="/open")


def ring(name):
    return ak.KeyRing(suffix=name, kinds=("rsa",))


def accepted(gw, keys, sub="alice"):
    """A fresh token of keys (RS256) gets through, and the service sees its subject."""
    resp = gw.get("/req", headers=bearer(keys.mint("RS256", sub=sub)))
    assert resp.status == 200, resp
    assert resp.json()["user_id"] == sub, resp


def refused_unknown_kid(gw, keys=None, token=None):
    resp = gw.get("/req", headers=bearer(token or keys.mint("RS256")))
    assert_refused(resp, 401, invalid_token("unknown kid"), "unknown kid")


def sighup(gw):
    """SIGHUP, and waits until enoki has reloaded (its log says so)."""
    before = gw.stderr_text().count("reloaded ")
    gw.send_signal(signal.SIGHUP)
    wait_for(lambda: gw.stderr_text().count("reloaded ") > before, 10 * SCALE,
             what="the reload's log line")


# --- start-up --------------------------------------------------------------------------------------------


def write_config(tmp_path, jwks):
    path = tmp_path / "gw.yaml"
    path.write_text("AMQP_URI: amqp://guest:guest@127.0.0.1:5672/\n"
                    "GATEWAY:\n"
                    "  auth:\n"
                    "    jwt:\n"
                    "      algorithms: [RS256]\n"
                    "      jwks_file: {}\n"
                    "routes: []\n".format(json.dumps(str(jwks))))
    return path


def _private_key(path):
    keys = ring("p")
    jwk = json.loads(ak.RSAAlgorithm.to_jwk(keys.keys["rsa"]))  # the private key, "d" and all
    ak.write_jwks(path, keys.jwks() + [jwk])


@pytest.mark.parametrize("write,reason", [
    (None, "cannot read: No such file or directory"),
    (lambda p: p.mkdir(), "cannot read: Is a directory"),
    (lambda p: p.write_text("{\"keys\": [}"), "not JSON: "),
    (lambda p: p.write_text(""), "not JSON: "),
    (lambda p: p.write_text("{\"kids\": []}"), "not a JWK Set: no \"keys\" array"),
    (_private_key, "key 1: private key (d)"),
    (lambda p: p.write_text(json.dumps({"keys": [{"kty": "RSA", "kid": "x", "n": "AQAB"}]})),
     "key 0: e missing or not a string"),
    (lambda p: p.write_text(" " * (1 << 20) + "{}"), "larger than 1048576 bytes"),
], ids=["missing", "a directory", "not JSON", "empty", "no keys", "a private key",
        "an RSA key without e", "too large"])
def test_a_key_file_that_does_not_load_stops_enoki(tmp_path, write, reason):
    jwks = tmp_path / "jwks.json"
    if write is not None:
        write(jwks)
    path = write_config(tmp_path, jwks)
    out = run_enoki("--config", str(path), timeout=10)
    assert out.returncode == 2, out
    prefix = "enoki: {}: GATEWAY.auth.jwt.jwks_file: {}: ".format(path, jwks)
    assert out.stderr.startswith(prefix + reason), out.stderr
    assert out.stderr.count("\n") == 1 and out.stderr.endswith("\n"), out.stderr
    if reason.endswith(": "):  # jansson's own words follow
        assert len(out.stderr) > len(prefix + reason) + 1, out.stderr


def test_check_reads_the_key_file_too(tmp_path):
    jwks = tmp_path / "jwks.json"
    path = write_config(tmp_path, jwks)
    out = run_enoki("--config", str(path), "--check", timeout=10)
    assert out.returncode == 2, out
    assert "jwks.json: cannot read: No such file or directory" in out.stderr, out.stderr
    ring("c").write(jwks)
    out = run_enoki("--config", str(path), "--check", timeout=10)
    assert out.returncode == 0, out


# --- SIGHUP ----------------------------------------------------------------------------------------------


def test_rotation_on_sighup(tmp_path, enoki, peer):
    """The file rewritten with a new key (a new kid), then SIGHUP: tokens of the new key pass, those of
    the removed key no longer do, even one that passed (and was cached) before. A read for an
    unknown kid has just been made, so only the SIGHUP can have brought the new key in."""
    jwks = tmp_path / "jwks.json"
    old, new = ring("old"), ring("new")
    old.write(jwks)
    gw = enoki(**config(jwks))
    token_old = old.mint("RS256")
    resp = gw.get("/req", headers=bearer(token_old))
    assert resp.status == 200, resp
    start = time.monotonic()
    refused_unknown_kid(gw, token=ak.mint("RS256", new.keys["rsa"], kid="nobody"))  # arms the 10 s
    new.write(jwks)
    refused_unknown_kid(gw, new)  # the file is not read again so soon
    sighup(gw)
    assert time.monotonic() - start < KID_RELOAD_S - 0.5, "too slow to tell SIGHUP from the 10 s"
    accepted(gw, new, sub="bob")
    refused_unknown_kid(gw, token=token_old)
    refused_unknown_kid(gw, old)
    assert "read 1 key(s) from {}".format(jwks) in gw.stderr_text()


def test_a_key_file_that_does_not_parse_keeps_the_old_keys(tmp_path, enoki, peer):
    jwks = tmp_path / "jwks.json"
    old, new = ring("old"), ring("new")
    old.write(jwks)
    gw = enoki(**config(jwks))
    accepted(gw, old)
    # A token of an unknown kid, the file broken: read again, refused, logged; the keys stay.
    jwks.write_text('{"keys": [')
    refused_unknown_kid(gw, new)
    wait_for(lambda: "[auth] a token names an unknown kid; keeping the keys read before: {}: not JSON"
             .format(jwks) in gw.stderr_text(), 5 * SCALE, what="the log of the failed read")
    accepted(gw, old)
    # SIGHUP with the file broken, then with no file at all: the same.
    sighup(gw)
    assert "[auth] keeping the keys read before: {}: not JSON".format(jwks) in gw.stderr_text()
    accepted(gw, old, sub="carol")
    jwks.unlink()
    sighup(gw)
    assert ("[auth] keeping the keys read before: {}: cannot read: No such file or directory"
            .format(jwks)) in gw.stderr_text()
    accepted(gw, old, sub="dave")
    # A private key in the set refuses the whole set: nothing of it is taken.
    _private_key(jwks)
    sighup(gw)
    assert "[auth] keeping the keys read before: {}: key 1: private key (d)".format(
        jwks) in gw.stderr_text()
    accepted(gw, old)
    # Once the file reads again, SIGHUP rotates as usual.
    new.write(jwks)
    sighup(gw)
    accepted(gw, new)
    refused_unknown_kid(gw, old)


# --- an unknown kid --------------------------------------------------------------------------------------


def test_an_unknown_kid_reads_the_file_again_at_most_once_per_10_s(tmp_path, enoki, peer):
    """A key added after start-up is found by its first token (the start-up read does not count);
    a key added within 10 s of that read is found only 10 s after it, or at once on SIGHUP."""
    jwks = tmp_path / "jwks.json"
    a, b, c, d = ring("a"), ring("b"), ring("c"), ring("d")
    a.write(jwks)
    gw = enoki(**config(jwks))
    accepted(gw, a)
    a.write(jwks, extra=b.jwks())
    # The read happens during the request: after sent_at, before done_at.
    sent_at = time.monotonic()
    accepted(gw, b)  # read again for b's kid
    done_at = time.monotonic()
    a.write(jwks, extra=b.jwks() + c.jwks())
    refused_unknown_kid(gw, c)
    refused_unknown_kid(gw, c)  # a refused token does not push the next read further away
    assert time.monotonic() - sent_at < KID_RELOAD_S - 0.5, "too slow to see the 10 s"
    accepted(gw, a)  # the keys read before are all still there
    time.sleep(max(0.0, done_at + KID_RELOAD_S + 0.3 - time.monotonic()))
    sent_at = time.monotonic()
    accepted(gw, c, sub="after-10s")  # read again for c's kid
    a.write(jwks, extra=b.jwks() + c.jwks() + d.jwks())
    refused_unknown_kid(gw, d)
    sighup(gw)
    assert time.monotonic() - sent_at < KID_RELOAD_S - 0.5, "too slow to tell SIGHUP from the 10 s"
    accepted(gw, d, sub="after-sighup")
    for keys in (a, b, c):
        accepted(gw, keys)


def test_an_unknown_kid_after_sighup_is_read_at_once(tmp_path, enoki, peer):
    """A read on SIGHUP does not count toward the 10 s: a key added just after it is found."""
    jwks = tmp_path / "jwks.json"
    a, b = ring("a"), ring("b")
    a.write(jwks)
    gw = enoki(**config(jwks))
    sighup(gw)
    a.write(jwks, extra=b.jwks())
    accepted(gw, b)


def test_a_token_without_kid_takes_the_only_key_that_fits(tmp_path, enoki, peer):
    """Without a kid, the one key of the set that fits the alg verifies it; with two that fit, the
    token is refused (which of them is meant?), until the set holds one again."""
    jwks = tmp_path / "jwks.json"
    a, b = ring("a"), ring("b")
    a.write(jwks)
    gw = enoki(**config(jwks))
    resp = gw.get("/req", headers=bearer(ak.mint("RS256", a.keys["rsa"], sub="no-kid")))
    assert resp.status == 200 and resp.json()["user_id"] == "no-kid", resp
    a.write(jwks, extra=b.jwks())
    sighup(gw)
    resp = gw.get("/req", headers=bearer(ak.mint("RS256", a.keys["rsa"])))
    assert_refused(resp, 401, invalid_token("no kid, and several keys fit alg RS256"),
                   "no kid, and several keys fit alg RS256")
    accepted(gw, a)  # with its kid, it is found
