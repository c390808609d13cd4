//! The `dhcp` command as a user runs it: `server --check`, `decode`, `leases`, `client`
//! (`--once`, `--apply`, `--script`), `demo`, and privilege dropping. The network ones run
//! in namespaces they create and remove (root; CI runs them as root).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use dhcp::core::wire::{MessageBuilder, MessageType, Op};
use dhcp::host::net::netns::{can_netns, Pair};

const DHCP: &str = env!("CARGO_BIN_EXE_dhcp");

fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/golden")
}

/// `dhcp` run inside namespace `ns`.
fn dhcp_in(ns: &str) -> Command {
    let mut c = Command::new("ip");
    c.args(["netns", "exec", ns, DHCP]);
    c
}

fn dhcp(args: &[&str]) -> Output {
    Command::new(DHCP).args(args).output().expect("run dhcp")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn netns_ok() -> bool {
    let ok = can_netns();
    if !ok {
        eprintln!("SKIPPED: needs root and iproute2 (CI runs it)");
    }
    ok
}

/// A namespace pair and a scratch directory, or `None` (said) when they can't be made.
fn namespaces() -> Option<(Pair, tempfile::TempDir)> {
    netns_ok().then(|| (Pair::new().unwrap(), tempfile::tempdir().unwrap()))
}

// ---- server --check ---------------------------------------------------------------------

#[test]
fn server_check_names_file_line_column_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let good = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/server.toml");
    let o = dhcp(&["server", "--config", good.to_str().unwrap(), "--check"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(": OK (1 subnet(s), 2 pool(s), 3 class(es), journal "),
        "{}",
        stdout(&o)
    );

    let cases = [
        ("journal = \"x\"\nbogus = 1\n", ":2:1: bogus: unknown field `bogus`"),
        (
            "[[subnet]]\nnetwork = \"192.0.2.0/24\"\npools = [\"192.0.2.10-192.0.2.300\"]\n",
            ":3:10: pools: \"192.0.2.300\" is not an IPv4 address",
        ),
        (
            "[[subnet]]\nnetwork = \"192.0.2.0/24\"\npools = [\"198.51.100.1-198.51.100.9\"]\n",
            ":3:10: subnet[0].pools[0]: subnet 192.0.2.0/24 pool 0 (198.51.100.1-198.51.100.9): is not inside 192.0.2.0/24",
        ),
        (
            "[lease]\nrenewal = 500\nrebinding = 400\n[[subnet]]\nnetwork = \"192.0.2.0/24\"\npools = [\"192.0.2.10-192.0.2.20\"]\n",
            ":2:11: lease.renewal: T1 500 s must be below T2 400 s",
        ),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("bad{i}.toml"));
        std::fs::write(&path, text).unwrap();
        let o = dhcp(&["server", "--config", path.to_str().unwrap(), "--check"]);
        assert_eq!(o.status.code(), Some(2), "{text}");
        let err = stderr(&o);
        let want = format!("{}{want}", path.display());
        assert!(
            err.lines().any(|l| l.starts_with(&want)),
            "want: {want}\ngot:\n{err}"
        );
        assert!(err.contains("nothing served"), "{err}");
    }
}

/// `--check` passes a file whose scope sends routers with classless routes lacking a
/// default route (RFC 3442 clients would install none), and says so at the routes' line.
#[test]
fn server_check_warns_of_classless_routes_without_a_default_route() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("routes.toml");
    std::fs::write(
        &path,
        "[[subnet]]\nnetwork = \"192.0.2.0/24\"\npools = [\"192.0.2.10-192.0.2.20\"]\n\
         [subnet.options]\nrouters = [\"192.0.2.1\"]\n\
         classless_routes = [{ network = \"198.51.100.0/24\", router = \"192.0.2.254\" }]\n",
    )
    .unwrap();
    let o = dhcp(&["server", "--config", path.to_str().unwrap(), "--check"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let want = format!(
        "warning: {}:6:20: subnet[0].options.classless_routes: sent with routers but without a default route",
        path.display()
    );
    assert!(
        stderr(&o).starts_with(&want),
        "want: {want}\ngot:\n{}",
        stderr(&o)
    );
}

// ---- decode -----------------------------------------------------------------------------

/// A DISCOVER from 02:00:00:00:00:01 as hex.
fn discover_hex() -> String {
    let mut buf = [0u8; 576];
    let mut b = MessageBuilder::new(&mut buf).unwrap();
    b.op(Op::BootRequest).xid(1);
    b.chaddr(&[2, 0, 0, 0, 0, 1]).unwrap();
    b.message_type(MessageType::Discover).unwrap();
    let len = b.finish().unwrap();
    buf[..len].iter().map(|b| format!("{b:02x}")).collect()
}

/// What `dhcp decode` prints for `input` on its stdin.
fn decode_stdin(input: &str) -> String {
    let mut child = Command::new(DHCP)
        .args(["decode"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    stdout(&child.wait_with_output().unwrap())
}

/// A pcap file (Ethernet) holding one IPv6/UDP frame per payload, from `src` port 546 to
/// ff02::1:2 port 547, the first behind a hop-by-hop options header.
fn v6_pcap(payloads: &[&[u8]]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]);
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&65535u32.to_le_bytes());
    f.extend_from_slice(&1u32.to_le_bytes());
    for (i, payload) in payloads.iter().enumerate() {
        let hop_by_hop = i == 0;
        let udp_len = 8 + payload.len();
        let mut frame = vec![0x33, 0x33, 0, 1, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd];
        let ext = if hop_by_hop { 8 } else { 0 };
        frame.extend_from_slice(&[0x60, 0, 0, 0]);
        frame.extend_from_slice(&((udp_len + ext) as u16).to_be_bytes());
        frame.extend_from_slice(&[if hop_by_hop { 0 } else { 17 }, 1]);
        let src: std::net::Ipv6Addr = "fe80::1".parse().unwrap();
        let dst: std::net::Ipv6Addr = "ff02::1:2".parse().unwrap();
        frame.extend_from_slice(&src.octets());
        frame.extend_from_slice(&dst.octets());
        if hop_by_hop {
            frame.extend_from_slice(&[17, 0, 5, 2, 0, 0, 1, 0]);
        }
        frame.extend_from_slice(&546u16.to_be_bytes());
        frame.extend_from_slice(&547u16.to_be_bytes());
        frame.extend_from_slice(&(udp_len as u16).to_be_bytes());
        frame.extend_from_slice(&[0, 0]);
        frame.extend_from_slice(payload);
        f.extend_from_slice(&(i as u32 + 1).to_le_bytes());
        f.extend_from_slice(&0u32.to_le_bytes());
        f.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        f.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        f.extend_from_slice(&frame);
    }
    f
}

/// `dhcp decode` reads DHCPv6 too: from a capture (UDP 546/547 over IPv6, past extension
/// headers), as text and JSON, and from hex on stdin beside DHCPv4.
#[test]
fn decode_reads_dhcpv6_captures_and_hex() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds-parse6");
    let solicit = std::fs::read(seeds.join("solicit.bin")).unwrap();
    let relay = std::fs::read(seeds.join("relay-forw.bin")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v6.pcap");
    std::fs::write(&path, v6_pcap(&[&solicit, &relay, &[1, 2]])).unwrap();
    let o = dhcp(&["decode", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("00:00:01.000000 IP6 (hlim 1, next-header UDP (17) payload length: "),
        "{text}"
    );
    assert!(
        lines[1].starts_with("    fe80::1.546 > ff02::1:2.547: dhcp6 solicit (xid=123456 (client-ID hwaddr type 1 020000000001)"),
        "{text}"
    );
    assert!(lines[3].contains("dhcp6 relay-fwd (hop-count 0 linkaddr=2001:db8:1::1 peeraddr=fe80::1 (interface-ID 65746830)"), "{text}");
    assert!(
        lines[3].contains("(relay-message (dhcp6 solicit (xid=123456"),
        "{text}"
    );
    assert!(
        lines[5].contains("malformed DHCP message (2 bytes): DHCPv6: message is 2 bytes"),
        "{text}"
    );

    let o = dhcp(&["decode", "--json", path.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v[0]["protocol"], "dhcpv6");
    assert_eq!(v[0]["source"], "[fe80::1]:546");
    assert_eq!(v[0]["message"]["type"], "solicit");
    assert_eq!(v[0]["message"]["xid"], "0x123456");
    assert_eq!(v[0]["message"]["options"][0]["name"], "client-ID");
    assert_eq!(v[1]["message"]["type"], "relay-fwd");
    let inner = v[1]["message"]["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["code"] == 9)
        .unwrap();
    assert_eq!(inner["message"]["type"], "solicit");

    // Hex on stdin: DHCPv6 beside DHCPv4.
    let hex: String = solicit.iter().map(|b| format!("{b:02x}")).collect();
    let text = decode_stdin(&format!("{hex}\n{}\n", discover_hex()));
    assert!(
        text.starts_with("packet 1: dhcp6 solicit (xid=123456"),
        "{text}"
    );
    assert!(
        text.lines()
            .nth(1)
            .unwrap()
            .starts_with("packet 2: BOOTP/DHCP, Request"),
        "{text}"
    );
}

/// tcpdump's `-v` lines, grouped by packet.
fn packets(text: &str) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    for l in text.lines() {
        if l.contains(" IP (tos ") {
            out.push(Vec::new());
        }
        if let Some(p) = out.last_mut() {
            p.push(l.to_string());
        }
    }
    out
}

/// `(code, length, value)` of an option line.
fn option_line(l: &str) -> Option<(u8, String, String)> {
    let l = l.trim_start();
    // tcpdump prints an empty option as `Name (80), length 0""`.
    let (head, value) = l
        .split_once(": ")
        .or_else(|| l.strip_suffix("\"\"").map(|h| (h, "")))
        .or_else(|| l.strip_suffix(':').map(|h| (h, "")))?;
    let (name, length) = head.rsplit_once(", length ")?;
    let code = name.rsplit_once('(')?.1.strip_suffix(')')?.parse().ok()?;
    Some((code, length.to_string(), value.trim_end().to_string()))
}

#[test]
fn decode_shows_every_field_tcpdump_shows_for_the_golden_captures() {
    let mut checked = 0;
    for entry in std::fs::read_dir(golden()).unwrap() {
        let pcap = entry.unwrap().path();
        if pcap.extension().and_then(|e| e.to_str()) != Some("pcap") {
            continue;
        }
        let o = dhcp(&["decode", pcap.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
        let tcpdump = std::fs::read_to_string(pcap.with_extension("txt")).unwrap();
        let (ours, theirs) = (packets(&stdout(&o)), packets(&tcpdump));
        assert_eq!(ours.len(), theirs.len(), "{}", pcap.display());
        for (mine, want) in ours.iter().zip(&theirs) {
            let mut prl_codes: Vec<String> = Vec::new();
            for line in want {
                if line.starts_with("\t      ") {
                    // The parameter list's continuation lines: codes, in order.
                    prl_codes.extend(line.split(", ").map(|c| {
                        c.rsplit_once('(')
                            .map_or("", |x| x.1)
                            .trim_end_matches(')')
                            .to_string()
                    }));
                    continue;
                }
                match option_line(line) {
                    Some((code, length, value)) if line.starts_with("\t    ") && code != 0 => {
                        let ours = mine
                            .iter()
                            .filter_map(|l| option_line(l))
                            .find(|(c, _, _)| *c == code)
                            .unwrap_or_else(|| panic!("{}: no option {code}", pcap.display()));
                        assert_eq!(ours.1, length, "{}: option {code} length", pcap.display());
                        // tcpdump can't read 119 (prints it as numbers), wraps 55, and
                        // shows an RFC 4361 client id (61) as hardware type 255; ours
                        // names its IAID and DUID.
                        if line.contains("Unknown (") && code != 119 {
                            // tcpdump prints an option it doesn't know as numbers (32-bit,
                            // 16-bit or bytes, by length); ours in hex: the same bytes.
                            let len: usize = length.parse().unwrap();
                            let width = if len.is_multiple_of(4) {
                                4
                            } else if len.is_multiple_of(2) {
                                2
                            } else {
                                1
                            };
                            let bytes: String = value
                                .split(',')
                                .map(|n| {
                                    let n: u64 = n.trim().parse().unwrap();
                                    format!("{n:0w$x}", w = width * 2)
                                })
                                .collect();
                            let mine: String =
                                ours.2.chars().filter(|c| c.is_ascii_hexdigit()).collect();
                            assert_eq!(mine, bytes, "{}: option {code}", pcap.display());
                        } else if code == 61 && value.starts_with("hardware-type 255, ") {
                            assert!(
                                ours.2.starts_with("IAID 0x"),
                                "{}: {}",
                                pcap.display(),
                                ours.2
                            );
                        } else if code != 119 && code != 55 {
                            assert_eq!(ours.2, value, "{}: option {code}", pcap.display());
                        }
                    }
                    _ => assert!(
                        mine.contains(line),
                        "{}: missing line {line:?}\nin {mine:#?}",
                        pcap.display()
                    ),
                }
            }
            if !prl_codes.is_empty() {
                let at = mine
                    .iter()
                    .position(|l| l.contains("Parameter-Request (55)"))
                    .unwrap();
                let mut text = mine[at].split_once(": ").unwrap().1.to_string();
                for more in mine[at + 1..]
                    .iter()
                    .take_while(|l| l.starts_with("\t      "))
                {
                    text.push_str(", ");
                    text.push_str(more.trim());
                }
                let codes: Vec<String> = text
                    .split(", ")
                    .map(|c| {
                        c.rsplit_once('(')
                            .map_or("", |x| x.1)
                            .trim_end_matches(')')
                            .to_string()
                    })
                    .collect();
                assert_eq!(codes, prl_codes, "{}", pcap.display());
            }
            checked += 1;
        }
    }
    assert!(checked >= 80, "{checked} packets checked");
}

#[test]
fn decode_json_types_options_and_goes_on_after_a_malformed_packet() {
    let pcap = golden().join("kea-dhclient.pcap");
    let o = dhcp(&["decode", "--json", pcap.to_str().unwrap()]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let first = &v[0];
    assert_eq!(first["source"], "0.0.0.0:68");
    let m = &first["message"];
    assert_eq!(m["op"], "BOOTREQUEST");
    assert_eq!(m["chaddr"], "02:00:00:00:01:02");
    let opt = |m: &serde_json::Value, code: u64| {
        m["options"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["code"] == code)
            .cloned()
            .unwrap()
    };
    assert_eq!(opt(m, 53)["value"], "Discover");
    assert_eq!(opt(m, 12)["value"], "gold-dhclient");
    let offer = &v[1]["message"];
    assert_eq!(opt(offer, 3)["value"], serde_json::json!(["192.0.2.1"]));
    assert_eq!(opt(offer, 51)["value"], 120);
    assert_eq!(
        opt(offer, 119)["value"],
        serde_json::json!(["example.test", "lab.example.test"])
    );
    assert_eq!(opt(offer, 121)["value"][0]["destination"], "198.51.100.0");
    assert_eq!(opt(offer, 121)["hex"], "18c63364c0000201");

    // Hex on stdin: a good message, a truncated one, a good one.
    let good = discover_hex();
    let text = decode_stdin(&format!("{good}\n0101060000\n{good}\n"));
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("packet ")).collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].contains("Request from 02:00:00:00:00:01"),
        "{text}"
    );
    assert!(
        lines[1].contains("malformed DHCP message (5 bytes)"),
        "{text}"
    );
    assert!(lines[2].contains("BOOTP/DHCP, Request"), "{text}");
    assert!(
        text.contains("DHCP-Message (53), length 1: Discover"),
        "{text}"
    );
}

// ---- the network ones -------------------------------------------------------------------

/// A child process killed (if still running) when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Running {
    fn signal(&self, sig: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(self.0.id() as i32);
        let _ = nix::sys::signal::kill(pid, sig);
    }

    /// Waits (at most `secs`) for the process to end; its exit code.
    fn wait_exit(&mut self, secs: u64) -> Option<i32> {
        let give_up = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < give_up {
            if let Some(s) = self.0.try_wait().unwrap() {
                return s.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

/// Waits (at most 20 s) until `f` holds.
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let give_up = Instant::now() + Duration::from_secs(20);
    while Instant::now() < give_up {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

fn server_config(dir: &Path, extra_top: &str, subnet_options: &str) -> PathBuf {
    let path = dir.join("server.toml");
    std::fs::write(
        &path,
        format!(
            r#"{extra_top}
interfaces = ["veth-srv"]
journal = "{}"
authoritative = true

[lease]
time = 600

[options]
dns_servers = ["192.0.2.53"]

[[subnet]]
network = "192.0.2.0/24"
pools = ["192.0.2.100-192.0.2.150"]

[subnet.options]
routers = ["192.0.2.1"]
{subnet_options}
"#,
            dir.join("leases.journal").display()
        ),
    )
    .unwrap();
    path
}

/// `dhcp server` in the pair's server namespace, once it says it serves.
fn start_server(pair: &Pair, config: &Path, log: &Path) -> Running {
    let child = dhcp_in(&pair.server)
        .args(["server", "--config"])
        .arg(config)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let r = Running(child);
    eventually("the server to serve", || {
        std::fs::read_to_string(log).is_ok_and(|l| l.contains("serving 1 subnet"))
    });
    r
}

#[test]
fn client_once_prints_the_lease_on_every_runtime_and_leases_lists_it() {
    let Some((pair, dir)) = namespaces() else {
        return;
    };
    let config = server_config(dir.path(), "", "");
    let mut server = start_server(&pair, &config, &dir.path().join("server.log"));
    let mut addresses = Vec::new();
    for rt in ["tokio", "async-std", "smol"] {
        let o = dhcp_in(&pair.client)
            .args(["--runtime", rt, "client"])
            .args([
                &pair.client_if,
                "--once",
                "--json",
                "--hostname",
                "cli-test",
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{rt}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(v["prefix_len"], 24, "{rt}");
        assert_eq!(v["routers"], serde_json::json!(["192.0.2.1"]));
        assert_eq!(v["dns_servers"], serde_json::json!(["192.0.2.53"]));
        assert_eq!(v["lease_time"], 600);
        addresses.push(v["address"].as_str().unwrap().to_string());
    }
    // The same client (its MAC) keeps its address whatever runtime asks.
    assert!(
        addresses.iter().all(|a| *a == addresses[0]),
        "{addresses:?}"
    );
    server.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(server.wait_exit(10), Some(0));

    let o = dhcp(&["leases", "--config", config.to_str().unwrap()]);
    let table = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    let row = table
        .lines()
        .find(|l| l.starts_with(&addresses[0]))
        .expect(&table);
    assert!(
        row.contains(" bound ")
            && row.contains("01:00:11:22:33:44:55")
            && row.ends_with("cli-test"),
        "{row}"
    );
    let o = dhcp(&["leases", "--config", config.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v[0]["address"], addresses[0].as_str());
    assert_eq!(v[0]["state"], "bound");
    assert_eq!(v[0]["host_name"], "cli-test");
}

const HOOK: &str = r#"#!/bin/sh
# Records each call: the event, then the environment, sorted.
out="$(dirname "$0")/calls"
{ echo "event $1"; env | sort; echo "--"; } >> "$out"
# A careless hook: if a hostile value got through, this would run it.
eval "echo $hostname $domain" > /dev/null 2>&1
"#;

/// The environment of each hook call: (event, variables).
fn hook_calls(dir: &Path) -> Vec<(String, Vec<(String, String)>)> {
    let text = std::fs::read_to_string(dir.join("calls")).unwrap_or_default();
    let mut calls = Vec::new();
    for block in text.split("--\n").filter(|b| !b.trim().is_empty()) {
        let mut lines = block.lines();
        let event = lines
            .next()
            .unwrap()
            .strip_prefix("event ")
            .unwrap()
            .to_string();
        let vars = lines
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .filter(|(k, _)| k != "PWD" && k != "SHLVL" && k != "_" && k != "OLDPWD")
            .collect();
        calls.push((event, vars));
    }
    calls
}

/// The first address a client log says it sent a REQUEST for, and whether that REQUEST
/// came before any DISCOVER.
fn first_request(log: &str) -> Option<(String, bool)> {
    let mut discovered = false;
    for l in log.lines() {
        if l.contains("Sent DHCP DISCOVER") {
            discovered = true;
        }
        if let Some(rest) = l.split("Sent DHCP REQUEST for ").nth(1) {
            let a = rest.split_whitespace().next()?.to_string();
            return Some((a, !discovered));
        }
    }
    None
}

/// `dhcp client --apply` on the pair's client side, keeping its lease in `lease_file`,
/// logging to `log`.
fn applying_client(pair: &Pair, lease_file: &Path, log: &Path) -> Running {
    let child = dhcp_in(&pair.client)
        .args(["client", &pair.client_if, "--apply", "--no-hostname"])
        .arg("--lease-file")
        .arg(lease_file)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    Running(child)
}

/// By default a stopped client keeps its lease (the address stays on the interface, the
/// lease file stays, no RELEASE), and a restart asks for the same address first with
/// INIT-REBOOT (RFC 2131 3.2: a REQUEST with option 50 and no server id) and keeps it; when
/// the server refuses it (a NAK), the kept address comes off the interface.
#[test]
fn a_stopped_client_keeps_its_lease_and_asks_for_it_again_after_a_restart() {
    let Some((pair, dir)) = namespaces() else {
        return;
    };
    let config = server_config(dir.path(), "", "");
    let server_log = dir.path().join("server.log");
    let mut server = start_server(&pair, &config, &server_log);
    let lease_file = dir.path().join("state/veth-cli.lease");
    let start = |n: usize| {
        let log = dir.path().join(format!("client{n}.log"));
        (applying_client(&pair, &lease_file, &log), log)
    };
    let address = || {
        client_addresses(&pair)
            .first()
            .map(|a| a.split('/').next().unwrap_or("").to_string())
    };
    let (mut first, log) = start(0);
    eventually("a lease", || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("bound ")
    });
    let bound = address().expect("an address applied");
    first.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(first.wait_exit(15), Some(0));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        !text.contains("Sent DHCP RELEASE"),
        "released on exit:\n{text}"
    );
    assert_eq!(
        address().as_deref(),
        Some(bound.as_str()),
        "the address stays"
    );
    let kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&lease_file).unwrap()).unwrap();
    assert_eq!(kept["address"], bound.as_str(), "the lease file stays");
    assert!(
        !std::fs::read_to_string(&server_log)
            .unwrap()
            .contains("RELEASE"),
        "the server saw no RELEASE"
    );

    let (mut second, log) = start(1);
    eventually("the lease again", || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("bound ")
    });
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        first_request(&text),
        Some((bound.clone(), true)),
        "the first message after the restart is a REQUEST for the kept address:\n{text}"
    );
    assert_eq!(address().as_deref(), Some(bound.as_str()));
    second.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(second.wait_exit(15), Some(0));

    // Meanwhile the server reserves another address for this client: the kept address is
    // refused (NAK), taken off the interface, and the reserved one put on instead.
    let link = Pair::ip_in(&pair.client, &["link", "show", "dev", &pair.client_if]).unwrap();
    let mac = link
        .split_whitespace()
        .skip_while(|w| *w != "link/ether")
        .nth(1)
        .unwrap()
        .to_string();
    server.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(server.wait_exit(15), Some(0));
    let reserved = format!("[[subnet.reservation]]\nmac = \"{mac}\"\naddress = \"192.0.2.42\"\n");
    let config = server_config(dir.path(), "", &reserved);
    let _server = start_server(&pair, &config, &dir.path().join("server2.log"));
    let (mut third, log) = start(2);
    eventually("the reserved address", || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("bound 192.0.2.42 ")
    });
    let text = std::fs::read_to_string(&log).unwrap();
    let inet: Vec<String> = Pair::ip_in(
        &pair.client,
        &["-4", "addr", "show", "dev", &pair.client_if],
    )
    .unwrap()
    .split_whitespace()
    .collect::<Vec<_>>()
    .windows(2)
    .filter(|w| w[0] == "inet")
    .map(|w| w[1].to_string())
    .collect();
    assert_eq!(inet, ["192.0.2.42/24"], "the kept address is gone:\n{text}");
    let kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&lease_file).unwrap()).unwrap();
    assert_eq!(kept["address"], "192.0.2.42");
    assert!(kept["expires"].as_u64().is_some(), "{kept}");
    third.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(third.wait_exit(15), Some(0));
}

/// A lease file for 192.0.2.77/24 that runs out at `expires` (Unix seconds).
fn kept_lease(path: &Path, expires: u64) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let lease = serde_json::json!({
        "interface": "veth-cli",
        "address": "192.0.2.77",
        "prefix_len": 24,
        "routers": [],
        "classless_routes": [],
        "lease_time": 600,
        "expires": expires,
    });
    std::fs::write(path, lease.to_string()).unwrap();
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The IPv4 addresses on the client's interface.
fn client_addresses(pair: &Pair) -> Vec<String> {
    Pair::ip_in(
        &pair.client,
        &["-4", "addr", "show", "dev", &pair.client_if],
    )
    .unwrap()
    .split_whitespace()
    .collect::<Vec<_>>()
    .windows(2)
    .filter(|w| w[0] == "inet")
    .map(|w| w[1].to_string())
    .collect()
}

/// A kept lease is used while no server answers (as dhcpcd does), the client asking for
/// it all the while, and comes off the interface when it runs out.
#[test]
fn a_kept_lease_no_server_answers_for_runs_out_and_comes_off() {
    let Some((pair, dir)) = namespaces() else {
        return;
    };
    let lease_file = dir.path().join("veth-cli.lease");
    kept_lease(&lease_file, unix_now() + 3);
    Pair::ip_in(
        &pair.client,
        &["addr", "add", "192.0.2.77/24", "dev", &pair.client_if],
    )
    .unwrap();
    let log = dir.path().join("client.log");
    let mut client = applying_client(&pair, &lease_file, &log);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        client_addresses(&pair),
        ["192.0.2.77/24"],
        "kept while it runs"
    );
    eventually("the kept lease to run out", || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("the kept lease ran out")
    });
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("Sent DHCP REQUEST for 192.0.2.77"), "{text}");
    assert!(client_addresses(&pair).is_empty(), "{text}");
    assert!(!lease_file.exists(), "the lease file goes with it");
    client.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(client.wait_exit(15), Some(0));
}

/// A kept lease that ran out while the client was stopped comes off the interface at
/// start, and the client starts over asking for that address (50) in its DISCOVER.
#[test]
fn a_kept_lease_that_ran_out_comes_off_and_the_discover_asks_for_its_address() {
    let Some((pair, dir)) = namespaces() else {
        return;
    };
    let config = server_config(dir.path(), "", "");
    let _server = start_server(&pair, &config, &dir.path().join("server.log"));
    let lease_file = dir.path().join("veth-cli.lease");
    kept_lease(&lease_file, unix_now() - 10);
    Pair::ip_in(
        &pair.client,
        &["addr", "add", "192.0.2.77/24", "dev", &pair.client_if],
    )
    .unwrap();
    let log = dir.path().join("client.log");
    let mut client = applying_client(&pair, &lease_file, &log);
    eventually("a new lease", || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("bound ")
    });
    let text = std::fs::read_to_string(&log).unwrap();
    let first_sent = text
        .lines()
        .find(|l| l.contains("Sent DHCP "))
        .unwrap_or("");
    assert!(
        first_sent.contains("Sent DHCP DISCOVER for 192.0.2.77"),
        "{text}"
    );
    let now = client_addresses(&pair);
    assert_eq!(now.len(), 1, "{now:?}");
    assert!(
        now[0].starts_with("192.0.2.1"),
        "a pool address, not the one that ran out: {now:?}"
    );
    client.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(client.wait_exit(15), Some(0));
}

#[test]
fn client_applies_the_lease_runs_the_hook_with_inert_data_and_cleans_up() {
    let Some((pair, dir)) = namespaces() else {
        return;
    };
    let marker = dir.path().join("pwned");
    let hostile = format!("$(touch {});`touch {}`", marker.display(), marker.display());
    let options = format!(
        "classless_routes = [{{ network = \"0.0.0.0/0\", router = \"192.0.2.1\" }}, \
         {{ network = \"198.51.100.0/24\", router = \"192.0.2.254\" }}]\n\
         raw = [{{ code = 12, text = \"{hostile}\" }}, {{ code = 15, text = \"x;reboot\" }}]"
    );
    let config = server_config(dir.path(), "", &options);
    let _server = start_server(&pair, &config, &dir.path().join("server.log"));
    let hook = dir.path().join("hook.sh");
    std::fs::write(&hook, HOOK).unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let log = dir.path().join("client.log");
    let mut client = Running(
        dhcp_in(&pair.client)
            .args(["client", &pair.client_if, "--apply", "--release-on-exit"])
            .arg("--lease-file")
            .arg(dir.path().join("client.lease"))
            .arg("--script")
            .arg(&hook)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    eventually("the bound hook", || {
        hook_calls(dir.path()).iter().any(|(e, _)| e == "bound")
    });
    let addr = Pair::ip_in(
        &pair.client,
        &["-4", "addr", "show", "dev", &pair.client_if],
    )
    .unwrap();
    let routes = Pair::ip_in(&pair.client, &["-4", "route"]).unwrap();
    let ip = addr
        .split_whitespace()
        .skip_while(|w| *w != "inet")
        .nth(1)
        .unwrap()
        .to_string();
    assert!(ip.starts_with("192.0.2.1") && ip.ends_with("/24"), "{addr}");
    assert!(
        routes.contains("default via 192.0.2.1 dev veth-cli proto dhcp"),
        "{routes}"
    );
    assert!(
        routes.contains("198.51.100.0/24 via 192.0.2.254 dev veth-cli proto dhcp"),
        "{routes}"
    );

    client.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(
        client.wait_exit(15),
        Some(0),
        "{}",
        std::fs::read_to_string(&log).unwrap()
    );
    let addr = Pair::ip_in(
        &pair.client,
        &["-4", "addr", "show", "dev", &pair.client_if],
    )
    .unwrap();
    let routes = Pair::ip_in(&pair.client, &["-4", "route"]).unwrap();
    assert!(!addr.contains("inet "), "address left behind: {addr}");
    assert!(
        !routes.contains("proto dhcp"),
        "routes left behind: {routes}"
    );

    let calls = hook_calls(dir.path());
    let events: Vec<&str> = calls.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(events, ["deconfig", "bound", "deconfig"], "{calls:?}");
    let (_, bound) = &calls[1];
    let names: Vec<&str> = bound.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "PATH",
            "dns",
            "interface",
            "ip",
            "lease",
            "mask",
            "router",
            "serverid",
            "staticroutes",
            "subnet"
        ],
        "exactly the documented variables"
    );
    let get = |k: &str| bound.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("interface"), Some("veth-cli"));
    assert_eq!(get("ip"), Some(ip.trim_end_matches("/24")));
    assert_eq!(get("mask"), Some("24"));
    assert_eq!(get("subnet"), Some("255.255.255.0"));
    assert_eq!(get("router"), Some("192.0.2.1"));
    assert_eq!(get("dns"), Some("192.0.2.53"));
    assert_eq!(get("serverid"), Some("192.0.2.1"));
    assert_eq!(get("lease"), Some("600"));
    assert_eq!(
        get("staticroutes"),
        Some("0.0.0.0/0 192.0.2.1 198.51.100.0/24 192.0.2.254")
    );
    // The hostile host name and domain never reached the script, and nothing ran.
    assert!(!marker.exists(), "the hostile host name was executed");
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.contains("host name from the server is not a valid name"),
        "{log}"
    );
    assert!(
        log.contains("domain name from the server is not a valid name"),
        "{log}"
    );
    assert_eq!(
        calls[2]
            .1
            .iter()
            .map(|(k, _)| k.as_str())
            .collect::<Vec<_>>(),
        ["PATH", "interface"]
    );
}

#[test]
fn demo_runs_and_leaves_nothing_behind_even_when_interrupted() {
    if !netns_ok() {
        return;
    }
    let o = dhcp(&["demo"]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}\n{}", stderr(&o));
    assert!(
        out.contains("DHCP Configuration obtained:\n  Your IP: 192.0.2.1"),
        "{out}"
    );
    assert!(out.contains("  Routers: [192.0.2.1]"), "{out}");
    assert!(
        stderr(&o).contains("Sent DHCP ACK 192.0.2.1"),
        "{}",
        stderr(&o)
    );
    assert!(!Pair::exists("dhcp-demo-server") && !Pair::exists("dhcp-demo-client"));

    for sig in [
        nix::sys::signal::Signal::SIGTERM,
        nix::sys::signal::Signal::SIGINT,
    ] {
        let mut demo = Running(
            Command::new(DHCP)
                .args(["demo", "--hold", "30"])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let mut out = BufReader::new(demo.0.stdout.take().unwrap());
        let mut line = String::new();
        loop {
            line.clear();
            assert!(
                out.read_line(&mut line).unwrap() > 0,
                "the demo ended early"
            );
            if line.starts_with("holding for") {
                break;
            }
        }
        assert!(Pair::exists("dhcp-demo-server") && Pair::exists("dhcp-demo-client"));
        demo.signal(sig);
        assert_eq!(demo.wait_exit(10), Some(130), "{sig}");
        assert!(
            !Pair::exists("dhcp-demo-server") && !Pair::exists("dhcp-demo-client"),
            "{sig}"
        );
    }
}

#[test]
fn demo_without_root_says_it_needs_root() {
    if !netns_ok() {
        return;
    }
    let o = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            DHCP,
            "demo",
        ])
        .output()
        .expect("setpriv (util-linux)");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("error: dhcp demo needs root"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn server_drops_to_its_user_keeping_only_network_capabilities() {
    let Some((pair, dir)) = namespaces() else {
        return;
    };
    let journal_dir = dir.path().join("state");
    std::fs::create_dir(&journal_dir).unwrap();
    nix::unistd::chown(&journal_dir, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
    let config = server_config(&journal_dir, "user = \"nobody\"", "");
    let server = start_server(&pair, &config, &dir.path().join("server.log"));
    let status = std::fs::read_to_string(format!("/proc/{}/status", server_pid(&server))).unwrap();
    let field = |k: &str| {
        status
            .lines()
            .find(|l| l.starts_with(k))
            .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
            .unwrap()
    };
    assert_eq!(field("Uid:"), "65534 65534 65534 65534");
    // CAP_NET_BIND_SERVICE (10), CAP_NET_ADMIN (12), CAP_NET_RAW (13).
    assert_eq!(field("CapEff:"), "0000000000003400");
    assert_eq!(field("CapPrm:"), "0000000000003400");
    // It still serves and journals.
    let o = dhcp_in(&pair.client)
        .args(["client", &pair.client_if, "--once"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let journal = std::fs::read_to_string(journal_dir.join("leases.journal")).unwrap();
    assert!(journal.contains(" bound 192.0.2.1"), "{journal}");
}

/// The server's own pid (`ip netns exec` execs it, so it is the child's).
fn server_pid(r: &Running) -> u32 {
    r.0.id()
}
