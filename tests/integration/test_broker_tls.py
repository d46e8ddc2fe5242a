"""Issue 16, points 1 and 2: TLS to the broker (amqps://, AMQP_SSL) and client-certificate login
(LOGIN_METHOD: EXTERNAL), against a RabbitMQ node of the test's own with a TLS listener
(tests/integration/rabbit_nodes.py). The nameko-wire peer serves on the same node over plain AMQP:
a call that comes back went through enoki's TLS connection."""

import uuid

import pytest

from conftest import SCALE, Enoki, Peer, config_text, route, wait_for
from rabbit_nodes import WRONG_HOST

SVC = "tls_{}".format(uuid.uuid4().hex[:8])
EXCHANGE = "enoki-tls-" + SVC


@pytest.fixture(scope="module")
def tls_peer(tls_node, tmp_path_factory):
    p = Peer([SVC], tmp_path_factory.mktemp("tls-peer"), exchange=EXCHANGE,
             amqp_uri=tls_node.amqp_uri())
    yield p
    p.stop()


def start(tmp_path, uri, ssl, login=None, name="tls"):
    extra = "AMQP_SSL: {}\n".format(ssl)
    if login:
        extra += "LOGIN_METHOD: {}\n".format(login)
    text = config_text([route("/echo", SVC + ".echo", methods="GET")], port="@PORT@",
                       gateway={"name": "gw{}{}".format(name, SVC[-8:])}, amqp_uri=uri,
                       exchange=EXCHANGE, extra=extra)
    return Enoki(tmp_path, text=text)


def assert_served(gw):
    wait_for(lambda: gw.get("/readyz").status == 200, 15 * SCALE, interval=0.1,
             what="enoki's TLS connection")
    r = gw.get("/echo?a=1")
    assert r.status == 200 and r.json() == {"args": [], "kwargs": {"a": "1"}}, r


def assert_refused(gw, reason):
    wait_for(lambda: reason in gw.stderr_text(), 15 * SCALE, interval=0.1,
             what="the handshake refused: " + reason)
    assert gw.get("/readyz").status == 503
    r = gw.get("/echo")
    assert r.status == 503, r


def test_verified_tls(tls_node, tls_peer, rabbit_certs, tmp_path):
    gw = start(tmp_path, tls_node.amqps_uri(), "{ca_certs: %s}" % rabbit_certs.ca)
    try:
        assert_served(gw)
        assert "CERT_NONE" not in gw.stderr_text()
    finally:
        gw.stop()


def test_amqp_ssl_true_on_an_amqp_uri(tls_node, tls_peer, rabbit_certs, tmp_path):
    # kombu's rule: AMQP_SSL makes an amqp:// node speak TLS (its port given here).
    uri = "amqp://guest:guest@localhost:{}/".format(tls_node.tls_port)
    gw = start(tmp_path, uri, "{ca_certs: %s, cert_reqs: CERT_REQUIRED}" % rabbit_certs.ca)
    try:
        assert_served(gw)
    finally:
        gw.stop()


def test_unknown_ca_is_refused_and_retried(tls_node, tls_peer, rabbit_certs, tmp_path):
    gw = start(tmp_path, tls_node.amqps_uri(), "{ca_certs: %s}" % rabbit_certs.other_ca)
    try:
        assert_refused(gw, "SSL peer cert verification failed (self-signed certificate in certificate chain)")
    finally:
        gw.stop()


def test_wrong_host_name_is_refused(tls_node, tls_peer, rabbit_certs, tmp_path):
    gw = start(tmp_path, tls_node.amqps_uri(host=WRONG_HOST), "{ca_certs: %s}" % rabbit_certs.ca)
    try:
        assert_refused(gw, "cannot connect to {}:{} (TLS): SSL peer cert verification failed (IP "
                           "address mismatch)".format(WRONG_HOST, tls_node.tls_port))
    finally:
        gw.stop()


def test_a_node_reached_by_its_ip_address_is_verified(tls_node, tls_peer, rabbit_certs, tmp_path):
    """The certificate names 127.0.0.1 as an IP address: a URI of that address is verified against
    it, as Python's ssl module does (a check of DNS names only could never pass)."""
    gw = start(tmp_path, tls_node.amqps_uri(host="127.0.0.1"), "{ca_certs: %s}" % rabbit_certs.ca)
    try:
        assert_served(gw)
    finally:
        gw.stop()


def test_server_hostname_names_the_certificate_to_expect(tls_node, tls_peer, rabbit_certs,
                                                         tmp_path):
    """kombu's server_hostname: the broker is reached by an address its certificate does not name
    (an alias, a load balancer), and the certificate is checked for the name given instead."""
    gw = start(tmp_path, tls_node.amqps_uri(host=WRONG_HOST),
               "{ca_certs: %s, server_hostname: localhost}" % rabbit_certs.ca)
    try:
        assert_served(gw)
    finally:
        gw.stop()
    gw = start(tmp_path, tls_node.amqps_uri(), "{ca_certs: %s, server_hostname: rmq.invalid}"
               % rabbit_certs.ca, name="tls2")
    try:
        assert_refused(gw, "(hostname mismatch)")
    finally:
        gw.stop()


def test_cert_none_connects_with_a_warning(tls_node, tls_peer, rabbit_certs, tmp_path):
    gw = start(tmp_path, tls_node.amqps_uri(host=WRONG_HOST),
               "{ca_certs: %s, cert_reqs: CERT_NONE}" % rabbit_certs.other_ca)
    try:
        assert_served(gw)
        assert "AMQP_SSL.cert_reqs is CERT_NONE" in gw.stderr_text()
    finally:
        gw.stop()


def test_external_login_with_the_client_certificate(tls_node, tls_peer, rabbit_certs, tmp_path):
    ssl = "{ca_certs: %s, certfile: %s, keyfile: %s}" % (rabbit_certs.ca, rabbit_certs.client,
                                                         rabbit_certs.client_key)
    gw = start(tmp_path, tls_node.amqps_uri(user=None), ssl, login="EXTERNAL")
    try:
        assert_served(gw)
    finally:
        gw.stop()


def test_external_login_with_an_unknown_certificate_is_refused(tls_node, tls_peer, rabbit_certs,
                                                               tmp_path):
    ssl = "{ca_certs: %s, certfile: %s, keyfile: %s}" % (
        rabbit_certs.ca, rabbit_certs.untrusted_client, rabbit_certs.untrusted_client_key)
    gw = start(tmp_path, tls_node.amqps_uri(user=None), ssl, login="EXTERNAL")
    try:
        assert_refused(gw, "cannot")
    finally:
        gw.stop()


def test_sni_names_the_broker_as_kombu_does(rabbit_certs, tmp_path):
    """SNI carries server_hostname when given (a TLS front that picks the node or the certificate
    by it sees the name the certificate is checked for), the URI's host otherwise, and nothing for
    an IP address (RFC 6066 3): a TLS listener of the test's own records what each handshake says."""
    import socket
    import ssl
    import threading

    from ports import free_ports

    seen = []
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(rabbit_certs.server, rabbit_certs.server_key)
    ctx.sni_callback = lambda sock, name, _ctx: seen.append(name)
    port = free_ports(1)[0]
    listener = socket.create_server(("127.0.0.1", port))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                continue
            try:
                with ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.settimeout(1)
            except (OSError, ssl.SSLError):
                conn.close()

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    try:
        for host, ssl_conf, expected in (
                ("127.0.0.1", "{ca_certs: %s, server_hostname: localhost}", "localhost"),
                ("localhost", "{ca_certs: %s}", "localhost"),
                ("127.0.0.1", "{ca_certs: %s}", None)):
            seen.clear()
            gw = start(tmp_path, "amqps://guest:guest@{}:{}/".format(host, port),
                       ssl_conf % rabbit_certs.ca, name="sni")
            try:
                wait_for(lambda: seen, 15 * SCALE, interval=0.1, what="a TLS handshake")
                assert seen[0] == expected, (host, ssl_conf, seen)
            finally:
                gw.stop()
    finally:
        stop.set()
        server.join(5)
        listener.close()
