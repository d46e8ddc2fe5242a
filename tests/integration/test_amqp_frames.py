"""A message from the broker whose frames come apart never holds enoki's loop.

A reply is three kinds of frame: basic.deliver, a content header, body frames. Over a real network
the rest of a message can come a retransmission later than its start, or never, if the broker's
host dies in between. enoki reads a message frame by frame as the frames arrive
(core/amqp_message.h): the loop goes on serving everything else meanwhile, and the message is
handed on once whole. Here a relay in front of the broker parses the broker's frames and holds
everything after a chosen point of one large reply: after its method frame, after its content
header, or after its first body frame (a body over frame_max comes in several), while the frames
of the other channels go on. While the rest is held, /healthz is answered, and so is a websocket's
subscription to a nameko event channel, whose binding's -ok comes on the topology channel, in the
middle of the held message; once released, the held call gets its whole reply.
"""

import socket
import struct
import threading
import time

import pytest

from conftest import SCALE, SVC, Background, answered_within, http_request
from test_resilience import broker_port, broker_uri_via, chaos_gateway
from wsclient import WSClient

FRAME_METHOD, FRAME_HEADER, FRAME_BODY = 1, 2, 3
BASIC_DELIVER = (60, 60)
BIG = 300 * 1024  # over RabbitMQ's frame_max (128 KiB): the body comes in three frames


def shut_both(*sockets):
    for s in sockets:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class FrameRelay:
    """A TCP relay in front of the broker that reads the broker's side frame by frame. Armed with a
    point ("method", "header" or "body"), it passes the first reply whose body is at least
    min_body bytes up to that point, then holds every later byte until release()."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Condition()
        self.point = None  # armed: where to cut the next large reply
        self.min_body = 0
        self.holding = False  # a reply has been cut; later bytes wait
        self.held_channel = None  # hold_channel(): this channel's frames wait ...
        self.allowed = 0  # ... but for this many more, let through in order
        self.sockets = []
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def uri(self):
        return broker_uri_via(self.port)

    def arm(self, point, min_body):
        with self.lock:
            self.point, self.min_body, self.holding = point, min_body, False

    def wait_holding(self, timeout):
        with self.lock:
            return self.lock.wait_for(lambda: self.holding, timeout)

    def release(self):
        with self.lock:
            self.point, self.holding, self.held_channel = None, False, None

    def hold_channel(self, channel):
        """From now on the broker's frames on channel wait (the others go on), until
        let_through() or release()."""
        with self.lock:
            self.held_channel, self.allowed = channel, 0

    def let_through(self, n):
        """n more frames of the held channel go on, the first held first."""
        with self.lock:
            self.allowed += n

    def _accept(self):
        while not self.stopping:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self.sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._frames, args=(upstream, client), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        shut_both(src, dst)

    def _frames(self, src, dst):
        """The broker's side, parsed into whole frames and passed on as far as the armed point
        allows. Read with a short timeout, so that frames held are passed on soon after release()
        even when the broker sends nothing more."""
        buf = b""
        queue = []  # (type, channel, payload, raw) of frames parsed and not yet passed on
        src.settimeout(0.05)
        try:
            while True:
                try:
                    data = src.recv(65536)
                    if not data:
                        break
                    buf += data
                except socket.timeout:
                    pass
                while len(buf) >= 7:
                    ftype, channel, size = struct.unpack(">BHI", buf[:7])
                    if len(buf) < 8 + size:
                        break
                    raw, buf = buf[:8 + size], buf[8 + size:]
                    queue.append((ftype, channel, raw[7:7 + size], raw))
                queue = self._forward(queue, dst)
        except OSError:
            pass
        shut_both(src, dst)

    def _find(self, queue):
        """Where the armed point falls in queue: ("cut", k) to pass k frames and then hold,
        ("wait", k) to pass k frames and wait for more (a large reply's later frames, needed to
        decide, have not come yet), or ("pass", len) when no large reply begins in queue."""
        for i, (ftype, _, payload, _) in enumerate(queue):
            if ftype != FRAME_METHOD or struct.unpack(">HH", payload[:4]) != BASIC_DELIVER:
                continue
            if i + 1 >= len(queue):
                return "wait", i
            ftype2, _, header, _ = queue[i + 1]
            body_size = struct.unpack(">Q", header[4:12])[0] if ftype2 == FRAME_HEADER else 0
            if body_size < self.min_body:
                continue
            cut = i + {"method": 1, "header": 2, "body": 3}[self.point]
            return ("cut", cut) if cut <= len(queue) else ("wait", i)
        return "pass", len(queue)

    def _forward(self, queue, dst):
        """Passes on what queue may pass; returns the frames left waiting. While holding, only
        channel 1's frames wait (the held reply's, and every later one on its channel, in order):
        the connection's own (channel 0: heartbeats) and the topology channel's (2) go on, as the
        broker may interleave them with a message's frames."""
        while queue:
            with self.lock:
                if self.held_channel is not None:
                    out, keep = [], []
                    for f in queue:
                        if f[1] != self.held_channel:
                            out.append(f)
                        elif keep or self.allowed == 0:
                            keep.append(f)
                        else:
                            self.allowed -= 1
                            out.append(f)
                    dst.sendall(b"".join(f[3] for f in out))
                    return keep
                if self.holding:
                    dst.sendall(b"".join(f[3] for f in queue if f[1] != 1))
                    return [f for f in queue if f[1] == 1]
                action, k = self._find(queue) if self.point else ("pass", len(queue))
            dst.sendall(b"".join(f[3] for f in queue[:k]))
            queue = queue[k:]
            if action != "cut":
                return queue
            with self.lock:
                self.point, self.holding = None, True
                self.lock.notify_all()
        return queue

    def close(self):
        self.stopping = True
        self.release()
        self.listener.close()
        for s in self.sockets:
            try:
                s.close()
            except OSError:
                pass


def healthz_quickly(gw):
    """/healthz answered in well under a second (of three tries, conftest.answered_within); a held
    loop does not answer it at all until the relay lets the reply through."""
    def get():
        try:
            return gw.get("/healthz", timeout=3 * SCALE)
        except OSError as exc:
            pytest.fail("/healthz got no answer while the reply's rest was held: {!r}".format(exc))

    resp = answered_within(get, 0.5 * SCALE)
    assert resp.status == 200, resp


@pytest.mark.parametrize("point", ["method", "header", "body"])
def test_a_reply_whose_rest_is_late_does_not_hold_the_loop(peer, enoki, point):
    """The broker's bytes stop right after a large reply's method frame, its content header or its
    first body frame: enoki serves meanwhile, and the call gets its whole reply once the rest
    comes."""
    relay = FrameRelay(broker_port())
    try:
        gw = chaos_gateway(enoki, relay.uri(), svc=SVC)
        relay.arm(point, BIG)
        big = "x" * BIG
        call = Background(lambda: http_request(gw.port, "POST", "/rpc/{}/echo".format(SVC),
                                               json_body={"kwargs": {"big": big, "point": point}}))
        assert relay.wait_holding(10 * SCALE), "the large reply did not come: {!r} {!r}".format(call.value, call.error)
        healthz_quickly(gw)
        ws = WSClient(gw.port, timeout=5 * SCALE)
        frame = ws.call("subscribe", {"channel": "{}.held_{}".format(SVC, point)})
        assert frame.get("success") is True, frame
        healthz_quickly(gw)
        assert call.is_alive(), "answered while its reply was held: {!r}".format(call.value)
        relay.release()
        resp = call.result(10)
        assert resp.status == 200, resp
        assert resp.json()["kwargs"] == {"big": big, "point": point}
        # And the connection carries on: a reply after it is read as before.
        assert gw.get("/echo?value=after").status == 200
        assert ws.call("get_subscriptions")["data"] == ["{}.held_{}".format(SVC, point)]
        ws.close()
        gw.stop()
    finally:
        relay.close()


def test_an_unbind_report_is_not_taken_for_a_later_subscription(peer, enoki):
    """Socket A lets an event channel's binding go (queue.unbind) and socket B subscribes to the
    same channel at once (queue.bind): the broker answers both in order, on the topology channel.
    B's subscription is answered at its own bind-ok, never at the unbind-ok before it (the names
    are the same: they used to be all a report was matched by, so B heard "subscribed" while the
    binding was still being removed, and an event sent then was lost)."""
    relay = FrameRelay(broker_port())
    try:
        gw = chaos_gateway(enoki, relay.uri(), svc=SVC)
        channel = "{}.rebound".format(SVC)
        a = WSClient(gw.port, timeout=5 * SCALE)
        b = WSClient(gw.port, timeout=5 * SCALE)
        assert a.call("subscribe", {"channel": channel})["success"] is True
        relay.hold_channel(2)
        assert a.call("unsubscribe", {"channel": channel})["success"] is True
        b.request("subscribe", {"channel": channel}, "b")
        time.sleep(0.3 * SCALE)  # both operations sent, both answers held
        relay.let_through(1)  # the unbind-ok
        b.expect_silence(0.5 * SCALE)  # B is not answered at the unbind's report
        relay.release()
        answer = b.recv_json(5 * SCALE)
        assert answer["success"] is True and answer["correlation_id"] == "b", answer
        assert b.call("get_subscriptions")["data"] == [channel]
        a.close()
        b.close()
        gw.stop()
    finally:
        relay.close()
