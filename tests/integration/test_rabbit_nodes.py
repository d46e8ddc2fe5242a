"""The extra RabbitMQ nodes of rabbit_nodes.py do what the enoki tests rely on (pika as the client):
TLS verified, wrong CA and wrong host name refused, EXTERNAL login, unknown client certificates
refused, a two-node cluster that survives the loss of a node, and the memory alarm."""

import ssl
import time
import uuid

import pytest

from rabbit_nodes import WRONG_HOST

from conftest import enoki_is_instrumented

pika = pytest.importorskip("pika")

# They check the helper, not enoki: once, in make test, not again under ASan and valgrind.
pytestmark = pytest.mark.skipif(enoki_is_instrumented(),
                                reason="tests of the test helper: make test runs them")


def tls_params(node, certs, cafile=None, client=None, host="localhost", check_host=True,
               credentials=None):
    ctx = ssl.create_default_context(cafile=cafile or certs.ca)
    ctx.check_hostname = check_host
    if client:
        ctx.load_cert_chain(getattr(certs, client), getattr(certs, client + "_key"))
    return pika.ConnectionParameters(
        host=host, port=node.tls_port, ssl_options=pika.SSLOptions(ctx, server_hostname=host),
        credentials=credentials or pika.PlainCredentials("guest", "guest"),
        connection_attempts=1, heartbeat=0, socket_timeout=5)


def plain_params(node):
    return pika.ConnectionParameters(host="127.0.0.1", port=node.port, connection_attempts=1,
                                     heartbeat=0, credentials=pika.PlainCredentials("guest", "guest"))


def refused(params):
    """The exception text of a connection that must fail."""
    with pytest.raises((pika.exceptions.AMQPConnectionError, ssl.SSLError, OSError)) as info:
        pika.BlockingConnection(params).close()
    return repr(info.value)


def round_trip(connection, queue):
    ch = connection.channel()
    body = uuid.uuid4().bytes
    ch.basic_publish("", queue, body)
    for _ in range(100):
        method, _, got = ch.basic_get(queue, auto_ack=True)
        if method:
            assert got == body
            return
        time.sleep(0.02)
    pytest.fail("nothing came back on " + queue)


def test_tls_with_verification(tls_node, rabbit_certs):
    with pika.BlockingConnection(tls_params(tls_node, rabbit_certs)) as conn:
        q = conn.channel().queue_declare("", exclusive=True).method.queue
        round_trip(conn, q)


def test_unknown_ca_is_refused_by_the_client(tls_node, rabbit_certs):
    text = refused(tls_params(tls_node, rabbit_certs, cafile=rabbit_certs.other_ca))
    assert "CERTIFICATE_VERIFY_FAILED" in text, text


def test_wrong_host_name_is_refused_by_the_client(tls_node, rabbit_certs):
    text = refused(tls_params(tls_node, rabbit_certs, host=WRONG_HOST))
    assert "mismatch" in text, text
    # The same address without the host check: it is the name, not the route, that fails.
    pika.BlockingConnection(tls_params(tls_node, rabbit_certs, host=WRONG_HOST, check_host=False)).close()


def test_external_login_with_the_client_certificate(tls_node, rabbit_certs):
    params = tls_params(tls_node, rabbit_certs, client="client",
                        credentials=pika.credentials.ExternalCredentials())
    with pika.BlockingConnection(params) as conn:
        q = conn.channel().queue_declare("", exclusive=True).method.queue
        round_trip(conn, q)


@pytest.mark.parametrize("client", ["untrusted_client", "expired_client"])
def test_client_certificate_the_broker_does_not_trust_is_refused(tls_node, rabbit_certs, client):
    params = tls_params(tls_node, rabbit_certs, client=client,
                        credentials=pika.credentials.ExternalCredentials())
    refused(params)


def test_add_user_then_plain_login_over_tls(tls_node, rabbit_certs):
    name = "u" + uuid.uuid4().hex[:8]
    tls_node.add_user(name, "pw")
    creds = pika.PlainCredentials(name, "pw")
    pika.BlockingConnection(tls_params(tls_node, rabbit_certs, credentials=creds)).close()


def test_memory_alarm_blocks_publishers(tls_node):
    events = []
    conn = pika.BlockingConnection(plain_params(tls_node))
    conn.add_on_connection_blocked_callback(lambda c, m: events.append("blocked"))
    conn.add_on_connection_unblocked_callback(lambda c, m: events.append("unblocked"))
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    try:
        tls_node.set_memory_alarm(True)
        ch.basic_publish("", q, b"x")   # the broker blocks a connection when it next publishes
        deadline = time.monotonic() + 10
        while events != ["blocked"] and time.monotonic() < deadline:
            conn.process_data_events(0.05)
        assert events == ["blocked"]
    finally:
        tls_node.set_memory_alarm(False)
    deadline = time.monotonic() + 10
    while events != ["blocked", "unblocked"] and time.monotonic() < deadline:
        conn.process_data_events(0.05)
    assert events == ["blocked", "unblocked"]
    assert ch.basic_get(q, auto_ack=True)[2] == b"x"   # held while blocked, delivered now
    round_trip(conn, q)
    conn.close()


def test_cluster_serves_through_either_node_and_survives_one(rabbit_cluster):
    a, b = rabbit_cluster.a, rabbit_cluster.b
    rabbit_cluster.ensure_running()
    assert rabbit_cluster.running_nodes(b) == sorted([a.nodename, b.nodename])
    queue = "q-" + uuid.uuid4().hex[:8]
    with pika.BlockingConnection(plain_params(a)) as on_a:
        on_a.channel().queue_declare(queue, auto_delete=False)
        with pika.BlockingConnection(plain_params(b)) as on_b:
            on_b.channel().queue_declare(queue, passive=True)   # visible from b
            round_trip(on_b, queue)                              # through b, to a queue on a
            on_b.channel().queue_delete(queue)

    a.stop()
    assert not a.registered()
    with pika.BlockingConnection(plain_params(b)) as on_b:
        q = on_b.channel().queue_declare("", exclusive=True).method.queue
        round_trip(on_b, q)
    refused(plain_params(a))

    # a comes back and rejoins; then b dies hard and a serves alone.
    a.start()
    assert rabbit_cluster.running_nodes(a) == sorted([a.nodename, b.nodename])
    b.kill()
    with pika.BlockingConnection(plain_params(a)) as on_a:
        q = on_a.channel().queue_declare("", exclusive=True).method.queue
        round_trip(on_a, q)
