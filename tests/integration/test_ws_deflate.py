"""Issue 18, point 3 (websockets): permessage-deflate (RFC 7692) when the client offers it, off with
GATEWAY.websocket_deflate: false; a small compressed frame that inflates beyond
GATEWAY.websocket_max_frame is closed with 1009, like an uncompressed one."""

import json
import zlib

import pytest

from conftest import SCALE, SVC, Enoki, route
from wsclient import OP_TEXT, Closed, WSClient

OFFER = {"Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits"}
MAX_FRAME = 65536


def deflate(data):
    """A message's payload as RFC 7692 §7.2.1 sends it: raw deflate, the final empty block's
    0x00 0x00 0xff 0xff taken off."""
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


def gateway(tmp_path, **keys):
    g = dict({"expose": [SVC + ".*"], "websocket_max_frame": MAX_FRAME, "websocket_deflate": True},
             **keys)
    return Enoki(tmp_path, routes=[route("/echo", SVC + ".echo")], gateway=g, ready_path="/echo")


def test_a_compressed_call_and_its_compressed_answer(peer, tmp_path):
    g = gateway(tmp_path)
    try:
        c = WSClient(g.port, headers=OFFER, timeout=5 * SCALE)
        ext = c.headers.get("sec-websocket-extensions", "")
        assert ext.startswith("permessage-deflate"), c.headers
        assert c.allow_rsv1 and c.connected["data"]["socket_id"], c.connected
        data = {"text": "y" * 5000}
        request = json.dumps({"method": SVC + ".echo", "data": data, "correlation_id": "z"})
        c.send_frame(OP_TEXT, deflate(request.encode()), rsv=4)
        fin, opcode, payload = c.recv_frame()
        assert fin and opcode == OP_TEXT and c.last_rsv == 4, (fin, opcode, c.last_rsv)
        frame = json.loads(c.inflate(payload))
        assert frame["success"] is True and frame["data"] == {"args": [], "kwargs": data}, frame
        # An uncompressed message on the same socket is fine too.
        c.send_frame(OP_TEXT, json.dumps({"method": SVC + ".echo", "data": {"a": 1},
                                          "correlation_id": "u"}).encode())
        fin, opcode, payload = c.recv_frame()
        frame = json.loads(c.inflate(payload) if c.last_rsv == 4 else payload)
        assert frame["data"] == {"args": [], "kwargs": {"a": 1}}, frame
        c.close()
    finally:
        g.stop()


def test_a_decompression_bomb_is_closed_with_1009(peer, tmp_path):
    g = gateway(tmp_path)
    try:
        c = WSClient(g.port, headers=OFFER, timeout=5 * SCALE)
        bomb = deflate(b" " * (16 << 20))  # 16 MiB of spaces in about 16 KiB
        assert len(bomb) < 32 << 10
        c.send_frame(OP_TEXT, bomb, rsv=4)
        with pytest.raises(Closed):
            while True:
                c.recv_message()
        assert c.close_code == 1009, c.close_code
        assert g.get("/healthz").status == 200
    finally:
        g.stop()


def test_it_is_on_by_default_and_takes_only_offers_it_can_answer(peer, tmp_path):
    """RFC 7692: a server declines an offer with a parameter it does not know, a repeated one, a
    value where none goes or a window out of 8-15, and takes the client's first other offer. An
    offer with server_max_window_bits is declined too: libwebsockets would take it without naming
    the parameter in its answer, which a client must refuse (7.1.2.1; python's websockets does).
    The offer taken comes back as the answer, and enoki's deflater keeps to its own 8 KiB window."""
    g = Enoki(tmp_path, routes=[route("/echo", SVC + ".echo")],
              gateway={"expose": [SVC + ".*"]}, ready_path="/echo")
    try:
        import random
        rnd = random.Random(7)
        chunk = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(2000))
        for offer, answer in (
                ("permessage-deflate", "permessage-deflate"),
                ("permessage-deflate; client_max_window_bits", "permessage-deflate"),
                ("permessage-deflate; server_no_context_takeover",
                 "permessage-deflate; server_no_context_takeover"),
                ("permessage-deflate; server_max_window_bits=9", None),
                ("permessage-deflate; server_max_window_bits=9, permessage-deflate",
                 "permessage-deflate"),
                ("permessage-deflate; foo=bar", None),
                ("permessage-deflate; client_max_window_bits=abc", None),
                ("permessage-deflate; server_no_context_takeover=1", None),
                ("permessage-deflate; server_no_context_takeover; server_no_context_takeover",
                 None),
                ("x-webkit-deflate-frame, permessage-deflate; foo, Permessage-Deflate",
                 "permessage-deflate")):
            c = WSClient(g.port, headers={"Sec-WebSocket-Extensions": offer}, timeout=5 * SCALE,
                         read_connected=False)
            assert c.headers.get("sec-websocket-extensions") == answer, (offer, c.headers)
            if answer is None:
                assert not c.allow_rsv1
                assert c.recv_json()["event"] == "connected" and not c.last_compressed
                c.close()
                continue
            # One inflater from the first message on (the connected event): they share a window.
            c.inflater = zlib.decompressobj(-13)
            assert c.recv_json()["event"] == "connected"
            for i in range(3):
                data = {"text": chunk + str(i) + chunk}
                c.send_frame(OP_TEXT, json.dumps({"method": SVC + ".echo", "data": data,
                                                  "correlation_id": i}).encode())
                frame = c.recv_json()  # lws sends it in 1 KiB fragments
                assert c.last_compressed
                assert frame["data"]["kwargs"] == data, frame
            c.close()
    finally:
        g.stop()


def test_many_sockets_at_once_with_messages_of_many_pieces(peer, tmp_path):
    """Calls that inflate to several 1 KiB pieces, on 16 sockets at once, and answers of 40 KiB
    that deflate to several: libwebsockets 4.1.6 reads a piece's compressed bytes from a buffer
    another socket's read reuses, and deflates from the hub's message after lws_write returned
    (gateway/hub_deflate.c). Every answer must be the call's data, byte for byte."""
    g = gateway(tmp_path)
    try:
        import random
        rnd = random.Random(18)
        words = "order customer status shipped pending total price item quantity name".split()
        socks = [WSClient(g.port, headers=OFFER, timeout=10 * SCALE) for _ in range(16)]
        deflaters = [zlib.compressobj(6, zlib.DEFLATED, -15) for _ in socks]
        for size in (4000, 4000, 40000):
            sent = []
            for i, c in enumerate(socks):
                text = " ".join(rnd.choice(words) + str(rnd.randrange(1000)) for _ in range(size // 8))
                request = json.dumps({"method": SVC + ".echo", "data": {"text": text},
                                      "correlation_id": i}).encode()
                out = deflaters[i].compress(request) + deflaters[i].flush(zlib.Z_SYNC_FLUSH)
                c.send_frame(OP_TEXT, out[:-4], rsv=4)
                sent.append(text)
            for i, c in enumerate(socks):
                frame = c.recv_json()
                assert c.last_compressed, i
                assert frame.get("success") is True, (i, str(frame)[:300])
                assert frame["data"] == {"args": [], "kwargs": {"text": sent[i]}}, i
        for c in socks:
            c.close()
        assert g.get("/healthz").status == 200
    finally:
        g.stop()


def test_websocket_deflate_false_turns_it_off(peer, tmp_path):
    g = gateway(tmp_path, websocket_deflate=False)
    try:
        c = WSClient(g.port, headers=OFFER, timeout=5 * SCALE)
        assert "sec-websocket-extensions" not in c.headers, c.headers
        c.close()
    finally:
        g.stop()
