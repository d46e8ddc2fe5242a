"""A small RFC 6455 websocket client over a raw socket, for the hub's integration tests.

It does only what the tests need, and lets them misbehave on purpose: frames of any opcode and size,
announced lengths that are never sent, fragments, unmasked frames, a reader that never reads, a
client that never answers pings. Everything the server sends is checked against the RFC as it is
read (server frames unmasked, no RSV bits, control frames short and whole).

    ws = WSClient(port)                    # handshake; raises HandshakeRefused unless 101
    ws.connected                           # the first frame's JSON ({"type": "event", ...})
    ws.send_json({"method": "get_subscriptions", "correlation_id": 1})
    ws.recv_json()                         # the next text message, decoded; ws.last_raw = its text
    ws.close()                             # close handshake
"""

import base64
import hashlib
import json
import os
import socket
import struct
import time
import zlib

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class HandshakeRefused(Exception):
    """The server answered the upgrade with something other than 101."""

    def __init__(self, status, headers, body):
        super().__init__("upgrade refused: {} {!r}".format(status, body[:300]))
        self.status = status
        self.headers = headers  # lower-case name -> value
        self.body = body

    def json(self):
        return json.loads(self.body)


class Closed(Exception):
    """The connection ended: code is the server's close code (None for a close frame without one),
    or eof=True when the TCP connection ended without a close frame."""

    def __init__(self, code=None, reason=b"", eof=False):
        super().__init__("closed: code={} reason={!r} eof={}".format(code, reason, eof))
        self.code = code
        self.reason = reason
        self.eof = eof


class ProtocolViolation(AssertionError):
    """The server sent something RFC 6455 forbids."""


def accept_key(key):
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def encode_frame(opcode, payload, fin=True, mask=True, rsv=0, length=None):
    """One frame. length overrides the announced payload length (the payload is sent as given)."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    n = len(payload) if length is None else length
    head = bytearray([(0x80 if fin else 0) | (rsv << 4) | opcode])
    mbit = 0x80 if mask else 0
    if n < 126:
        head.append(mbit | n)
    elif n < 65536:
        head.append(mbit | 126)
        head += struct.pack("!H", n)
    else:
        head.append(mbit | 127)
        head += struct.pack("!Q", n)
    if mask:
        key = os.urandom(4)
        head += key
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload)) if len(payload) < 4096 \
            else _mask_fast(payload, key)
    return bytes(head) + payload


def _mask_fast(payload, key):
    n = len(payload)
    k = int.from_bytes((key * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(payload, "big") ^ k).to_bytes(n, "big")


def read_http_head(sock, deadline):
    """Reads an HTTP response head; returns (status, headers lower-cased, leftover bytes)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            raise TimeoutError("no complete HTTP response head; got {!r}".format(buf[:500]))
        if not chunk:
            raise ConnectionError("connection closed during the HTTP response head; got {!r}"
                                  .format(buf[:500]))
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("iso-8859-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        value = value.strip()
        headers[name] = headers[name] + ", " + value if name in headers else value
    return status, headers, rest


def read_http_body(sock, headers, rest, deadline):
    if "content-length" in headers:
        n = int(headers["content-length"])
        while len(rest) < n:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        return rest[:n]
    # No length: read until the server closes (or the deadline).
    while True:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return rest
        if not chunk:
            return rest
        rest += chunk


class WSClient:
    def __init__(self, port, path="/ws", headers=None, host="127.0.0.1", host_header=None,
                 timeout=5.0, rcvbuf=None, auto_pong=True, read_connected=True,
                 key=None, version="13", origin=None):
        """Connects and upgrades. headers: extra request headers (dict or list of pairs).
        rcvbuf: SO_RCVBUF set before connecting (a small window for slow-reader tests).
        auto_pong: answer pings (the pings seen are in self.pings either way).
        read_connected: read the first frame and keep it as self.connected / self.socket_id."""
        self.timeout = timeout
        self.auto_pong = auto_pong
        self.pings = []          # payloads of the pings received
        self.pongs = []          # payloads of the pongs received
        self.close_code = None   # the server's close code, once a close frame was read
        self.allow_rsv1 = False  # permessage-deflate negotiated: RSV1 marks a compressed message
        self.last_rsv = 0        # the RSV bits of the last frame read
        self.last_compressed = False  # whether the last message read came compressed
        self.close_sent = False
        self.buf = bytearray()
        self.last_raw = None
        self.last_opcode = None
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.key = key if key is not None else base64.b64encode(os.urandom(16)).decode()
        req = ["GET {} HTTP/1.1".format(path),
               "Host: {}".format(host_header if host_header is not None
                                 else "{}:{}".format(host, port)),
               "Upgrade: websocket",
               "Connection: Upgrade",
               "Sec-WebSocket-Key: {}".format(self.key),
               "Sec-WebSocket-Version: {}".format(version)]
        if origin is not None:
            req.append("Origin: {}".format(origin))
        items = headers.items() if isinstance(headers, dict) else (headers or [])
        for name, value in items:
            req.append("{}: {}".format(name, value))
        self.sock.sendall(("\r\n".join(req) + "\r\n\r\n").encode("utf-8"))
        deadline = time.monotonic() + timeout
        status, self.headers, rest = read_http_head(self.sock, deadline)
        self.status = status
        if status != 101:
            body = read_http_body(self.sock, self.headers, rest, deadline)
            self.sock.close()
            raise HandshakeRefused(status, self.headers, body)
        self.buf += rest
        # permessage-deflate (RFC 7692) when the server took the offer: RSV1 messages are inflated.
        ext = self.headers.get("sec-websocket-extensions", "")
        self.allow_rsv1 = "permessage-deflate" in ext
        # Without server_no_context_takeover the server's messages share one LZ77 window (RFC 7692
        # §7.2.2): one inflater for the connection's life.
        self.fresh_window = "server_no_context_takeover" in ext
        self.inflater = zlib.decompressobj(-15)
        self.connected = None
        self.socket_id = None
        if read_connected:
            self.connected = self.recv_json()
            self.connected_raw = self.last_raw
            self.connected_opcode = self.last_opcode
            try:
                self.socket_id = self.connected["data"]["socket_id"]
            except (TypeError, KeyError):
                self.socket_id = None

    # --- sending ----------------------------------------------------------------------------------

    def send_raw(self, data):
        self.sock.sendall(data)

    def send_frame(self, opcode, payload, **kw):
        self.sock.sendall(encode_frame(opcode, payload, **kw))

    def send_text(self, text):
        self.send_frame(OP_TEXT, text)

    def send_binary(self, data):
        self.send_frame(OP_BINARY, data)

    def send_json(self, obj, binary=False):
        payload = json.dumps(obj).encode("utf-8")
        self.send_frame(OP_BINARY if binary else OP_TEXT, payload)

    def request(self, method, data=None, correlation_id=None, with_cid=True):
        frame = {"method": method}
        if data is not None:
            frame["data"] = data
        if with_cid:
            frame["correlation_id"] = correlation_id
        self.send_json(frame)

    def call(self, method, data=None, correlation_id=None, timeout=None):
        """Sends a request and returns the next message, decoded (self.last_raw is its text)."""
        self.request(method, data, correlation_id)
        return self.recv_json(timeout)

    def ping(self, payload=b""):
        self.send_frame(OP_PING, payload)

    # --- receiving --------------------------------------------------------------------------------

    def _fill(self, n, deadline):
        while len(self.buf) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no complete frame before the deadline ({} of {} bytes)"
                                   .format(len(self.buf), n))
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(1 << 20)
            except socket.timeout:
                raise TimeoutError("no complete frame before the deadline ({} of {} bytes)"
                                   .format(len(self.buf), n))
            except ConnectionResetError:
                raise Closed(eof=True)
            if not chunk:
                raise Closed(eof=True)
            self.buf += chunk

    def recv_frame(self, timeout=None):
        """The next frame as (fin, opcode, payload); control frames are not handled here."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        self._fill(2, deadline)
        b0, b1 = self.buf[0], self.buf[1]
        fin, rsv, opcode = bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0x0F
        masked, n = bool(b1 & 0x80), b1 & 0x7F
        pos = 2
        if n == 126:
            self._fill(4, deadline)
            n = struct.unpack("!H", self.buf[2:4])[0]
            pos = 4
        elif n == 127:
            self._fill(10, deadline)
            n = struct.unpack("!Q", self.buf[2:10])[0]
            pos = 10
        if masked:
            raise ProtocolViolation("the server sent a masked frame")
        if rsv and not (rsv == 4 and self.allow_rsv1):
            raise ProtocolViolation("the server set RSV bits {:#x}".format(rsv))
        self.last_rsv = rsv
        if opcode not in (OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG):
            raise ProtocolViolation("the server sent opcode {:#x}".format(opcode))
        if opcode >= 0x8 and (n > 125 or not fin):
            raise ProtocolViolation("the server sent a long or fragmented control frame")
        self._fill(pos + n, deadline)
        payload = bytes(self.buf[pos:pos + n])
        del self.buf[:pos + n]
        return fin, opcode, payload

    def recv_message(self, timeout=None):
        """The next data message as (opcode, payload bytes). Pings are answered (if auto_pong) and
        recorded, pongs recorded; a close frame is answered and raises Closed."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        parts = []
        first_opcode = None
        while True:
            fin, opcode, payload = self.recv_frame(max(0.0, deadline - time.monotonic()))
            if opcode == OP_PING:
                self.pings.append(payload)
                if self.auto_pong:
                    self.send_frame(OP_PONG, payload)
                continue
            if opcode == OP_PONG:
                self.pongs.append(payload)
                continue
            if opcode == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                if len(payload) == 1:
                    raise ProtocolViolation("close frame with a 1-byte payload")
                self.close_code = code
                if not self.close_sent:
                    try:
                        self.send_frame(OP_CLOSE, payload[:2])
                        self.close_sent = True
                    except OSError:
                        pass
                raise Closed(code, payload[2:])
            if first_opcode is None:
                if opcode == OP_CONT:
                    raise ProtocolViolation("continuation frame without a message")
                first_opcode = opcode
                compressed = self.last_rsv == 4
            elif opcode != OP_CONT:
                raise ProtocolViolation("a new message inside a fragmented one")
            parts.append(payload)
            if fin:
                data = b"".join(parts)
                self.last_compressed = compressed
                if compressed:
                    data = self.inflate(data)
                return first_opcode, data

    def inflate(self, payload):
        """A compressed message's payload inflated (RFC 7692 §7.2.2: the 0x00 0x00 0xff 0xff the
        sender took off put back)."""
        if self.fresh_window:
            self.inflater = zlib.decompressobj(-15)
        return self.inflater.decompress(payload + b"\x00\x00\xff\xff")

    def recv_text(self, timeout=None):
        """The next message, which must be a text frame of valid UTF-8; returns the str."""
        opcode, payload = self.recv_message(timeout)
        self.last_opcode = opcode
        if opcode != OP_TEXT:
            raise ProtocolViolation("expected a text message, got opcode {:#x}: {!r}"
                                    .format(opcode, payload[:200]))
        self.last_raw = payload.decode("utf-8")
        return self.last_raw

    def recv_json(self, timeout=None):
        return json.loads(self.recv_text(timeout))

    def expect_silence(self, seconds):
        """Asserts no data message arrives within seconds (pings and pongs are fine)."""
        try:
            opcode, payload = self.recv_message(seconds)
        except TimeoutError:
            return
        raise AssertionError("unexpected message {:#x} {!r}".format(opcode, payload[:300]))

    def wait_closed(self, timeout=None):
        """Reads (and drops) messages until the connection ends; returns the Closed exception."""
        wait = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + wait
        while True:
            try:
                self.recv_message(max(0.0, deadline - time.monotonic()))
            except Closed as exc:
                return exc
            except TimeoutError:
                raise TimeoutError("the connection is still open after {:.1f}s (no close frame, "
                                   "no EOF)".format(wait)) from None

    def drain(self, timeout):
        """Reads everything until the connection ends or timeout; returns (messages, the Closed
        or None)."""
        deadline = time.monotonic() + timeout
        messages = []
        while True:
            try:
                messages.append(self.recv_message(max(0.0, deadline - time.monotonic())))
            except Closed as exc:
                return messages, exc
            except TimeoutError:
                return messages, None

    def eof(self, timeout):
        """True if the server has closed the TCP connection (read returns EOF) within timeout."""
        deadline = time.monotonic() + timeout
        while True:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return False
            except ConnectionResetError:
                return True
            if not chunk:
                return True
            self.buf += chunk

    # --- closing ----------------------------------------------------------------------------------

    def close(self, code=1000, timeout=2.0):
        """Close handshake: sends a close frame, waits for the server's, closes the socket. Returns
        the server's close code (None if it sent none)."""
        code_seen = self.close_code
        try:
            if not self.close_sent:
                self.send_frame(OP_CLOSE, struct.pack("!H", code))
                self.close_sent = True
            if code_seen is None:
                exc = self.wait_closed(timeout)
                code_seen = exc.code
        except (OSError, TimeoutError):
            pass
        finally:
            self.sock.close()
        return code_seen

    def abort(self):
        """Drops the TCP connection without a close handshake."""
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.abort()
