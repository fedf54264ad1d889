#!/usr/bin/env python3
"""Seeds for the fuzz targets (fuzz/corpus/<target>): record streams derived
from vectors/openssl-samples, transcripts as op programs and captures, and
hand-written op programs (run from the crate root; rewrites the files it
makes, names are the SHA-1 of the contents)."""
import glob, json, os, hashlib

def write(target, data):
    d = os.path.join("fuzz", "corpus", target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

files = sorted(glob.glob("vectors/openssl-samples/*.json"))
streams = []
for path in files[:8]:
    t = json.load(open(path))
    s2c = b"".join(bytes.fromhex(s["recv"]) for s in t["steps"] if "recv" in s)
    streams.append(s2c)

for i, s in enumerate(streams):
    # deframe_open: byte 0 = 9 picks plaintext mode (no keys), byte 1 the
    # segment sizes; the stream is the server's records, cut to ~400 bytes.
    write("deframe_open", bytes([9, i * 7]) + s[:400])
    # Same bytes under keys: headers pass, the tags fail.
    write("deframe_open", bytes([i % 9, 1]) + s[:160])
# A 1-byte segmentation of small records and a bad header.
write("deframe_open", bytes([9, 0]) + b"\x17\x03\x03\x00\x01A\x15\x03\x03\x00\x02\x01\x00")
write("deframe_open", bytes([9, 0]) + b"\x16\x03\x03\x40\x01")

# seal_mutate_open: byte 0 suite, byte 1 flips, then up to 32 record specs
# and the rest (flip positions and cuts).
for i in range(9):
    spec = bytes([(i * 37 + j * 11) % 256 for j in range(3 + i)])
    write("seal_mutate_open", bytes([i, 0]) + spec)
    write("seal_mutate_open", bytes([i, 1 + i % 3]) + spec[:2] + bytes([7, 9, 200, 3, 1, 0]))

# ---------------------------------------------------------------- session_ops
# Op codes (harness/src/lib.rs, mod op) and modes (mod mode).
RECV, SENT, EOF, READ, PEEK, PENDING, WRITE_A, WRITE_B, CAPACITY, TAKE, \
    SHUTDOWN, HANDSHAKE, RENEGOTIATE, PEER_RECORD, PEER_KEY_UPDATE, \
    PEER_ALERT, PEER_EMPTY = range(17)
KEY_UPDATE, DRIVE_WITH, DRIVER_PLAN, PEER_HS = range(238, 242)
TLS12, TLS13, PASSIVE = 0, 1, 2
SERVER, DRIVEN, WITH_ROLE = 3, 6, 12
# Driver decisions (mod decision) and what PEER_HS seals (mod peer_hs).
SCRIPT, PAUSE, FAIL, SWALLOW = range(4)
HELLO_REQUEST, CLIENT_HELLO, SERVER_HELLO, CERTIFICATE, SERVER_HELLO_DONE, \
    CLIENT_KEY_EXCHANGE, FINISHED, CCS, HELLO_FLIGHT, FINISH_FLIGHT = range(10)
COALESCE, SPLIT = 0x80, 0x40

def u16(n):
    return bytes([(n >> 8) & 0xff, n & 0xff])

def header(mode, suite=0, flags=0, frag=0):
    return bytes([mode, suite, flags, frag])

def small_transcripts(limit):
    """The smallest transcripts of each version (by file size)."""
    paths = sorted(glob.glob("vectors/transcripts/*.json") + files,
                   key=os.path.getsize)
    out, seen = [], set()
    for p in paths:
        t = json.load(open(p))
        key = (t["version"], t["name"].split("-")[0])
        if key in seen:
            continue
        seen.add(key)
        out.append(t)
        if len(out) == limit:
            break
    return out

def program_of(t):
    """A transcript's steps as an op program for the passive mode."""
    kl = "\n".join(t["keylog"]).encode()
    p = header(PASSIVE, 0, 0 if t["options"].get("auto_retry", True) else 1) + u16(len(kl)) + kl
    for s in t["steps"]:
        if "recv" in s:
            b = bytes.fromhex(s["recv"]); p += bytes([RECV]) + u16(len(b)) + b
        elif "send" in s:
            b = bytes.fromhex(s["send"]); p += bytes([TAKE]) + u16(0xffff) + bytes([SENT]) + u16(len(b)) + b
        elif "eof" in s:
            p += bytes([EOF])
        elif "read" in s:
            p += bytes([READ]) + u16(min(s["read"], 0xffff))
        elif "peek" in s:
            p += bytes([PEEK]) + u16(min(s["peek"], 0xffff))
        elif "pending" in s:
            p += bytes([PENDING])
        elif "write" in s:
            p += bytes([WRITE_A if s["buf"] == "A" else WRITE_B]) + u16(min(s["write"], 0xffff))
        elif "transport" in s:
            p += bytes([CAPACITY]) + u16(min(s["transport"]["capacity"], 0xfffe))
        elif "drain" in s:
            p += bytes([TAKE]) + u16(min(s["drain"], 0xffff))
        elif "renegotiate" in s:
            p += bytes([RENEGOTIATE])
    return p

for t in small_transcripts(4):
    write("session_ops", program_of(t))

def rec(typ, n):
    # typ | 0x80: the payload follows; else a pattern of n bytes.
    return bytes([PEER_RECORD, typ]) + u16(n)

for mode in (TLS12, TLS13):
    for suite in range(3):
        # A1/A2/A3: records, short reads, peek then read, pending.
        write("session_ops", header(mode, suite) + rec(0x83, 10) + b"abcdefghij" + rec(0x83, 5) + b"01234"
              + bytes([READ]) + u16(4) + bytes([PENDING, PEEK]) + u16(100)
              + bytes([READ]) + u16(100) + bytes([READ]) + u16(100) + bytes([READ]) + u16(1))
    # Writes over a bounded transport, a moved retry, partial writes.
    write("session_ops", header(mode, 0, 4 | 64, 0) + bytes([CAPACITY]) + u16(600)
          + bytes([WRITE_A]) + u16(3000) + bytes([TAKE]) + u16(700) + bytes([WRITE_A]) + u16(3000)
          + bytes([TAKE]) + u16(0xffff) + bytes([WRITE_B]) + u16(3000) + bytes([SHUTDOWN, TAKE]) + u16(0xffff))
    # Floods: empty records, warning alerts, then EOF mid-record.
    write("session_ops", header(mode, 1) + bytes([PEER_EMPTY, 33, READ]) + u16(10))
    write("session_ops", header(mode, 1) + bytes([PEER_ALERT, 1, 90]) * 5 + bytes([READ]) + u16(10))
    write("session_ops", header(mode, 2) + bytes([RECV]) + u16(3) + b"\x17\x03\x03" + bytes([EOF, READ]) + u16(10)
          + bytes([WRITE_A]) + u16(10))
    write("session_ops", header(mode, 2) + bytes([PEER_ALERT, 1, 0, READ]) + u16(5) + bytes([SHUTDOWN, READ]) + u16(5))
    write("session_ops", header(mode, 2) + rec(0x82, 8) + bytes([4, 0, 0, 4, 0, 0, 0, 0]) + bytes([READ]) + u16(5))
# TLS 1.3: KeyUpdates (one asking for an answer), data after them.
write("session_ops", header(TLS13, 0) + bytes([PEER_KEY_UPDATE, 0]) * 8 + bytes([PEER_KEY_UPDATE, 1])
      + rec(0x83, 4) + b"data" + bytes([READ]) + u16(10) + bytes([WRITE_A]) + u16(5) + bytes([TAKE]) + u16(100))
write("session_ops", header(TLS13, 1) + rec(3, 16384) + bytes([READ]) + u16(20000) + rec(3, 16385) + bytes([READ]) + u16(20000))
# Server role (mode + 3): a TLS 1.2 ClientHello refused while a write is
# blocked, then data both ways; TLS 1.3 KeyUpdate asking for ours, a ticket.
write("session_ops", header(TLS12 + 3, 0) + bytes([CAPACITY]) + u16(100) + bytes([WRITE_A]) + u16(1000)
      + rec(0x82, 8) + bytes([1, 0, 0, 4, 3, 3, 3, 3]) + rec(0x83, 2) + b"hi" + bytes([READ]) + u16(10)
      + bytes([CAPACITY]) + u16(0xffff) + bytes([TAKE]) + u16(0xffff) + bytes([WRITE_A]) + u16(1000)
      + bytes([WRITE_B]) + u16(5) + bytes([TAKE]) + u16(0xffff))
write("session_ops", header(TLS13 + 3, 0) + bytes([PEER_KEY_UPDATE, 1]) + rec(0x83, 2) + b"hi"
      + bytes([READ]) + u16(10) + bytes([WRITE_A]) + u16(5) + bytes([TAKE]) + u16(100)
      + rec(0x82, 6) + bytes([4, 0, 0, 2, 0, 0]) + bytes([READ]) + u16(10))

# Driven modes (the same programs as tests/fuzz_inputs.rs,
# session_ops_driven_programs): renegotiations started by either side, the
# driver pausing and failing, TLS 1.3 KeyUpdates both ways, drive_with.
def rd():
    return bytes([READ]) + u16(100)

def tk():
    return bytes([TAKE]) + u16(0xffff)

def hs(sel):
    return bytes([PEER_HS, sel])

def data():
    return rec(3, 10) + rd() + bytes([WRITE_A]) + u16(10) + tk()

CLIENT, SERVER12 = TLS12 + DRIVEN, TLS12 + SERVER + DRIVEN
hd = lambda m: bytes([m, 0, 0, 2])
p = hd(CLIENT)
for pause in (False, True):
    p += bytes([RENEGOTIATE]) + rd() + tk()
    if pause:
        p += bytes([DRIVER_PLAN, PAUSE | 4])
    p += hs(HELLO_FLIGHT) + rd() * 3 + tk() + hs(FINISH_FLIGHT) + rd() + data()
write("session_ops", p)
write("session_ops", hd(CLIENT) + hs(HELLO_REQUEST) + rd() + tk() + hs(HELLO_FLIGHT | SPLIT) + rd() + tk()
      + hs(FINISH_FLIGHT | SPLIT) + rd() + data())
write("session_ops", hd(SERVER12) + bytes([RENEGOTIATE]) + rd() + tk() + bytes([DRIVER_PLAN, PAUSE | 8])
      + hs(HELLO_FLIGHT) + rd() + bytes([WRITE_A]) + u16(10) + rd() + rd() + tk()
      + hs(FINISH_FLIGHT | COALESCE) + rd() + data())
write("session_ops", hd(SERVER12) + hs(HELLO_FLIGHT) + rd() + tk() + hs(FINISH_FLIGHT) + rd() + data()
      + bytes([DRIVER_PLAN, FAIL]) + hs(HELLO_FLIGHT) + rd() + tk())
write("session_ops", bytes([SERVER12, 0, 0, 0]) + hs(HELLO_FLIGHT) + rd() + tk() + data())
for m in (TLS13 + DRIVEN, TLS13 + SERVER + DRIVEN):
    write("session_ops", hd(m) + bytes([KEY_UPDATE, 1]) + data() + bytes([PEER_KEY_UPDATE, 0]) + data()
          + bytes([PEER_KEY_UPDATE, 1]) + data() + bytes([RENEGOTIATE]) + data())
write("session_ops", hd(TLS12) + data() + bytes([RENEGOTIATE, DRIVE_WITH, RENEGOTIATE]) + rd() + tk()
      + hs(HELLO_FLIGHT | COALESCE) + rd() + tk() + hs(FINISH_FLIGHT) + rd() + data())
# Built with the role given (Session::from_established), as a server.
write("session_ops", hd(TLS12 + SERVER + WITH_ROLE) + data() + hs(HELLO_FLIGHT) + rd() + tk() + data())
# A followed handshake, then driven (the passive mode's DRIVEN bit): the
# client renegotiates on its own.
for t in small_transcripts(4):
    if t["version"] == "TLS1.2":
        write("session_ops", bytes([PASSIVE + DRIVEN]) + program_of(t)[1:] + bytes([DRIVE_WITH, RENEGOTIATE])
              + rd() + tk())
        break

# --------------------------------------------------------------- decode_input
for t in small_transcripts(3):
    kl = "\n".join(t["keylog"]).encode()
    c2s = b"".join(bytes.fromhex(s.get("send", s.get("wire", ""))) for s in t["steps"])
    s2c = b"".join(bytes.fromhex(s["recv"]) for s in t["steps"] if "recv" in s)
    write("decode_input", bytes([0]) + u16(len(kl)) + kl + u16(len(c2s[:1200])) + c2s[:1200] + s2c[:1800])
# Transcript JSON (odd selector): a whole small one, and a short hand-made one.
t = small_transcripts(1)[0]
write("decode_input", bytes([1]) + json.dumps(t, separators=(",", ":")).encode())
write("decode_input", bytes([1]) + json.dumps({
    "format": "tlsrec-transcript/1", "name": "x", "role": "client", "version": "TLS1.2",
    "cipher_suite": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "options": {"auto_retry": True},
    "keylog": [], "steps": [{"recv": "1703030001ff"}, {"read": 5, "err": "SSL"}, {"pending": 0},
                            {"transport": {"capacity": 100}}, {"write": 3, "buf": "A", "data": "616263", "err": "SSL"},
                            {"drain": 5, "wire": ""}, {"eof": True}]}).encode())

# ------------------------------------------------------------ tls12_handshake
# Header (tested role, certificate, client auth, flags; client and server
# suites/groups), then ops (harness/src/tls12_handshake.rs, mod hs_op and
# mod mutation).
CALL, TRANSFER, PUMP, MUTATE, PASS, INJECT_RECORD, RENEG, PAUSE_HS, INJECT_BYTES, WRITE_HS = range(10)
def mut(kind):
    return bytes([MUTATE, kind]) + {
        0: bytes([100]), 1: bytes([1, 0]), 2: bytes([5, 0x40]), 3: bytes([7]), 7: bytes([10, 3, 1, 2, 3]),
        8: bytes([4, 0, 0, 0, 0]), 9: bytes([0, 0x80])}.get(kind, b"")
talk = bytes([WRITE_HS, 40, WRITE_HS, 41, PUMP, 3])
for role in (0x00, 0x01):
    for flags in (0x40, 0x40 | 0x06 | 0x30, 0x40 | 0x18 | 0x20 | 0x80):
        h = bytes([role | flags, 0, 0])
        write("tls12_handshake", h + bytes([PUMP, 7]) + talk + bytes([RENEG, 0, PUMP, 7]) + talk
              + bytes([RENEG, 1, PAUSE_HS, 7, PUMP, 7]) + talk)
        for skip in range(7):
            for kind in range(10):
                pre = bytes([PASS, skip - 1]) if skip else b""
                write("tls12_handshake", h + pre + mut(kind) + bytes([PUMP, 7]) + talk)
        # The same in a renegotiation (after the first handshake's items).
        for kind in (0, 2, 3, 4, 6, 7):
            write("tls12_handshake", h + bytes([PUMP, 7]) + talk + bytes([PASS, 8]) + mut(kind)
                  + bytes([RENEG, 1, PUMP, 7]) + talk)
    # Records injected into the tested side: a ChangeCipherSpec first, an
    # alert, application data, a HelloRequest.
    for rec in (bytes([20, 1, 1]), bytes([21, 2, 1, 0]), bytes([23, 3, 1, 2, 3]), bytes([22, 4, 0, 0, 0, 0])):
        write("tls12_handshake", bytes([role | 0x40, 0, 0, INJECT_RECORD]) + rec + bytes([PUMP, 7]) + talk)
        write("tls12_handshake", bytes([role | 0x40, 0, 0, PUMP, 1, INJECT_RECORD]) + rec + bytes([PUMP, 7]) + talk)
