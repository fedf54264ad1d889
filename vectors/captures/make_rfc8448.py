#!/usr/bin/env python3
"""Writes RFC 8448 section 3 ("Simple 1-RTT Handshake") as a capture.

Output, next to this script in rfc8448-1rtt/:
  c2s.bin     the client's records in trace order ("complete record" values)
  s2c.bin     the server's records in trace order
  keylog.txt  NSS key log: the four traffic secrets of the trace, keyed by the
              ClientHello random

Everything is copied out of the RFC text (../rfc8448/rfc8448.txt); nothing is
computed. Run: python3 vectors/captures/make_rfc8448.py
"""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RFC = os.path.join(HERE, "..", "rfc8448", "rfc8448.txt")
OUT = os.path.join(HERE, "rfc8448-1rtt")


def is_page_break(line):
    return (
        line == "\f"
        or (line.startswith("Thomson ") and "[Page " in line)
        or line.startswith("RFC 8448 ")
    )


def parse(text):
    """[(section, side, title, {field: bytes})] in trace order."""
    lines = [l for l in text.split("\n") if not is_page_break(l)]
    steps = []
    section = 0
    i = 0
    field_re = re.compile(r"^      (\S.*?) \((\d+) octets\):  (.*)$")
    hex_line = re.compile(r"^         ([0-9a-f]{2}( [0-9a-f]{2})*)\s*$")
    while i < len(lines):
        line = lines[i]
        i += 1
        m = re.match(r"^(\d+)\.  \S", line)
        if m:
            section = int(m.group(1))
            continue
        m = re.match(r"^   \{(client|server)\}  (.*)$", line)
        if m:
            steps.append((section, m.group(1), m.group(2).strip(), {}))
            continue
        m = field_re.match(line)
        if not m or not steps:
            continue
        name, n, value = m.group(1), int(m.group(2)), m.group(3)
        data = ""
        if n > 0:
            data = value
            while i < len(lines):
                if lines[i].strip() == "":
                    i += 1
                    continue
                h = hex_line.match(lines[i])
                if not h:
                    break
                data += " " + h.group(1)
                i += 1
        b = bytes.fromhex(data)
        if len(b) != n:
            sys.exit("%s: %d octets, expected %d" % (name, len(b), n))
        steps[-1][3][name] = b
    return steps


def main():
    with open(RFC, encoding="ascii") as f:
        steps = [s for s in parse(f.read()) if s[0] == 3]
    streams = {"client": b"", "server": b""}
    nrec = {"client": 0, "server": 0}
    secrets = {}
    for _, side, title, fields in steps:
        if title.startswith("send ") and title.endswith(" record:"):
            streams[side] += fields["complete record"]
            nrec[side] += 1
        m = re.match(r'^derive secret "(tls13 [cs] (hs|ap) traffic)":$', title)
        if m:
            secrets[m.group(1)] = fields["expanded"]
    c2s, s2c = streams["client"], streams["server"]
    # ClientHello record: 5-byte header, 4-byte handshake header, 2-byte
    # legacy_version, then the 32-byte random.
    assert c2s[0] == 0x16 and c2s[5] == 0x01, "first client record is a ClientHello"
    random = c2s[11:43]
    labels = [
        ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", "tls13 c hs traffic"),
        ("SERVER_HANDSHAKE_TRAFFIC_SECRET", "tls13 s hs traffic"),
        ("CLIENT_TRAFFIC_SECRET_0", "tls13 c ap traffic"),
        ("SERVER_TRAFFIC_SECRET_0", "tls13 s ap traffic"),
    ]
    assert nrec == {"client": 4, "server": 5}, nrec
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "c2s.bin"), "wb") as f:
        f.write(c2s)
    with open(os.path.join(OUT, "s2c.bin"), "wb") as f:
        f.write(s2c)
    with open(os.path.join(OUT, "keylog.txt"), "w", encoding="ascii") as f:
        f.write("# RFC 8448 section 3 (Simple 1-RTT Handshake), TLS_AES_128_GCM_SHA256.\n")
        f.write("# Written by vectors/captures/make_rfc8448.py from the RFC text.\n")
        for label, name in labels:
            f.write("%s %s %s\n" % (label, random.hex(), secrets[name].hex()))
    print("c2s.bin %d bytes (%d records), s2c.bin %d bytes (%d records), keylog.txt"
          % (len(c2s), nrec["client"], len(s2c), nrec["server"]))


if __name__ == "__main__":
    main()
