#!/usr/bin/env python3
"""Writes fuzz/seeds/: the UDP payload of every golden packet (core/tests/golden/*.json),
one file each. Run from the repository root after the fixtures change."""
import glob
import json
import os

os.makedirs("fuzz/seeds", exist_ok=True)
count = 0
for fixture in sorted(glob.glob("core/tests/golden/*.json")):
    base = os.path.basename(fixture)[: -len(".json")]
    for packet in json.load(open(fixture)):
        name = "fuzz/seeds/%s-%02d.bin" % (base, packet["frame"])
        with open(name, "wb") as out:
            out.write(bytes.fromhex(packet["payload_hex"]))
        count += 1
print("%d seeds" % count)
