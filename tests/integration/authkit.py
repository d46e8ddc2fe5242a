"""Tokens for the auth tests (issue 15), minted by a real JWT library: Debian's python3-jwt (PyJWT)
with python3-cryptography. Keys are made at test time; their public halves go to a JWK Set file.

    keys = KeyRing()                       # one RSA, P-256, P-384 and Ed25519 key, kids of their own
    keys.write(path)                       # the JWK Set of their public keys
    token = keys.mint("ES256", sub="alice")

Tokens that no library would make (alg none, a body that is not JSON, alg confusion) are put
together by hand with sign_raw(): a part is signed as given, so that the check enoki fails on is
the one the test means. The answers enoki gives to a refused token are checked by assert_refused().
"""

import base64
import hashlib
import hmac
import json
import os
import time
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm, get_default_algorithms

ISSUER = "https://issuer.enoki.test"
AUDIENCE = "enoki-tests"
SECRET = "s3cret-of-the-tests-" + "x" * 24

HMAC_ALGS = ("HS256", "HS384", "HS512")
RSA_ALGS = ("RS256", "RS384", "RS512", "PS256")
ALL_ALGS = HMAC_ALGS + RSA_ALGS + ("ES256", "ES384", "EdDSA")

_HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def b64u(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_json(value):
    return b64u(json.dumps(value, separators=(",", ":")))


def new_key(kind):
    """A private key: "rsa", "p256", "p384" or "ed25519"."""
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "p256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "p384":
        return ec.generate_private_key(ec.SECP384R1())
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(kind)


def public_jwk(private_key, kid):
    """The public JWK of a private key, with its kid, as PyJWT writes it."""
    public = private_key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        text = RSAAlgorithm.to_jwk(public)
    elif isinstance(public, ec.EllipticCurvePublicKey):
        text = ECAlgorithm.to_jwk(public)
    else:
        text = OKPAlgorithm.to_jwk(public)
    jwk = json.loads(text)
    jwk["kid"] = kid
    return jwk


def public_pem(private_key):
    return private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)


def write_jwks(path, jwks):
    """Writes {"keys": jwks} to path at once (a rename), as a key server's sidecar would."""
    tmp = "{}.tmp-{}".format(path, os.getpid())
    with open(tmp, "w") as f:
        json.dump({"keys": list(jwks)}, f)
    os.replace(tmp, path)


def claims(**over):
    """A valid payload for the tests' issuer and audience, fresh (own jti), valid for 5 minutes;
    keyword arguments replace or add claims, None removes one."""
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "tenant": "acme", "iat": now,
               "exp": now + 300, "jti": uuid.uuid4().hex}
    for name, value in over.items():
        if value is None:
            payload.pop(name, None)
        else:
            payload[name] = value
    return payload


def mint(alg, key, kid=None, headers=None, **over):
    """A token signed by PyJWT: alg with key (a private key object, or the secret for HS*)."""
    extra = dict(headers or {})
    if kid is not None:
        extra["kid"] = kid
    return jwt.encode(claims(**over), key, algorithm=alg, headers=extra or None)


def sign_raw(alg, key, header_part, payload_part):
    """header_part.payload_part.signature, the signature made over the two parts as given (strings,
    already base64url or deliberately not). key: bytes for HS*, else a private key object."""
    signing_input = "{}.{}".format(header_part, payload_part).encode()
    if alg in _HASHES:
        sig = hmac.new(key if isinstance(key, bytes) else key.encode(), signing_input,
                       _HASHES[alg]).digest()
    else:
        algorithm = get_default_algorithms()[alg]
        sig = algorithm.sign(signing_input, algorithm.prepare_key(key))
    return "{}.{}.{}".format(header_part, payload_part, b64u(sig))


class KeyRing:
    """One key of each kind, with kids: rsa-<n>, p256-<n>, p384-<n>, ed-<n>."""

    KIND_OF = {"RS256": "rsa", "RS384": "rsa", "RS512": "rsa", "PS256": "rsa", "ES256": "p256",
               "ES384": "p384", "EdDSA": "ed25519"}

    def __init__(self, suffix="1", kinds=("rsa", "p256", "p384", "ed25519")):
        self.keys = {kind: new_key(kind) for kind in kinds}
        self.kids = {kind: "{}-{}".format(kind, suffix) for kind in kinds}

    def jwks(self):
        return [public_jwk(self.keys[k], self.kids[k]) for k in self.keys]

    def write(self, path, extra=()):
        write_jwks(path, self.jwks() + list(extra))

    def key_for(self, alg):
        return self.keys[self.KIND_OF[alg]]

    def kid_for(self, alg):
        return self.kids[self.KIND_OF[alg]]

    def mint(self, alg, secret=SECRET, **over):
        """A token of alg: HS* with the secret (no kid), the others with this ring's key and kid."""
        if alg in HMAC_ALGS:
            return mint(alg, secret, **over)
        return mint(alg, self.key_for(alg), kid=self.kid_for(alg), **over)


def bearer(token):
    return {"Authorization": "Bearer " + token}


# --- what enoki answers (routes/auth.h) --------------------------------------------------------------------

BARE = 'Bearer realm="enoki"'  # the challenge when no token was sent (RFC 6750 section 3.1)
MISSING = "a bearer token is required"


def invalid_token(description):
    return 'Bearer realm="enoki", error="invalid_token", error_description="{}"'.format(description)


def insufficient_scope(scopes):
    return 'Bearer realm="enoki", error="insufficient_scope", scope="{}"'.format(scopes)


def assert_refused(resp, status, challenge, message):
    """A JSON refusal: exactly this status, challenge and body."""
    code = {401: "unauthorized", 403: "forbidden"}[status]
    assert resp.status == status, resp
    assert resp.header("WWW-Authenticate") == challenge, resp.headers
    assert resp.media_type == "application/json", resp.content_type
    assert resp.json() == {"error": code, "message": message, "call_id": None}, resp
    assert resp.header("X-Call-Id") is None, resp.headers
