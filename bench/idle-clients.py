"""N idle clients of one protocol, for bench/idle.sh.

    python3 bench/idle-clients.py PROTOCOL PORT N 3>REPORT <GO

Opens N connections to 127.0.0.1:PORT one after another and brings each to an idle, ready session:
  postgres  StartupMessage and SCRAM-SHA-256 as user app / secret, until ReadyForQuery
  mysql     the handshake and mysql_native_password as user bench / bench (an auth switch is
            followed), until the server's OK
  redis     PING, until +PONG
  mongodb   isMaster (OP_MSG; mongo-java-server has no hello), until its ok: 1
  cassandra STARTUP (native protocol v4) and, when asked, PLAIN as user app / app-secret, until
            READY or AUTH_SUCCESS
Then writes "idle N" to fd 3 and waits for a line on stdin; then sends one request on every
connection (SELECT 1; SELECT 1; INCR idle:answered; a find on bench.idle; SELECT release_version
FROM system.local) and writes
"answered K" to fd 3, K being the connections whose answer was the expected one.
"""
import base64
import hashlib
import hmac
import os
import socket
import struct
import sys


def recv_exact(s, size):
    buf = bytearray()
    while len(buf) < size:
        chunk = s.recv(size - len(buf))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes" % (len(buf), size))
        buf += chunk
    return bytes(buf)


def connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=30)


class Postgres:
    user, password = b"app", b"secret"

    def __init__(self):
        self.salted = {}

    @staticmethod
    def message(kind, body):
        return kind + struct.pack("!i", len(body) + 4) + body

    @staticmethod
    def read(s):
        head = recv_exact(s, 5)
        return head[:1], recv_exact(s, struct.unpack("!i", head[1:])[0] - 4)

    def expect_auth(self, s, code):
        kind, body = self.read(s)
        if kind == b"E":
            raise RuntimeError("server error: %r" % body)
        got = struct.unpack("!i", body[:4])[0]
        if kind != b"R" or got != code:
            raise RuntimeError("expected authentication %d, got %r %d" % (code, kind, got))
        return body[4:]

    def login(self, port):
        s = connect(port)
        params = b"user\0" + self.user + b"\0database\0app\0\0"
        s.sendall(struct.pack("!ii", len(params) + 8, 196608) + params)
        if b"SCRAM-SHA-256" not in self.expect_auth(s, 10):
            raise RuntimeError("SCRAM-SHA-256 not offered")
        nonce = base64.b64encode(os.urandom(18))
        first_bare = b"n=,r=" + nonce
        first = b"n,," + first_bare
        s.sendall(self.message(b"p", b"SCRAM-SHA-256\0" + struct.pack("!i", len(first)) + first))
        server_first = self.expect_auth(s, 11)
        attrs = dict(kv.split(b"=", 1) for kv in server_first.split(b","))
        key = (base64.b64decode(attrs[b"s"]), int(attrs[b"i"]))
        if key not in self.salted:
            self.salted[key] = hashlib.pbkdf2_hmac("sha256", self.password, key[0], key[1])
        client_key = hmac.new(self.salted[key], b"Client Key", hashlib.sha256).digest()
        stored = hashlib.sha256(client_key).digest()
        final_bare = b"c=biws,r=" + attrs[b"r"]
        auth_message = first_bare + b"," + server_first + b"," + final_bare
        signature = hmac.new(stored, auth_message, hashlib.sha256).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        s.sendall(self.message(b"p", final_bare + b",p=" + base64.b64encode(proof)))
        self.expect_auth(s, 12)
        self.expect_auth(s, 0)
        self.until_ready(s)
        return s

    def until_ready(self, s):
        value = None
        while True:
            kind, body = self.read(s)
            if kind == b"E":
                raise RuntimeError("server error: %r" % body)
            if kind == b"D":
                value = body[6:]
            if kind == b"Z":
                return value

    def send_query(self, s):
        s.sendall(self.message(b"Q", b"SELECT 1\0"))

    def answered(self, s):
        return self.until_ready(s) == b"1"


class Mysql:
    user, password = b"bench", b"bench"
    # LONG_PASSWORD | CONNECT_WITH_DB | PROTOCOL_41 | TRANSACTIONS | SECURE_CONNECTION | PLUGIN_AUTH
    caps = 0x1 | 0x8 | 0x200 | 0x2000 | 0x8000 | 0x80000

    @staticmethod
    def read(s):
        head = recv_exact(s, 4)
        length = head[0] | head[1] << 8 | head[2] << 16
        return head[3], recv_exact(s, length)

    @staticmethod
    def write(s, seq, payload):
        s.sendall(struct.pack("<I", len(payload))[:3] + bytes([seq & 0xFF]) + payload)

    def scramble(self, seed):
        # SHA1(password) XOR SHA1(seed + SHA1(SHA1(password)))
        one = hashlib.sha1(self.password).digest()
        mix = hashlib.sha1(seed + hashlib.sha1(one).digest()).digest()
        return bytes(a ^ b for a, b in zip(one, mix))

    def login(self, port):
        s = connect(port)
        seq, p = self.read(s)
        if p[0] != 10:
            raise RuntimeError("not a v10 handshake: %r" % p[:40])
        i = p.index(0, 1) + 1 + 4
        seed = p[i:i + 8]
        i += 9 + 2 + 1 + 2 + 2
        auth_len = p[i]
        i += 1 + 10
        part2 = p[i:i + max(13, auth_len - 8)]
        seed += part2.rstrip(b"\0")[:12]
        response = (struct.pack("<IIB", self.caps, 1 << 24, 45) + bytes(23) + self.user + b"\0"
                    + bytes([20]) + self.scramble(seed) + b"sbtest\0" + b"mysql_native_password\0")
        self.write(s, seq + 1, response)
        seq, p = self.read(s)
        if p[0] == 0xFE:  # auth switch: the plugin's name, then its seed
            name_end = p.index(0, 1)
            if p[1:name_end] != b"mysql_native_password":
                raise RuntimeError("auth switch to %r" % p[1:name_end])
            self.write(s, seq + 1, self.scramble(p[name_end + 1:].rstrip(b"\0")[:20]))
            seq, p = self.read(s)
        if p[0] != 0:
            raise RuntimeError("login refused: %r" % p[:80])
        return s

    def send_query(self, s):
        self.write(s, 0, b"\x03SELECT 1")

    def answered(self, s):
        # column count, column definitions, EOF, rows, EOF (no CLIENT_DEPRECATE_EOF)
        eofs, value = 0, None
        while eofs < 2:
            _, p = self.read(s)
            if p[0] == 0xFF:
                raise RuntimeError("query error: %r" % p[:80])
            if p[0] == 0xFE and len(p) < 9:
                eofs += 1
            elif eofs == 1:
                value = p[1:1 + p[0]]
        return value == b"1"


class Redis:
    @staticmethod
    def line(s):
        buf = bytearray()
        while not buf.endswith(b"\r\n"):
            buf += recv_exact(s, 1)
        return bytes(buf[:-2])

    def login(self, port):
        s = connect(port)
        s.sendall(b"*1\r\n$4\r\nPING\r\n")
        reply = self.line(s)
        if reply != b"+PONG":
            raise RuntimeError("PING answered %r" % reply)
        return s

    def send_query(self, s):
        s.sendall(b"*2\r\n$4\r\nINCR\r\n$13\r\nidle:answered\r\n")

    def answered(self, s):
        return self.line(s).startswith(b":")


class Mongodb:
    # ok: 1 as a double (servers) or an int32 (mproxy's own handshake answer)
    OK = (b"\x01ok\x00" + struct.pack("<d", 1.0), b"\x10ok\x00" + struct.pack("<i", 1))

    def __init__(self):
        self.request_id = 0

    @staticmethod
    def document(*elements):
        body = b"".join(elements) + b"\0"
        return struct.pack("<i", len(body) + 4) + body

    @staticmethod
    def int32(name, value):
        return b"\x10" + name + b"\0" + struct.pack("<i", value)

    @staticmethod
    def string(name, value):
        return b"\x02" + name + b"\0" + struct.pack("<i", len(value) + 1) + value + b"\0"

    def command(self, s, doc):
        self.request_id += 1
        body = struct.pack("<I", 0) + b"\0" + doc
        s.sendall(struct.pack("<iiii", len(body) + 16, self.request_id, 0, 2013) + body)

    @staticmethod
    def reply(s):
        head = recv_exact(s, 16)
        return recv_exact(s, struct.unpack("<i", head[:4])[0] - 16)

    def login(self, port):
        s = connect(port)
        self.command(s, self.document(self.int32(b"isMaster", 1), self.string(b"$db", b"admin")))
        body = self.reply(s)
        if not self.ok(body):
            raise RuntimeError("isMaster answered %r" % body[:120])
        return s

    def send_query(self, s):
        self.command(s, self.document(self.string(b"find", b"idle"), self.int32(b"limit", 1),
                                      self.string(b"$db", b"bench")))

    def answered(self, s):
        return self.ok(self.reply(s))

    def ok(self, body):
        return any(ok in body for ok in self.OK)


class Cassandra:
    # native protocol v4: version, flags, stream, opcode, body length
    STARTUP, READY, AUTHENTICATE, QUERY, RESULT, AUTH_RESPONSE, AUTH_SUCCESS = 0x01, 0x02, 0x03, 0x07, 0x08, 0x0F, 0x10
    USER, PASSWORD = b"app", b"app-secret"

    @staticmethod
    def frame(s, opcode, body):
        s.sendall(struct.pack(">BBhBi", 0x04, 0, 1, opcode, len(body)) + body)

    @staticmethod
    def reply(s):
        _, _, _, opcode, size = struct.unpack(">BBhBi", recv_exact(s, 9))
        return opcode, recv_exact(s, size)

    @staticmethod
    def string(value):
        return struct.pack(">H", len(value)) + value

    def login(self, port):
        s = connect(port)
        self.frame(s, self.STARTUP, struct.pack(">H", 1) + self.string(b"CQL_VERSION") + self.string(b"3.0.0"))
        opcode, body = self.reply(s)
        if opcode == self.AUTHENTICATE:
            token = b"\0" + self.USER + b"\0" + self.PASSWORD
            self.frame(s, self.AUTH_RESPONSE, struct.pack(">i", len(token)) + token)
            opcode, body = self.reply(s)
            if opcode != self.AUTH_SUCCESS:
                raise RuntimeError("AUTH_RESPONSE answered opcode %d: %r" % (opcode, body[:120]))
        elif opcode != self.READY:
            raise RuntimeError("STARTUP answered opcode %d: %r" % (opcode, body[:120]))
        return s

    def send_query(self, s):
        query = b"SELECT release_version FROM system.local"
        self.frame(s, self.QUERY, struct.pack(">i", len(query)) + query + struct.pack(">HB", 0x0001, 0))

    def answered(self, s):
        return self.reply(s)[0] == self.RESULT


def main():
    protocol, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    client = {"postgres": Postgres, "mysql": Mysql, "redis": Redis, "mongodb": Mongodb, "cassandra": Cassandra}[protocol]()
    socks = [client.login(port) for _ in range(n)]
    report = os.fdopen(3, "w")
    report.write("idle %d\n" % len(socks))
    report.flush()
    sys.stdin.readline()
    for s in socks:
        client.send_query(s)
    answered = sum(1 for s in socks if client.answered(s))
    report.write("answered %d\n" % answered)
    report.flush()


if __name__ == "__main__":
    main()
