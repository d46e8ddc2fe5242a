"""Bearer tokens at the edge (issue 15, points 1, 3, 4 and 7, the HTTP side): GATEWAY.auth.jwt
verifies them, routes[].auth and scopes decide, GATEWAY.auth.claims puts their claims into the
call's context. The admin endpoints: test_auth_admin.py.

Tokens are minted with PyJWT (tests/integration/authkit.py); the service seen is the session peer's
`context` method, which answers the context data the call carried, as nameko's
`self.context_data` holds it. Key rotation and the key file: test_auth_keys.py.
"""

import json
import time

import pytest

import authkit as ak
from authkit import BARE, MISSING, assert_refused, bearer, insufficient_scope, invalid_token
from conftest import SCALE, SVC, Enoki, GWNAME, run_enoki, wait_for
from conftest import exchange_raw

CLAIM_KEYS = ("user_id", "tenant_id", "language")


def context_of(resp):
    """The context data the peer's `context` method saw (its own _properties dropped)."""
    assert resp.status == 200, resp
    assert resp.header("WWW-Authenticate") is None, resp.headers
    data = resp.json()
    data.pop("_properties")
    return data


# --- the gateway ------------------------------------------------------------------------------------------

CONTEXT = SVC + ".context"
SCOPES = ["orders:read", "orders:write"]

ROUTES = [
    {"rule": "/req", "rpc": CONTEXT, "methods": "GET,POST"},  # GATEWAY.auth.default: required
    {"rule": "/opt", "rpc": CONTEXT, "auth": "optional"},
    {"rule": "/open", "rpc": CONTEXT, "auth": "none"},
    {"rule": "/scoped", "rpc": CONTEXT, "scopes": SCOPES},
    {"rule": "/opt_scoped", "rpc": CONTEXT, "auth": "optional", "scopes": ["orders:read"]},
    {"rule": "/hello/<name>", "rpc": SVC + ".hello", "mode": "http", "scopes": ["greet"]},
]

LEEWAY = 20  # not the default (30): the tests near the bounds tell the two apart


@pytest.fixture(scope="module")
def keys():
    return ak.KeyRing()


@pytest.fixture(scope="module")
def other_keys():
    """Keys of the same kinds that the gateway does not know."""
    return ak.KeyRing(suffix="other")


@pytest.fixture(scope="module")
def authgw(tmp_path_factory, keys, broker, peer):
    tmp = tmp_path_factory.mktemp("auth")
    jwks = tmp / "jwks.json"
    keys.write(jwks)
    gateway = {
        "name": GWNAME + "auth",
        "log_level": "debug",  # the most that is ever logged: still no token
        "context_headers": {"X-Tenant": "tenant"},
        "expose": [SVC + ".context"],
        "auth": {
            "default": "required",
            "claims": {"sub": "user_id", "tenant": "tenant_id", "locale": "language"},
            "jwt": {"algorithms": list(ak.ALL_ALGS), "jwks_file": str(jwks), "secret": ak.SECRET,
                    "issuer": ak.ISSUER, "audience": ak.AUDIENCE, "leeway": LEEWAY},
        },
    }
    gw = Enoki(tmp, routes=ROUTES, gateway=gateway, name="auth.yaml", ready_path="/open")
    yield gw
    gw.stop()


# --- every algorithm -------------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ak.ALL_ALGS)
def test_every_algorithm_is_verified(authgw, keys, alg):
    token = keys.mint(alg, sub="alg-" + alg)
    ctx = context_of(authgw.get("/req", headers=bearer(token)))
    assert ctx["user_id"] == "alg-" + alg and ctx["tenant_id"] == "acme", ctx


@pytest.mark.parametrize("alg", ak.ALL_ALGS)
def test_every_algorithm_refuses_a_foreign_signature(authgw, keys, other_keys, alg):
    """The same kid and alg, signed by another key (or secret): the signature is what counts."""
    if alg in ak.HMAC_ALGS:
        token = ak.mint(alg, ak.SECRET + "x")
    else:
        token = ak.mint(alg, other_keys.key_for(alg), kid=keys.kid_for(alg))
    assert_refused(authgw.get("/req", headers=bearer(token)), 401,
                   invalid_token("invalid signature"), "invalid signature")


def test_no_token_on_a_required_route(authgw):
    resp = authgw.get("/req")
    assert_refused(resp, 401, BARE, MISSING)


def test_other_schemes_are_no_token(authgw):
    """Basic credentials are not a bearer token: the bare challenge, as with no header."""
    assert_refused(authgw.get("/req", headers={"Authorization": "Basic YWxpY2U6cHc="}), 401, BARE,
                   MISSING)


# --- every refusal of point 1 ----------------------------------------------------------------------------


def _none(keys):
    return ak.b64u_json({"alg": "none", "typ": "JWT"}) + "." + ak.b64u_json(ak.claims()) + "."


def _none_signed(keys):
    return ak.sign_raw("HS256", ak.SECRET, ak.b64u_json({"alg": "none"}),
                       ak.b64u_json(ak.claims()))


def _confusion(secret_of, with_kid):
    """HS256 signed with the RSA public key's bytes as the secret (the classic confusion): the
    verifier must never use an RSA key as an HMAC secret."""
    def make(keys):
        header = {"alg": "HS256", "typ": "JWT"}
        if with_kid:
            header["kid"] = keys.kids["rsa"]
        return ak.sign_raw("HS256", secret_of(keys), ak.b64u_json(header),
                           ak.b64u_json(ak.claims()))
    return make


def _pem(keys):
    return ak.public_pem(keys.keys["rsa"])


def _jwk_bytes(keys):
    return json.dumps(ak.public_jwk(keys.keys["rsa"], keys.kids["rsa"])).encode()


def _claims(alg="RS256", **over):
    return lambda keys: keys.mint(alg, **over)


def _when(alg="RS256", **offsets):
    """A token whose time claims are now + offset seconds, now being when the test runs."""
    return lambda keys: keys.mint(alg, **{k: int(time.time()) + v for k, v in offsets.items()})


def _tampered(alg):
    """The payload of a valid token replaced by another subject's; header and signature kept."""
    def make(keys):
        header, _, sig = keys.mint(alg).split(".")
        return ".".join([header, ak.b64u_json(ak.claims(sub="mallory")), sig])
    return make


def _signed_parts(header_part, payload_part):
    """Parts signed as they are with the HS256 secret: the signature holds, the part does not."""
    return lambda keys: ak.sign_raw("HS256", ak.SECRET, header_part, payload_part)


def _cut_signature(token, n):
    """The signature cut to a multiple of 4 characters, n fewer: it decodes (a length of 4k + 2 or
    4k + 3 would only when its last character's unused bits happen to be zero)."""
    head, sig = token.rsplit(".", 1)
    return head + "." + sig[:len(sig) // 4 * 4 - n]


HS_HEADER = ak.b64u_json({"alg": "HS256", "typ": "JWT"})

REFUSALS = [
    ("alg none", _none, "algorithm not accepted"),
    ("alg none, signed", _none_signed, "algorithm not accepted"),
    ("alg unknown", lambda keys: ak.sign_raw("HS256", ak.SECRET, ak.b64u_json({"alg": "HS1"}),
                                             ak.b64u_json(ak.claims())), "algorithm not accepted"),
    ("confusion, PEM, kid of the RSA key", _confusion(_pem, True),
     "the key of this kid does not fit alg HS256"),
    ("confusion, JWK, kid of the RSA key", _confusion(_jwk_bytes, True),
     "the key of this kid does not fit alg HS256"),
    ("confusion, PEM, no kid", _confusion(_pem, False), "invalid signature"),
    ("confusion, JWK, no kid", _confusion(_jwk_bytes, False), "invalid signature"),
    ("expired", _when(exp=-120), "the token has expired"),
    ("expired beyond the leeway", _when(exp=-LEEWAY - 5),
     "the token has expired"),
    ("not yet valid", _when(nbf=120), "the token is not valid yet"),
    ("not yet valid beyond the leeway", _when(nbf=LEEWAY + 5),
     "the token is not valid yet"),
    ("exp not a number", _claims(exp="tomorrow"), "exp and nbf must be numbers"),
    ("iat not a number", _claims(iat="abc"), "iat must be a number"),
    ("issued in the future", _when(iat=LEEWAY + 120),
     "the token is not valid yet (issued in the future)"),
    ("wrong issuer", _claims(iss="https://evil.test"), "unexpected issuer"),
    ("no issuer", _claims(iss=None), "unexpected issuer"),
    ("wrong audience", _claims(aud="someone-else"), "unexpected audience"),
    ("audience list without ours", _claims(aud=["a", "b"]), "unexpected audience"),
    ("no audience", _claims(aud=None), "unexpected audience"),
    ("unknown kid", lambda keys: ak.mint("ES256", keys.keys["p256"], kid="nobody"),
     "unknown kid"),
    ("tampered RS256", _tampered("RS256"), "invalid signature"),
    ("tampered PS256", _tampered("PS256"), "invalid signature"),
    ("tampered ES256", _tampered("ES256"), "invalid signature"),
    ("tampered EdDSA", _tampered("EdDSA"), "invalid signature"),
    ("tampered HS256", _tampered("HS256"), "invalid signature"),
    ("truncated signature", lambda keys: _cut_signature(keys.mint("RS256"), 4),
     "invalid signature"),
    ("truncated by one character", lambda keys: keys.mint("RS256")[:-1],
     "the signature is not base64url"),
    ("no signature", lambda keys: keys.mint("RS256").rsplit(".", 1)[0] + ".",
     "invalid signature"),
    ("two parts", lambda keys: keys.mint("RS256").rsplit(".", 1)[0], "a token has three parts"),
    ("cut in the header", lambda keys: keys.mint("RS256")[:12], "a token has three parts"),
    ("four parts", lambda keys: keys.mint("RS256") + ".x", "a token has three parts"),
    ("padded signature", lambda keys: keys.mint("HS256") + "=", "the signature is not base64url"),
    ("header not base64url", lambda keys: "~" + keys.mint("HS256"),
     "the header is not a base64url JSON object"),
    ("header not JSON", lambda keys: ak.b64u('{"alg":"HS256"') + "." + keys.mint("HS256").split(
        ".", 1)[1], "the header is not a base64url JSON object"),
    ("header a JSON list", lambda keys: ak.b64u('["HS256"]') + "." + keys.mint("HS256").split(
        ".", 1)[1], "the header is not a base64url JSON object"),
    ("payload not base64url", _signed_parts(HS_HEADER, "eyJzdWIiOiJ4In0+"),
     "the payload is not a base64url JSON object"),
    ("payload not JSON", _signed_parts(HS_HEADER, ak.b64u('{"sub": "x"')),
     "the payload is not a base64url JSON object"),
    ("payload a JSON list", _signed_parts(HS_HEADER, ak.b64u("[1, 2]")),
     "the payload is not a base64url JSON object"),
    ("over 8 KiB", lambda keys: keys.mint("HS256", filler="f" * 6200), "the token is too long"),
    ("over 8 KiB, unsigned junk", lambda keys: "a" * 8193, "the token is too long"),
]


@pytest.mark.parametrize("make,description", [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_refused_tokens(authgw, keys, make, description):
    token = make(keys)
    if description == "the token is too long":
        assert len(token) > 8192, len(token)
    resp = authgw.get("/req", headers=bearer(token))
    assert_refused(resp, 401, invalid_token(description), description)


@pytest.mark.parametrize("value", ["Bearer", "Bearer ", "bearer a b", "Bearer a*b"])
def test_malformed_authorization_header(authgw, value):
    description = "the Authorization header is not 'Bearer <token>'"
    resp = authgw.get("/req", headers={"Authorization": value})
    assert_refused(resp, 401, invalid_token(description), description)


def test_leeway_is_honoured(authgw, keys):
    """exp and nbf within GATEWAY.auth.jwt.leeway (20 s here) still pass; just past it they do not
    (REFUSALS: 'beyond the leeway')."""
    now = int(time.time())
    assert context_of(authgw.get("/req", headers=bearer(keys.mint("ES384", exp=now - LEEWAY + 8))))
    assert context_of(authgw.get("/req", headers=bearer(keys.mint("ES384", nbf=now + LEEWAY - 8))))


def test_an_audience_list_that_holds_ours(authgw, keys):
    token = keys.mint("ES256", aud=["someone-else", ak.AUDIENCE])
    assert context_of(authgw.get("/req", headers=bearer(token)))["user_id"] == "alice"


def test_a_token_of_exactly_8_kib_is_accepted(authgw, keys):
    """8 KiB is the bound (the refusal over it: REFUSALS 'over 8 KiB'); the request head holds it."""
    for n in range(5700, 6100):
        for pad in range(4):
            token = keys.mint("HS256", headers={"pad": "p" * pad}, filler="f" * n)
            if len(token) == 8192:
                ctx = context_of(authgw.get("/req", headers=bearer(token)))
                assert ctx["user_id"] == "alice", ctx
                return
    pytest.fail("no filler gives a token of 8192 bytes")


def test_invalid_tokens_on_an_optional_route_are_refused(authgw, keys):
    """Never silently anonymous: a bad token on an optional route is a 401 too."""
    resp = authgw.get("/opt", headers=bearer(keys.mint("RS256", exp=int(time.time()) - 600)))
    assert_refused(resp, 401, invalid_token("the token has expired"), "the token has expired")
    resp = authgw.get("/opt", headers=bearer(_tampered("ES256")(keys)))
    assert_refused(resp, 401, invalid_token("invalid signature"), "invalid signature")


def test_optional_route_without_a_token_is_anonymous(authgw):
    ctx = context_of(authgw.get("/opt", headers={"Accept-Language": "de", "X-Tenant": "t9"}))
    for key in CLAIM_KEYS:
        assert key not in ctx, ctx
    assert ctx["tenant"] == "t9", ctx  # a context header not filled by a claim still works
    assert "auth_token" not in ctx, ctx


def test_optional_route_with_a_token(authgw, keys):
    ctx = context_of(authgw.get("/opt", headers=bearer(keys.mint("EdDSA", sub="bob"))))
    assert ctx["user_id"] == "bob" and ctx["tenant_id"] == "acme", ctx


def test_route_with_auth_none_reads_no_token(authgw, keys):
    """auth none: no token is looked at, a bad one is not refused and a good one fills nothing."""
    ctx = context_of(authgw.get("/open", headers=bearer("not-a-token")))
    assert not any(key in ctx for key in CLAIM_KEYS), ctx
    ctx = context_of(authgw.get("/open", headers=bearer(keys.mint("RS256"))))
    assert not any(key in ctx for key in CLAIM_KEYS), ctx


def http10_get(gw, path, headers):
    """GET over HTTP/1.0, which enoki hands to libmicrohttpd (tests/integration/test_fast_path.py):
    (status, headers as a dict, body)."""
    lines = ["GET {} HTTP/1.0".format(path), "Host: 127.0.0.1"]
    lines += ["{}: {}".format(k, v) for k, v in headers.items()]
    data = exchange_raw(gw.port, ("\r\n".join(lines) + "\r\n\r\n").encode())
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    fields = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), {k.lower(): v for k, v in fields.items()}, body


def test_the_same_policy_through_libmicrohttpd(authgw, keys):
    handed_over = authgw.stderr_text().count("the connection goes to libmicrohttpd")
    status, headers, body = http10_get(authgw, "/req", {})
    assert (status, headers["www-authenticate"]) == (401, BARE), (status, headers, body)
    assert json.loads(body) == {"error": "unauthorized", "message": MISSING, "call_id": None}
    status, headers, body = http10_get(authgw, "/req", bearer(_tampered("PS256")(keys)))
    assert (status, headers["www-authenticate"]) == (401, invalid_token("invalid signature"))
    status, headers, body = http10_get(authgw, "/scoped", bearer(keys.mint("RS256")))
    assert (status, headers["www-authenticate"]) == (403, insufficient_scope(" ".join(SCOPES)))
    status, headers, body = http10_get(authgw, "/req", bearer(keys.mint("RS256", sub="mhd")))
    assert status == 200 and "www-authenticate" not in headers, (status, headers, body)
    assert json.loads(body)["user_id"] == "mhd", body
    wait_for(lambda: authgw.stderr_text().count("the connection goes to libmicrohttpd")
             >= handed_over + 4, 5 * SCALE, what="four hand-overs logged")


def test_tokens_are_never_logged(authgw, keys):
    """Not the accepted token, nor a refused one, nor the Authorization header, even at debug."""
    good, bad = keys.mint("ES256"), _tampered("RS256")(keys)
    seen = authgw.stderr_text().count('"GET /open" 200')
    assert authgw.get("/req", headers=bearer(good)).status == 200
    assert authgw.get("/req", headers=bearer(bad)).status == 401
    assert authgw.get("/open", headers=bearer(bad)).status == 200
    wait_for(lambda: authgw.stderr_text().count('"GET /open" 200') > seen, 5 * SCALE,
             what="the access log lines")
    text = authgw.stderr_text()
    for token in (good, bad):
        for part in token.split("."):
            assert part not in text, part


# --- scopes ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("over", [
    {"scope": "orders:read orders:write"},
    {"scope": "profile orders:write  orders:read"},
    {"scp": ["orders:write", "orders:read"]},
    {"scp": "orders:read orders:write"},
    {"scope": "orders:read", "scp": ["orders:write"]},
], ids=["scope", "scope, any order", "scp list", "scp string", "scope and scp"])
def test_scopes_granted(authgw, keys, over):
    ctx = context_of(authgw.get("/scoped", headers=bearer(keys.mint("PS256", **over))))
    assert ctx["user_id"] == "alice", ctx


@pytest.mark.parametrize("over,missing", [
    ({"scope": "orders:read"}, "orders:write"),
    ({"scp": ["orders:write"]}, "orders:read"),
    ({}, "orders:read"),
    ({"scope": "orders:readx orders:write"}, "orders:read"),
    ({"scope": "orders"}, "orders:read"),
    ({"scope": ["orders:read", "orders:write"]}, "orders:read"),  # scope is a string, not a list
], ids=["one of two", "scp one of two", "none", "a longer word", "a prefix", "scope as a list"])
def test_scopes_missing(authgw, keys, over, missing):
    resp = authgw.get("/scoped", headers=bearer(keys.mint("RS384", **over)))
    assert_refused(resp, 403, insufficient_scope("orders:read orders:write"),
                   "the token lacks the scope '{}'".format(missing))


def test_scoped_route_needs_a_token(authgw):
    assert_refused(authgw.get("/scoped"), 401, BARE, MISSING)


def test_optional_route_with_scopes_needs_a_token(authgw, keys):
    """Scopes are a token's claims: an optional route that lists them lets no anonymous caller in."""
    assert_refused(authgw.get("/opt_scoped"), 401, BARE, MISSING)
    resp = authgw.get("/opt_scoped", headers=bearer(keys.mint("HS512")))
    assert_refused(resp, 403, insufficient_scope("orders:read"),
                   "the token lacks the scope 'orders:read'")
    ctx = context_of(authgw.get("/opt_scoped", headers=bearer(keys.mint("HS512",
                                                                        scope="orders:read"))))
    assert ctx["user_id"] == "alice", ctx


def test_http_mode_route_answers_in_its_text_format(authgw, keys):
    def check(resp, status, challenge, text):
        assert resp.status == status, resp
        assert resp.header("WWW-Authenticate") == challenge, resp.headers
        assert resp.media_type == "text/plain", resp.content_type
        assert resp.body.decode() == text, resp

    check(authgw.get("/hello/bob"), 401, BARE, "Error: Unauthorized: " + MISSING + "\n")
    check(authgw.get("/hello/bob", headers=bearer(_tampered("RS256")(keys))), 401,
          invalid_token("invalid signature"), "Error: Unauthorized: invalid signature\n")
    check(authgw.get("/hello/bob", headers=bearer(keys.mint("RS256"))), 403,
          insufficient_scope("greet"), "Error: Forbidden: the token lacks the scope 'greet'\n")
    resp = authgw.get("/hello/bob", headers=bearer(keys.mint("RS256", scope="greet")))
    assert resp.status == 200 and resp.body == b"hello bob", resp


# --- claims into the context -----------------------------------------------------------------------------


def test_claims_reach_the_service(authgw, keys):
    """GATEWAY.auth.claims {sub: user_id, tenant: tenant_id, locale: language}: the service reads
    them in its context data; a claim's key wins over the header that fills it otherwise
    (Accept-Language -> language), and a context header mapped to another key still works."""
    token = keys.mint("ES256", sub="carol", tenant="globex", locale="fr-CH")
    headers = dict(bearer(token), **{"X-Tenant": "forged", "Accept-Language": "en"})
    ctx = context_of(authgw.get("/req", headers=headers))
    assert ctx["user_id"] == "carol", ctx
    assert ctx["tenant_id"] == "globex", ctx
    assert ctx["language"] == "fr-CH", ctx
    assert ctx["tenant"] == "forged", ctx
    assert ctx["auth_token"] == "Bearer " + token, ctx


def test_claims_on_the_wire(authgw, keys, spy):
    """As nameko's own client sends context data: nameko.<key> headers of the request message; and
    an anonymous caller's message has none of the claims' keys."""
    s = spy(SVC + ".*")
    token = keys.mint("RS512", sub="erin", tenant="initech", locale="de")
    resp = authgw.get("/req", headers=dict(bearer(token), **{"X-Tenant": "t1"}))
    msg = s.get()
    assert resp.status == 200, resp
    assert msg.headers == {
        "nameko.call_id_stack": [resp.header("X-Call-Id")],
        "nameko.auth_token": "Bearer " + token,
        "nameko.tenant": "t1",
        "nameko.user_id": "erin",
        "nameko.tenant_id": "initech",
        "nameko.language": "de",
    }, msg.headers
    resp = authgw.get("/opt", headers={"X-Tenant": "t2", "Accept-Language": "en"})
    msg = s.get()
    assert resp.status == 200, resp
    assert msg.headers == {
        "nameko.call_id_stack": [resp.header("X-Call-Id")],
        "nameko.tenant": "t2",
    }, msg.headers


def test_a_claim_key_is_never_filled_by_a_header(authgw, keys):
    """The token has no locale claim: language stays empty, whatever Accept-Language says."""
    token = keys.mint("ES256", locale=None)
    ctx = context_of(authgw.get("/req", headers=dict(bearer(token), **{"Accept-Language": "en"})))
    assert "language" not in ctx, ctx
    assert ctx["user_id"] == "alice", ctx
    ctx = context_of(authgw.get("/opt", headers={"Accept-Language": "en"}))
    assert "language" not in ctx, ctx


@pytest.mark.parametrize("value,sent", [
    (42, True), (True, True), (["a", "b"], True), ("", True), ({"id": "acme"}, False),
], ids=["number", "boolean", "list", "empty string", "object"])
def test_claim_values_that_travel(authgw, keys, value, sent):
    """A claim goes as a nameko header when it can (string, number, boolean, list); an object
    cannot, and its key stays empty."""
    ctx = context_of(authgw.get("/req", headers=bearer(keys.mint("HS384", tenant=value))))
    if sent:
        assert ctx["tenant_id"] == value, ctx
    else:
        assert "tenant_id" not in ctx, ctx


def test_a_claim_key_and_a_context_header_on_one_key_are_refused(tmp_path):
    path = tmp_path / "clash.yaml"
    path.write_text("\n".join([
        "AMQP_URI: amqp://guest:guest@127.0.0.1:5672/",
        "GATEWAY:",
        "  context_headers:",
        "    X-User: user_id",
        "  auth:",
        "    claims:",
        "      tenant: tenant_id",
        "      sub: user_id",
        "    jwt: {algorithms: [HS256], secret: abc}",
        "routes: []",
        "",
    ]))
    out = run_enoki("--config", str(path), timeout=10)
    assert out.returncode == 2, out
    assert out.stderr == (
        "enoki: {}:8: GATEWAY.auth.claims.sub: context key 'user_id' is also filled by "
        "GATEWAY.context_headers.X-User (a client could forge it)\n".format(path)), out.stderr


# --- the generic route -----------------------------------------------------------------------------------


def test_generic_route_follows_the_default_policy(authgw, keys):
    """GATEWAY.expose with GATEWAY.auth.default required: the generic route needs a token too."""
    path = "/rpc/{}/context".format(SVC)
    assert_refused(authgw.post(path, json_body={}), 401, BARE, MISSING)
    resp = authgw.post(path, json_body={}, headers=bearer(_tampered("EdDSA")(keys)))
    assert_refused(resp, 401, invalid_token("invalid signature"), "invalid signature")
    ctx = context_of(authgw.post(path, json_body={}, headers=bearer(keys.mint("EdDSA", sub="dan"))))
    assert ctx["user_id"] == "dan" and ctx["tenant_id"] == "acme", ctx


# --- an algorithm list that leaves some out --------------------------------------------------------------


def test_algorithms_not_in_the_list_are_refused(tmp_path, enoki, keys, peer):
    jwks = tmp_path / "jwks.json"
    keys.write(jwks, extra=[{"kty": "oct", "kid": "oct-1", "k": ak.b64u(ak.SECRET)}])
    gw = enoki(routes=[{"rule": "/req", "rpc": CONTEXT, "auth": "required"},
                       {"rule": "/open", "rpc": CONTEXT}],
               gateway={"auth": {"claims": {"sub": "user_id"},
                                 "jwt": {"algorithms": ["RS256", "ES256"],
                                         "jwks_file": str(jwks)}}},
               ready_path="/open")
    for alg in ("RS256", "ES256"):
        assert context_of(gw.get("/req", headers=bearer(keys.mint(alg))))["user_id"] == "alice"
    refused = [keys.mint(alg) for alg in ("RS384", "RS512", "PS256", "ES384", "EdDSA")]
    refused.append(ak.mint("HS256", ak.SECRET, kid="oct-1"))  # its key is in the set
    for token in refused:
        resp = gw.get("/req", headers=bearer(token))
        assert_refused(resp, 401, invalid_token("algorithm not accepted"), "algorithm not accepted")


def test_alg_confusion_without_a_secret(tmp_path, enoki, keys, peer):
    """HS256 and RS256 accepted, the only keys RSA ones in the set, no secret: an HS256 token
    signed with the RSA public key (PEM or JWK bytes) finds no key to be checked with."""
    jwks = tmp_path / "jwks.json"
    keys.write(jwks)
    gw = enoki(routes=[{"rule": "/req", "rpc": CONTEXT, "auth": "required"},
                       {"rule": "/open", "rpc": CONTEXT}],
               gateway={"auth": {"jwt": {"algorithms": ["HS256", "RS256"],
                                         "jwks_file": str(jwks)}}},
               ready_path="/open")
    assert gw.get("/req", headers=bearer(keys.mint("RS256"))).status == 200
    for secret_of in (_pem, _jwk_bytes):
        resp = gw.get("/req", headers=bearer(_confusion(secret_of, True)(keys)))
        assert_refused(resp, 401, invalid_token("the key of this kid does not fit alg HS256"),
                       "the key of this kid does not fit alg HS256")
        resp = gw.get("/req", headers=bearer(_confusion(secret_of, False)(keys)))
        assert_refused(resp, 401, invalid_token("no key for alg HS256"), "no key for alg HS256")
