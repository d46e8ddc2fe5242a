"""Issue 16, point 5: enoki's connection says who it is, for operators: `connection_name`
(`<GATEWAY.name>@<hostname>`), `product` and `version` in its client properties, as
`rabbitmqctl list_connections` and the management UI show them."""

import socket
import subprocess

import pytest

from conftest import ENOKI_BIN, GWNAME, Enoki, rabbitmqctl_json, wait_for


def connections_named(name):
    rows = rabbitmqctl_json("list_connections", "name", "client_properties")
    if rows is None:
        pytest.skip("rabbitmqctl cannot see the broker")
    found = []
    for row in rows:
        props = row.get("client_properties") or []
        # rabbitmqctl's JSON gives the properties as [name, type, value] triples (or a mapping).
        if isinstance(props, dict):
            as_map = props
        else:
            as_map = {p[0]: p[-1] for p in props if isinstance(p, list) and p}
        if as_map.get("connection_name") == name:
            found.append(as_map)
    return found


def test_the_connection_names_the_gateway_and_its_host(tmp_path, broker):
    name = GWNAME + "id"
    gw = Enoki(tmp_path, routes=[], gateway={"name": name}, ready_path="/readyz")
    try:
        expected = "{}@{}".format(name, socket.gethostname())
        wait_for(lambda: connections_named(expected), 10, interval=0.2,
                 what="a connection named " + expected)
        props = connections_named(expected)[0]
        assert props["product"] == "enoki", props
        version = subprocess.run([ENOKI_BIN, "--version"], capture_output=True, text=True).stdout
        assert version.strip() == "enoki " + props["version"], (version, props)
        assert props["platform"] == "C", props
    finally:
        gw.stop()
    wait_for(lambda: not connections_named(expected), 10, interval=0.2,
             what="the connection gone after the stop")
