#!/usr/bin/env python3
"""Compares what two OpenSSL versions returned on the same scenarios.

    oracles/compare.py DIR_A DIR_B [--reasons]

DIR_A and DIR_B hold transcripts of the same scenarios (same names, e.g.
`oracles/run.sh 3.0 --cases 2000 --seed 5000000 --out A` and the same with
another version). The keys differ from run to run, so only the calls'
results are compared: for each scenario, the first call (read, peek, write,
pending, renegotiate) whose result differs, and the number of bytes the
client sent from its first call on (alerts, renegotiation flights, data). Prints the differing scenarios
grouped by kind (the call and the two results), with the shortest example.
"""
import collections
import json
import os
import sys


# Reason strings are informational (FORMAT.md) and differ in wording between
# versions ("sslv3 alert ..." in 3.0, "ssl/tls alert ..." from 3.2 on);
# --reasons compares them too.
REASONS = "--reasons" in sys.argv


def calls(path):
    t = json.load(open(path))
    out = []
    sent = 0
    for s in t["steps"]:
        # Bytes sent from the first call on: the first handshake's flights
        # differ by version (3.5 and 4.0 offer an ML-KEM key share).
        if "send" in s and out:
            sent += len(s["send"]) // 2
        for c in ("read", "peek", "write", "pending", "renegotiate"):
            if c in s:
                if c == "pending":
                    res = "N" if s[c] else "0"
                    arg = ""
                elif c == "renegotiate":
                    res = "ok %s" % s.get("ok")
                    arg = ""
                else:
                    arg = str(s[c])
                    if "ok" in s:
                        v = s["ok"]
                        res = "ok %d" % (len(v) // 2 if isinstance(v, str) else v)
                    else:
                        res = "err " + s["err"]
                        if "reason" in s and REASONS:
                            res += " (%s)" % s["reason"]
                        if "alert" in s:
                            res += " alert " + s["alert"]
                out.append((c, arg, res))
    return t, out, sent


def main():
    a, b = [x for x in sys.argv[1:] if not x.startswith("--")][:2]
    names = sorted(set(os.listdir(a)) & set(os.listdir(b)))
    names = [n for n in names if n.endswith(".json")]
    kinds = collections.defaultdict(list)
    same = 0
    for n in names:
        ta, ca, sa = calls(os.path.join(a, n))
        tb, cb, sb = calls(os.path.join(b, n))
        diff = None
        for i, (x, y) in enumerate(zip(ca, cb)):
            if x != y:
                diff = (i, x, y)
                break
        if diff is None and len(ca) != len(cb):
            i = min(len(ca), len(cb))
            diff = (i, ca[i] if i < len(ca) else ("end",), cb[i] if i < len(cb) else ("end",))
        if diff is None:
            if sa != sb:
                kinds["bytes sent differ (calls agree)"].append((len(ca), n, "%d vs %d bytes" % (sa, sb)))
            else:
                same += 1
            continue
        i, x, y = diff
        call = x[0] if x[0] != "end" else y[0]
        kind = "%s: %s / %s" % (call, x[2] if len(x) > 2 else "no more calls", y[2] if len(y) > 2 else "no more calls")
        kinds[kind].append((i, n, "call %d %s(%s)" % (i, call, x[1] if len(x) > 1 else y[1])))
    fam = collections.Counter()
    for k, v in kinds.items():
        for _, n, _ in v:
            fam[n.split("-")[0]] += 1
    print("%d scenarios in both; %d identical results; %d differ (%s)" % (
        len(names), same, len(names) - same, ", ".join("%s %d" % kv for kv in sorted(fam.items()))))
    for k, v in sorted(kinds.items(), key=lambda kv: -len(kv[1])):
        v.sort()
        i, n, where = v[0]
        print("- %s: %d (e.g. %s, %s)" % (k, len(v), n, where))


if __name__ == "__main__":
    main()
