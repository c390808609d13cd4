#!/usr/bin/env python3
"""Turn golden DHCP pcaps into JSON fixtures.

    python3 extract.py FILE.pcap [FILE.pcap ...]    # writes FILE.json next to each

For every DHCPv4 packet (UDP port 67/68 over IPv4) in capture order the JSON array
holds one object with

  * fields decoded HERE, by walking the raw UDP payload bytes (standard library
    only): frame, payload_hex, op, htype, hlen, hops, xid, secs, flags, ciaddr,
    yiaddr, siaddr, giaddr, chaddr, sname, file, options ([[code, "hex"], ...]
    in wire order, pad/end excluded, repeats kept), plus a few extras
    (message_type, ip, cookie_ok, pad_options, end_present, trailing_after_end);
  * "tshark": values decoded independently by tshark (tshark -T pdml), so the
    two can be cross-checked.

For every DHCPv6 packet (UDP port 546/547 over IPv6, past hop-by-hop, routing and
destination options headers) the object holds frame, payload_hex, message_type, xid
(or, for a relay message, hop_count, link_address and peer_address), the top-level
options as [[code, "hex"], ...], ip, and "tshark" (tshark_dhcpv6 below).

Only classic libpcap files are read (what tcpdump -w and scapy's wrpcap write).
"""

import ipaddress
import json
import os
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET

MAGIC_COOKIE = b"\x63\x82\x53\x63"


# --------------------------------------------------------------------------
# raw pcap walking
# --------------------------------------------------------------------------
def read_pcap(path):
    """Yield (frame_number, linktype, bytes) for each record of a classic pcap."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError(f"{path}: too short for a pcap header")
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise ValueError(f"{path}: not a classic pcap file (pcapng is not supported)")
    linktype = struct.unpack(endian + "I", data[20:24])[0] & 0x0FFFFFFF
    off = 24
    n = 0
    while off + 16 <= len(data):
        _sec, _frac, caplen, _origlen = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        n += 1
        yield n, linktype, data[off:off + caplen]
        off += caplen


ETH_IPV4, ETH_IPV6 = 0x0800, 0x86DD


def l3_from_link(linktype, frame):
    """Return (ethertype, network-layer packet) of a link-layer frame, or None."""
    if linktype == 1:  # Ethernet
        off, ethertype = 14, struct.unpack("!H", frame[12:14])[0]
        while ethertype in (0x8100, 0x88A8):  # VLAN tags
            ethertype = struct.unpack("!H", frame[off + 2:off + 4])[0]
            off += 4
        return ethertype, frame[off:]
    if linktype == 113:  # Linux cooked v1
        return struct.unpack("!H", frame[14:16])[0], frame[16:]
    if linktype == 276:  # Linux cooked v2
        return struct.unpack("!H", frame[0:2])[0], frame[20:]
    if linktype in (12, 101, 228, 229):  # raw IP / raw IPv4 / raw IPv6
        version = frame[0] >> 4 if frame[:1] else None
        return {4: ETH_IPV4, 6: ETH_IPV6}.get(version), frame
    return None


def ipv4_from_link(linktype, frame):
    """Return the IPv4 packet inside a link-layer frame, or None."""
    l3 = l3_from_link(linktype, frame)
    return l3[1] if l3 and l3[0] == ETH_IPV4 else None


def ipv6_from_link(linktype, frame):
    """Return the IPv6 packet inside a link-layer frame, or None."""
    l3 = l3_from_link(linktype, frame)
    return l3[1] if l3 and l3[0] == ETH_IPV6 else None


def udp_dhcp_payload(ip):
    """Return (ip_info, udp_payload) if this IPv4 packet is UDP port 67/68."""
    if len(ip) < 20 or ip[0] >> 4 != 4:
        return None
    ihl = (ip[0] & 0x0F) * 4
    total_len = struct.unpack("!H", ip[2:4])[0]
    if ip[9] != 17:
        return None
    udp = ip[ihl:total_len] if total_len >= ihl else ip[ihl:]
    if len(udp) < 8:
        return None
    sport, dport, ulen = struct.unpack("!HHH", udp[0:6])
    if not ({sport, dport} & {67, 68}):
        return None
    payload = udp[8:ulen] if ulen >= 8 else udp[8:]
    info = {
        "src": dotted(ip[12:16]),
        "dst": dotted(ip[16:20]),
        "sport": sport,
        "dport": dport,
    }
    return info, payload


IPV6_EXTENSION_HEADERS = (0, 43, 60)  # hop-by-hop, routing, destination options


def udp_dhcp6_payload(ip6):
    """Return (ip_info, udp_payload) if this IPv6 packet is UDP port 546/547."""
    if len(ip6) < 40 or ip6[0] >> 4 != 6:
        return None
    payload_len = struct.unpack("!H", ip6[4:6])[0]
    nxt, off, end = ip6[6], 40, min(len(ip6), 40 + payload_len)
    while nxt in IPV6_EXTENSION_HEADERS:
        if off + 2 > end:
            return None
        nxt, off = ip6[off], off + 8 * (ip6[off + 1] + 1)
    if nxt != 17:
        return None
    udp = ip6[off:end]
    if len(udp) < 8:
        return None
    sport, dport, ulen = struct.unpack("!HHH", udp[0:6])
    if not ({sport, dport} & {546, 547}):
        return None
    payload = udp[8:ulen] if ulen >= 8 else udp[8:]
    info = {
        "src": str(ipaddress.IPv6Address(ip6[8:24])),
        "dst": str(ipaddress.IPv6Address(ip6[24:40])),
        "sport": sport,
        "dport": dport,
    }
    return info, payload


def dotted(b):
    return ".".join(str(x) for x in b)


def cstring(b):
    """Bytes up to the first NUL, decoded without loss (latin-1)."""
    return b.split(b"\x00", 1)[0].decode("latin-1")


def walk_options(buf):
    """Walk code/len/value options. Returns (options, info dict)."""
    opts = []
    info = {"pad_options": 0, "end_present": False, "trailing_after_end": None,
            "error": None}
    i = 0
    while i < len(buf):
        code = buf[i]
        if code == 0:
            info["pad_options"] += 1
            i += 1
            continue
        if code == 255:
            info["end_present"] = True
            rest = buf[i + 1:]
            info["trailing_after_end"] = {"len": len(rest),
                                          "all_zero": all(x == 0 for x in rest)}
            break
        if i + 1 >= len(buf):
            info["error"] = f"option {code} at offset {i}: missing length byte"
            break
        length = buf[i + 1]
        value = buf[i + 2:i + 2 + length]
        if len(value) != length:
            info["error"] = f"option {code} at offset {i}: truncated ({len(value)}/{length})"
            break
        opts.append([code, value.hex()])
        i += 2 + length
    return opts, info


def decode_bootp(payload):
    """Decode the fixed BOOTP header and the options by hand."""
    if len(payload) < 236:
        return {"error": f"payload too short for BOOTP ({len(payload)} bytes)"}
    (op, htype, hlen, hops, xid, secs, flags) = struct.unpack("!BBBBIHH", payload[0:12])
    chaddr_raw = payload[28:44]
    rec = {
        "op": op,
        "htype": htype,
        "hlen": hlen,
        "hops": hops,
        "xid": xid,
        "secs": secs,
        "flags": flags,
        "ciaddr": dotted(payload[12:16]),
        "yiaddr": dotted(payload[16:20]),
        "siaddr": dotted(payload[20:24]),
        "giaddr": dotted(payload[24:28]),
        "chaddr": ":".join(f"{x:02x}" for x in chaddr_raw[:min(hlen, 16)]),
        "sname": cstring(payload[44:108]),
        "file": cstring(payload[108:236]),
    }
    cookie = payload[236:240]
    rec["cookie_ok"] = cookie == MAGIC_COOKIE
    if not rec["cookie_ok"]:
        rec["options"] = []
        return rec
    opts, info = walk_options(payload[240:])
    rec["options"] = opts
    # RFC 2131 option overload (52): 1 = file, 2 = sname, 3 = both
    overload = [int(v, 16) for c, v in opts if c == 52 and len(v) == 2]
    if overload:
        ov = overload[0]
        if ov in (1, 3):
            rec["file_options"], _ = walk_options(payload[108:236])
        if ov in (2, 3):
            rec["sname_options"], _ = walk_options(payload[44:108])
    mt = [int(v, 16) for c, v in opts if c == 53 and len(v) == 2]
    rec["message_type"] = mt[0] if mt else None
    rec["pad_options"] = info["pad_options"]
    rec["end_present"] = info["end_present"]
    rec["trailing_after_end"] = info["trailing_after_end"]
    if info["error"]:
        rec["options_error"] = info["error"]
    return rec


DHCP6_RELAY_TYPES = (12, 13)  # RELAY-FORW, RELAY-REPL


def walk_options6(buf):
    """Walk DHCPv6 options (2-byte code, 2-byte length). Returns (options, error)."""
    opts = []
    i = 0
    while i < len(buf):
        if i + 4 > len(buf):
            return opts, f"option header at offset {i} truncated"
        code, length = struct.unpack("!HH", buf[i:i + 4])
        value = buf[i + 4:i + 4 + length]
        if len(value) != length:
            return opts, f"option {code} at offset {i}: truncated ({len(value)}/{length})"
        opts.append([code, value.hex()])
        i += 4 + length
    return opts, None


def decode_dhcpv6(payload):
    """Decode a DHCPv6 message or relay header and its top-level options by hand."""
    if len(payload) < 4:
        return {"error": f"payload too short for DHCPv6 ({len(payload)} bytes)"}
    rec = {"message_type": payload[0]}
    if payload[0] in DHCP6_RELAY_TYPES:
        if len(payload) < 34:
            return {"error": f"payload too short for a relay message ({len(payload)} bytes)"}
        rec["hop_count"] = payload[1]
        rec["link_address"] = str(ipaddress.IPv6Address(payload[2:18]))
        rec["peer_address"] = str(ipaddress.IPv6Address(payload[18:34]))
        opts, error = walk_options6(payload[34:])
    else:
        rec["xid"] = int.from_bytes(payload[1:4], "big")
        opts, error = walk_options6(payload[4:])
    rec["options"] = opts
    if error:
        rec["options_error"] = error
    return rec


# --------------------------------------------------------------------------
# tshark (independent decoder)
# --------------------------------------------------------------------------
def tshark_pdml(path):
    out = subprocess.run(
        ["tshark", "-n", "-r", path, "-T", "pdml"],
        check=True, capture_output=True, timeout=300,
    ).stdout
    root = ET.fromstring(out)
    result = {}
    for pkt in root.iter("packet"):
        frame_no = None
        for proto in pkt.findall("proto"):
            if proto.get("name") == "frame":
                for f in proto.iter("field"):
                    if f.get("name") == "frame.number":
                        frame_no = int(f.get("show"))
                        break
        dhcp = [p for p in pkt.findall("proto") if p.get("name") == "dhcp"]
        dhcp6 = [p for p in pkt.findall("proto") if p.get("name") == "dhcpv6"]
        if frame_no is not None and dhcp:
            result[frame_no] = tshark_dhcp(dhcp[0], pkt)
        elif frame_no is not None and dhcp6:
            result[frame_no] = tshark_dhcpv6(dhcp6[0], pkt)
    return result


def after_colon(showname):
    return showname.split(": ", 1)[1] if ": " in showname else showname


def tshark_dhcp(proto, pkt):
    t = {}
    top = {}
    for f in proto.findall("field"):  # direct children = BOOTP header fields
        top.setdefault(f.get("name"), f)

    def show(name):
        f = top.get(name)
        return f.get("show") if f is not None else None

    if show("dhcp.type") is not None:
        t["op"] = int(show("dhcp.type"))
    if show("dhcp.hw.type") is not None:
        t["htype"] = int(show("dhcp.hw.type"), 0)
    if show("dhcp.hw.len") is not None:
        t["hlen"] = int(show("dhcp.hw.len"))
    if show("dhcp.hops") is not None:
        t["hops"] = int(show("dhcp.hops"))
    if show("dhcp.id") is not None:
        t["xid"] = int(show("dhcp.id"), 16)
    if show("dhcp.secs") is not None:
        t["secs"] = int(show("dhcp.secs"))
    if show("dhcp.flags") is not None:
        t["flags"] = int(show("dhcp.flags"), 16)
    for key, name in (("ciaddr", "dhcp.ip.client"), ("yiaddr", "dhcp.ip.your"),
                      ("siaddr", "dhcp.ip.server"), ("giaddr", "dhcp.ip.relay"),
                      ("chaddr", "dhcp.hw.mac_addr"), ("sname", "dhcp.server"),
                      ("file", "dhcp.file")):
        if show(name) is not None:
            t[key] = show(name)

    codes = []
    summary = []
    lists = {}
    for opt in proto.findall("field"):
        if opt.get("name") != "dhcp.option.type":
            continue
        raw = bytes.fromhex(opt.get("value") or "")
        code = raw[0] if raw else int(opt.get("show"))
        if code in (0, 255):
            continue
        codes.append(code)
        summary.append(opt.get("showname"))
        if code == 61:
            t["client_identifier"] = raw[2:].hex()
        for sub in opt.iter("field"):
            name = sub.get("name")
            if name in ("dhcp.option.type", "dhcp.option.length"):
                continue
            lists.setdefault(name, []).append(sub)

    t["option_codes"] = codes
    t["options_summary"] = summary

    def first(name, conv=str):
        return conv(lists[name][0].get("show")) if name in lists else None

    def all_of(name, conv=str):
        return [conv(f.get("show")) for f in lists[name]] if name in lists else None

    scalars = [
        ("message_type", "dhcp.option.dhcp", int),
        ("server_identifier", "dhcp.option.dhcp_server_id", str),
        ("requested_ip", "dhcp.option.requested_ip_address", str),
        ("lease_time", "dhcp.option.ip_address_lease_time", int),
        ("renewal_time", "dhcp.option.renewal_time_value", int),
        ("rebinding_time", "dhcp.option.rebinding_time_value", int),
        ("subnet_mask", "dhcp.option.subnet_mask", str),
        ("broadcast_address", "dhcp.option.broadcast_address", str),
        ("domain_name", "dhcp.option.domain_name", str),
        ("hostname", "dhcp.option.hostname", str),
        ("max_message_size", "dhcp.option.dhcp_max_message_size", int),
        ("vendor_class_id", "dhcp.option.vendor_class_id", str),
        ("interface_mtu", "dhcp.option.interface_mtu", int),
        ("message", "dhcp.option.message", str),
    ]
    for key, name, conv in scalars:
        v = first(name, conv)
        if v is not None:
            t[key] = v
    multi = [
        ("routers", "dhcp.option.router", str),
        ("dns_servers", "dhcp.option.domain_name_server", str),
        ("ntp_servers", "dhcp.option.ntp_server", str),
        ("parameter_request_list", "dhcp.option.request_list_item", int),
        ("domain_search", "dhcp.option.dhcp_dns_domain_search_list_fqdn", str),
    ]
    for key, name, conv in multi:
        v = all_of(name, conv)
        if v is not None:
            t[key] = v
    if "dhcp.option.classless_static_route" in lists:
        # tshark shows each route as "Subnet/MaskWidth-Router: 198.51.100.0/24-192.0.2.1"
        t["classless_static_routes"] = [after_colon(f.get("showname")).strip()
                                        for f in lists["dhcp.option.classless_static_route"]]
    cid = {}
    for key, name in (("type", "dhcp.client_id.type"), ("hw_type", "dhcp.hw.type"),
                      ("mac", "dhcp.hw.mac_addr"), ("iaid", "dhcp.client_id.iaid"),
                      ("duid_type", "dhcp.client_id.duid_type"),
                      ("duid_hw_type", "dhcp.client_id.duid_llt_hw_type"),
                      ("duid_time", "dhcp.client_id.time"),
                      ("duid_link_layer_address", "dhcp.client_id.link_layer_address")):
        if name in lists:
            cid[key] = lists[name][0].get("show")
    if cid and "client_identifier" in t:
        t["client_identifier_decoded"] = cid
    if "dhcp.fqdn.name" in lists:
        t["fqdn"] = first("dhcp.fqdn.name")
    experts = tshark_experts(proto, pkt)
    if experts:
        t["expert"] = experts
    return t


def tshark_experts(proto, pkt):
    experts = sorted({e.get("showname") for e in proto.iter("field")
                      if e.get("name") == "_ws.expert" and e.get("showname")})
    if any(p.get("name") == "_ws.malformed" for p in pkt.findall("proto")):
        experts.append("MALFORMED")
    return experts


def tshark_dhcpv6(proto, pkt):
    """tshark's reading of a DHCPv6 message: header, top-level options, typed values."""
    t = {}

    def children(elem, name):
        return [f for f in elem.findall("field") if f.get("name") == name]

    def show(elem, name, conv=str):
        f = children(elem, name)
        return conv(f[0].get("show")) if f else None

    def option_code(opt):
        return int(show(opt, "dhcpv6.option.type"))

    def inner(opt, code):
        return [o for o in children(opt, "dhcpv6.option.type_str") if option_code(o) == code]

    def status(opt):
        st = inner(opt, 13)
        return show(st[0], "dhcpv6.status_code", int) if st else None

    msgtype = show(proto, "dhcpv6.msgtype", int)
    if msgtype is not None:
        t["message_type"] = msgtype
    xid = show(proto, "dhcpv6.xid")
    if xid is not None:
        t["xid"] = int(xid, 16)
    options = children(proto, "dhcpv6.option.type_str")
    t["option_codes"] = [option_code(o) for o in options]
    t["options_summary"] = [o.get("showname") for o in options]
    ia_na, ia_pd = [], []
    for opt in options:
        code = option_code(opt)
        if code in (1, 2):
            duid = children(opt, "dhcpv6.duid.bytes")
            if duid:
                t["client_id" if code == 1 else "server_id"] = duid[0].get("value")
        elif code == 6:
            t["option_request"] = [int(f.get("show"))
                                   for f in children(opt, "dhcpv6.requested_option_code")]
        elif code == 7:
            t["preference"] = show(opt, "dhcpv6.option_preference", int)
        elif code == 8:
            t["elapsed_time"] = show(opt, "dhcpv6.elapsed_time", int)
        elif code == 13:
            t["status_code"] = show(opt, "dhcpv6.status_code", int)
        elif code == 14:
            t["rapid_commit"] = True
        elif code == 23:
            t["dns_servers"] = [f.get("show") for f in opt.iter("field")
                                if f.get("name") == "dhcpv6.dns_server"]
        elif code == 24:
            t["domain_search"] = [f.get("show") for f in opt.iter("field")
                                  if f.get("name") == "dhcpv6.search_list_entry"]
        elif code == 39:  # tshark leaves it undecoded in messages RFC 4704 omits
            flags = show(opt, "dhcpv6.client_fqdn_flags", lambda v: int(v, 16))
            if flags is not None:
                t["fqdn_flags"] = flags
            name = show(opt, "dhcpv6.client_domain")
            if name is not None:
                t["fqdn"] = name
        elif code in (3, 25):
            ia = {"iaid": show(opt, "dhcpv6.iaid", lambda v: int(v, 16)),
                  "t1": show(opt, "dhcpv6.iaid.t1", int),
                  "t2": show(opt, "dhcpv6.iaid.t2", int)}
            if code == 3:
                ia["addresses"] = [
                    f"{show(a, 'dhcpv6.iaaddr.ip')} {show(a, 'dhcpv6.iaaddr.pref_lifetime')} "
                    f"{show(a, 'dhcpv6.iaaddr.valid_lifetime')}" for a in inner(opt, 5)]
                ia_na.append(ia)
            else:
                ia["prefixes"] = [
                    f"{show(p, 'dhcpv6.iaprefix.pref_addr')}/{show(p, 'dhcpv6.iaprefix.pref_len')} "
                    f"{show(p, 'dhcpv6.iaprefix.pref_lifetime')} "
                    f"{show(p, 'dhcpv6.iaprefix.valid_lifetime')}" for p in inner(opt, 26)]
                ia_pd.append(ia)
            if status(opt) is not None:
                ia["status_code"] = status(opt)
    if ia_na:
        t["ia_na"] = ia_na
    if ia_pd:
        t["ia_pd"] = ia_pd
    experts = tshark_experts(proto, pkt)
    if experts:
        t["expert"] = experts
    return t


# --------------------------------------------------------------------------
def extract(path):
    ts = tshark_pdml(path)
    packets = []
    for frame_no, linktype, frame in read_pcap(path):
        l3 = l3_from_link(linktype, frame)
        if l3 is None or l3[0] not in (ETH_IPV4, ETH_IPV6):
            continue
        v6 = l3[0] == ETH_IPV6
        r = udp_dhcp6_payload(l3[1]) if v6 else udp_dhcp_payload(l3[1])
        if r is None:
            continue
        ipinfo, payload = r
        rec = {"frame": frame_no, "payload_hex": payload.hex()}
        rec.update(decode_dhcpv6(payload) if v6 else decode_bootp(payload))
        rec["ip"] = ipinfo
        rec["tshark"] = ts.get(frame_no, {})
        packets.append(rec)
    return packets


def check(packets):
    """Cross-check our decoding against tshark's; return list of mismatches."""
    problems = []
    for p in packets:
        t = p["tshark"]
        for k in ("op", "htype", "hlen", "hops", "xid", "secs", "flags", "ciaddr",
                  "yiaddr", "siaddr", "giaddr", "sname", "file"):
            if k in t and t[k] != p.get(k):
                problems.append(f"frame {p['frame']}: {k} ours={p.get(k)!r} tshark={t[k]!r}")
        if p.get("hlen") == 6 and "chaddr" in t and t["chaddr"] != p["chaddr"]:
            problems.append(f"frame {p['frame']}: chaddr ours={p['chaddr']} tshark={t['chaddr']}")
        ours = [c for c, _ in p.get("options", [])]
        if t.get("option_codes") is not None and t["option_codes"] != ours:
            problems.append(f"frame {p['frame']}: option codes ours={ours} tshark={t['option_codes']}")
        if p.get("message_type") != t.get("message_type"):
            problems.append(f"frame {p['frame']}: message type ours={p.get('message_type')} "
                            f"tshark={t.get('message_type')}")
    return problems


def dumps(obj, indent=0):
    """JSON with one key per line, but short scalar lists kept on one line."""
    pad = "  " * indent
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{pad}  {json.dumps(k)}: {dumps(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list):
        flat = json.dumps(obj)
        if (all(not isinstance(x, (dict, list)) for x in obj) and len(flat) <= 100) or (
                all(isinstance(x, list) for x in obj) and len(obj) <= 1):
            return flat
        items = [f"{pad}  {dumps(v, indent + 1)}" for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(obj)


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    rc = 0
    for path in argv[1:]:
        packets = extract(path)
        out = os.path.splitext(path)[0] + ".json"
        with open(out, "w") as f:
            f.write(dumps(packets))
            f.write("\n")
        problems = check(packets)
        for pr in problems:
            print(f"{path}: MISMATCH {pr}", file=sys.stderr)
        if problems:
            rc = 1
        print(f"{out}: {len(packets)} DHCP packets", file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
