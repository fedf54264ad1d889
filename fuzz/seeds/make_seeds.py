#!/usr/bin/env python3
"""Seeds for deframe_open and seal_mutate_open, derived from the records of
vectors/openssl-samples (run from the crate root; rewrites the two folders)."""
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
# Op codes (src/fuzzing.rs, mod op) and modes (mod mode).
RECV, SENT, EOF, READ, PEEK, PENDING, WRITE_A, WRITE_B, CAPACITY, TAKE, \
    SHUTDOWN, HANDSHAKE, RENEGOTIATE, PEER_RECORD, PEER_KEY_UPDATE, \
    PEER_ALERT, PEER_EMPTY = range(17)
TLS12, TLS13, PASSIVE = 0, 1, 2

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
