#!/usr/bin/python3
"""Rebuild seed-readme.pcap: the 4-packet DHCP exchange shown (as tcpdump -v
output) in the seed README, section "Example DHCP Transaction".

    /usr/bin/python3 seed_readme.py [OUT.pcap]      # needs python3-scapy

Everything tcpdump printed is reproduced exactly (addresses, ports, IP id/ttl/
tos/flags, xid, BOOTP flags, option order and lengths, UDP payload lengths
285/300/297/300).  What the listing does not show is chosen here:
  * Ethernet addresses (not printed without -e): client 00:11:22:33:44:55,
    server 02:00:00:00:0a:01, destination ff:ff:ff:ff:ff:ff;
  * the date (tcpdump printed only the time of day): 2025-01-01, UTC;
  * the bytes after the END option of the two replies: zeros up to 300 bytes;
  * UDP/IP checksums: computed (correct).
Client-ID (61) is 6 bytes 00 11 22 33 44 55: tcpdump prints a client-id whose
first (type) byte is 0 as a quoted string of the remaining bytes, which gives
exactly "^Q"3DU" (11 22 33 44 55); a type-1 client-id would have length 7 and be
printed as "ether 00:11:22:33:44:55".
"""

import sys
from decimal import Decimal

from scapy.all import BOOTP, DHCP, IP, UDP, Ether, Raw, wrpcap  # noqa: E402

CLIENT_MAC = "00:11:22:33:44:55"
SERVER_MAC = "02:00:00:00:0a:01"
CHADDR = bytes.fromhex("001122334455") + b"\x00" * 10
XID = 0x53A2DA3F
BCAST_FLAG = 0x8000
MAGIC = b"\x63\x82\x53\x63"
PRL = [1, 6, 121, 3, 33]
CLIENT_ID = bytes.fromhex("001122334455")
HOSTNAME = b"rust-dhcp-advanced"
DAY = Decimal(1735689600)  # 2025-01-01T00:00:00Z


def ts(h, m, s):
    return DAY + h * 3600 + m * 60 + Decimal(s)


def client(ip_id, dhcp_opts, payload_len, when):
    bootp = BOOTP(op=1, htype=1, hlen=6, hops=0, xid=XID, secs=0, flags=BCAST_FLAG,
                  ciaddr="0.0.0.0", yiaddr="0.0.0.0", siaddr="0.0.0.0", giaddr="0.0.0.0",
                  chaddr=CHADDR, options=MAGIC) / DHCP(options=dhcp_opts)
    return frame(CLIENT_MAC, "192.168.8.59", 68, 67, ip_id, bootp, payload_len, when)


def server(ip_id, dhcp_opts, payload_len, when):
    bootp = BOOTP(op=2, htype=1, hlen=6, hops=0, xid=XID, secs=0, flags=BCAST_FLAG,
                  ciaddr="0.0.0.0", yiaddr="192.168.8.54", siaddr="0.0.0.0",
                  giaddr="0.0.0.0", chaddr=CHADDR, options=MAGIC) / DHCP(options=dhcp_opts)
    return frame(SERVER_MAC, "192.168.10.1", 67, 68, ip_id, bootp, payload_len, when)


def frame(src_mac, src_ip, sport, dport, ip_id, bootp, payload_len, when):
    raw = bytes(bootp)
    if len(raw) > payload_len:
        raise SystemExit(f"payload {len(raw)} > {payload_len}")
    raw += b"\x00" * (payload_len - len(raw))  # zero padding after END
    pkt = (Ether(src=src_mac, dst="ff:ff:ff:ff:ff:ff")
           / IP(src=src_ip, dst="255.255.255.255", tos=0, ttl=64, id=ip_id, flags=0)
           / UDP(sport=sport, dport=dport) / Raw(raw))
    pkt = Ether(bytes(pkt))  # freeze lengths and checksums
    pkt.time = when
    assert len(pkt[UDP].payload) == payload_len
    return pkt


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "seed-readme.pcap"
    ack_like = [("server_id", "192.168.10.1"), ("lease_time", 3600),
                ("subnet_mask", "255.255.252.0"), ("router", "192.168.10.1"),
                ("name_server", "192.168.8.53"), "end"]
    pkts = [
        client(26499, [("message-type", "discover"), ("lease_time", 3600),
                       ("param_req_list", PRL), ("client_id", CLIENT_ID),
                       ("hostname", HOSTNAME), "end"],
               285, ts(19, 40, "13.235170")),
        server(0, [("message-type", "offer")] + ack_like, 300, ts(19, 40, "13.303802")),
        client(56776, [("message-type", "request"), ("server_id", "192.168.10.1"),
                       ("requested_addr", "192.168.8.54"), ("lease_time", 3600),
                       ("param_req_list", PRL), ("client_id", CLIENT_ID),
                       ("hostname", HOSTNAME), "end"],
               297, ts(19, 40, "13.319404")),
        server(0, [("message-type", "ack")] + ack_like, 300, ts(19, 40, "13.407545")),
    ]
    wrpcap(out, pkts)
    print(f"{out}: {len(pkts)} packets", file=sys.stderr)


if __name__ == "__main__":
    main()
