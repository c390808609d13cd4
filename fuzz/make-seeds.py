#!/usr/bin/env python3
"""Writes the seed corpora from the golden fixtures (core/tests/golden/*.json): the UDP
payload of every golden packet, one file each, <fixture>-<frame>.bin. DHCPv4 fixtures go
to fuzz/seeds/, DHCPv6 ones (<server>-<client>6.json) to fuzz/seeds-parse6/ and
fuzz/seeds-round_trip6/, beside the hand-made DHCPv6 seeds there. Run from the repository
root after the fixtures change."""
import glob
import json
import os

V6_DIRS = ["fuzz/seeds-parse6", "fuzz/seeds-round_trip6"]
for d in ["fuzz/seeds"] + V6_DIRS:
    os.makedirs(d, exist_ok=True)
counts = {"v4": 0, "v6": 0}
for fixture in sorted(glob.glob("core/tests/golden/*.json")):
    base = os.path.basename(fixture)[: -len(".json")]
    v6 = base.endswith("6")
    for packet in json.load(open(fixture)):
        payload = bytes.fromhex(packet["payload_hex"])
        for d in V6_DIRS if v6 else ["fuzz/seeds"]:
            with open("%s/%s-%02d.bin" % (d, base, packet["frame"]), "wb") as out:
                out.write(payload)
        counts["v6" if v6 else "v4"] += 1
print("%d DHCPv4 seeds, %d DHCPv6 seeds" % (counts["v4"], counts["v6"]))
