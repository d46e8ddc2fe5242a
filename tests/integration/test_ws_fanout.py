"""Issue 20, point 3: fan-out. Every socket subscribed to a channel gets every frame sent to it,
once and in order, whether the frame comes from a Python service's broadcast (an RPC to enoki's
nameko service) or from a nameko event; with and without permessage-deflate on the same channel
(one frame encoded once, deflated per socket); while sockets close in the middle of the stream;
and a socket that never reads is cut off by GATEWAY.websocket_send_queue while the others on the
same channel go on receiving, with enoki's memory bounded.

Counts are small (a few hundred sockets, 100+ frames each): the benchmark (bench/fanout_bench.c)
measures 10,000. No timing is asserted."""

import random
import socket

from conftest import SCALE, SESSION, memory_is_measurable, rss_kb
from test_websocket import EVSVC, EVX, hub_client, publish_event, start_hub
from wsclient import WSClient

OFFER = {"Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits"}
NAME = "gwfan{}".format(SESSION)
SLOW_NAME = "gwfans{}".format(SESSION)
SEND_QUEUE = 262144
BATCH = 4  # broadcasts in flight at once: 4 x 16 KiB, well within the send queue of a reader
T = 10 * SCALE


def words(n, rng):
    """Text that deflates, but not to nothing: n characters of words picked at random."""
    vocab = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india"]
    out = []
    size = 0
    while size < n:
        w = rng.choice(vocab) + str(rng.randrange(1000))
        out.append(w)
        size += len(w) + 1
    return " ".join(out)[:n]


def open_sockets(gw, n, deflate_every=0):
    """n upgraded sockets; every deflate_every-th one offers permessage-deflate (0: none)."""
    socks = []
    for i in range(n):
        offer = deflate_every and i % deflate_every == 0
        socks.append(WSClient(gw.port, headers=OFFER if offer else None, timeout=T))
    if deflate_every:
        assert sum(s.allow_rsv1 for s in socks) == (n + deflate_every - 1) // deflate_every
    return socks


def subscribe_all(socks, channel):
    for i, s in enumerate(socks):
        answer = s.call("subscribe", {"channel": channel}, "sub{}".format(i))
        assert answer["success"] is True and channel in answer["data"], answer


def check_stream(s, channel, event, count, padding):
    """Reads count event frames from s: seq 0..count-1, in order, each once, each whole."""
    for seq in range(count):
        frame = s.recv_json(T)
        assert frame.get("type") == "event" and frame.get("event") == event, frame
        assert frame.get("channel") == channel, frame
        assert frame["data"]["seq"] == seq, "socket {} expected seq {}, got {}".format(
            s.socket_id, seq, frame["data"]["seq"])
        assert frame["data"]["text"] == padding[seq % len(padding)], "a frame arrived altered"


def send_broadcasts(rpc, channel, event, datas):
    """One broadcast per data, as a Python service sends them (nameko RPC to enoki's service), all
    in flight at once; returns their correlation ids."""
    return [rpc.send("broadcast", args=[channel, event, data]) for data in datas]


def await_replies(rpc, cids):
    for cid in cids:
        props, raw = rpc.reply(cid, T)
        assert raw == b'{"result": null, "error": null}', raw[:300]


def sequenced(count, padding, first=0):
    return [{"seq": first + i, "text": padding[i % len(padding)]} for i in range(count)]


def close_all(socks):
    for s in socks:
        s.abort()


def test_every_socket_gets_every_broadcast_once_in_order(peer, broker, session_tmp):
    """300 sockets on one channel, one in three deflating, 120 broadcasts: each socket reads all
    120 in order, and then the marker sent after them (nothing duplicated in between)."""
    rng = random.Random(20)
    gw = start_hub(session_tmp, broker, NAME, "fan.yaml")
    socks = []
    try:
        socks = open_sockets(gw, 300, deflate_every=3)
        subscribe_all(socks, "fan")
        rpc = hub_client(broker, NAME)
        padding = [words(rng.randrange(10, 3000), rng) for _ in range(17)]
        await_replies(rpc, send_broadcasts(rpc, "fan", "tick", sequenced(120, padding)))
        assert rpc.call("broadcast", args=["fan", "end", None]) is None
        for s in socks:
            check_stream(s, "fan", "tick", 120, padding)
            assert s.recv_json(T) == {"type": "event", "event": "end", "data": None,
                                      "channel": "fan"}, s.last_raw
        rpc.close()
    finally:
        close_all(socks)
        gw.stop()


def test_every_socket_gets_every_event_once_in_order(peer, broker, session_tmp):
    """200 sockets subscribed to a nameko event channel <service>.<event_type>, half deflating,
    110 events dispatched as nameko's event_dispatcher does: each socket reads all in order."""
    rng = random.Random(21)
    broker.declare_exchange(EVX)
    gw = start_hub(session_tmp, broker, NAME + "e", "fan-ev.yaml")
    socks = []
    try:
        socks = open_sockets(gw, 200, deflate_every=2)
        channel = EVSVC + ".fanned"
        subscribe_all(socks, channel)
        padding = [words(rng.randrange(10, 2000), rng) for _ in range(13)]
        for data in sequenced(110, padding):
            publish_event(broker, "fanned", data)
        publish_event(broker, "fanned", "end")
        for s in socks:
            check_stream(s, channel, "fanned", 110, padding)
            end = s.recv_json(T)
            assert end["data"] == "end", end
    finally:
        close_all(socks)
        gw.stop()


def test_sockets_closing_mid_stream_leave_the_others_whole(peer, broker, session_tmp):
    """While 150 broadcasts of up to 6 KB flow to 240 sockets (half deflating), 80 of them go:
    40 drop the connection, 40 close with a handshake. Those left get every frame in order; enoki
    stays up (and, under ASan, no shared frame is read after its last socket let it go)."""
    rng = random.Random(22)
    gw = start_hub(session_tmp, broker, NAME + "c", "fan-close.yaml")
    socks = []
    try:
        socks = open_sockets(gw, 240, deflate_every=2)
        subscribe_all(socks, "churn")
        rpc = hub_client(broker, NAME + "c")
        padding = [words(rng.randrange(1000, 6000), rng) for _ in range(11)]
        leaving = rng.sample(range(240), 80)
        cids = []
        for i, data in enumerate(sequenced(150, padding)):
            cids += send_broadcasts(rpc, "churn", "tick", [data])
            if i % 15 == 7 and leaving:
                for _ in range(8):
                    k = leaving.pop()
                    if k % 2:
                        socks[k].abort()
                    else:
                        socks[k].send_frame(0x8, b"\x03\xe8")  # a close frame; no more reading
                        socks[k].sock.shutdown(socket.SHUT_RD)
                    socks[k] = None
        await_replies(rpc, cids)
        left = [s for s in socks if s is not None]
        assert len(left) == 160
        for s in left:
            check_stream(s, "churn", "tick", 150, padding)
        assert gw.get("/healthz").status == 200
        rpc.close()
    finally:
        close_all([s for s in socks if s is not None])
        gw.stop()


def test_a_socket_that_never_reads_is_cut_off_while_the_others_keep_receiving(
        peer, broker, session_tmp):
    """One socket that never reads and 6 that do, all on one channel: broadcasts of 16 KB go on
    until the slow one is gone (websocket_send_queue 256 KiB; the shared frames it holds count
    against it whole). The others have every frame, in order, and enoki's RSS stayed bounded."""
    gw = start_hub(session_tmp, broker, SLOW_NAME, "fan-slow.yaml",
                   websocket_send_queue=SEND_QUEUE)
    socks = []
    try:
        slow = WSClient(gw.port, timeout=T, rcvbuf=4096)
        good = open_sockets(gw, 6, deflate_every=2)
        socks = [slow] + good
        subscribe_all(socks, "flood")
        rpc = hub_client(broker, SLOW_NAME)
        watch_memory = memory_is_measurable()
        rss0 = rss_kb(gw.proc.pid) if watch_memory else 0
        data = "z" * 16384
        seq = 0
        gone = False
        limit = 40 << 20  # far beyond the kernel's socket buffers (tcp_wmem max 4 MiB)
        while seq * len(data) < limit and not gone:
            await_replies(rpc, send_broadcasts(rpc, "flood", "big",
                                               sequenced(BATCH, [data], first=seq)))
            for s in good:
                for i in range(BATCH):
                    frame = s.recv_json(T)
                    assert frame["data"]["seq"] == seq + i and frame["data"]["text"] == data, (
                        "socket {}: expected seq {}".format(s.socket_id, seq + i))
            seq += BATCH
            gone = rpc.call("unicast", args=[slow.socket_id, "probe", None]) is False
        assert gone, "a socket that never reads was still there after {} MiB".format(
            (seq * len(data)) >> 20)
        if watch_memory:
            grown = rss_kb(gw.proc.pid) - rss0
            assert grown < 24 * 1024, "enoki grew by {} KiB for a slow reader".format(grown)
        messages, closed = slow.drain(10 * SCALE)
        assert closed is not None and (closed.eof or closed.code == 1008), closed
        # The others stay subscribed and keep receiving.
        assert rpc.call("broadcast", args=["flood", "after", {"seq": seq}]) is None
        for s in good:
            frame = s.recv_json(T)
            assert frame["event"] == "after" and frame["data"]["seq"] == seq, frame
        assert gw.get("/healthz").status == 200
        rpc.close()
    finally:
        close_all(socks)
        gw.stop()


def test_a_frame_larger_than_the_send_queue_reaches_sockets_that_keep_up(peer, broker, session_tmp):
    """websocket_send_queue bounds what waits for a reader, not one frame: a broadcast and a
    nameko event larger than the bound reach idle subscribers, with and without deflate, and what
    follows does too. (Such a frame used to drop every socket it went to, readers or not.)"""
    broker.declare_exchange(EVX)
    gw = start_hub(session_tmp, broker, SLOW_NAME + "b", "fan-big.yaml",
                   websocket_send_queue=SEND_QUEUE)
    socks = []
    try:
        socks = open_sockets(gw, 4, deflate_every=2)
        subscribe_all(socks, "bigone")
        subscribe_all(socks, EVSVC + ".huge")
        rpc = hub_client(broker, SLOW_NAME + "b")
        big = words(SEND_QUEUE + 50000, random.Random(7))

        def everyone_gets(event, text):
            for s in socks:
                frame = s.recv_json(T)
                assert frame["event"] == event and frame["data"]["text"] == text, (
                    "socket {}: {}".format(s.socket_id, s.last_raw[:200]))
        await_replies(rpc, send_broadcasts(rpc, "bigone", "big", [{"text": big}]))
        everyone_gets("big", big)
        publish_event(broker, "huge", {"text": big[::-1]})
        everyone_gets("huge", big[::-1])
        await_replies(rpc, send_broadcasts(rpc, "bigone", "small", [{"text": "s"}]))
        everyone_gets("small", "s")
        assert "reads too slowly" not in gw.stderr_text()
        rpc.close()
    finally:
        close_all(socks)
        gw.stop()


def test_pongs_and_frames_keep_their_boundaries_while_the_kernel_takes_part_of_a_frame(
        peer, broker, session_tmp):
    """A socket's frames go out in the loop's pass that made them, several in one send, and
    libwebsockets keeps what the kernel did not take. Four sockets with small receive buffers, not read at first, get 160
    broadcasts of up to 12 KB (so sends are cut short and the rest waits in enoki), and ping enoki
    with numbered payloads throughout: each socket then reads every frame in order and whole, and
    pongs in order with pings' payloads (a pong or a frame written into the middle of another
    would break the framing or the sequence)."""
    rng = random.Random(23)
    gw = start_hub(session_tmp, broker, NAME + "p", "fan-pong.yaml",
                   websocket_send_queue=16 << 20)
    socks = []
    try:
        socks = [WSClient(gw.port, timeout=T, rcvbuf=4096) for _ in range(4)]
        subscribe_all(socks, "cut")
        rpc = hub_client(broker, NAME + "p")
        padding = [words(rng.randrange(2000, 12000), rng) for _ in range(7)]
        cids = []
        pinged = 0
        for i, data in enumerate(sequenced(160, padding)):
            cids += send_broadcasts(rpc, "cut", "tick", [data])
            if i % 10 == 5:
                for s in socks:
                    s.ping(b"p%d" % pinged)
                pinged += 1
        await_replies(rpc, cids)
        for s in socks:
            check_stream(s, "cut", "tick", 160, padding)
        assert rpc.call("broadcast", args=["cut", "end", None]) is None
        for s in socks:
            assert s.recv_json(T)["event"] == "end"
            s.expect_silence(0.5)  # a pong may come after the marker
            # Each pong carries a ping's payload, in order. Not every ping gets one: while a pong
            # waits to be sent, libwebsockets 4.1.6 drops later pings (RFC 6455 5.5.3 would have
            # it answer the latest); a ping sent once all is quiet is answered.
            numbers = [int(p[1:]) for p in s.pongs]
            assert numbers and numbers == sorted(set(numbers)), s.pongs
            s.ping(b"last")
            s.expect_silence(0.5)
            assert s.pongs[-1] == b"last", s.pongs
        rpc.close()
    finally:
        close_all(socks)
        gw.stop()


def test_broadcasts_one_per_pass_to_sockets_that_stop_reading_arrive_whole(
        peer, broker, session_tmp):
    """A broadcast goes to a socket at once, from the shared frame, when nothing is queued before
    it (gateway/hub_frames.c). Here each broadcast is sent only once the one before was answered,
    so each comes in a pass of enoki's loop of its own, to four sockets with 4 KiB receive buffers
    that read nothing until the end: 600 frames of 8-16 KB, more than the kernel holds (its send
    buffer grows to 4 MiB at most, tcp_wmem), so a
    send at once is cut short (the rest goes to libwebsockets) and later ones find the kernel full
    (the frame is queued). Once read, every socket has every frame, whole and in order; two of
    the four deflate (their frames never go at once) and must agree."""
    rng = random.Random(24)
    gw = start_hub(session_tmp, broker, NAME + "o", "fan-once.yaml",
                   websocket_send_queue=16 << 20)
    socks = []
    try:
        socks = [WSClient(gw.port, timeout=T, rcvbuf=4096, headers=OFFER if i % 2 else None)
                 for i in range(4)]
        subscribe_all(socks, "once")
        rpc = hub_client(broker, NAME + "o")
        padding = [words(rng.randrange(8000, 16000), rng) for _ in range(7)]
        count = 600
        for data in sequenced(count, padding):
            await_replies(rpc, send_broadcasts(rpc, "once", "tick", [data]))
        for s in socks:
            check_stream(s, "once", "tick", count, padding)
        assert rpc.call("broadcast", args=["once", "end", None]) is None
        for s in socks:
            assert s.recv_json(T)["event"] == "end"
        rpc.close()
    finally:
        close_all(socks)
        gw.stop()
