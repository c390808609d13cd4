//! The lease journal: the embedded default store, nothing to install.
//!
//! An append-only text file, one record a line, readable with `cat`:
//!
//! ```text
//! # dhcp lease journal v1: seq kind address client expires-unix host check
//! 42 bound 10.0.0.7 01:00:11:22:33:44:55 1764345600 laptop 9b1f04c2
//! 43 released 10.0.0.7 01:00:11:22:33:44:55 1764342000 - 5e0d2a11
//! ```
//!
//! Each line ends with a checksum of the rest (FNV-1a, 32 bits) and a newline. On opening,
//! a line without its newline (torn by a crash mid-write) is cut off, and a line that does
//! not parse or whose checksum is wrong is reported with its line number and skipped; the
//! lines after it still count. A batch of records costs one synced write (`O_DSYNC` on
//! Linux, else a write and an `fdatasync`).
//!
//! When the file has grown past twice its size at the last compaction (in lines), it is
//! compacted in the background: a thread reads the file up to where it ended when the
//! compaction began and copies the newest line of each address (dropping those expired more
//! than a day) to a new file, while appends go on. Then, between two batches, the lines
//! appended meanwhile are copied after them, the copy is synced and renamed into place: the
//! commits wait only for that tail. The journal holds no copy of the leases in memory (the
//! server's table is the one copy). A lock file beside the journal (`<journal>.lock`,
//! locked with `flock`) keeps a second server from opening it.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use dhcp_core::server::{ClientKey, LeaseRecord, RecordKind};

use crate::clock::unix_now;
use crate::store::{distinct_addresses, Committed, LeaseStore, StoreError};

const HEADER: &str = "# dhcp lease journal v1: seq kind address client expires-unix host check\n";

/// The compaction's copy is synced every this many bytes.
const SYNC_EVERY: u64 = 1 << 20;

/// Records that expired more than this long ago are dropped when compacting (a released or
/// expired lease is remembered for a day so its client gets the address back).
const KEEP_EXPIRED_SECS: u64 = 86_400;

/// A line that could not be read back, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub what: String,
}

/// An open, locked journal.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    _lock: File,
    /// Bytes in the file (everything appended is synced, or cut back).
    len: u64,
    /// Lines in the file.
    lines: usize,
    /// Lines after the last compaction (at opening: the addresses, what one would keep).
    base: usize,
    loaded: Vec<LeaseRecord>,
    bad: Vec<BadLine>,
    compact_after: usize,
    compaction: Option<Compaction>,
    /// A failed append could not be cut back: the next one cuts first.
    uncut: bool,
    /// The directory's sync after a compaction's rename failed: the next append syncs it
    /// first, so no record is reported durable in a file whose name might not be.
    dir_unsynced: bool,
}

/// A compaction running on its own thread.
#[derive(Debug)]
struct Compaction {
    /// The file's length when it began: the thread copies the lines before it.
    upto: u64,
    began: std::time::Instant,
    tmp: PathBuf,
    /// Tells the thread to stop (the journal is closing).
    cancel: Arc<AtomicBool>,
    thread: JoinHandle<io::Result<Copied>>,
}

/// What the compaction thread wrote.
#[derive(Debug)]
struct Copied {
    bytes: u64,
    lines: usize,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn checksum(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

fn kind_name(k: RecordKind) -> &'static str {
    match k {
        RecordKind::Bound => "bound",
        RecordKind::Released => "released",
        RecordKind::Declined => "declined",
    }
}

/// One record as its journal line (newline included).
pub fn format_record(r: &LeaseRecord) -> String {
    let mut s = String::with_capacity(80);
    write_record(&mut s, r);
    s
}

/// Appends `r`'s journal line (newline included) to `out`.
fn write_record(out: &mut String, r: &LeaseRecord) {
    let start = out.len();
    let _ = write!(out, "{} {} {} ", r.seq, kind_name(r.kind), r.address);
    if r.client.as_bytes().is_empty() {
        out.push('-');
    } else {
        let _ = write!(out, "{}", r.client);
    }
    let _ = write!(out, " {} ", r.expires);
    match &r.host_name {
        // A name that is just `-` would read back as no name.
        Some(h) if h == b"-" => out.push_str("%2d"),
        Some(h) if !h.is_empty() => {
            for &b in h {
                if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_' {
                    out.push(char::from(b));
                } else {
                    let _ = write!(out, "%{b:02x}");
                }
            }
        }
        _ => out.push('-'),
    }
    let sum = checksum(&out[start..]);
    let _ = writeln!(out, " {sum:08x}");
}

/// Reads one journal line (without its newline) back into a record.
pub fn parse_record(line: &str) -> Result<LeaseRecord, String> {
    let (body, sum) = line
        .rsplit_once(' ')
        .ok_or_else(|| "no checksum".to_string())?;
    let sum = u32::from_str_radix(sum, 16).map_err(|_| format!("bad checksum {sum:?}"))?;
    if checksum(body) != sum {
        return Err("checksum mismatch (the line is corrupt)".to_string());
    }
    let f: Vec<&str> = body.split(' ').collect();
    let [seq, kind, address, client, expires, host] = f.as_slice() else {
        return Err(format!("{} fields, expected 6", f.len()));
    };
    let seq = seq
        .parse()
        .map_err(|_| format!("bad sequence number {seq:?}"))?;
    let kind = match *kind {
        "bound" => RecordKind::Bound,
        "released" => RecordKind::Released,
        "declined" => RecordKind::Declined,
        k => return Err(format!("unknown record kind {k:?}")),
    };
    let address = address
        .parse()
        .map_err(|_| format!("bad address {address:?}"))?;
    let client = if *client == "-" {
        ClientKey::new(&[])
    } else {
        let bytes: Result<Vec<u8>, _> = client
            .split(':')
            .map(|b| u8::from_str_radix(b, 16))
            .collect();
        ClientKey::new(&bytes.map_err(|_| format!("bad client {client:?}"))?)
    };
    let expires = expires
        .parse()
        .map_err(|_| format!("bad expiry {expires:?}"))?;
    let host_name = if *host == "-" {
        None
    } else if host.is_empty() {
        // `format_record` writes `-` for no name; an empty field is not one of its lines.
        return Err("empty host field".to_string());
    } else {
        let mut out = Vec::new();
        let mut bytes = host.bytes();
        while let Some(b) = bytes.next() {
            if b == b'%' {
                let hex: String = bytes.by_ref().take(2).map(char::from).collect();
                out.push(u8::from_str_radix(&hex, 16).map_err(|_| format!("bad host {host:?}"))?);
            } else {
                out.push(b);
            }
        }
        Some(out)
    };
    Ok(LeaseRecord {
        seq,
        address,
        client,
        kind,
        expires,
        host_name,
    })
}

/// What reading a journal found.
struct Scan {
    records: Vec<LeaseRecord>,
    bad: Vec<BadLine>,
    /// Where the last complete line ends: anything after it is a torn line.
    good_end: u64,
    lines: usize,
}

fn scan(path: &Path, mut reader: impl BufRead) -> Result<Scan, StoreError> {
    let mut scan = Scan {
        records: Vec::new(),
        bad: Vec::new(),
        good_end: 0,
        lines: 0,
    };
    let mut raw = Vec::new();
    loop {
        raw.clear();
        let read = reader.read_until(b'\n', &mut raw).map_err(io_err(path))?;
        if read == 0 {
            break;
        }
        let n = scan.lines + 1;
        if !raw.ends_with(b"\n") {
            tracing::warn!(
                "{}:{n}: torn last line (a crash mid-write) cut off",
                path.display()
            );
            break;
        }
        scan.good_end += read as u64;
        scan.lines = n;
        let parsed = match std::str::from_utf8(&raw[..raw.len() - 1]) {
            Ok(text) if text.starts_with('#') || text.is_empty() => continue,
            Ok(text) => parse_record(text),
            Err(_) => Err("not text".to_string()),
        };
        match parsed {
            Ok(r) => scan.records.push(r),
            Err(what) => {
                tracing::warn!("{}:{n}: skipped: {what}", path.display());
                scan.bad.push(BadLine { line: n, what });
            }
        }
    }
    Ok(scan)
}

/// Reads the journal at `path` without opening it for writing or taking its lock (a
/// running server may hold it): every record in order, and the lines that could not be
/// read. A torn last line is ignored.
pub fn read(path: impl AsRef<Path>) -> Result<(Vec<LeaseRecord>, Vec<BadLine>), StoreError> {
    let path = path.as_ref();
    let file = File::open(path).map_err(io_err(path))?;
    let scan = scan(path, BufReader::new(file))?;
    Ok((scan.records, scan.bad))
}

impl Journal {
    /// Opens (or creates) the journal at `path`, locks it, and reads every record. A torn
    /// last line is cut off; bad lines are skipped and listed in [`bad_lines`](Self::bad_lines).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let lock_path = {
            let mut p = path.clone().into_os_string();
            p.push(".lock");
            PathBuf::from(p)
        };
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Locked { path: lock_path });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io_err(&lock_path)(e)),
        }
        // A copy left by a compaction that a crash or a stop interrupted.
        let _ = std::fs::remove_file(compact_path(&path));
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(io_err(&path))?;
        let appender = open_append(&path).map_err(io_err(&path))?;
        let mut j = Journal {
            path,
            file: appender,
            _lock: lock,
            len: 0,
            lines: 0,
            base: 0,
            loaded: Vec::new(),
            bad: Vec::new(),
            compact_after: 1024,
            compaction: None,
            uncut: false,
            dir_unsynced: false,
        };
        j.read_all(&mut file)?;
        if j.lines == 0 {
            // A new file: its name must last before any record in it counts.
            j.dir_unsynced = true;
            j.append(HEADER)?;
        }
        Ok(j)
    }

    /// Compact once the file holds more than `lines` lines beyond twice its lines after the
    /// last compaction (default 1024).
    pub fn set_compact_after(&mut self, lines: usize) {
        self.compact_after = lines;
    }

    /// Lines that could not be read back when the journal was opened.
    pub fn bad_lines(&self) -> &[BadLine] {
        &self.bad
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read_all(&mut self, file: &mut File) -> Result<(), StoreError> {
        let path = self.path.clone();
        let scan = scan(&path, BufReader::new(&mut *file))?;
        // What a compaction would keep: one line per address.
        self.base = distinct_addresses(&scan.records);
        self.loaded = scan.records;
        self.bad = scan.bad;
        self.lines = scan.lines;
        let len = file.metadata().map_err(io_err(&path))?.len();
        if len > scan.good_end {
            file.set_len(scan.good_end).map_err(io_err(&path))?;
            file.sync_data().map_err(io_err(&path))?;
        }
        self.len = scan.good_end;
        file.seek(SeekFrom::End(0)).map_err(io_err(&path))?;
        Ok(())
    }

    /// Appends `text` and makes it durable; on failure the file is cut back to where it
    /// was, so a partial write (a full disk) leaves no half line for the next append to
    /// run into, and no record the caller was told failed.
    fn append(&mut self, text: &str) -> Result<(), StoreError> {
        if self.uncut {
            self.file.set_len(self.len).map_err(io_err(&self.path))?;
            self.uncut = false;
        }
        if self.dir_unsynced {
            sync_dir(&self.path).map_err(io_err(&self.path))?;
            self.dir_unsynced = false;
        }
        if let Err(e) = self
            .file
            .write_all(text.as_bytes())
            .and_then(|()| sync_appended(&self.file))
        {
            self.uncut = self.file.set_len(self.len).is_err();
            return Err(io_err(&self.path)(e));
        }
        self.len += text.len() as u64;
        self.lines += text.matches('\n').count();
        Ok(())
    }

    /// Compacts the journal now and waits for it: only the newest line of each address is
    /// kept (dropping those expired more than a day ago), through a new file renamed into
    /// place.
    pub fn compact(&mut self) -> Result<(), StoreError> {
        // One already running copies an older file: finish it, then copy the file as it is.
        if let Some(c) = self.compaction.take() {
            self.finish_compaction(c)?;
        }
        let c = self.start_compaction().map_err(io_err(&self.path))?;
        self.finish_compaction(c)
    }

    /// Starts a background compaction of the file as it is now.
    fn start_compaction(&self) -> io::Result<Compaction> {
        let path = self.path.clone();
        let tmp = compact_path(&self.path);
        let upto = self.len;
        let out = tmp.clone();
        let cancel = Arc::new(AtomicBool::new(false));
        let stop = cancel.clone();
        let spawned = std::thread::Builder::new()
            .name("dhcp-compact".into())
            .spawn(move || {
                lower_priority();
                copy_newest(&path, upto, &out, unix_now(), &stop)
            });
        Ok(Compaction {
            upto,
            began: std::time::Instant::now(),
            tmp,
            cancel,
            thread: spawned?,
        })
    }

    /// Starts a compaction when the file has grown enough, and completes one whose copy is
    /// done. Never waits for the copy.
    fn compact_when_due(&mut self) -> Result<(), StoreError> {
        match &self.compaction {
            Some(c) if c.thread.is_finished() => {
                if let Some(c) = self.compaction.take() {
                    if let Err(e) = self.finish_compaction(c) {
                        // Not again before the file has grown as much once more (a full
                        // disk: the copy must not keep taking the records' space).
                        self.base = self.lines;
                        return Err(e);
                    }
                }
            }
            Some(_) => {}
            None => {
                if self.lines > 2 * self.base + self.compact_after {
                    match self.start_compaction() {
                        Ok(c) => self.compaction = Some(c),
                        Err(e) => {
                            self.base = self.lines;
                            tracing::warn!("{}: cannot start compacting: {e}", self.path.display())
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Appends what was written after `upto` to the compacted copy, syncs it and renames
    /// it into place. On any failure the journal stays as it was and the copy is removed.
    fn finish_compaction(&mut self, c: Compaction) -> Result<(), StoreError> {
        let copied = c
            .thread
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the compaction thread panicked")));
        let (upto, tmp) = (c.upto, c.tmp.as_path());
        let finishing = std::time::Instant::now();
        let done = copied.and_then(|copied| {
            let mut tail = Vec::with_capacity(usize::try_from(self.len - upto).unwrap_or(0));
            let mut old = File::open(&self.path)?;
            if self.uncut || old.metadata()?.len() != self.len {
                return Err(io::Error::other("the journal is not as long as written"));
            }
            old.seek(SeekFrom::Start(upto))?;
            old.take(self.len - upto).read_to_end(&mut tail)?;
            if tail.len() as u64 != self.len - upto {
                return Err(io::Error::other(
                    "the journal's tail could not be read whole",
                ));
            }
            let mut new = open_append(tmp)?;
            new.write_all(&tail)?;
            new.sync_all()?;
            Ok((copied, tail, new))
        });
        // `new` goes on appending to the copy once it is renamed: no reopening after the
        // rename, which could fail and leave appends going to the replaced file.
        let (copied, tail, new) = match done {
            Ok(d) => d,
            Err(e) => {
                // A full disk: the journal stays as it was, and the partial copy must not
                // keep the space.
                let _ = std::fs::remove_file(tmp);
                return Err(io_err(tmp)(e));
            }
        };
        if let Err(e) = std::fs::rename(tmp, &self.path) {
            let _ = std::fs::remove_file(tmp);
            return Err(io_err(&self.path)(e));
        }
        // The rename is durable once the directory is synced; until then no append may
        // count (`append` syncs it first).
        if let Err(e) = sync_dir(&self.path) {
            tracing::warn!("{}: syncing its directory: {e}", self.path.display());
            self.dir_unsynced = true;
        }
        let old = std::mem::replace(&mut self.file, new);
        // Closing the old file frees its blocks, which can take a while on a large one:
        // not on the thread the ACKs wait for.
        let _ = std::thread::Builder::new()
            .name("dhcp-compact".into())
            .spawn(move || drop(old));
        self.len = copied.bytes + tail.len() as u64;
        self.lines = copied.lines + tail.iter().filter(|&&b| b == b'\n').count();
        self.base = self.lines;
        tracing::info!(
            "{}: compacted to {} lines in {:.2} s (the last {:.1} ms between two batches)",
            self.path.display(),
            self.lines,
            c.began.elapsed().as_secs_f64(),
            finishing.elapsed().as_secs_f64() * 1e3,
        );
        Ok(())
    }
}

/// The journal opened for appending. On Linux with `O_DSYNC`, so that each write returns
/// durable: one system call instead of a write and an `fdatasync`, and measured a sixth
/// faster on this project's test machines (0.52 against 0.69 ms median for a record).
fn open_append(path: &Path) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.append(true);
    #[cfg(target_os = "linux")]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut o, libc::O_DSYNC);
    o.open(path)
}

/// Where a compaction writes its copy: `<journal>.compact`.
fn compact_path(path: &Path) -> PathBuf {
    let mut p = path.to_path_buf().into_os_string();
    p.push(".compact");
    PathBuf::from(p)
}

/// Syncs the directory holding `path`, so that a rename or a new name in it lasts (where
/// directories can be opened; elsewhere there is nothing to do).
fn sync_dir(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    match File::open(dir) {
        Ok(d) => d.sync_all(),
        Err(_) if cfg!(windows) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Makes what was appended to a file from [`open_append`] durable.
fn sync_appended(file: &File) -> io::Result<()> {
    if cfg!(target_os = "linux") {
        Ok(()) // O_DSYNC: durable once written
    } else {
        file.sync_data()
    }
}

/// Gives the calling thread the lowest CPU priority (Linux: a thread has its own nice
/// value), so that a compaction copying a large journal yields to the thread answering
/// clients.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    #[allow(unsafe_code)]
    // SAFETY: setpriority takes plain integers and touches no memory of ours; who = 0 is
    // the calling thread. Failing (it can't here) only leaves the priority as it was.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 19);
    }
}

/// The address field of a journal line (the third), unchecked: the copy's second pass
/// only looks up lines the first pass read in full.
fn line_address(line: &[u8]) -> Option<Ipv4Addr> {
    let field = line.split(|&b| b == b' ').nth(2)?;
    std::str::from_utf8(field).ok()?.parse().ok()
}

/// The compaction's copy: the header, then the newest good line of each address among the
/// first `upto` bytes of `path` (unless it expired more than a day before `now`), in file
/// order, to `out`, synced. Two passes over the file; in memory only a map of address to
/// (line number, expiry). A line counts only if it reads back as a record, exactly as at
/// start-up. Stops with an error once `cancel` is set.
fn copy_newest(
    path: &Path,
    upto: u64,
    out: &Path,
    now: u64,
    cancel: &AtomicBool,
) -> io::Result<Copied> {
    let lines =
        || -> io::Result<_> { Ok(BufReader::new(File::open(path)?.take(upto)).split(b'\n')) };
    let cancelled = || io::Error::new(io::ErrorKind::Interrupted, "the journal is closing");
    let mut newest: HashMap<Ipv4Addr, (usize, u64)> = HashMap::new();
    for (n, line) in lines()?.enumerate() {
        let line = line?;
        if cancel.load(Ordering::Relaxed) {
            return Err(cancelled());
        }
        if let Some(r) = std::str::from_utf8(&line)
            .ok()
            .and_then(|t| parse_record(t).ok())
        {
            newest.insert(r.address, (n, r.expires));
        }
    }
    let mut w = BufWriter::new(File::create(out)?);
    w.write_all(HEADER.as_bytes())?;
    let mut copied = Copied {
        bytes: HEADER.len() as u64,
        lines: 1,
    };
    let mut synced = 0;
    for (n, line) in lines()?.enumerate() {
        let line = line?;
        let Some(&(newest_line, expires)) = line_address(&line).and_then(|a| newest.get(&a)) else {
            continue;
        };
        if newest_line == n && expires.saturating_add(KEEP_EXPIRED_SECS) > now {
            w.write_all(&line)?;
            w.write_all(b"\n")?;
            copied.bytes += line.len() as u64 + 1;
            copied.lines += 1;
            if copied.bytes >= synced + SYNC_EVERY {
                if cancel.load(Ordering::Relaxed) {
                    return Err(cancelled());
                }
                // Written back a little at a time: one large flush would hold up the
                // batches' own syncs behind it.
                w.flush()?;
                w.get_ref().sync_data()?;
                synced = copied.bytes;
            }
        }
    }
    w.into_inner()
        .map_err(io::IntoInnerError::into_error)?
        .sync_all()?;
    Ok(copied)
}

impl Drop for Journal {
    /// Stops a compaction still copying and removes its copy.
    fn drop(&mut self) {
        if let Some(c) = self.compaction.take() {
            c.cancel.store(true, Ordering::Relaxed);
            let _ = c.thread.join();
            let _ = std::fs::remove_file(&c.tmp);
        }
    }
}

impl LeaseStore for Journal {
    fn load(&mut self) -> Result<Vec<LeaseRecord>, StoreError> {
        Ok(std::mem::take(&mut self.loaded))
    }

    fn commit(&mut self, batch: &[LeaseRecord]) -> Result<Committed, StoreError> {
        let mut text = String::with_capacity(batch.len() * 72);
        for r in batch {
            write_record(&mut text, r);
        }
        self.append(&text)?;
        if let Err(e) = self.compact_when_due() {
            tracing::warn!("lease journal compaction: {e}");
        }
        Ok(Committed::default())
    }

    fn maintain(&mut self) -> Result<(), StoreError> {
        self.compact_when_due()
    }
}
